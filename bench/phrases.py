"""Phrase detection: wordspace against word2phrase (the word2vec C tool's) and gensim.

On the same corpus and settings (min count 5, passes with thresholds 200 then 100, as the
word2vec demo runs word2phrase) it times, in one run:

- ``wordspace phrases`` (all passes in one command, after an untimed warm-up that fills the
  numba cache),
- ``word2phrase`` once per pass, each pass reading the previous one's output,
- gensim's ``Phrases`` for the first pass (learning, then applying the frozen phrases to every
  line and writing them), when gensim is installed; gensim's default score multiplies by the
  vocabulary size where word2phrase multiplies by the token count, so its threshold is set to
  give the same score cut: ``threshold * tokens / vocabulary``,

with each tool's peak memory (RSS), and compares the outputs: lines whose tokens differ from
word2phrase's, and the overlap of the 10,000 most frequent phrases of each output. With
``--prune-limits`` it also reruns wordspace with low limits on distinct pairs and reports
what the pruning keeps of the unpruned phrase table's 10,000 best phrases.

    python bench/phrases.py --word2phrase .venv/bin/word2phrase --prune-limits 2000000,500000

``--lines N`` takes the first N lines of the corpus instead of all of it.
"""

from __future__ import annotations

import argparse
import collections
import datetime
import gzip
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from compare_word2vec import measured

ROOT = Path(__file__).resolve().parents[1]
ENWIKI = ROOT.parent / "shared" / "data" / "enwiki" / "enwiki2015.tok.txt.gz"
CACHE = ROOT / "bench" / ".cache"
TOP = 10_000
PHRASE = re.compile(rb"\S*_\S*")

GENSIM = textwrap.dedent(
    """
    import json, sys, time
    from gensim.models.phrases import Phrases
    from gensim.models.word2vec import LineSentence
    corpus, output = sys.argv[1], sys.argv[2]
    min_count, threshold = int(sys.argv[3]), float(sys.argv[4])
    began = time.perf_counter()
    model = Phrases(LineSentence(corpus, max_sentence_length=10**9), min_count=min_count,
                    threshold=1.0, delimiter="_")
    learned = time.perf_counter()
    tokens, vocabulary = model.corpus_word_count, len(model.vocab)
    model.threshold = threshold * tokens / vocabulary
    frozen = model.freeze()
    with open(output, "w") as out:
        for sentence in LineSentence(corpus, max_sentence_length=10**9):
            out.write(" ".join(frozen[sentence]) + "\\n")
    applied = time.perf_counter()
    print(json.dumps({"learn_seconds": learned - began, "apply_seconds": applied - learned,
                      "vocabulary": vocabulary, "tokens": tokens}))
    """
)


def corpus(lines: int) -> Path:
    """The enwiki corpus (or its first ``lines`` lines) as a plain file, cached."""
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / (f"enwiki-{lines}.txt" if lines else "enwiki-all.txt")
    if not path.exists():
        tmp = path.with_suffix(".tmp")
        with gzip.open(ENWIKI, "rb") as src, open(tmp, "wb") as dst:
            for number, line in enumerate(src):
                if lines and number >= lines:
                    break
                dst.write(line)
        tmp.rename(path)
    return path


def phrase_counts(path: Path, exclude: set[bytes]) -> collections.Counter:
    """How often each token holding "_" occurs in ``path`` (tokens in ``exclude``, those
    already in the input, left out)."""
    counts: collections.Counter = collections.Counter()
    with open(path, "rb") as handle:
        while block := handle.read(64 << 20):
            block += handle.readline()
            counts.update(PHRASE.findall(block))
    for token in exclude:
        counts.pop(token, None)
    return counts


def top(counts: collections.Counter) -> set[bytes]:
    return {token for token, _ in counts.most_common(TOP)}


def differing_lines(a: Path, b: Path) -> tuple[int, int]:
    """(lines whose tokens differ, lines) between two texts."""
    differ = total = 0
    with open(a, "rb") as fa, open(b, "rb") as fb:
        for la, lb in zip(fa, fb, strict=False):
            total += 1
            differ += la.split() != lb.split()
    return differ, total


def run_word2phrase(binary: Path, source: Path, work: Path, thresholds: list[float], args):
    """word2phrase once per pass (names relative to ``work``: it keeps them in 60 bytes)."""
    passes = []
    current = source
    for number, threshold in enumerate(thresholds, start=1):
        target = work / f"w2p-{number}.txt"
        rel = os.path.relpath(current, work)
        cmd = [
            str(binary),
            "-train",
            rel,
            "-output",
            target.name,
            "-min-count",
            str(args.min_count),
            "-threshold",
            str(threshold),
            "-debug",
            "0",
        ]
        cwd = os.getcwd()
        os.chdir(work)
        try:
            wall, rss, _ = measured(cmd, work / f"w2p-{number}.log")
        finally:
            os.chdir(cwd)
        passes.append({"pass": number, "threshold": threshold, "seconds": wall, "peak_mb": rss})
        print(f"word2phrase pass {number}: {wall:.1f} s, {rss:,.0f} MB", flush=True)
        current = target
    return current, passes


def run_wordspace(
    source: Path, out: Path, args, max_pairs: int | None = None, passes: int | None = None
) -> dict:
    """``wordspace phrases`` with the run's settings (``passes=1``: the first pass alone, at
    its threshold)."""
    table = out.with_suffix(".tsv")
    passes = passes or args.passes
    threshold = args.threshold * 2 ** (args.passes - passes)
    cmd = [sys.executable, "-m", "wordspace", "phrases", str(source), "-o", str(out),
           "--min-count", str(args.min_count), "--threshold", str(threshold),
           "--passes", str(passes), "--save-phrases", str(table), "--force", "--json",
           "--workers", str(args.workers)]  # fmt: skip
    if max_pairs:
        cmd += ["--max-pairs", str(max_pairs)]
    wall, rss, text = measured(cmd, out.with_suffix(".log"))
    figures = json.loads(text[re.search(r"^\{", text, re.M).start() :])
    return figures | {"wall": wall, "peak_mb": rss, "table": str(table)}


def table_top(path: str, number: int = 1, key: str = "score") -> list[str]:
    """The ``TOP`` phrases of a pass of a wordspace phrase table, best scored or most
    frequent first."""
    rows = [line.split("\t") for line in Path(path).read_text().split("\n")[2:] if line]
    rows = [r for r in rows if int(r[5]) == number]
    column = 3 if key == "score" else 4
    rows.sort(key=lambda r: -float(r[column]))
    return [r[0] for r in rows[:TOP]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--word2phrase", type=Path, default=None)
    parser.add_argument("--lines", type=int, default=0, help="0: the whole corpus")
    parser.add_argument("--min-count", type=int, default=5)
    parser.add_argument("--threshold", type=float, default=100.0)
    parser.add_argument("--passes", type=int, default=2)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--no-gensim", action="store_true")
    parser.add_argument("--prune-limits", default="", help="comma-separated --max-pairs")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    source = corpus(args.lines)
    work = CACHE / "phrases"
    work.mkdir(parents=True, exist_ok=True)
    thresholds = [args.threshold * 2 ** (args.passes - 1 - k) for k in range(args.passes)]
    report: dict = {
        "date": datetime.date.today().isoformat(),
        "commit": commit,
        "corpus": str(source),
        "thresholds": thresholds,
    }
    print(f"{report['date']} commit {commit}; {source}; thresholds {thresholds}", flush=True)

    warm = work / "warm.txt"
    warm.write_text("new york city\nin new york\n" * 50)
    run_wordspace(warm, work / "warm-out.txt", args)
    ours = run_wordspace(source, work / "ours.txt", args)
    report["wordspace"] = ours
    print(
        f"wordspace: {ours['wall']:.1f} s ({ours['learn_seconds']:.1f} s reading and "
        f"learning), {ours['peak_mb']:,.0f} MB; {ours['phrases']:,} phrases",
        flush=True,
    )
    for p in ours["passes"]:
        print(
            f"  pass {p['pass_number']}: {p['pairs']:,} distinct pairs, {p['phrases']:,} "
            f"phrases, {p['seconds']:.1f} s",
            flush=True,
        )

    single = run_wordspace(source, work / "ours-1.txt", args, passes=1)
    report["wordspace_pass_1"] = single
    print(
        f"wordspace, pass 1 only: {single['wall']:.1f} s, {single['peak_mb']:,.0f} MB", flush=True
    )

    limits = [int(v) for v in args.prune_limits.split(",") if v]
    if limits:
        best = {key: set(table_top(ours["table"], key=key)) for key in ("score", "count")}
        report["pruning"] = []
        for limit in limits:
            pruned = run_wordspace(source, work / f"pruned-{limit}.txt", args, limit)
            kept = {
                key: len(best[key] & set(table_top(pruned["table"], key=key)))
                / max(len(best[key]), 1)
                for key in best
            }
            first = pruned["passes"][0]
            report["pruning"].append(
                {
                    "max_pairs": limit,
                    "kept_of_top_by_score": kept["score"],
                    "kept_of_top_by_count": kept["count"],
                    "pruned_at_most": first["pruned_at_most"],
                    "pairs": first["pairs"],
                    "phrases": pruned["phrases"],
                    "peak_mb": pruned["peak_mb"],
                    "wall": pruned["wall"],
                }
            )
            print(
                f"--max-pairs {limit:,}: pass 1 pruned pairs seen <= {first['pruned_at_most']}"
                f" times ({first['pairs']:,} left); {pruned['phrases']:,} phrases; of the "
                f"unpruned table's top {TOP:,} pass-1 phrases it keeps {kept['score']:.4f} by "
                f"score, {kept['count']:.4f} by count; {pruned['peak_mb']:,.0f} MB, "
                f"{pruned['wall']:.1f} s",
                flush=True,
            )

    binary = args.word2phrase or Path(sys.executable).parent / "word2phrase"
    input_phrases = set(PHRASE.findall(source.read_bytes()))
    if binary.exists():
        final, passes = run_word2phrase(binary, source, work, thresholds, args)
        report["word2phrase"] = passes
        total = sum(p["seconds"] for p in passes)
        differ, lines = differing_lines(work / "ours.txt", final)
        differ_1, _ = differing_lines(work / "ours-1.txt", work / "w2p-1.txt")
        report["first_pass_differing_lines"] = differ_1
        c_top = top(phrase_counts(final, input_phrases))
        our_top = top(phrase_counts(work / "ours.txt", input_phrases))
        overlap = len(c_top & our_top) / max(len(c_top), 1)
        report["comparison"] = {
            "differing_lines": differ,
            "lines": lines,
            "top_overlap": overlap,
            "speedup": total / ours["wall"],
        }
        print(
            f"word2phrase: {total:.1f} s in all, peak {max(p['peak_mb'] for p in passes):,.0f}"
            f" MB; wordspace is {total / ours['wall']:.1f}x faster",
            flush=True,
        )
        print(f"pass 1 alone: {differ_1:,} of {lines:,} lines differ", flush=True)
        print(
            f"outputs: {differ:,} of {lines:,} lines differ; top-{TOP:,} phrases overlap "
            f"{overlap:.4f}",
            flush=True,
        )
    else:
        print(f"word2phrase: not found at {binary}; skipped", flush=True)

    if not args.no_gensim and shutil.which(sys.executable):
        out = work / "gensim-1.txt"
        try:
            wall, rss, text = measured(
                [
                    sys.executable,
                    "-c",
                    GENSIM,
                    str(source),
                    str(out),
                    str(args.min_count),
                    str(thresholds[0]),
                ],
                work / "gensim.log",
            )
            g = json.loads(text.strip().splitlines()[-1]) | {"wall": wall, "peak_mb": rss}
            report["gensim_pass_1"] = g
            print(
                f"gensim, pass 1 only: learn {g['learn_seconds']:.1f} s, apply "
                f"{g['apply_seconds']:.1f} s, {wall:.1f} s in all, {rss:,.0f} MB",
                flush=True,
            )
        except SystemExit as exc:
            print(f"gensim: skipped ({str(exc).splitlines()[0]})", flush=True)

    if args.json:
        print(json.dumps(report))


if __name__ == "__main__":
    main()
