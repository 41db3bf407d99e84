"""sent2vec training: the reference (epfml/sent2vec, built outside this repository; pass its
binary) against ``wordspace train sent2vec``, same text and parameters, in one run.

Each training runs as a whole process (the reference's ``fasttext sent2vec``; ours the CLI)
on 2 threads. Reported per run: wall seconds, training words/s (the reference's own
``words/sec/thread`` figure times the threads; ours the CLI's, both counting every pass over
the in-vocabulary words) and STS Benchmark test Spearman of the model's sentence vectors
(both models are embedded by ``wordspace eval sts``, which embeds a reference model exactly
as the reference does). Ours runs with ``--seeds`` seeds; their mean and spread are printed.

``--paragraphs FILE`` also times both on whole paragraph lines (the reference's cost grows
with the square of the line length, so give it a slice small enough to finish, e.g. 1M
words, and ``--paragraph-epochs 1``); no quality is measured there.

    python bench/train_sent2vec.py SENTENCES.txt --reference PATH/TO/fasttext \\
        [--paragraphs PARAGRAPHS.txt] [--seeds 1 2 3] [--dim 100 ...]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

STS = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "sts", "sts-test.csv")


def run(command: list[str]) -> tuple[float, str]:
    began = time.perf_counter()
    result = subprocess.run(command, capture_output=True)
    seconds = time.perf_counter() - began
    if result.returncode != 0:
        tail = result.stderr[-2000:].decode(errors="replace")
        raise SystemExit(f"{command[0]} failed: {tail}")
    return seconds, result.stdout.decode() + result.stderr.decode(errors="replace")


def spearman(model: str) -> float:
    _, out = run([sys.executable, "-m", "wordspace", "eval", "sts", model, STS, "--json"])
    return json.loads(out)["spearman"]


def reference_run(binary: str, corpus: str, out: str, args, epochs: int) -> tuple[float, float]:
    command = [
        binary, "sent2vec", "-input", corpus, "-output", out, "-minCount", str(args.min_count),
        "-dim", str(args.dim), "-epoch", str(epochs), "-lr", str(args.lr),
        "-wordNgrams", str(args.word_ngrams), "-loss", "ns", "-neg", str(args.negative),
        "-thread", "2", "-t", str(args.sample), "-dropoutK", str(args.dropout_k),
        "-bucket", str(args.bucket), "-numCheckPoints", "1",
    ]  # fmt: skip
    seconds, log = run(command)
    rates = re.findall(r"words/sec/thread:\s*(\d+)", log)
    return seconds, 2 * float(rates[-1]) if rates else float("nan")


def our_run(corpus: str, out: str, args, epochs: int, seed: int) -> tuple[float, float]:
    command = [
        sys.executable, "-m", "wordspace", "train", "sent2vec", corpus, "-o", out,
        "--min-count", str(args.min_count), "--dim", str(args.dim), "--epochs", str(epochs),
        "--lr", str(args.lr), "--word-ngrams", str(args.word_ngrams),
        "--negative", str(args.negative), "--workers", "2", "--sample", str(args.sample),
        "--dropout-k", str(args.dropout_k), "--bucket", str(args.bucket), "--seed", str(seed),
        "--json",
    ]  # fmt: skip
    seconds, log = run(command)
    figures = json.loads(log[: log.rindex("}") + 1])
    return seconds, figures["words_per_second"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sentences")
    parser.add_argument("--reference", help="the reference's fasttext binary (skipped if absent)")
    parser.add_argument("--paragraphs")
    parser.add_argument("--paragraph-epochs", type=int, default=1)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--dim", type=int, default=100)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--lr", type=float, default=0.2)
    parser.add_argument("--word-ngrams", type=int, default=2)
    parser.add_argument("--negative", type=int, default=10)
    parser.add_argument("--sample", type=float, default=1e-4)
    parser.add_argument("--dropout-k", type=int, default=2)
    parser.add_argument("--bucket", type=int, default=2_000_000)
    parser.add_argument("--min-count", type=int, default=5)
    args = parser.parse_args()
    reference = args.reference if args.reference and shutil.which(args.reference) else None
    if reference is None:
        print("reference binary not given or not found: only wordspace is run")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        if reference:
            seconds, rate = reference_run(
                reference, args.sentences, f"{tmp}/ref", args, args.epochs
            )
            rows.append(("reference", "sentences", seconds, rate, spearman(f"{tmp}/ref.bin")))
            os.remove(f"{tmp}/ref.bin")
        scores = []
        for seed in args.seeds:
            out = f"{tmp}/ours-{seed}"
            seconds, rate = our_run(args.sentences, out, args, args.epochs, seed)
            scores.append(spearman(out))
            rows.append((f"wordspace seed {seed}", "sentences", seconds, rate, scores[-1]))
            shutil.rmtree(out)
        if args.paragraphs:
            epochs = args.paragraph_epochs
            if reference:
                seconds, rate = reference_run(
                    reference, args.paragraphs, f"{tmp}/refp", args, epochs
                )
                rows.append(("reference", "paragraphs", seconds, rate, float("nan")))
            seconds, rate = our_run(args.paragraphs, f"{tmp}/oursp", args, epochs, args.seeds[0])
            rows.append(("wordspace", "paragraphs", seconds, rate, float("nan")))
    print("| run | lines | wall s | words/s | STS-B test Spearman |")
    print("|---|---|---|---|---|")
    for name, lines, seconds, rate, score in rows:
        print(f"| {name} | {lines} | {seconds:.1f} | {rate:,.0f} | {score:.4f} |")
    if len(scores) > 1:
        print(
            f"wordspace mean Spearman {statistics.mean(scores):.4f} "
            f"(spread {min(scores):.4f}-{max(scores):.4f} over {len(scores)} seeds)"
        )
    for lines in ("sentences", "paragraphs"):
        theirs = [rate for name, kind, _, rate, _ in rows if kind == lines and name == "reference"]
        ours = [rate for name, kind, _, rate, _ in rows if kind == lines and name != "reference"]
        if theirs and ours:
            ratio = statistics.mean(ours) / theirs[0]
            print(f"words/s on {lines}: wordspace / reference = {ratio:.2f}x")


if __name__ == "__main__":
    main()
