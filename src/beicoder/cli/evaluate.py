"""``beicoder evaluate``: the suggesters against a coder, cross-validated or on a gold file."""

from __future__ import annotations

from pathlib import Path

import click

from ..core import BeicoderError
from . import render
from .common import db_option, open_store, pick_coder
from .llm import llm_config, llm_options, notice, progress_printer


@click.command()
@db_option
@click.option("--coder", default=None, help="Whose decisions are the truth (default: the coder with most decisions).")
@click.option("--gold", type=click.Path(path_type=Path),
              help="Score this gold file (id,text,codes) instead of cross-validating.")
@click.option("--folds", default=5, show_default=True, type=click.IntRange(2, 50), help="Folds over interviewees.")
@click.option("--out", type=click.Path(path_type=Path), help="Write the table as CSV (UTF-8 with BOM).")
@click.option("--no-dictionary-examples", is_flag=True,
              help="Train the model on the coder's decisions only, not also on the dictionary's example passages.")
@llm_options
def evaluate(db, coder, gold, folds, out, no_dictionary_examples, **llm):
    """Precision, recall and F1 per code (micro and macro) and top-3 recall of the lexicon,
    learned and blended suggesters: cross-validated over interviewees, or on a gold file (with
    --llm URL --llm-model NAME, also of a local language model)."""
    from ..core.evaluate import GoldFileError, evaluate_study
    from ..core.export import check_output, write_csv

    if gold and click.get_current_context().get_parameter_source("folds").name != "DEFAULT":
        raise click.UsageError("--folds is for cross-validation; "
                               "a --gold file is scored by a model trained on the whole study")
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
        try:
            result = evaluate_study(store, who, gold, folds, dictionary_examples=not no_dictionary_examples,
                                    progress=lambda k, n: click.echo(f"  fold {k}/{n} done", err=True),
                                    llm=config, llm_progress=progress_printer(), llm_notice=notice)
        except GoldFileError as exc:
            for p in exc.problems:
                click.echo(f"beicoder: {p}", err=True)
            raise
    render.evaluation(result.table, result.design)
    if out:
        write_csv(result.table, out)
        click.echo(f"wrote {out}")
