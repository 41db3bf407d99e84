"""Side-by-side subword benchmark: Facebook fastText, gensim FastText and wordspace.

All tools learn fastText-style vectors (a word's vector is its own row plus the rows of its
character n-grams, minn to maxn characters, hashed into ``bucket`` rows) on the same
plain-text slice of the shared enwiki corpus with the same parameters, one after the other
in one run, each as its own process timed from start to exit, save included: fastText
through its Python package (``fasttext.train_unsupervised``, then ``save_model``), gensim
4's ``FastText`` (``build_vocab`` and ``train`` on the corpus file, then
``save_facebook_model``) and our CLI (``wordspace train --minn ... --maxn ... --bucket``).
For each the script prints the whole-process wall time and words/s, the training-only
words/s (as wordspace reports it; for the other two corpus tokens x epochs over the time
around their training call, which for fastText includes its vocabulary pass, as its API
does both in one call), the peak resident memory, and the quality of the vectors it wrote:
Google analogies restricted to the 30,000 most frequent words, WS-353, SimLex-999 and MEN
Spearman, all scored by wordspace's evaluator on the saved files (similarity pairs with a
word outside the vocabulary are answered from its n-grams, and counted). Then each round's
ratio of fastText's and gensim's wall time to wordspace's.

    python bench/compare_fasttext.py                          # skip-gram, 268,402 lines, 1 epoch
    python bench/compare_fasttext.py --arch cbow --rounds 3
    python bench/compare_fasttext.py --tools wordspace --wordspace-extra "--kernel classic"

With ``--rounds N`` the tools run N times, interleaved (every tool once with seed 1, then
every tool with seed 2, ...). The table shows each tool's median-wall run for speed and
memory and the mean over the rounds for quality; every run's wall time and analogy
accuracy, and the wall-time ratios to wordspace within each round, are listed below it.
All three take the seed: fastText's Python wrapper rejects the keyword although its trainer
has it, so the script builds the trainer's arguments as the wrapper does, seed included
(fastText's default seed 0 trains as seed 1 does: its generator maps 0 to 1). With more
than one thread no tool is deterministic anyway.

``--wordspace-extra "ARGS"`` appends ARGS to the wordspace train command of an extra tool,
``wordspace-extra``, labelled ``wordspace ARGS``, which runs next to plain wordspace (it
joins the default tools; name it in ``--tools`` to run it alone or in another order): an
A/B comparison in interleaved rounds.
"""

from __future__ import annotations

import argparse
import json
import shlex
import shutil
import statistics
import sys
import tempfile
import textwrap
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from compare_word2vec import (
    CACHE,
    ENWIKI,
    QUESTIONS,
    WORDSIM,
    Result,
    corpus_slice,
    mean_quality,
    measured,
    median_run,
)

FASTTEXT_SCRIPT = textwrap.dedent(
    """
    import json, sys, time
    import fasttext
    from fasttext import FastText
    args = json.loads(sys.argv[1])
    params = dict(
        input=args["corpus"], model=args["arch"], dim=args["dim"], ws=args["window"],
        epoch=args["epochs"], minCount=args["min_count"], neg=args["negative"], loss="ns",
        bucket=args["bucket"], minn=args["minn"], maxn=args["maxn"], t=args["sample"],
        lr=args["lr"], thread=args["threads"], seed=args["seed"], verbose=0,
    )
    started = time.perf_counter()
    try:
        model = fasttext.train_unsupervised(**params)
    except TypeError as error:
        if "seed" not in str(error):
            raise
        # The wrapper (0.9.x, fasttext-numpy2 0.10) rejects seed although the C++ trainer
        # takes it: build the arguments as the wrapper does, seed included.
        built = FastText._build_args({**FastText.unsupervised_default, **params}, set(params))
        model = FastText._FastText(args=built)
        FastText.fasttext.train(model.f, built)
        model.set_args(model.f.getArgs())
    trained = time.perf_counter()
    model.save_model(args["output"])
    done = time.perf_counter()
    print(json.dumps({"train_seconds": trained - started, "save_seconds": done - trained}))
    """
)
"""fastText through its Python package. ``train_unsupervised`` reads the vocabulary and
trains in one call, so its time is both."""

GENSIM_SCRIPT = textwrap.dedent(
    """
    import json, sys, time
    from gensim.models import FastText
    from gensim.models.fasttext import save_facebook_model
    args = json.loads(sys.argv[1])
    started = time.perf_counter()
    model = FastText(
        sg=args["sg"], vector_size=args["dim"], window=args["window"],
        min_count=args["min_count"], sample=args["sample"], negative=args["negative"],
        alpha=args["lr"], epochs=args["epochs"], workers=args["threads"], min_n=args["minn"],
        max_n=args["maxn"], bucket=args["bucket"], seed=args["seed"],
    )
    model.build_vocab(corpus_file=args["corpus"])
    read = time.perf_counter()
    model.train(
        corpus_file=args["corpus"], total_words=model.corpus_total_words, epochs=args["epochs"]
    )
    trained = time.perf_counter()
    save_facebook_model(model, args["output"])
    done = time.perf_counter()
    print(json.dumps({
        "read_seconds": read - started, "train_seconds": trained - read,
        "save_seconds": done - trained, "words": model.corpus_total_words,
    }))
    """
)

TOOLS = ("fasttext", "gensim", "wordspace", "wordspace-extra")
SIMILARITY = {
    "ws353": "EN-WS-353-ALL.txt",
    "simlex": "EN-SIMLEX-999.txt",
    "men": "EN-MEN-TR-3k.txt",
}


def last_json(text: str) -> dict:
    """The JSON object on the last line of a tool's output."""
    return json.loads(text.strip().splitlines()[-1])


def with_rest(phases: dict[str, float], wall: float) -> dict[str, float]:
    """``phases`` plus the part of the wall time they leave out (interpreter start, imports,
    teardown)."""
    return {**phases, "startup and rest": wall - sum(phases.values())}


def run_fasttext(args, corpus: Path, work: Path, seed: int, tokens: int) -> Result:
    output = work / "fasttext.bin"
    params = {
        "arch": args.arch, "dim": args.dim, "window": args.window, "epochs": args.epochs,
        "min_count": args.min_count, "negative": args.negative, "bucket": args.bucket,
        "minn": args.minn, "maxn": args.maxn, "sample": args.sample, "lr": args.lr,
        "threads": args.threads, "seed": seed, "corpus": str(corpus), "output": str(output),
    }  # fmt: skip
    cmd = [sys.executable, "-c", FASTTEXT_SCRIPT, json.dumps(params)]
    wall, rss, text = measured(cmd, work / "fasttext.log")
    report = last_json(text)
    rate = tokens * args.epochs / report["train_seconds"]
    phases = {"read and train": report["train_seconds"], "save": report["save_seconds"]}
    return Result("fastText", wall, rss, rate, output, phases=with_rest(phases, wall))


def run_gensim(args, corpus: Path, work: Path, seed: int) -> Result:
    output = work / "gensim.bin"
    params = {
        "sg": int(args.arch == "skipgram"), "dim": args.dim, "window": args.window,
        "min_count": args.min_count, "sample": args.sample, "negative": args.negative,
        "lr": args.lr, "epochs": args.epochs, "threads": args.threads, "minn": args.minn,
        "maxn": args.maxn, "bucket": args.bucket, "seed": seed,
        "corpus": str(corpus), "output": str(output),
    }  # fmt: skip
    cmd = [sys.executable, "-c", GENSIM_SCRIPT, json.dumps(params)]
    wall, rss, text = measured(cmd, work / "gensim.log")
    report = last_json(text)
    rate = report["words"] * args.epochs / report["train_seconds"]
    phases = {
        "read": report["read_seconds"],
        "train": report["train_seconds"],
        "save": report["save_seconds"],
    }
    return Result("gensim", wall, rss, rate, output, phases=with_rest(phases, wall))


def run_wordspace(args, corpus: Path, work: Path, seed: int, extra: str = "") -> Result:
    """Train with our CLI, with the arguments in ``extra`` appended (labelled with them)."""
    tag = "wordspace-extra" if extra else "wordspace"
    output = work / tag
    cmd = [
        sys.executable, "-m", "wordspace.cli", "train", args.arch, str(corpus), "-o", str(output),
        "--minn", str(args.minn), "--maxn", str(args.maxn), "--bucket", str(args.bucket),
        "--dim", str(args.dim), "--window", str(args.window),
        "--negative", str(args.negative), "--sample", str(args.sample),
        "--min-count", str(args.min_count), "--epochs", str(args.epochs),
        "--workers", str(args.threads), "--lr", str(args.lr),
        "--seed", str(seed), "--quiet", "--json", *shlex.split(extra),
    ]  # fmt: skip
    wall, rss, text = measured(cmd, work / f"{tag}.log")
    report = json.loads(text[text.index("{") :])
    phases = {
        "read": report["read_seconds"],
        "train": report["seconds"],
        "save": report["save_seconds"],
    }
    name = f"wordspace {extra}" if extra else "wordspace"
    return Result(
        name, wall, rss, report["words_per_second"], output, phases=with_rest(phases, wall)
    )


def score(result: Result) -> None:
    """Analogy accuracy, similarity Spearman (and the pairs answered from n-grams or not at
    all) and vocabulary size of the saved vectors; then delete them (one model on disk at a
    time: with 2M buckets each is near a gigabyte)."""
    from wordspace import load
    from wordspace.evaluate import evaluate_analogies, evaluate_similarity

    vectors = load(result.vectors)
    result.quality["vocabulary"] = len(vectors)
    result.quality["analogy"] = evaluate_analogies(vectors, QUESTIONS).accuracy
    for key, name in SIMILARITY.items():
        similarity = evaluate_similarity(vectors, WORDSIM / name)
        result.quality[key] = similarity.spearman
        result.quality[f"{key} ngram pairs"] = similarity.ngram_pairs
        result.quality[f"{key} oov pairs"] = similarity.oov_pairs
    del vectors
    if result.vectors.is_dir():
        shutil.rmtree(result.vectors)
    else:
        result.vectors.unlink()


def table(results: list[Result], tokens: int, epochs: int) -> str:
    ours = next((r for r in results if r.tool == "wordspace"), results[0])
    head = (
        "| tool | wall s | words/s (whole) | words/s (training) | peak RSS MB | analogy | "
        f"WS-353 | SimLex | MEN | wall vs {ours.tool} |"
    )
    lines = [head, "|" + "---|" * 10]
    for r in results:
        train = f"{r.train_words_per_second / 1000:,.0f}k" if r.train_words_per_second else "n/a"
        q = r.quality
        lines.append(
            f"| {r.tool} | {r.wall:.1f} | {tokens * epochs / r.wall / 1000:,.0f}k | {train} | "
            f"{r.peak_rss_mb:,.0f} | {100 * q['analogy']:.1f}% | {q['ws353']:.3f} | "
            f"{q['simlex']:.3f} | {q['men']:.3f} | {r.wall / ours.wall:.2f}x |"
        )
    return "\n".join(lines)


def print_coverage(results: list[Result]) -> None:
    """Each tool's vocabulary size and, per similarity set, the pairs answered from n-grams
    and those skipped (no vector for a word)."""
    print("\nVocabulary; similarity pairs answered from n-grams / skipped:\n")
    for r in results:
        q = r.quality
        pairs = ", ".join(
            f"{label} {q[f'{key} ngram pairs']:.0f} / {q[f'{key} oov pairs']:.0f}"
            for key, label in zip(SIMILARITY, ("WS-353", "SimLex", "MEN"), strict=True)
        )
        print(f"- {r.tool}: {q['vocabulary']:,.0f} words; {pairs}")


def print_rounds(runs: list[list[Result]]) -> None:
    """Every run's wall time and analogy accuracy, and each round's ratio of fastText's and
    gensim's wall time to each wordspace variant's (the targets: at least 2x)."""
    print("\nAll rounds, seeds 1, 2, ... (wall s, analogy):\n")
    for tool_runs in runs:
        walls = " / ".join(f"{r.wall:.1f}" for r in tool_runs)
        accuracy = " / ".join(f"{100 * r.quality['analogy']:.1f}%" for r in tool_runs)
        print(f"- {tool_runs[0].tool}: {walls} s; {accuracy}")
    peers = [tool_runs for tool_runs in runs if tool_runs[0].tool in ("fastText", "gensim")]
    ours = [tool_runs for tool_runs in runs if tool_runs[0].tool.startswith("wordspace")]
    if peers and ours:
        print("\nWall-time ratios by round (peer wall / wordspace wall):\n")
    for peer in peers:
        for own in ours:
            ratios = [p.wall / o.wall for p, o in zip(peer, own, strict=True)]
            listed = " / ".join(f"{x:.2f}x" for x in ratios)
            print(
                f"- {peer[0].tool} / {own[0].tool}: {listed} "
                f"(median {statistics.median(ratios):.2f}x)"
            )


def compare(args, corpus: Path, tokens: int) -> None:
    runners = {
        "fasttext": lambda w, seed: run_fasttext(args, corpus, w, seed, tokens),
        "gensim": lambda w, seed: run_gensim(args, corpus, w, seed),
        "wordspace": lambda w, seed: run_wordspace(args, corpus, w, seed),
        "wordspace-extra": lambda w, seed: run_wordspace(
            args, corpus, w, seed, args.wordspace_extra
        ),
    }
    tools = args.tools
    runs: list[list[Result]] = [[] for _ in tools]
    with tempfile.TemporaryDirectory(dir=CACHE) as tmp:
        for seed in range(1, args.rounds + 1):
            for tool, tool_runs in zip(tools, runs, strict=True):
                result = runners[tool](Path(tmp), seed)
                score(result)
                tool_runs.append(result)
                print(f"{result.tool}: {result.wall:.1f} s", file=sys.stderr, flush=True)
    results = [
        replace(median_run(tool_runs), quality=mean_quality(tool_runs)) for tool_runs in runs
    ]
    print(
        f"\n### {args.arch}, minn {args.minn}, maxn {args.maxn}, bucket {args.bucket:,}, "
        f"{args.epochs} epoch(s)\n\n"
        f"negative sampling, dim {args.dim}, window {args.window}, negative {args.negative}, "
        f"sample {args.sample}, min_count {args.min_count}, {args.threads} threads, "
        f"lr {args.lr}; corpus: first {args.lines:,} lines of enwiki ({tokens:,} tokens)"
        + (
            f"; {args.rounds} interleaved rounds with seeds 1-{args.rounds}: wall time and "
            "memory of the median-wall run, quality averaged over the rounds"
            if args.rounds > 1
            else "; seed 1"
        )
        + "\n"
    )
    print(table(results, tokens, args.epochs))
    for r in results:
        parts = ", ".join(f"{k} {v:.1f} s" for k, v in r.phases.items())
        print(f"\n{r.tool}: {parts}")
    print_coverage(results)
    print_rounds(runs)
    sys.stdout.flush()


def parse_tools(text: str | None, extra: str) -> list[str]:
    """The tools to run: the given comma list, or fastText, gensim and wordspace (and the
    wordspace-extra run when there are extra arguments)."""
    if text is None:
        return ["fasttext", "gensim", "wordspace"] + (["wordspace-extra"] if extra else [])
    tools = [tool.strip() for tool in text.split(",") if tool.strip()]
    unknown = [tool for tool in tools if tool not in TOOLS]
    if unknown or not tools:
        raise SystemExit(f"--tools: unknown {', '.join(unknown) or '(none)'}; known: {TOOLS}")
    if "wordspace-extra" in tools and not extra:
        raise SystemExit("--tools wordspace-extra needs --wordspace-extra ARGS")
    return tools


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--arch", choices=("skipgram", "cbow"), default="skipgram")
    parser.add_argument("--lines", type=int, default=268_402, help="corpus lines [268402]")
    parser.add_argument("--dim", type=int, default=100)
    parser.add_argument("--window", type=int, default=5)
    parser.add_argument("--negative", type=int, default=5)
    parser.add_argument("--sample", type=float, default=1e-4)
    parser.add_argument("--min-count", type=int, default=5)
    parser.add_argument("--bucket", type=int, default=2_000_000, help="n-gram rows [2000000]")
    parser.add_argument("--minn", type=int, default=3, help="shortest n-gram [3]")
    parser.add_argument("--maxn", type=int, default=6, help="longest n-gram [6]")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--lr", type=float, help="start learning rate [0.025 skipgram, 0.05 cbow]")
    parser.add_argument(
        "--rounds", type=int, default=1, help="run the tools this many times, interleaved [1]"
    )
    parser.add_argument(
        "--tools",
        help="comma list of fasttext, gensim, wordspace and wordspace-extra (wordspace with "
        "--wordspace-extra) [fasttext,gensim,wordspace, plus wordspace-extra when "
        "--wordspace-extra is given]",
    )
    parser.add_argument(
        "--wordspace-extra",
        default="",
        metavar="ARGS",
        help="extra arguments for the wordspace train command of the wordspace-extra run, "
        'e.g. "--kernel classic"; its runs are labelled with them',
    )
    args = parser.parse_args()
    args.tools = parse_tools(args.tools, args.wordspace_extra)
    if args.lr is None:
        args.lr = 0.025 if args.arch == "skipgram" else 0.05
    if not ENWIKI.exists():
        raise SystemExit(f"needs {ENWIKI}")
    corpus = corpus_slice(args.lines)
    with open(corpus, "rb") as handle:
        tokens = sum(len(line.split()) for line in handle)
    print(f"wordspace benchmark, {time.strftime('%Y-%m-%d')}: {shlex.join(sys.argv[1:])}")
    compare(args, corpus, tokens)


if __name__ == "__main__":
    main()
