"""The ``beicoder`` command: one thin module per command, each parsing its options, calling one
core function and showing the result (Rich tables in :mod:`.render`); what they share is in
:mod:`.common`. The heavy libraries load inside the commands, so ``beicoder --help`` is fast."""

from __future__ import annotations

import click

from .analyze import analyze
from .backup import backup
from .code import code, demo
from .codings import codings
from .common import Group
from .dictionary import dictionary
from .discover import discover
from .evaluate import evaluate
from .export import export
from .importing import import_cmd
from .merge import merge
from .passages import passages
from .reliability import reliability
from .report import report
from .review import review
from .search import search
from .suggest import suggest
from .train import train
from .undo import undo

__all__ = ["main"]


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="beicoder")
def main():
    """beicoder: code behavioural event interview (BEI) transcripts against a competency
    dictionary, and compare outstanding with average performers."""


# every command of the package (click lists them alphabetically in --help)
for _command in (import_cmd, suggest, train, evaluate, code, demo, passages, search, analyze, discover, reliability,
                 merge, report, dictionary, review, undo, backup, export, codings):
    main.add_command(_command)
del _command
