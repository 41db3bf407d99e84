"""Start-up cost of ``wordspace train``: cold (empty numba cache) and warm, old and new code.

Each run is ``python -m wordspace train cbow TINY -o OUT --dim 8 --epochs 1`` on a 120-line
corpus, so its wall time is almost all start-up: importing the package, compiling (cold) or
loading (warm) the kernels, and saving. A cold run gets an empty ``NUMBA_CACHE_DIR``; the
warm run after it reuses that directory. With ``--baseline-src`` (another checkout's src
folder, e.g. from ``git worktree add /tmp/old HEAD~1``) both versions run, interleaved, for
``--rounds`` rounds; the script prints the median of each.

It also measures the training kernel alone: the time of its first call in a process with an
empty cache (its compilation; the other kernels are compiled before it), and the per-call
cost on an empty chunk (dispatching its named structures and making its scratch), which
every chunk of ten thousand words pays.

    python bench/startup.py --baseline-src /tmp/old/src --rounds 3
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SENTENCES = [
    "the quick brown fox jumps over the lazy dog",
    "a lazy dog sleeps in the warm sun all day",
    "the brown dog and the quick fox are friends",
]

PER_CALL = textwrap.dedent(
    """
    import time
    import wordspace.models.word2vec as m

    captured = {}
    real_kernel = m.train_chunk

    def timed_kernel(*args):
        started = time.perf_counter()
        result = real_kernel(*args)
        captured.setdefault("first_call", time.perf_counter() - started)
        return result

    def capture(encoded, train_one, **kw):
        captured["train_one"] = train_one
        raise KeyboardInterrupt

    m.train_chunk = timed_kernel
    m.train = capture
    try:
        m.Word2Vec(dim=100, epochs=1, workers=1, min_count=1).fit([["a", "b", "c"] * 50] * 20)
    except KeyboardInterrupt:
        pass
    m.train_chunk = real_kernel
    train_one = captured["train_one"]
    for _ in range(100):
        train_one(0, 0, 0, 0, 0)
    n = 20000
    started = time.perf_counter()
    for _ in range(n):
        train_one(0, 0, 0, 0, 0)
    print(captured["first_call"], (time.perf_counter() - started) / n * 1e6)
    """
)


def _env(src: Path, cache: Path) -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(src), NUMBA_CACHE_DIR=str(cache))
    env.pop("WORDSPACE_DEBUG", None)
    return env


def _train_seconds(src: Path, cache: Path, corpus: Path, out: Path) -> float:
    command = [sys.executable, "-m", "wordspace", "train", "cbow", str(corpus), "-o", str(out)]
    command += ["--dim", "8", "--epochs", "1", "-q"]
    started = time.perf_counter()
    subprocess.run(command, env=_env(src, cache), check=True, capture_output=True)
    return time.perf_counter() - started


def _kernel_costs(src: Path, cache: Path) -> tuple[float, float]:
    """(seconds of the training kernel's first call, microseconds per empty-chunk call)."""
    result = subprocess.run(
        [sys.executable, "-c", PER_CALL], env=_env(src, cache), check=True, capture_output=True
    )
    first, per_call = result.stdout.decode().split()
    return float(first), float(per_call)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline-src", type=Path, help="src folder of another checkout")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    versions = {"wordspace": ROOT / "src"}
    if args.baseline_src:
        versions = {"baseline": args.baseline_src.resolve(), **versions}
    results: dict[str, dict[str, list[float]]] = {
        name: {"cold": [], "warm": [], "compile": [], "per_call": []} for name in versions
    }
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "tiny.txt"
        corpus.write_text("\n".join(SENTENCES * 40) + "\n")
        for r in range(args.rounds):
            for name, src in versions.items():
                cache = Path(tmp) / f"cache-{name}-{r}"
                cold = _train_seconds(src, cache, corpus, Path(tmp) / f"cold-{name}-{r}")
                warm = _train_seconds(src, cache, corpus, Path(tmp) / f"warm-{name}-{r}")
                compile_s, _ = _kernel_costs(src, Path(tmp) / f"kernel-cache-{name}-{r}")
                _, per_call = _kernel_costs(src, cache)
                for key, value in zip(
                    ("cold", "warm", "compile", "per_call"),
                    (cold, warm, compile_s, per_call),
                    strict=True,
                ):
                    results[name][key].append(value)
                line = f"round {r + 1} {name}: cold {cold:.2f} s, warm {warm:.2f} s, "
                line += f"kernel compile {compile_s:.2f} s, empty chunk {per_call:.1f} us"
                print(line, flush=True)
    print("\n| version | cold start s | warm start s | kernel compile s | empty-chunk call us |")
    print("|---|---|---|---|---|")
    for name, figures in results.items():
        cold, warm, compile_s, call = (statistics.median(v) for v in figures.values())
        print(f"| {name} | {cold:.2f} | {warm:.2f} | {compile_s:.2f} | {call:.1f} |")
    print(f"\nmedians of {args.rounds} interleaved rounds; python {sys.version.split()[0]}")


if __name__ == "__main__":
    main()
