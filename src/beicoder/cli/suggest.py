"""``beicoder suggest``: keyword suggestions for every passage, and the coders' saved models."""

from __future__ import annotations

import click

from .common import db_option, open_store


@click.command()
@db_option
def suggest(db):
    """Suggest codes for every passage (keywords and spaCy token patterns) and store the
    evidence; coders' saved models score the passages they have not seen."""
    from ..core.suggest.study import suggest_everything
    from .progress import bar

    with open_store(db) as store, bar("suggesting") as report:
        run = suggest_everything(store, db, progress=report)
    click.echo(f"suggested codes for {run.passages} passages: {run.suggestions} keyword suggestions "
               f"on {run.passages_with} passages")
    for m in run.models:
        if m.error:
            click.echo(f"beicoder: {m.path}: {m.coder}'s model cannot be loaded ({m.error}); "
                       f"run 'beicoder train --coder {m.coder}'", err=True)
        elif m.scored:
            click.echo(f"{m.coder}'s model scored {m.scored} passages it had not seen")
        elif m.outdated:
            click.echo(f"{m.coder}'s model was trained with another version of the dictionary; "
                       f"run 'beicoder train --coder {m.coder}' to use it again")
