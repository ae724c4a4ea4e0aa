"""Watching long runs: the ``gnnsolve`` logger, ``progress=True`` bars and stopping callbacks."""

import logging
import math
import random

import dimod
import networkx as nx
import pytest

import gnnsolve
from gnnsolve import GNNSampler
from gnnsolve.samplers._progress import TrainingState
from gnnsolve.samplers.clusternet import ClusterNetSampler
from gnnsolve.samplers.dyco import DyCOSampler
from gnnsolve.samplers.multicut import MulticutSampler

BQM = dimod.generators.ran_r(1, 20, seed=3)
PIGNN = dict(num_reads=2, seed=0, max_epochs=60, time_limit=math.inf, polish="descent")
CLUSTER = dict(k=3, objective="modularity", seed=0, epochs=20, time_limit=math.inf)
MULTICUT = dict(seed=0, simulations=4, time_limit=math.inf, refine=4)


def _signed_graph() -> nx.Graph:
    G = nx.gnp_random_graph(14, 0.4, seed=1)
    rng = random.Random(0)
    for u, v in G.edges:
        G[u][v]["weight"] = rng.choice([-2, -1, 1, 2, 3])
    return G


def _run(name: str, **kwargs):
    if name == "pignn":
        return GNNSampler().sample(BQM, **PIGNN, **kwargs)
    if name == "dyco":
        return DyCOSampler().sample(BQM, **PIGNN, **kwargs)
    if name == "clusternet":
        return ClusterNetSampler().sample(nx.connected_caveman_graph(3, 4), **CLUSTER, **kwargs)
    return MulticutSampler().sample(_signed_graph(), **MULTICUT, **kwargs)


SAMPLERS = ["pignn", "dyco", "clusternet", "multicut"]


def test_library_logger_is_silent_by_default():
    assert any(isinstance(h, logging.NullHandler) for h in logging.getLogger("gnnsolve").handlers)
    assert gnnsolve.GNNSampler is GNNSampler


@pytest.mark.parametrize("name", SAMPLERS)
def test_default_call_prints_nothing(name, capfd):
    _run(name)
    out, err = capfd.readouterr()
    assert out == "" and err == ""


@pytest.mark.parametrize("sampler", [GNNSampler(), DyCOSampler(), ClusterNetSampler(), MulticutSampler()])
def test_parameters_name_progress_and_callback(sampler):
    assert "progress" in sampler.parameters and "callback" in sampler.parameters


@pytest.mark.parametrize(
    "name, lines",
    [
        ("pignn", ["PI-GNN: training", "training stopped", "polish"]),
        ("clusternet", ["ClusterNet: built", "up to 20 epochs", "stopped after", "decided"]),
        ("multicut", ["GAEC + KLj reference", "greedy episode", "search read 1/1", "refinement", "stopped"]),
    ],
)
def test_info_logging_names_the_phases(name, lines, caplog):
    with caplog.at_level(logging.INFO, logger="gnnsolve"):
        _run(name)
    text = "\n".join(record.getMessage() for record in caplog.records)
    for line in lines:
        assert line in text
    assert all(record.name.startswith("gnnsolve.") for record in caplog.records)


def test_dyco_logs_each_snapshot_start(caplog):
    sampler = DyCOSampler()
    with caplog.at_level(logging.INFO, logger="gnnsolve"):
        sampler.sample(BQM, **PIGNN)
        sampler.sample(BQM, **PIGNN)
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert "snapshot 0: fresh start" in text and "snapshot 1: shrink_perturb start" in text


def test_debug_logging_per_epoch(caplog):
    with caplog.at_level(logging.DEBUG, logger="gnnsolve"):
        _run("clusternet")
    assert sum("epoch" in record.getMessage() for record in caplog.records if record.levelno == logging.DEBUG) >= 20


@pytest.mark.parametrize("name", SAMPLERS)
def test_progress_bar_goes_to_stderr_and_changes_nothing(name, capfd):
    plain = _run(name)
    capfd.readouterr()
    shown = _run(name, progress=True)
    out, err = capfd.readouterr()
    assert out == "" and ("epoch" in err or "sim" in err)
    assert (plain.record.sample == shown.record.sample).all()
    assert list(plain.record.energy) == list(shown.record.energy)


@pytest.mark.parametrize("name", ["pignn", "dyco", "clusternet"])
def test_callback_stops_training(name):
    seen = []

    def stop_after_five(state):
        seen.append(state)
        return state.epoch >= 5

    sampleset = _run(name, callback=stop_after_five)
    assert isinstance(seen[0], TrainingState) and seen[-1].epoch == 5
    assert [state.epoch for state in seen] == [1, 2, 3, 4, 5]
    assert all(state.elapsed >= 0 for state in seen)
    with pytest.raises(AttributeError):
        seen[0].epoch = 3  # read-only
    epochs, reason = sampleset.info["epochs"], sampleset.info["stop_reason"]
    if name == "clusternet":
        epochs, reason = epochs[-1], reason[-1]
        assert len(sampleset) == 1
    assert (epochs, reason) == (5, "callback")
    assert len(sampleset) >= 1 and all(math.isfinite(e) for e in sampleset.record.energy)


def test_pignn_callback_answer_keeps_the_best_states():
    sampleset = _run("pignn", callback=lambda state: state.epoch >= 5)
    for sample, energy in sampleset.data(["sample", "energy"]):
        assert BQM.energy(sample) == pytest.approx(energy)
    assert sampleset.info["polish"]["method"] == "descent"


def test_multicut_callback_stops_the_search():
    G = _signed_graph()
    states = []
    sampleset = _run("multicut", num_reads=2, callback=lambda state: states.append(state) or state.epoch >= 5)
    assert sampleset.info["stop_reason"] == ["callback"] and len(sampleset) == 1
    assert states[-1].epoch == 5 and states[-1].phase == "search read 1/2" and states[-1].loss is None
    assert sampleset.first.energy <= sampleset.info["reference_cost"]
    partition = {v: int(c) for v, c in sampleset.first.sample.items()}
    assert set(partition) == set(G)


def test_callback_returning_none_or_false_goes_on():
    plain = _run("pignn")
    watched = _run("pignn", callback=lambda state: None)
    assert watched.info["stop_reason"] == plain.info["stop_reason"] != "callback"
    assert watched.info["epochs"] == plain.info["epochs"]


@pytest.mark.parametrize("name", SAMPLERS)
def test_callback_exception_propagates(name):
    class Stop(Exception):
        pass

    def fail(state):
        raise Stop

    with pytest.raises(Stop):
        _run(name, callback=fail)


@pytest.mark.parametrize("name", SAMPLERS)
@pytest.mark.parametrize("bad", [{"callback": 3}, {"callback": "stop"}, {"progress": "yes"}])
def test_bad_arguments_are_type_errors(name, bad):
    with pytest.raises(TypeError):
        _run(name, **bad)


def test_clusternet_and_multicut_sample_cqm_take_them(capfd):
    from gnnsolve.adapters.multicut import Multicut

    cqm = Multicut(_signed_graph()).cqm
    sampleset = MulticutSampler().sample_cqm(cqm, **MULTICUT, callback=lambda state: state.epoch >= 3)
    assert sampleset.info["stop_reason"] == ["callback"]
    similar = {(0, 1): 2.0, (1, 2): 1.0, (2, 3): -3.0, (3, 4): 2.0, (0, 4): -1.0}
    objective = dimod.BQM({}, {((u, c), (v, c)): -w for (u, v), w in similar.items() for c in range(2)}, 0.0, "BINARY")
    cqm = dimod.ConstrainedQuadraticModel.from_bqm(objective)
    for v in range(5):
        cqm.add_discrete([(v, c) for c in range(2)])
    sampleset = ClusterNetSampler().sample_cqm(cqm, seed=0, epochs=30, progress=True, callback=lambda s: s.epoch >= 4)
    assert sampleset.info["stop_reason"] == ["callback"] and sampleset.info["epochs"] == [4]
    assert "epoch" in capfd.readouterr().err


def test_dyco_callback_error_leaves_the_sampler_as_it_was():
    sampler, fresh = DyCOSampler(), DyCOSampler()
    sampler.sample(BQM, **PIGNN)
    fresh.sample(BQM, **PIGNN)
    with pytest.raises(ZeroDivisionError):
        sampler.sample(BQM, **PIGNN, callback=lambda state: 1 / 0)
    again, expected = sampler.sample(BQM, **PIGNN), fresh.sample(BQM, **PIGNN)
    assert again.info["snapshot"] == expected.info["snapshot"] == 1
    assert (again.record.sample == expected.record.sample).all()


def test_gnn_sample_cqm_passes_the_callback_on():
    cqm = dimod.ConstrainedQuadraticModel.from_bqm(dimod.generators.ran_r(1, 12, seed=0).change_vartype("BINARY", inplace=False))
    cqm.add_constraint([(0, 1), (1, 1)], "<=", 1)
    calls = []
    sampleset = GNNSampler().sample_cqm(cqm, seed=0, max_epochs=40, callback=lambda state: calls.append(state) or True)
    assert calls and all(state.epoch == 1 for state in calls)
    assert len(sampleset) >= 1


def test_clusternet_fit_is_watched_and_stopped(capfd):
    import numpy as np

    rng = np.random.default_rng(0)
    graphs = [nx.connected_caveman_graph(3, 5) for _ in range(2)]
    features = [rng.random((15, 4)) for _ in graphs]
    states = []
    sampler = ClusterNetSampler().fit(
        graphs,
        k=3,
        objective="modularity",
        features=features,
        epochs=50,
        seed=0,
        progress=True,
        callback=lambda state: states.append(state) or state.epoch >= 6,
    )
    assert sampler.fit_info["stop_reason"] == "callback" and sampler.fit_info["epochs"] == 6
    assert [state.epoch for state in states] == list(range(1, 7)) and {state.phase for state in states} == {"fitting"}
    assert math.isfinite(sampler.fit_info["best_training_loss"])
    assert "epoch" in capfd.readouterr().err
    applied = sampler.sample(
        nx.connected_caveman_graph(3, 6), k=3, objective="modularity", features=rng.random((18, 4)), epochs=0
    )
    assert applied.info["start"] == "fitted"
    with pytest.raises(TypeError):
        ClusterNetSampler().fit(graphs, k=3, objective="modularity", features=features, callback="stop")


def test_penalty_composite_logs_each_penalty_tried(caplog):
    from dwave.samplers import SimulatedAnnealingSampler

    from gnnsolve import PenaltyComposite

    cqm = dimod.ConstrainedQuadraticModel()
    x = [dimod.Binary(i) for i in range(6)]
    cqm.set_objective(-sum(v * xi for v, xi in zip([8, 11, 6, 4, 9, 7], x)))
    cqm.add_constraint(sum(w * xi for w, xi in zip([5, 7, 4, 3, 6, 5], x)) <= 14, label="capacity")
    with caplog.at_level(logging.INFO, logger="gnnsolve"):
        sampleset = PenaltyComposite(SimulatedAnnealingSampler()).sample_cqm(cqm, seed=0, time_limit=5)
    lines = [record.getMessage() for record in caplog.records if record.name == "gnnsolve.samplers.penalty"]
    assert len(lines) == len(sampleset.info["penalties"]) and "attempt 1 of 5" in lines[0]
    assert all("after repair" in line for line in lines)
