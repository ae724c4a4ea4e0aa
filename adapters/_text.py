"""Reading the text files of benchmark formats: numbered, stripped, non-blank lines."""

from __future__ import annotations

import io
from pathlib import Path

from gnnsolve.errors import FileFormatError
from gnnsolve.io import file_bytes

__all__ = ["numbered_lines"]


def numbered_lines(path: Path) -> list[tuple[int, str]]:
    """The non-blank lines of a text file, stripped, with their 1-based line numbers.

    Raises:
        FileFormatError: the path is a directory, the file is empty (0 bytes) or not UTF-8 text.
        OSError: the file does not exist or cannot be opened.
    """
    try:
        text = file_bytes(path).decode("utf-8")
    except UnicodeDecodeError as err:
        raise FileFormatError(path, f"not a text file ({err.reason})") from None
    lines = io.StringIO(text, newline=None)  # line ends as a text-mode file sees them
    return [(number, line.strip()) for number, line in enumerate(lines, start=1) if line.strip()]
