"""PI-GNN on a CQM's own structure: relaxed objective plus per-constraint augmented-Lagrangian terms.

:class:`~gnnsolve.samplers.penalty.PenaltyComposite` gives PI-GNN a CQM as one flat penalty BQM
(slack variables for inequalities, one penalty for all constraints). Here the network is trained
on the CQM itself instead, as the constrained extensions of PI-GNN's unsupervised loss do
(Karalias and Loukas, "Erdős goes neural: an unsupervised learning framework for combinatorial
optimization on graphs", NeurIPS 2020; Wang, Wu, Yang, Li, Wen, Liu, "Unsupervised learning for
combinatorial optimization with principled objective relaxation", NeurIPS 2022), with the
multipliers of an augmented Lagrangian (Hestenes 1969, Powell 1969; Nocedal and Wright,
"Numerical Optimization", ch. 17):

- **Relaxation.** The network (:class:`gnnsolve.nn.pignn.PIGNN`, Schuetz et al. 2022) gives each
  variable a probability :math:`p_i`; its relaxed value is :math:`x_i = l_i + (u_i - l_i) p_i`
  (a binary's probability itself, a bounded integer's point of its range). The graph is the
  CQM's factor graph: a node per variable and per constraint, a variable joined to each
  constraint it appears in and to the variables it shares an objective term with; the
  constraint nodes' outputs are not read.
- **Loss.** The objective :math:`f(x)` divided by its largest one-variable swing, plus for every
  constraint :math:`c`, its violation :math:`v_c(x) = \\mathrm{dist}(a_c^\\top x, [l_c, u_c])`
  (the row divided by its largest coefficient: :math:`|a_c^\\top x - b_c|` for an equality,
  :math:`\\max(0, a_c^\\top x - b_c)` for a ``<=``), weighted
  :math:`\\lambda_c v_c + \\tfrac{\\rho}{2} v_c^2`: no slack variables.
- **Multipliers.** Every :data:`UPDATE_EVERY` epochs each replica's
  :math:`\\lambda_c \\leftarrow \\lambda_c + \\rho\\, v_c` at its current relaxed point, and
  :math:`\\rho` grows by :data:`RHO_GROWTH` up to :data:`RHO_MAX`: a constraint that stays
  broken weighs more and more, one that holds keeps its weight.
- **Rounding and repair.** Each replica's best rounded state during training (fewest violations,
  then the lowest objective), or where better the best of states drawn from its final
  probabilities, is repaired and descended on the CQM's own variables by
  :class:`~gnnsolve.search.cqm_repair.CompiledCQM`, as the composite repairs its samples; the best
  feasible one is improved by kicks.
- **Rounds.** While time is left and the last round lowered the best answer (fewer violations,
  else a lower objective), a new round trains fresh replicas from the next seeds, their
  multipliers starting where the last round's ended.

``time_limit`` covers the whole call; without one the call gets
:func:`gnnsolve.samplers.penalty.default_time_limit` of the pairs the constraints couple (the
budget the composite gives the same CQM), and ends before it once a round finds nothing better.
Variables must be BINARY, SPIN or bounded INTEGER, constraints linear and hard (REAL variables
are refused with :class:`~gnnsolve.errors.UnsupportedModelError`, as by the composite).

Measured against the flat penalty on six Pyomo models and a knapsack
(``docs/benchmarks/pyomo_models.md``); :meth:`GNNSampler.sample_cqm
<gnnsolve.samplers.pignn.GNNSampler.sample_cqm>` takes it with ``cqm_method="lagrangian"``.

Example:
    >>> import dimod
    >>> from gnnsolve.samplers.pignn_cqm import sample_cqm_lagrangian
    >>> x = [dimod.Binary(f"x{i}") for i in range(4)]
    >>> cqm = dimod.ConstrainedQuadraticModel()
    >>> cqm.set_objective(-3 * x[0] - 2 * x[1] - 2 * x[2] - x[3])
    >>> _ = cqm.add_constraint(2 * x[0] + x[1] + x[2] + x[3] <= 2, label="weight")
    >>> sampleset = sample_cqm_lagrangian(cqm, seed=0, time_limit=5)
    >>> best = sampleset.filter(lambda row: row.is_feasible).first
    >>> [v for v, value in best.sample.items() if value], float(best.energy)
    (['x1', 'x2'], -4.0)
"""

from __future__ import annotations

import logging
import math

import dimod
import numpy as np
import torch

from gnnsolve.nn.pignn import CONVOLUTIONS, PIGNN, GraphOperators
from gnnsolve.nn.sparse import SparseOperator, spmm
from gnnsolve.samplers._common import MAX_SEED, Stopwatch, check_positive_int, check_seed, check_time_limit, labelled
from gnnsolve.samplers._torch import check_threads, resolve_device, seeded_generator, torch_threads
from gnnsolve.samplers.penalty import (
    REPAIR_SHARE,
    _check_supported,
    _improve_incumbent,
    _repair,
    _sampleset,
    default_time_limit,
)
from gnnsolve.samplers.pignn import annealing_term, default_widths
from gnnsolve.search.cqm_repair import FEASIBILITY_TOLERANCE, CompiledCQM

logger = logging.getLogger(__name__)

__all__ = ["RelaxedCQM", "sample_cqm_lagrangian", "UPDATE_EVERY", "RHO_START", "RHO_GROWTH", "RHO_MAX", "DRAWS"]

UPDATE_EVERY = 25
"""Epochs between multiplier updates."""

PATIENCE = 100
"""Epochs without a better rounded state after which a round's training has converged (where
every replica's best is feasible or :math:`\\rho` is at :data:`RHO_MAX`)."""

RHO_START = 1.0
"""The quadratic weight :math:`\\rho` at the start of a round, in units of the objective's largest swing."""

RHO_GROWTH = 2.0
"""The factor :math:`\\rho` grows by at a multiplier update (see :data:`SUFFICIENT_DECREASE`)."""

RHO_MAX = 1e3
"""The largest :math:`\\rho`."""

SUFFICIENT_DECREASE = 0.25
""":math:`\\rho` grows at an update only where the relaxed violations did not fall below this
share of theirs at the last update (the textbook rule: a multiplier step that works needs no
larger weight, and a small :math:`\\rho` keeps the objective in view)."""

DRAWS = 256
"""States drawn from each replica's final probabilities (fewer on large models, see :data:`DRAW_WORK`)."""

DRAW_WORK = 2e7
"""Most variable and constraint-entry terms evaluated by the drawn rounding in all."""

INTEGRALITY = 1.0
"""The weight of :func:`~gnnsolve.samplers.pignn.annealing_term` on the binaries once :math:`\\rho`
is at :data:`RHO_MAX`, rising with :math:`\\log \\rho` from 0 at :data:`RHO_START`: the push to 0/1
that the constraints alone do not give (a one-hot equality holds at :math:`p = 1/k` as well)."""

STALL_ROUNDS = 3
"""Rounds in a row that find nothing better after which a call with nothing feasible stops."""

_IMPROVEMENT = 1e-9


class RelaxedCQM:
    """A CQM's objective and constraint violations on relaxed values, batched over replicas, in torch.

    The objective is divided by its largest one-variable swing (1 where it has none, as a
    feasibility model), each constraint row by its largest coefficient, so that a move of one
    variable changes either by at most about one.

    Args:
        compiled: the CQM in sparse index form (BINARY and INTEGER variables).
        device: where the tensors live.

    Example:
        >>> import dimod, torch
        >>> from gnnsolve.search.cqm_repair import CompiledCQM
        >>> from gnnsolve.samplers.pignn_cqm import RelaxedCQM
        >>> x, y = dimod.Binary("x"), dimod.Binary("y")
        >>> cqm = dimod.ConstrainedQuadraticModel()
        >>> cqm.set_objective(-2 * x - y)
        >>> _ = cqm.add_constraint(x + y <= 1, label="one")
        >>> relaxed = RelaxedCQM(CompiledCQM(cqm), torch.device("cpu"))
        >>> values = torch.tensor([[1.0, 1.0], [1.0, 0.0]])
        >>> relaxed.objective(values).tolist(), relaxed.violations(values).tolist()
        ([-1.5, -1.0], [[1.0], [0.0]])
    """

    def __init__(self, compiled: CompiledCQM, device: torch.device) -> None:
        n = len(compiled.variables)
        m = len(compiled.row_lower)
        self.num_variables, self.num_constraints = n, m
        self.scale = compiled.largest_swing() or 1.0
        as_tensor = lambda values: torch.as_tensor(np.asarray(values), dtype=torch.float32, device=device)  # noqa: E731
        self.lower = as_tensor(compiled.lower)
        self.span = as_tensor(compiled.upper - compiled.lower)
        self.binary = (self.span == 1).to(torch.float32)
        self.linear = as_tensor(compiled.linear / self.scale)
        quadratic = compiled._quadratic.tocoo()
        self.quadratic = SparseOperator.from_coo(
            torch.as_tensor(quadratic.row, dtype=torch.long),
            torch.as_tensor(quadratic.col, dtype=torch.long),
            torch.as_tensor(quadratic.data / self.scale, dtype=torch.float32),
            n,
            symmetric=True,
        ).to(device)
        matrix = compiled._by_row.tocoo()
        widest = np.zeros(m)
        np.maximum.at(widest, matrix.row, np.abs(matrix.data))
        widest[widest == 0] = 1.0
        self.row_lower = as_tensor(compiled.row_lower / widest)
        self.row_upper = as_tensor(compiled.row_upper / widest)
        rows = torch.as_tensor(matrix.row, dtype=torch.long)
        cols = torch.as_tensor(matrix.col, dtype=torch.long)
        values = torch.as_tensor(matrix.data / widest[matrix.row], dtype=torch.float32)
        coo = torch.sparse_coo_tensor(torch.stack([rows, cols]), values, (m, n)).coalesce()
        self.matrix = coo.to_sparse_csr().to(device)
        self.matrix_t = coo.t().coalesce().to_sparse_csr().to(device)
        self.edge_rows, self.edge_cols = matrix.row, matrix.col
        self.objective_pairs = (quadratic.row[quadratic.row < quadratic.col], quadratic.col[quadratic.row < quadratic.col])

    def values(self, probs: torch.Tensor) -> torch.Tensor:
        """The relaxed values :math:`l + (u - l) p` of probabilities ``[R, n]``."""
        return self.lower + self.span * probs

    def objective(self, x: torch.Tensor) -> torch.Tensor:
        """The scaled objective of each row of ``x`` (no offset)."""
        return x @ self.linear + (x * self.quadratic.matmul(x.T).T).sum(dim=1)

    def violations(self, x: torch.Tensor) -> torch.Tensor:
        """Each row's distance to each constraint's range, ``[R, m]``, in scaled units."""
        activity = spmm(self.matrix, self.matrix_t, x.T).T
        return torch.relu(self.row_lower - activity) + torch.relu(activity - self.row_upper)

    def graph(self, conv: str, device: torch.device) -> GraphOperators:
        """The factor graph: variables ``0..n-1``, constraints ``n..n+m-1``, both directions of each edge."""
        n = self.num_variables
        src = np.concatenate([self.edge_cols, self.edge_rows + n, self.objective_pairs[0]])
        dst = np.concatenate([self.edge_rows + n, self.edge_cols, self.objective_pairs[1]])
        edge_index = torch.as_tensor(np.stack([np.concatenate([src, dst]), np.concatenate([dst, src])]), dtype=torch.long)
        edge_index = torch.unique(edge_index, dim=1)
        return GraphOperators.build(edge_index, n + self.num_constraints, conv).to(device)


def sample_cqm_lagrangian(
    cqm: dimod.ConstrainedQuadraticModel,
    time_limit: float | None = None,
    *,
    num_reads: int = 4,
    seed: int | None = None,
    max_epochs: int = 10_000,
    learning_rate: float = 0.05,
    embedding_dim: int | None = None,
    hidden_dim: int | None = None,
    conv: str = "gcn",
    dropout: float = 0.0,
    repair: bool = True,
    device: str | torch.device = "cpu",
    threads: int | None = None,
    label: str | None = None,
) -> dimod.SampleSet:
    """Train PI-GNN replicas on ``cqm``'s relaxed objective and constraints; round, repair, repeat.

    Args:
        cqm: linear hard constraints; BINARY, SPIN and bounded INTEGER variables.
        time_limit: seconds for the whole call; ``None`` for the default budget (module
            notes), ``math.inf`` for none.
        num_reads: replicas trained together in each round.
        seed: seed of the first round (the next rounds take ``seed + 1``, ...).
        max_epochs: the most training epochs of a round.
        learning_rate: Adam's step size.
        embedding_dim, hidden_dim: the network's widths (default
            :func:`~gnnsolve.samplers.pignn.default_widths` of the factor graph's nodes).
        conv: ``"gcn"`` or ``"sage"``.
        dropout: dropout between the convolutions.
        repair: repair and descend each rounded state on the CQM's variables (``False``: the
            rounded states as they are).
        device: ``"cpu"`` or ``"cuda"``.
        threads: torch's intra-op threads on the CPU (``None``: the library chooses).
        label: kept in ``info["problem_label"]``.

    Returns:
        Every state of every round over the CQM's variables, with ``energy``, ``is_satisfied``,
        ``is_feasible`` and ``training_round`` (the round that drew it, from 0). ``info`` holds ``method`` (``"lagrangian"``), ``rounds``,
        ``epochs`` (per round), ``feasible_as_sampled``, ``repaired``, ``stop_reason``
        (``"converged"``: a round found nothing better; ``"time_limit"``), ``time_limit``,
        ``timing`` and ``threads``.

    Raises:
        TypeError: ``cqm`` is not a ConstrainedQuadraticModel.
        UnsupportedModelError: a REAL variable, an unbounded INTEGER, a quadratic or soft constraint.
        ValueError: a bad keyword value.
    """
    watch = Stopwatch()
    limit = check_time_limit(time_limit)
    check_positive_int("num_reads", num_reads)
    check_positive_int("max_epochs", max_epochs)
    seed = check_seed(seed)
    threads = check_threads(threads)
    if conv not in CONVOLUTIONS or conv == "signed":
        raise ValueError(f"conv must be 'gcn' or 'sage' on a CQM, got {conv!r}")
    for name, value in (("learning_rate", learning_rate), ("dropout", dropout)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not (value >= 0 and math.isfinite(value)):
            raise ValueError(f"{name} must be a finite non-negative number, got {value!r}")
    if learning_rate == 0:
        raise ValueError("learning_rate must be positive, got 0")
    if not isinstance(repair, bool):
        raise ValueError(f"repair must be True or False, got {repair!r}")
    if not isinstance(cqm, dimod.ConstrainedQuadraticModel):
        raise TypeError(f"expected a dimod.ConstrainedQuadraticModel, got {type(cqm).__name__}; use sample() for a BQM")
    _check_supported(cqm)
    torch_device = resolve_device(device)
    watch.time_limit = math.inf if limit is None else limit
    with watch.phase("preprocessing"):
        spins = [v for v in cqm.variables if cqm.vartype(v) is dimod.SPIN]
        binary = cqm.spin_to_binary(inplace=False) if spins else cqm
        compiled = CompiledCQM(binary, time_limit=watch.remaining())
        relaxed = RelaxedCQM(compiled, torch_device)
    if limit is None:
        watch.time_limit = default_time_limit(*_coupled_size(binary))
    n, m = relaxed.num_variables, relaxed.num_constraints
    embedding_dim, hidden_dim = default_widths(n + m, embedding_dim, hidden_dim)
    generator = seeded_generator(seed)
    graph = relaxed.graph(conv, torch_device)
    multipliers = torch.zeros(num_reads, m, device=torch_device)
    rows: list[np.ndarray] = []
    epochs_run: list[int] = []
    sampled_feasible = repaired = 0
    best = (math.inf, math.inf)  # the fewest violations, then the lowest objective, of any round
    stop_reason, stalled = "time_limit", 0
    work = 6.0 * num_reads * ((n + m) * embedding_dim * hidden_dim + 2 * len(relaxed.edge_rows) * (embedding_dim + hidden_dim))
    with torch_threads(threads, work) as used:
        while not watch.expired():
            end = watch.deadline(0.5)
            train_until = watch.elapsed() + (end - watch.elapsed()) * (1 - REPAIR_SHARE)
            with watch.phase("sampling"):
                net = PIGNN(n + m, num_reads, embedding_dim, hidden_dim, conv, dropout, generator).to(torch_device)
                states, probs, multipliers, epochs = _train(
                    relaxed, net, graph, multipliers, learning_rate, max_epochs, train_until, watch
                )
                states = _drawn_rounding(compiled, probs, states, int(torch.randint(0, 2**31 - 1, (1,), generator=generator)))
            epochs_run.append(epochs)
            with watch.phase("postprocessing"):
                before = compiled.feasible(states)
                if repair:
                    states = _repair(compiled, states, lambda end=end: end - watch.elapsed())
                after = compiled.feasible(states)
                if repair and after.any() and end > watch.elapsed():
                    incumbent = int(np.argmin(np.where(after, compiled.objective(states), np.inf)))
                    states[incumbent] = compiled.improve_array(states[incumbent], time_limit=end - watch.elapsed())
            sampled_feasible += int(before.sum())
            repaired += int((after & ~before).sum())
            rows.append(np.column_stack([states, np.full(len(states), len(rows))]))
            found = _best_key(compiled, states)
            logger.info(
                "PI-GNN (lagrangian): round %d, %d epochs, at %.2f s: %d of %d states feasible as rounded, %d after repair, best %s",
                len(rows),
                epochs,
                watch.elapsed(),
                int(before.sum()),
                len(states),
                int(after.sum()),
                found,
            )
            if _better(found, best):
                best, stalled = found, 0
            else:
                stalled += 1
                if best[0] <= FEASIBILITY_TOLERANCE or stalled >= STALL_ROUNDS:
                    stop_reason = "converged"
                    break
            if seed is not None:
                generator = seeded_generator((seed + len(rows)) % (MAX_SEED + 1))
    with watch.phase("postprocessing"):
        table = np.concatenate(rows) if rows else np.zeros((0, n + 1))
        if repair and not watch.expired():
            _improve_incumbent(compiled, table[:, :-1], watch)
        sampleset = _sampleset(cqm, compiled, table, spins, vector="training_round")
    sampleset.info.update(
        method="lagrangian",
        rounds=len(rows),
        epochs=epochs_run,
        feasible_as_sampled=sampled_feasible,
        repaired=repaired,
        stop_reason=stop_reason,
        time_limit=watch.time_limit,
        timing=watch.timing(),
        threads=used,
    )
    return labelled(sampleset, label)


def _coupled_size(cqm: dimod.ConstrainedQuadraticModel) -> tuple[int, int]:
    """Variables and constraints, and the pairs the objective and the constraints couple (a
    constraint over ``k`` variables couples ``k(k - 1)/2``): the size the default budget reads,
    as :class:`~gnnsolve.samplers.penalty.PenaltyComposite` reads its penalty model's."""
    pairs = cqm.objective.num_interactions
    for constraint in cqm.constraints.values():
        k = constraint.lhs.num_variables
        pairs += k * (k - 1) // 2
    return cqm.num_variables() + len(cqm.constraints), pairs


def _train(
    relaxed: RelaxedCQM,
    net: PIGNN,
    graph: GraphOperators,
    multipliers: torch.Tensor,
    learning_rate: float,
    max_epochs: int,
    train_until: float,
    watch: Stopwatch,
) -> tuple[np.ndarray, np.ndarray, torch.Tensor, int]:
    """Adam on the augmented Lagrangian until converged, ``max_epochs`` or ``train_until``.

    Every :data:`UPDATE_EVERY` epochs the multipliers take :math:`\\rho` times the current
    violations and :math:`\\rho` grows; training has converged when over such a window no
    replica improved its best rounded state and every replica's best is feasible or
    :math:`\\rho` is at :data:`RHO_MAX`.

    Returns each replica's best rounded state (values of the CQM's variables), the final
    probabilities, the multipliers and the epochs run.
    """
    n = relaxed.num_variables
    replicas = multipliers.shape[0]
    device = multipliers.device
    optimizer = torch.optim.Adam(net.parameters(), lr=learning_rate)
    rho, last_total = RHO_START, math.inf
    best_violation = torch.full((replicas,), math.inf, device=device)
    best_objective = torch.full((replicas,), math.inf, device=device)
    best_state = torch.zeros(replicas, n, device=device)
    improved_in_window = torch.zeros(replicas, dtype=torch.bool, device=device)
    start = watch.elapsed()
    epochs = 0
    probs = torch.full((replicas, n), 0.5, device=device)
    for epochs in range(1, max_epochs + 1):
        probs = net(graph)[:, :n]
        x = relaxed.values(probs)
        violations = relaxed.violations(x)
        loss = relaxed.objective(x) + (multipliers * violations).sum(dim=1) + 0.5 * rho * (violations**2).sum(dim=1)
        progress = math.log(rho / RHO_START) / math.log(RHO_MAX / RHO_START)
        loss = loss + INTEGRALITY * (2 * progress - 1) * annealing_term(probs * relaxed.binary)
        optimizer.zero_grad(set_to_none=True)
        loss.sum().backward()
        optimizer.step()
        with torch.no_grad():
            rounded = relaxed.lower + torch.round(relaxed.span * probs)
            violation = relaxed.violations(rounded).sum(dim=1)
            objective = relaxed.objective(rounded)
            fewer = violation < best_violation - _IMPROVEMENT
            lower = (violation <= best_violation + _IMPROVEMENT) & (objective < best_objective - _IMPROVEMENT)
            improved = fewer | lower
            best_violation = torch.where(improved, violation, best_violation)
            best_objective = torch.where(improved, objective, best_objective)
            best_state[improved] = rounded[improved]
            improved_in_window |= improved
            if epochs % UPDATE_EVERY == 0:
                multipliers = multipliers + rho * violations
                total = float(violations.sum())
                if total > SUFFICIENT_DECREASE * last_total:
                    rho = min(rho * RHO_GROWTH, RHO_MAX)
                last_total = total
                logger.debug(
                    "epoch %d: rho %.3g, relaxed violation %.4g, best rounded violations %s",
                    epochs,
                    rho,
                    total,
                    best_violation.tolist(),
                )
            if epochs % PATIENCE == 0:
                settled = bool(((best_violation <= FEASIBILITY_TOLERANCE) | (rho >= RHO_MAX)).all())
                if settled and not bool(improved_in_window.any()):
                    break
                improved_in_window.zero_()
        elapsed = watch.elapsed()
        if elapsed + 2 * (elapsed - start) / epochs >= train_until:
            break
    states = best_state.cpu().numpy().astype(np.float64)
    return states, probs.detach().cpu().numpy().astype(np.float64), multipliers, epochs


def _drawn_rounding(compiled: CompiledCQM, probs: np.ndarray, states: np.ndarray, seed: int) -> np.ndarray:
    """Each replica's best of its rounded state and states drawn from its probabilities (a
    binary set with probability :math:`p`, an integer rounded up with probability its fraction),
    fewest violations first, then the objective: the sampling-based rounding of
    :func:`gnnsolve.samplers.pignn.sample_rounding`, on the CQM."""
    replicas, n = probs.shape
    entries = len(compiled._by_row.data) + n
    count = min(DRAWS, int(DRAW_WORK / max(1, replicas * entries)))
    best = states.copy()
    if count == 0 or n == 0:
        return best
    generator = np.random.default_rng(seed)
    position = compiled.lower + (compiled.upper - compiled.lower) * probs
    floor = np.floor(position)
    drawn = floor + (generator.random((count, replicas, n)) < position - floor)
    flat = np.concatenate([best, drawn.reshape(-1, n)])
    violation = compiled.violation(flat).reshape(count + 1, replicas)
    objective = compiled.objective(flat).reshape(count + 1, replicas)
    for replica in range(replicas):
        pick = int(np.lexsort((objective[:, replica], violation[:, replica]))[0])
        if pick:
            best[replica] = drawn[pick - 1, replica]
    return best


def _best_key(compiled: CompiledCQM, states: np.ndarray) -> tuple[float, float]:
    """The fewest violations of ``states`` and the lowest objective among the states that have that many."""
    violation = compiled.violation(states)
    fewest = float(violation.min())
    return fewest, float(compiled.objective(states[violation <= fewest + FEASIBILITY_TOLERANCE]).min())


def _better(found: tuple[float, float], best: tuple[float, float]) -> bool:
    """Whether ``found`` has fewer violations than ``best``, or as few and a lower objective."""
    if found[0] < best[0] - FEASIBILITY_TOLERANCE:
        return True
    return found[0] <= best[0] + FEASIBILITY_TOLERANCE and found[1] < best[1] - _IMPROVEMENT * max(1.0, abs(best[1]))
