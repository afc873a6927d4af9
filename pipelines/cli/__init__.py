"""The ``newsclean`` command: ``clean`` and ``explain``."""

from pipelines.cli.main import main

__all__ = ["main"]
