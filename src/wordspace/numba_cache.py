"""Keeping numba's on-disk cache of compiled kernels consistent with the source.

numba invalidates a cached function when its own file changes, but not when a function it
calls from another file does: after an upgrade or an edit, a kernel could keep running the
old code of the functions it inlined. So the whole package's source is fingerprinted, and
cached kernels compiled from another version are removed before any kernel is loaded.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
_MARKER = "wordspace-source.fingerprint"


def _fingerprint(package: Path) -> str:
    digest = hashlib.sha1()
    for path in sorted(package.rglob("*.py")):
        digest.update(str(path.relative_to(package)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def drop_stale_kernels(package: Path = _PACKAGE) -> None:
    """Delete compiled kernels cached for a different version of the source, if any."""
    marker = package / "__pycache__" / _MARKER
    try:
        current = _fingerprint(package)
        if marker.exists() and marker.read_text() == current:
            return
        for cached in package.rglob("__pycache__/*.nb[ic]"):
            cached.unlink(missing_ok=True)
        marker.parent.mkdir(exist_ok=True)
        tmp = marker.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(current)
        os.replace(tmp, marker)
    except OSError:
        pass
