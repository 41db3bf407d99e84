"""Side-by-side word2vec benchmark: the word2vec C tool, gensim and wordspace.

All tools train on the same plain-text slice of the shared enwiki corpus with the same
parameters, one after the other in one run, each as its own process. For each the script
prints the whole-process wall time and words/s, the training-only words/s (as the tool
reports it, or as timed around its training call), the peak resident memory, and the
quality of the vectors it wrote (Google analogies restricted to the 30,000 most frequent
words, WS-353 and SimLex-999 Spearman), all scored by the same evaluator; then ratios to
wordspace and to the C tool.

    python bench/compare_word2vec.py                      # skip-gram NS, 17M tokens, 1 epoch
    python bench/compare_word2vec.py --lines 268402 --configs sg-ns,cbow-ns,sg-hs --epochs 1,5

With ``--rounds N`` the tools run N times, interleaved (all tools once, then again), round
r with random seed r for the tools that take one (gensim, wordspace; the C tool has no seed
option). The table shows each tool's median-wall run for speed and memory and the mean over
the rounds for quality; every run's wall time and analogy accuracy, and the speed ratio to
the C tool within each round, are listed below it. On a machine whose speed drifts over
minutes (as a shared VM's does) this says more than one run, and one seed is not enough to
compare estimators: one-epoch analogy accuracy moves by over a point between seeds.
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
ENWIKI = SHARED / "enwiki" / "enwiki2015.tok.txt.gz"
QUESTIONS = SHARED / "analogy" / "questions-words.txt"
WORDSIM = SHARED / "wordsim"
CACHE = ROOT / "bench" / ".cache"
BIN = Path(sys.executable).parent

GENSIM_SCRIPT = textwrap.dedent(
    """
    import json, sys, time
    from gensim.models import Word2Vec
    args = json.loads(sys.argv[1])
    started = time.perf_counter()
    model = Word2Vec(
        sg=args["sg"], hs=args["hs"], negative=args["negative"], vector_size=args["dim"],
        window=args["window"], sample=args["sample"], min_count=args["min_count"],
        workers=args["threads"], epochs=args["epochs"], alpha=args["lr"], seed=args["seed"],
    )
    model.build_vocab(corpus_file=args["corpus"])
    trained = time.perf_counter()
    model.train(
        corpus_file=args["corpus"], total_words=model.corpus_total_words, epochs=args["epochs"]
    )
    done = time.perf_counter()
    model.wv.save_word2vec_format(args["output"], binary=True)
    print(json.dumps({"train_seconds": done - trained, "words": model.corpus_total_words}))
    """
)


@dataclass
class Result:
    tool: str
    wall: float
    peak_rss_mb: float
    train_words_per_second: float | None
    vectors: Path
    quality: dict[str, float] = field(default_factory=dict)
    phases: dict[str, float] = field(default_factory=dict)


def corpus_slice(lines: int) -> Path:
    """The first ``lines`` lines of the enwiki corpus as a plain file (cached)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"enwiki-{lines}.txt"
    if not path.exists():
        tmp = path.with_suffix(".tmp")
        with gzip.open(ENWIKI, "rb") as src, open(tmp, "wb") as dst:
            dst.writelines(itertools.islice(src, lines))
        tmp.rename(path)
    return path


LAUNCHER = textwrap.dedent(
    """
    import os, sys
    pid = os.fork()
    if pid == 0:
        os.execvp(sys.argv[2], sys.argv[2:])
    _, status, usage = os.wait4(pid, 0)
    with open(sys.argv[1], "w") as out:
        out.write(str(usage.ru_maxrss))
    sys.exit(os.waitstatus_to_exitcode(status))
    """
)
"""Runs a command as the child of a fresh, small process and writes its peak RSS (KiB).

Linux carries a process's peak RSS across fork and exec, so a tool started straight from
this script would report at least this script's own size (which grows as it evaluates the
vectors); a small launcher floors it at a few MB instead."""


def measured(
    cmd: list[str], log: Path, env: dict[str, str] | None = None
) -> tuple[float, float, str]:
    """Run ``cmd`` (in environment ``env``, default ours); return wall seconds, peak RSS in MB
    and its stdout."""
    rss_file = log.with_suffix(".maxrss")
    with open(log, "wb") as out:
        started = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-c", LAUNCHER, str(rss_file), *cmd],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
        wall = time.perf_counter() - started
    text = log.read_text(errors="replace")
    if proc.returncode != 0:
        raise SystemExit(f"{cmd[0]} failed ({proc.returncode}):\n{text[-2000:]}")
    return wall, int(rss_file.read_text()) / 1024, text


def run_c_tool(args, corpus: Path, work: Path) -> Result:
    output = work / "c.bin"
    cmd = [
        str(BIN / "word2vec"), "-train", str(corpus), "-output", str(output),
        "-cbow", str(int(args.arch == "cbow")), "-size", str(args.dim),
        "-window", str(args.window), "-negative", str(args.negative if args.loss == "ns" else 0),
        "-hs", str(int(args.loss == "hs")), "-sample", str(args.sample),
        "-threads", str(args.threads), "-iter", str(args.epochs),
        "-min-count", str(args.min_count), "-alpha", str(args.lr), "-binary", "1",
    ]  # fmt: skip
    wall, rss, text = measured(cmd, work / "c.log")
    rates = re.findall(r"Words/thread/sec:\s*([\d.]+)k", text)
    rate = float(rates[-1]) * 1000 * args.threads if rates else None
    return Result("word2vec C", wall, rss, rate, output)


def run_gensim(args, corpus: Path, work: Path, seed: int, threads: int) -> Result:
    output = work / f"gensim-{threads}.bin"
    params = {
        "sg": int(args.arch == "skipgram"), "hs": int(args.loss == "hs"),
        "negative": args.negative if args.loss == "ns" else 0, "dim": args.dim,
        "window": args.window, "sample": args.sample, "min_count": args.min_count,
        "threads": threads, "epochs": args.epochs, "lr": args.lr,
        "corpus": str(corpus), "output": str(output), "seed": seed,
    }  # fmt: skip
    cmd = [sys.executable, "-c", GENSIM_SCRIPT, json.dumps(params)]
    wall, rss, text = measured(cmd, work / f"gensim-{threads}.log")
    report = json.loads(text.strip().splitlines()[-1])
    rate = report["words"] * args.epochs / report["train_seconds"]
    name = (
        "gensim"
        if threads == args.threads
        else f"gensim, {threads} thread{'s' if threads > 1 else ''}"
    )
    return Result(name, wall, rss, rate, output)


def run_wordspace(
    args, corpus: Path, work: Path, seed: int, kernel: str, threads: int, src: str | None = None
) -> Result:
    """Train with our CLI; with ``src``, with the package found there (another checkout's
    ``src`` folder, e.g. a worktree of the commit before a change) instead of ours."""
    tag = "baseline" if src else "wordspace"
    output = work / f"{tag}-{kernel}-{threads}"
    env = None if src is None else {**os.environ, "PYTHONPATH": src}
    cmd = [
        sys.executable, "-m", "wordspace.cli", "train", args.arch, str(corpus), "-o", str(output),
        "--dim", str(args.dim), "--window", str(args.window), "--loss", args.loss,
        "--negative", str(args.negative), "--sample", str(args.sample),
        "--min-count", str(args.min_count), "--epochs", str(args.epochs),
        "--workers", str(threads), "--lr", str(args.lr), "--kernel", kernel,
        "--seed", str(seed), "--quiet", "--json",
    ]  # fmt: skip
    wall, rss, text = measured(cmd, work / f"{tag}-{kernel}.log", env)
    report = json.loads(text[text.index("{") :])
    name = tag if kernel == "fast" else f"{tag} ({kernel})"
    if threads != args.threads:
        name += f", {threads} thread{'s' if threads > 1 else ''}"
    phases = {
        "read": report["read_seconds"],
        "train": report["seconds"],
        "save": report["save_seconds"],
    }
    phases["startup and rest"] = wall - sum(phases.values())
    return Result(name, wall, rss, report["words_per_second"], output, phases=phases)


def score(result: Result) -> None:
    from wordspace import load
    from wordspace.evaluate import evaluate_analogies, evaluate_similarity

    vectors = load(result.vectors)
    result.quality["analogy"] = evaluate_analogies(vectors, QUESTIONS).accuracy
    result.quality["ws353"] = evaluate_similarity(vectors, WORDSIM / "EN-WS-353-ALL.txt").spearman
    result.quality["simlex"] = evaluate_similarity(vectors, WORDSIM / "EN-SIMLEX-999.txt").spearman


def table(results: list[Result], tokens: int, epochs: int) -> str:
    ours = next((r for r in results if r.tool == "wordspace"), results[0])
    c_tool = next((r for r in results if r.tool == "word2vec C"), None)
    head = (
        "| tool | wall s | words/s (whole) | words/s (training) | peak RSS MB | analogy | "
        "WS-353 | SimLex | wall vs wordspace | speed vs C |"
    )
    lines = [head, "|" + "---|" * 10]
    for r in results:
        train = f"{r.train_words_per_second / 1000:,.0f}k" if r.train_words_per_second else "n/a"
        vs_c = f"{c_tool.wall / r.wall:.2f}x" if c_tool else "n/a"
        lines.append(
            f"| {r.tool} | {r.wall:.1f} | {tokens * epochs / r.wall / 1000:,.0f}k | {train} | "
            f"{r.peak_rss_mb:,.0f} | {100 * r.quality['analogy']:.1f}% | "
            f"{r.quality['ws353']:.3f} | {r.quality['simlex']:.3f} | "
            f"{r.wall / ours.wall:.2f}x | {vs_c} |"
        )
    return "\n".join(lines)


CONFIGS = {
    "sg-ns": ("skipgram", "ns"),
    "sg-hs": ("skipgram", "hs"),
    "cbow-ns": ("cbow", "ns"),
    "cbow-hs": ("cbow", "hs"),
}


def compare(args, corpus: Path, tokens: int) -> None:
    runners = {
        "c": lambda w, seed: run_c_tool(args, corpus, w),  # the C tool has no seed option
        "gensim": lambda w, seed: run_gensim(args, corpus, w, seed, args.threads),
        "gensim-1": lambda w, seed: run_gensim(args, corpus, w, seed, 1),
        "wordspace": lambda w, seed: run_wordspace(args, corpus, w, seed, "fast", args.threads),
        "classic": lambda w, seed: run_wordspace(args, corpus, w, seed, "classic", args.threads),
        "wordspace-1": lambda w, seed: run_wordspace(args, corpus, w, seed, "fast", 1),
        "baseline": lambda w, seed: run_wordspace(
            args, corpus, w, seed, "fast", args.threads, src=args.baseline_src
        ),
    }
    if "baseline" in args.tools.split(",") and not args.baseline_src:
        raise SystemExit("--tools baseline needs --baseline-src (a checkout's src folder)")
    tools = args.tools.split(",")
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
        f"\n### {args.arch} {args.loss}, {args.epochs} epoch(s)\n\n"
        f"dim {args.dim}, window {args.window}, negative {args.negative}, sample "
        f"{args.sample}, min_count {args.min_count}, {args.threads} threads, lr {args.lr}; "
        f"corpus: first {args.lines:,} lines of enwiki ({tokens:,} tokens)"
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
        if r.phases:
            parts = ", ".join(f"{k} {v:.1f} s" for k, v in r.phases.items())
            print(f"\n{r.tool}: {parts}")
    if args.rounds > 1:
        print_rounds(runs)
    sys.stdout.flush()


def median_run(runs: list[Result]) -> Result:
    """The run with the median wall time (the faster middle one of an even count)."""
    return sorted(runs, key=lambda r: r.wall)[(len(runs) - 1) // 2]


def mean_quality(runs: list[Result]) -> dict[str, float]:
    """Each quality measure averaged over the runs (one per seed)."""
    return {key: sum(r.quality[key] for r in runs) / len(runs) for key in runs[0].quality}


def print_rounds(runs: list[list[Result]]) -> None:
    """Every run's wall time and analogy accuracy, and each round's speed ratio to the C
    tool."""
    print("\nAll rounds, seeds 1, 2, ... (wall s, analogy):\n")
    c_runs = next((tool_runs for tool_runs in runs if tool_runs[0].tool == "word2vec C"), None)
    for tool_runs in runs:
        walls = " / ".join(f"{r.wall:.1f}" for r in tool_runs)
        accuracy = " / ".join(f"{100 * r.quality['analogy']:.1f}%" for r in tool_runs)
        line = f"- {tool_runs[0].tool}: {walls} s; {accuracy}"
        if c_runs is not None and tool_runs is not c_runs:
            ratios = " / ".join(
                f"{c.wall / r.wall:.2f}x" for c, r in zip(c_runs, tool_runs, strict=True)
            )
            line += f"; speed vs C by round {ratios}"
        print(line)
    by_tool = {tool_runs[0].tool: tool_runs for tool_runs in runs}
    if "baseline" in by_tool and "wordspace" in by_tool:
        pairs = zip(by_tool["wordspace"], by_tool["baseline"], strict=True)
        ratios = [
            new.train_words_per_second / old.train_words_per_second
            for new, old in pairs
            if new.train_words_per_second and old.train_words_per_second
        ]
        if ratios:
            listed = " / ".join(f"{x:.3f}" for x in ratios)
            print(
                f"- wordspace / baseline training words/s by round: {listed} "
                f"(median {statistics.median(ratios):.3f})"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=228_724, help="corpus lines [17M tokens]")
    parser.add_argument(
        "--configs", default="sg-ns", help=f"comma list of {', '.join(CONFIGS)} [sg-ns]"
    )
    parser.add_argument("--epochs", default="1", help="comma list of epoch counts [1]")
    parser.add_argument("--dim", type=int, default=100)
    parser.add_argument("--window", type=int, default=5)
    parser.add_argument("--negative", type=int, default=5)
    parser.add_argument("--sample", type=float, default=1e-4)
    parser.add_argument("--min-count", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--rounds", type=int, default=1, help="run the tools this many times, interleaved [1]"
    )
    parser.add_argument(
        "--tools",
        default="c,gensim,wordspace",
        help="comma list of c, gensim, wordspace, classic (wordspace's classic kernel), "
        "wordspace-1 and gensim-1 (one thread each; gensim's learning rate then decays over "
        "the whole corpus, as documented, instead of over each worker's share), baseline "
        "(wordspace from --baseline-src)",
    )
    parser.add_argument(
        "--baseline-src",
        help="src folder of another wordspace checkout (e.g. `git worktree add /tmp/old "
        "HEAD~1`, then /tmp/old/src) for the baseline tool: old and new code side by side",
    )
    args = parser.parse_args()
    if not ENWIKI.exists():
        raise SystemExit(f"needs {ENWIKI}")
    corpus = corpus_slice(args.lines)
    with open(corpus, "rb") as handle:
        tokens = sum(len(line.split()) for line in handle)
    print(f"wordspace benchmark, {time.strftime('%Y-%m-%d')}: {' '.join(sys.argv[1:])}")
    for config in args.configs.split(","):
        args.arch, args.loss = CONFIGS[config]
        args.lr = 0.025 if args.arch == "skipgram" else 0.05
        for epochs in args.epochs.split(","):
            run_args = argparse.Namespace(**{**vars(args), "epochs": int(epochs)})
            compare(run_args, corpus, tokens)


if __name__ == "__main__":
    main()
