"""``beicoder suggest``: keyword suggestions for every passage, the coders' saved models, and,
with ``--llm``, a local language model's suggestions."""

from __future__ import annotations

import click

from .common import db_option, open_store, pick_coder
from .llm import llm_config, llm_options, notice


@click.command()
@db_option
@llm_options
@click.option("--coder", default=None,
              help="With --llm: whose decided passages the prompts show as examples "
                   "(default: the coder with most decisions, if any).")
def suggest(db, coder, **llm):
    """Suggest codes for every passage (keywords and spaCy token patterns) and store the
    evidence; coders' saved models score the passages they have not seen. With --llm URL
    --llm-model NAME, a language model at a local endpoint also codes every passage it has
    not coded, each quote checked against the passage."""
    from ..core.suggest.study import suggest_everything
    from .progress import bar

    config = llm_config(**llm)
    with open_store(db) as store:
        with bar("suggesting") as report:
            run = suggest_everything(store, db, progress=report)
        click.echo(f"suggested codes for {run.passages} passages: {run.suggestions} keyword suggestions "
                   f"on {run.passages_with} passages")
        for m in run.models:
            if m.error:
                click.echo(f"beicoder: {m.path}: {m.coder}'s model cannot be loaded ({m.error}); "
                           f"run 'beicoder train --coder {m.coder}'", err=True)
            elif m.scored:
                click.echo(f"{m.coder}'s model scored {m.scored} passages it had not seen")
            elif m.outdated:
                click.echo(f"{m.coder}'s model was trained with another version of the dictionary; "
                           f"run 'beicoder train --coder {m.coder}' to use it again")
        if config is not None:
            _suggest_llm(store, config, coder)


def _suggest_llm(store, config, coder) -> None:
    from ..core.suggest.llm import suggest_study_llm
    from .progress import bar

    who = pick_coder(store, coder) if coder or store.coders() else None
    with bar("language model") as report:
        done = suggest_study_llm(store, config, who, progress=lambda n, total, _run: report(n, total), notice=notice)
    click.echo(done.summary())
    if done.failed:
        click.echo(f"{done.failed} passages failed and stay without {done.source} suggestions; "
                   "run the same command again to ask about them again", err=True)
