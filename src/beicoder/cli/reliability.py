"""``beicoder reliability``: inter-coder reliability on the passages all named coders decided."""

from __future__ import annotations

from pathlib import Path

import click

from . import render
from .common import db_option, open_store, out_folder


@click.command()
@db_option
@click.option("--coders", "coders", required=True, multiple=True,
              help="Two or more coders; repeat the option or separate names by spaces: --coders A B.")
@click.argument("more_coders", nargs=-1)
@click.option("--out", type=click.Path(path_type=Path), help="Folder for reliability_*.csv and disagreements.csv.")
@click.option("--kappa-bar", default=0.60, show_default=True, type=click.FloatRange(-1, 1),
              help="Flag kappa below this.")
@click.option("--alpha-bar", default=0.667, show_default=True, type=click.FloatRange(-1, 1),
              help="Flag alpha below this.")
@click.option("--ca-bar", default=0.70, show_default=True, type=click.FloatRange(0, 1), help="Flag CA below this.")
def reliability(db, coders, more_coders, out, kappa_bar, alpha_bar, ca_bar):
    """Inter-coder reliability on the passages all named coders have decided: Winter's
    category agreement and R, Cohen's (two coders) or Fleiss' kappa per code, Krippendorff's
    alpha on code sets and levels, percent agreement, and the list of disagreements."""
    from ..core.export import write_csv
    from ..core.reliability import Bars, study_reliability

    names = [n for c in list(coders) + list(more_coders) for n in c.split()]
    if out:
        out = out_folder(out)
    with open_store(db) as store:
        result = study_reliability(store, names, Bars(kappa=kappa_bar, alpha=alpha_bar, ca=ca_bar))
    render.reliability(result)
    if out:
        for name in ("summary", "per_code", "per_transcript", "disagreements"):
            target = out / (f"reliability_{name}.csv" if name != "disagreements" else "disagreements.csv")
            write_csv(result.report[name], target)
        click.echo(f"wrote reliability_summary.csv, reliability_per_code.csv, reliability_per_transcript.csv "
                   f"and disagreements.csv to {out}")
