"""``beicoder analyze``: scores per interviewee and competency, and the group comparison."""

from __future__ import annotations

from pathlib import Path

import click

from . import render
from .common import db_option, open_store, out_folder, pick_coder


@click.command()
@db_option
@click.option("--coder", default=None, help="Whose codings to analyse (default: the coder with most decisions).")
@click.option("--out", type=click.Path(path_type=Path), help="Folder for scores.csv and comparison.csv.")
@click.option("--alpha", default=0.05, show_default=True, type=click.FloatRange(0, 1, min_open=True, max_open=True),
              help="Significance level of the verdict rule.")
@click.option("--uncorrected", is_flag=True, help="Judge by Welch's p instead of Benjamini-Hochberg q.")
@click.option("--threshold-presence", default=0.5, show_default=True, type=click.FloatRange(0, 1),
              help="Share of each group that must show a code for a threshold competency.")
@click.option("--normalize", is_flag=True, help="Compare the rate per 1,000 characters instead of the frequency.")
def analyze(db, coder, out, alpha, uncorrected, threshold_presence, normalize):
    """Scores per interviewee and competency, and which competencies differentiate the
    outstanding from the average group."""
    from ..core.analysis import Rule, analyze_study
    from ..core.export import write_csv

    rule = Rule(alpha=alpha, corrected=not uncorrected, threshold_presence=threshold_presence)
    with open_store(db) as store:
        analysis = analyze_study(store, pick_coder(store, coder), rule, normalize)
    render.comparison(analysis)
    if out:
        out = out_folder(out)
        write_csv(analysis.scores, out / "scores.csv")
        write_csv(analysis.comparison, out / "comparison.csv")
        click.echo(f"wrote {out / 'scores.csv'} and {out / 'comparison.csv'}")
