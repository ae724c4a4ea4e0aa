"""Read a binary quadratic model from a file, whichever of dimod's formats it is in.

* dimod's native file (:meth:`dimod.BinaryQuadraticModel.to_file`), recognised by its
  ``DIMODBQM`` prefix;
* JSON of :meth:`dimod.BinaryQuadraticModel.to_serializable`, recognised by a leading ``{``;
* otherwise COO text as written by :mod:`dimod.serialization.coo`: ``i j bias`` per line with
  integer labels (``i i bias`` is a linear bias), ``#`` comments, and an optional
  ``# vartype=SPIN`` or ``# vartype=BINARY`` header. Unlike dimod's reader, which skips lines it
  does not match, every line is checked, so a typo is an error naming its line rather than a
  silently different model.

Example:
    >>> import pathlib, tempfile, dimod
    >>> from gnnsolve.io import read_bqm
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "model.coo"
    >>> _ = path.write_text("# vartype=SPIN\\n0 0 -1.0\\n0 1 2.5e-1\\n")
    >>> read_bqm(path)
    BinaryQuadraticModel({0: -1.0, 1: 0.0}, {(1, 0): 0.25}, 0.0, 'SPIN')
"""

from __future__ import annotations

import io
import json
import math
import os
import re
from pathlib import Path

import dimod

from gnnsolve.errors import FileFormatError, InvalidModelError
from gnnsolve.qubo import check_finite

__all__ = ["read_bqm", "file_bytes"]

_NATIVE_MAGIC = b"DIMODBQM"
_VARTYPE_HEADER = re.compile(r"^\s*#.*?vartype[:=]\s*([-_.a-zA-Z0-9]+)")


def read_bqm(
    path: str | os.PathLike, default_vartype: dimod.typing.VartypeLike = dimod.Vartype.BINARY
) -> dimod.BinaryQuadraticModel:
    """Read a BQM from a native dimod file, a JSON serialization or COO text.

    Args:
        path: the file.
        default_vartype: the vartype of COO text without a ``# vartype=`` header.

    Raises:
        FileFormatError: the file is not a well-formed BQM in any of the formats; the message
            names the file and, for text formats, the line.
        InvalidModelError: a bias or the offset is NaN or infinite.
        OSError: the file cannot be opened.
    """
    path = Path(path)
    data = file_bytes(path)
    if data.startswith(_NATIVE_MAGIC):
        bqm = _read_native(path, data)
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as err:
            raise FileFormatError(
                path, f"neither a dimod BQM file (no {_NATIVE_MAGIC.decode()} prefix) nor text ({err.reason})"
            ) from None
        if text.lstrip().startswith("{"):
            bqm = _read_json(path, text)
        else:
            bqm = _read_coo(path, text, dimod.as_vartype(default_vartype))
    try:
        check_finite(bqm)
    except InvalidModelError as err:
        raise InvalidModelError(f"{path}: {err}") from None
    return bqm


def file_bytes(path: str | os.PathLike) -> bytes:
    """The contents of a data file, refusing what cannot hold a model: a directory or 0 bytes.

    Raises:
        FileFormatError: ``path`` is a directory or an empty file.
        OSError: the file does not exist or cannot be opened.

    Example:
        >>> import pathlib, tempfile
        >>> folder = pathlib.Path(tempfile.mkdtemp())
        >>> file_bytes(folder)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        gnnsolve.errors.FileFormatError: ...: a directory, not a file
    """
    path = Path(path)
    if path.is_dir():
        raise FileFormatError(path, "a directory, not a file")
    data = path.read_bytes()
    if not data:
        raise FileFormatError(path, "the file is empty (0 bytes)")
    return data


def _read_native(path: Path, data: bytes) -> dimod.BinaryQuadraticModel:
    try:
        return dimod.BinaryQuadraticModel.from_file(io.BytesIO(data))
    except Exception as err:  # dimod's reader fails in many ways on a damaged file
        raise FileFormatError(path, f"damaged dimod BQM file ({type(err).__name__}: {err})") from None


def _read_json(path: Path, text: str) -> dimod.BinaryQuadraticModel:
    try:
        serializable = json.loads(text)
    except json.JSONDecodeError as err:
        raise FileFormatError(path, f"invalid JSON: {err.msg} (column {err.colno})", err.lineno) from None
    if not isinstance(serializable, dict) or serializable.get("type") != "BinaryQuadraticModel":
        raise FileFormatError(path, 'JSON is not a dimod BQM serialization (its "type" must be "BinaryQuadraticModel")')
    try:
        return dimod.BinaryQuadraticModel.from_serializable(serializable)
    except Exception as err:  # missing keys, wrong lengths, bad types: all a malformed file
        raise FileFormatError(path, f"malformed dimod BQM serialization ({type(err).__name__}: {err})") from None


def _read_coo(path: Path, text: str, default_vartype: dimod.Vartype) -> dimod.BinaryQuadraticModel:
    declared: tuple[dimod.Vartype, int] | None = None
    triplets: list[tuple[int, int, float]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("#"):
            header = _VARTYPE_HEADER.match(stripped)
            if header:
                declared = _declared_vartype(path, number, header.group(1), declared)
            continue
        triplets.append(_coo_triplet(path, number, stripped))
    bqm = dimod.BinaryQuadraticModel(declared[0] if declared else default_vartype)
    for u, v, bias in triplets:
        if u == v:
            bqm.add_linear(u, bias)
        else:
            bqm.add_quadratic(u, v, bias)
    return bqm


def _declared_vartype(
    path: Path, number: int, name: str, previous: tuple[dimod.Vartype, int] | None
) -> tuple[dimod.Vartype, int]:
    try:
        # any name is tried, not only a VartypeLike: dimod refuses one it does not know
        vartype = dimod.as_vartype(name.upper())  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise FileFormatError(path, f"unknown vartype {name!r}; use SPIN or BINARY", number) from None
    if previous is not None and previous[0] is not vartype:
        raise FileFormatError(
            path, f"vartype {vartype.name} contradicts {previous[0].name} declared on line {previous[1]}", number
        )
    return vartype, number


def _coo_triplet(path: Path, number: int, line: str) -> tuple[int, int, float]:
    tokens = line.split()
    expected = "expected 'i j bias' (two non-negative integer labels and a number)"
    if len(tokens) != 3:
        raise FileFormatError(path, f"{expected}, found {line!r}", number)
    try:
        u, v, bias = int(tokens[0]), int(tokens[1]), float(tokens[2])
    except ValueError:
        raise FileFormatError(path, f"{expected}, found {line!r}", number) from None
    if u < 0 or v < 0:
        raise FileFormatError(path, f"{expected}, found {line!r}", number)
    if not math.isfinite(bias):
        raise InvalidModelError(f"{path}, line {number}: bias {bias} is not finite; every bias must be finite")
    return u, v, bias
