"""``beicoder passages``: the coded segments of a code across every interviewee (or the
passages a coder has not decided, or has been suggested and not decided)."""

from __future__ import annotations

from pathlib import Path

import click

from .common import db_option, open_store


@click.command()
@db_option
@click.option("--code", default=None, help="The code (key, or its Chinese or English name).")
@click.option("--coder", default=None, help="Only this coder's codings (needed for --undecided, --suggested).")
@click.option("--group", default=None, help="Only interviewees of this group (e.g. outstanding).")
@click.option("--level", type=int, default=None, help="Only codings at this level (with --code).")
@click.option("--text", default="", help="Only passages holding this text too (see 'beicoder search').")
@click.option("--undecided", "status", flag_value="undecided", help="Passages the coder has not decided.")
@click.option("--suggested", "status", flag_value="suggested",
              help="Passages with a code suggested to the coder and not decided (--code: that code).")
@click.option("--out", type=click.Path(path_type=Path), help="Write the rows as CSV instead of a table.")
def passages(db, code, coder, group, level, text, status, out):
    """Every passage carrying a code, across interviewees: interviewee, passage number,
    group, coder, level, memo and the passage. With --undecided or --suggested, the passages
    a coder has yet to decide."""
    from ..core.retrieval import PassageQuery, check_filters, find_passages

    if not code and not status and not text:
        raise click.UsageError("name a code (--code ACH), or ask for --undecided or --suggested passages")
    with open_store(db) as store:
        query = PassageQuery(code=code, text=text, coder=coder, group=group, level=level,
                                                    status=status or "any")
        for note in check_filters(store, query):
            click.echo(f"beicoder: note: {note}", err=True)
        results = find_passages(store, query)
    _show(results, out)


def _show(results, out) -> None:
    from ..core.retrieval import write_hits_csv
    from .render import passages_found

    if out:
        write_hits_csv(results, out)
        click.echo(f"{results.describe()}; wrote {out}")
    else:
        passages_found(results)
