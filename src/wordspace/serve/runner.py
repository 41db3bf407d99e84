"""``wordspace serve``: check the model once, then run the app under uvicorn, in one process
or in several worker processes that each map the same model files (one copy in memory,
shared through the page cache)."""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
from pathlib import Path

from wordspace.errors import ParameterError, WordspaceError
from wordspace.formats import detect_format, load_model
from wordspace.formats.files import model_path
from wordspace.memory import ensure_available
from wordspace.serve.limits import Limits

APP = "wordspace.serve.app:app_from_environment"
"""The app factory each worker process imports."""
MAX_WORKERS = 64


def check_servable(path: str | os.PathLike, workers: int) -> str:
    """Refuse, before any worker starts, a model that cannot be served: unreadable, or
    (a format read into memory, not mapped) one whose copies in every worker would not fit.
    Returns its format."""
    fmt = detect_format(path)
    if fmt == "native":
        load_model(path)
        return fmt
    size = model_path(path).stat().st_size
    ensure_available(
        size * workers,
        f"{path}: {workers} worker(s) each reading this {fmt} model into memory",
        suggestion="convert it once with `wordspace convert MODEL FOLDER` and serve the "
        "folder, which every worker maps (one copy)",
    )
    return fmt


def serve(
    path: str | os.PathLike,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = 1,
    limits: Limits | None = None,
    preload: bool = False,
    access_log: bool = True,
) -> None:
    """Serve the model at ``path`` until interrupted (SIGINT or SIGTERM end it gracefully:
    requests in flight are answered first)."""
    try:
        import fastapi  # noqa: F401  (the app's framework: missing, the workers could not start)
        import uvicorn
    except ImportError:
        raise WordspaceError(
            "wordspace serve needs FastAPI and uvicorn: pip install 'wordspace[serve]'"
        ) from None
    if not 1 <= workers <= MAX_WORKERS:
        raise ParameterError(f"workers must be between 1 and {MAX_WORKERS}, got {workers}")
    if not 0 <= port <= 65535:
        raise ParameterError(f"port must be between 0 and 65535, got {port}")
    check_servable(path, workers)
    limits = limits or Limits()
    os.environ["WORDSPACE_SERVE_MODEL"] = str(Path(path).resolve())
    os.environ["WORDSPACE_SERVE_LIMITS"] = ",".join(
        f"{name}={value}" for name, value in limits.as_dict().items()
    )
    os.environ["WORDSPACE_SERVE_PRELOAD"] = "1" if preload else "0"
    metrics_dir = None
    if workers > 1:
        metrics_dir = tempfile.mkdtemp(prefix="wordspace-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    # uvicorn shuts down gracefully on SIGINT and SIGTERM, then raises the signal again
    # for the handlers it found: a stop the user asked for ends here, with status 0
    previous = {sig: signal.signal(sig, _stopped) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        uvicorn.run(
            APP, factory=True, host=host, port=port, workers=workers, access_log=access_log,
            timeout_graceful_shutdown=10,
        )  # fmt: skip
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)


def _stopped(signum: int, frame: object) -> None:
    """The signal that stopped the server, raised again once it has shut down."""
