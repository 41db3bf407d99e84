"""How much memory this process may still use, so that loaders can refuse politely.

The kernel's OOM killer gives no message; a container's cgroup limit is often far below
the machine's RAM. Before reading a format that must live in RAM, loaders call
``ensure_available`` and get one clear line instead of a killed process.
"""

from __future__ import annotations

import os
from pathlib import Path

from wordspace.errors import InsufficientMemoryError

_GIB = 1 << 30
_MIB = 1 << 20
DISABLE_ENV = "WORDSPACE_SKIP_MEMORY_CHECK"


def _read_int(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    if not text or text == "max":
        return None
    try:
        return int(text)
    except ValueError:
        return None


def _meminfo_available(meminfo: Path) -> int | None:
    try:
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _cgroup_headroom(root: Path) -> int | None:
    """Bytes left under this process's cgroup memory limit (v2, then v1), if one is set."""
    v2_limit = _read_int(root / "memory.max")
    if v2_limit is not None:
        used = _read_int(root / "memory.current") or 0
        return max(v2_limit - used, 0)
    v1 = root / "memory"
    v1_limit = _read_int(v1 / "memory.limit_in_bytes")
    if v1_limit is not None and v1_limit < (1 << 60):
        used = _read_int(v1 / "memory.usage_in_bytes") or 0
        return max(v1_limit - used, 0)
    return None


def available_bytes(
    meminfo: Path = Path("/proc/meminfo"), cgroup: Path = Path("/sys/fs/cgroup")
) -> int | None:
    """The smaller of MemAvailable and the cgroup headroom; None where neither is known."""
    known = [v for v in (_meminfo_available(meminfo), _cgroup_headroom(cgroup)) if v is not None]
    return min(known) if known else None


def describe_bytes(n: float) -> str:
    return f"{n / _GIB:.1f} GiB" if n >= _GIB else f"{n / _MIB:.0f} MiB"


def ensure_available(needed: int, what: str, *, suggestion: str = "") -> None:
    """Raise InsufficientMemoryError when ``needed`` bytes exceed what is available.

    Set the environment variable WORDSPACE_SKIP_MEMORY_CHECK=1 to skip the check.
    """
    if os.environ.get(DISABLE_ENV):
        return
    available = available_bytes()
    if available is None or needed <= available:
        return
    advice = f"; {suggestion}" if suggestion else ""
    raise InsufficientMemoryError(
        f"{what}: needs {describe_bytes(needed)} of memory but only "
        f"{describe_bytes(available)} is available{advice}"
    )


def available_cpus() -> int:
    """CPUs this process may run on (the default number of worker threads)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1
