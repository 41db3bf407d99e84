"""The exceptions wordspace raises on purpose.

Every message is one line that names the file, line or parameter at fault and, where it
helps, what to do about it; the CLI prints it as is and exits with status 2.
"""

from __future__ import annotations


class WordspaceError(Exception):
    """Base class of every error wordspace raises deliberately."""


class ParameterError(WordspaceError, ValueError):
    """A hyperparameter or option has a value that cannot work."""


class InputError(WordspaceError):
    """Training or evaluation input is missing, unreadable or unusable."""


class ModelFileError(WordspaceError):
    """A model file or folder is missing, corrupt or of a foreign format."""


class NotFittedError(WordspaceError):
    """A model was queried or saved before it was trained or loaded."""


class InsufficientMemoryError(WordspaceError, MemoryError):
    """Loading would need more memory than the machine or container has available."""


class OutputError(WordspaceError):
    """An output cannot be written, or writing it would replace something it must not."""


class TrainingDivergedError(WordspaceError):
    """Training produced non-finite loss or weights; nothing was saved."""
