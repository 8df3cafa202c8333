"""``beicoder codings``: codings kept outside the TUI (spreadsheets)."""

from __future__ import annotations

from pathlib import Path

import click

from ..core.fmt import plural
from .common import Group, db_option, open_store


@click.group(cls=Group)
def codings():
    """Codings kept outside the TUI (spreadsheets)."""


@codings.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--coder", default=None, help="Coder to load the codings as (overrides a coder column).")
@db_option
def codings_import(file, coder, db):
    """Load codings from a CSV with columns interviewee, passage, code, level [, coder].
    An empty code is a "no code" decision. Nothing is loaded from a file with a bad row."""
    from ..core.export import CodingsFileError, import_codings

    with open_store(db) as store:
        try:
            result = import_codings(store, file, coder)
        except CodingsFileError as exc:
            for p in exc.problems:
                click.echo(f"beicoder: {p}", err=True)
            raise
    click.echo(f"loaded {plural(result.codings, 'coding')} and {plural(result.no_code, 'no-code decision')} on "
               f"{plural(result.passages, 'passage')} for {', '.join(result.coders)} "
               f"({file.name} read as {result.encoding})")
