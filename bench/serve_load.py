"""Load test of `wordspace serve` over loopback against gensim ``KeyedVectors`` loaded per
worker behind the same app shape (what users run today): concurrent clients for a bounded
time and request count, requests/s and p50/p99 latency per endpoint, 5xx count, and the
servers' total memory (PSS, which splits shared pages between the processes mapping them)
against one copy of the model.

    python bench/serve_load.py MODEL_FOLDER --seconds 60 --clients 16 --workers 2

The gensim baseline loads ``MODEL_FOLDER`` exported as word2vec binary into each worker
(``KeyedVectors.load_word2vec_format``), and answers ``/v1/similar`` with ``most_similar``
and ``/v1/vectors`` by indexing.

Clients: with ``wrk`` (Debian's package; ``--wrk PATH``) each endpoint is loaded in turn for
a third of ``--seconds`` by wrk's C event loop (2 threads, ``--clients`` connections, bodies
drawn from a table of random queries), which costs the 2 cores little; ``/v1/similar`` is
loaded once exact and once through the model's neighbour index when it has one, and any
non-2xx answer counts as an error. Without wrk, asyncio + httpx clients run in this process,
and on 2 cores they take much of the CPU the servers would have.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import shutil
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


WRK_SCRIPT = """
local bodies = {%s}
local path = "%s"
local n = 0
request = function()
    n = n + 1
    return wrk.format("POST", path, {["Content-Type"] = "application/json"},
                      bodies[(n %% #bodies) + 1])
end
"""


def _lua_string(text: str) -> str:
    return "[==[" + text + "]==]"


def _bodies(path: str, words: list[str], exact: bool | None, count: int = 4000) -> list[str]:
    rng = np.random.default_rng(0)
    if path == "/v1/vectors":
        return [
            json.dumps({"words": [str(w) for w in rng.choice(words, 10)]}) for _ in range(count)
        ]
    extra = {} if exact is None else {"exact": exact}
    return [
        json.dumps({"positive": [str(rng.choice(words))], "k": 10, **extra}) for _ in range(count)
    ]


def _milliseconds(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(value) * {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}[unit]


def wrk_load(
    wrk: str, port: int, path: str, bodies: list[str], seconds: float, clients: int
) -> dict:
    """One wrk run against ``path``: requests/s, p50/p99 (ms), non-2xx answers, timeouts."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT % (",".join(map(_lua_string, bodies)), path))
    try:
        output = subprocess.run(
            [wrk, "-t2", f"-c{clients}", f"-d{max(1, round(seconds))}s", "--latency",
             "--timeout", "60s", "-s", script.name, f"http://127.0.0.1:{port}"],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
    finally:
        os.unlink(script.name)
    percentiles = dict(re.findall(r"^\s+(50|99)%\s+(\S+)\s*$", output, re.M))
    if {"50", "99"} - percentiles.keys():
        raise SystemExit(f"wrk gave no latency figures:\n{output}")
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    timeouts = re.search(r"timeout (\d+)", output)
    return {
        "rate": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "p50": _milliseconds(percentiles["50"]), "p99": _milliseconds(percentiles["99"]),
        "errors": int(errors.group(1)) if errors else 0,
        "timeouts": int(timeouts.group(1)) if timeouts else 0,
        "requests": int(re.search(r"(\d+) requests in", output).group(1)),
    }  # fmt: skip


def wrk_rows(name: str, wrk: str, port: int, words: list[str], args, pid: int, indexed: bool):
    """Load each endpoint in turn; one table row per endpoint."""
    runs = [("/v1/similar", True if indexed else None, "exact")]
    if indexed:
        runs.append(("/v1/similar", False, "neighbour index"))
    runs.append(("/v1/vectors", None, "10 words"))
    seconds = args.seconds / len(runs)
    for path, exact, how in runs:
        found = wrk_load(wrk, port, path, _bodies(path, words, exact), seconds, args.clients)
        print(
            f"| {name} | {path} ({how}) | {found['rate']:,.0f} | {found['p50']:.1f} | "
            f"{found['p99']:.1f} | {found['requests']:,} | {found['errors'] + found['timeouts']} "
            f"| {pss_bytes(pid) / 2**20:,.0f} MiB |",
            flush=True,
        )


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
    parser.add_argument("--wrk", default=shutil.which("wrk"), help="wrk binary [on PATH]")
    args = parser.parse_args()
    vectors = wordspace.load(args.model)
    words = vectors.words[: args.words]
    model_bytes = vectors.matrix.nbytes
    print(
        f"{args.model}: {len(vectors):,} x {vectors.dim} ({model_bytes / 2**20:,.0f} MiB "
        f"of vectors); {args.clients} clients, {args.seconds:.0f} s, {args.workers} workers"
    )
    if args.wrk:
        print("| server | endpoint | req/s | p50 (ms) | p99 (ms) | requests | non-2xx or "
              "timeouts | servers' PSS |\n|---|---|---|---|---|---|---|---|")  # fmt: skip
    else:
        print("| server | /v1/similar | /v1/vectors | 5xx or timeouts | servers' PSS |")
        print("|---|---|---|---|---|")
    indexed = vectors.approximate is not None
    env = dict(os.environ)
    port = _free_port()
    command = [
        sys.executable, "-m", "wordspace.cli", "serve", str(args.model), "--port", str(port),
        "--workers", str(args.workers), "--no-access-log", "--preload",
    ]  # fmt: skip
    with server(command, env, port) as process:
        if args.wrk:
            wrk_rows("wordspace serve", args.wrk, port, words, args, process.pid, indexed)
        else:
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
            name = "gensim KeyedVectors per worker"
            if args.wrk:
                wrk_rows(name, args.wrk, port, words, args, process.pid, False)
            else:
                result = asyncio.run(
                    load(port, words, args.seconds, args.clients, args.max_requests)
                )
                print(_row(name, result, pss_bytes(process.pid)))


if __name__ == "__main__":
    main()
