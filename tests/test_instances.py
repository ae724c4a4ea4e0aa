"""Built-in instances: their stated optima are proven here, by exact solvers or dynamic programming."""

from __future__ import annotations

import numpy as np
import pytest

from gnnsolve import HiGHSSampler
from gnnsolve.adapters.graphs import MaxCut, MaxIndependentSet
from gnnsolve.instances import (
    BUILTIN_MAXCUT_OPTIMUM,
    BUILTIN_MIS_OPTIMUM,
    BUILTIN_TSP_OPTIMUM,
    builtin_instance,
    builtin_regular_graph,
    builtin_tsp_coordinates,
)
from shared_data import held_karp


def test_builtin_tsp_optimum_is_proven_by_dynamic_programming():
    xy = builtin_tsp_coordinates()
    D = np.hypot(*(xy[:, None] - xy[None]).transpose(2, 0, 1))
    assert held_karp(D) == pytest.approx(BUILTIN_TSP_OPTIMUM, rel=1e-12)


def test_builtin_graph_optima_are_proven_by_highs():
    graph = builtin_regular_graph()
    cut, sampleset = MaxCut(graph).solve(HiGHSSampler(), time_limit=60)
    assert sampleset.info["status"] == "optimal" and cut.objective == BUILTIN_MAXCUT_OPTIMUM
    independent, sampleset = MaxIndependentSet(graph).solve(HiGHSSampler(), time_limit=60)
    assert sampleset.info["status"] == "optimal" and independent.objective == BUILTIN_MIS_OPTIMUM


@pytest.mark.parametrize("kind", ["bqm", "maxcut", "mis", "tsp"])
def test_every_kind_has_a_builtin_instance_with_its_problem(kind):
    instance = builtin_instance(kind)
    assert instance.problem is not None and instance.problem.bqm is instance.bqm
    assert instance.optimum is not None


def test_unknown_kind_is_named():
    with pytest.raises(ValueError, match="unknown problem kind 'qap'"):
        builtin_instance("qap")
