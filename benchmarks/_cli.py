"""Command-line conventions the benchmarks share: ``--quick`` and full-run defaults, ``--out``, and a
progress bar with result lines printed around it."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TypeVar

from tqdm import tqdm

T = TypeVar("T")

tqdm.monitor_interval = 0  # no monitor thread: the loops are slow, and some benchmarks count the process's threads


def fill_defaults(args: argparse.Namespace, quick: dict[str, Any], full: dict[str, Any]) -> None:
    """Options left unset take the ``--quick`` run's value or the full run's; a full run writes to
    ``docs/benchmarks`` unless ``--out`` says otherwise, a quick one nowhere."""
    for key, value in (quick if args.quick else full).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.out is None and not args.quick:
        args.out = Path("docs/benchmarks")


def check_lists(parser: argparse.ArgumentParser, lists: tuple[tuple[str, str, Any], ...]) -> None:
    """Each ``(option, comma-separated value, known names)`` names only known items, else the
    parser's usage error naming the unknown ones and the choices."""
    for option, value, known in lists:
        unknown = set(value.split(",")) - set(known)
        if unknown:
            parser.error(f"--{option}: unknown {sorted(unknown)}; choose from {', '.join(known)}")


def add_progress_option(parser: argparse.ArgumentParser) -> None:
    """``--progress/--no-progress``: a progress bar on stderr; unset, one shows when stderr is a terminal."""
    parser.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="show a progress bar on stderr (default: when stderr is a terminal)",
    )


def progress(iterable: Iterable[T], args: argparse.Namespace, desc: str, total: int | None = None, unit: str = "it") -> tqdm[T]:
    """``iterable`` behind a progress bar on stderr as ``--progress`` asks; the bar goes once the loop ends."""
    disable = None if args.progress is None else not args.progress
    return tqdm(iterable, desc=desc, total=total, unit=unit, disable=disable, leave=False, dynamic_ncols=True, file=sys.stderr)


def say(line: str) -> None:
    """Print a result line to stdout at once, around any progress bar rather than through it."""
    tqdm.write(line)
    sys.stdout.flush()
