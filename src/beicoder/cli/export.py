"""``beicoder export``: every decision as CSV or XLSX, or the study in the REFI-QDA format."""

from __future__ import annotations

from pathlib import Path

import click

from .common import db_option, open_store


@click.command()
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx", "qdc", "qdpx"]), default="csv", show_default=True,
              help="csv: every decision; xlsx: decisions and scores per coder; qdc: REFI-QDA codebook; "
                   "qdpx: REFI-QDA project for NVivo, ATLAS.ti, MAXQDA.")
@click.option("--out", required=True, type=click.Path(path_type=Path), help="The file to write.")
@db_option
@click.option("--coder", default=None, help="Only this coder's codings (default: all coders).")
def export(fmt, out, db, coder):
    """Export every decision as CSV (one row per coding, one row with an empty code for each
    "no code" decision, one row per memo on an undecided passage, with interviewee, group,
    transcript, passage ordinal, offsets, passage text, decision, code, level, coder, memo
    and time; it loads back with 'beicoder codings import'), as XLSX (the same and each
    coder's scores, with sheets naming every sheet and explaining every column), or the
    codebook / whole project in the REFI-QDA exchange format (memos as Notes)."""
    from ..core.export import check_output, export_study

    check_output(out)  # before the study is opened: never a study file, never a folder
    from .progress import bar

    with open_store(db) as store, bar("exporting") as progress:
        done = export_study(store, fmt, out, coder, progress=progress)
    if fmt == "qdc":
        click.echo(f"wrote the codebook ({done.codes} codes) to {done.path}")
    elif fmt == "qdpx":
        click.echo(f"wrote the project ({done.sources} sources, {done.codings} codings, {done.no_code} no-code "
                   f"decisions, {done.memos} memos as Notes) to {done.path}")
    elif fmt == "xlsx":
        click.echo(f"wrote {done.codings + done.no_code} decisions, {done.memos} memos and the scores of "
                   f"{done.coders_scored} coder(s) to {out} (sheet 'sheets' names every sheet, 'columns' explains "
                   "every column)")
    else:
        click.echo(f"wrote {done.codings} codings, {done.no_code} no-code decisions and {done.memos} memos to {out}")
