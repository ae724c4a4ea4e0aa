"""Every script in ``examples/`` runs its ``main()`` to the end and prints something."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

from shared_data import needs_data

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
NEEDS_DATA = {"maxcut_gset.py", "mis_and_tsp.py"}

SCRIPTS = sorted(path.name for path in EXAMPLES.glob("*.py"))


def test_every_front_door_has_an_example() -> None:
    assert {
        "qubo_and_ising.py",
        "maxcut_gset.py",
        "mis_and_tsp.py",
        "ocean_workflow.py",
        "pyomo_swap.py",
        "dynamic_sequence.py",
        "community_partial.py",
        "multicut_exact.py",
        "cqm_knapsack.py",
        "pyomo_knapsack.py",
    } <= set(SCRIPTS)


@pytest.mark.parametrize("script", [pytest.param(name, marks=needs_data) if name in NEEDS_DATA else name for name in SCRIPTS])
def test_example_runs(script: str, capsys: pytest.CaptureFixture[str]) -> None:
    namespace = runpy.run_path(str(EXAMPLES / script), run_name="example")
    assert namespace["__doc__"], f"{script} says in its docstring what it shows"
    namespace["main"]()
    printed = capsys.readouterr().out
    assert printed.strip()
    assert "skipped" not in printed
