"""``beicoder discover``: distinctive terms of the outstanding vs the average group, and
candidate themes in what no code covers."""

from __future__ import annotations

from pathlib import Path

import click

from . import render
from .common import db_option, open_store, out_folder, pick_coder


@click.command()
@db_option
@click.option("--coder", default=None,
              help="Whose 'no code' and undecided passages to cluster into themes (default: the coder with most "
                   "decisions; every passage when nobody has coded).")
@click.option("--out", type=click.Path(path_type=Path), help="Folder for terms.csv and themes.csv.")
@click.option("--min-interviewees", default=3, show_default=True, type=click.IntRange(1),
              help="Test only terms used by at least this many interviewees (the family of the correction).")
@click.option("--top", default=10, show_default=True, type=click.IntRange(1), help="Terms shown per group.")
def discover(db, coder, out, min_interviewees, top):
    """What outstanding interviewees say that average ones do not: distinctive terms (weighted
    log-odds with an informative Dirichlet prior, permutation p over interviewees, BH q) with
    passages in context, and candidate themes in the passages no code covers (TF-IDF + NMF),
    numbered for 'beicoder dictionary add-code --from-theme N'. The result is kept beside the
    study (STUDY.db.discover.json)."""
    from ..core.discover import discover as run
    from ..core.discover import save_discovery, write_discovery

    if out:
        out = out_folder(out)
    with open_store(db) as store:
        if coder or store.coders():
            coder = pick_coder(store, coder)
        else:
            click.echo("no codings yet: every passage counts as undecided")
        result = run(store, coder, min_interviewees=min_interviewees)
    saved = save_discovery(result, db)
    render.discovery(result, top)
    if out:
        for path in write_discovery(result, out):
            click.echo(f"wrote {path}")
    click.echo(f"kept beside the study: {saved}")
    if result.themes:
        click.echo(f"make theme N a draft code: beicoder dictionary add-code CODE --name-zh 名称 --from-theme N "
                   f"--db {db}")
