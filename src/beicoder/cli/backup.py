"""``beicoder backup``: a consistent copy of the study file."""

from __future__ import annotations

from pathlib import Path

import click

from .common import db_option, open_store


@click.command()
@click.argument("target", type=click.Path(path_type=Path))
@db_option
def backup(target, db):
    """A consistent copy of the study file (SQLite's backup API; safe while others code)."""
    with open_store(db) as store:
        path = store.backup(target)
    click.echo(f"backed up {db} to {path}")
