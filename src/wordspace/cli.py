"""The ``wordspace`` command.

Every error wordspace anticipates is printed as one line on stderr, with exit status 2;
``--json`` prints one JSON object on stdout and nothing else there.
"""

from __future__ import annotations

import json
import math
import sys
import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from wordspace.errors import WordspaceError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Train, evaluate, query and convert word vectors.",
)
eval_app = typer.Typer(no_args_is_help=True, help="Evaluate vectors on standard tests.")
app.add_typer(eval_app, name="eval")


class Architecture(StrEnum):
    skipgram = "skipgram"
    cbow = "cbow"


class Loss(StrEnum):
    ns = "ns"
    hs = "hs"


class Kernel(StrEnum):
    fast = "fast"
    classic = "classic"


class Method(StrEnum):
    add = "add"
    mul = "mul"


class Format(StrEnum):
    native = "native"
    word2vec_txt = "word2vec-txt"
    word2vec_bin = "word2vec-bin"
    fasttext_bin = "fasttext-bin"
    fasttext_vec = "fasttext-vec"


JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout.")]
ModelArg = Annotated[
    Path, typer.Argument(help="Model: native folder, word2vec .txt/.bin, fastText .bin/.vec.")
]


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def _print_json(document: dict[str, Any]) -> None:
    print(json.dumps(_clean(document), indent=2))


def _load(path: Path):
    from wordspace.formats import load

    return load(path)


def _check_output(path: Path) -> None:
    from wordspace.formats.native import is_native

    if path.exists() and not (path.is_dir() and (is_native(path) or not any(path.iterdir()))):
        raise WordspaceError(f"{path}: exists and is not a wordspace model; choose another -o")


@app.command()
def train(
    architecture: Annotated[Architecture, typer.Argument(help="skipgram or cbow.")],
    input: Annotated[
        str, typer.Argument(help="Text file, folder, glob, or - for stdin (.gz/.bz2/.xz/.zst ok).")
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="Model folder to write.")],
    dim: Annotated[int, typer.Option(help="Vector dimension.")] = 100,
    window: Annotated[int, typer.Option(help="Max context words each side.")] = 5,
    loss: Annotated[Loss, typer.Option(help="ns (negative sampling) or hs.")] = Loss.ns,
    negative: Annotated[int, typer.Option(help="Noise words per example (ns).")] = 5,
    ns_exponent: Annotated[float, typer.Option(help="Noise distribution exponent.")] = 0.75,
    sample: Annotated[float, typer.Option(help="Subsampling threshold (0: off).")] = 1e-3,
    min_count: Annotated[int, typer.Option(help="Drop words rarer than this.")] = 5,
    max_vocab_size: Annotated[
        int | None, typer.Option(help="Keep only this many most frequent words.")
    ] = None,
    lr: Annotated[
        float | None, typer.Option(help="Start learning rate [0.025 skipgram, 0.05 cbow].")
    ] = None,
    min_lr: Annotated[float, typer.Option(help="Final learning rate.")] = 1e-4,
    epochs: Annotated[int, typer.Option(help="Passes over the corpus.")] = 5,
    workers: Annotated[int | None, typer.Option(help="Threads [all CPUs].")] = None,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 1,
    cbow_mean: Annotated[
        bool, typer.Option("--cbow-mean/--cbow-sum", help="CBOW: mean or sum of context.")
    ] = True,
    kernel: Annotated[
        Kernel, typer.Option(help="fast (shared negatives per window) or classic (word2vec).")
    ] = Kernel.fast,
    shuffle: Annotated[
        bool, typer.Option("--shuffle/--no-shuffle", help="Visit 10k-word chunks in random order.")
    ] = True,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Train word2vec (skip-gram or CBOW) on a corpus and save the model."""
    from wordspace.console import progress_reporter
    from wordspace.models.word2vec import Word2Vec

    model = Word2Vec(
        architecture.value,
        dim=dim,
        window=window,
        loss=loss.value,
        negative=negative,
        ns_exponent=ns_exponent,
        sample=sample,
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
    )
    _check_output(output)
    reporter = progress_reporter(quiet)
    try:
        model.fit(input, callbacks=[reporter] if reporter else [])
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
        print(
            f"trained {architecture.value} ({loss.value}) on {summary.words:,} words "
            f"({len(model.vectors):,}-word vocabulary) in {summary.seconds:.1f} s: "
            f"{summary.words_per_second / 1000:,.0f}k words/s, "
            f"final epoch loss {summary.epoch_losses[-1]:.4f}; saved to {output}",
            file=sys.stderr,
        )


@eval_app.command("analogy")
def eval_analogy(
    model: ModelArg,
    questions: Annotated[Path, typer.Argument(help="Google-format analogy questions.")],
    restrict: Annotated[int, typer.Option(help="Search the N most frequent words.")] = 30_000,
    method: Annotated[Method, typer.Option(help="add (3CosAdd) or mul (3CosMul).")] = Method.add,
    as_json: JsonFlag = False,
) -> None:
    """Analogy accuracy per section and overall (word2vec's compute-accuracy protocol)."""
    from wordspace.evaluate import evaluate_analogies

    result = evaluate_analogies(
        _load(model), questions, restrict_vocab=restrict, method=method.value
    )
    if as_json:
        _print_json(result.to_dict())
        return
    for section in result.sections:
        print(
            f"{section.name:<32} {100 * section.accuracy:6.2f}%  "
            f"({section.correct}/{section.total}, {section.oov} OOV)"
        )
    print(
        f"{'total':<32} {100 * result.accuracy:6.2f}%  ({result.correct}/{result.total}; "
        f"{result.oov} questions skipped as out of the top {restrict:,} words)"
    )


@eval_app.command("similarity")
def eval_similarity(
    model: ModelArg,
    pairs: Annotated[Path, typer.Argument(help="'word1 word2 score' per line.")],
    as_json: JsonFlag = False,
) -> None:
    """Spearman correlation of cosine similarity with human similarity scores."""
    from wordspace.evaluate import evaluate_similarity

    result = evaluate_similarity(_load(model), pairs)
    if as_json:
        _print_json(result.to_dict())
        return
    print(
        f"{pairs.name}: Spearman {result.spearman:.4f} over {result.pairs} pairs "
        f"({result.oov_pairs} out of vocabulary)"
    )


@app.command()
def neighbors(
    model: ModelArg,
    word: Annotated[str, typer.Argument(help="Query word.")],
    k: Annotated[int, typer.Option("-k", help="How many neighbours.")] = 10,
    as_json: JsonFlag = False,
) -> None:
    """The nearest neighbours of a word by cosine similarity."""
    vectors = _load(model)
    if word not in vectors:
        raise WordspaceError(f"{word!r} is not in the vocabulary of {model}")
    result = vectors.most_similar(word, topn=k)
    if as_json:
        _print_json({"word": word, "neighbors": [{"word": w, "cosine": s} for w, s in result]})
        return
    for neighbour, score in result:
        print(f"{score:.4f}  {neighbour}")


@app.command()
def analogy(
    model: ModelArg,
    a: str,
    b: str,
    c: str,
    k: Annotated[int, typer.Option("-k", help="How many answers.")] = 1,
    method: Annotated[Method, typer.Option(help="add (3CosAdd) or mul (3CosMul).")] = Method.add,
    as_json: JsonFlag = False,
) -> None:
    """Solve "A is to B as C is to ?"."""
    vectors = _load(model)
    missing = [w for w in (a, b, c) if w not in vectors]
    if missing:
        raise WordspaceError(f"{missing[0]!r} is not in the vocabulary of {model}")
    result = vectors.analogy(a, b, c, topn=k, method=method.value)
    if as_json:
        _print_json({"query": [a, b, c], "answers": [{"word": w, "score": s} for w, s in result]})
        return
    for answer, score in result:
        print(f"{score:.4f}  {answer}")


@app.command()
def export(
    model: ModelArg,
    out: Annotated[Path, typer.Argument(help="File (or folder, for native) to write.")],
    format: Annotated[Format, typer.Option("--format", "-f", help="Output format.")],
) -> None:
    """Write a model's vectors in another format (see also: convert)."""
    from wordspace.formats import convert as convert_model

    convert_model(model, out, to_format=format.value)


@app.command()
def convert(
    source: Annotated[Path, typer.Argument(help="Model to read, in any format.")],
    target: Annotated[Path, typer.Argument(help="File or folder to write.")],
    from_format: Annotated[
        Format | None, typer.Option("--from", help="Input format [from its content].")
    ] = None,
    to_format: Annotated[
        Format | None,
        typer.Option("--to", help="Output format [from the name: .txt .vec .bin, else native]."),
    ] = None,
    limit: Annotated[
        int | None, typer.Option(help="Keep only the N first (most frequent) words.")
    ] = None,
) -> None:
    """Convert a model between formats: native, word2vec-txt/-bin, fasttext-bin/-vec."""
    from wordspace.formats import convert as convert_model

    written = convert_model(
        source,
        target,
        from_format=from_format.value if from_format else None,
        to_format=to_format.value if to_format else None,
        limit=limit,
    )
    print(f"wrote {target} ({written})", file=sys.stderr)


@app.command()
def info(model: ModelArg, as_json: JsonFlag = False) -> None:
    """What a model holds: size, dimension, training configuration and figures."""
    from wordspace.formats import as_vectors, detect_format, fasttext, load_model
    from wordspace.formats.native import read_meta

    loaded = load_model(model)
    vectors = as_vectors(loaded)
    fmt = detect_format(model)
    document: dict[str, Any] = {
        "model": str(model),
        "format": fmt,
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
    elif isinstance(loaded, fasttext.FastTextModel):
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


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the command, turning anticipated errors into one line and status 2."""
    try:
        result = app(args=argv, prog_name="wordspace", standalone_mode=False)
    except WordspaceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    except typer.TyperException as exc:
        print(f"error: {exc.format_message()}", file=sys.stderr)
        sys.exit(2)
    except (typer.Abort, KeyboardInterrupt):
        print("error: interrupted", file=sys.stderr)
        sys.exit(130)
    sys.exit(result if isinstance(result, int) else 0)


if __name__ == "__main__":
    main()
