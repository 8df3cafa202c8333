"""``beicoder analyze``: scores per interviewee and competency, and the group comparison."""

from __future__ import annotations

from pathlib import Path

import click

from . import render
from .common import db_option, make_rule, open_store, out_folder, pick_coder, rule_options


@click.command()
@db_option
@click.option("--coder", default=None, help="Whose codings to analyse (default: the coder with most decisions).")
@click.option("--out", type=click.Path(path_type=Path), help="Folder for scores.csv and comparison.csv.")
@rule_options
def analyze(db, coder, out, **method):
    """Scores per interviewee and competency, and which competencies differentiate the
    outstanding from the average group (verdicts from one primary score, declared family)."""
    from ..core.analysis import analyze_study
    from ..core.export import write_csv

    rule = make_rule(**method)
    with open_store(db) as store:
        analysis = analyze_study(store, pick_coder(store, coder), rule)
    if out:  # the files first: a closed pipe on the table must not lose them
        out = out_folder(out)
        write_csv(analysis.scores, out / "scores.csv")
        write_csv(analysis.comparison, out / "comparison.csv")
    render.comparison(analysis)
    if out:
        click.echo(f"wrote {out / 'scores.csv'} and {out / 'comparison.csv'}")
