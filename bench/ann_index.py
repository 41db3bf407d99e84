"""Approximate nearest neighbours for ``most_similar``: faiss (``IndexHNSWFlat``) against
usearch (HNSW), same graph degree, same vectors (unit rows, inner product), same threads.

For each: build time, index file size, recall@10 against exact search (``Vectors.nearest``)
and queries/s (one batch, and one query at a time as a server answers them) at several
search breadths, then what each of several processes holds when all serve one saved index
(PSS, from ``/proc/PID/smaps_rollup``: pages of a memory-mapped file are shared between the
processes, a copy read into each process is not).

    python bench/ann_index.py /tmp/enwiki-sg
    python bench/ann_index.py bench/.cache/synthetic-1000000x300 --libraries model
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import wordspace

BREADTHS = (32, 64, 128)


def unit_rows(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return np.asarray(matrix / np.where(norms > 0, norms, 1), dtype=np.float32)


class Faiss:
    name = "faiss"

    def __init__(self, threads: int) -> None:
        import faiss

        self.faiss = faiss
        faiss.omp_set_num_threads(threads)

    def build(self, unit: np.ndarray, degree: int, breadth: int):
        index = self.faiss.IndexHNSWFlat(unit.shape[1], degree, self.faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = breadth
        index.add(unit)
        return index

    def save(self, index, path: Path) -> None:
        self.faiss.write_index(index, str(path))

    def load(self, path: Path):
        flags = self.faiss.IO_FLAG_MMAP_IFC | self.faiss.IO_FLAG_READ_ONLY
        return self.faiss.read_index(str(path), flags)

    def search(self, index, queries: np.ndarray, k: int, breadth: int) -> np.ndarray:
        index.hnsw.efSearch = breadth
        return index.search(queries, k)[1]


class Usearch:
    name = "usearch"

    def __init__(self, threads: int) -> None:
        from usearch.index import Index

        self.index_type = Index
        self.threads = threads

    def build(self, unit: np.ndarray, degree: int, breadth: int):
        index = self.index_type(
            ndim=unit.shape[1], metric="ip", dtype="f32", connectivity=degree,
            expansion_add=breadth,
        )  # fmt: skip
        index.add(np.arange(len(unit), dtype=np.uint64), unit, threads=self.threads)
        return index

    def save(self, index, path: Path) -> None:
        index.save(str(path))

    def load(self, path: Path):
        return self.index_type.restore(str(path), view=True)

    def search(self, index, queries: np.ndarray, k: int, breadth: int) -> np.ndarray:
        index.expansion_search = breadth
        found = index.search(queries, k, threads=self.threads)
        return np.asarray(found.keys).reshape(len(queries), k).astype(np.int64)


LIBRARIES = {"faiss": Faiss, "usearch": Usearch}


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    hits = sum(len(set(a.tolist()) & set(b.tolist())) for a, b in zip(found, truth, strict=True))
    return hits / truth.size


def pss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) * 1024
    return 0


def serve_child(library: str, path: Path, queries_path: Path, k: int, threads: int) -> None:
    """One serving process: map the index, answer every query once (so every page the
    search reads is touched), say so, and wait for the parent to measure it."""
    lib = LIBRARIES[library](threads)
    queries = np.load(queries_path)
    start = time.perf_counter()
    index = None
    if path.name != "none":
        index = lib.load(path)
        lib.search(index, queries, k, BREADTHS[-1])
    loaded = time.perf_counter() - start
    print(json.dumps({"load_s": loaded}), flush=True)
    sys.stdin.readline()
    del index


def shared_memory(library: str, path: Path, queries_path: Path, args) -> dict:
    command = [sys.executable, __file__, "--child", library, str(path), str(queries_path)]
    command += ["-k", str(args.k), "--threads", "1"]
    children = [
        subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        for _ in range(args.processes)
    ]
    loads = [json.loads(child.stdout.readline())["load_s"] for child in children]
    pss = [pss_bytes(child.pid) for child in children]
    for child in children:
        child.communicate("\n")
    return {"load_s": max(loads), "pss": sum(pss)}


def model_index(vectors, queries: np.ndarray, truth: np.ndarray, args) -> None:
    """The model folder's own index (``wordspace index``), through ``Vectors.nearest``."""
    index = vectors.approximate
    if index is None:
        raise SystemExit(f"{args.model} has no neighbour index: run wordspace index first")
    meta = index.meta
    for breadth in (int(b) for b in args.breadths.split(",")):
        vectors.nearest(queries[:10], args.k, exact=False, breadth=breadth)
        start = time.perf_counter()
        found = vectors.nearest(queries, args.k, exact=False, breadth=breadth)[0]
        batch_qps = len(queries) / (time.perf_counter() - start)
        start = time.perf_counter()
        for row in queries[: args.single]:
            vectors.nearest(row[None], args.k, exact=False, breadth=breadth)
        one = (time.perf_counter() - start) / args.single
        size = sum(f.stat().st_size for f in index.folder.iterdir()) / 2**20
        print(f"| model's index ({meta['library']}) | {meta['degree']} | "
              f"{meta['build_seconds']:.1f} | {size:,.0f} | {breadth} | "
              f"{recall(found, truth):.3f} | {batch_qps:,.0f} | {one * 1e3:.2f} |",
              flush=True)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", type=Path, nargs="?", help="a native model folder")
    parser.add_argument(
        "--libraries", default="faiss,usearch", help="faiss, usearch, model (its own index)"
    )
    parser.add_argument("--degrees", default="16,32", help="HNSW M / usearch connectivity")
    parser.add_argument("--breadths", default="32,64,128", help="efSearch values tried")
    parser.add_argument("--build-breadth", type=int, default=100, help="efConstruction")
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--frequent", type=int, default=50_000, help="queries drawn from")
    parser.add_argument("--single", type=int, default=200, help="queries timed one by one")
    parser.add_argument("-k", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        library, path, queries_path = args.child
        serve_child(library, Path(path), Path(queries_path), args.k, args.threads)
        return
    if args.model is None:
        parser.error("give a native model folder")

    vectors = wordspace.load(args.model)
    unit = unit_rows(np.asarray(vectors.matrix))
    rng = np.random.default_rng(0)
    picked = rng.choice(min(args.frequent, len(unit)), args.queries, replace=False)
    queries = unit[picked]
    start = time.perf_counter()
    truth = vectors.nearest(queries, args.k)[0]
    exact_qps = len(queries) / (time.perf_counter() - start)
    start = time.perf_counter()
    for row in queries[: args.single]:
        vectors.nearest(row[None], args.k)
    exact_one = (time.perf_counter() - start) / args.single
    print(f"{args.model}: {unit.shape[0]:,} x {unit.shape[1]}, {len(queries):,} queries, "
          f"k={args.k}, {args.threads} threads")  # fmt: skip
    print(f"exact (Vectors.nearest): {exact_qps:,.0f} queries/s in one batch, "
          f"{exact_one * 1e3:.2f} ms for one query")  # fmt: skip
    print("| library | degree | build (s) | file (MiB) | breadth | recall@10 | batch q/s | "
          "one query (ms) |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as scratch:
        queries_path = Path(scratch) / "queries.npy"
        np.save(queries_path, queries)
        for name in args.libraries.split(","):
            if name == "model":
                model_index(vectors, queries, truth, args)
                continue
            lib = LIBRARIES[name](args.threads)
            bare = shared_memory(name, Path("none"), queries_path, args)
            for degree in (int(d) for d in args.degrees.split(",")):
                start = time.perf_counter()
                built = lib.build(unit, degree, args.build_breadth)
                build_s = time.perf_counter() - start
                path = Path(scratch) / f"{name}-{degree}.index"
                lib.save(built, path)
                del built
                index = lib.load(path)
                size = path.stat().st_size / 2**20
                for breadth in (int(b) for b in args.breadths.split(",")):
                    lib.search(index, queries[:10], args.k, breadth)
                    start = time.perf_counter()
                    found = lib.search(index, queries, args.k, breadth)
                    batch_qps = len(queries) / (time.perf_counter() - start)
                    start = time.perf_counter()
                    for row in queries[: args.single]:
                        lib.search(index, row[None], args.k, breadth)
                    one = (time.perf_counter() - start) / args.single
                    print(f"| {name} | {degree} | {build_s:.1f} | {size:,.0f} | {breadth} | "
                          f"{recall(found, truth):.3f} | {batch_qps:,.0f} | {one * 1e3:.2f} |",
                          flush=True)  # fmt: skip
                del index
                shared = shared_memory(name, path, queries_path, args)
                held = (shared["pss"] - bare["pss"]) / 2**20
                print(f"  {args.processes} processes serving {path.name} ({size:,.0f} MiB): "
                      f"{held:,.0f} MiB PSS in all over {args.processes} bare processes, "
                      f"load + {len(queries)} queries {shared['load_s']:.2f} s",
                      flush=True)  # fmt: skip
                path.unlink()


if __name__ == "__main__":
    main()
