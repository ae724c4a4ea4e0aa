"""The code is clean under the linter and the formatter configured in pyproject.toml (``[tool.ruff]``)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

needs_ruff = pytest.mark.skipif(importlib.util.find_spec("ruff") is None, reason="ruff is not installed (the test extra has it)")


def _ruff(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ruff", *arguments, "--no-cache", str(ROOT)], capture_output=True, text=True, cwd=ROOT, timeout=300
    )


@needs_ruff
def test_ruff_finds_nothing() -> None:
    done = _ruff("check")
    assert done.returncode == 0, done.stdout + done.stderr


@needs_ruff
def test_code_is_in_ruff_format() -> None:
    done = _ruff("format", "--check")
    assert done.returncode == 0, "run `ruff format .`:\n" + done.stdout + done.stderr
