"""``beicoder review``: decisions set aside when a re-imported transcript changed under them."""

from __future__ import annotations

from pathlib import Path

import click

from .common import db_option, open_store


@click.command()
@db_option
@click.option("--coder", default=None, help="Only this coder's decisions.")
@click.option("--out", type=click.Path(path_type=Path), help="Also write them as CSV.")
@click.option("--apply", "apply_to", nargs=2, type=int, metavar="ID PASSAGE",
              help="Apply set-aside decision ID to passage number PASSAGE of the transcript's new version.")
@click.option("--dismiss", type=int, metavar="ID", help="Dismiss set-aside decision ID (decided again by hand).")
def review(db, coder, out, apply_to, dismiss):
    """Decisions set aside when a re-imported transcript changed under them: the old
    passage's text and the decision, to code the new version again. --apply writes one onto
    a passage of the new version (audited: 'beicoder undo' takes it back); --dismiss marks
    one settled."""
    from ..core.review import apply_review, dismiss_review, write_review_csv

    if apply_to and dismiss is not None:
        raise click.UsageError("--apply and --dismiss exclude each other")
    with open_store(db) as store:
        if apply_to:
            item = apply_review(store, *apply_to)
        elif dismiss is not None:
            item = dismiss_review(store, dismiss)
        else:
            item, items = None, store.review_items(coder)
    if item is not None:
        what = "no code" if item["no_code"] else (item["code"] or "memo")
        click.echo(f"applied {what} of {item['coder']} to passage {apply_to[1]} of {item['interviewee']}"
                   if apply_to else f"dismissed set-aside decision {dismiss} ({what} of {item['coder']})")
        return
    if not items:
        click.echo("nothing to review")
        return
    for r in items:
        what = "no code" if r["no_code"] else f"{r['code']}{'' if r['level'] is None else ' L' + str(r['level'])}"
        click.echo(f"[{r['id']}] {r['interviewee']} v{r['version']} passage {r['passage_ordinal']} · {r['coder']}: "
                   f"{what} · {r['passage_text'][:60]}{'…' if len(r['passage_text']) > 60 else ''}")
    click.echo(f"{len(items)} decisions to review ('beicoder review --apply ID PASSAGE' or '--dismiss ID')")
    if out:
        write_review_csv(items, out)
        click.echo(f"wrote {out}")
