"""``beicoder code`` and ``beicoder demo``: the coding TUI, on a study or on the bundled demo."""

from __future__ import annotations

from pathlib import Path

import click

from ..core import BeicoderError
from .common import DEMO_DB, DEMO_DB_EN, db_option, default_coder, open_store


def run_tui(db: str, coder: str, blind: bool = False, consensus: list[str] | None = None,
            consensus_coder: str = "consensus") -> None:
    """Check the study can be coded as asked (one line when not), then open the TUI on it."""
    from ..core.study import check_coding_session

    checked = check_coding_session(db, blind=blind, consensus=consensus or [], consensus_coder=consensus_coder,
                                   coder=coder)
    from ..tui.app import BeicoderApp

    BeicoderApp(db, checked.coder, blind=blind, consensus=checked.coders,
                consensus_coder=checked.consensus_coder).run()


@click.command()
@db_option
@click.option("--coder", default=None, help="Your coder name (default: $BEICODER_CODER or your user name).")
@click.option("--blind", is_flag=True,
              help="Blind coding: hide the interviewees' groups and the other coders' progress.")
@click.option("--consensus", "consensus", multiple=True,
              help="Open the consensus screen on these coders' disagreements (two or more): --consensus A B.")
@click.argument("more_coders", nargs=-1)
@click.option("--consensus-coder", default="consensus", show_default=True,
              help="The coder name the consensus coding is recorded under.")
def code(db, coder, blind, consensus, more_coders, consensus_coder):
    """Code passages in the terminal (Textual TUI).

    With --consensus A B, reconcile coders A and B: walk the passages where they disagree and
    decide each for the consensus coder; every decision records you (--coder) as its maker."""
    if more_coders and not consensus:
        raise click.UsageError(f"unexpected argument(s): {' '.join(more_coders)} "
                               "(coders to reconcile go after --consensus)")
    names = [n for c in list(consensus) + list(more_coders) for n in c.split()]
    run_tui(db, coder or default_coder(), blind=blind, consensus=names, consensus_coder=consensus_coder)


@click.command()
@click.option("--db", default=None, help=f"Where to build the demo study (default {DEMO_DB}; {DEMO_DB_EN} with "
                                         "--lang en).")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True,
              help="The demo study's language: ten Chinese interviews, or the English ones.")
@click.option("--coder", default=None, help="Your coder name (default: $BEICODER_CODER or your user name).")
@click.option("--rebuild", is_flag=True, help="Build the demo study again even when it exists.")
@click.option("--no-tui", is_flag=True, help="Only build the study; do not open the TUI.")
def demo(db, lang, coder, rebuild, no_tui):
    """Build the bundled demo study (10 micro-credit BEI transcripts in Chinese, or with
    --lang en the English interviews of loan officers; reference codings) on first run,
    then open it in the TUI."""
    from ..core.study import build_demo

    db = db or (DEMO_DB_EN if lang == "en" else DEMO_DB)
    if rebuild or not Path(db).exists():
        build_demo(db, progress=click.echo, lang=lang)
    else:
        try:
            open_store(db).close()
        except BeicoderError as exc:
            raise BeicoderError(f"{exc}; use --rebuild to build the demo study there again") from None
        click.echo(f"opening the existing demo study {db} (--rebuild starts it afresh)")
    if not no_tui:
        run_tui(db, coder or default_coder())
