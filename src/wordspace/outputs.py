"""Checking where a verb will write, before it does any work.

The rules every verb that writes follows, so that no run is lost at its save and nothing a
user holds is replaced by surprise:

- a model folder may replace a wordspace model folder or an empty folder (files the user
  put in a model folder are kept); never a file or a folder holding anything else;
- a file may replace an existing file only when the user says so (``--force``), since
  nothing tells a file wordspace wrote from one the user cares about;
- the location must be writable now: a temporary is created and removed there, so that a
  read-only, immutable or missing location is refused before training, not after it.
"""

from __future__ import annotations

import os
from pathlib import Path

from wordspace.errors import OutputError
from wordspace.fileio import check_writable
from wordspace.formats.native import is_native

FILE_SUFFIXES = (".txt", ".vec", ".bin")
"""Names that ask for a file format (with or without ``.gz``); other names are folders."""


def names_folder(path: str | os.PathLike, to_format: str | None) -> bool:
    """Whether a save to ``path`` in ``to_format`` (None: from the name) writes a native
    model folder rather than a file."""
    if to_format is not None:
        return to_format == "native"
    return not Path(path).name.removesuffix(".gz").endswith(FILE_SUFFIXES)


def check_output(path: str | os.PathLike, *, folder: bool, force: bool = False) -> None:
    """Raise OutputError unless a save of a model folder (``folder=True``) or a file to
    ``path`` may go ahead under the rules above."""
    target = Path(path)
    if target.is_dir():
        if not folder:
            raise OutputError(f"{target}: is a folder; name a file to write")
        if not (is_native(target) or not any(target.iterdir())):
            raise OutputError(
                f"{target}: exists and is not a wordspace model; choose another output"
            )
    elif target.exists() or target.is_symlink():
        if folder:
            raise OutputError(f"{target}: is a file, not a model folder; choose another output")
        if not force:
            raise OutputError(f"{target}: already exists; pass --force to replace it")
    check_writable(target)
