"""Atomic saves: a file or folder is written under a temporary name, flushed to disk, then
renamed over the target, so an interrupted save (even SIGKILL) leaves the previous version
intact and loadable.

Folders are swapped with Linux's ``renameat2(RENAME_EXCHANGE)`` where available, which
replaces a non-empty folder in one atomic step; elsewhere the old folder is first renamed
aside, and ``recover_folder`` puts it back if a save died between the two renames.

Temporaries are named ``.NAME.PID-RANDOM.tmp`` beside the target. A save killed outright
cannot remove its own, so every save first removes those of ``NAME`` whose process is gone.
Saved files and folders get the permissions the umask allows, like any file a user creates.

Every failure to write (a read-only or full disk, a missing permission) is raised as one
``OutputError`` naming the target; ``check_writable`` finds most of them before a long run.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from wordspace.errors import OutputError
from wordspace.memory import describe_bytes

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2
_ASIDE_SUFFIX = ".replaced"
_TMP_SUFFIX = ".tmp"
_LEGACY_STALE_SECONDS = 3600
"""Temporaries without a process id (written by wordspace 0.1.0) count as stale after this."""


def _umask() -> int:
    """The process's umask, read without changing it where Linux allows."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _describe(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _tmp_prefix(target: Path) -> str:
    return f".{target.name}.{os.getpid()}-"


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _is_stale(entry: Path, name: str) -> bool:
    middle = entry.name[len(name) + 2 : -len(_TMP_SUFFIX)]
    pid, dash, _ = middle.partition("-")
    if dash and pid.isdigit():
        return int(pid) != os.getpid() and not _process_alive(int(pid))
    try:
        return time.time() - entry.lstat().st_mtime > _LEGACY_STALE_SECONDS
    except OSError:
        return False


def remove_stale_temporaries(path: str | os.PathLike) -> list[Path]:
    """Remove the temporaries that earlier, killed saves of ``path`` left beside it."""
    target = Path(path)
    prefix = f".{target.name}."
    removed = []
    try:
        entries = list(target.parent.iterdir())
    except OSError:
        return removed
    for entry in entries:
        if not (entry.name.startswith(prefix) and entry.name.endswith(_TMP_SUFFIX)):
            continue
        if not _is_stale(entry, target.name):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                entry.unlink()
        removed.append(entry)
    return removed


def _existing_ancestor(path: Path) -> Path:
    folder = path.absolute().parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder


def check_writable(path: str | os.PathLike) -> None:
    """Raise OutputError unless a save to ``path`` could create its temporary there.

    Probes by creating (and removing) a temporary folder in the nearest existing folder
    above ``path``: that catches missing permissions, read-only and immutable folders and
    pseudo-filesystems, which ``os.access`` does not all see (it says yes to root).
    """
    target = Path(path)
    if not target.name or target.name in (".", ".."):
        raise OutputError(f"{os.fspath(path) or '(empty path)'}: not a name to write to")
    folder = _existing_ancestor(target)
    if not folder.is_dir():
        raise OutputError(f"{target}: cannot write there ({folder} is not a folder)")
    try:
        probe = tempfile.mkdtemp(prefix=_tmp_prefix(target), suffix=_TMP_SUFFIX, dir=folder)
        os.rmdir(probe)
    except OSError as exc:
        raise OutputError(f"{target}: cannot write in {folder} ({_describe(exc)})") from None


def check_free_space(path: str | os.PathLike, needed: int, what: str) -> None:
    """Raise OutputError when the filesystem that will hold ``path`` has less than
    ``needed`` bytes free, so that a long run is refused before it starts, not at the save."""
    folder = _existing_ancestor(Path(path))
    try:
        stats = os.statvfs(folder)
    except OSError:
        return
    free = stats.f_bavail * stats.f_frsize
    if needed > free:
        raise OutputError(
            f"{path}: {what} needs about {describe_bytes(needed)} on disk but {folder} has "
            f"only {describe_bytes(free)} free"
        )


@contextlib.contextmanager
def _as_output_error(target: Path) -> Iterator[None]:
    try:
        yield
    except OutputError:
        raise
    except OSError as exc:
        raise OutputError(f"{target}: cannot write ({_describe(exc)})") from exc


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike) -> Iterator[BinaryIO]:
    """Open a temporary file beside ``path``; on success it replaces ``path`` atomically."""
    target = Path(path)
    with _as_output_error(target):
        remove_stale_temporaries(target)
        fd, tmp = tempfile.mkstemp(
            prefix=_tmp_prefix(target), suffix=_TMP_SUFFIX, dir=target.parent
        )
        try:
            os.fchmod(fd, 0o666 & ~_umask())
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
    if not target.name:
        return
    aside = target.with_name(target.name + _ASIDE_SUFFIX)
    if not target.exists() and aside.is_dir():
        os.rename(aside, target)


def _carry_over(old: Path, new: Path, owned: Callable[[str], bool]) -> None:
    """Give the new folder the files of the old one that are not the model's own (notes a
    user put there), as hard links where possible, so that replacing a model keeps them."""
    for child in old.iterdir():
        if owned(child.name) or (new / child.name).exists():
            continue
        destination = new / child.name
        if child.is_dir() and not child.is_symlink():
            shutil.copytree(child, destination, symlinks=True)
            continue
        try:
            os.link(child, destination, follow_symlinks=False)
        except OSError:
            shutil.copy2(child, destination, follow_symlinks=False)


@contextlib.contextmanager
def atomic_folder(
    path: str | os.PathLike,
    may_replace: Callable[[Path], bool] = lambda p: True,
    owned: Callable[[str], bool] | None = None,
) -> Iterator[Path]:
    """Yield a temporary folder beside ``path``; on success it replaces ``path`` atomically.

    ``may_replace(path)`` is asked before an existing folder is replaced, so that a save
    never deletes something that is not a model. With ``owned`` (which names are the
    model's files), files of the replaced folder that are not owned are kept.
    """
    target = Path(path)
    with _as_output_error(target):
        target.parent.mkdir(parents=True, exist_ok=True)
        recover_folder(target)
        remove_stale_temporaries(target)
        tmp = Path(
            tempfile.mkdtemp(prefix=_tmp_prefix(target), suffix=_TMP_SUFFIX, dir=target.parent)
        )
        try:
            os.chmod(tmp, 0o777 & ~_umask())
            yield tmp
            if owned is not None and target.is_dir():
                _carry_over(target, tmp, owned)
            for child in tmp.iterdir():
                if child.is_file() and not child.is_symlink():
                    with open(child, "rb") as handle:
                        os.fsync(handle.fileno())
            _fsync_folder(tmp)
            _replace_folder(tmp, target, may_replace)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise


def _replace_folder(tmp: Path, target: Path, may_replace: Callable[[Path], bool]) -> None:
    if not target.exists():
        os.rename(tmp, target)
        _fsync_folder(target.parent)
        return
    if not may_replace(target):
        raise OutputError(f"{target}: exists and is not a model; not replacing it")
    if _exchange(tmp, target):
        _fsync_folder(target.parent)
        shutil.rmtree(tmp)
        return
    aside = target.with_name(target.name + _ASIDE_SUFFIX)
    os.rename(target, aside)
    os.rename(tmp, target)
    _fsync_folder(target.parent)
    shutil.rmtree(aside)
