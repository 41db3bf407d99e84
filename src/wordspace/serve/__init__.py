"""The HTTP service (the optional extra ``wordspace[serve]``): ``create_app(path)`` gives
the ASGI app of one model for a user's own stack; ``wordspace serve`` runs it under uvicorn
with several worker processes that all map the same model files."""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from wordspace.serve.app import create_app

        return create_app
    raise AttributeError(f"module 'wordspace.serve' has no attribute {name!r}")


__all__ = ["create_app"]
