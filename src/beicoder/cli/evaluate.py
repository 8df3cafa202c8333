"""``beicoder evaluate``: the suggesters against a coder, cross-validated, on a gold file, or
as a learning curve."""

from __future__ import annotations

from pathlib import Path

import click

from ..core import BeicoderError
from . import render
from .common import db_option, open_store, pick_coder
from .llm import llm_config, llm_options, notice


@click.command()
@db_option
@click.option("--coder", default=None, help="Whose decisions are the truth (default: the coder with most decisions).")
@click.option("--gold", type=click.Path(path_type=Path),
              help="Score this gold file (id,text,codes) instead of cross-validating.")
@click.option("--folds", default=5, show_default=True, type=click.IntRange(2, 50), help="Folds over interviewees.")
@click.option("--learning-curve", "curve", is_flag=True,
              help="Train on the coder's first 25, 50, 100, 200, ... decided passages and score the last fifth.")
@click.option("--plot", type=click.Path(path_type=Path),
              help="With --learning-curve: the chart's PNG file (default: beside the study, STUDY.db.curve-CODER.png).")
@click.option("--out", type=click.Path(path_type=Path), help="Write the table as CSV (UTF-8 with BOM).")
@click.option("--no-dictionary-examples", is_flag=True,
              help="Train the model on the coder's decisions only, not also on the dictionary's example passages.")
@llm_options
def evaluate(db, coder, gold, folds, curve, plot, out, no_dictionary_examples, **llm):
    """Precision, recall and F1 per code (micro and macro), top-3 recall and recall on
    passages with two or three codes, of the lexicon, learned and blended suggesters:
    cross-validated over interviewees, on a gold file, or (--learning-curve) as the coder's
    decisions accumulate. With --llm URL --llm-model NAME, a local language model is scored
    on the gold file too."""
    from ..core.evaluate import GoldFileError, evaluate_study
    from ..core.export import check_output, write_csv
    from .progress import bar

    source = click.get_current_context().get_parameter_source
    if gold and source("folds").name != "DEFAULT":
        raise click.UsageError("--folds is for cross-validation; "
                               "a --gold file is scored by a model trained on the whole study")
    if curve and (gold or source("folds").name != "DEFAULT"):
        raise click.UsageError("--learning-curve scores the coder's last passages; it takes no --gold or --folds")
    if plot and not curve:
        raise click.UsageError("--plot draws the learning curve; add --learning-curve")
    if plot and plot.suffix.lower() != ".png":
        raise BeicoderError(f"{plot}: the chart is a PNG; give a file name ending in .png")
    if plot:
        check_output(plot)  # a missing folder is refused now, not after the curve was computed
    config = llm_config(**llm)
    if config is not None and not gold:
        raise BeicoderError("--llm is scored on a gold file: give --gold FILE")
    if out:
        check_output(out)
        if out.suffix.lower() != ".csv":
            raise BeicoderError(f"{out}: the table is written as CSV; give a file name ending in .csv")
        if gold and out.resolve() == gold.resolve():
            raise BeicoderError(f"{out}: is the gold file; write the table to another file")
    with open_store(db) as store:
        who = pick_coder(store, coder)
        if curve:
            _learning_curve(store, who, db, plot, out, not no_dictionary_examples)
            return
        try:
            with bar("cross-validating" if not gold else "training") as report:
                result = evaluate_study(store, who, gold, folds, dictionary_examples=not no_dictionary_examples,
                                        progress=report, llm=config,
                                        llm_progress=lambda done, total, _run: report(done, total, "language model"),
                                        llm_notice=notice)
        except GoldFileError as exc:
            for p in exc.problems:
                click.echo(f"beicoder: {p}", err=True)
            raise
    render.evaluation(result.table, result.design)
    if out:
        write_csv(result.table, out)
        click.echo(f"wrote {out}")


def _learning_curve(store, coder, db, plot, out, dictionary_examples):
    import pandas as pd

    from ..core.evaluate import curve_path, learning_curve, plot_learning_curve, save_learning_curve
    from ..core.export import write_csv
    from .progress import bar

    with bar("learning curve") as report:
        curve = learning_curve(store, coder, dictionary_examples=dictionary_examples, progress=report)
    render.learning_curve(curve)
    saved = save_learning_curve(curve, db)
    chart = plot_learning_curve(curve, plot or curve_path(db, coder, ".png"))
    click.echo(f"wrote {chart} and {saved}")
    if out:
        rows = [{"trained_on": p["n"], "suggester": name, **p[name]}
                for p in curve.points for name in ("model", "blend")]
        rows.append({"trained_on": None, "suggester": "lexicon", **curve.lexicon})
        write_csv(pd.DataFrame(rows), out)
        click.echo(f"wrote {out}")
