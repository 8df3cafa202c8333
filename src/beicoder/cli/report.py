"""``beicoder report``: report.md, report.xlsx and the comparison chart."""

from __future__ import annotations

from pathlib import Path

import click

from .common import db_option, open_store, out_folder, pick_coder


@click.command()
@db_option
@click.option("--coder", default=None, help="Whose codings to report (default: the coder with most decisions).")
@click.option("--out", required=True, type=click.Path(path_type=Path), help="Folder for the report files.")
@click.option("--alpha", default=0.05, show_default=True, type=click.FloatRange(0, 1, min_open=True, max_open=True))
@click.option("--uncorrected", is_flag=True, help="Judge by Welch's p instead of Benjamini-Hochberg q.")
@click.option("--threshold-presence", default=0.5, show_default=True, type=click.FloatRange(0, 1))
@click.option("--marginal", default=0.10, show_default=True, type=click.FloatRange(0, 1, min_open=True),
              help="Welch p under which a higher outstanding mean is called marginal.")
@click.option("--normalize", is_flag=True, help="Use the rate per 1,000 characters instead of the frequency.")
def report(db, coder, out, alpha, uncorrected, threshold_presence, marginal, normalize):
    """Write report.md, report.xlsx and comparison.png/.svg: method, scores, group comparison,
    length control, reliability, and provenance."""
    from ..core.analysis import Rule
    from ..core.report import build_report, write_report

    out_folder(out, create=False)  # write_report makes it
    rule = Rule(alpha=alpha, corrected=not uncorrected, threshold_presence=threshold_presence, marginal=marginal)
    with open_store(db) as store:
        rep = build_report(store, pick_coder(store, coder), rule, normalize)
    for path in write_report(rep, out):
        click.echo(f"wrote {path}")
