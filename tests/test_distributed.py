"""DaskComposite and solve_many on a real LocalCluster (two worker processes), on executors and in
this process: the same answers everywhere, failures reported in place, lost workers survived,
objects that do not pickle refused before anything is submitted."""

from __future__ import annotations

import concurrent.futures
import contextlib
import importlib.util
import logging
import math
import multiprocessing
import os
import pickle
import signal
import threading
import time
import unittest
from collections.abc import Iterator
from typing import Any

import dimod
import dimod.testing
import networkx as nx
import numpy as np
import pytest
from dwave.samplers import (
    RandomSampler,
    SimulatedAnnealingSampler,
    SteepestDescentSolver,
    TabuSampler,
    TreeDecompositionSolver,
)

from gnnsolve import (
    ClusterNetSampler,
    DaskComposite,
    DyCOSampler,
    GNNSampler,
    HiGHSSampler,
    MulticutSampler,
    PenaltyComposite,
    TaskFailure,
    solve_many,
)
from gnnsolve.adapters.clustering import Modularity
from gnnsolve.adapters.graphs import MaxCut, maxcut_bqm
from gnnsolve.adapters.multicut import Multicut
from gnnsolve.adapters.tsp import TSP
from gnnsolve.distributed import chunk_seeds
from gnnsolve.samplers._common import MAX_SEED

SA = SimulatedAnnealingSampler()


# --- what the tasks run: module level, so the workers can import them -------------------------


class Sleepy:
    """A problem object that waits, then samples its BQM, or raises when asked to."""

    def __init__(self, bqm: dimod.BinaryQuadraticModel, sleep: float = 0.0, fail: bool = False) -> None:
        self.bqm, self.sleep, self.fail = bqm, sleep, fail

    def solve(self, sampler: dimod.Sampler, **kwargs) -> dimod.SampleSet:
        time.sleep(self.sleep)
        if self.fail:
            raise ValueError("this problem was asked to fail")
        return sampler.sample(self.bqm, **kwargs)


class Probe(dimod.Sampler):
    """Answers with the lowest value of every variable (in ``vartype``, default the model's),
    its ``info`` holding the keywords it was given; it waits ``sleep`` seconds first."""

    parameters = None
    properties = None

    def __init__(self, vartype: dimod.Vartype | None = None) -> None:
        self.vartype = vartype
        self.parameters = {"num_reads": [], "seed": [], "time_limit": [], "sleep": []}
        self.properties = {}

    def sample(self, bqm, num_reads=1, seed=None, time_limit=None, sleep=0.0):
        time.sleep(sleep)
        vartype = self.vartype or bqm.vartype
        low = min(vartype.value)
        samples = np.full((num_reads, bqm.num_variables), low)
        energies = bqm.change_vartype(vartype, inplace=False).energies((samples, bqm.variables))
        sampleset = dimod.SampleSet.from_samples((samples, bqm.variables), vartype, energies)
        sampleset.info.update(num_reads=num_reads, seed=seed, time_limit=time_limit)
        return sampleset


class Inspector(dimod.Sampler):
    """Answers a CQM with one sample, its ``info`` holding the model as the sampler saw it."""

    parameters = None
    properties = None

    def __init__(self) -> None:
        self.parameters, self.properties = {}, {}

    def sample(self, bqm, **kwargs):
        raise NotImplementedError

    def sample_cqm(self, cqm, **kwargs):
        sample = {v: cqm.lower_bound(v) for v in cqm.variables}
        sampleset = dimod.SampleSet.from_samples_cqm(sample, cqm)
        sampleset.info.update(
            constraints=list(cqm.constraints),
            variables=list(cqm.variables),
            soft={label: c.lhs.is_soft() for label, c in cqm.constraints.items()},
            discrete=set(cqm.discrete),
        )
        return sampleset


class WithHook(dimod.BinaryQuadraticModel):
    """A BQM subclass carrying whatever the test puts on it."""


# --- models -----------------------------------------------------------------------------------


def spin_model() -> dimod.BinaryQuadraticModel:
    bqm = dimod.generators.ran_r(1, 24, seed=2)
    bqm.offset = 1.5
    return bqm.relabel_variables({v: f"s{v}" for v in bqm.variables}, inplace=False)


def binary_model() -> dimod.BinaryQuadraticModel:
    bqm = dimod.generators.gnp_random_bqm(16, 0.4, "BINARY", random_state=4)
    return bqm.relabel_variables({v: ("x", v) for v in bqm.variables}, inplace=False)


def knapsack() -> dimod.ConstrainedQuadraticModel:
    x = [dimod.Binary(("item", i)) for i in range(6)]
    cqm = dimod.ConstrainedQuadraticModel()
    cqm.set_objective(-sum(v * x[i] for i, v in enumerate([5, 4, 3, 7, 2, 6])))
    cqm.add_constraint(sum(w * x[i] for i, w in enumerate([3, 2, 2, 5, 1, 4])) <= 8, label="weight")
    return cqm


def signed_graph() -> nx.Graph:
    G = nx.random_regular_graph(3, 10, seed=1)
    for k, (u, v) in enumerate(sorted(G.edges)):
        G[u][v]["weight"] = (-1.0) ** k * (1 + k % 3)
    return G


def mixed_models() -> list:
    """BQMs in both vartypes, a CQM, and graph problems (MaxCut, TSP, a Multicut whose CQM is built)."""
    multicut = Multicut(signed_graph())
    _ = multicut.cqm  # a CQM held by a problem must travel too
    return [
        spin_model(),
        binary_model(),
        knapsack(),
        MaxCut(nx.random_regular_graph(3, 12, seed=0)),
        TSP.from_coordinates(np.random.default_rng(0).random((5, 2))),
        multicut,
    ]


def same_answer(a, b) -> bool:
    """Two answers of solve_many (or two SampleSets) agree row by row."""
    if isinstance(a, tuple):
        return a[0] == b[0] and same_answer(a[1], b[1])
    return (
        list(a.variables) == list(b.variables)
        and np.array_equal(a.record.sample, b.record.sample)
        and np.allclose(a.record.energy, b.record.energy)
    )


# --- the cluster ------------------------------------------------------------------------------


@contextlib.contextmanager
def two_workers() -> Iterator[Any]:
    """A client of two single-threaded worker processes. The scheduler re-runs no task itself
    (``allowed_failures=0``), so a lost task is re-run by solve_many's own ``retries``."""
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            scheduler_kwargs={"allowed_failures": 0, "dashboard_address": ":0"},  # its HTTP server on a free port
            silence_logs=logging.CRITICAL,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


@pytest.fixture(scope="module")
def client():
    """:func:`two_workers`, shared by the module's tests."""
    with two_workers() as client:
        yield client


def kill_a_busy_worker(client, after: float) -> threading.Timer:
    """End one worker's process by its own PID ``after`` seconds from now (its nanny starts another)."""
    pid = client.run(os.getpid)[min(client.nthreads())]
    timer = threading.Timer(after, os.kill, (pid, signal.SIGKILL))
    timer.start()
    return timer


def solve_many_losing_a_worker(models: list, **kwargs: Any) -> list:
    """``solve_many`` (SteepestDescentSolver, 2 reads, seed 0) on a cluster of its own whose busy
    worker is killed 0.8 s in: how soon (or whether) a killed worker's nanny brings it back is
    Dask's affair, and the module's other tests keep their two workers."""
    with two_workers() as client:
        timer = kill_a_busy_worker(client, after=0.8)
        try:
            return solve_many(models, SteepestDescentSolver(), client, num_reads=2, seed=0, **kwargs)
        finally:
            timer.join()


# --- DaskComposite ----------------------------------------------------------------------------


def test_composite_on_the_cluster_matches_a_serial_run(client):
    bqm = spin_model()
    kwargs = {"num_reads": 10, "seed": 7, "num_sweeps": 50}
    spread = DaskComposite(SA, client, chunk_size=4).sample(bqm, **kwargs)
    serial = DaskComposite(SA, None, chunk_size=4).sample(bqm, **kwargs)
    assert same_answer(spread, serial) and len(spread) == 10
    assert np.allclose(spread.record.energy, bqm.energies(spread))  # offset included
    chunks = spread.info["chunks"]
    assert [c["num_reads"] for c in chunks] == [4, 4, 2]
    assert [c["seed"] for c in chunks] == chunk_seeds(7, 3) == [c["seed"] for c in serial.info["chunks"]]
    assert all(0 <= c["seed"] <= MAX_SEED for c in chunks)
    assert {c["worker"] for c in chunks} <= set(client.nthreads())
    assert {c["worker"] for c in serial.info["chunks"]} == {f"pid:{os.getpid()}"}
    assert spread.info["scheduling_overhead_ns"] >= 0 and set(spread.info["timing"]) >= {"sampling_ns"}
    again = DaskComposite(SA, client, chunk_size=4).sample(bqm, **kwargs)
    assert same_answer(again, spread)
    other = DaskComposite(SA, client, chunk_size=4).sample(bqm, **{**kwargs, "seed": 8})
    assert not np.array_equal(other.record.sample, spread.record.sample)


def test_composite_default_is_one_chunk_per_worker(client):
    sampleset = DaskComposite(SteepestDescentSolver(), client).sample(binary_model(), num_reads=5, seed=0)
    assert [c["num_reads"] for c in sampleset.info["chunks"]] == [3, 2]
    assert DaskComposite(SA, client).chunks(1) == [1]
    assert DaskComposite(SA, None).chunks(5) == [5]


def test_composite_gnn_on_the_cluster_matches_a_serial_run_and_keeps_its_time_limit(client):
    bqm = maxcut_bqm(nx.random_regular_graph(3, 40, seed=0))
    kwargs = {"num_reads": 4, "seed": 3, "max_epochs": 40, "time_limit": math.inf}
    spread = DaskComposite(GNNSampler(), client).sample(bqm, **kwargs)
    serial = DaskComposite(GNNSampler(), None, chunk_size=2).sample(bqm, **kwargs)
    assert same_answer(spread, serial)
    assert [c["info"]["epochs"] for c in spread.info["chunks"]] == [c["info"]["epochs"] for c in serial.info["chunks"]]

    limit = 1.0
    start = time.perf_counter()
    timed = DaskComposite(GNNSampler(), client).sample(bqm, num_reads=4, seed=0, time_limit=limit)
    wall = time.perf_counter() - start
    overhead = timed.info["scheduling_overhead_ns"] * 1e-9
    assert wall <= limit + overhead + 0.3
    assert all(c["sampling_ns"] * 1e-9 <= limit + 0.3 for c in timed.info["chunks"])
    assert all(c["info"]["time_limit"] <= limit for c in timed.info["chunks"])


def test_composite_shares_time_limit_over_rounds_and_translates_for_registered_children():
    bqm = spin_model()
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        sampleset = DaskComposite(Probe(), pool, chunk_size=1).sample(bqm, num_reads=4, seed=1, time_limit=2.0)
    budgets = [c["info"]["time_limit"] for c in sampleset.info["chunks"]]
    assert all(0.9 < budget <= 1.0 for budget in budgets)  # two rounds of two
    assert [c["info"]["seed"] for c in sampleset.info["chunks"]] == chunk_seeds(1, 4)
    # Without time_limit the child keeps its own default; a child without the keyword gets none.
    untimed = DaskComposite(Probe(), None).sample(bqm, num_reads=2)
    assert untimed.info["chunks"][0]["info"]["time_limit"] is None
    tabu = DaskComposite(TabuSampler(), None).sample(bqm, num_reads=2, seed=0, time_limit=0.5)
    assert len(tabu) == 2  # TabuSampler takes a timeout per read, not a time_limit


def test_composite_answers_in_the_callers_vartype_and_energies():
    bqm = binary_model()
    sampleset = DaskComposite(Probe(dimod.SPIN), None, chunk_size=2).sample(bqm, num_reads=3, seed=0)
    assert sampleset.vartype is dimod.BINARY and (sampleset.record.sample == 0).all()
    assert np.allclose(sampleset.record.energy, bqm.energies(sampleset))
    empty = dimod.BinaryQuadraticModel({}, {}, 2.5, "SPIN")
    assert list(DaskComposite(Probe(), None, chunk_size=1).sample(empty, num_reads=2).record.energy) == [2.5, 2.5]


def test_composite_sample_cqm_where_the_child_has_it(client):
    cqm = knapsack()
    spread = DaskComposite(HiGHSSampler(), client).sample_cqm(cqm, num_reads=2, seed=0, time_limit=20)
    serial = DaskComposite(HiGHSSampler(), None, chunk_size=1).sample_cqm(cqm, num_reads=2, seed=0, time_limit=20)
    assert same_answer(spread, serial) and spread.record.is_feasible.all()
    assert spread.first.energy == pytest.approx(-14.0)
    assert np.allclose(spread.record.energy, [cqm.objective.energy(s) for s in spread.samples()])
    assert not hasattr(DaskComposite(SA, None), "sample_cqm")
    with pytest.raises(TypeError, match="BinaryQuadraticModel"):
        DaskComposite(HiGHSSampler(), None).sample(cqm)


def test_composite_chunk_that_raises_is_raised_with_the_workers_traceback():
    with pytest.raises(ValueError, match="non-negative") as raised:
        DaskComposite(Probe(), None, chunk_size=1).sample(spin_model(), num_reads=2, sleep=-1.0)
    notes = "".join(getattr(raised.value, "__notes__", ["task 0 time.sleep"]))  # notes from Python 3.11
    assert "task 0" in notes and "time.sleep" in notes


def test_composite_survives_a_killed_worker():
    with two_workers() as client:  # its own: see test_solve_many_survives_a_killed_worker
        timer = kill_a_busy_worker(client, after=0.8)
        try:
            sampleset = DaskComposite(Probe(), client).sample(spin_model(), num_reads=2, seed=0, sleep=2.0)
        finally:
            timer.join()
    assert len(sampleset) == 2
    assert max(c["attempts"] for c in sampleset.info["chunks"]) == 2


# --- solve_many -------------------------------------------------------------------------------


def test_solve_many_on_the_cluster_matches_a_serial_run(client):
    sampler = PenaltyComposite(SteepestDescentSolver())
    kwargs = {"num_reads": 4, "seed": 5, "time_limit": math.inf}
    seen: list[int] = []
    spread = solve_many(mixed_models(), sampler, client, on_result=lambda i, r: seen.append(i), **kwargs)
    serial = solve_many(mixed_models(), sampler, None, **kwargs)
    assert sorted(seen) == list(range(6))
    assert not any(isinstance(answer, TaskFailure) for answer in spread + serial)
    assert all(same_answer(a, b) for a, b in zip(spread, serial))
    assert isinstance(spread[0], dimod.SampleSet) and isinstance(spread[3], tuple)
    assert spread[2].record.is_feasible.any()  # the CQM went through sample_cqm
    assert spread[0].info["task"]["worker"] in client.nthreads()
    assert serial[0].info["task"]["worker"] == f"pid:{os.getpid()}"


def test_solve_many_reports_a_failure_in_place_with_its_traceback(client):
    models = [Sleepy(spin_model()), Sleepy(spin_model(), fail=True), binary_model()]
    results = solve_many(models, SteepestDescentSolver(), client, num_reads=2, seed=0)
    failure = results[1]
    assert isinstance(failure, TaskFailure) and failure.index == 1
    assert isinstance(failure.exception, ValueError) and "asked to fail" in str(failure)
    assert "in solve" in failure.traceback and "asked to fail" in failure.traceback
    assert failure.worker in client.nthreads()
    assert isinstance(results[0], dimod.SampleSet) and isinstance(results[2], dimod.SampleSet)
    with pytest.raises(ValueError, match="asked to fail") as raised:
        solve_many(models, SteepestDescentSolver(), client, raise_errors=True, num_reads=2, seed=0)
    notes = "".join(getattr(raised.value, "__notes__", ["in solve"]))
    assert "in solve" in notes


def test_solve_many_survives_a_killed_worker():  # "auto": the models travel inside their tasks, and again
    models = [Sleepy(spin_model(), sleep=2.0), Sleepy(binary_model(), sleep=2.0)]
    results = solve_many_losing_a_worker(models)
    assert all(isinstance(result, dimod.SampleSet) for result in results)
    assert sorted(result.info["task"]["attempts"] for result in results) == [1, 2]

    results = solve_many_losing_a_worker(models, retries=0)
    lost = [result for result in results if isinstance(result, TaskFailure)]
    assert len(lost) == 1 and type(lost[0].exception).__name__ == "KilledWorker"
    assert sum(isinstance(result, dimod.SampleSet) for result in results) == 1


class Spy:
    """A Dask client that records what reaches it."""

    def __init__(self, client) -> None:
        self.client, self.calls = client, []

    def nthreads(self):
        return self.client.nthreads()

    def scatter(self, *args, **kwargs):
        self.calls.append("scatter")
        return self.client.scatter(*args, **kwargs)

    def submit(self, *args, **kwargs):
        self.calls.append("submit")
        return self.client.submit(*args, **kwargs)


def test_what_does_not_pickle_is_refused_before_anything_is_submitted(client):
    spy = Spy(client)
    hooked = WithHook({"a": 1.0}, {}, 0.0, "BINARY")
    hooked.hook = lambda: None
    with pytest.raises(TypeError, match=r"model 1 \(WithHook\) cannot be sent to a worker"):
        solve_many([spin_model(), hooked], SteepestDescentSolver(), spy)
    problem = MaxCut(nx.cycle_graph(5))
    problem.callback = lambda: None
    with pytest.raises(TypeError, match=r"model 0 \(MaxCut\).*lambda"):
        solve_many([problem], SteepestDescentSolver(), spy)
    with pytest.raises(TypeError, match="keyword interrupt_function"):
        solve_many([spin_model()], SA, spy, interrupt_function=lambda: False)
    sampler = SteepestDescentSolver()
    sampler.hook = lambda: None
    with pytest.raises(TypeError, match="the sampler SteepestDescentSolver"):
        DaskComposite(sampler, spy).sample(spin_model(), num_reads=2)
    with pytest.raises(TypeError, match="model 0 .* neither"):
        solve_many([nx.cycle_graph(3)], SA, spy)
    with pytest.raises(TypeError, match="has no sample_cqm"):
        solve_many([knapsack()], SA, spy)
    assert spy.calls == []
    with pytest.raises(TypeError, match="client must be"):
        solve_many([spin_model()], SA, object())


def test_a_process_pool_gives_the_serial_and_the_clusters_answers(request):
    models = mixed_models()[:4]
    sampler = PenaltyComposite(SteepestDescentSolver())
    kwargs = {"num_reads": 3, "seed": 11, "time_limit": math.inf}
    bqm = spin_model()
    with concurrent.futures.ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        pooled = solve_many(models, sampler, pool, **kwargs)
        pooled_reads = DaskComposite(SA, pool).sample(bqm, num_reads=6, seed=2, num_sweeps=40)
    pids = {chunk["pid"] for chunk in pooled_reads.info["chunks"]}
    assert os.getpid() not in pids
    assert {chunk["worker"] for chunk in pooled_reads.info["chunks"]} == {f"pid:{pid}" for pid in pids}
    serial = solve_many(models, sampler, None, **kwargs)
    serial_reads = DaskComposite(SA, None, chunk_size=3).sample(bqm, num_reads=6, seed=2, num_sweeps=40)
    assert all(same_answer(a, b) for a, b in zip(pooled, serial))
    assert same_answer(pooled_reads, serial_reads)
    if importlib.util.find_spec("distributed") is None:
        return
    client = request.getfixturevalue("client")
    spread = solve_many(models, sampler, client, **kwargs)
    # The chunks named: the module's cluster may have lost a worker to an earlier test.
    spread_reads = DaskComposite(SA, client, chunk_size=3).sample(bqm, num_reads=6, seed=2, num_sweeps=40)
    assert all(same_answer(a, b) for a, b in zip(pooled, spread))
    assert same_answer(pooled_reads, spread_reads)


def test_a_thread_pool_and_progress_bar(capsys):
    models = [spin_model(), binary_model(), MaxCut(nx.cycle_graph(6))]
    seen: list[int] = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        threaded = solve_many(
            models, SteepestDescentSolver(), pool, progress=True, on_result=lambda i, r: seen.append(i), num_reads=3, seed=0
        )
    serial = solve_many(models, SteepestDescentSolver(), num_reads=3, seed=0)
    assert sorted(seen) == [0, 1, 2] and all(same_answer(a, b) for a, b in zip(threaded, serial))
    assert "3/3" in capsys.readouterr().err


def test_a_failing_on_result_cancels_the_rest():
    calls: list[int] = []

    def stop(index, result):
        calls.append(index)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        solve_many([spin_model()] * 3, SteepestDescentSolver(), on_result=stop)
    assert calls == [0]


# --- batches: several models a task -----------------------------------------------------------


def small_models(count: int) -> list[dimod.BinaryQuadraticModel]:
    """BQMs of a few milliseconds each, of different sizes."""
    return [dimod.generators.ran_r(1, 8 + index % 5, seed=index) for index in range(count)]


def tasks_of(results) -> list[tuple[int, ...]]:
    """The batches the answers report, each once, in the order of their first model."""
    return list(dict.fromkeys(answer.info["task"]["batch"] for answer in results))


def test_batches_answer_in_input_order_and_report_each_model(client):
    models = small_models(10)
    seen: list[int] = []
    batched = solve_many(models, SteepestDescentSolver(), client, batch_size=4, on_result=lambda i, r: seen.append(i), seed=0)
    serial = solve_many(models, SteepestDescentSolver(), None, seed=0)
    assert sorted(seen) == list(range(10))
    assert all(same_answer(a, b) for a, b in zip(batched, serial))
    assert tasks_of(batched) == [(0, 1, 2, 3), (4, 5, 6, 7), (8, 9)]
    assert all(index in answer.info["task"]["batch"] for index, answer in enumerate(batched))
    assert tasks_of(serial) == [(index,) for index in range(10)]  # in this process: one at a time


def test_automatic_batches_group_short_models_and_give_the_serial_answers(client):
    models = small_models(40)
    seen: list[int] = []
    batched = solve_many(models, SA, client, on_result=lambda i, r: seen.append(i), num_reads=2, num_sweeps=20, seed=3)
    serial = solve_many(models, SA, None, num_reads=2, num_sweeps=20, seed=3)
    assert sorted(seen) == list(range(40))
    assert all(same_answer(a, b) for a, b in zip(batched, serial))
    batches = tasks_of(batched)
    assert sorted(i for batch in batches for i in batch) == list(range(40))
    assert any(len(batch) > 1 for batch in batches)  # models of milliseconds share tasks
    # the first four (two a worker) go alone, no time being known yet: the largest (12 variables), the
    # smallest (8), then the next largest
    assert all((index,) in batches for index in (4, 35, 9, 14))


def test_automatic_batches_keep_long_models_alone(client):
    models = [Sleepy(spin_model(), sleep=0.3) for _ in range(6)]
    results = solve_many(models, SteepestDescentSolver(), client, num_reads=2, seed=0)
    assert tasks_of(results) and all(len(batch) == 1 for batch in tasks_of(results))


def test_a_failure_inside_a_batch_is_its_own_and_the_others_return(client):
    models = [spin_model(), Sleepy(spin_model(), fail=True), binary_model(), Sleepy(binary_model())]
    seen: list[int] = []
    results = solve_many(models, SteepestDescentSolver(), client, batch_size=4, on_result=lambda i, r: seen.append(i), seed=0)
    failure = results[1]
    assert isinstance(failure, TaskFailure) and failure.index == 1
    assert "asked to fail" in failure.traceback and failure.worker in client.nthreads()
    answers = [results[0], results[2], results[3]]
    assert all(isinstance(answer, dimod.SampleSet) for answer in answers)
    assert {answer.info["task"]["batch"] for answer in answers} == {(0, 1, 2, 3)}
    assert sorted(seen) == [0, 1, 2, 3]


def test_batch_size_one_is_one_task_a_model_with_the_same_answers(client):
    models = small_models(5)
    one = solve_many(models, SteepestDescentSolver(), client, batch_size=1, seed=2)
    automatic = solve_many(models, SteepestDescentSolver(), client, seed=2)
    assert sorted(tasks_of(one)) == [(index,) for index in range(5)]
    assert all(same_answer(a, b) for a, b in zip(one, automatic))


def test_models_travel_inside_their_tasks_and_shared_blobs_are_scattered_once(client, monkeypatch):
    import gnnsolve.distributed as module

    spy = Spy(client)
    models = small_models(6)
    inside = solve_many(models, SteepestDescentSolver(), spy, seed=1)
    assert "scatter" not in spy.calls and spy.calls.count("submit") == len(tasks_of(inside))  # a small sampler too
    serial = solve_many(models, SteepestDescentSolver(), None, seed=1)
    assert all(same_answer(a, b) for a, b in zip(inside, serial))
    spy.calls.clear()
    monkeypatch.setattr(module, "INLINE_BYTES", 0)  # every model scattered, in the calls that submit its task
    monkeypatch.setattr(module, "SMALL_BYTES", 0)  # the sampler and keywords scattered once, to every worker
    scattered = solve_many(models, SteepestDescentSolver(), spy, seed=1)
    assert spy.calls[0] == "scatter" and "scatter" in spy.calls[1:]
    assert all(same_answer(a, b) for a, b in zip(scattered, serial))
    spy.calls.clear()
    bqm = dimod.generators.ran_r(1, 60, seed=0)  # read by both chunks: scattered once, before the chunks
    spread = DaskComposite(SteepestDescentSolver(), spy).sample(bqm, num_reads=4, seed=0)
    assert spy.calls == ["scatter", "submit", "submit"]
    assert same_answer(spread, DaskComposite(SteepestDescentSolver(), None, chunk_size=2).sample(bqm, num_reads=4, seed=0))


def test_batches_on_an_executor():
    models = [*small_models(6), MaxCut(nx.cycle_graph(6))]
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        batched = solve_many(models, SteepestDescentSolver(), pool, batch_size=3, num_reads=2, seed=1)
    serial = solve_many(models, SteepestDescentSolver(), None, num_reads=2, seed=1)
    assert all(same_answer(a, b) for a, b in zip(batched, serial))
    assert batched[0].info["task"]["batch"] == (0, 1, 2) and batched[6][1].info["task"]["batch"] == (6,)


@pytest.mark.parametrize(
    ("batch_size", "error"),
    [
        ("big", ValueError),
        ("", ValueError),
        (0, ValueError),
        (-2, ValueError),
        (2.5, TypeError),
        (True, TypeError),
        (None, TypeError),
    ],
)
def test_a_wrong_batch_size_is_refused_before_anything_is_submitted(client, batch_size, error):
    spy = Spy(client)
    with pytest.raises(error, match="batch_size must be"):
        solve_many([spin_model()], SteepestDescentSolver(), spy, batch_size=batch_size)
    assert spy.calls == []


def test_a_batch_lost_with_its_worker_is_run_again_whole():
    models = [Sleepy(spin_model(), sleep=1.5), Sleepy(binary_model(), sleep=1.5)] * 2
    results = solve_many_losing_a_worker(models, batch_size=2)
    assert all(isinstance(result, dimod.SampleSet) for result in results)
    attempts = {result.info["task"]["batch"]: result.info["task"]["attempts"] for result in results}
    assert sorted(attempts.values()) == [1, 2]  # the killed worker's batch, both its models, once more
    assert sorted(attempts) == [(0, 1), (2, 3)]


def test_the_automatic_plan_hands_out_largest_first_and_fills_tasks_by_measured_time():
    from gnnsolve.distributed import BATCH_SECONDS, _Plan, _Report

    weights = [1.0, 8.0, 2.0, 2.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]
    plan = _Plan(len(weights), None, weights)
    assert plan.window(2) == 4 and _Plan(3, 2).window(2) == math.inf
    first = [plan.next(2) for _ in range(3)]
    assert first == [(1,), (11,), (2,)]  # the largest, the smallest, then the largest left: alone until a time is known
    unit = BATCH_SECONDS / 40  # a unit of weight: 1/40 of BATCH_SECONDS
    plan.measured(11, _Report(run_ns=int(unit * 1e9)))
    first.append(plan.next(2))
    assert first[-1] == (3,)  # larger than any measured: its time would be extrapolated, so alone
    plan.measured(1, _Report(run_ns=int(8 * unit * 1e9)))
    handed = [plan.next(2) for _ in range(20)]
    groups = [group for group in handed if group is not None]
    assert sorted(i for group in [*first, *groups] for i in group) == list(range(len(weights)))
    assert all(sum(weights[i] for i in group) <= 40 for group in groups)
    assert groups[0][0] == 0 and max(len(group) for group in groups) > 1
    assert _Plan(5, 2).next(1) == (0, 1) and _Plan(1, 3).next(1) == (0,)


def test_the_automatic_plan_sizes_small_models_by_their_fixed_cost():
    """Times of 10 ms + 2 µs a unit: a rate per unit taken from the largest model (2.5 µs) would put
    ten 2,000-unit models (140 ms) into a task meant to last 50 ms; the fit keeps each small task
    near the shortest length, and the tasks shrink as the work runs out."""
    from gnnsolve.distributed import SHORTEST_BATCH_SECONDS, _Plan, _Report

    def seconds(weight: float) -> float:
        return 0.010 + 2e-6 * weight

    weights = [20_000.0] * 4 + [2_000.0] * 40
    plan = _Plan(len(weights), None, weights)
    probes = [plan.next(2) for _ in range(2)]
    assert probes == [(0,), (43,)]  # the largest and the smallest: the fit spans the sizes
    for (index,) in probes:
        plan.measured(index, _Report(run_ns=int(seconds(weights[index]) * 1e9)))
    lengths = []
    while (group := plan.next(2)) is not None:
        lengths.append(sum(seconds(weights[i]) for i in group))
    assert max(lengths[-4:]) <= SHORTEST_BATCH_SECONDS + seconds(2_000) / 2  # the nearest fill of the shortest
    assert lengths[0] > lengths[-1]  # the tasks shrink as the work runs out


def simulated_schedule(weights: list[float], seconds: list[float], slots: int = 2, overhead: float = 0.004):
    """The automatic plan run against simulated workers: ``slots`` single-threaded workers, each
    task placed on the worker with the fewest tasks queued (then the one free first), as a Dask
    scheduler does with two tasks a thread in flight; a task lasts ``overhead`` plus its models'
    ``seconds``. Returns the makespan over the shortest possible (the work and the tasks' overhead
    spread evenly) and the tasks."""
    import heapq

    from gnnsolve.distributed import _Plan, _Report

    plan = _Plan(len(weights), None, weights)
    free_at, queued = [0.0] * slots, [0] * slots
    finishing: list[tuple[float, int, tuple[int, ...]]] = []
    tasks = 0

    def top_up(now: float) -> None:
        nonlocal tasks
        while len(finishing) < plan.window(slots) and (group := plan.next(slots)) is not None:
            worker = min(range(slots), key=lambda k: (queued[k], free_at[k]))
            free_at[worker] = max(now, free_at[worker]) + overhead + sum(seconds[i] for i in group)
            queued[worker] += 1
            heapq.heappush(finishing, (free_at[worker], worker, group))
            tasks += 1

    top_up(0.0)
    end = 0.0
    while finishing:
        end, worker, group = heapq.heappop(finishing)
        queued[worker] -= 1
        for index in group:
            plan.measured(index, _Report(run_ns=int(seconds[index] * 1e9)))
        top_up(end)
    return end / ((sum(seconds) + tasks * overhead) / slots), tasks


@pytest.mark.parametrize(
    "cost",
    [
        lambda size: 0.010 + 2e-6 * size,  # a fixed part and a part per unit (annealing)
        lambda size: 2.5e-6 * size,
        lambda size: 1e-10 * size * size + 0.002,
        lambda size: 2e-4 * math.sqrt(size),
        lambda size: 0.03,  # size says nothing
    ],
    ids=["affine", "proportional", "quadratic", "square-root", "constant"],
)
@pytest.mark.parametrize("sizes", ["spread", "clustered"])
def test_the_automatic_plan_ends_the_workers_together_whatever_the_cost_of_size(cost, sizes):
    """Models whose times grow with size in five ways, with 10 % noise: 64 of 1,000 to 30,000
    units, or 32 in the clusters of sizes of the G-set and 3-regular graphs of the distributed
    benchmark. The workers finish within 10 % of an even split, in a few tasks a worker. (The plan
    that priced small models by the rate of large ones came to 1.14–1.29 on clustered sizes
    where time has a fixed part, grows as the square root, or does not grow.)"""
    rng = np.random.default_rng(0)
    for _ in range(10):
        if sizes == "spread":
            weights = rng.uniform(1_000, 30_000, 64).tolist()
        else:
            weights = (rng.choice([2_001, 2_401, 5_470, 19_977, 21_991], 32) * rng.uniform(0.9, 1.1, 32)).tolist()
        seconds = [cost(size) * rng.lognormal(0, 0.1) for size in weights]
        makespan, tasks = simulated_schedule(weights, seconds)
        assert makespan <= 1.10
        assert tasks <= 24


def test_the_call_cost_fit():
    from gnnsolve.distributed import _CallCost

    cost = _CallCost()
    cost.add(100.0, 2.0)
    assert cost.seconds(50.0) == pytest.approx(1.0)  # one size: in proportion to it
    cost.add(100.0, 2.0)
    assert (cost.fixed, cost.per_unit) == (0.0, pytest.approx(0.02))
    for weight in (10.0, 40.0, 70.0):
        cost.add(weight, 0.5 + 0.015 * weight)  # with the two above: 0.5 + 0.015 a unit exactly
    assert cost.fixed == pytest.approx(0.5) and cost.per_unit == pytest.approx(0.015)
    assert cost.seconds(30.0, calls=3) == pytest.approx(3 * 0.5 + 0.015 * 30)
    shrinking = _CallCost()
    for weight, seconds in ((1.0, 3.0), (10.0, 1.0)):  # larger was faster: a constant time
        shrinking.add(weight, seconds)
    assert (shrinking.fixed, shrinking.per_unit) == (2.0, 0.0)
    steep = _CallCost()
    for weight, seconds in ((10.0, 0.1), (20.0, 1.0)):  # a negative fixed part: in proportion, through 0
        steep.add(weight, seconds)
    assert steep.fixed == 0.0 and steep.per_unit == pytest.approx((10 * 0.1 + 20 * 1.0) / (100 + 400))


# --- everything a task carries pickles --------------------------------------------------------


@pytest.mark.parametrize(
    "sampler",
    [
        GNNSampler(),
        DyCOSampler(),
        ClusterNetSampler(),
        MulticutSampler(),
        HiGHSSampler(),
        PenaltyComposite(SA),
        SA,
        SteepestDescentSolver(),
        TabuSampler(),
        RandomSampler(),
        TreeDecompositionSolver(),
    ],
    ids=lambda sampler: type(sampler).__name__,
)
def test_samplers_pickle(sampler):
    copy = pickle.loads(pickle.dumps(sampler))
    assert type(copy) is type(sampler) and copy.parameters == sampler.parameters


def test_dyco_state_travels():
    G = nx.random_regular_graph(3, 20, seed=0)
    grown = G.copy()
    grown.add_edges_from([(0, 10), (3, 12)])
    sampler = DyCOSampler(mode="full")
    sampler.sample(maxcut_bqm(G), num_reads=2, seed=0, max_epochs=30)
    copy = pickle.loads(pickle.dumps(sampler))
    here = sampler.sample(maxcut_bqm(grown), num_reads=2, max_epochs=30)
    there = copy.sample(maxcut_bqm(grown), num_reads=2, max_epochs=30)
    assert there.info["start"] == "shrink_perturb" and there.info["snapshot"] == 1
    assert np.array_equal(here.record.sample, there.record.sample)


def test_multicut_network_travels():
    problem = Multicut(signed_graph())
    sampler = MulticutSampler()
    sampler.network()  # loaded lazily; now part of the sampler's state
    copy = pickle.loads(pickle.dumps(sampler))
    kwargs = {"method": "mcts", "seed": 0, "simulations": 10, "time_limit": math.inf}
    assert np.array_equal(sampler.sample(problem, **kwargs).record.sample, copy.sample(problem, **kwargs).record.sample)


@pytest.mark.parametrize("build", [False, True], ids=["fresh", "built"])
def test_problems_pickle(build):
    problems = [
        MaxCut(nx.cycle_graph(6)),
        TSP([[0, 2, 9], [2, 0, 6], [9, 6, 0]], labels="abc"),
        Multicut(signed_graph()),
        Modularity(nx.karate_club_graph(), 2, weight=None),
    ]
    for problem in problems:
        if build:
            _ = problem.bqm
        copy = pickle.loads(pickle.dumps(problem))
        assert copy.bqm == problem.bqm


def test_cqms_travel_through_solve_many():
    """dimod's CQMs do not pickle; they travel in dimod's file format, alone or inside a problem."""
    cqm = knapsack()
    with pytest.raises(TypeError):
        pickle.dumps(cqm)
    [answer] = solve_many([cqm], HiGHSSampler(), time_limit=20)
    assert answer.first.energy == pytest.approx(-14.0) and answer.first.is_feasible


def test_a_cqm_arrives_whole_and_in_order():
    """Constraints keep their order on the way (dimod's file format would not: a sampler that
    follows the order would then answer differently in each process)."""
    cqm = Multicut(signed_graph()).cqm
    cqm.add_discrete([("one", i) for i in range(3)], label="pick one")
    _ = cqm.add_constraint(dimod.Binary(("one", 0)) + dimod.Binary(("one", 1)) <= 1, label=("soft", 1), weight=2.0)
    [answer] = solve_many([cqm], Inspector())
    assert answer.info["constraints"] == list(cqm.constraints)
    assert answer.info["variables"] == list(cqm.variables)
    assert answer.info["discrete"] == {"pick one"} and answer.info["soft"][("soft", 1)]


def test_gurobi_sampler_travels():
    pytest.importorskip("gurobipy")
    from gnnsolve import GurobiSampler

    [answer] = solve_many([knapsack()], GurobiSampler(), time_limit=20)
    assert answer.first.energy == pytest.approx(-14.0)


class _SerialSteepest(DaskComposite):
    """DaskComposite around SteepestDescentSolver, in-process (client=None), for dimod's sampler tests."""

    def __init__(self) -> None:
        super().__init__(SteepestDescentSolver())


@dimod.testing.load_sampler_bqm_tests(_SerialSteepest)
class TestDaskCompositeDimodConformance(unittest.TestCase):
    """dimod's BQM sampler tests on the composite's sample (chunks run in this process)."""
