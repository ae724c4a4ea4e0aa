"""CompiledBQM: index form, exact and relaxed energies agree with dimod on every kind of model."""

import dimod
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gnnsolve.errors import InvalidModelError
from gnnsolve.qubo import CompiledBQM

LABELS = st.one_of(
    st.integers(-5, 50),
    st.text(min_size=1, max_size=3),
    st.tuples(st.integers(0, 3), st.text(max_size=1)),
)
BIAS = st.floats(-10, 10, allow_nan=False, allow_infinity=False)


@st.composite
def bqms(draw):
    labels = draw(st.lists(LABELS, min_size=0, max_size=9, unique=True))
    vartype = draw(st.sampled_from([dimod.SPIN, dimod.BINARY]))
    bqm = dimod.BQM(vartype)
    for v in labels:
        bqm.add_variable(v, draw(BIAS))
    if len(labels) > 1:
        pairs = draw(st.lists(st.tuples(st.sampled_from(labels), st.sampled_from(labels)), max_size=20))
        for u, v in pairs:
            if u != v:
                bqm.add_quadratic(u, v, draw(BIAS))
    bqm.offset = draw(BIAS)
    return bqm


def random_states(bqm, count, rng):
    values = [-1, 1] if bqm.vartype is dimod.SPIN else [0, 1]
    return rng.choice(values, size=(count, bqm.num_variables))


@settings(max_examples=150, deadline=None)
@given(bqm=bqms(), seed=st.integers(0, 2**16))
def test_exact_and_relaxed_energies_equal_dimod_on_binary_points(bqm, seed):
    model = CompiledBQM(bqm)
    states = random_states(bqm, 6, np.random.default_rng(seed))
    expected = bqm.energies((states, model.variables))
    np.testing.assert_allclose(model.energies(states), expected, rtol=0, atol=1e-9)
    probs = torch.tensor(model.to_binary(states), dtype=torch.float64)
    relaxed = model.relaxed_energies(probs).numpy()
    np.testing.assert_allclose(relaxed, expected, rtol=0, atol=1e-9)


@settings(max_examples=50, deadline=None)
@given(bqm=bqms())
def test_relaxed_energy_is_the_multilinear_extension(bqm):
    """Inside the cube the relaxed energy is the expectation over independent Bernoulli(p)."""
    model = CompiledBQM(bqm)
    n = model.num_variables
    p = torch.rand(3, n, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    expected = model.offset + p @ torch.from_numpy(model.linear)
    for i, j, J in zip(model.rows, model.cols, model.quadratic):
        expected = expected + J * p[:, i] * p[:, j]
    torch.testing.assert_close(model.relaxed_energies(p), expected, rtol=0, atol=1e-9)


def test_relaxed_energy_gradient_matches_finite_differences():
    bqm = dimod.generators.gnp_random_bqm(8, 0.6, "SPIN", random_state=4)
    model = CompiledBQM(bqm)
    p = torch.rand(2, 8, dtype=torch.float64, generator=torch.Generator().manual_seed(1), requires_grad=True)
    assert torch.autograd.gradcheck(lambda q: model.relaxed_energies(q), (p,))


def test_empty_model_and_isolated_variables():
    empty = CompiledBQM(dimod.BQM({}, {}, 2.5, "SPIN"))
    assert empty.num_variables == 0
    assert empty.energies(np.zeros((2, 0))).tolist() == [2.5, 2.5]
    isolated = dimod.BQM({"a": 1.0, "b": -1.0}, {}, 0.0, "BINARY")
    model = CompiledBQM(isolated)
    assert model.num_interactions == 0
    assert model.energies(np.array([[1, 1], [0, 1]])).tolist() == [0.0, -1.0]


def test_sampleset_is_in_the_users_labels_and_vartype():
    bqm = dimod.BQM({("x", 1): 1.0, "y": -1.0}, {(("x", 1), "y"): 2.0}, 1.0, "SPIN")
    model = CompiledBQM(bqm)
    sampleset = model.sampleset(bqm, np.array([[0, 1], [1, 1]]))
    assert sampleset.vartype is dimod.SPIN
    assert set(sampleset.variables) == {("x", 1), "y"}
    for sample, energy in sampleset.data(["sample", "energy"]):
        assert energy == bqm.energy(sample)


@pytest.mark.parametrize(
    "bqm",
    [
        dimod.BQM({"a": float("nan")}, {}, 0.0, "SPIN"),
        dimod.BQM({"a": 0.0, "b": 0.0}, {("a", "b"): float("inf")}, 0.0, "BINARY"),
        dimod.BQM({"a": 0.0}, {}, float("-inf"), "SPIN"),
    ],
)
def test_non_finite_biases_are_rejected(bqm):
    with pytest.raises(InvalidModelError, match="finite"):
        CompiledBQM(bqm)


def test_rejects_non_bqm():
    with pytest.raises(TypeError, match="BinaryQuadraticModel"):
        CompiledBQM({"a": 1})
