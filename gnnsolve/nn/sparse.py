"""Sparse-times-dense products with a cheap backward pass.

``torch.sparse.mm`` on a CSR matrix is fast forward but its autograd backward also builds the
gradient of the sparse operand, which costs far more than the product itself. gnnsolve never
learns the sparse operand (a coupling matrix or a normalised adjacency), so :func:`spmm` only
differentiates with respect to the dense operand: the backward of ``Y = A X`` is ``A^T G``,
one more sparse product with a transpose kept beside ``A``.

Example:
    >>> import torch
    >>> from gnnsolve.nn.sparse import SparseOperator
    >>> dense = torch.tensor([[0.0, 1.0], [1.0, 0.0]])
    >>> op = SparseOperator.from_dense(dense, symmetric=True)
    >>> x = torch.ones(2, 3, requires_grad=True)
    >>> op.matmul(x).sum().backward()
    >>> x.grad.tolist()
    [[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]]
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import torch

__all__ = ["SparseOperator", "spmm"]


class _SpMM(torch.autograd.Function):
    @staticmethod
    def forward(ctx, matrix: torch.Tensor, matrix_t: torch.Tensor, dense: torch.Tensor):
        ctx.matrix_t = matrix_t
        return matrix @ dense

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        return None, None, ctx.matrix_t @ grad


def spmm(matrix: torch.Tensor, matrix_t: torch.Tensor, dense: torch.Tensor) -> torch.Tensor:
    """Return ``matrix @ dense``, differentiable in ``dense`` only (``matrix_t`` is its transpose)."""
    if dense.requires_grad:
        return _SpMM.apply(matrix, matrix_t, dense)
    return matrix @ dense


@dataclass(frozen=True)
class SparseOperator:
    """A fixed sparse ``n x n`` matrix in CSR form, with its transpose for the backward pass."""

    matrix: torch.Tensor
    matrix_t: torch.Tensor

    @classmethod
    def from_coo(
        cls,
        rows: torch.Tensor,
        cols: torch.Tensor,
        values: torch.Tensor,
        size: int,
        *,
        symmetric: bool = False,
    ) -> "SparseOperator":
        """Build from COO triplets (duplicates are summed)."""
        with warnings.catch_warnings():
            # torch marks CSR as beta; construction and sparse @ dense are all gnnsolve uses.
            warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta state")
            warnings.filterwarnings("ignore", message="Sparse invariant checks are implicitly")
            coo = torch.sparse_coo_tensor(torch.stack([rows, cols]), values, (size, size)).coalesce()
            matrix = coo.to_sparse_csr()
            matrix_t = matrix if symmetric else coo.t().coalesce().to_sparse_csr()
        return cls(matrix, matrix_t)

    @classmethod
    def from_dense(cls, dense: torch.Tensor, *, symmetric: bool = False) -> "SparseOperator":
        """Build from a dense square matrix (used in tests and examples)."""
        rows, cols = dense.nonzero(as_tuple=True)
        return cls.from_coo(rows, cols, dense[rows, cols], dense.shape[0], symmetric=symmetric)

    def matmul(self, dense: torch.Tensor) -> torch.Tensor:
        """``A @ dense`` for a dense ``[n, k]`` tensor."""
        return spmm(self.matrix, self.matrix_t, dense)

    def to(self, device: torch.device | str) -> "SparseOperator":
        """The same operator on another device."""
        if self.matrix_t is self.matrix:
            moved = self.matrix.to(device)
            return SparseOperator(moved, moved)
        return SparseOperator(self.matrix.to(device), self.matrix_t.to(device))
