"""Loading benchmark: time, resident memory and memory shared across processes.

Builds one model of ``--words`` x ``--dim`` random vectors and writes it as a word2vec
binary file, a fastText ``.bin`` (no n-grams) and a native wordspace folder (with gensim's
own ``KeyedVectors.save`` beside it). Each loader runs alone in a fresh process that reports
the seconds its load call took (imports and numba's one-time start-up excluded) and how much
its resident memory grew, then runs nearest-neighbour queries that read the whole matrix.
Then four such processes run at once and their proportional set sizes (PSS, from
/proc/PID/smaps_rollup, which splits shared pages between the processes mapping them) are
summed.

    python bench/load_models.py                 # 1M x 300, as the formats issue asks
    python bench/load_models.py --words 100000  # quicker
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "bench" / ".cache"

CHILD = textwrap.dedent(
    """
    import json, sys, time

    def status(field):
        for line in open("/proc/self/status"):
            if line.startswith(field):
                return int(line.split()[1]) * 1024
        return 0

    loader, path, queries = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
    import numpy as np
    if loader.startswith("wordspace"):
        import wordspace
        from wordspace.formats import load
        from wordspace.vocab import Vocabulary
        Vocabulary.from_words(["warm", "up"]).index("up")
    elif loader.startswith("gensim"):
        from gensim.models import KeyedVectors
    else:
        import fasttext
    before = status("VmRSS")
    start = time.perf_counter()
    if loader == "wordspace-native":
        model = load(path)
    elif loader == "wordspace-word2vec-bin":
        model = load(path)
    elif loader == "wordspace-fasttext-bin":
        model = load(path)
    elif loader == "gensim-word2vec-bin":
        model = KeyedVectors.load_word2vec_format(path, binary=True)
    elif loader == "gensim-native-mmap":
        model = KeyedVectors.load(path, mmap="r")
    elif loader == "fasttext-bin":
        model = fasttext.load_model(path)
    elif loader == "gensim-fasttext-bin":
        from gensim.models.fasttext import load_facebook_vectors
        model = load_facebook_vectors(path)
    seconds = time.perf_counter() - start
    loaded = status("VmRSS")
    for word in queries:
        if loader == "fasttext-bin":
            model.get_nearest_neighbors(word, k=5)
        else:
            model.most_similar(word, topn=5)
    queried = status("VmRSS")
    print(json.dumps({"seconds": seconds, "rss_load": loaded - before,
                      "rss_query": queried - before}), flush=True)
    sys.stdin.readline()
    """
)


def pss(pid: int) -> int:
    with open(f"/proc/{pid}/smaps_rollup") as handle:
        for line in handle:
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    return 0


def build(words: int, dim: int) -> dict[str, Path]:
    from gensim.models import KeyedVectors

    from wordspace import Vectors
    from wordspace.formats import save

    folder = CACHE / f"load-{words}x{dim}"
    paths = {
        "word2vec-bin": folder / "model.bin",
        "fasttext-bin": folder / "model.ft.bin",
        "native": folder / "native",
        "gensim-native": folder / "gensim.kv",
    }
    if all(p.exists() for p in paths.values()):
        return paths
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    matrix = rng.standard_normal((words, dim), dtype=np.float32)
    vectors = Vectors.from_words([f"w{i}" for i in range(words)], matrix)
    save(vectors, paths["word2vec-bin"], "word2vec-bin")
    save(vectors, paths["fasttext-bin"], "fasttext-bin")
    save(vectors, paths["native"], "native")
    kv = KeyedVectors(dim)
    kv.add_vectors(vectors.words, matrix)
    kv.save(str(paths["gensim-native"]))
    return paths


def run(loader: str, path: Path, copies: int, queries: str = "w1,w500,w7777") -> dict:
    """Time and memory of one process alone (best of three), then the PSS of ``copies``
    processes running at once."""
    alone = min(
        (_processes(loader, path, 1, queries)[0] for _ in range(3)), key=lambda r: r["seconds"]
    )
    together = _processes(loader, path, copies, queries)
    return alone | {"pss_total": together[0]["pss_total"]}


def _processes(loader: str, path: Path, copies: int, queries: str) -> list[dict]:
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, loader, str(path), queries],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(copies)
    ]
    reports = [json.loads(p.stdout.readline()) for p in procs]
    total_pss = sum(pss(p.pid) for p in procs)
    for p in procs:
        p.stdin.write("\n")
        p.stdin.flush()
        p.wait()
    return [r | {"pss_total": total_pss} for r in reports]


def trained_fasttext(lines: int) -> Path:
    """A real fastText model (char n-grams, 2M buckets), trained by Facebook's fastText."""
    import gzip
    import itertools

    folder = CACHE / f"fasttext-{lines}"
    model_path = folder / "model.bin"
    if model_path.exists():
        return model_path
    folder.mkdir(parents=True, exist_ok=True)
    corpus = folder / "corpus.txt"
    source = ROOT.parent / "shared" / "data" / "enwiki" / "enwiki2015.tok.txt.gz"
    with gzip.open(source, "rb") as src, open(corpus, "wb") as dst:
        dst.writelines(itertools.islice(src, lines))
    # In a fresh process: fasttext-numpy2 reads uninitialised heap memory while training.
    script = (
        "import sys, fasttext; fasttext.train_unsupervised(sys.argv[1], model='skipgram', "
        "dim=100, epoch=1, thread=2, verbose=0).save_model(sys.argv[2])"
    )
    subprocess.run([sys.executable, "-c", script, str(corpus), str(model_path)], check=True)
    return model_path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--words", type=int, default=1_000_000)
    parser.add_argument("--dim", type=int, default=300)
    parser.add_argument("--copies", type=int, default=4)
    parser.add_argument(
        "--fasttext-lines", type=int, default=30_000, help="corpus lines for the trained model"
    )
    args = parser.parse_args()
    paths = build(args.words, args.dim)
    size = args.words * args.dim * 4
    runs = [
        ("wordspace-native", paths["native"]),
        ("gensim-native-mmap", paths["gensim-native"]),
        ("wordspace-word2vec-bin", paths["word2vec-bin"]),
        ("gensim-word2vec-bin", paths["word2vec-bin"]),
        ("wordspace-fasttext-bin", paths["fasttext-bin"]),
        ("fasttext-bin", paths["fasttext-bin"]),
    ]
    print(
        f"{args.words:,} words x {args.dim} dims (matrix {size / 2**20:,.0f} MiB); "
        f"{args.copies} processes each load and query the whole matrix\n"
    )
    print(
        "| loader | load s | RSS growth after load MiB | RSS growth after queries MiB | "
        f"PSS of {args.copies} processes MiB | PSS / matrix size |"
    )
    print("|---|---|---|---|---|---|")
    for loader, path in runs:
        r = run(loader, path, args.copies)
        print(
            f"| {loader} | {r['seconds']:.3f} | {r['rss_load'] / 2**20:,.0f} | "
            f"{r['rss_query'] / 2**20:,.0f} | {r['pss_total'] / 2**20:,.0f} | "
            f"{r['pss_total'] / size:.2f} |",
            flush=True,
        )
    trained = trained_fasttext(args.fasttext_lines)
    print(
        f"\nA model trained by fastText (skip-gram, dim 100, 2M n-gram buckets, first "
        f"{args.fasttext_lines:,} enwiki lines): {trained.stat().st_size / 2**20:,.0f} MiB\n"
    )
    print(
        "| loader | load s | RSS growth after load MiB | RSS growth after queries MiB | "
        f"PSS of {args.copies} processes MiB |"
    )
    print("|---|---|---|---|---|")
    for loader in ("wordspace-fasttext-bin", "fasttext-bin", "gensim-fasttext-bin"):
        r = run(loader, trained, args.copies, "the,paris,music")
        print(
            f"| {loader} | {r['seconds']:.3f} | {r['rss_load'] / 2**20:,.0f} | "
            f"{r['rss_query'] / 2**20:,.0f} | {r['pss_total'] / 2**20:,.0f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
