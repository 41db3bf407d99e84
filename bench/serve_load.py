"""Load test of `wordspace serve` over loopback against gensim ``KeyedVectors`` loaded per
worker behind the same app shape (what users run today): concurrent clients for a bounded
time and request count, requests/s and p50/p99 latency per endpoint, 5xx count, and the
servers' total memory (PSS, which splits shared pages between the processes mapping them)
against one copy of the model.

    python bench/serve_load.py MODEL_FOLDER --seconds 60 --clients 16 --workers 2

The gensim baseline loads ``MODEL_FOLDER`` exported as word2vec binary into each worker
(``KeyedVectors.load_word2vec_format``), and answers ``/v1/similar`` with ``most_similar``
and ``/v1/vectors`` by indexing. Clients run in this process (asyncio + httpx) on the same
machine as the servers, so on 2 cores the figures are a floor of what a server does alone.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

import wordspace

BASELINE_APP = """
import os
import numpy as np
from fastapi import FastAPI
from gensim.models import KeyedVectors

def create():
    kv = KeyedVectors.load_word2vec_format(os.environ["BASELINE_MODEL"], binary=True)
    app = FastAPI()

    @app.get("/healthz")
    def healthz():
        return {"status": "ok"}

    @app.post("/v1/similar")
    def similar(body: dict):
        found = kv.most_similar(positive=body["positive"], topn=body.get("k", 10))
        return {"results": [{"word": w, "score": float(s)} for w, s in found]}

    @app.post("/v1/vectors")
    def vectors(body: dict):
        return {"vectors": kv[body["words"]].tolist()}

    return app
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _tree(pid: int) -> list[int]:
    children = subprocess.run(
        ["pgrep", "-P", str(pid)], capture_output=True, text=True
    ).stdout.split()
    return [pid, *(p for child in children for p in _tree(int(child)))]


def pss_bytes(pid: int) -> int:
    """Proportional set size of a process and its descendants."""
    total = 0
    for process in _tree(pid):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{process}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1]) * 1024
    return total


@contextlib.contextmanager
def server(command: list[str], env: dict[str, str], port: int):
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 600
        while True:
            if process.poll() is not None:
                raise SystemExit(process.stderr.read().decode())
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise SystemExit("the server did not start in 10 minutes")
            time.sleep(0.5)
        yield process
    finally:
        process.terminate()
        process.wait(60)


async def load(port: int, words: list[str], seconds: float, clients: int, most: int) -> dict:
    """Run ``clients`` loops of alternating /v1/similar and /v1/vectors requests."""
    rng = np.random.default_rng(0)
    latencies: dict[str, list[float]] = {"/v1/similar": [], "/v1/vectors": []}
    statuses: dict[int, int] = {}
    end = time.monotonic() + seconds
    sent = 0

    async def client(index: int) -> None:
        nonlocal sent
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
            turn = index
            while time.monotonic() < end and sent < most:
                sent += 1
                turn += 1
                if turn % 2:
                    path, body = "/v1/similar", {"positive": [str(rng.choice(words))], "k": 10}
                else:
                    path, body = "/v1/vectors", {"words": [str(w) for w in rng.choice(words, 10)]}
                start = time.perf_counter()
                try:
                    response = await http.post(path, json=body)
                    code = response.status_code
                except httpx.TimeoutException:
                    code = 0  # no answer within the client's timeout
                latencies[path].append(time.perf_counter() - start)
                statuses[code] = statuses.get(code, 0) + 1

    began = time.monotonic()
    await asyncio.gather(*(client(i) for i in range(clients)))
    elapsed = time.monotonic() - began
    return {"elapsed": elapsed, "latencies": latencies, "statuses": statuses}


def _row(name: str, result: dict, pss: int) -> str:
    parts = [name]
    for path in ("/v1/similar", "/v1/vectors"):
        times = sorted(result["latencies"][path])
        rate = len(times) / result["elapsed"]
        p50 = 1000 * statistics.median(times)
        p99 = 1000 * times[min(len(times) - 1, int(0.99 * len(times)))]
        parts.append(f"{rate:,.0f} req/s, p50 {p50:.1f} ms, p99 {p99:.1f} ms")
    errors = sum(n for code, n in result["statuses"].items() if code >= 500 or code == 0)
    parts += [str(errors), f"{pss / 2**20:,.0f} MiB"]
    return "| " + " | ".join(parts) + " |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", type=Path, help="a native word model folder")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--max-requests", type=int, default=200_000)
    parser.add_argument("--words", type=int, default=50_000, help="query among the N first")
    parser.add_argument("--skip-gensim", action="store_true")
    args = parser.parse_args()
    vectors = wordspace.load(args.model)
    words = vectors.words[: args.words]
    model_bytes = vectors.matrix.nbytes
    print(
        f"{args.model}: {len(vectors):,} x {vectors.dim} ({model_bytes / 2**20:,.0f} MiB "
        f"of vectors); {args.clients} clients, {args.seconds:.0f} s, {args.workers} workers"
    )
    print("| server | /v1/similar | /v1/vectors | 5xx or timeouts | servers' PSS |")
    print("|---|---|---|---|---|")
    env = dict(os.environ)
    port = _free_port()
    command = [
        sys.executable, "-m", "wordspace.cli", "serve", str(args.model), "--port", str(port),
        "--workers", str(args.workers), "--no-access-log", "--preload",
    ]  # fmt: skip
    with server(command, env, port) as process:
        result = asyncio.run(load(port, words, args.seconds, args.clients, args.max_requests))
        print(_row("wordspace serve", result, pss_bytes(process.pid)), flush=True)
    if args.skip_gensim:
        return
    with tempfile.TemporaryDirectory() as folder:
        exported = Path(folder) / "vectors.bin"
        wordspace.export(vectors, exported, "word2vec-bin")
        (Path(folder) / "baseline_app.py").write_text(BASELINE_APP)
        port = _free_port()
        env = {**os.environ, "BASELINE_MODEL": str(exported)}
        command = [
            sys.executable, "-m", "uvicorn", "baseline_app:create", "--factory", "--app-dir",
            folder, "--port", str(port), "--workers", str(args.workers), "--no-access-log",
        ]  # fmt: skip
        with server(command, env, port) as process:
            result = asyncio.run(load(port, words, args.seconds, args.clients, args.max_requests))
            print(_row("gensim KeyedVectors per worker", result, pss_bytes(process.pid)))


if __name__ == "__main__":
    main()
