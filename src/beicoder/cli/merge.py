"""``beicoder merge``: another coder's copy of the study brought in."""

from __future__ import annotations

from pathlib import Path

import click

from . import render
from .common import db_option, open_store


@click.command()
@click.argument("other", type=click.Path(path_type=Path))
@db_option
def merge(other, db):
    """Bring another study file's codings in (another coder's copy of the same transcripts).
    Transcripts are matched by content; merging twice adds nothing."""
    from ..core.merge import merge_study

    with open_store(db) as store:
        report = merge_study(store, other)
    render.merge_report(report, other)
