"""Reading the text files of benchmark formats: numbered, stripped, non-blank lines."""

from __future__ import annotations

from pathlib import Path

from gnnsolve.errors import FileFormatError

__all__ = ["numbered_lines"]


def numbered_lines(path: Path) -> list[tuple[int, str]]:
    """The non-blank lines of a text file, stripped, with their 1-based line numbers."""
    with open(path, encoding="utf-8") as handle:
        try:
            return [(number, line.strip()) for number, line in enumerate(handle, start=1) if line.strip()]
        except UnicodeDecodeError as err:
            raise FileFormatError(path, f"not a text file ({err.reason})") from None
