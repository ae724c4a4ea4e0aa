r"""Differentiable soft k-means: the clustering layer of ClusterNet.

Implements the layer of Wilder, Ewing, Dilkina and Tambe, "End to End Learning and Optimization
on Graphs", NeurIPS 2019. The embeddings :math:`x_j` are scaled to unit length, and the centres
:math:`\mu_k` are iterated to a fixed point of

.. math::

    r_{jk} = \operatorname{softmax}_k\left(\beta\, x_j^\top \mu_k\right), \qquad
    \mu_k \leftarrow \frac{\sum_j r_{jk}\, x_j}{\sum_j r_{jk}},

where :math:`\beta > 0` is the inverse temperature. The layer returns the soft assignments
:math:`r` (rows sum to 1) and the centres :math:`\mu`.

The forward iteration runs without recording a graph; the gradient comes from one extra,
differentiable update :math:`\mu = f(\mu^*, X)` from the fixed point :math:`\mu^*`:

``backward="one_step"``
    The paper's approximation: gradients reach :math:`X` only through that last update, as if
    :math:`\mu^*` did not depend on :math:`X`.
``backward="exact"``
    The implicit function theorem: :math:`d\mu^*/dX = (I - \partial f/\partial\mu)^{-1}
    \partial f/\partial X`. A hook on :math:`\mu` replaces its incoming gradient :math:`g` by the
    solution of :math:`(I - \partial f/\partial\mu)^\top v = g`, solved densely. Forming the
    :math:`kd \times kd` Jacobian costs :math:`kd` vector-Jacobian products (batched, each
    :math:`O(nkd)`) and :math:`(kd)^2` memory; the solve costs :math:`O((kd)^3)`. At
    :math:`k = 50, d = 100` that is a 5000 × 5000 matrix (200 MB in float64). The gradient is
    exact only at a fixed point: check ``converged``.

Rows of zero norm stay zero: such a point is equally similar to every centre.

Example:
    >>> import torch
    >>> from gnnsolve.nn.kmeans import SoftKMeans
    >>> x = torch.tensor([[1.0, 0.1], [1.0, -0.1], [0.1, 1.0], [-0.1, 1.0]], requires_grad=True)
    >>> out = SoftKMeans(k=2, beta=10.0)(x, init=x[[0, 2]].detach())
    >>> out.assignments.argmax(dim=1), out.converged
    (tensor([0, 0, 1, 1]), True)
    >>> out.assignments[:, 0].sum().backward()
    >>> x.grad.shape
    torch.Size([4, 2])
"""

from __future__ import annotations

import math
from collections.abc import Callable
from numbers import Real
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "BACKWARDS",
    "KMeansResult",
    "SoftKMeans",
    "kmeans_plus_plus",
    "kmeans_update",
    "soft_kmeans",
]

BACKWARDS = ("exact", "one_step")


class KMeansResult(NamedTuple):
    """What :func:`soft_kmeans` returns.

    ``iterations`` counts the updates of the fixed-point loop (the final differentiable update is
    not counted); ``converged`` says whether the last of them moved no centre coordinate by more
    than ``tol``.
    """

    assignments: torch.Tensor
    centres: torch.Tensor
    iterations: int
    converged: bool


def kmeans_update(x: torch.Tensor, mu: torch.Tensor, beta: float) -> torch.Tensor:
    """One soft k-means update: the ``softmax(beta * x @ mu.T)``-weighted means of ``x``'s rows."""
    r = torch.softmax(beta * x @ mu.T, dim=1)
    mass = r.sum(dim=0).clamp_min(torch.finfo(r.dtype).tiny)
    return (r.T @ x) / mass[:, None]


def kmeans_plus_plus(x: torch.Tensor, k: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """Pick ``k`` rows of ``x`` as initial centres, each with probability proportional to its
    squared distance from the nearest row already picked (k-means++)."""
    n = x.shape[0]
    first = torch.randint(n, (1,), generator=generator, device=x.device)
    centres = x[first]
    nearest = torch.cdist(x, centres).squeeze(1).square()
    for _ in range(1, k):
        weights = nearest if nearest.sum() > 0 else torch.ones_like(nearest)
        pick = torch.multinomial(weights, 1, generator=generator)
        centres = torch.cat([centres, x[pick]])
        nearest = torch.minimum(nearest, torch.cdist(x, x[pick]).squeeze(1).square())
    return centres


def _implicit_gradient(
    x: torch.Tensor, mu_star: torch.Tensor, beta: float
) -> Callable[[torch.Tensor | None], torch.Tensor | None]:
    """A hook mapping the gradient ``g`` of ``mu`` to the solution of ``(I - df/dmu)^T v = g``."""

    def hook(grad: torch.Tensor | None) -> torch.Tensor | None:
        if grad is None:
            return None
        size = mu_star.numel()
        jacobian = torch.func.jacrev(lambda mu: kmeans_update(x, mu, beta))(mu_star)
        jacobian = jacobian.reshape(size, size)
        eye = torch.eye(size, dtype=grad.dtype, device=grad.device)
        return torch.linalg.solve(eye - jacobian.T, grad.reshape(size)).reshape(grad.shape)

    return hook


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_settings(k: int, beta: float, max_iterations: int, tol: float, backward: str) -> None:
    if not _is_int(k) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    if not isinstance(beta, Real) or not math.isfinite(beta) or beta <= 0:
        raise ValueError(f"beta must be a finite positive number, got {beta!r}")
    if not _is_int(max_iterations) or max_iterations < 0:
        raise ValueError(f"max_iterations must be a non-negative integer, got {max_iterations!r}")
    if not isinstance(tol, Real) or not math.isfinite(tol) or tol < 0:
        raise ValueError(f"tol must be a finite non-negative number, got {tol!r}")
    if backward not in BACKWARDS:
        raise ValueError(f"backward must be one of {BACKWARDS}, got {backward!r}")


def _check_inputs(x: torch.Tensor, k: int, init: torch.Tensor | None) -> None:
    if not isinstance(x, torch.Tensor) or x.dim() != 2 or x.shape[1] == 0:
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"x must be a tensor of shape (n, d) with d >= 1, got {shape}")
    if not x.is_floating_point():
        raise ValueError(f"x must be a floating-point tensor, got dtype {x.dtype}")
    if not torch.isfinite(x).all():
        raise ValueError("x contains NaN or infinite entries: the embeddings must be finite")
    if k > x.shape[0]:
        raise ValueError(f"k = {k} exceeds the number of points n = {x.shape[0]}")
    if init is not None:
        if not isinstance(init, torch.Tensor) or tuple(init.shape) != (k, x.shape[1]):
            shape = tuple(init.shape) if isinstance(init, torch.Tensor) else type(init).__name__
            raise ValueError(f"init must be a tensor of shape (k, d) = {(k, x.shape[1])}, got {shape}")
        if not torch.isfinite(init).all():
            raise ValueError("init contains NaN or infinite entries")


def soft_kmeans(
    x: torch.Tensor,
    k: int,
    *,
    beta: float = 30.0,
    init: torch.Tensor | None = None,
    max_iterations: int = 100,
    tol: float = 1e-6,
    backward: str = "exact",
    generator: torch.Generator | None = None,
) -> KMeansResult:
    """Cluster the rows of ``x`` (n × d) into ``k`` soft clusters; see the module docstring.

    Parameters:
        x: embeddings, one row per point; rows are scaled to unit length inside the layer.
        k: number of clusters, ``1 <= k <= n``.
        beta: inverse temperature of the softmax; larger is harder.
        init: initial centres (k × d); if ``None``, k-means++ on the normalised rows of ``x``
            drawn with ``generator``. Never differentiated through.
        max_iterations: most updates of the fixed-point loop.
        tol: the loop stops once an update moves no centre coordinate by more than ``tol``.
        backward: ``"exact"`` (implicit function theorem) or ``"one_step"`` (the paper's
            approximation).
        generator: random source of the k-means++ initialisation.

    Returns:
        :class:`KMeansResult` with ``assignments`` (n × k), ``centres`` (k × d), ``iterations``
        and ``converged``; assignments and centres are in the dtype of ``x``.
    """
    _check_settings(k, beta, max_iterations, tol, backward)
    _check_inputs(x, k, init)
    x = F.normalize(x, dim=1)
    with torch.no_grad():
        mu = kmeans_plus_plus(x, k, generator) if init is None else init.detach().to(x)
        iterations, converged = 0, False
        while iterations < max_iterations and not converged:
            updated = kmeans_update(x, mu, beta)
            converged = bool((updated - mu).abs().max() <= tol)
            mu, iterations = updated, iterations + 1
    centres = kmeans_update(x, mu, beta)
    if backward == "exact" and centres.requires_grad:
        centres.register_hook(_implicit_gradient(x.detach(), mu, beta))
    assignments = torch.softmax(beta * x @ centres.T, dim=1)
    return KMeansResult(assignments, centres, iterations, converged)


class SoftKMeans(nn.Module):
    """Differentiable soft k-means (ClusterNet) as a module; :func:`soft_kmeans` does the work.

    The layer has no learnable parameters: ``k``, ``beta``, ``max_iterations``, ``tol`` and
    ``backward`` are fixed at construction, and ``forward(x, init=None, generator=None)`` returns
    a :class:`KMeansResult`.
    """

    def __init__(self, k: int, beta: float = 30.0, max_iterations: int = 100, tol: float = 1e-6, backward: str = "exact") -> None:
        super().__init__()
        _check_settings(k, beta, max_iterations, tol, backward)
        self.k, self.beta, self.max_iterations = k, beta, max_iterations
        self.tol, self.backward = tol, backward

    def forward(
        self, x: torch.Tensor, init: torch.Tensor | None = None, generator: torch.Generator | None = None
    ) -> KMeansResult:
        return soft_kmeans(
            x,
            self.k,
            beta=self.beta,
            init=init,
            max_iterations=self.max_iterations,
            tol=self.tol,
            backward=self.backward,
            generator=generator,
        )

    def extra_repr(self) -> str:
        return f"k={self.k}, beta={self.beta}, max_iterations={self.max_iterations}, tol={self.tol}, backward={self.backward!r}"
