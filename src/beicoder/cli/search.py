"""``beicoder search``: passages holding some text, across every interviewee."""

from __future__ import annotations

from pathlib import Path

import click

from .common import db_option, open_store
from .passages import _show


@click.command()
@click.argument("text")
@db_option
@click.option("--code", default=None, help="Only passages carrying this code (key or name).")
@click.option("--coder", default=None, help="Whose codes and memos to show (and --code to look at).")
@click.option("--group", default=None, help="Only interviewees of this group.")
@click.option("--out", type=click.Path(path_type=Path), help="Write the rows as CSV instead of a table.")
def search(text, db, code, coder, group, out):
    """Passages holding TEXT (every word of it, words separated by spaces), in reading order.
    Chinese of one or two characters works; Simplified and Traditional find each other,
    full-width letters and case do not matter."""
    from ..core.retrieval import PassageQuery, check_filters, find_passages

    if not text.strip():
        raise click.UsageError("give the text to search for")
    with open_store(db) as store:
        query = PassageQuery(code=code, text=text, coder=coder, group=group)
        for note in check_filters(store, query):
            click.echo(f"beicoder: note: {note}", err=True)
        results = find_passages(store, query)
    _show(results, out)
