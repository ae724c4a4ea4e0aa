"""GNNSampler (PI-GNN): dimod conformance, quality on proven optima, seeds, composites, bad input."""

import json
import math
import time
import unittest

import dimod
import dimod.testing
import networkx as nx
import numpy as np
import pytest
import torch
from dwave.preprocessing import SpinReversalTransformComposite
from dwave.samplers import SteepestDescentComposite
from hypothesis import given, settings
from hypothesis import strategies as st
from torch_geometric.nn import GCNConv, SAGEConv
from torch_geometric.utils import from_networkx

from gnnsolve import GNNSampler, HiGHSSampler
from gnnsolve.adapters.datasets import shared_data_dir
from gnnsolve.adapters.graphs import maxcut_bqm
from gnnsolve.errors import InvalidModelError
from gnnsolve.nn.pignn import GraphOperators, ReplicaGCNConv, ReplicaSAGEConv
from gnnsolve.qubo import CompiledBQM
from gnnsolve.samplers.pignn import DEFAULT_SWEEPS, choose_conv, default_time_limit, sample_rounding


def _quick_sampler():
    return _QuickGNN()


class _QuickGNN(GNNSampler):
    """A GNNSampler with a short default budget, for dimod's 32-case conformance suite."""

    def sample(self, bqm, **kwargs):
        kwargs.setdefault("max_epochs", 60)
        return super().sample(bqm, **kwargs)


@dimod.testing.load_sampler_bqm_tests(_quick_sampler)
class TestDimodConformance(unittest.TestCase):
    pass


# ------------------------------------------------------------------ the network


@pytest.mark.parametrize("conv", ["gcn", "sage"])
def test_replica_layers_compute_what_pyg_layers_compute(conv):
    G = nx.gnm_random_graph(25, 60, seed=2)
    G.add_node(25)  # an isolated node
    edge_index = from_networkx(G).edge_index
    graph = GraphOperators.build(edge_index, 26, conv)
    x = torch.randn(3, 26, 5, generator=torch.Generator().manual_seed(0))
    layer = (ReplicaGCNConv if conv == "gcn" else ReplicaSAGEConv)(3, 5, 4)
    layer.reset_parameters(torch.Generator().manual_seed(1))
    out = layer(x, graph)
    for r in range(3):
        if conv == "gcn":
            ref = GCNConv(5, 4)
            ref.lin.weight.data = layer.weight[r].T.clone()
            ref.bias.data = layer.bias[r, 0].clone()
        else:
            ref = SAGEConv(5, 4)
            ref.lin_l.weight.data = layer.weight_neighbours[r].T.clone()
            ref.lin_l.bias.data = layer.bias[r, 0].clone()
            ref.lin_r.weight.data = layer.weight_root[r].T.clone()
        torch.testing.assert_close(out[r], ref(x[r], edge_index), atol=1e-5, rtol=1e-5)


def test_signed_operator_is_the_normalised_couplings_with_their_signs():
    bqm = dimod.BQM({}, {(0, 1): 2.0, (1, 2): -1.0, (0, 3): 0.5}, 0.0, "BINARY")
    bqm.add_variable(4)  # isolated: its own features only
    model = CompiledBQM(bqm)
    graph = GraphOperators.build(model.edge_index(), 5, "signed", model.edge_weights())
    J = np.zeros((5, 5))
    J[model.rows, model.cols] = J[model.cols, model.rows] = model.quadratic
    J /= np.abs(model.quadratic).mean()
    norm = 1 / np.sqrt(1 + np.abs(J).sum(axis=1))
    expected = norm[:, None] * (np.eye(5) - J) * norm[None, :]
    np.testing.assert_allclose(graph.propagate.matrix.to_dense().numpy(), expected, rtol=1e-6)
    with pytest.raises(ValueError, match="weight"):
        GraphOperators.build(model.edge_index(), 5, "signed")


def test_auto_convolution_is_signed_where_couplings_have_both_signs():
    frustrated = dimod.generators.ran_r(1, 12, seed=0)
    maxcut = maxcut_bqm(nx.cycle_graph(6))
    assert choose_conv(CompiledBQM(frustrated)) == "signed" and choose_conv(CompiledBQM(maxcut)) == "gcn"
    assert GNNSampler().sample(frustrated, seed=0, max_epochs=20).info["conv"] == "signed"
    assert GNNSampler().sample(maxcut, seed=0, max_epochs=20).info["conv"] == "gcn"
    assert GNNSampler().sample(frustrated, seed=0, max_epochs=20, conv="sage").info["conv"] == "sage"


def toroidal_spin_glass(rows: int, cols: int, seed: int) -> dimod.BinaryQuadraticModel:
    rng = np.random.default_rng(seed)
    couplings = {}
    for r in range(rows):
        for c in range(cols):
            for neighbour in (r * cols + (c + 1) % cols, ((r + 1) % rows) * cols + c):
                couplings[(r * cols + c, neighbour)] = float(rng.choice([-1.0, 1.0]))
    return dimod.BQM.from_ising({}, couplings)


def test_signed_network_sees_frustration_the_unsigned_one_cannot():
    """On a ±1 toroidal spin glass the rounded states of the signed network are far lower."""
    bqm = toroidal_spin_glass(16, 16, seed=4)
    raw = {
        conv: GNNSampler()
        .sample(bqm, num_reads=2, seed=0, max_epochs=600, time_limit=math.inf, conv=conv, polish=False)
        .first.energy
        for conv in ("gcn", "signed")
    }
    assert raw["signed"] < 0.9 * raw["gcn"] < 0  # energies are negative: lower by more than 10 %


def test_annealing_runs_its_schedule_before_convergence_is_tested():
    bqm = dimod.generators.ran_r(1, 30, seed=1)
    plain = GNNSampler().sample(bqm, seed=0, time_limit=math.inf, patience=20)
    annealed = GNNSampler().sample(bqm, seed=0, time_limit=math.inf, patience=20, anneal=1.0, anneal_epochs=400)
    assert plain.info["epochs"] < 400 <= annealed.info["epochs"]
    assert annealed.info["stop_reason"] == "converged"
    dimod.testing.assert_sampleset_energies(annealed, bqm)


def test_replicas_are_independent():
    """Training replicas together gives each the gradient it would get alone."""
    bqm = dimod.generators.ran_r(1, 20, seed=5)
    together = GNNSampler().sample(bqm, num_reads=3, seed=7, max_epochs=1, polish=False)
    assert len(together) == 3
    from gnnsolve.nn.pignn import PIGNN
    from gnnsolve.qubo import CompiledBQM

    model = CompiledBQM(bqm)
    graph = GraphOperators.build(model.edge_index(), 20, "gcn")
    net = PIGNN(20, 3, 8, 4, generator=torch.Generator().manual_seed(0))
    model.relaxed_energies(net(graph)).sum().backward()
    joint = net.embedding.grad.clone()
    for r in range(3):
        net.zero_grad()
        model.relaxed_energies(net(graph))[r].backward()
        torch.testing.assert_close(net.embedding.grad[r], joint[r])
        assert float(net.embedding.grad[[i for i in range(3) if i != r]].abs().sum()) == 0.0


# ------------------------------------------------------------------ answers


def _dregular_instances():
    data = shared_data_dir()
    if data is None or not (data / "pignn_dregular" / "optima.json").exists():
        return []
    folder = data / "pignn_dregular"
    return [(folder / rec["file"], rec["maxcut"]) for rec in json.loads((folder / "optima.json").read_text())]


@pytest.mark.skipif(not _dregular_instances(), reason="../shared/data/pignn_dregular is missing")
@pytest.mark.parametrize("path,optimum", _dregular_instances(), ids=lambda p: getattr(p, "stem", str(p)))
def test_maxcut_within_one_percent_of_proven_optimum(path, optimum):
    G = nx.read_edgelist(path, nodetype=int)
    sampleset = GNNSampler().sample(maxcut_bqm(G), num_reads=16, seed=0, max_epochs=2000)
    assert -sampleset.first.energy >= 0.99 * optimum


def test_finds_ground_state_of_small_frustrated_models():
    for seed in range(3):
        bqm = dimod.generators.ran_r(1, 10, seed=seed)
        ground = dimod.ExactSolver().sample(bqm).first.energy
        assert GNNSampler().sample(bqm, num_reads=8, seed=seed, max_epochs=300).first.energy == ground


def test_same_seed_gives_same_samples():
    bqm = dimod.generators.ran_r(1, 40, seed=1)
    a = GNNSampler().sample(bqm, num_reads=4, seed=11, max_epochs=150, polish=False)
    b = GNNSampler().sample(bqm, num_reads=4, seed=11, max_epochs=150, polish=False)
    assert np.array_equal(a.record.sample, b.record.sample)
    assert a.info["relaxed_loss"] == b.info["relaxed_loss"]


def test_polish_only_lowers_energy_and_reaches_local_minima():
    bqm = dimod.generators.ran_r(1, 60, seed=2)
    sampleset = GNNSampler().sample(bqm, num_reads=4, seed=0, max_epochs=30)
    assert (sampleset.record.energy <= sampleset.record.raw_energy + 1e-9).all()
    for sample, energy in sampleset.data(["sample", "energy"]):
        for v in bqm.variables:
            flipped = dict(sample)
            flipped[v] = -flipped[v]
            assert bqm.energy(flipped) >= energy
    raw = GNNSampler().sample(bqm, num_reads=4, seed=0, max_epochs=30, polish=False)
    np.testing.assert_array_equal(raw.record.energy, raw.record.raw_energy)
    np.testing.assert_array_equal(raw.record.energy, sampleset.record.raw_energy)


@pytest.mark.parametrize("conv", ["gcn", "sage", "signed", "auto"])
def test_info_and_energies(conv):
    bqm = dimod.BQM({"a": 1.0, ("b", 2): -0.5}, {("a", ("b", 2)): 2.0, ("a", "c"): -1.0}, 3.0, "BINARY")
    sampleset = GNNSampler().sample(bqm, num_reads=5, seed=3, max_epochs=50, conv=conv)
    assert len(sampleset) == 5 and sampleset.vartype is dimod.BINARY
    for sample, energy in sampleset.data(["sample", "energy"]):
        assert energy == pytest.approx(bqm.energy(sample))
    info = sampleset.info
    assert set(info["timing"]) == {"preprocessing_ns", "sampling_ns", "postprocessing_ns"}
    assert all(isinstance(t, int) and t > 0 for t in info["timing"].values()), "every phase (polish included) is timed"
    assert 1 <= info["epochs"] <= 50
    assert info["stop_reason"] in {"converged", "max_epochs", "time_limit"}
    assert len(info["relaxed_loss"]) == 5


def test_early_stopping_on_tolerance_and_patience():
    bqm = dimod.generators.ran_r(1, 12, seed=0)
    sampleset = GNNSampler().sample(bqm, seed=0, max_epochs=100_000, patience=20, tol=1e-3)
    assert sampleset.info["stop_reason"] == "converged"
    assert sampleset.info["epochs"] < 100_000


def test_time_limit_is_honoured():
    G = nx.random_regular_graph(3, 2000, seed=0)
    bqm = maxcut_bqm(G)
    start = time.perf_counter()
    sampleset = GNNSampler().sample(bqm, num_reads=8, seed=0, time_limit=1.0, max_epochs=10**6, patience=10**6)
    elapsed = time.perf_counter() - start
    assert sampleset.info["stop_reason"] == "time_limit"
    assert elapsed < 1.0 + 0.5


def test_default_call_converges_and_reports_its_budget():
    """No keywords: a size-derived budget; a 5-variable model with 100 reads stops on convergence."""
    bqm = dimod.BQM.from_ising({}, {(i, (i + 1) % 5): 1.0 for i in range(5)})
    assert GNNSampler().sample(bqm, seed=0).info["time_limit"] == default_time_limit(5, 5)
    sampleset = GNNSampler().sample(bqm, num_reads=100, seed=0, time_limit=math.inf)  # epochs, not seconds
    assert sampleset.info["stop_reason"] == "converged"
    assert sampleset.info["epochs"] < 2000
    assert (sampleset.record.energy == -3).all()


def test_convergence_is_relative_to_the_energy_scale():
    """The same model scaled by 10^4 converges after the same number of epochs."""
    bqm = dimod.generators.ran_r(1, 30, seed=5)
    runs = []
    for scale in (1.0, 1e4):
        scaled = bqm.copy()
        scaled.scale(scale)
        runs.append(GNNSampler().sample(scaled, seed=0, time_limit=math.inf).info)
    assert [info["stop_reason"] for info in runs] == ["converged", "converged"]
    assert abs(runs[0]["epochs"] - runs[1]["epochs"]) <= 200


def test_infinite_time_limit_means_none():
    bqm = dimod.generators.ran_r(1, 10, seed=0)
    sampleset = GNNSampler().sample(bqm, seed=0, time_limit=math.inf, max_epochs=50, patience=1000)
    assert sampleset.info["time_limit"] == math.inf
    assert sampleset.info["stop_reason"] == "max_epochs" and sampleset.info["epochs"] == 50


@pytest.mark.parametrize("polish, done", [("descent", "rounds"), ("sa", "sweeps")])
def test_time_limit_covers_a_large_model_and_its_polish(polish, done):
    """Building, training and polishing 50,000 variables fit one second (with a generous margin)."""
    bqm = maxcut_bqm(nx.random_regular_graph(3, 50_000, seed=0))
    start = time.perf_counter()
    sampleset = GNNSampler().sample(bqm, seed=0, time_limit=1.0, polish=polish)
    elapsed = time.perf_counter() - start
    assert elapsed < 1.0 * 1.5 + 2.0
    assert sampleset.info["polish"]["method"] == polish and sampleset.info["polish"][done] > 0
    assert sampleset.first.energy < sampleset.record.raw_energy[0]
    assert sampleset.first.energy == pytest.approx(bqm.energy(sampleset.first.sample))


@pytest.mark.parametrize("threads", [None, 1, 2])
def test_threads_are_set_for_the_call_and_restored(threads):
    before = torch.get_num_threads()
    sampleset = GNNSampler().sample(dimod.generators.ran_r(1, 20, seed=0), seed=0, max_epochs=20, threads=threads)
    assert sampleset.info["threads"] == (1 if threads is None else threads)
    assert torch.get_num_threads() == before


def test_threads_are_restored_after_an_exception(monkeypatch):
    import gnnsolve.samplers.pignn as pignn

    def broken(*args, **kwargs):
        assert torch.get_num_threads() == 3
        raise RuntimeError("training failed")

    monkeypatch.setattr(pignn, "_train", broken)
    before = torch.get_num_threads()
    with pytest.raises(RuntimeError, match="training failed"):
        GNNSampler().sample(dimod.generators.ran_r(1, 20, seed=0), threads=3, time_limit=math.inf)
    assert torch.get_num_threads() == before


# ------------------------------------------------------------------ inside Ocean workflows


def test_inside_dimod_composites():
    bqm = dimod.generators.ran_r(1, 15, seed=4)
    ground = dimod.ExactSolver().sample(bqm).first.energy
    kwargs = dict(seed=0, max_epochs=200, num_reads=4)

    srt = SpinReversalTransformComposite(GNNSampler()).sample(bqm, num_spin_reversal_transforms=2, **kwargs)
    assert len(srt) == 8
    for sample, energy in srt.data(["sample", "energy"]):
        assert energy == pytest.approx(bqm.energy(sample))

    truncated = dimod.TruncateComposite(GNNSampler(), 2).sample(bqm, **kwargs)
    assert len(truncated) == 2
    assert truncated.first.energy == min(srt.record.energy.min(), truncated.first.energy)

    descended = SteepestDescentComposite(GNNSampler()).sample(bqm, polish=False, **kwargs)
    assert descended.first.energy >= ground


# ------------------------------------------------------------------ bad input


def test_non_finite_bias_is_a_clear_error():
    with pytest.raises(InvalidModelError, match="finite"):
        GNNSampler().sample(dimod.BQM({"a": float("nan")}, {}, 0, "SPIN"))


def test_unknown_keyword_warns():
    with pytest.warns(dimod.exceptions.SamplerUnknownArgWarning):
        GNNSampler().sample(dimod.BQM({"a": 1.0}, {}, 0, "SPIN"), max_epochs=5, learning_rat=0.1)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(num_reads=0), "num_reads"),
        (dict(conv="gat"), "conv"),
        (dict(time_limit=-1), "time_limit"),
        (dict(time_limit=float("nan")), "time_limit"),
        (dict(threads=0), "threads"),
        (dict(tol=-1.0), "tol"),
        (dict(learning_rate=0), "learning_rate"),
        (dict(anneal=-1.0), "anneal"),
        (dict(anneal=float("inf")), "anneal"),
        (dict(anneal_epochs=0), "anneal_epochs"),
        (dict(device="tpu"), "device"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        GNNSampler().sample(dimod.BQM({"a": 1.0}, {}, 0, "SPIN"), **kwargs)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message shown when CUDA is absent")
def test_cuda_without_gpu_is_a_clear_error():
    with pytest.raises(RuntimeError, match="CUDA"):
        GNNSampler().sample(dimod.BQM({"a": 1.0}, {}, 0, "SPIN"), device="cuda")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_path_gives_valid_samples():
    bqm = dimod.generators.ran_r(1, 50, seed=0)
    sampleset = GNNSampler().sample(bqm, num_reads=4, seed=0, max_epochs=100, device="cuda")
    for sample, energy in sampleset.data(["sample", "energy"]):
        assert energy == pytest.approx(bqm.energy(sample))


def test_annealing_finisher_is_the_default_and_reproducible_without_a_time_limit():
    """polish="sa" runs DEFAULT_SWEEPS sweeps per read from the learned states: the same seed, the same samples."""
    bqm = dimod.generators.ran_r(1, 60, seed=4)
    runs = [GNNSampler().sample(bqm, num_reads=3, seed=5, max_epochs=100) for _ in range(2)]
    assert runs[0].info["polish"]["method"] == "sa"
    assert runs[0].info["polish"]["sweeps"] == DEFAULT_SWEEPS
    np.testing.assert_array_equal(runs[0].record.sample, runs[1].record.sample)
    assert (runs[0].record.energy <= runs[0].record.raw_energy + 1e-9).all()
    np.testing.assert_allclose(runs[0].record.energy, bqm.energies((runs[0].record.sample, runs[0].variables)))


def test_annealing_finisher_reaches_lower_energies_than_descent():
    """On a frustrated model the annealed states are at least as good as the descended ones, and better here."""
    bqm = dimod.generators.ran_r(1, 150, seed=1)
    kwargs = dict(num_reads=2, seed=0, max_epochs=200)
    descended = GNNSampler().sample(bqm, polish="descent", **kwargs).first.energy
    annealed = GNNSampler().sample(bqm, polish="sa", polish_sweeps=2000, **kwargs).first.energy
    assert annealed < descended


def test_annealing_finisher_fills_an_explicit_time_limit():
    bqm = dimod.generators.ran_r(1, 40, seed=3)
    start = time.perf_counter()
    sampleset = GNNSampler().sample(bqm, seed=0, time_limit=0.6, polish="sa")
    elapsed = time.perf_counter() - start
    assert elapsed < 0.6 * 1.05 + 0.5
    info = sampleset.info["polish"]
    assert info["sweeps"] > DEFAULT_SWEEPS  # far more than the fixed default fits in the time left
    assert info["beta_range"][1] == pytest.approx(max(info["beta_range"]))


@pytest.mark.parametrize(
    "polish, sweeps, message",
    [
        ("anneal", None, "polish must be"),
        (1, None, "polish must be"),
        ("descent", 100, "polish_sweeps"),
        (False, 100, "polish_sweeps"),
        ("sa", 0, "polish_sweeps"),
        ("sa", 2.5, "polish_sweeps"),
    ],
)
def test_bad_polish_is_refused(polish, sweeps, message):
    with pytest.raises(ValueError, match=message):
        GNNSampler().sample(dimod.generators.ran_r(1, 5, seed=0), polish=polish, polish_sweeps=sweeps)


def test_auto_takes_graphsage_on_a_dense_penalty_model():
    """A knapsack QUBO (every pair of its variables interacts): the GCN's outputs come out alike and its
    rounded state pays the penalty many times over; GraphSAGE's keeps to the constraint's scale."""
    bqm, _ = dimod.cqm_to_bqm(dimod.generators.random_knapsack(40, seed=1))
    model = CompiledBQM(bqm)
    assert choose_conv(model) == "sage"
    raw = {
        conv: GNNSampler().sample(bqm, seed=0, num_reads=2, max_epochs=300, conv=conv, polish=False).first.energy
        for conv in ("gcn", "auto")
    }
    assert raw["auto"] < 1e-3 * raw["gcn"]


def test_default_call_packs_a_knapsack_qubo_feasibly_near_its_optimum():
    """``cqm_to_bqm``'s knapsack, no keywords: the finisher's kicks cross the penalty's walls that
    annealing alone cannot, so the answer is feasible and within 2 % of HiGHS's optimum."""
    cqm = dimod.generators.random_knapsack(50, seed=4)
    bqm, invert = dimod.cqm_to_bqm(cqm)
    optimum = HiGHSSampler().sample_cqm(cqm).first.energy
    sampleset = GNNSampler().sample(bqm, seed=0)
    chosen = invert(sampleset.first.sample)
    assert sampleset.info["polish"]["kick_rounds"] > 0
    assert cqm.check_feasible(chosen) and cqm.objective.energy(chosen) <= 0.98 * optimum
    assert sampleset.first.energy == pytest.approx(cqm.objective.energy(chosen))


def test_sampled_rounding_makes_the_raw_knapsack_state_feasible():
    """One replica on ``cqm_to_bqm``'s knapsack: rounded at ½ its state pays the penalty, the best of
    the states drawn from its probabilities is feasible, and the raw energy says which was kept."""
    cqm = dimod.generators.random_knapsack(60, seed=0)
    bqm, invert = dimod.cqm_to_bqm(cqm)
    sampleset = GNNSampler().sample(bqm, seed=0, polish=False)
    chosen = invert(sampleset.first.sample)
    assert cqm.check_feasible(chosen) and sampleset.first.energy == pytest.approx(cqm.objective.energy(chosen))
    assert sampleset.record.raw_energy[0] == pytest.approx(sampleset.first.energy)


@settings(max_examples=20, deadline=None)
@given(n=st.integers(1, 15), replicas=st.integers(1, 3), seed=st.integers(0, 2**31 - 1))
def test_sampled_rounding_is_never_worse_and_reproducible(n, replicas, seed):
    model = CompiledBQM(dimod.generators.uniform(n, "BINARY", low=-1, high=1, seed=seed % 1000))
    generator = np.random.default_rng(seed)
    probs, states = generator.random((replicas, n)), generator.integers(0, 2, (replicas, n), dtype=np.int8)
    best = sample_rounding(model, probs, states, seed)
    assert (model.binary_energies(best) <= model.binary_energies(states) + 1e-12).all()
    np.testing.assert_array_equal(best, sample_rounding(model, probs, states, seed))
