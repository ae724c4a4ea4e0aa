"""The ``gnnsolve`` command.

``gnnsolve compare [FILE]`` runs several samplers on one model and prints a table of best and
mean energies, times and gaps (or JSON with ``--json``). ``--problem
maxcut|mis|tsp|modularity|kcenter|multicut`` says which graph problem FILE states (a graph file,
a TSPLIB file for ``tsp``, a CP-Lib file for ``multicut``); every sample is then decoded,
repaired and scored, and the table adds the decoded objective (cut value, set size, tour length,
modularity, largest distance, cut cost), its feasibility and the ratio to a known optimum
(``--optimum``, or one the benchmark data records for the file) or, without one, to the best
feasible objective found. Each problem has its own default samplers: the learned one and the
classical tool a user would pick instead (LKH for TSP, Louvain and Leiden for modularity,
farthest-first for k-center, elf's GAEC and Kernighan–Lin for multicut), those not installed
skipped with a note. Without FILE it solves a built-in instance of the
problem (see :mod:`gnnsolve.instances`); the default is MaxCut on a random 3-regular graph on 100
nodes whose maximum cut, 137, is proven. Progress goes to stderr; stdout holds only the table or
the JSON. A user's mistake (an unreadable file, an unknown sampler, a model too large for a
sampler, NaN biases) is one message on stderr and exit status 2.

``--workers N`` starts a local Dask cluster of N worker processes (one thread each) for the run
and closes it after; ``--scheduler ADDRESS`` connects to a running cluster's scheduler (given up
after :data:`CONNECT_TIMEOUT` seconds, a usage error naming the address). Either way each
sampler's run is one task on a worker and the table is the same, its times measured on the
workers; both need the ``distributed`` package (``pip install 'gnnsolve[dask]'``).

Example:
    >>> from gnnsolve.cli import main
    >>> main(["compare", "--samplers", "sa,steepest", "--num-reads", "2"])  # doctest: +ELLIPSIS +NORMALIZE_WHITESPACE
    instance: MaxCut on a random 3-regular graph, 100 nodes, networkx seed 0 (built-in; maximum cut 137)
    sampler best energy mean energy time (s) gap to best gap to bound cut value feasible ratio
    sa ...
    steepest ...
    best energy found: ...
    0
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import sys
from collections.abc import Iterator
from typing import Any, Callable, Sequence

from gnnsolve.compare import DEFAULT_SAMPLERS, compare
from gnnsolve.errors import GnnsolveError
from gnnsolve.instances import BUILTIN_K, BUILTIN_MAXCUT_OPTIMUM, PROBLEM_KINDS, builtin_instance, read_instance
from gnnsolve.registry import sampler_names
from gnnsolve.samplers._common import MAX_SEED, check_seed

__all__ = ["main"]

CONNECT_TIMEOUT = 5.0
"""Seconds ``--scheduler`` waits for the scheduler to answer before giving up."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command with ``argv`` (``sys.argv[1:]`` when ``None``); returns the exit status."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
        _check_problem_options(parser, args)
        _check_cluster_options(parser, args)
        return args.run(parser, args)
    except SystemExit as stop:  # argparse's own --help (0) and usage errors (2)
        return stop.code if isinstance(stop.code, int) else 2
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
        "Without FILE: the problem's built-in instance; by default MaxCut on a random 3-regular graph "
        f"(100 nodes, seed 0, maximum cut {BUILTIN_MAXCUT_OPTIMUM}).",
    )
    compare_parser.add_argument(
        "file",
        nargs="?",
        metavar="FILE",
        help="a BQM (dimod file, JSON or COO); with --problem maxcut or mis a graph (G-set, DIMACS, GML, edge list); "
        "with --problem tsp a TSPLIB file. Without FILE: the problem's built-in instance",
    )
    compare_parser.add_argument(
        "--problem",
        choices=PROBLEM_KINDS,
        default="bqm",
        help="what FILE states; samples are decoded for every problem but bqm (default: bqm)",
    )
    compare_parser.add_argument(
        "--k",
        type=_positive(int),
        metavar="K",
        help=f"communities (modularity) or facilities (kcenter); needed with FILE "
        f"(default for the built-in instances: {BUILTIN_K})",
    )
    compare_parser.add_argument(
        "--max-cities",
        type=_positive(int),
        metavar="N",
        help="the largest TSP the position model is built for (default: the TSP model's own limit)",
    )
    compare_parser.add_argument(
        "--samplers",
        metavar="NAMES",
        help=f"comma-separated, from {', '.join(sampler_names())} (default: {','.join(DEFAULT_SAMPLERS)} for bqm, "
        "maxcut and mis, and each problem's own list otherwise, skipping those not installed or unable to take "
        "the model)",
    )
    compare_parser.add_argument(
        "--time-limit",
        type=_time_limit,
        default=None,
        metavar="SECONDS",
        help="seconds per sampler for its whole call, decoding included, or 'inf' for none "
        "(default: each sampler's own budget for the model's size)",
    )
    compare_parser.add_argument(
        "--num-reads", type=_positive(int), default=10, metavar="N", help="reads per sampler (default: 10)"
    )
    compare_parser.add_argument("--seed", type=_seed, default=0, help=f"seed for every sampler, 0 to {MAX_SEED} (default: 0)")
    compare_parser.add_argument(
        "--optimum",
        type=float,
        metavar="VALUE",
        help="known optimum (the problem's objective for a graph problem, else an energy) for the ratio column",
    )
    compare_parser.add_argument("--json", action="store_true", help="print JSON instead of the table")
    compare_parser.add_argument(
        "--progress",
        action="store_true",
        help="draw progress bars on stderr: one over the samplers, and beneath it each learned sampler's epochs "
        "(default: one line on stderr as each sampler starts and ends)",
    )
    cluster = compare_parser.add_mutually_exclusive_group()
    cluster.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run each sampler as a task on the Dask cluster whose scheduler is at ADDRESS "
        "(e.g. tcp://10.0.0.5:8786); needs gnnsolve[dask]",
    )
    cluster.add_argument(
        "--workers",
        type=_positive(int),
        metavar="N",
        help="run each sampler as a task on a local Dask cluster of N worker processes (one thread "
        "each), started for the run and closed after it; needs gnnsolve[dask]",
    )
    compare_parser.set_defaults(run=_run_compare)
    return parser


def _check_problem_options(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Refuse, as a usage error, an option the chosen problem does not take."""
    if getattr(args, "k", None) is not None and args.problem not in ("modularity", "kcenter"):
        parser.error(f"--k applies to --problem modularity and kcenter, not {args.problem}")
    if getattr(args, "max_cities", None) is not None and args.problem != "tsp":
        parser.error(f"--max-cities applies to --problem tsp, not {args.problem}")


def _check_cluster_options(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Refuse, as a usage error, --scheduler or --workers without the distributed package."""
    option = "--scheduler" if getattr(args, "scheduler", None) else "--workers" if getattr(args, "workers", None) else None
    if option is not None and importlib.util.find_spec("distributed") is None:
        parser.error(f"{option} needs the distributed package: pip install 'gnnsolve[dask]'")


@contextlib.contextmanager
def _cluster(parser: argparse.ArgumentParser, args: argparse.Namespace) -> Iterator[Any]:
    """A Dask client for --scheduler or --workers, closed after the block; ``None`` without them."""
    if not args.scheduler and not args.workers:
        yield None
        return
    import distributed

    if args.workers:
        _progress(f"starting a local Dask cluster of {args.workers} worker processes")
        with (
            distributed.LocalCluster(
                n_workers=args.workers, threads_per_worker=1, processes=True, dashboard_address=None
            ) as cluster,
            distributed.Client(cluster) as client,
        ):
            yield client
        return
    try:
        client = distributed.Client(args.scheduler, timeout=CONNECT_TIMEOUT)
    except ValueError as err:
        parser.error(f"--scheduler {args.scheduler!r} is not a Dask scheduler address ({err})")
    except (OSError, TimeoutError) as err:  # refused or unanswered
        parser.error(f"cannot reach the Dask scheduler at {args.scheduler} within {CONNECT_TIMEOUT:g} s ({err})")
    with client:
        yield client


def _progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


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


def _time_limit(text: str) -> float:
    """A positive number of seconds, ``inf`` included (no limit)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds or 'inf', got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds or 'inf', got {text!r}")
    return value


def _seed(text: str) -> int:
    try:
        seed = int(text)
        check_seed(seed)
        return seed
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer from 0 to {MAX_SEED}, got {text!r}") from None


def _run_compare(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    options = {"k": args.k, "max_cities": args.max_cities}
    instance = (
        read_instance(args.file, args.problem, **options) if args.file is not None else builtin_instance(args.problem, **options)
    )
    samplers = [name.strip() for name in args.samplers.split(",") if name.strip()] if args.samplers else None
    with _cluster(parser, args) as client:
        result = compare(
            instance.bqm,
            samplers,
            time_limit=args.time_limit,
            num_reads=args.num_reads,
            seed=args.seed,
            problem=instance.problem,
            optimum=args.optimum if args.optimum is not None else instance.optimum,
            progress=True if args.progress else _progress,
            client=client,
        )
    if args.json:
        print(json.dumps({"instance": instance.description, **result.to_dict()}, indent=2))
    else:
        print(f"instance: {instance.description}")
        print(result.table())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
