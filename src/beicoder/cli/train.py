"""``beicoder train``: a coder's text classifier, saved beside the study."""

from __future__ import annotations

import click

from .common import db_option, open_store, pick_coder


@click.command()
@db_option
@click.option("--coder", default=None, help="Whose decisions to learn from (default: the coder with most decisions).")
@click.option("--no-dictionary-examples", is_flag=True,
              help="Learn from the coder's decisions only, not also from the dictionary's example passages.")
def train(db, coder, no_dictionary_examples):
    """Train a text classifier (spaCy textcat_multilabel) on a coder's decisions and the
    dictionary's example passages, save it beside the study, and store its suggestions for
    every passage."""
    from ..core.suggest.study import train_and_score

    with open_store(db) as store:
        done = train_and_score(store, pick_coder(store, coder), db, dictionary_examples=not no_dictionary_examples)
    meta = done.result.meta
    click.echo(f"trained on {meta['examples']} decided passages of {done.coder} ({meta['examples_with_codes']} with "
               f"codes) and {meta['dictionary_examples']} example passages of the dictionary, seed {meta['seed']}, "
               f"{meta['epochs']} epochs; saved to {done.result.path}; scored {done.scored} passages")
