"""Atomic saves: a file or folder is written under a temporary name, flushed to disk, then
renamed over the target, so an interrupted save (even SIGKILL) leaves the previous version
intact and loadable.

Folders are swapped with Linux's ``renameat2(RENAME_EXCHANGE)`` where available, which
replaces a non-empty folder in one atomic step; elsewhere the old folder is first renamed
aside, and ``recover_folder`` puts it back if a save died between the two renames.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2
_ASIDE_SUFFIX = ".replaced"


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike) -> Iterator[BinaryIO]:
    """Open a temporary file beside ``path``; on success it replaces ``path`` atomically."""
    target = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
        _fsync_folder(target.parent)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _exchange(a: Path, b: Path) -> bool:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    result = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    return result == 0


def recover_folder(path: str | os.PathLike) -> None:
    """Restore a folder that a save interrupted between renaming it aside and replacing it."""
    target = Path(path)
    aside = target.with_name(target.name + _ASIDE_SUFFIX)
    if not target.exists() and aside.is_dir():
        os.rename(aside, target)


@contextlib.contextmanager
def atomic_folder(
    path: str | os.PathLike, may_replace: Callable[[Path], bool] = lambda p: True
) -> Iterator[Path]:
    """Yield a temporary folder beside ``path``; on success it replaces ``path`` atomically.

    ``may_replace(path)`` is asked before an existing folder is replaced, so that a save
    never deletes something that is not a model.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    recover_folder(target)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        yield tmp
        for child in tmp.iterdir():
            with open(child, "rb") as handle:
                os.fsync(handle.fileno())
        _fsync_folder(tmp)
        if target.exists():
            if not may_replace(target):
                raise FileExistsError(f"{target}: exists and is not a model; not replacing it")
            if _exchange(tmp, target):
                _fsync_folder(target.parent)
                shutil.rmtree(tmp)
                return
            aside = target.with_name(target.name + _ASIDE_SUFFIX)
            os.rename(target, aside)
            os.rename(tmp, target)
            _fsync_folder(target.parent)
            shutil.rmtree(aside)
        else:
            os.rename(tmp, target)
            _fsync_folder(target.parent)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
