"""What importing gnnsolve loads: the exact samplers and the command's help never load torch or PyG."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("torch", "torch_geometric", "pyomo")


def loaded_after(code: str) -> dict[str, bool]:
    """Which of :data:`HEAVY` a fresh interpreter has in ``sys.modules`` after running ``code``."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps({{m: m in sys.modules for m in {HEAVY!r}}}))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("name", ["HiGHSSampler", "GurobiSampler"])
def test_exact_samplers_load_neither_torch_nor_pyomo(name):
    assert loaded_after(f"from gnnsolve import {name}") == dict.fromkeys(HEAVY, False)


def test_help_loads_neither_torch_nor_pyomo():
    code = "import contextlib, io\nfrom gnnsolve.cli import main\nwith contextlib.redirect_stdout(io.StringIO()):\n    main(['--help'])"
    assert loaded_after(code) == dict.fromkeys(HEAVY, False)
    code = code.replace("['--help']", "['compare', '--help']")
    assert loaded_after(code) == dict.fromkeys(HEAVY, False)


def test_highs_sample_loads_no_torch():
    code = "import dimod\nfrom gnnsolve import HiGHSSampler\nHiGHSSampler().sample(dimod.generators.ran_r(1, 6, seed=0))"
    assert not loaded_after(code)["torch"]


@pytest.mark.parametrize(
    "imports",
    [
        "import gnnsolve\nimport pyomo.environ",
        "import pyomo.environ\nimport gnnsolve",
        "from pyomo.opt import SolverFactory\nimport gnnsolve",
        "import gnnsolve.adapters.pyomo_solver",
        # a spec looked up and not loaded (documentation tools probe modules so) keeps the hooks
        "import gnnsolve, importlib.util\nimportlib.util.find_spec('gnnsolve.adapters.pyomo_solver')\n"
        "importlib.util.find_spec('pyomo.opt')\nimport pyomo.environ",
    ],
)
def test_pyomo_plugin_registers_whichever_is_imported_first(imports):
    """``import gnnsolve`` registers the Pyomo solver whether Pyomo is imported before or after it."""
    code = f"{imports}\nfrom pyomo.opt import SolverFactory\nassert 'gnnsolve' in SolverFactory"
    assert loaded_after(code)["pyomo"]
