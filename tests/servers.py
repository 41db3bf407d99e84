"""A real `wordspace serve` process on a free loopback port, for the tests that talk to it."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import socket
import subprocess
import sys
import time

import httpx


def _free_port() -> int:
    """A free loopback port that no other test process (pytest-xdist worker) can pick: each
    worker draws from its own range below the kernel's ephemeral ports (a probe on port 0 is
    closed before the server binds, so two workers could pick the same port, and one's
    client would talk to the other's server)."""
    worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
    first = 20_000 + 500 * (worker % 24)
    for port in random.Random().sample(range(first, first + 500), 500):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    raise AssertionError(f"no free port in {first}-{first + 499}")


@contextlib.contextmanager
def running(model, *options: str):
    """A `wordspace serve` process answering on a free port: (client, process)."""
    port = _free_port()
    command = [sys.executable, "-m", "wordspace.cli", "serve", str(model), "--port", str(port)]
    process = subprocess.Popen(
        [*command, "--no-access-log", *options], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
    try:
        deadline = time.monotonic() + 90
        while True:
            if process.poll() is not None:
                raise AssertionError(process.stderr.read().decode())
            with contextlib.suppress(httpx.TransportError):
                if client.get("/healthz").status_code == 200:
                    break
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)
        yield client, process
    finally:
        client.close()
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(30)
