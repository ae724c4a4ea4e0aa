"""The sampler registry: names, lookup, availability, keyword translation and size limits."""

from __future__ import annotations

import importlib.util
import math
import time

import dimod
import networkx as nx
import pytest

from gnnsolve.errors import MissingDependencyError, ModelTooLargeError, UnknownSamplerError
from gnnsolve.registry import (
    STEEPEST_SPARSE_FROM,
    TABU_MAX_VARIABLES,
    check_model_size,
    get_sampler,
    is_available,
    sample_kwargs,
    sampler_names,
    sampler_spec,
)

DWAVE_SAMPLERS = ["sa", "tabu", "steepest"]
GNNSOLVE_SAMPLERS = ["gnn", "highs", "gurobi"]


@pytest.fixture
def small_bqm() -> dimod.BinaryQuadraticModel:
    return dimod.generators.ran_r(1, 8, seed=1)


@pytest.fixture
def without_gurobipy(monkeypatch: pytest.MonkeyPatch) -> None:
    real_find_spec = importlib.util.find_spec

    def find_spec(name: str, *args: object):
        return None if name == "gurobipy" else real_find_spec(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)


def test_names_in_table_order():
    assert sampler_names()[:13] == [
        "gnn",
        "dyco",
        "clusternet",
        "multicut",
        "sa",
        "tabu",
        "steepest",
        "highs",
        "gurobi",
        "louvain",
        "leiden",
        "gonzalez",
        "elf",
    ]


@pytest.mark.parametrize("name", sampler_names())
def test_every_sampler_is_described(name):
    spec = sampler_spec(name)
    assert spec.name == name
    assert spec.description
    assert ":" in spec.target


def test_only_the_exact_samplers_report_bounds():
    assert [name for name in sampler_names() if sampler_spec(name).exact] == ["highs", "gurobi"]


def test_lookup_ignores_case_and_spaces():
    assert sampler_spec(" SA ").name == "sa"


def test_unknown_name_suggests_the_closest_and_lists_all():
    with pytest.raises(UnknownSamplerError) as caught:
        get_sampler("tabo")
    message = str(caught.value)
    assert "'tabo'" in message
    assert "did you mean 'tabu'" in message
    assert all(name in message for name in sampler_names())


def test_unknown_name_without_a_close_match_lists_all():
    with pytest.raises(
        UnknownSamplerError, match="valid names: gnn, dyco, clusternet, multicut, sa, tabu, steepest, highs, gurobi"
    ):
        sampler_spec("xyzzy")


def test_unknown_sampler_error_is_a_value_error():
    with pytest.raises(ValueError):
        is_available("nope")


@pytest.mark.parametrize("name", DWAVE_SAMPLERS)
def test_dwave_samplers_are_always_available(name):
    assert is_available(name)
    assert isinstance(get_sampler(name), dimod.Sampler)


def test_gurobi_availability_follows_gurobipy():
    has_module = importlib.util.find_spec("gnnsolve.samplers.gurobi") is not None
    has_gurobipy = importlib.util.find_spec("gurobipy") is not None
    assert is_available("gurobi") == (has_module and has_gurobipy)


def test_missing_gurobipy_names_the_extra(without_gurobipy):
    assert not is_available("gurobi")
    with pytest.raises(MissingDependencyError, match=r"gurobipy.*gnnsolve\[gurobi\]"):
        get_sampler("gurobi")


def test_missing_dependency_error_is_an_import_error(without_gurobipy):
    with pytest.raises(ImportError):
        get_sampler("gurobi")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("steepest", {"num_reads": 4, "seed": 7}),
        ("tabu", {"num_reads": 4, "seed": 7, "timeout": 500}),
        ("gnn", {"num_reads": 4, "seed": 7, "time_limit": 2.0}),
        ("highs", {"time_limit": 2.0, "seed": 7}),
        ("gurobi", {"time_limit": 2.0, "seed": 7}),
    ],
)
def test_common_keywords_translate_per_sampler(name, expected):
    assert sample_kwargs(name, time_limit=2.0, num_reads=4, seed=7) == expected


def test_unset_keywords_are_left_to_the_sampler():
    assert sample_kwargs("tabu", num_reads=3) == {"num_reads": 3}
    assert sample_kwargs("highs", num_reads=3) == {}


def test_tabu_gets_at_least_a_millisecond_per_read():
    assert sample_kwargs("tabu", time_limit=0.001, num_reads=100)["timeout"] == 1


@pytest.mark.parametrize("name", DWAVE_SAMPLERS)
def test_translated_keywords_run_and_repeat_with_the_seed(name, small_bqm):
    def keywords():  # sa's deadline starts when its keywords are made
        return sample_kwargs(name, time_limit=0.05 if name == "tabu" else 5.0, num_reads=3, seed=11)

    first = get_sampler(name).sample(small_bqm, **keywords())
    second = get_sampler(name).sample(small_bqm, **keywords())
    assert len(first) == 3
    if name != "tabu":  # tabu's timeout makes repeated runs clock-dependent
        assert (first.record.sample == second.record.sample).all()


@pytest.mark.parametrize("name", GNNSOLVE_SAMPLERS)
def test_gnnsolve_samplers_run_with_translated_keywords(name, small_bqm):
    if not is_available(name):
        pytest.skip(f"sampler {name!r} is not available in this environment")
    sampleset = get_sampler(name).sample(small_bqm, **sample_kwargs(name, time_limit=0.5, num_reads=2, seed=0))
    assert len(sampleset) >= 1
    assert set(sampleset.variables) == set(small_bqm.variables)


def test_tabu_refuses_a_model_over_its_limit_naming_both_sizes():
    too_large = dimod.BQM({v: 1.0 for v in range(TABU_MAX_VARIABLES + 1)}, {}, 0.0, "BINARY")
    with pytest.raises(ModelTooLargeError) as caught:
        check_model_size("tabu", too_large)
    assert str(TABU_MAX_VARIABLES) in str(caught.value)
    assert str(TABU_MAX_VARIABLES + 1) in str(caught.value)


def test_size_limit_is_inclusive_and_others_have_none():
    at_limit = dimod.BQM({v: 1.0 for v in range(TABU_MAX_VARIABLES)}, {}, 0.0, "BINARY")
    check_model_size("tabu", at_limit)
    check_model_size("sa", at_limit)


TIME_KEYWORDS = {"time_limit", "timeout", "interrupt_function", "num_sweeps"}


@pytest.mark.parametrize("name", sampler_names())
def test_no_time_limit_leaves_every_sampler_its_default(name, small_bqm):
    assert not TIME_KEYWORDS & set(sample_kwargs(name, num_reads=3, seed=1, bqm=small_bqm))


@pytest.mark.parametrize("name", sampler_names())
def test_an_infinite_time_limit_reaches_the_samplers_that_take_one(name, small_bqm):
    keywords = sample_kwargs(name, time_limit=math.inf, num_reads=3, bqm=small_bqm)
    if name in DWAVE_SAMPLERS:
        assert not TIME_KEYWORDS & set(keywords)  # no limit: their own defaults
    else:
        assert keywords["time_limit"] == math.inf


def test_a_time_limit_must_be_positive():
    with pytest.raises(ValueError, match="positive"):
        sample_kwargs("gnn", time_limit=0)


def test_simulated_annealing_fits_its_sweeps_and_reads_into_the_time_limit():
    bqm = dimod.generators.ran_r(1, nx.random_regular_graph(3, 20_000, seed=0), seed=0)
    keywords = sample_kwargs("sa", time_limit=0.5, num_reads=50, seed=0, bqm=bqm)
    assert 1 <= keywords["num_sweeps"] < 1000
    start = time.perf_counter()
    sampleset = get_sampler("sa").sample(bqm, **keywords)
    assert time.perf_counter() - start <= 0.5 * 1.5 + 2
    assert 1 <= len(sampleset) <= 50
    assert "num_sweeps" not in sample_kwargs("sa", time_limit=60, num_reads=2, bqm=small_model())


def small_model() -> dimod.BinaryQuadraticModel:
    return dimod.generators.ran_r(1, 8, seed=1)


def test_simulated_annealing_stops_between_reads_at_the_deadline():
    keywords = sample_kwargs("sa", time_limit=0.2, num_reads=1000, seed=0)
    start = time.perf_counter()
    sampleset = get_sampler("sa").sample(dimod.generators.ran_r(1, 200, seed=0), **keywords)
    assert time.perf_counter() - start <= 0.2 * 1.5 + 2
    assert 1 <= len(sampleset) < 1000


def test_tabu_leaves_room_for_its_dense_set_up():
    bqm = dimod.BQM({v: 1.0 for v in range(1000)}, {}, 0.0, "BINARY")
    keywords = sample_kwargs("tabu", time_limit=1.0, num_reads=4, bqm=bqm)
    assert keywords["num_reads"] == 4 and keywords["timeout"] < 250
    largest = dimod.BQM({v: 1.0 for v in range(TABU_MAX_VARIABLES)}, {}, 0.0, "BINARY")
    keywords = sample_kwargs("tabu", time_limit=1.0, num_reads=10, bqm=largest)
    assert keywords["num_reads"] == 1 and keywords["timeout"] == 1  # one read's set-up alone takes most of a second


def test_steepest_descent_uses_the_sparse_search_on_large_models_and_fits_its_reads():
    large = dimod.BQM({v: 1.0 for v in range(STEEPEST_SPARSE_FROM)}, {}, 0.0, "BINARY")
    assert sample_kwargs("steepest", bqm=large)["large_sparse_opt"] is True
    assert "large_sparse_opt" not in sample_kwargs("steepest", bqm=small_model())
    huge = dimod.BQM({v: 1.0 for v in range(10**5)}, {}, 0.0, "BINARY")
    assert sample_kwargs("steepest", time_limit=1.0, num_reads=10, bqm=huge)["num_reads"] == 1
    assert sample_kwargs("steepest", time_limit=1.0, num_reads=10, bqm=small_model())["num_reads"] == 10
    assert sample_kwargs("steepest", num_reads=10, bqm=huge)["num_reads"] == 10
