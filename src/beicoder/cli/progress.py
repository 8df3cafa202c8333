"""Progress bars for the long commands: the core reports ``progress(done, total)`` through a
callback and this module draws it with Rich on stderr, only when stderr is a terminal (a
command in a pipe, a script or CI prints no bar). Rich loads only when a bar is drawn."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

Progress = Callable[[int, int], None]


def _quiet(done: int, total: int) -> None:
    """A progress callback that draws nothing."""


def on_terminal() -> bool:
    """True when stderr is a terminal (then bars are drawn)."""
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


@contextmanager
def bar(description: str) -> Iterator[Callable[..., None]]:
    """A progress bar on stderr while the ``with`` block runs, quiet when stderr is not a
    terminal. Yields ``report(done, total, description=None)``: the core's callback (a new
    ``description`` names the step). The bar is removed when the block ends."""
    if not on_terminal():
        yield lambda done, total, description=None: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), TaskProgressColumn(), TimeElapsedColumn(),
                  console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task(description, total=None)

        def report(done: int, total: int, description: str | None = None) -> None:
            progress.update(task, completed=done, total=total, **({"description": description} if description else {}))

        yield report


def step(report: Callable[..., None], description: str) -> Progress:
    """``report`` (from :func:`bar`) as a two-argument callback for the core, naming the step
    ``description``."""
    return lambda done, total: report(done, total, description)
