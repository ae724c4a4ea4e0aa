"""The documentation site builds with warnings as errors (needs the `docs` extra)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("sphinx")
pytest.importorskip("myst_parser")
pytest.importorskip("furo")

DOCS = Path(__file__).resolve().parent.parent / "docs"


def build(builder: str, out: Path) -> subprocess.CompletedProcess:
    out = out / builder
    # A separate process and a fresh output folder, as `sphinx-build -W --keep-going` runs it;
    # generated API stubs go to the docs tree as in a normal build.
    command = [
        sys.executable,
        "-m",
        "sphinx",
        "-W",
        "--keep-going",
        "-b",
        builder,
        "-d",
        str(out / "doctrees"),
        str(DOCS),
        str(out),
    ]
    env = {**os.environ, "GNNSOLVE_DOCS_OFFLINE": os.environ.get("GNNSOLVE_DOCS_OFFLINE", "1")}
    out.mkdir(parents=True, exist_ok=True)
    return subprocess.run(command, cwd=out, env=env, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    return tmp_path_factory.mktemp("docs")


def test_site_builds_without_warnings(out):
    result = build("html", out)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-8000:]
    assert (out / "html" / "index.html").exists()
    assert (out / "html" / "api" / "generated" / "gnnsolve.GNNSampler.html").exists()


def test_guide_examples_run(out):
    # The guides' ``{doctest}`` blocks, from a fresh environment of their own.
    result = build("doctest", out)
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-4000:]


def test_api_reference_names_every_public_name():
    import gnnsolve

    listed = (DOCS / "api" / "gnnsolve.rst").read_text()
    missing = [name for name in gnnsolve.__all__ if name != "__version__" and f"   {name}\n" not in listed]
    assert not missing, f"public names missing from docs/api/gnnsolve.rst: {missing}"


def test_api_reference_lists_every_adapter_module():
    import pkgutil

    import gnnsolve.adapters

    listed = (DOCS / "api" / "adapters.rst").read_text()
    modules = [m.name for m in pkgutil.iter_modules(gnnsolve.adapters.__path__) if not m.name.startswith("_")]
    missing = [name for name in modules if f"   {name}\n" not in listed]
    assert not missing, f"adapter modules missing from docs/api/adapters.rst: {missing}"
