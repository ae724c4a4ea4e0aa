"""A dimod BQM compiled once into index form, with exact and relaxed (batched) energies.

Every backend works on :class:`CompiledBQM` rather than on the user's model: variables become
integer indices ``0..n-1`` (the user's labels are kept only to translate back), the model is
stated in BINARY form

.. math::

    E(x) = c + \\sum_i h_i x_i + \\sum_{(i,j)} J_{ij} x_i x_j, \\qquad x \\in \\{0, 1\\}^n,

and the couplings are held as COO arrays (numpy), a SciPy CSR matrix for exact energies, and a
symmetric torch CSR matrix for the relaxed energy of probability vectors :math:`p \\in [0,1]^n`,
which is the same polynomial evaluated off the corners of the hypercube (the PI-GNN loss).

Example:
    >>> import dimod, numpy as np, torch
    >>> from gnnsolve.qubo import CompiledBQM
    >>> bqm = dimod.BQM({"a": 1.0, "b": -2.0}, {("a", "b"): 3.0}, 0.5, "SPIN")
    >>> model = CompiledBQM(bqm)
    >>> model.variables
    ['a', 'b']
    >>> states = np.array([[-1, 1], [1, 1]])
    >>> model.energies(states).tolist() == bqm.energies((states, "ab")).tolist()
    True
    >>> model.relaxed_energies(torch.full((1, 2), 0.5, dtype=torch.float64)).shape
    torch.Size([1])
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Hashable, Sequence

import dimod
import numpy as np
import scipy.sparse
from numpy.typing import ArrayLike

from gnnsolve.errors import InvalidModelError

if TYPE_CHECKING:  # torch is imported by the methods that need it, so the exact samplers load without it
    import torch

    from gnnsolve.nn.sparse import SparseOperator

__all__ = ["CompiledBQM", "check_finite"]


def check_finite(bqm: dimod.BinaryQuadraticModel) -> None:
    """Raise :class:`InvalidModelError` naming the first NaN or infinite bias of ``bqm``."""
    if not math.isfinite(bqm.offset):
        raise InvalidModelError(f"the model's offset is {bqm.offset}; every bias must be finite")
    if bqm.dtype != object:
        vectors = bqm.to_numpy_vectors()
        if np.isfinite(vectors.linear_biases).all() and np.isfinite(vectors.quadratic.biases).all():
            return  # the common case, in bulk: 6 ms instead of 0.6 s per million interactions
    for v, bias in bqm.iter_linear():
        if not math.isfinite(bias):
            raise InvalidModelError(f"variable {v!r} has linear bias {bias}; every bias must be finite")
    for u, v, bias in bqm.iter_quadratic():
        if not math.isfinite(bias):
            raise InvalidModelError(f"interaction ({u!r}, {v!r}) has quadratic bias {bias}; every bias must be finite")


class CompiledBQM:
    """A BQM in BINARY index form.

    Args:
        bqm: Any dimod binary quadratic model, SPIN or BINARY, with any hashable labels.

    Raises:
        InvalidModelError: A bias or the offset is NaN or infinite.
        TypeError: ``bqm`` is not a binary quadratic model.

    Attributes:
        variables: the user's labels in index order.
        vartype: the user's vartype (energies are the same in either form).
        linear: BINARY-form linear biases, shape ``[n]``.
        rows, cols, quadratic: BINARY-form couplings as COO arrays with ``rows < cols``.
        offset: BINARY-form offset.
    """

    def __init__(self, bqm: dimod.BinaryQuadraticModel) -> None:
        if not isinstance(bqm, dimod.BinaryQuadraticModel):
            raise TypeError(
                f"expected a dimod.BinaryQuadraticModel, got {type(bqm).__name__}; "
                "build one with dimod.BQM(...) or dimod.BQM.from_qubo(...)"
            )
        if bqm.dtype == object:
            bqm = dimod.BinaryQuadraticModel(bqm, dtype=np.float64)
        check_finite(bqm)
        self.vartype = bqm.vartype
        self.variables: list[Hashable] = list(bqm.variables)
        self.index = {v: i for i, v in enumerate(self.variables)}
        binary = bqm if bqm.vartype is dimod.BINARY else bqm.change_vartype(dimod.BINARY, inplace=False)
        vectors = binary.to_numpy_vectors(self.variables)
        irow, icol, qdata = vectors.quadratic
        n = len(self.variables)
        lo, hi = np.minimum(irow, icol), np.maximum(irow, icol)
        self.linear = np.asarray(vectors.linear_biases, dtype=np.float64).reshape(n)
        self.rows = np.asarray(lo, dtype=np.int64)
        self.cols = np.asarray(hi, dtype=np.int64)
        self.quadratic = np.asarray(qdata, dtype=np.float64)
        self.offset = float(vectors.offset)
        self._upper = scipy.sparse.csr_matrix((self.quadratic, (self.rows, self.cols)), shape=(n, n), dtype=np.float64)
        self._torch_cache: dict[tuple[str, torch.dtype], tuple[SparseOperator, torch.Tensor]] = {}

    @property
    def num_variables(self) -> int:
        return len(self.variables)

    @property
    def num_interactions(self) -> int:
        return len(self.quadratic)

    # ------------------------------------------------------------------ exact energies

    def to_binary(self, states: np.ndarray) -> np.ndarray:
        """States in the user's vartype (index order) as 0/1 states."""
        states = np.atleast_2d(np.asarray(states))
        if self.vartype is dimod.SPIN:
            return (states > 0).astype(np.int8)
        return states.astype(np.int8)

    def from_binary(self, x: np.ndarray) -> np.ndarray:
        """0/1 states as states in the user's vartype (``int8``)."""
        x = np.atleast_2d(np.asarray(x)).astype(np.int8)
        return 2 * x - 1 if self.vartype is dimod.SPIN else x

    def binary_energies(self, x: np.ndarray) -> np.ndarray:
        """Exact energies of 0/1 states of shape ``[num_states, n]``."""
        x = np.atleast_2d(np.asarray(x, dtype=np.float64))
        if x.shape[1] != self.num_variables:
            raise ValueError(f"states have {x.shape[1]} columns, the model has {self.num_variables} variables")
        pair = np.asarray((self._upper @ x.T).T) if self.num_interactions else np.zeros_like(x)
        return self.offset + x @ self.linear + np.einsum("ij,ij->i", pair, x)

    def energies(self, states: np.ndarray) -> np.ndarray:
        """Exact energies of states given in the user's vartype, shape ``[num_states, n]``."""
        return self.binary_energies(self.to_binary(states))

    # ------------------------------------------------------------------ relaxed energies

    def torch_terms(
        self, device: torch.device | str = "cpu", dtype: torch.dtype | None = None
    ) -> tuple[SparseOperator, torch.Tensor]:
        """The symmetric coupling operator and the linear biases as torch tensors (cached).

        ``dtype`` defaults to ``torch.float64``.
        """
        import torch

        from gnnsolve.nn.sparse import SparseOperator

        dtype = torch.float64 if dtype is None else dtype
        key = (str(device), dtype)
        if key not in self._torch_cache:
            rows = torch.from_numpy(np.concatenate([self.rows, self.cols]))
            cols = torch.from_numpy(np.concatenate([self.cols, self.rows]))
            values = torch.from_numpy(np.concatenate([self.quadratic, self.quadratic])).to(dtype)
            coupling = SparseOperator.from_coo(rows, cols, values, self.num_variables, symmetric=True)
            linear = torch.from_numpy(self.linear).to(dtype)
            self._torch_cache[key] = (coupling.to(device), linear.to(device))
        return self._torch_cache[key]

    def relaxed_energies(self, probs: torch.Tensor) -> torch.Tensor:
        """Energies of probability vectors ``probs`` of shape ``[num_reads, n]`` (differentiable).

        On 0/1 points this is the exact energy; inside the hypercube it is the multilinear
        extension :math:`c + p^\\top h + \\tfrac12 p^\\top J_{sym} p`.
        """
        if probs.dim() != 2 or probs.shape[1] != self.num_variables:
            raise ValueError(f"expected probabilities of shape [num_reads, {self.num_variables}], got {tuple(probs.shape)}")
        coupling, linear = self.torch_terms(probs.device, probs.dtype)
        energy = probs @ linear + self.offset
        if self.num_interactions:
            field = coupling.matmul(probs.T).T
            energy = energy + 0.5 * (probs * field).sum(dim=1)
        return energy

    # ------------------------------------------------------------------ graph

    def edge_index(self) -> torch.Tensor:
        """The interaction graph as a PyG ``edge_index`` (both directions), shape ``[2, 2m]``."""
        import torch

        rows = np.concatenate([self.rows, self.cols])
        cols = np.concatenate([self.cols, self.rows])
        return torch.from_numpy(np.stack([rows, cols]))

    def edge_weights(self) -> torch.Tensor:
        """The BINARY coupling of each column of :meth:`edge_index`, shape ``[2m]``."""
        import torch

        return torch.from_numpy(np.concatenate([self.quadratic, self.quadratic]))

    def sampleset(
        self,
        bqm: dimod.BinaryQuadraticModel,
        x: np.ndarray,
        *,
        info: dict | None = None,
        **vectors: ArrayLike,
    ) -> dimod.SampleSet:
        """A SampleSet of 0/1 states ``x`` in the user's labels and vartype, energies on ``bqm``.

        Its variables are sorted where the labels allow, as dimod's own samplers return them
        (dimod's sort is skipped when the labels are already in order: on 10⁵ variables it
        costs most of the call).
        """
        states = self.from_binary(x)
        return dimod.SampleSet.from_samples_bqm(
            (states, self.variables), bqm, info=info or {}, sort_labels=not self._labels_in_order(), **vectors
        )

    def _labels_in_order(self) -> bool:
        labels: Sequence[Any] = self.variables  # compared whatever they are: labels that do not order raise TypeError
        try:
            return all(a < b for a, b in zip(labels, labels[1:]))
        except TypeError:  # labels of mixed types: dimod leaves them unsorted too
            return True
