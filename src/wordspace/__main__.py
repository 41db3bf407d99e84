"""``python -m wordspace``: the same command as ``wordspace``."""

from wordspace.cli import main

main()
