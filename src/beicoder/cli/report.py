"""``beicoder report``: report.md, report.xlsx and the comparison chart."""

from __future__ import annotations

from pathlib import Path

import click

from .common import db_option, make_rule, open_store, out_folder, pick_coder, rule_options


@click.command()
@db_option
@click.option("--coder", default=None, help="Whose codings to report (default: the coder with most decisions).")
@click.option("--out", required=True, type=click.Path(path_type=Path), help="Folder for the report files.")
@rule_options
@click.option("--reliability-coders", default=None,
              help="Coders whose agreement the report gives, separated by spaces "
                   "(default: all but consensus and reference).")
@click.option("--discover", "discover", is_flag=True,
              help="Add distinctive terms and candidate themes (as 'beicoder discover') with their method.")
def report(db, coder, out, reliability_coders, discover, **method):
    """Write report.md, report.xlsx and comparison.png/.svg: provenance, method, main table
    on the primary score, power, length control, count models, classification, reliability,
    with --discover what the dictionary does not cover, and an appendix with every statistic."""
    from ..core.report import build_report, write_report

    out_folder(out, create=False)  # write_report makes it
    rule = make_rule(**method)
    from .progress import bar

    with open_store(db) as store:
        who = pick_coder(store, coder)
        with bar("report") as progress:
            rep = build_report(store, who, rule, method["normalize"],
                               reliability_coders.split() if reliability_coders else None, discover,
                               progress=progress)
            progress(6, 7, "writing")
            written = write_report(rep, out)
    for path in written:
        click.echo(f"wrote {path}")
    if rep["discovery"] is not None:
        from ..core.discover import save_discovery

        click.echo(f"kept the discovery beside the study (its theme numbers for add-code): "
                   f"{save_discovery(rep['discovery'], db)}")
