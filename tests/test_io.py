"""Reading BQM files: native dimod files, JSON serializations and COO text."""

from __future__ import annotations

import json
import math
from pathlib import Path

import dimod
import pytest
from dimod.serialization import coo

from gnnsolve.errors import FileFormatError, InvalidModelError
from gnnsolve.io import read_bqm

MIXED_LABELS = dimod.BQM({0: 1.5, "a": -1.0, (1, 2): 0.0}, {(0, "a"): 2.0, ((1, 2), "a"): -3.25}, 0.75, "SPIN")
INTEGER_LABELS = [
    dimod.BQM({0: -1.0, 1: 0.5, 4: 0.0}, {(0, 1): 2.0, (1, 4): -0.125}, 0.0, "BINARY"),
    dimod.BQM({0: 1.0, 2: -2.0}, {(0, 2): 1e-3}, 0.0, "SPIN"),
]


def write_native(bqm: dimod.BinaryQuadraticModel, path: Path) -> Path:
    path.write_bytes(bqm.to_file().read())
    return path


def write_json(bqm: dimod.BinaryQuadraticModel, path: Path) -> Path:
    path.write_text(json.dumps(bqm.to_serializable()))
    return path


def write_lines(path: Path, *lines: str) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("bqm", [MIXED_LABELS, *INTEGER_LABELS])
def test_native_file_round_trips(bqm, tmp_path):
    read = read_bqm(write_native(bqm, tmp_path / "model.bqm"))
    assert read == bqm
    assert list(read.variables) == list(bqm.variables)


@pytest.mark.parametrize("bqm", [MIXED_LABELS, *INTEGER_LABELS])
def test_json_round_trips(bqm, tmp_path):
    read = read_bqm(write_json(bqm, tmp_path / "model.json"))
    assert read == bqm
    assert list(read.variables) == list(bqm.variables)


@pytest.mark.parametrize("bqm", INTEGER_LABELS)
def test_coo_with_header_round_trips(bqm, tmp_path):
    path = tmp_path / "model.coo"
    path.write_text(coo.dumps(bqm, vartype_header=True))
    assert read_bqm(path) == bqm


def test_coo_without_header_uses_the_default_vartype(tmp_path):
    path = write_lines(tmp_path / "model.coo", "0 0 -1", "0 1 2")
    assert read_bqm(path).vartype is dimod.BINARY
    assert read_bqm(path, default_vartype="SPIN") == dimod.BQM({0: -1.0, 1: 0.0}, {(0, 1): 2.0}, 0.0, "SPIN")


def test_coo_header_wins_over_the_default(tmp_path):
    path = write_lines(tmp_path / "model.coo", "# vartype=SPIN", "0 1 1")
    assert read_bqm(path, default_vartype="BINARY").vartype is dimod.SPIN


def test_coo_accepts_exponents_comments_crlf_and_repeats(tmp_path):
    path = tmp_path / "model.coo"
    path.write_bytes(b"# a comment\r\n# vartype=BINARY\r\n\r\n0 1 1e-2\r\n 1 0  +2.5 \r\n3 3 -1.\r\n")
    assert read_bqm(path) == dimod.BQM({0: 0.0, 1: 0.0, 3: -1.0}, {(0, 1): 2.51}, 0.0, "BINARY")


@pytest.mark.parametrize(
    ("lines", "bad_line", "words"),
    [
        (["# vartype=SPIN", "0 1 1.0", "0 2 abc"], 3, "'0 2 abc'"),
        (["0 1 1.0", "0 1"], 2, "expected 'i j bias'"),
        (["0 1 1.0 7"], 1, "expected 'i j bias'"),
        (["a b 1.0"], 1, "'a b 1.0'"),
        (["0 1.5 1.0"], 1, "'0 1.5 1.0'"),
        (["0 -1 1.0"], 1, "'0 -1 1.0'"),
        (["# vartype=TERNARY", "0 1 1"], 1, "unknown vartype 'TERNARY'"),
        (["# vartype=SPIN", "0 1 1", "# vartype=BINARY"], 3, "contradicts SPIN declared on line 1"),
    ],
)
def test_malformed_coo_names_file_and_line(tmp_path, lines, bad_line, words):
    path = write_lines(tmp_path / "broken.coo", *lines)
    with pytest.raises(FileFormatError) as caught:
        read_bqm(path)
    assert caught.value.line == bad_line
    assert caught.value.path == path
    assert f"{path}, line {bad_line}:" in str(caught.value)
    assert words in str(caught.value)


def test_invalid_json_names_the_line(tmp_path):
    path = write_lines(tmp_path / "broken.json", "{", '  "type": "BinaryQuadraticModel",', "  oops", "}")
    with pytest.raises(FileFormatError) as caught:
        read_bqm(path)
    assert caught.value.line == 3
    assert "invalid JSON" in str(caught.value)


def test_json_of_something_else_is_refused(tmp_path):
    path = write_lines(tmp_path / "other.json", '{"type": "SampleSet"}')
    with pytest.raises(FileFormatError, match="not a dimod BQM serialization"):
        read_bqm(path)


def test_json_missing_fields_is_refused(tmp_path):
    serializable = MIXED_LABELS.to_serializable()
    del serializable["quadratic_head"]
    path = tmp_path / "partial.json"
    path.write_text(json.dumps(serializable))
    with pytest.raises(FileFormatError, match=f"{path}: malformed dimod BQM serialization"):
        read_bqm(path)


@pytest.mark.parametrize("keep", [12, 40, -60, -120])
def test_damaged_native_file_is_refused(tmp_path, keep):
    data = MIXED_LABELS.to_file().read()
    path = tmp_path / "damaged.bqm"
    path.write_bytes(data[:keep])
    with pytest.raises(FileFormatError, match="damaged dimod BQM file"):
        read_bqm(path)


def test_binary_garbage_is_refused(tmp_path):
    path = tmp_path / "garbage.bin"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe")
    with pytest.raises(FileFormatError, match=f"{path}: neither a dimod BQM file"):
        read_bqm(path)


def test_missing_file_is_an_os_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_bqm(tmp_path / "absent.coo")


@pytest.mark.parametrize("bias", ["nan", "inf", "-inf"])
def test_non_finite_coo_bias_is_invalid_and_names_the_line(tmp_path, bias):
    path = write_lines(tmp_path / "nan.coo", "0 0 1", f"0 1 {bias}")
    with pytest.raises(InvalidModelError, match=f"{path}, line 2: bias"):
        read_bqm(path)


def test_non_finite_json_bias_is_invalid(tmp_path):
    serializable = MIXED_LABELS.to_serializable()
    serializable["linear_biases"][0] = math.nan
    path = tmp_path / "nan.json"
    path.write_text(json.dumps(serializable))
    with pytest.raises(InvalidModelError, match="finite"):
        read_bqm(path)


def test_non_finite_native_offset_is_invalid(tmp_path):
    bqm = dimod.BQM({0: 1.0}, {}, math.inf, "SPIN")
    with pytest.raises(InvalidModelError, match=f"{tmp_path}.*offset"):
        read_bqm(write_native(bqm, tmp_path / "inf.bqm"))
