"""What the commands share: the --db option, opening the study, choosing the coder, checking an
--out folder, and the groups that turn a BeicoderError into one line on stderr and exit 2.

Nothing here imports the heavy libraries: ``beicoder --help`` must start fast."""

from __future__ import annotations

import getpass
import os
import sys
from pathlib import Path

import click

from ..core import BeicoderError

DEFAULT_DB = "beicoder.db"
DEMO_DB = "beicoder-demo.db"
DEMO_DB_EN = "beicoder-demo-en.db"  # beicoder demo --lang en

db_option = click.option("--db", default=DEFAULT_DB, show_default=True, help="The study file (SQLite).")


def fail(message: str, code: int = 2):
    """Print ``beicoder: MESSAGE`` on stderr and exit with ``code``."""
    click.echo(f"beicoder: {message}", err=True)
    sys.exit(code)


class Group(click.Group):
    """Turns every BeicoderError into one line on stderr and exit status 2."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except BeicoderError as exc:
            fail(str(exc))
        except BrokenPipeError:
            # the reader of our output went away (``| head``): stop quietly, as Unix tools do
            import os

            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            sys.exit(0)


class DefaultGroup(Group):
    """A group with a default command: ``beicoder GROUP ARGS`` whose first argument names no
    subcommand means ``beicoder GROUP DEFAULT ARGS``. A first argument that looks like a
    command name (no dot, no slash, no such file) is left to click, so a mistyped subcommand
    is reported as one."""

    def __init__(self, *args, default: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.default = default

    def _goes_to_default(self, ctx, first: str) -> bool:
        if first in self.commands or first in ctx.help_option_names:
            return False
        return first.startswith("-") or "." in first or os.sep in first or "/" in first or Path(first).exists()

    def parse_args(self, ctx, args):
        if args and self._goes_to_default(ctx, args[0]):
            args = [self.default, *args]
        return super().parse_args(ctx, args)


def default_coder() -> str:
    """The coder name when none is given: $BEICODER_CODER, else the user name."""
    return os.environ.get("BEICODER_CODER") or getpass.getuser() or "coder"


def open_store(db: str | Path, create: bool = False):
    """The study at ``db`` (see :class:`~beicoder.core.store.Store`); StoreError when it is
    not one."""
    from ..core.store import Store

    return Store(db, create=create)


def pick_coder(store, coder: str | None) -> str:
    """``coder`` as the study names it (``li`` finds ``Li``) when it has decisions in the study;
    without it, the coder with the most decided passages (``consensus`` and ``reference`` win
    ties), named on stdout with the others.

    Raises:
        BeicoderError: ``coder`` has no decisions, or nobody has.
    """
    coders = store.coders()
    if coder:
        who = store.resolve_coder(coder)
        if who not in coders:
            known = ", ".join(coders) or "none yet"
            raise BeicoderError(f"{store.path}: no decisions by coder {coder!r} (coders: {known})")
        return who
    if not coders:
        raise BeicoderError(f"{store.path}: no codings yet; code some passages or load codings first")
    counts = {c: len(store.decided_passages(c)) for c in coders}
    best = max(coders, key=lambda c: (counts[c], c == "consensus", c == "reference"))
    others = [f"{c} ({counts[c]})" for c in coders if c != best]
    msg = f"coder: {best} ({counts[best]} decided passages)"
    if others:
        msg += f"; other coders: {', '.join(others)}; choose with --coder"
    click.echo(msg)
    return best


def out_folder(out: str | Path, create: bool = True) -> Path:
    """The --out folder ``out``, created when missing (unless ``create`` is False: then it is
    only checked, for a command that makes it itself).

    Raises:
        BeicoderError: ``out`` is a file, or the folder cannot be created.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise BeicoderError(f"{out}: is a file; --out takes a folder")
    if not create:
        return out
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BeicoderError(f"{out}: cannot create the folder ({exc.strerror})") from None
    return out


def rule_options(command):
    """The options that fix the comparison's method before it runs (see
    :class:`beicoder.core.analysis.Rule`); the command receives them as keyword arguments and
    builds the rule with :func:`make_rule`."""
    from ..core.analysis import SCORES, TESTS

    options = [
        click.option("--alpha", default=0.05, show_default=True,
                     type=click.FloatRange(0, 1, min_open=True, max_open=True),
                     help="Significance level of the verdict rule."),
        click.option("--uncorrected", is_flag=True, help="Judge by the test's p instead of Benjamini-Hochberg q."),
        click.option("--threshold-presence", default=0.5, show_default=True, type=click.FloatRange(0, 1),
                     help="Share of each group that must show a code for a threshold competency."),
        click.option("--marginal", default=0.10, show_default=True, type=click.FloatRange(0, 1, min_open=True),
                     help="Uncorrected p under which a higher outstanding mean is called marginal."),
        click.option("--normalize", is_flag=True,
                     help="Make the rate per 1,000 units of speech the primary score instead of the frequency."),
        click.option("--primary", type=click.Choice(SCORES), default=None,
                     help="The score that decides the verdicts (default: frequency, or rate with --normalize)."),
        click.option("--test", "test", type=click.Choice(list(TESTS)), default="mann-whitney", show_default=True,
                     help="The verdict test (exact or Monte-Carlo permutation p, or Welch's t)."),
        click.option("--one-sided", is_flag=True,
                     help="Test the directional hypothesis outstanding > average one-sided (declare it in advance)."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def make_rule(alpha, uncorrected, threshold_presence, marginal, normalize, primary, test, one_sided):
    """The :class:`~beicoder.core.analysis.Rule` the :func:`rule_options` describe."""
    from ..core.analysis import Rule

    return Rule(alpha=alpha, corrected=not uncorrected, threshold_presence=threshold_presence, marginal=marginal,
                primary=primary or ("rate" if normalize else "frequency"), test=test,
                sided="one-sided" if one_sided else "two-sided")
