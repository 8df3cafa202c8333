"""``beicoder train``: a coder's suggestion model, saved beside the study."""

from __future__ import annotations

import click

from .common import db_option, open_store, pick_coder


@click.command()
@db_option
@click.option("--coder", default=None, help="Whose decisions to learn from (default: the coder with most decisions).")
@click.option("--no-dictionary-examples", is_flag=True,
              help="Learn from the coder's decisions only, not also from the dictionary's example passages.")
def train(db, coder, no_dictionary_examples):
    """Train a suggestion model (character n-grams, logistic regression per code, calibrated
    by cross-validation on the training data) on a coder's decisions and the dictionary's
    example passages, save it beside the study, and store its suggestions for every passage."""
    from ..core.suggest.study import train_and_score
    from .progress import bar

    with open_store(db) as store:
        who = pick_coder(store, coder)
        with bar("training") as report:
            done = train_and_score(store, who, db, dictionary_examples=not no_dictionary_examples, progress=report)
    meta = done.result.meta
    click.echo(f"trained on {meta['examples']} decided passages of {done.coder} ({meta['examples_with_codes']} with "
               f"codes) and {meta['dictionary_examples']} example passages of the dictionary, seed {meta['seed']}; "
               f"suggests from {meta['model_threshold']:.2f} alone, {meta['blend_threshold']:.2f} blended with the "
               f"lexicon; saved to {done.result.path}; scored {done.scored} passages")
