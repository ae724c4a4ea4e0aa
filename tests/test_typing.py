"""The package and the examples are clean under the type checker configured in pyproject.toml (``[tool.mypy]``).

``adapters/`` is installed as ``gnnsolve.adapters`` (a package-dir mapping that a static checker
cannot follow), so mypy runs on a tree of links shaped like the installed package.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def installed_shape(where: Path) -> Path:
    """Links under ``where`` that lay out ``gnnsolve`` as pip installs it, and the examples beside it;
    returns the package."""
    package = where / "gnnsolve"
    package.mkdir()
    for entry in (ROOT / "gnnsolve").iterdir():
        if entry.name != "__pycache__":
            (package / entry.name).symlink_to(entry)
    (package / "adapters").symlink_to(ROOT / "adapters")
    (where / "examples").symlink_to(ROOT / "examples")
    return package


@pytest.mark.skipif(importlib.util.find_spec("mypy") is None, reason="mypy is not installed (the test extra has it)")
def test_mypy_finds_nothing(tmp_path: Path) -> None:
    installed_shape(tmp_path)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--config-file",
            str(ROOT / "pyproject.toml"),
            "--cache-dir",
            str(tmp_path / ".cache"),
            "gnnsolve",
            *(f"examples/{path.name}" for path in sorted((ROOT / "examples").glob("*.py"))),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
