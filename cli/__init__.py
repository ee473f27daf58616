"""The ``ctcdecode-kit`` command line (a thin typer app over the public API)."""

from .app import app, main

__all__ = ["app", "main"]
