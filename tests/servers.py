"""A real `wordspace serve` process on a free loopback port, for the tests that talk to it."""

from __future__ import annotations

import contextlib
import signal
import socket
import subprocess
import sys
import time

import httpx


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


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
