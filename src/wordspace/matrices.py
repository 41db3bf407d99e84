"""Which matrix of a model goes out, said explicitly, each row named for what it holds.

fastText writes its composed word vectors (``saveVectors``, the ``.vec``) and its output
matrix (``saveOutput``) in the same layout, and users mix them up. Here a user names the
matrix, ``vectors`` (what a query returns for each vocabulary word: word plus n-gram rows
for a subword model), ``input`` (the raw input rows: the word rows, then every n-gram
bucket's row, named ``<bucket:N>``) or ``output`` (one row per word for ``ns`` and
``softmax``, per inner node of the Huffman tree for ``hs``, named ``<node:N>``, per label
for a classifier), and gets it in the word2vec layout, where every row carries its name.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from wordspace.errors import ModelFileError, NotFittedError, OutputError, ParameterError
from wordspace.formats import detect_format, load_model, output_format, save
from wordspace.formats.native import load_array, read_meta
from wordspace.formats.word2vec import RowBlock, RowNames, vocabulary_names, write_rows
from wordspace.models.fasttext import FASTTEXT_LOSS_CODES, FastTextModel
from wordspace.names import MATRICES, MATRIX_FORMATS
from wordspace.vectors import Vectors
from wordspace.vocab import Vocabulary

BUCKET_NAME = "<bucket:{}>"
"""The name of an n-gram bucket's row (word or character n-grams hashed into it)."""
NODE_NAME = "<node:{}>"
"""The name of an inner node's output row in a hierarchical-softmax model."""


@dataclass(frozen=True)
class NamedRows:
    """A matrix to export: its shape, a name per row and the rows, given block by block
    (an input matrix of 2M buckets need not be made dense at once), and one line saying
    what the rows are."""

    shape: tuple[int, int]
    names: RowNames
    rows: RowBlock
    longest_name: int
    holds: str

    def dense(self) -> np.ndarray:
        """The whole matrix, float32."""
        return np.ascontiguousarray(self.rows(0, self.shape[0]), dtype=np.float32)

    def name_list(self) -> list[str]:
        """Every row's name."""
        blob, offsets = self.names(0, self.shape[0])
        data = bytes(blob)
        return [
            data[offsets[i] : offsets[i + 1]].decode("utf-8", "surrogatepass")
            for i in range(self.shape[0])
        ]


def numbered_names(template: str) -> tuple[RowNames, Callable[[int], int]]:
    """Names ``template.format(i)`` for row ``i``, and the longest of ``n`` of them."""

    def names(first: int, last: int) -> tuple[np.ndarray, np.ndarray]:
        encoded = [template.format(i).encode() for i in range(first, last)]
        offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
        np.cumsum([len(e) for e in encoded], out=offsets[1:])
        return np.frombuffer(b"".join(encoded), dtype=np.uint8), offsets

    return names, lambda n: len(template.format(max(n - 1, 0)))


def _joined(first_rows: int, first: RowNames, then: RowNames) -> RowNames:
    """Names of ``first`` for rows below ``first_rows``, then ``then``'s (from its row 0)."""

    def names(start: int, end: int) -> tuple[np.ndarray, np.ndarray]:
        parts = []
        if start < first_rows:
            parts.append(first(start, min(end, first_rows)))
        if end > first_rows:
            parts.append(then(max(start - first_rows, 0), end - first_rows))
        if len(parts) == 1:
            return parts[0]
        (blob_a, off_a), (blob_b, off_b) = parts
        return np.concatenate([blob_a, blob_b]), np.concatenate([off_a, off_b[1:] + off_a[-1]])

    return names


def _longest(vocab: Vocabulary) -> int:
    return int(np.diff(vocab.offsets).max(initial=0))


def _word_rows(vocab: Vocabulary, matrix: np.ndarray, holds: str) -> NamedRows:
    return NamedRows(
        (len(vocab), int(matrix.shape[1])), vocabulary_names(vocab),
        lambda first, last: matrix[first:last], _longest(vocab), holds,
    )  # fmt: skip


def _node_rows(matrix: np.ndarray, holds: str) -> NamedRows:
    names, longest = numbered_names(NODE_NAME)
    n = int(matrix.shape[0])
    return NamedRows(
        (n, int(matrix.shape[1])), names, lambda first, last: matrix[first:last],
        longest(n), holds,
    )  # fmt: skip


def fasttext_rows(model: FastTextModel, matrix: str) -> NamedRows:
    """``matrix`` (one of MATRICES) of a fastText-layout model: subword, classifier or
    sent2vec."""
    _check_matrix(matrix)
    if matrix == "vectors":
        vectors = model.vectors()
        what = "composed word vectors (word row and its n-gram rows), one per word"
        if model.ngrams.maxn == 0 or model.ngrams.bucket == 0:
            what = "word vectors (the words' input rows), one per word"
        return _word_rows(vectors.vocab, vectors.matrix, what)
    if matrix == "input":
        nwords, bucket = model.nwords, model.ngrams.bucket
        buckets, longest = numbered_names(BUCKET_NAME)
        names = _joined(nwords, vocabulary_names(model.words), buckets)
        grams = "character n-gram"
        if model.is_sent2vec or model.labels is not None:
            grams = "word n-gram" if model.ngrams.maxn == 0 else "word and character n-gram"
        return NamedRows(
            (model.input_rows, model.dim), names, model.dense_input,
            max(_longest(model.words), longest(bucket)),
            f"input rows: {nwords:,} word rows, then {bucket:,} {grams} bucket rows "
            "(<bucket:N>)",
        )  # fmt: skip
    output = model.output
    if int(model.args["loss"]) == FASTTEXT_LOSS_CODES["hs"]:
        over = "labels" if model.labels is not None else "words"
        return _node_rows(
            output,
            f"output rows of hierarchical softmax: one per inner node of the Huffman tree "
            f"over the {over} (<node:N>; fastText keeps {len(output):,}, one more than the "
            "tree's inner nodes, the last unused)",
        )
    if model.labels is not None:
        return _word_rows(model.labels, output, "output rows, one per label")
    return _word_rows(model.words, output, "output rows, one per word")


def word_model_rows(
    vectors: Vectors, matrix: str, output: np.ndarray | None = None, loss: str | None = None
) -> NamedRows:
    """``matrix`` of a word model: its vectors are its input rows; ``output`` (with the
    ``loss`` it was trained with) is None when the model did not keep it."""
    _check_matrix(matrix)
    if matrix in ("vectors", "input"):
        if vectors.ngrams is not None and matrix == "input":
            raise ModelFileError(
                "these vectors hold composed subword vectors, not the raw input rows; "
                "export the input of the fastText model they came from"
            )
        what = "word vectors (input rows), one per word"
        if vectors.ngrams is not None:
            what = "composed word vectors (word row and its n-gram rows), one per word"
        return _word_rows(vectors.vocab, vectors.matrix, what)
    if output is None:
        raise ModelFileError(
            "the model holds no output matrix (word2vec and fastText vector files keep only "
            "the vectors; a native model saved with include_output=False neither)"
        )
    if loss == "hs":
        return _node_rows(
            output, "output rows of hierarchical softmax: one per inner node of the Huffman "
            "tree over the words (<node:N>)",
        )  # fmt: skip
    if len(output) != len(vectors):
        raise ModelFileError(
            f"the output matrix has {len(output):,} rows for {len(vectors):,} words"
        )
    return _word_rows(vectors.vocab, output, "output rows, one per word")


def model_rows(model: object, matrix: str) -> NamedRows:
    """``matrix`` of any model: a loaded one (``FastTextModel``, ``Vectors``), a trained
    estimator, or a path (a native word2vec folder keeps its output rows too)."""
    if isinstance(model, str | os.PathLike):
        return _path_rows(model, matrix)
    if isinstance(model, FastTextModel):
        return fasttext_rows(model, matrix)
    if isinstance(model, Vectors):
        return word_model_rows(model, matrix)
    export_rows = getattr(model, "export_rows", None)
    if export_rows is None:
        raise ParameterError(f"cannot export a matrix of a {type(model).__name__}")
    return export_rows(matrix)


def _path_rows(path: str | os.PathLike, matrix: str) -> NamedRows:
    model = load_model(path)
    if isinstance(model, FastTextModel):
        return fasttext_rows(model, matrix)
    output = loss = None
    if matrix == "output" and detect_format(path) == "native":
        meta = read_meta(path)
        if "output" in meta["arrays"]:
            output = load_array(path, meta, "output", mmap=True, verify=False)
            loss = meta.get("config", {}).get("loss", "ns")
    return word_model_rows(model, matrix, output, loss)


def export(
    model: object, path: str | os.PathLike, fmt: str | None = None, *, matrix: str | None = None
) -> None:
    """Write ``model`` to ``path`` in the format named ``fmt`` (one of FORMATS; from the
    name when None, see ``formats.output_format``), or with ``matrix`` (``"vectors"``,
    ``"input"`` or ``"output"``) only that matrix, a named row per line. ``model`` is a
    loaded model, a path, or (with ``matrix``) a trained estimator."""
    if matrix is not None:
        export_matrix(model, path, matrix, fmt)
        return
    if isinstance(model, str | os.PathLike):
        model = load_model(model)
    if not isinstance(model, Vectors | FastTextModel):
        raise ParameterError(
            f"export writes a loaded model (or, with matrix=, an estimator), not a "
            f"{type(model).__name__}"
        )
    save(model, path, fmt or output_format(path, model))


def export_matrix(
    model: object, path: str | os.PathLike, matrix: str = "vectors", format: str | None = None
) -> NamedRows:
    """Write ``matrix`` of ``model`` (see ``model_rows``) to ``path`` in ``format`` (from
    the name when None: see ``matrix_format``); returns what was written."""
    format = format or matrix_format(path)
    _check_matrix_format(format)
    rows = model_rows(model, matrix)
    write_matrix(rows, path, format)
    return rows


def write_matrix(rows: NamedRows, path: str | os.PathLike, format: str) -> None:
    """Write ``rows`` in ``format`` (one of MATRIX_FORMATS), atomically."""
    _check_matrix_format(format)
    write_rows(
        path, rows.shape, rows.names, rows.rows, rows.longest_name,
        binary=format == "word2vec-bin",
    )  # fmt: skip


def matrix_format(path: str | os.PathLike) -> str:
    """The matrix format a file name asks for: ``.bin`` word2vec binary, ``.vec`` fastText
    text, anything else word2vec text (a further ``.gz`` compresses it)."""
    name = os.fspath(path).removesuffix(".gz")
    if name.endswith(".ftz"):
        raise OutputError(f"{path}: a matrix is written as .txt, .vec or .bin, not .ftz")
    if name.endswith(".bin"):
        return "word2vec-bin"
    return "fasttext-vec" if name.endswith(".vec") else "word2vec-txt"


class MatrixExport:
    """What every estimator gives: ``export`` of one matrix of the trained model. A model
    holding a ``FastTextModel`` in ``model`` needs nothing more; others override
    ``export_rows``."""

    model: FastTextModel | None

    def export_rows(self, matrix: str) -> NamedRows:
        """``matrix`` (``"vectors"``, ``"input"`` or ``"output"``) of the trained model, each
        row named (see ``wordspace.matrices``)."""
        if self.model is None:
            raise NotFittedError("the model is not trained yet: call fit() first")
        return fasttext_rows(self.model, matrix)

    def export(
        self, path: str | os.PathLike, matrix: str = "vectors", format: str | None = None
    ) -> None:
        """Write one matrix of the trained model (``"vectors"``, ``"input"`` or
        ``"output"``), a named row per line, in the word2vec layout (``format``: from the
        name when None, ``.bin`` binary, ``.vec`` or other text)."""
        export_matrix(self, path, matrix, format)


def _check_matrix_format(format: str) -> None:
    if format not in MATRIX_FORMATS:
        raise ParameterError(
            f"a single matrix is written as {', '.join(MATRIX_FORMATS)}, not {format!r}"
        )


def _check_matrix(matrix: str) -> None:
    if matrix not in MATRICES:
        raise ParameterError(f"matrix must be one of {', '.join(MATRICES)}, got {matrix!r}")
