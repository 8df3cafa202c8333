"""``beicoder undo``: a coder's last action taken back (or redone), whatever made it."""

from __future__ import annotations

import click

from ..core.fmt import plural
from .common import db_option, open_store


def _when(at: str) -> str:
    return at[:19].replace("T", " ")


@click.command()
@db_option
@click.option("--coder", required=True, help="Whose action to undo.")
@click.option("--redo", is_flag=True, help="Apply again the action undone last.")
@click.option("--list", "listing", is_flag=True, help="List the coder's last actions instead (newest first).")
def undo(db, coder, redo, listing):
    """Undo a coder's last action, whatever made it (a key in the TUI, 'codings import',
    a .qdpx import, 'merge', the consensus screen, 'review --apply'): every row it changed
    goes back to its state before. --redo applies it again."""
    from ..core.review import undo_last

    with open_store(db) as store:
        if listing:
            actions = store.actions(coder)
            for a in actions:
                click.echo(f"{_when(a.at)}  {a.origin:<10} {a.description} ({plural(a.rows, 'row')})")
            if not actions:
                click.echo(f"nothing to undo for {coder}")
            return
        done = undo_last(store, coder, redo)
    if done is None:
        click.echo(f"nothing to {'redo' if redo else 'undo'} for {coder}")
        return
    act = done.action
    where = f", passage {done.ordinal} of {done.interviewee}" if done.ordinal is not None else ""
    click.echo(f"{'redone' if redo else 'undone'}: {act.description} ({act.origin}, {plural(act.rows, 'row')}{where}, "
               f"made {_when(act.at)} UTC)")
