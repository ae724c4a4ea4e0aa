"""The ``gnnsolve`` command.

``gnnsolve compare [FILE]`` runs several samplers on one model and prints a table of best and
mean energies, times and gaps (or JSON with ``--json``). Without a FILE it solves a built-in
MaxCut instance: a random 3-regular graph on 100 nodes (``networkx.random_regular_graph(3, 100,
seed=0)``, the family of the PI-GNN paper) whose maximum cut, 137, is proven. FILE is a BQM
(dimod file, JSON or COO text, see :func:`gnnsolve.io.read_bqm`) or, with ``--problem maxcut``,
a G-set graph. Progress goes to stderr; stdout holds only the table or the JSON. A user's mistake
(an unreadable file, an unknown sampler, a model too large for a sampler, NaN biases) is one
message on stderr and exit status 2.

Example:
    >>> from gnnsolve.cli import main
    >>> main(["compare", "--samplers", "sa,steepest", "--num-reads", "2"])  # doctest: +ELLIPSIS +NORMALIZE_WHITESPACE
    instance: MaxCut on a random 3-regular graph, 100 nodes, networkx seed 0 (built-in; maximum cut 137)
    sampler best energy mean energy time (s) gap to best gap to bound cut value ratio
    sa ...
    steepest ...
    best energy found: ...
    0
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Hashable, Mapping, Sequence

import dimod
import networkx as nx

from gnnsolve.adapters.datasets import gset_catalogue, read_gset
from gnnsolve.adapters.graphs import cut_value, maxcut_bqm
from gnnsolve.compare import DEFAULT_SAMPLERS, compare
from gnnsolve.errors import FileFormatError, GnnsolveError
from gnnsolve.io import read_bqm
from gnnsolve.registry import sampler_names

__all__ = ["main", "builtin_maxcut_graph", "BUILTIN_MAXCUT_OPTIMUM"]

BUILTIN_MAXCUT_OPTIMUM = 137
"""The maximum cut of :func:`builtin_maxcut_graph`, proven optimal with HiGHS."""


def builtin_maxcut_graph() -> nx.Graph:
    """The built-in instance: ``networkx.random_regular_graph(3, 100, seed=0)``."""
    return nx.random_regular_graph(3, 100, seed=0)


@dataclass
class _Problem:
    description: str
    bqm: dimod.BinaryQuadraticModel
    objective: Callable[[Mapping[Hashable, int]], float] | None = None
    objective_name: str = "objective"
    optimum: float | None = None


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command with ``argv`` (``sys.argv[1:]`` when ``None``); returns the exit status."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:  # argparse's own --help (0) and usage errors (2)
        return stop.code if isinstance(stop.code, int) else 2
    try:
        return args.run(args)
    except GnnsolveError as err:
        print(f"gnnsolve: error: {err}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gnnsolve", description="Learned and exact samplers behind one dimod door.")
    commands = parser.add_subparsers(title="commands", required=True, metavar="COMMAND")
    compare_parser = commands.add_parser(
        "compare",
        help="run several samplers on one model and tabulate energies, times and gaps",
        description="Run several samplers on one model and print a table of energies, times and gaps. "
        f"Without FILE: MaxCut on a built-in random 3-regular graph (100 nodes, seed 0, maximum cut {BUILTIN_MAXCUT_OPTIMUM}).",
    )
    compare_parser.add_argument("file", nargs="?", metavar="FILE", help="a BQM (dimod file, JSON or COO) or, with --problem maxcut, a G-set graph")
    compare_parser.add_argument("--problem", choices=("bqm", "maxcut"), default="bqm", help="what FILE holds (default: bqm)")
    compare_parser.add_argument(
        "--samplers", metavar="NAMES",
        help=f"comma-separated, from {', '.join(sampler_names())} (default: {','.join(DEFAULT_SAMPLERS)}, "
        "skipping those not installed or unable to take the model)",
    )
    compare_parser.add_argument("--time-limit", type=_positive(float), default=2.0, metavar="SECONDS",
                                help="seconds per sampler, ignored by sa and steepest (default: 2)")
    compare_parser.add_argument("--num-reads", type=_positive(int), default=10, metavar="N", help="reads per sampler (default: 10)")
    compare_parser.add_argument("--seed", type=_non_negative_int, default=0, help="seed for every sampler (default: 0)")
    compare_parser.add_argument("--optimum", type=float, metavar="VALUE",
                                help="known optimum (a cut value for maxcut, else an energy) for a ratio column")
    compare_parser.add_argument("--json", action="store_true", help="print JSON instead of the table")
    compare_parser.set_defaults(run=_run_compare)
    return parser


def _positive(kind: type) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a positive {kind.__name__}, got {text!r}") from None
        if not value > 0 or value == float("inf"):
            raise argparse.ArgumentTypeError(f"expected a positive {kind.__name__}, got {text!r}")
        return value

    return parse


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text!r}")
    return value


def _run_compare(args: argparse.Namespace) -> int:
    problem = _load_problem(args.file, args.problem)
    samplers = [name.strip() for name in args.samplers.split(",") if name.strip()] if args.samplers else None
    result = compare(
        problem.bqm,
        samplers,
        time_limit=args.time_limit,
        num_reads=args.num_reads,
        seed=args.seed,
        objective=problem.objective,
        objective_name=problem.objective_name,
        optimum=args.optimum if args.optimum is not None else problem.optimum,
        progress=lambda line: print(line, file=sys.stderr, flush=True),
    )
    if args.json:
        print(json.dumps({"instance": problem.description, **result.to_dict()}, indent=2))
    else:
        print(f"instance: {problem.description}")
        print(result.table())
    return 0


def _load_problem(file: str | None, kind: str) -> _Problem:
    try:
        return _read_problem(file, kind)
    except OSError as err:
        raise FileFormatError(file, f"cannot read the file ({err.strerror or err})") from None


def _read_problem(file: str | None, kind: str) -> _Problem:
    if file is None:
        graph = builtin_maxcut_graph()
        return _Problem(
            f"MaxCut on a random 3-regular graph, 100 nodes, networkx seed 0 (built-in; maximum cut {BUILTIN_MAXCUT_OPTIMUM})",
            maxcut_bqm(graph), lambda sample: cut_value(graph, sample), "cut value", BUILTIN_MAXCUT_OPTIMUM,
        )
    if kind == "maxcut":
        graph = read_gset(file)
        best_known = _gset_best_known(Path(file), graph)
        described = f"MaxCut on {file} ({graph.number_of_nodes()} nodes, {graph.number_of_edges()} edges"
        described += f"; best known cut {best_known})" if best_known is not None else ")"
        return _Problem(described, maxcut_bqm(graph), lambda sample: cut_value(graph, sample), "cut value", best_known)
    bqm = read_bqm(file)
    return _Problem(f"{file} ({bqm.vartype.name}, {bqm.num_variables} variables, {bqm.num_interactions} interactions)", bqm)


def _gset_best_known(path: Path, graph: nx.Graph) -> int | None:
    """The best known cut if ``path`` is named after a G-set instance of the same size."""
    try:
        instance = gset_catalogue().get(path.stem.upper())
    except FileNotFoundError:
        return None
    if instance is None or (instance.nodes, instance.edges) != (graph.number_of_nodes(), graph.number_of_edges()):
        return None
    return instance.best_known


if __name__ == "__main__":
    raise SystemExit(main())
