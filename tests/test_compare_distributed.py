"""``gnnsolve compare --workers N`` / ``--scheduler ADDRESS`` and ``compare(..., client=...)``: the
same table as a serial run, each sampler's run a task on a Dask worker; clear errors without the
``distributed`` package and for a scheduler that does not answer."""

from __future__ import annotations

import importlib.util
import json
import socket
import time

import dimod
import pytest

from gnnsolve import compare as compare_module
from gnnsolve.cli import CONNECT_TIMEOUT, main
from gnnsolve.compare import compare
from gnnsolve.errors import ModelTooLargeError

HAVE_DISTRIBUTED = importlib.util.find_spec("distributed") is not None
needs_distributed = pytest.mark.skipif(not HAVE_DISTRIBUTED, reason="needs distributed (pip install 'gnnsolve[dask]')")

FAST = ["compare", "--samplers", "sa,steepest,highs", "--num-reads", "4", "--seed", "7", "--json"]


class OverLicence(dimod.Sampler):
    """Stands in for a sampler whose size limit is only known when it runs (on the worker)."""

    parameters: dict = {}
    properties: dict = {}

    def sample(self, bqm, **keywords):
        raise ModelTooLargeError("the licence allows 2 variables")


class Broken(dimod.Sampler):
    """Stands in for a sampler that fails on the worker."""

    parameters: dict = {}
    properties: dict = {}

    def sample(self, bqm, **keywords):
        raise ArithmeticError("the backend gave up")


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as local:
        yield local


@pytest.fixture(scope="module")
def serial_json() -> dict:
    return _json_of(FAST)


def _json_of(argv: list[str]) -> dict:
    from contextlib import redirect_stdout
    from io import StringIO

    out = StringIO()
    with redirect_stdout(out):
        assert main(argv) == 0
    return json.loads(out.getvalue())


def _answers(result: dict) -> list[tuple]:
    return [(run["sampler"], run["best_energy"], run["mean_energy"], run["objective"], run["feasible"]) for run in result["runs"]]


@needs_distributed
def test_workers_option_gives_the_serial_energies(serial_json):
    on_workers = _json_of([*FAST, "--workers", "2"])
    assert _answers(on_workers) == _answers(serial_json)
    assert [run["sampler"] for run in on_workers["runs"]] == ["sa", "steepest", "highs"]
    assert on_workers["best_energy"] == serial_json["best_energy"] == -137
    assert on_workers["bound"] == serial_json["bound"]


@needs_distributed
def test_scheduler_option_runs_on_a_running_cluster(cluster, serial_json, capsys):
    on_cluster = _json_of([*FAST, "--scheduler", cluster.scheduler_address])
    assert _answers(on_cluster) == _answers(serial_json)
    assert f"Dask workers ({cluster.scheduler_address})" in capsys.readouterr().err
    assert len(cluster.scheduler_info["workers"]) == 2  # the cluster is left running


@needs_distributed
def test_the_table_is_the_same_and_times_are_the_workers(cluster, capsys):
    import distributed

    bqm = dimod.generators.ran_r(1, 40, seed=1)
    serial = compare(bqm, ["sa", "steepest"], num_reads=3, seed=2)
    with distributed.Client(cluster) as client:
        spread = compare(bqm, ["sa", "steepest"], num_reads=3, seed=2, client=client)
        workers = set(client.scheduler_info()["workers"])
    strip = lambda table: [line.split()[:3] for line in table.splitlines()]  # noqa: E731 - times differ
    assert strip(spread.table()) == strip(serial.table())
    for run in spread.runs:
        task = run.sampleset.info["task"]
        assert task["worker"] in workers
        assert run.seconds <= task["run_ns"] / 1e9  # the run on the worker, not the scheduling


@needs_distributed
def test_a_limit_found_on_a_worker_skips_a_default_sampler_and_a_failure_is_raised(cluster, monkeypatch):
    import distributed

    real = compare_module.get_sampler
    stand_ins = {"gurobi": OverLicence, "tabu": Broken}
    monkeypatch.setattr(compare_module, "get_sampler", lambda name: stand_ins[name]() if name in stand_ins else real(name))
    monkeypatch.setattr(compare_module, "DEFAULT_SAMPLERS", ("sa", "gurobi"))
    bqm = dimod.generators.ran_r(1, 12, seed=0)
    with distributed.Client(cluster) as client:
        result = compare(bqm, None, num_reads=2, seed=0, client=client)
        assert [run.name for run in result.runs] == ["sa"]
        assert any("gurobi skipped" in note and "licence" in note for note in result.notes)
        with pytest.raises(ArithmeticError, match="gave up") as raised:
            compare(bqm, ["sa", "tabu"], num_reads=2, seed=0, client=client)
    assert any("Traceback" in note for note in getattr(raised.value, "__notes__", []))


@needs_distributed
def test_an_unreachable_scheduler_is_a_clear_error_within_seconds(capsys):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        address = f"tcp://127.0.0.1:{probe.getsockname()[1]}"
    start = time.perf_counter()
    assert main(["compare", "--samplers", "sa", "--scheduler", address]) == 2
    assert time.perf_counter() - start < CONNECT_TIMEOUT + 10
    err = capsys.readouterr().err
    assert f"cannot reach the Dask scheduler at {address}" in err
    assert "Traceback" not in err
    assert main(["compare", "--samplers", "sa", "--scheduler", "not an address::"]) == 2
    assert "is not a Dask scheduler address" in capsys.readouterr().err


def test_without_distributed_the_options_are_usage_errors(monkeypatch, capsys):
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *args: None if name == "distributed" else real_find_spec(name, *args)
    )
    for option in (["--workers", "2"], ["--scheduler", "tcp://127.0.0.1:8786"]):
        assert main(["compare", "--samplers", "sa", *option]) == 2
        err = capsys.readouterr().err
        assert option[0] in err and "pip install 'gnnsolve[dask]'" in err


def test_workers_and_scheduler_exclude_each_other(capsys):
    assert main(["compare", "--workers", "2", "--scheduler", "tcp://127.0.0.1:8786"]) == 2
    assert "not allowed with" in capsys.readouterr().err
