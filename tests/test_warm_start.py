"""WarmStartComposite: dimod conformance, the initial states it builds, MaxCut sequences, fallbacks."""

import unittest

import dimod
import dimod.testing
import networkx as nx
import numpy as np
import pytest
from dwave.samplers import SimulatedAnnealingSampler, SteepestDescentSolver, TabuSampler

from gnnsolve.adapters.graphs import cut_value, maxcut_bqm
from gnnsolve.samplers.warm_start import WarmStartComposite

pytestmark = pytest.mark.filterwarnings("ignore:All bqm biases are zero:UserWarning")


class RecordingSampler(dimod.Sampler):
    """Returns its ``initial_states`` as its samples (the ground state without them); records kwargs."""

    parameters = None
    properties = None

    def __init__(self):
        self.parameters = {"num_reads": [], "seed": [], "initial_states": [], "initial_states_generator": []}
        self.properties = {"recording": True}
        self.calls = []

    def sample(self, bqm, initial_states=None, num_reads=None, **kwargs):
        self.calls.append(dict(kwargs, initial_states=initial_states, num_reads=num_reads))
        if initial_states is None:
            ground = dimod.ExactSolver().sample(bqm).lowest()
            rows = ground.record.sample[: num_reads or 1]
            return dimod.SampleSet.from_samples_bqm((rows, ground.variables), bqm)
        return dimod.SampleSet.from_samples_bqm(initial_states, bqm)

    @property
    def last_states(self):
        """The last ``initial_states`` as one dict per read."""
        states, labels = self.calls[-1]["initial_states"]
        return [dict(zip(labels, map(int, row))) for row in states]


class NoInitialStates(dimod.Sampler):
    parameters = None
    properties = None

    def __init__(self):
        self.parameters, self.properties = {"num_reads": []}, {}

    def sample(self, bqm, **kwargs):
        return dimod.ExactSolver().sample(bqm)


def _annealing_composite():
    return WarmStartComposite(SimulatedAnnealingSampler())


@dimod.testing.load_sampler_bqm_tests(_annealing_composite)
class TestConformanceFresh(unittest.TestCase):
    """Each case on a fresh composite: the first (cold) call."""


_shared = WarmStartComposite(SteepestDescentSolver(), seed=0)


@dimod.testing.load_sampler_bqm_tests(_shared)
class TestConformanceShared(unittest.TestCase):
    """All cases on one composite: later cases warm-start from earlier ones (labels, vartypes mixed)."""


def _random_bqm(variables, vartype="SPIN", seed=0):
    rng = np.random.default_rng(seed)
    variables = list(variables)
    linear = {v: rng.normal() for v in variables}
    quadratic = {(u, v): rng.normal() for i, u in enumerate(variables) for v in variables[i + 1 :]}
    return dimod.BQM(linear, quadratic, 0.5, vartype)


# ------------------------------------------------------------------ construction


def test_children_parameters_and_properties_come_from_the_child():
    child = SimulatedAnnealingSampler()
    sampler = WarmStartComposite(child, fill="greedy")
    assert sampler.children == [child] and sampler.child is child
    assert sampler.parameters == child.parameters
    assert sampler.properties["child_properties"] == child.properties
    assert sampler.properties["fill"] == "greedy"


def test_child_without_initial_states_is_rejected_by_name():
    expected = "initial_states; NoInitialStates does not.*SimulatedAnnealingSampler"
    with pytest.raises(ValueError, match=expected):
        WarmStartComposite(NoInitialStates())
    with pytest.raises(ValueError, match="initial_states"):
        WarmStartComposite(dimod.ExactSolver())


@pytest.mark.parametrize("kwargs", [{"fill": "zeros"}, {"seed": -1}, {"seed": 1.5}])
def test_bad_arguments_are_rejected(kwargs):
    with pytest.raises(ValueError):
        WarmStartComposite(RecordingSampler(), **kwargs)


def test_bad_num_reads_is_rejected():
    sampler = WarmStartComposite(RecordingSampler())
    sampler.sample(_random_bqm("ab"))
    with pytest.raises(ValueError, match="num_reads"):
        sampler.sample(_random_bqm("ab"), num_reads=0)


# ------------------------------------------------------------------ the initial states


def test_first_call_is_a_plain_child_call():
    child = RecordingSampler()
    sampleset = WarmStartComposite(child).sample(_random_bqm("abc"), seed=3)
    assert child.calls == [{"seed": 3, "initial_states": None, "num_reads": None}]
    assert sampleset.info["warm_start"] == {"snapshot": 0, "carried": 0, "new": 3, "dropped": 0}


def test_initial_states_carry_previous_values_and_fill_new_ones():
    child = RecordingSampler()
    sampler = WarmStartComposite(child, seed=1)
    first = sampler.sample(_random_bqm("abcd", seed=1))
    best = {v: int(x) for v, x in first.first.sample.items()}
    bqm = _random_bqm("cdefg", seed=2)  # a and b dropped, e f g new
    sampleset = sampler.sample(bqm, num_reads=5)

    call = child.calls[-1]
    states, labels = call["initial_states"]
    assert list(labels) == list(bqm.variables)  # dropped variables are not passed
    assert states.shape == (5, 5) and call["initial_states_generator"] == "none"
    for state in child.last_states:
        assert state["c"] == best["c"] and state["d"] == best["d"]
        assert {state[v] for v in "efg"} <= {-1, 1}
    assert len({tuple(s.values()) for s in child.last_states}) > 1  # reads differ in the new variables
    for sample, energy in sampleset.data(["sample", "energy"]):
        assert energy == pytest.approx(bqm.energy(sample))
    assert sampleset.info["warm_start"] == {"snapshot": 1, "carried": 2, "new": 3, "dropped": 2}


def test_random_fill_is_reproducible_with_either_seed():
    def states(composite_seed, call_seed):
        child = RecordingSampler()
        sampler = WarmStartComposite(child, seed=composite_seed)
        sampler.sample(_random_bqm("ab"))
        sampler.sample(_random_bqm("abcdefghij"), num_reads=4, seed=call_seed)
        return child.calls[-1]["initial_states"][0]

    np.testing.assert_array_equal(states(7, None), states(7, None))
    np.testing.assert_array_equal(states(None, 11), states(8, 11))
    assert not np.array_equal(states(7, None), states(8, None))


def test_caller_initial_states_and_generator_are_respected():
    child = RecordingSampler()
    sampler = WarmStartComposite(child)
    sampler.sample(_random_bqm("ab"))
    mine = {"a": 1, "b": 1}
    sampleset = sampler.sample(_random_bqm("ab"), initial_states=mine)
    assert child.calls[-1]["initial_states"] is mine
    assert sampleset.info["warm_start"]["fallback"] == "initial_states given by the caller"
    assert sampleset.info["warm_start"]["carried"] == 0
    sampler.sample(_random_bqm("ab"), initial_states_generator="tile")
    assert child.calls[-1]["initial_states_generator"] == "tile"


def test_greedy_fill_picks_the_locally_best_value():
    child = RecordingSampler()
    sampler = WarmStartComposite(child, fill="greedy")
    sampler.sample(dimod.BQM.from_ising({"a": -1.0}, {}))  # remembers a = +1
    # b: field J_ab·a = 2 > 0 -> -1; c: field h_c + J_bc·b = 0.5 - 1 < 0 -> +1;
    # d: no field at all -> the lower value -1
    bqm = dimod.BQM.from_ising({"c": 0.5, "d": 0.0}, {("a", "b"): 2.0, ("b", "c"): 1.0})
    sampler.sample(bqm, num_reads=3)
    assert child.last_states == [{"a": 1, "b": -1, "c": 1, "d": -1}] * 3
    for v in "bcd":  # no single new variable can lower the energy by flipping
        state = child.last_states[0]
        flipped = dict(state, **{v: -state[v]})
        assert bqm.energy(flipped) >= bqm.energy(state)


def test_greedy_fill_in_binary():
    child = RecordingSampler()
    sampler = WarmStartComposite(child, fill="greedy")
    sampler.sample(dimod.BQM({"a": -1.0}, {}, 0.0, "BINARY"))  # remembers a = 1
    sampler.sample(dimod.BQM({"b": 1.0, "c": 0.5}, {("a", "b"): -3.0, ("b", "c"): -1.0}, 0.0, "BINARY"))
    assert child.last_states == [{"a": 1, "b": 1, "c": 1}]


# ------------------------------------------------------------------ history, vartypes, fallbacks


@pytest.mark.parametrize("old, new", [("SPIN", "BINARY"), ("BINARY", "SPIN")])
def test_a_change_of_vartype_converts_the_remembered_values(old, new):
    child = RecordingSampler()
    sampler = WarmStartComposite(child)
    first = sampler.sample(_random_bqm("abcd", old, seed=4))
    sampleset = sampler.sample(_random_bqm("abcd", new, seed=4))
    expected = dimod.SampleSet.from_samples(first.first.sample, old, 0).change_vartype(new).first.sample
    assert child.last_states == [{v: int(x) for v, x in expected.items()}]
    assert sampleset.vartype is dimod.Vartype[new]
    assert sampleset.info["warm_start"]["converted_from"] == old
    assert sampleset.info["warm_start"]["carried"] == 4


def test_no_shared_variables_falls_back_to_a_cold_start():
    child = RecordingSampler()
    sampler = WarmStartComposite(child)
    sampler.sample(_random_bqm("ab"))
    sampleset = sampler.sample(_random_bqm("xyz"))
    assert child.calls[-1]["initial_states"] is None
    assert sampleset.info["warm_start"] == {
        "snapshot": 1,
        "carried": 0,
        "new": 3,
        "dropped": 2,
        "fallback": "no shared variables",
    }
    sampler.sample(_random_bqm("yz"))  # x y z are remembered now
    assert child.calls[-1]["initial_states"] is not None


@pytest.mark.parametrize("child", [SimulatedAnnealingSampler(), TabuSampler(), SteepestDescentSolver()])
def test_an_empty_model_passes_through_and_keeps_the_memory(child):
    sampler = WarmStartComposite(child, seed=0)
    first = sampler.sample(_random_bqm("abc"), seed=0)
    empty = sampler.sample(dimod.BQM({}, {}, 1.5, "SPIN"), seed=0)
    reference = child.sample(dimod.BQM({}, {}, 1.5, "SPIN"), seed=0)
    assert len(empty) == len(reference) and list(empty.record.energy) == list(reference.record.energy)
    assert empty.info["warm_start"] == {"snapshot": 1, "carried": 0, "new": 0, "dropped": 3, "fallback": "empty model"}
    assert sampler.previous_sample == {v: int(x) for v, x in first.first.sample.items()}
    after = sampler.sample(_random_bqm("abc"), seed=0)
    assert after.info["warm_start"] == {"snapshot": 2, "carried": 3, "new": 0, "dropped": 0}


def test_empty_first_model():
    sampler = WarmStartComposite(SteepestDescentSolver())
    sampleset = sampler.sample(dimod.BQM("BINARY"))
    assert sampleset.info["warm_start"] == {"snapshot": 0, "carried": 0, "new": 0, "dropped": 0}
    assert sampler.previous_sample is None


def test_reset_forgets_the_history():
    child = RecordingSampler()
    sampler = WarmStartComposite(child, seed=2)
    sampler.sample(_random_bqm("ab"))
    sampler.sample(_random_bqm("abc"))
    sampler.reset()
    assert sampler.snapshot == 0 and sampler.previous_sample is None
    sampleset = sampler.sample(_random_bqm("abc"))
    assert child.calls[-1]["initial_states"] is None
    assert sampleset.info["warm_start"] == {"snapshot": 0, "carried": 0, "new": 3, "dropped": 0}


def test_child_info_is_kept_and_ising_qubo_entry_points_work():
    sampler = WarmStartComposite(SimulatedAnnealingSampler(), seed=0)
    first = sampler.sample_ising({"a": 1.0}, {("a", "b"): -1.0}, seed=1, num_sweeps=50)
    assert "timing" in first.info and "beta_range" in first.info
    second = sampler.sample_qubo({("a", "a"): 1.0, ("a", "c"): -2.0}, seed=1, num_reads=3, num_sweeps=50)
    assert len(second) == 3 and "timing" in second.info
    assert second.info["warm_start"] == {"snapshot": 1, "carried": 1, "new": 1, "dropped": 1, "converted_from": "SPIN"}


# ------------------------------------------------------------------ a MaxCut sequence


def _growing_graphs(n=60, steps=6, seed=0):
    """Snapshots of one random graph that only gains edges (and, at times, new nodes)."""
    rng = np.random.default_rng(seed)
    G = nx.gnm_random_graph(n, 90, seed=seed)
    yield G.copy()
    for _ in range(steps):
        for _ in range(15):
            u, v = rng.integers(0, G.number_of_nodes() + 2, size=2)
            if u != v:
                G.add_edge(int(u), int(v), weight=float(rng.uniform(0.5, 2.0)))
        yield G.copy()


@pytest.mark.parametrize("fill", ["random", "greedy"])
def test_warm_started_descent_never_loses_cut_on_a_growing_graph(fill):
    """Edges only appear with positive weights, so the previous best assignment cuts at least as
    much on the new graph, and steepest descent from it never increases the energy."""
    sampler = WarmStartComposite(SteepestDescentSolver(), fill=fill, seed=0)
    previous = None
    for k, G in enumerate(_growing_graphs()):
        sampleset = sampler.sample(maxcut_bqm(G), num_reads=4)
        assert sampleset.info["warm_start"]["snapshot"] == k
        cut = max(cut_value(G, sample) for sample in sampleset.samples())
        if previous is not None:
            assert sampleset.info["warm_start"]["carried"] == previous[0].number_of_nodes()
            assert cut >= previous[1] - 1e-9
        previous = (G, cut)


def test_a_failed_child_call_changes_nothing():
    sampler = WarmStartComposite(SteepestDescentSolver(), seed=0)
    sampler.sample(_random_bqm("abc"))
    remembered = sampler.previous_sample
    with pytest.raises(ValueError):
        sampler.sample(_random_bqm("abcd"), initial_states_generator="bogus")
    assert sampler.snapshot == 1 and sampler.previous_sample == remembered
