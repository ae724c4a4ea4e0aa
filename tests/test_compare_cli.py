"""Comparing samplers on one model, and the ``gnnsolve compare`` command."""

from __future__ import annotations

import importlib.util
import json
import math
import subprocess
import sys
import time
from pathlib import Path

import dimod
import networkx as nx
import pytest
from dimod.serialization import coo

from gnnsolve import compare as compare_module
from gnnsolve.adapters.graphs import MaxCut
from gnnsolve.cli import main
from gnnsolve.compare import compare, relative_gap
from gnnsolve.errors import (
    InvalidModelError,
    MissingDependencyError,
    ModelTooLargeError,
    UnknownSamplerError,
)
from gnnsolve.instances import BUILTIN_MAXCUT_OPTIMUM, builtin_regular_graph
from gnnsolve.registry import TABU_MAX_VARIABLES, is_available, sampler_names
from shared_data import DATA, needs_data, write


class ExactWithBound(dimod.Sampler):
    """Stands in for an exact sampler: the ground state, with a bound and a status."""

    parameters: dict = {}
    properties: dict = {}

    def sample(self, bqm, **keywords):
        best = dimod.ExactSolver().sample(bqm).truncate(1)
        best.info.update(bound=float(best.first.energy), status="optimal")
        return best


class OverLicence(dimod.Sampler):
    """Stands in for a sampler whose size limit is only known when it runs."""

    parameters: dict = {}
    properties: dict = {}

    def sample(self, bqm, **keywords):
        raise ModelTooLargeError("the licence allows 2 variables")


@pytest.fixture
def small_bqm() -> dimod.BinaryQuadraticModel:
    return dimod.generators.ran_r(1, 10, seed=0)


@pytest.fixture
def replace_samplers(monkeypatch):
    """Make compare use stand-in classes for some names."""

    def replace(**stand_ins: type) -> None:
        real = compare_module.get_sampler
        monkeypatch.setattr(compare_module, "get_sampler", lambda name: stand_ins[name]() if name in stand_ins else real(name))

    return replace


@pytest.fixture
def without_gurobipy(monkeypatch):
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *args: None if name == "gurobipy" else real_find_spec(name, *args)
    )


# ---------------------------------------------------------------- compare()


def test_relative_gap():
    assert relative_gap(-9.0, -10.0) == pytest.approx(0.1)
    assert relative_gap(5.0, 4.0) == pytest.approx(0.25)
    assert relative_gap(0.0, 0.0) == 0.0
    assert relative_gap(1.0, 0.0) is None


def test_compare_reports_every_sampler(small_bqm):
    lines: list[str] = []
    result = compare(small_bqm, ["sa", "steepest"], num_reads=4, seed=0, progress=lines.append)
    assert [run.name for run in result.runs] == ["sa", "steepest"]
    assert result.best_energy == min(run.best_energy for run in result.runs)
    for run in result.runs:
        assert len(run.sampleset) == 4
        assert run.best_energy == run.sampleset.first.energy
        assert run.best_energy <= run.mean_energy
        assert run.seconds >= 0
        assert run.gap_to_best >= 0
        assert run.gap_to_bound is None
    assert min(run.gap_to_best for run in result.runs) == 0
    assert sum("running" in line for line in lines) == 2
    assert sum("done in" in line for line in lines) == 2
    json.dumps(result.to_dict(), allow_nan=False)


def test_same_seed_same_energies(small_bqm):
    first = compare(small_bqm, ["sa", "steepest"], num_reads=3, seed=5)
    second = compare(small_bqm, ["sa", "steepest"], num_reads=3, seed=5)
    assert [r.mean_energy for r in first.runs] == [r.mean_energy for r in second.runs]


def test_repeated_names_run_once(small_bqm):
    assert [run.name for run in compare(small_bqm, ["sa", "SA"]).runs] == ["sa"]


def test_unknown_sampler_fails_before_anything_runs(small_bqm):
    lines: list[str] = []
    with pytest.raises(UnknownSamplerError, match="'annealing'"):
        compare(small_bqm, ["sa", "annealing"], progress=lines.append)
    assert lines == []


def test_no_samplers_is_an_error(small_bqm):
    with pytest.raises(ValueError, match="no samplers"):
        compare(small_bqm, [])


def test_invalid_models_are_refused():
    with pytest.raises(InvalidModelError, match="finite"):
        compare(dimod.BQM({0: float("nan")}, {}, 0.0, "SPIN"), ["sa"])
    with pytest.raises(InvalidModelError, match="no variables"):
        compare(dimod.BQM("SPIN"), ["sa"])


def test_named_sampler_unable_to_take_the_model_fails_before_running():
    too_large = dimod.BQM({v: 1.0 for v in range(TABU_MAX_VARIABLES + 1)}, {}, 0.0, "BINARY")
    lines: list[str] = []
    with pytest.raises(ModelTooLargeError, match=f"at most {TABU_MAX_VARIABLES} variables"):
        compare(too_large, ["sa", "tabu"], progress=lines.append)
    assert lines == []


def test_default_list_skips_a_sampler_unable_to_take_the_model(monkeypatch):
    monkeypatch.setattr(compare_module, "DEFAULT_SAMPLERS", ("steepest", "tabu"))
    too_large = dimod.BQM({v: 1.0 for v in range(TABU_MAX_VARIABLES + 1)}, {}, 0.0, "BINARY")
    result = compare(too_large, seed=0)
    assert [run.name for run in result.runs] == ["steepest"]
    assert any(note.startswith("tabu skipped") for note in result.notes)
    assert "note: tabu skipped" in result.table()


def test_default_list_skips_gurobi_without_gurobipy(monkeypatch, small_bqm, without_gurobipy):
    monkeypatch.setattr(compare_module, "DEFAULT_SAMPLERS", ("sa", "gurobi"))
    result = compare(small_bqm, seed=0)
    assert [run.name for run in result.runs] == ["sa"]
    assert any("gurobi skipped" in note and "gnnsolve[gurobi]" in note for note in result.notes)


def test_named_gurobi_without_gurobipy_fails_before_running(small_bqm, without_gurobipy):
    lines: list[str] = []
    with pytest.raises(MissingDependencyError, match="gurobipy"):
        compare(small_bqm, ["sa", "gurobi"], progress=lines.append)
    assert lines == []


def test_size_limit_found_while_running(monkeypatch, small_bqm, replace_samplers):
    replace_samplers(gurobi=OverLicence)
    monkeypatch.setattr(compare_module, "DEFAULT_SAMPLERS", ("sa", "gurobi"))
    result = compare(small_bqm, seed=0)
    assert [run.name for run in result.runs] == ["sa"]
    assert result.notes[0] == "gurobi skipped: the licence allows 2 variables"
    assert result.notes[1].startswith("not in the default list for this model: ")
    with pytest.raises(ModelTooLargeError, match="licence"):
        compare(small_bqm, ["sa", "gurobi"], seed=0)


def test_exact_bound_gives_gaps(small_bqm, replace_samplers):
    replace_samplers(highs=ExactWithBound)
    result = compare(small_bqm, ["steepest", "highs"], num_reads=2, seed=0, time_limit=1.0)
    ground = float(dimod.ExactSolver().sample(small_bqm).first.energy)
    assert result.bound == ground
    exact = result.runs[1]
    assert (exact.status, exact.bound, exact.gap_to_bound, exact.gap_to_best) == ("optimal", ground, 0.0, 0.0)
    assert result.runs[0].gap_to_bound == pytest.approx(relative_gap(result.runs[0].best_energy, ground))
    assert "exact lower bound" in result.table()


def test_highs_bound_closes_the_gap_on_a_small_model(small_bqm):
    if not is_available("highs"):
        pytest.skip("the highs sampler is not available in this environment")
    result = compare(small_bqm, ["steepest", "highs"], num_reads=2, seed=0, time_limit=10.0)
    exact = result.runs[1]
    assert exact.status == "optimal"
    assert result.bound == pytest.approx(exact.best_energy)
    assert exact.gap_to_bound == pytest.approx(0.0, abs=1e-9)
    assert result.runs[0].best_energy >= result.bound - 1e-9


def test_bounds_of_heuristic_samplers_are_ignored(small_bqm, replace_samplers):
    replace_samplers(sa=ExactWithBound)
    assert compare(small_bqm, ["sa"]).bound is None


def test_decoded_objective_and_ratio_on_maxcut():
    graph = nx.cycle_graph(6)
    problem = MaxCut(graph)
    result = compare(problem.bqm, ["sa", "steepest"], num_reads=4, seed=0, problem=problem, optimum=6)
    for run in result.runs:
        assert run.objective == -run.best_energy and run.feasible
        assert run.ratio == run.objective / 6
    header = result.table().splitlines()[0]
    assert "cut value" in header and "feasible" in header and "ratio" in header
    assert result.to_dict()["objective_name"] == "cut value"


# ---------------------------------------------------------------- time limits


class SlowCut(MaxCut):
    """MaxCut whose decoding takes 50 ms a row."""

    def decode(self, sample):
        time.sleep(0.05)
        return super().decode(sample)


class Recording(dimod.Sampler):
    """Steepest descent that records the keywords it was given."""

    parameters: dict = {"time_limit": []}
    properties: dict = {}

    def __init__(self) -> None:
        self.keywords: list[dict] = []

    def sample(self, bqm, time_limit=None, **keywords):
        from dwave.samplers import SteepestDescentSolver

        self.keywords.append({"time_limit": time_limit, **keywords})
        return SteepestDescentSolver().sample(bqm, **keywords)


def test_time_limit_bounds_each_samplers_whole_run_decoding_included():
    problem = MaxCut(nx.random_regular_graph(3, 1000, seed=0))
    names = ["gnn", "sa", "tabu", "steepest", "highs"]
    result = compare(problem.bqm, names, time_limit=0.5, num_reads=4, seed=0, problem=problem)
    assert [run.name for run in result.runs] == names
    for run in result.runs:
        assert run.seconds <= 0.5 * 1.5 + 2, run.name
        assert run.feasible
    assert "time limit per sampler: 0.5 s" in result.table()


def test_decoding_stops_at_the_samplers_deadline():
    problem = SlowCut(nx.cycle_graph(8))
    result = compare(problem.bqm, ["steepest"], time_limit=0.3, num_reads=100, seed=0, problem=problem)
    assert result.runs[0].seconds <= 0.3 * 1.5 + 2  # all 100 rows would take 5 s
    assert result.runs[0].objective == 8


def test_graph_problem_solve_shares_its_time_limit_with_decoding():
    problem, sampler = SlowCut(nx.cycle_graph(8)), Recording()
    start = time.perf_counter()
    solution, sampleset = problem.solve(sampler, time_limit=0.5, num_reads=100, seed=0)
    assert time.perf_counter() - start <= 0.5 * 1.5 + 2
    assert sampler.keywords[0]["time_limit"] <= 0.5 * (1 - problem.decode_share)
    assert len(sampleset) == 100 and solution.objective == 8
    problem.solve(sampler, time_limit=math.inf, num_reads=1)
    problem.solve(sampler, num_reads=1)
    assert [keywords["time_limit"] for keywords in sampler.keywords[1:]] == [math.inf, None]


def test_infinite_and_default_time_limits_reach_the_samplers(small_bqm, replace_samplers):
    recording = Recording()
    replace_samplers(gnn=lambda: recording)
    unlimited = compare(small_bqm, ["gnn", "highs"], time_limit=math.inf, seed=0)
    assert recording.keywords[0]["time_limit"] == math.inf
    assert unlimited.runs[1].status == "optimal"
    assert "time limit per sampler: none" in unlimited.table()
    assert json.loads(json.dumps(unlimited.to_dict(), allow_nan=False))["settings"]["time_limit"] == "inf"
    default = compare(small_bqm, ["gnn", "sa"], seed=0)
    assert recording.keywords[1]["time_limit"] is None
    assert "time limit per sampler: each sampler's default" in default.table()


# ---------------------------------------------------------------- the command


def test_cli_help_exits_cleanly(capsys):
    assert main(["compare", "--help"]) == 0
    assert "--time-limit" in capsys.readouterr().out


def test_cli_json_on_the_builtin_instance(capsys):
    assert main(["compare", "--samplers", "sa,steepest", "--json", "--num-reads", "2", "--time-limit", "2"]) == 0
    out, err = capsys.readouterr()
    report = json.loads(out)
    assert "3-regular" in report["instance"]
    assert [run["sampler"] for run in report["runs"]] == ["sa", "steepest"]
    assert report["num_variables"] == 100 and report["num_interactions"] == 150
    assert report["optimum"] == BUILTIN_MAXCUT_OPTIMUM
    assert report["settings"] == {"time_limit": 2.0, "num_reads": 2, "seed": 0}
    for run in report["runs"]:
        assert run["objective"] == -run["best_energy"]
        assert run["ratio"] == pytest.approx(run["objective"] / BUILTIN_MAXCUT_OPTIMUM)
    assert "sa: running" in err and "steepest: done" in err


def test_cli_table_keeps_progress_off_stdout(capsys):
    assert main(["compare", "--samplers", "steepest", "--num-reads", "2"]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert lines[0].startswith("instance: MaxCut on a random 3-regular graph, 100 nodes")
    assert lines[1].split()[:3] == ["sampler", "best", "energy"]
    assert "cut value" in lines[1]
    assert lines[2].startswith("steepest")
    assert "running" not in out and "steepest: running" in err


def test_progress_bars_count_the_samplers_and_show_the_learned_ones_epochs(small_bqm, capfd):
    plain = compare(small_bqm, ["steepest", "gnn"], num_reads=2, seed=0, time_limit=2)
    capfd.readouterr()
    shown = compare(small_bqm, ["steepest", "gnn"], num_reads=2, seed=0, time_limit=2, progress=True)
    out, err = capfd.readouterr()
    assert out == ""
    assert "2/2" in err and "sampler" in err and "[2/2] gnn: done in" in err
    assert "PI-GNN" in err and "epoch" in err  # the learned sampler's own bar beneath
    assert plain.runs[0].best_energy == shown.runs[0].best_energy


def test_progress_of_another_type_is_a_type_error(small_bqm):
    with pytest.raises(TypeError, match="progress"):
        compare(small_bqm, ["steepest"], progress="yes")


def test_cli_progress_bars(capfd):
    assert main(["compare", "--samplers", "steepest,sa", "--num-reads", "2", "--time-limit", "2", "--progress"]) == 0
    out, err = capfd.readouterr()
    assert out.startswith("instance:") and "2/2" in err and "sampler" in err


def test_cli_reads_a_bqm_file(tmp_path, capsys):
    path = tmp_path / "model.coo"
    path.write_text(coo.dumps(dimod.generators.ran_r(1, 8, seed=2), vartype_header=True))
    assert main(["compare", str(path), "--samplers", "sa,steepest", "--optimum", "-10", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert str(path) in report["instance"] and "SPIN, 8 variables" in report["instance"]
    assert report["objective_name"] is None
    assert all(run["ratio"] == run["best_energy"] / -10 for run in report["runs"])


def test_cli_reads_a_gset_file(tmp_path, capsys):
    path = tmp_path / "square.txt"
    path.write_text("4 4\n1 2 1\n2 3 1\n3 4 1\n4 1 1\n")
    assert main(["compare", "--problem", "maxcut", str(path), "--samplers", "sa", "--optimum", "4", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["runs"][0]["objective"] == 4 and report["runs"][0]["ratio"] == 1.0


@needs_data
def test_cli_names_the_gset_best_known(capsys):
    path = DATA / "gset" / "G14.txt"
    assert main(["compare", "--problem", "maxcut", str(path), "--samplers", "steepest", "--num-reads", "1", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert "best known cut 3064" in report["instance"]
    assert report["optimum"] == 3064


def _write(path: Path, text: str) -> str:
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize(
    ("arguments", "words"),
    [
        (lambda d: ["compare", _write(d / "bad.coo", "0 1 1\n0 1 x\n")], ["bad.coo, line 2", "'0 1 x'"]),
        (lambda d: ["compare", "--problem", "maxcut", _write(d / "bad.txt", "3 2\n1 2 1\n")], ["bad.txt, line 1", "m=2"]),
        (lambda d: ["compare", str(d / "absent.coo")], ["absent.coo", "No such file"]),
        (lambda d: ["compare", "--samplers", "sa,annealing"], ["unknown sampler 'annealing'", "valid names"]),
        (lambda d: ["compare", _write(d / "nan.coo", "0 1 nan\n")], ["nan.coo, line 1", "finite"]),
        (
            lambda d: [
                "compare",
                _write(d / "large.coo", "".join(f"{i} {i} 1\n" for i in range(TABU_MAX_VARIABLES + 1))),
                "--samplers",
                "sa,tabu",
            ],
            [f"at most {TABU_MAX_VARIABLES} variables", str(TABU_MAX_VARIABLES + 1)],
        ),
        (lambda d: ["compare", "--num-reads", "0"], ["--num-reads", "positive"]),
        (lambda d: ["compare", "--time-limit", "soon"], ["--time-limit"]),
        (lambda d: [], ["required"]),
    ],
    ids=["coo", "gset", "missing", "sampler", "nan", "too-large", "reads", "time-limit", "no-command"],
)
def test_cli_bad_input_is_one_message_and_status_2(tmp_path, capsys, arguments, words):
    assert main(arguments(tmp_path)) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert "Traceback" not in err and "running" not in err
    for word in words:
        assert word in err


def test_cli_nan_in_json_names_the_file(tmp_path, capsys):
    serializable = dimod.BQM({0: 1.0, 1: 2.0}, {(0, 1): 1.0}, 0.0, "SPIN").to_serializable()
    serializable["quadratic_biases"] = [float("inf")]
    path = tmp_path / "inf.json"
    path.write_text(json.dumps(serializable))
    assert main(["compare", str(path)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and str(path) in err and "finite" in err


@pytest.mark.slow  # a fresh interpreter spends seconds importing torch
def test_command_exits_with_status_2_as_a_process():
    completed = subprocess.run(
        [sys.executable, "-m", "gnnsolve.cli", "compare", "--samplers", "nope"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 2
    assert completed.stdout == ""
    assert completed.stderr.strip() == (f"gnnsolve: error: unknown sampler 'nope'; valid names: {', '.join(sampler_names())}")


@needs_data
def test_builtin_instance_is_the_pignn_benchmark_graph_with_its_proven_optimum():
    edgelist = DATA / "pignn_dregular" / "reg_n100_d3_seed0.edgelist"
    stored = nx.read_edgelist(edgelist, nodetype=int)
    builtin = builtin_regular_graph()
    assert {frozenset(edge) for edge in builtin.edges} == {frozenset(edge) for edge in stored.edges}
    optima = json.loads((DATA / "pignn_dregular" / "optima.json").read_text())
    (record,) = [row for row in optima if row["file"] == edgelist.name]
    assert record["maxcut"] == BUILTIN_MAXCUT_OPTIMUM


@pytest.mark.slow
def test_cli_default_comparison_on_the_builtin_instance(capsys):
    assert main(["compare", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    names = [run["sampler"] for run in report["runs"]]
    assert {"sa", "tabu", "steepest"} <= set(names)
    assert max(run["objective"] for run in report["runs"]) <= BUILTIN_MAXCUT_OPTIMUM
    if report["bound"] is not None:
        assert report["bound"] <= report["best_energy"] + 1e-6


# ---------------------------------------------------------------- graph problems


@pytest.mark.parametrize(("kind", "name"), [("mis", "set size"), ("tsp", "tour length")])
def test_cli_builtin_graph_problems_report_decoded_objectives(kind, name, capsys):
    assert main(["compare", "--problem", kind, "--samplers", "sa,steepest", "--num-reads", "4", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["objective_name"] == name and report["optimum"] is not None
    for run in report["runs"]:
        assert run["feasible"] is True
        assert run["ratio"] == pytest.approx(run["objective"] / report["optimum"])
    if kind == "mis":
        assert all(run["objective"] <= report["optimum"] for run in report["runs"])
    else:
        assert all(run["objective"] >= report["optimum"] - 1e-9 for run in report["runs"])


def test_cli_mis_reads_a_dimacs_file(tmp_path, capsys):
    path = write(tmp_path / "square.col", "c a 4-cycle\np edge 4 4\ne 1 2\ne 2 3\ne 3 4\ne 4 1\n")
    assert main(["compare", "--problem", "mis", str(path), "--samplers", "highs", "--optimum", "2", "--json"]) == 0
    run = json.loads(capsys.readouterr().out)["runs"][0]
    assert run["objective"] == 2 and run["feasible"] and run["ratio"] == 1.0


@needs_data
def test_cli_tsp_names_the_tsplib_optimum(capsys):
    path = DATA / "tsplib" / "ulysses22.tsp"
    assert main(["compare", "--problem", "tsp", str(path), "--samplers", "sa", "--num-reads", "2", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert "optimal tour 7013" in report["instance"] and report["optimum"] == 7013
    assert report["runs"][0]["feasible"] and report["runs"][0]["ratio"] >= 1.0


@needs_data
def test_cli_mis_names_the_bhoslib_optimum(capsys):
    path = DATA / "bhoslib" / "frb30-15-1.mis"
    assert main(["compare", "--problem", "mis", str(path), "--samplers", "steepest", "--num-reads", "1", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert "maximum independent set 30" in report["instance"] and report["optimum"] == 30
    assert report["runs"][0]["objective"] <= 30


def test_cli_rejects_a_tsp_with_two_cities(tmp_path, capsys):
    path = write(
        tmp_path / "pair.tsp",
        "NAME: pair\nTYPE: TSP\nDIMENSION: 2\nEDGE_WEIGHT_TYPE: EUC_2D\nNODE_COORD_SECTION\n1 0 0\n2 3 4\nEOF\n",
    )
    assert main(["compare", "--problem", "tsp", str(path), "--samplers", "sa"]) == 2
    assert "at least 3 cities" in capsys.readouterr().err


def test_cli_time_limit_defaults_to_each_samplers_budget_and_accepts_inf():
    from gnnsolve.cli import _parser

    parser = _parser()
    assert parser.parse_args(["compare"]).time_limit is None
    assert parser.parse_args(["compare", "--time-limit", "inf"]).time_limit == math.inf
    assert parser.parse_args(["compare", "--time-limit", "2.5"]).time_limit == 2.5
    for bad in ("0", "-1", "nan", "soon"):
        with pytest.raises(SystemExit):
            parser.parse_args(["compare", "--time-limit", bad])


# ---------------------------------------------------------------- graph-native problems


def test_a_graph_native_problem_is_compared_without_a_bqm_with_ratios_to_the_best_row():
    from gnnsolve.adapters.clustering import Modularity

    problem = Modularity(nx.karate_club_graph(), k=4)
    result = compare(None, ["louvain"], num_reads=2, seed=0, problem=problem)
    assert result.num_variables is None and result.ratio_to == "best row" and result.objective_name == "modularity"
    assert [run.name for run in result.runs] == ["louvain"] and result.runs[0].ratio == 1.0
    assert "ratio = value / the best feasible modularity found" in result.table()


def test_samplers_that_cannot_take_the_problem_are_skipped_from_the_default_list(monkeypatch):
    from gnnsolve.adapters.kcenter import KCenter

    monkeypatch.setitem(compare_module.PROBLEM_SAMPLERS, "KCenter", ("gonzalez", "louvain", "sa"))
    result = compare(None, problem=KCenter(nx.cycle_graph(12), k=3), seed=0)
    assert [run.name for run in result.runs] == ["gonzalez"] and result.runs[0].objective <= 2 * 2  # optimum 2
    assert any("louvain skipped: louvain takes Modularity problems, not KCenter" in note for note in result.notes)
    assert any(note.startswith("sa skipped:") for note in result.notes)


@pytest.mark.parametrize(
    ("names", "words"),
    [(["gonzalez"], "takes KCenter problems, not a BQM"), (["louvain"], "takes Modularity problems, not a BQM")],
)
def test_a_named_graph_native_sampler_given_a_bqm_is_refused(small_bqm, names, words):
    from gnnsolve.errors import UnsupportedModelError

    with pytest.raises(UnsupportedModelError, match=words):
        compare(small_bqm, names)


def test_compare_needs_a_model_or_a_problem():
    with pytest.raises(ValueError, match="give a model"):
        compare(None, ["sa"])


def test_cli_compares_the_builtin_multicut_with_elf_and_the_search(capsys):
    pytest.importorskip("elf", reason="python-elf is not installed")
    assert main(["compare", "--problem", "multicut", "--samplers", "elf,multicut", "--time-limit", "3"]) == 0
    table = capsys.readouterr().out
    assert "multicut on an Erdős–Rényi graph, 100 nodes" in table and "cut cost" in table and "elf " in table


@needs_data
def test_cli_reads_a_cplib_file_with_its_optimum_as_a_least_cut_cost(capsys):
    path = DATA / "cplib" / "ABR" / "cars.txt"
    assert main(["compare", "--problem", "multicut", str(path), "--samplers", "multicut", "--time-limit", "5", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["optimum"] == -185 and result["ratio_to"] == "optimum" and result["runs"][0]["ratio"] <= 1


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--problem", "maxcut", "--k", "3"], "--k applies to --problem modularity and kcenter"),
        (["--problem", "mis", "--max-cities", "20"], "--max-cities applies to --problem tsp"),
        (["--problem", "tsp", "--max-cities", "5"], "max_cities"),
    ],
)
def test_cli_options_of_other_problems_and_a_city_limit_are_usage_errors(argv, words, capsys):
    assert main(["compare", *argv]) == 2
    assert words in capsys.readouterr().err


def test_cli_modularity_from_a_file_needs_k(tmp_path, capsys):
    path = tmp_path / "g.edgelist"
    path.write_text("0 1\n1 2\n2 0\n2 3\n")
    assert main(["compare", "--problem", "modularity", str(path), "--samplers", "louvain"]) == 2
    assert "modularity needs k" in capsys.readouterr().err
    assert main(["compare", "--problem", "modularity", str(path), "--k", "2", "--samplers", "louvain"]) == 0


def test_each_problem_lists_its_learned_sampler_beside_the_classical_reference():
    from gnnsolve.instances import builtin_instance

    expected = {"tsp": "lkh", "modularity": "louvain", "kcenter": "gonzalez", "multicut": "elf"}
    for kind, reference in expected.items():
        names = compare_module.default_samplers(builtin_instance(kind).problem)
        assert reference in names and set(names) <= set(sampler_names())
    assert compare_module.default_samplers(None) == compare_module.DEFAULT_SAMPLERS


def test_cli_sets_lkh_beside_the_gnn_on_the_builtin_tsp(capsys):
    pytest.importorskip("elkai", reason="elkai is not installed")
    assert main(["compare", "--problem", "tsp", "--samplers", "lkh,steepest", "--num-reads", "2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    lkh = next(line for line in lines if line.startswith("lkh"))
    assert lkh.split()[-1] == "1.0000"  # LKH's tour is the proven optimum
