"""Every Python snippet of the README runs as written, from the project's root (slow: about 3 minutes)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from shared_data import DATA

ROOT = Path(__file__).resolve().parents[1]
SNIPPETS = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S)


def test_the_readme_has_snippets() -> None:
    assert len(SNIPPETS) >= 5


@pytest.mark.slow
@pytest.mark.parametrize("code", SNIPPETS, ids=[f"snippet{i}" for i in range(len(SNIPPETS))])
def test_snippet_runs(code: str, tmp_path: Path) -> None:
    if "../shared/data" in code and DATA is None:
        pytest.skip("the snippet reads the public benchmark instances, which are not in ../shared/data")
    script = tmp_path / "snippet.py"
    script.write_text(code)
    done = subprocess.run([sys.executable, str(script)], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip(), "every snippet prints what its comments say"
