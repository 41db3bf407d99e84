"""Sentence embedding with a sent2vec model: the reference's ``print-sentence-vectors``
(epfml/sent2vec, built outside this repository; pass its binary) against ``wordspace
embed``, on the same lines, in one run.

Both run as whole processes, timed from start to exit, reading the lines from a file and
writing the vectors to a file (the reference's text lines; ours the same text, and a
``.npy``). Prints lines/s and tokens/s, and checks that the printed vectors are the same
byte for byte on every line (lines holding a literal ``</s>``, which the reference's CLI
splits in two, are left out of the input).

    python bench/embed_sent2vec.py MODEL.bin LINES.txt [--reference PATH/TO/fasttext]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time


def timed(command: list[str], stdin_path: str | None, stdout_path: str) -> float:
    with open(stdout_path, "wb") as out:
        stdin = open(stdin_path, "rb") if stdin_path else subprocess.DEVNULL  # noqa: SIM115
        try:
            began = time.perf_counter()
            result = subprocess.run(command, stdin=stdin, stdout=out, stderr=subprocess.PIPE)
            seconds = time.perf_counter() - began
        finally:
            if stdin_path:
                stdin.close()
    if result.returncode != 0:
        raise SystemExit(f"{command[0]} failed: {result.stderr[-2000:].decode(errors='replace')}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model")
    parser.add_argument("lines")
    parser.add_argument("--reference", help="the reference's fasttext binary (skipped if absent)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        lines_path = os.path.join(tmp, "lines.txt")
        lines = tokens = 0
        with open(args.lines, "rb") as src, open(lines_path, "wb") as dst:
            for line in src:
                if b"</s>" in line.split():
                    continue
                dst.write(line if line.endswith(b"\n") else line + b"\n")
                lines += 1
                tokens += len(line.split())
        ours_txt = os.path.join(tmp, "ours.txt")
        wordspace = [sys.executable, "-m", "wordspace", "embed", args.model, lines_path]
        rows = [("wordspace embed (text)", timed(wordspace, None, ours_txt))]
        npy = os.path.join(tmp, "ours.npy")
        rows.append(
            (
                "wordspace embed -f npy",
                timed([*wordspace, "-f", "npy", "-o", npy], None, os.devnull),
            )
        )
        same = None
        if args.reference and shutil.which(args.reference):
            theirs = os.path.join(tmp, "theirs.txt")
            command = [args.reference, "print-sentence-vectors", args.model]
            rows.insert(0, ("reference print-sentence-vectors", timed(command, lines_path, theirs)))
            with open(ours_txt, "rb") as a, open(theirs, "rb") as b:
                same = sum(x == y for x, y in zip(a, b, strict=True))
        else:
            print("reference binary not given or not found: only wordspace is timed")
    print(f"{lines:,} lines, {tokens:,} tokens")
    print("| embedder | seconds | lines/s | tokens/s |")
    print("|---|---|---|---|")
    for name, seconds in rows:
        print(f"| {name} | {seconds:.2f} | {lines / seconds:,.0f} | {tokens / seconds:,.0f} |")
    if same is not None:
        print(f"text lines identical to the reference's: {same:,} of {lines:,}")


if __name__ == "__main__":
    main()
