"""The ``wordspace`` command.

``main`` is the one boundary between the commands and the shell: every error wordspace
anticipates (a WordspaceError, a bad option, an operating-system error on a file) is printed
as one line on stderr with exit status 2, and with ``--json`` also as one JSON object
``{"error": ..., "type": ...}`` on stdout; Ctrl-C and SIGTERM print "interrupted" or
"terminated" after the progress display is closed (exit 130, 143). Anything else is a bug:
it is shown with its traceback, exit 1. ``WORDSPACE_DEBUG=1`` shows the traceback of
anticipated errors too.
"""

from __future__ import annotations

import json
import math
import os
import signal
import sys
import time
import traceback
import warnings
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
import typer.core

from wordspace import __version__
from wordspace.classify import (
    LABEL_PREFIX,
    Predictor,
    combine_scores,
    format_predictions,
    predict_stream,
    score_stream,
)
from wordspace.console import close_open_bars, progress_reporter
from wordspace.errors import ModelFileError, ParameterError, WordspaceError
from wordspace.evaluate import evaluate_analogies, evaluate_similarity
from wordspace.fileio import atomic_file
from wordspace.formats import Model, as_vectors, detect_format, load, load_model
from wordspace.formats import convert as convert_model
from wordspace.formats.native import json_safe, read_meta
from wordspace.jsonl import LABELS_KEY, PROBABILITIES_KEY, predict_jsonl
from wordspace.matrices import export_matrix, matrix_format
from wordspace.memory import available_cpus
from wordspace.models.classifier import Classifier, ValidationScore
from wordspace.models.fasttext import FastTextModel
from wordspace.models.sent2vec import Sent2Vec
from wordspace.models.subword import FastText
from wordspace.models.word2vec import Word2Vec
from wordspace.names import (
    ANALOGY_METHODS,
    FORMATS,
    KERNELS,
    MATRICES,
    MATRIX_FORMATS,
    SENT2VEC_HASHES,
    SENT2VEC_PRESETS,
    SKIPGRAM_BAGS,
    TRAINING_LOSSES,
    TRAINING_MODES,
)
from wordspace.neighbour_index import (
    BUILD_BREADTH,
    DEGREE,
    SEARCH_BREADTH,
    build_index,
    sample_recall,
)
from wordspace.npy_rows import NpyRows
from wordspace.outputs import check_output, names_folder
from wordspace.sentences import SentenceEmbedder, embed_stream, format_vectors
from wordspace.serve.limits import Limits
from wordspace.serve.runner import serve as serve_model
from wordspace.sts import evaluate_sts
from wordspace.text.phrases import (
    DEFAULT_MAX_PAIRS,
    SCORINGS,
    Phrases,
    write_corpus,
    write_text,
)
from wordspace.text.sources import resolve_sources

DEBUG_ENV = "WORDSPACE_DEBUG"


class _Command(typer.core.TyperCommand):
    """A command whose usage line names its arguments in capitals, as man pages do."""

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if isinstance(param, typer.core.TyperArgument):
                name = (param.metavar or param.name or "").upper()
                pieces.append(name if param.required else f"[{name}]")
        return pieces


class _Group(typer.core.TyperGroup):
    """The command groups, with commands listed in the order they are declared."""

    def list_commands(self, ctx: Any) -> list[str]:
        return list(self.commands)


def _show_version(value: bool) -> None:
    if value:
        print(f"wordspace {__version__}")
        raise typer.Exit()


app = typer.Typer(
    cls=_Group,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"max_content_width": 100},
    help="Train, evaluate, query and convert word vectors.",
)
eval_app = typer.Typer(
    cls=_Group,
    no_args_is_help=True,
    rich_markup_mode=None,
    help="Evaluate vectors on standard tests.",
)
app.add_typer(eval_app, name="eval")


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_show_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Train, evaluate, query and convert word vectors."""


def _choices(name: str, values: tuple[str, ...]) -> type[StrEnum]:
    """A StrEnum whose members are ``values`` (each named as its value): typer offers them as
    the choices of an argument, shown in ``--help``."""
    return StrEnum(name, [(value, value) for value in values])


Architecture = _choices("Architecture", TRAINING_MODES)
Loss = _choices("Loss", TRAINING_LOSSES)
Kernel = _choices("Kernel", KERNELS)
SkipgramBag = _choices("SkipgramBag", SKIPGRAM_BAGS)
AnalogyMethod = _choices("AnalogyMethod", ANALOGY_METHODS)
Format = _choices("Format", FORMATS)
Matrix = _choices("Matrix", MATRICES)
Sent2VecHash = _choices("Sent2VecHash", SENT2VEC_HASHES)
Sent2VecPreset = _choices("Sent2VecPreset", SENT2VEC_PRESETS)


JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout.")]
ModelArg = Annotated[
    str,
    typer.Argument(
        help="Model: native folder, word2vec .txt/.bin, fastText .bin/.ftz/.vec.",
        metavar="MODEL",
        show_default=False,
    ),
]
ForceFlag = Annotated[bool, typer.Option("--force", help="Replace an existing output file.")]


def _print_json(document: dict[str, Any]) -> None:
    print(json.dumps(json_safe(document), indent=2))


def _load(path: str):
    return load(path)


def _check_k(k: int) -> int:
    if k < 1:
        raise ParameterError(f"-k must be a positive integer, got {k}")
    return k


def _require_vectors(vectors, words: tuple[str, ...], model: str) -> None:
    """Refuse words the model can give no vector for (unseen words of a subword model
    are answered from their n-grams)."""
    for word in words:
        if not vectors.has_vector(word):
            raise WordspaceError(f"{word!r} is not in the vocabulary of {model}")


@contextmanager
def _notes():
    """Show the warnings a command raises (a parameter capped, say) as 'note:' lines."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    for warning in caught:
        print(f"note: {warning.message}", file=sys.stderr)


@app.command(cls=_Command)
def train(
    architecture: Annotated[
        Architecture,
        typer.Argument(help="skipgram, cbow, supervised or sent2vec.", metavar="ARCHITECTURE"),
    ],
    input: Annotated[
        str,
        typer.Argument(
            help="Text: a file, folder, glob, or - for stdin (gzip, bzip2, xz, zstd ok).",
            metavar="INPUT",
        ),
    ],
    output: Annotated[
        Path,
        typer.Option(
            "--output",
            "-o",
            help="Model folder to write. It may replace a wordspace model (files you added "
            "to that folder are kept) or an empty folder, nothing else.",
        ),
    ],
    dim: Annotated[
        int | None,
        typer.Option(help="Vector dimension.", show_default="100, or the --init model's"),
    ] = None,
    window: Annotated[int, typer.Option(help="Most context words on each side.")] = 5,
    loss: Annotated[
        Loss | None,
        typer.Option(
            help="The cost of one example: ns (negative sampling) about (negative+1) x dim, "
            "hs (hierarchical softmax) about log2(vocabulary size) x dim, softmax (full "
            "softmax) vocabulary size x dim: for small vocabularies only; ova (one-vs-all, "
            "several labels per line) for supervised.",
            show_default="ns; supervised softmax",
        ),
    ] = None,
    negative: Annotated[
        int | None,
        typer.Option(help="Noise words per example (ns).", show_default="5; sent2vec 10"),
    ] = None,
    ns_exponent: Annotated[float, typer.Option(help="Noise distribution exponent.")] = 0.75,
    sample: Annotated[
        float | None,
        typer.Option(
            help="Subsampling threshold (0: off; sent2vec: of targets only).",
            show_default="1e-3; with n-grams and sent2vec 1e-4",
        ),
    ] = None,
    min_count: Annotated[
        int | None,
        typer.Option(help="Drop words rarer than this.", show_default="5; supervised 1"),
    ] = None,
    word_ngrams: Annotated[
        int | None,
        typer.Option(
            help="Supervised and sent2vec: word n-grams of up to this many words.",
            show_default="1; sent2vec 2",
        ),
    ] = None,
    label_prefix: Annotated[
        str, typer.Option(help="Supervised: what starts a label token.")
    ] = LABEL_PREFIX,
    max_vocab_size: Annotated[
        int | None,
        typer.Option(help="Keep only this many most frequent words.", show_default="all"),
    ] = None,
    lr: Annotated[
        float | None,
        typer.Option(
            help="Start learning rate.",
            show_default="0.025 skipgram, 0.05 cbow; with n-grams 0.05; sent2vec 0.2",
        ),
    ] = None,
    min_lr: Annotated[
        float | None,
        typer.Option(help="Final learning rate.", show_default="1e-4, or --lr if smaller"),
    ] = None,
    epochs: Annotated[
        int | None, typer.Option(help="Passes over the corpus.", show_default="5")
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(help="Training threads, at most the CPUs.", show_default="all CPUs"),
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed, 0 to 2**64-1.")] = 1,
    cbow_mean: Annotated[
        bool, typer.Option("--cbow-mean/--cbow-sum", help="CBOW: mean or sum of the context.")
    ] = True,
    kernel: Annotated[
        Kernel,
        typer.Option(help="fast (shared noise words per window) or classic (as word2vec)."),
    ] = Kernel.fast,
    shuffle: Annotated[
        bool,
        typer.Option("--shuffle/--no-shuffle", help="Visit 10k-word chunks in random order."),
    ] = True,
    minn: Annotated[
        int | None,
        typer.Option(
            help="Shortest character n-gram (fastText subwords; --minn 0 --maxn 0: none).",
            show_default="3 with n-grams",
        ),
    ] = None,
    maxn: Annotated[
        int | None,
        typer.Option(
            help="Longest character n-gram; giving --minn or --maxn turns n-grams on.",
            show_default="none; 6 with n-grams",
        ),
    ] = None,
    bucket: Annotated[
        int | None,
        typer.Option(help="Hash buckets of the n-grams.", show_default="2000000"),
    ] = None,
    skipgram_bag: Annotated[
        SkipgramBag | None,
        typer.Option(
            help="Subword skip-gram: train each context word's bag of rows against the centre "
            "word (as word2vec; better analogies) or the centre word's (as fastText).",
            show_default="context",
        ),
    ] = None,
    init: Annotated[
        str | None,
        typer.Option(
            help="Continue training this model (any readable format, e.g. a fastText .bin): "
            "its words keep their rows, new words start from their n-grams.",
            metavar="MODEL",
        ),
    ] = None,
    class_weight: Annotated[
        str | None,
        typer.Option(
            help="Supervised: 'balanced' (each label weighs as much in total) or a file of "
            "'LABEL WEIGHT' lines; scales the learning rate of each label's examples.",
            metavar="balanced|FILE",
            show_default="every example alike",
        ),
    ] = None,
    pretrained: Annotated[
        str | None,
        typer.Option(
            help="Supervised: start the word rows from these vectors (any readable model, "
            "e.g. a .vec), as fastText's -pretrainedVectors; same --dim.",
            metavar="VECTORS",
        ),
    ] = None,
    validation: Annotated[
        str | None,
        typer.Option(
            help="Supervised: labelled lines whose P@1 is printed after every epoch.",
            metavar="FILE",
        ),
    ] = None,
    dropout_k: Annotated[
        int | None,
        typer.Option(
            help="sent2vec: positions per sentence left out of n-gram building.",
            show_default="2",
        ),
    ] = None,
    min_target_count: Annotated[
        int | None,
        typer.Option(
            help="sent2vec: words rarer than this are never targets (they stay in contexts); "
            "the reference's -minCountLabel.",
            show_default="0",
        ),
    ] = None,
    ngram_hash: Annotated[
        Sent2VecHash,
        typer.Option(
            help="sent2vec: hash word n-grams from the words' 64-bit hashes (wordspace: few "
            "collisions) or from vocabulary ids (sent2vec: a .bin the reference reads).",
        ),
    ] = Sent2VecHash.wordspace,
    mask_target: Annotated[
        bool,
        typer.Option(
            "--mask-target",
            help="sent2vec: mask each target with a placeholder row and keep the n-grams over "
            "the masked sentence, as the reference (default: leave them out, as the paper).",
        ),
    ] = False,
    preset: Annotated[
        Sent2VecPreset | None,
        typer.Option(
            help="sent2vec: start from a published model's parameters (the paper's Table 5): "
            f"{', '.join(SENT2VEC_PRESETS)}; options given override them.",
            metavar="NAME",
        ),
    ] = None,
    phrases: Annotated[
        int | None,
        typer.Option(
            help="skipgram/cbow: first join phrases (as the phrases command, its defaults) in "
            "this many passes, and learn vectors for them too.",
            metavar="PASSES",
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Train word2vec or fastText subword vectors (skip-gram or CBOW), a fastText
    classifier (supervised) or sentence embeddings (sent2vec), and save it.

    supervised reads fastText's labelled lines (__label__ tokens anywhere in a line) with
    fastText's defaults: --lr 0.1, --min-count 1, --loss softmax, --word-ngrams 1.

    sent2vec reads one sentence (or paragraph) per line, with the reference's values:
    --lr 0.2, --word-ngrams 2, --negative 10, --sample 1e-4, --dropout-k 2; --preset
    wiki-bigrams gives the published Wikipedia bigram model's.

    With --minn/--maxn (or an --init model with n-grams), words get vectors from their
    character n-grams as in fastText, so unseen words get vectors too; the defaults are then
    fastText's where they differ: --lr 0.05 (both architectures) and --sample 1e-4.

    The output is checked before any work: a run is never lost at its save. Training that
    diverges (the loss becomes NaN, as a too large --lr makes it) stops and saves nothing.
    """
    check_output(output, folder=True)
    if phrases is not None and architecture.value in ("supervised", "sent2vec"):
        raise ParameterError("--phrases is for skipgram and cbow training")
    if architecture.value == "sent2vec":
        given = {
            "dim": dim, "lr": lr, "epochs": epochs, "min_count": min_count,
            "word_ngrams": word_ngrams, "bucket": bucket, "dropout_k": dropout_k,
            "negative": negative, "sample": sample, "min_target_count": min_target_count,
            "max_vocab_size": max_vocab_size,
        }  # fmt: skip
        for name, value in (("--loss", loss), ("--minn", minn), ("--maxn", maxn),
                            ("--init", init), ("--class-weight", class_weight),
                            ("--pretrained", pretrained), ("--validation", validation),
                            ("--skipgram-bag", skipgram_bag)):  # fmt: skip
            if value is not None:
                raise ParameterError(f"{name} is not a sent2vec option")
        _train_sent2vec(
            input, output, {k: v for k, v in given.items() if v is not None},
            preset.value if preset else None, ngram_hash.value, mask_target, workers, seed,
            quiet, as_json,
        )  # fmt: skip
        return
    for name, value in (("--dropout-k", dropout_k), ("--min-target-count", min_target_count),
                        ("--preset", preset)):  # fmt: skip
        if value is not None:
            raise ParameterError(f"{name} is for sent2vec training")
    if ngram_hash != Sent2VecHash.wordspace or mask_target:
        raise ParameterError("--ngram-hash and --mask-target are for sent2vec training")
    epochs = 5 if epochs is None else epochs
    negative = 5 if negative is None else negative
    if architecture.value == "supervised":
        with _notes():
            classifier = Classifier(
                dim=dim or 100, lr=0.1 if lr is None else lr, epochs=epochs,
                min_count=1 if min_count is None else min_count,
                word_ngrams=1 if word_ngrams is None else word_ngrams,
                bucket=2_000_000 if bucket is None else bucket, minn=minn or 0,
                maxn=maxn or 0, loss=loss.value if loss else "softmax", negative=negative,
                label_prefix=label_prefix, class_weight=class_weight, pretrained=pretrained,
                workers=workers, seed=seed,
            )  # fmt: skip

        def show(score: ValidationScore) -> None:
            if not quiet and not as_json:
                print(
                    f"epoch {score.epoch}/{epochs}: validation P@1 {score.precision:.4f} "
                    f"(N {score.examples:,})",
                    file=sys.stderr,
                )

        classifier.fit(input, validation=validation, on_validation=show)
        classifier.save(output)
        summary = classifier.training
        assert summary is not None and classifier.model is not None
        figures = {
            "model": str(output), "vocab_size": classifier.model.nwords,
            "labels": len(classifier.predictor.label_names), "seconds": summary.seconds,
            "words_per_second": summary.words_per_second,
            "epoch_losses": summary.epoch_losses,
            "validation": [vars(v) for v in classifier.validation_scores],
            "pretrained_words": classifier.pretrained_words,
        }  # fmt: skip
        if as_json:
            _print_json(figures)
        elif not quiet:
            started = (
                f" ({classifier.pretrained_words:,} words from the pretrained vectors)"
                if pretrained is not None
                else ""
            )
            print(
                f"trained a classifier of {figures['labels']} labels on {summary.words:,} "
                f"words{started} in {summary.seconds:.1f} s; saved to {output}",
                file=sys.stderr,
            )
        return
    for name, value in (("--class-weight", class_weight), ("--pretrained", pretrained),
                        ("--validation", validation)):  # fmt: skip
        if value is not None:
            raise ParameterError(f"{name} is for supervised training")
    if word_ngrams is not None:
        raise ParameterError("--word-ngrams is for supervised and sent2vec training")
    if min_count is None:
        min_count = 5
    loss = loss or Loss.ns
    start = load_model(init) if init is not None else None
    subwords = _subword_params(minn, maxn, bucket, start)
    if dim is None:
        dim = start.dim if start is not None else 100
    chosen: dict[str, Any] = {"sample": sample} if sample is not None else {}
    if skipgram_bag is not None:
        if not subwords or architecture.value != "skipgram":
            raise ParameterError("--skipgram-bag is for skip-gram with n-grams (--minn, --maxn)")
        chosen["skipgram_bag"] = skipgram_bag.value
    with _notes():
        model = (FastText if subwords else Word2Vec)(
            architecture.value,
            **subwords,
            **chosen,
            dim=dim,
            window=window,
            loss=loss.value,
            negative=negative,
            ns_exponent=ns_exponent,
            min_count=min_count,
            max_vocab_size=max_vocab_size,
            lr=lr,
            min_lr=min_lr,
            epochs=epochs,
            workers=workers,
            seed=seed,
            cbow_mean=cbow_mean,
            kernel=kernel.value,
            shuffle=shuffle,
            phrases=phrases,
        )
    reporter = progress_reporter(quiet)
    try:
        model.fit(input, callbacks=[reporter] if reporter else [], output=output, init=start)
    finally:
        if reporter:
            reporter.close()
    stats = model.read_stats
    assert stats is not None and model.training is not None
    if not quiet:
        for warning in stats.warnings():
            print(f"warning: {warning}", file=sys.stderr)
    saving = time.perf_counter()
    model.save(output)
    info = model.training_info() | {"save_seconds": round(time.perf_counter() - saving, 3)}
    if as_json:
        _print_json({"model": str(output), "vocab_size": len(model.vectors), **info})
        return
    if not quiet:
        summary = model.training
        ngrams = f", {subwords['minn']}-{subwords['maxn']}-grams" if subwords else ""
        print(
            f"trained {architecture.value} ({loss.value}{ngrams}) on {summary.words:,} words "
            f"({len(model.vectors):,}-word vocabulary) in {summary.seconds:.1f} s: "
            f"{summary.words_per_second / 1000:,.0f}k words/s, "
            f"final epoch loss {summary.epoch_losses[-1]:.4f}; saved to {output}",
            file=sys.stderr,
        )


def _train_sent2vec(
    input: str,
    output: Path,
    given: dict[str, Any],
    preset: str | None,
    ngram_hash: str,
    mask_target: bool,
    workers: int | None,
    seed: int,
    quiet: bool,
    as_json: bool,
) -> None:
    """``train sent2vec``: the given options over the preset's (or the defaults)."""
    options = given | {
        "ngram_hash": ngram_hash, "mask_target": mask_target, "workers": workers, "seed": seed,
    }  # fmt: skip
    with _notes():
        model = Sent2Vec.preset(preset, **options) if preset else Sent2Vec(**options)
    reporter = progress_reporter(quiet)
    try:
        model.fit(input, callbacks=[reporter] if reporter else [], output=output)
    finally:
        if reporter:
            reporter.close()
    assert model.model is not None and model.training is not None
    model.save(output)
    summary = model.training
    if as_json:
        _print_json(
            {"model": str(output), "vocab_size": model.model.nwords, **model.training_info()}
        )
    elif not quiet:
        print(
            f"trained sent2vec (word n-grams up to {model.word_ngrams}) on {summary.words:,} "
            f"words ({model.model.nwords:,}-word vocabulary) in {summary.seconds:.1f} s: "
            f"{summary.words_per_second / 1000:,.0f}k words/s, final epoch loss "
            f"{summary.epoch_losses[-1]:.4f}; saved to {output}",
            file=sys.stderr,
        )


def _subword_params(
    minn: int | None, maxn: int | None, bucket: int | None, start: Model | None
) -> dict[str, int]:
    """FastText's n-gram parameters when the command asks for n-grams (``--minn`` or
    ``--maxn`` given and not both 0, or an ``--init`` model that has them), else {}."""
    inherited = start.ngrams if isinstance(start, FastTextModel) else None
    if inherited is not None and inherited.maxn == 0:
        inherited = None
    if (minn is None and maxn is None and inherited is None) or (minn == 0 and maxn == 0):
        if bucket is not None:
            raise ParameterError("--bucket needs n-grams: give --minn and --maxn too")
        return {}
    default_minn, default_maxn = (3, 6) if inherited is None else (inherited.minn, inherited.maxn)
    chosen = {
        "minn": default_minn if minn is None else minn,
        "maxn": default_maxn if maxn is None else maxn,
    }
    if bucket is None and inherited is not None:
        bucket = inherited.bucket
    return chosen | ({"bucket": bucket} if bucket is not None else {})


@eval_app.command("analogy", cls=_Command)
def eval_analogy(
    model: ModelArg,
    questions: Annotated[
        Path, typer.Argument(help="Google-format analogy questions.", metavar="QUESTIONS")
    ],
    restrict: Annotated[int, typer.Option(help="Search the N most frequent words.")] = 30_000,
    method: Annotated[
        AnalogyMethod, typer.Option(help="add (3CosAdd) or mul (3CosMul).")
    ] = AnalogyMethod.add,
    as_json: JsonFlag = False,
) -> None:
    """Analogy accuracy per section and overall (word2vec's compute-accuracy protocol)."""
    result = evaluate_analogies(
        _load(model), questions, restrict_vocab=restrict, method=method.value
    )
    if as_json:
        _print_json(result.to_dict())
        return
    for section in result.sections:
        print(
            f"{section.name:<32} {_percent(section.accuracy)}  "
            f"({section.correct}/{section.total}, {section.oov} OOV)"
        )
    print(
        f"{'total':<32} {_percent(result.accuracy)}  ({result.correct}/{result.total}; "
        f"{result.oov} questions skipped as out of the top {restrict:,} words)"
    )


def _percent(fraction: float) -> str:
    return f"{100 * fraction:6.2f}%" if math.isfinite(fraction) else "     -"


@eval_app.command("similarity", cls=_Command)
def eval_similarity(
    model: ModelArg,
    pairs: Annotated[Path, typer.Argument(help="'word1 word2 score' per line.", metavar="PAIRS")],
    as_json: JsonFlag = False,
) -> None:
    """Spearman correlation of cosine similarity with human similarity scores."""
    result = evaluate_similarity(_load(model), pairs)
    if as_json:
        _print_json(result.to_dict())
        return
    rho = f"{result.spearman:.4f}" if math.isfinite(result.spearman) else "undefined"
    from_ngrams = f"{result.ngram_pairs} from n-grams, " if result.ngram_pairs else ""
    print(
        f"{pairs.name}: Spearman {rho} over {result.pairs} pairs "
        f"({from_ngrams}{result.oov_pairs} out of vocabulary)"
    )


class StsTokens(StrEnum):
    words = "words"
    whitespace = "whitespace"


@eval_app.command("sts", cls=_Command)
def eval_sts(
    model: ModelArg,
    pairs: Annotated[
        Path,
        typer.Argument(
            help="STS Benchmark file (score, sentence1, sentence2 in fields 5-7) or "
            "'sentence1<TAB>sentence2<TAB>score' lines.",
            metavar="PAIRS",
        ),
    ],
    tokens: Annotated[
        StsTokens,
        typer.Option(
            help="words: lowercase runs of letters and digits (the shared corpora's "
            "tokenisation); whitespace: the sentences as they are."
        ),
    ] = StsTokens.words,
    as_json: JsonFlag = False,
) -> None:
    """Spearman and Pearson correlation of sentence-vector cosines with gold scores."""
    result = evaluate_sts(load_model(model), pairs, tokens.value)
    if as_json:
        _print_json(result.to_dict())
        return
    print(
        f"{pairs.name}: Spearman {result.spearman:.4f}, Pearson {result.pearson:.4f} over "
        f"{result.pairs} pairs ({result.zero_pairs} with a sentence without known words)"
    )


PhraseScoring = _choices("PhraseScoring", SCORINGS)


@app.command(cls=_Command)
def phrases(
    input: Annotated[
        str,
        typer.Argument(
            help="Text to rewrite: a file (.gz .bz2 .xz .zst), a folder, a glob, or - for stdin.",
            metavar="INPUT",
        ),
    ],
    output: Annotated[str, typer.Option("--output", "-o", help="The phrased text (- for stdout).")],
    min_count: Annotated[int, typer.Option(help="Never join pairs or words rarer.")] = 5,
    threshold: Annotated[
        float | None,
        typer.Option(
            help="Join pairs scoring above this in the last pass; each earlier pass doubles "
            "it (word2vec scoring). npmi: in [-1, 1], every pass.",
            show_default="100; npmi 0.5",
        ),
    ] = None,
    delta: Annotated[
        float | None,
        typer.Option(help="Discount of each pair's count.", show_default="--min-count"),
    ] = None,
    passes: Annotated[
        int, typer.Option(help="Rounds of joining (phrases of up to 2**passes words).")
    ] = 2,
    scoring: Annotated[
        PhraseScoring, typer.Option(help="word2vec (the paper's) or npmi.")
    ] = PhraseScoring.word2vec,  # type: ignore[attr-defined]
    delimiter: Annotated[str, typer.Option(help="What joins a phrase's words.")] = "_",
    save_phrases: Annotated[
        Path | None,
        typer.Option(
            help="Also write the phrase table (tab-separated, with scores).", metavar="FILE"
        ),
    ] = None,
    max_pairs: Annotated[
        int, typer.Option(help="Distinct pairs counted before rare ones are pruned.")
    ] = DEFAULT_MAX_PAIRS,
    workers: Annotated[
        int | None, typer.Option(help="Threads, at most the CPUs.", show_default="all CPUs")
    ] = None,
    force: ForceFlag = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No summary.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Find phrases as word2vec's word2phrase does ("new york" -> "new_york") and write
    the text with them joined, line for line.

    Each pass scores every pair of adjacent words, (count(ab) - delta) / count(a) /
    count(b) * words, and joins those above the threshold; the next pass joins phrases
    into longer ones. With --passes 1 the output equals word2phrase's on the same options.
    """
    with _notes():
        finder = Phrases(
            min_count=min_count, threshold=threshold, delta=delta, passes=passes,
            scoring=scoring.value, delimiter=delimiter, max_pairs=max_pairs, workers=workers,
        )  # fmt: skip
    if output != "-":
        check_output(output, folder=False, force=force)
    if save_phrases is not None:
        if output != "-" and Path(output).resolve() == save_phrases.resolve():
            raise ParameterError("--save-phrases must name another file than --output")
        check_output(save_phrases, folder=False, force=force)
    began = time.perf_counter()
    stream = finder.learn(input)
    learned = time.perf_counter()
    to_stdout = output == "-"
    threads = finder.workers
    if to_stdout:
        size = write_text(stream, sys.stdout.buffer, threads)
    else:
        size = write_corpus(stream, output, threads)
    if save_phrases is not None:
        finder.save(save_phrases)
    table = finder.table
    assert table is not None
    figures = {
        "output": output, "phrases": len(table), "lines": stream.n_lines,
        "tokens_in": finder.reports[0].tokens_before, "tokens_out": len(stream.ids),
        "bytes_written": size, "learn_seconds": round(learned - began, 3),
        "seconds": round(time.perf_counter() - began, 3),
        "passes": [vars(report) for report in finder.reports],
    }  # fmt: skip
    if as_json:
        _print_json(figures)
    elif not quiet:
        for report in finder.reports:
            pruned = (
                f", pairs seen at most {report.pruned_at_most} times pruned"
                if report.pruned_at_most
                else ""
            )
            print(
                f"pass {report.pass_number} (threshold {report.threshold:g}): "
                f"{report.pairs:,} distinct pairs{pruned}; {report.phrases:,} phrases, "
                f"{report.tokens_before:,} -> {report.tokens_after:,} tokens",
                file=sys.stderr,
            )
        print(
            f"wrote {output} ({stream.n_lines:,} lines) in {figures['seconds']:.1f} s",
            file=sys.stderr,
        )


@app.command(cls=_Command)
def predict(
    model: Annotated[
        str,
        typer.Argument(
            help="A supervised fastText model (.bin, .ftz, or its native folder).", metavar="MODEL"
        ),
    ],
    input: Annotated[
        str,
        typer.Argument(
            help="Lines to classify: a file, folder, glob or - for stdin (compressed ok).",
            metavar="INPUT",
        ),
    ] = "-",
    k: Annotated[int, typer.Option("-k", help="Labels per line, best first.")] = 1,
    threshold: Annotated[
        float, typer.Option(help="Leave out labels below this probability.")
    ] = 0.0,
    label_prefix: Annotated[
        str, typer.Option(help="What starts a label token (left out of the input).")
    ] = LABEL_PREFIX,
    jsonl: Annotated[
        bool,
        typer.Option(
            "--jsonl",
            help=f"Input lines are JSON objects: print each back with '{LABELS_KEY}' and "
            f"'{PROBABILITIES_KEY}' added.",
        ),
    ] = False,
    field: Annotated[
        str, typer.Option(help="With --jsonl: the key of the text to classify.")
    ] = "text",
) -> None:
    """Print each line's labels with their probabilities, as fastText's predict-prob.

    Tokenisation, word and character n-grams and probabilities are fastText's, so the
    labels are the same; lines are read and predicted in batches, never held whole.
    """
    predictor = _predictor(model, label_prefix)
    k = _check_k(k)
    if jsonl:
        out = sys.stdout.buffer
        for source in resolve_sources(input):
            with source.open() as stream:
                predict_jsonl(
                    predictor, stream, out.write, field=field, k=k, threshold=threshold,
                    workers=available_cpus(), name=source.name,
                )  # fmt: skip
        out.flush()
        return
    out = sys.stdout.buffer
    for source in resolve_sources(input):
        with source.open() as stream:
            batches = predict_stream(predictor, stream, k, threshold, available_cpus())
            for ids, probs in batches:
                out.write(format_predictions(predictor.model.labels, ids, probs))
    out.flush()


class VectorFormat(StrEnum):
    txt = "txt"
    npy = "npy"


@app.command(cls=_Command)
def embed(
    model: Annotated[
        str,
        typer.Argument(
            help="Any model: sent2vec embeds as the reference, word models average their "
            "word vectors (with n-grams for unseen words).",
            metavar="MODEL",
        ),
    ],
    input: Annotated[
        str,
        typer.Argument(
            help="Sentences, one per line: a file, folder, glob or - for stdin (compressed ok).",
            metavar="INPUT",
        ),
    ] = "-",
    format: Annotated[
        VectorFormat,
        typer.Option(
            "--format", "-f", help="txt: a line per vector; npy: one float32 matrix (needs -o)."
        ),
    ] = VectorFormat.txt,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
    force: ForceFlag = False,
) -> None:
    """Print one vector per line of text, as the reference sent2vec's print-sentence-vectors.

    With a sent2vec model a sentence is the mean of its known words' rows and word n-gram
    rows, bit for bit the reference's; with a word model the mean of its words' vectors. A
    line without known words gives a zero vector, and their number is reported on stderr.
    Lines are read and embedded in batches, never held whole.
    """
    if format is VectorFormat.npy and output is None:
        raise ParameterError("--format npy writes a file: name it with -o OUT.npy")
    if output is not None:
        check_output(output, folder=False, force=force)
    try:
        embedder = SentenceEmbedder(load_model(model))
    except ModelFileError as exc:
        raise ModelFileError(f"{model}: {exc}") from None
    lines = empty = 0
    with _file_or_stdout(output) as out:
        rows = NpyRows(out, embedder.dim) if format is VectorFormat.npy else None
        for source in resolve_sources(input):
            with source.open() as stream:
                then = format_vectors if rows is None else None
                for batch, counts in embed_stream(embedder, stream, available_cpus(), then):
                    lines += len(counts)
                    empty += int(np.count_nonzero(counts == 0))
                    if rows is None:
                        out.write(batch)
                    else:
                        rows.write(batch)
        if rows is not None:
            rows.close()
    where = f" into {output}" if output is not None else ""
    print(
        f"embedded {lines:,} lines{where} ({empty:,} without known words: zero vectors)",
        file=sys.stderr,
    )


@contextmanager
def _file_or_stdout(path: Path | None):
    """An atomic file at ``path``, or standard output when there is none."""
    if path is None:
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    with atomic_file(path) as handle:
        yield handle


def _predictor(path: str, label_prefix: str) -> Predictor:
    """The predictor of the classifier at ``path``; any other model is refused in one line."""
    model = load_model(path)
    if not isinstance(model, FastTextModel):
        raise ModelFileError(f"the model has no labels: it is not a classifier ({path})")
    return Predictor(model, label_prefix)


@app.command("test", cls=_Command)
def test_classifier(
    model: Annotated[
        str,
        typer.Argument(
            help="A supervised fastText model (.bin, .ftz, or its native folder).", metavar="MODEL"
        ),
    ],
    data: Annotated[
        str,
        typer.Argument(help="Labelled lines (fastText's format), or - for stdin.", metavar="TEST"),
    ],
    k: Annotated[int, typer.Option("-k", help="Labels predicted per line.")] = 1,
    threshold: Annotated[
        float, typer.Option(help="Leave out labels below this probability.")
    ] = 0.0,
    per_label: Annotated[
        bool, typer.Option("--per-label", help="Also F1, precision and recall per label.")
    ] = False,
    label_prefix: Annotated[str, typer.Option(help="What starts a label token.")] = LABEL_PREFIX,
    as_json: JsonFlag = False,
) -> None:
    """Print N, P@k and R@k of a classifier on labelled lines, as fastText's test
    (--per-label: as its test-label)."""
    predictor = _predictor(model, label_prefix)
    scores = []
    for source in resolve_sources(data):
        with source.open() as stream:
            scores.append(score_stream(predictor, stream, _check_k(k), threshold))
    score = scores[0] if len(scores) == 1 else combine_scores(scores)
    if as_json:
        document: dict[str, Any] = {
            "examples": score.examples, "k": k, "precision": score.precision,
            "recall": score.recall,
        }  # fmt: skip
        if per_label:
            document["per_label"] = score.per_label()
        _print_json(document)
        return
    if per_label:
        for row in score.per_label():
            print(
                f"F1-Score : {row['f1']:.6f}  Precision : {row['precision']:.6f}  "
                f"Recall : {row['recall']:.6f}   {row['label']}"
            )
    print(f"N\t{score.examples}\nP@{k}\t{score.precision:.3f}\nR@{k}\t{score.recall:.3f}")


@app.command(cls=_Command)
def serve(
    model: ModelArg,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[
        int, typer.Option(help="Worker processes; each maps the same model files.")
    ] = 1,
    preload: Annotated[
        bool, typer.Option(help="Read every page of the model at start (steady first requests).")
    ] = False,
    max_body_bytes: Annotated[int, typer.Option(help="Largest request body.")] = (
        Limits.max_body_bytes
    ),
    max_batch: Annotated[int, typer.Option(help="Most items in one request.")] = Limits.max_batch,
    max_k: Annotated[int, typer.Option(help="Most neighbours or labels asked for.")] = (
        Limits.max_k
    ),
    max_text_chars: Annotated[int, typer.Option(help="Longest sentence or text.")] = (
        Limits.max_text_chars
    ),
    access_log: Annotated[bool, typer.Option(help="Log every request.")] = True,
) -> None:
    """Serve a model over HTTP: JSON endpoints under /v1, docs at /docs, /metrics."""
    bounds = {"max_body_bytes": max_body_bytes, "max_batch": max_batch, "max_k": max_k,
              "max_text_chars": max_text_chars}  # fmt: skip
    for name, value in bounds.items():
        if value < 1:
            raise ParameterError(f"--{name.replace('_', '-')} must be at least 1, got {value}")
    serve_model(
        model, host=host, port=port, workers=workers, limits=Limits(**bounds),
        preload=preload, access_log=access_log,
    )  # fmt: skip


@app.command(cls=_Command, name="index")
def index_command(
    model: ModelArg,
    degree: Annotated[
        int, typer.Option(help="Links per word in the graph (HNSW's M): more, better recall.")
    ] = DEGREE,
    build_breadth: Annotated[
        int, typer.Option(help="Candidates kept while linking (efConstruction).")
    ] = BUILD_BREADTH,
    search_breadth: Annotated[
        int, typer.Option(help="Candidates kept per query by default (efSearch).")
    ] = SEARCH_BREADTH,
    threads: Annotated[int, typer.Option(help="Threads building the graph.")] = (available_cpus()),
    as_json: JsonFlag = False,
) -> None:
    """Build an approximate neighbour index into a native model folder: `serve` and
    `neighbors --approximate` use it, every process mapping one copy."""
    if detect_format(model) != "native":
        raise ParameterError(
            f"{model}: the index is kept in a native model folder; convert the model to one "
            f"first (wordspace convert {model} FOLDER)"
        )
    if threads < 1:
        raise ParameterError(f"--threads must be at least 1, got {threads}")
    vectors = _load(model)
    print(f"indexing {len(vectors):,} rows x {vectors.dim} ...", file=sys.stderr, flush=True)
    built = build_index(
        model, vectors.matrix, vectors.norms, read_meta(model), degree=degree,
        build_breadth=build_breadth, search_breadth=search_breadth, threads=threads,
    )  # fmt: skip
    recall, sampled = sample_recall(vectors, built)
    size = sum(f.stat().st_size for f in built.folder.iterdir())
    summary = {
        "index": str(built.folder), **built.describe(), "bytes": size,
        "build_seconds": built.meta["build_seconds"], "sample_recall_at_10": recall,
        "sample_words": sampled,
    }  # fmt: skip
    if as_json:
        _print_json(summary)
        return
    print(
        f"wrote {built.folder} (faiss HNSW, degree {degree}): {built.rows:,} rows, "
        f"{size / 2**20:,.1f} MiB, {built.meta['build_seconds']:.1f} s; recall@10 against "
        f"exact search {recall:.3f} ({sampled} frequent words, search breadth {search_breadth})",
        file=sys.stderr,
    )


@app.command(cls=_Command)
def neighbors(
    model: ModelArg,
    word: Annotated[str, typer.Argument(help="Query word.", metavar="WORD")],
    k: Annotated[int, typer.Option("-k", help="How many neighbours.")] = 10,
    approximate: Annotated[
        bool, typer.Option(help="Ask the model's neighbour index (wordspace index), if any.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """The nearest neighbours of a word by cosine similarity."""
    _check_k(k)
    vectors = _load(model)
    _require_vectors(vectors, (word,), model)
    result = vectors.most_similar(word, topn=k, exact=not approximate)
    if as_json:
        _print_json({"word": word, "neighbors": [{"word": w, "cosine": s} for w, s in result]})
        return
    for neighbour, score in result:
        print(f"{score:.4f}  {neighbour}")


@app.command(cls=_Command)
def analogy(
    model: ModelArg,
    a: Annotated[str, typer.Argument(metavar="A")],
    b: Annotated[str, typer.Argument(metavar="B")],
    c: Annotated[str, typer.Argument(metavar="C")],
    k: Annotated[int, typer.Option("-k", help="How many answers.")] = 1,
    method: Annotated[
        AnalogyMethod, typer.Option(help="add (3CosAdd) or mul (3CosMul).")
    ] = AnalogyMethod.add,
    as_json: JsonFlag = False,
) -> None:
    """Solve "A is to B as C is to ?"."""
    _check_k(k)
    vectors = _load(model)
    _require_vectors(vectors, (a, b, c), model)
    result = vectors.analogy(a, b, c, topn=k, method=method.value)
    if as_json:
        _print_json({"query": [a, b, c], "answers": [{"word": w, "score": s} for w, s in result]})
        return
    for answer, score in result:
        print(f"{score:.4f}  {answer}")


def _write_model(
    source: str,
    target: Path,
    *,
    from_format: Format | None,
    to_format: Format | None,
    limit: int | None,
    force: bool,
) -> str:
    """Check the target under the output rules, then convert ``source`` into it."""
    written_to = to_format.value if to_format else None
    check_output(target, folder=names_folder(target, written_to), force=force)
    return convert_model(
        source,
        target,
        from_format=from_format.value if from_format else None,
        to_format=written_to,
        limit=limit,
    )


@app.command(cls=_Command)
def export(
    model: ModelArg,
    out: Annotated[
        Path, typer.Argument(help="File (or folder, for native) to write.", metavar="OUT")
    ],
    format: Annotated[
        Format | None,
        typer.Option(
            "--format", "-f", help="Output format.", show_default="from the name, as convert"
        ),
    ] = None,
    matrix: Annotated[
        Matrix | None,
        typer.Option(
            help="Write only this matrix, each row named: the vectors a query gives, the raw "
            "input rows (words, then <bucket:N>) or the output rows (words, <node:N> or "
            "labels).",
            show_default="the whole model",
        ),
    ] = None,
    force: ForceFlag = False,
) -> None:
    """Write a model in another format, or one of its matrices (see also: convert)."""
    if matrix is None:
        _write_model(model, out, from_format=None, to_format=format, limit=None, force=force)
        return
    written = format.value if format else matrix_format(out)
    if written not in MATRIX_FORMATS:
        raise ParameterError(
            f"--matrix writes one matrix as {', '.join(MATRIX_FORMATS)}, not --format {written}"
        )
    check_output(out, folder=False, force=force)
    rows = export_matrix(model, out, matrix.value, written)
    shape = f"{rows.shape[0]:,} x {rows.shape[1]}"
    print(f"wrote {out} ({written}, {shape}): {rows.holds}", file=sys.stderr)


@app.command(cls=_Command)
def convert(
    source: Annotated[Path, typer.Argument(help="Model to read, in any format.", metavar="SOURCE")],
    target: Annotated[Path, typer.Argument(help="File or folder to write.", metavar="TARGET")],
    from_format: Annotated[
        Format | None,
        typer.Option("--from", help="Input format.", show_default="from its content"),
    ] = None,
    to_format: Annotated[
        Format | None,
        typer.Option(
            "--to",
            help="Output format.",
            show_default="from the name: .txt .vec .bin, else native",
        ),
    ] = None,
    limit: Annotated[
        int | None,
        typer.Option(help="Keep only the N first (most frequent) words.", show_default="all"),
    ] = None,
    force: ForceFlag = False,
) -> None:
    """Convert a model to another format (native, word2vec, fastText)."""
    written = _write_model(
        source, target, from_format=from_format, to_format=to_format, limit=limit, force=force
    )
    print(f"wrote {target} ({written})", file=sys.stderr)


@app.command(cls=_Command)
def info(model: ModelArg, as_json: JsonFlag = False) -> None:
    """What a model holds: size, dimension, how it was trained."""
    loaded = load_model(model)
    vectors = as_vectors(loaded)
    fmt = detect_format(model)
    document: dict[str, Any] = {
        "model": str(model),
        "format": fmt,
        "type": _model_type(loaded, fmt, model),
        "vocab_size": len(vectors),
        "dim": vectors.dim,
        "subwords": vectors.ngrams is not None,
    }
    if fmt == "native":
        meta = read_meta(model)
        document.update(
            {k: meta[k] for k in ("kind", "config", "training", "fasttext") if k in meta},
            arrays=sorted(meta["arrays"]),
        )
        if vectors.approximate is not None:
            document["neighbour_index"] = vectors.approximate.describe()
    elif isinstance(loaded, FastTextModel):
        document["fasttext"] = {"args": loaded.args, "ntokens": loaded.ntokens}
        document["labels"] = 0 if loaded.labels is None else len(loaded.labels)
    if as_json:
        _print_json(document)
        return
    for key, value in document.items():
        if isinstance(value, dict):
            print(f"{key}:")
            for sub, item in value.items():
                print(f"  {sub}: {item}")
        else:
            print(f"{key}: {value}")


def _model_type(loaded: Model, fmt: str, path: Path) -> str:
    """The kind of model: ``classifier``, ``sent2vec``, ``subword`` (fastText's unsupervised
    vectors), ``word2vec`` (trained here, training state kept) or ``vectors`` (words and
    vectors only). A native folder's ``kind`` says "fasttext" for the first three alike."""
    if isinstance(loaded, FastTextModel):
        if loaded.labels is not None:
            return "classifier"
        return "sent2vec" if loaded.is_sent2vec else "subword"
    if fmt == "native" and read_meta(path).get("kind") == "word2vec":
        return "word2vec"
    return "vectors"


class Terminated(BaseException):
    """SIGTERM, raised in the main thread so that cleanup (the progress bar, temporaries)
    runs before the process ends."""


def _on_sigterm(signum: int, frame: object) -> None:
    raise Terminated()


def _fail(message: str, status: int, as_json: bool, kind: str) -> None:
    close_open_bars()
    if os.environ.get(DEBUG_ENV) and status != 1 and sys.exc_info()[0] is not None:
        traceback.print_exc()
    print(f"error: {message}" if message else "error", file=sys.stderr)
    if as_json:
        print(json.dumps({"error": message, "type": kind}))
    sys.exit(status)


def _unexpected(exc: BaseException, as_json: bool) -> None:
    """A failure wordspace did not anticipate is a bug: show where it happened."""
    traceback.print_exception(exc)
    _fail(
        f"unexpected {type(exc).__name__} (a bug in wordspace {__version__}: please report it "
        "with the traceback above)",
        1,
        as_json,
        type(exc).__name__,
    )


def _os_message(exc: OSError) -> str:
    where = f"{exc.filename}: " if exc.filename else ""
    return f"{where}{exc.strerror or exc}"


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the command behind the one boundary described in this module."""
    args = sys.argv[1:] if argv is None else list(argv)
    as_json = "--json" in args
    if not args:
        args = ["--help"]
    with_previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        result = app(args=args, prog_name="wordspace", standalone_mode=False)
    except WordspaceError as exc:
        _fail(str(exc), 2, as_json, type(exc).__name__)
    except typer.core._click.exceptions.ClickException as exc:
        _fail(exc.format_message(), 2, as_json, "UsageError")
    except typer.Abort as exc:
        if isinstance(exc.__cause__, EOFError):
            _unexpected(exc.__cause__, as_json)
        _fail("interrupted", 130, as_json, "Interrupted")
    except KeyboardInterrupt:
        _fail("interrupted", 130, as_json, "Interrupted")
    except Terminated:
        _fail("terminated", 143, as_json, "Terminated")
    except BrokenPipeError:
        sys.stderr.close()
        os._exit(141)
    except MemoryError as exc:
        _fail(f"out of memory ({exc or 'an allocation failed'})", 2, as_json, "MemoryError")
    except OSError as exc:
        _fail(_os_message(exc), 2, as_json, type(exc).__name__)
    except Exception as exc:
        _unexpected(exc, as_json)
    finally:
        signal.signal(signal.SIGTERM, with_previous)
    if result == 130:
        _fail("interrupted", 130, as_json, "Interrupted")
    sys.exit(result if isinstance(result, int) else 0)


if __name__ == "__main__":
    main()
