"""``beicoder dictionary``: the study's competency dictionary.

``beicoder dictionary FILE.yaml`` is short for ``beicoder dictionary use FILE.yaml``;
``from-codebook`` makes a dictionary file from another tool's REFI-QDA codebook; ``add-code``
writes a copy of the dictionary with a draft code made from a theme of ``beicoder discover``."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..core import BeicoderError
from .common import DefaultGroup, db_option, open_store


def interactive() -> bool:
    """True when a person at a terminal can answer a question (stdin is a terminal)."""
    return sys.stdin.isatty()


@click.group("dictionary", cls=DefaultGroup, default="use")
def dictionary():
    """The study's competency dictionary: replace it (use), make one from a REFI-QDA
    codebook (from-codebook), or copy it with a draft code from a discovered theme
    (add-code). 'beicoder dictionary FILE.yaml' is short for 'beicoder dictionary use
    FILE.yaml'."""


@dictionary.command("use")
@click.argument("file", type=click.Path(path_type=Path))
@db_option
@click.option("--yes", is_flag=True, help="Do not ask before deleting the codings of codes the new dictionary drops.")
def use(file, db, yes):
    """Replace the study's competency dictionary by FILE (YAML). Codes are matched by key, so
    renamed labels keep their codings; codings of dropped codes are deleted only after you
    confirm (one transaction). Suggestions are recomputed when next needed."""
    from ..core.study import replace_dictionary

    def confirm(dropped: dict[str, int]) -> bool:
        # Asked before anything is written: refusing here leaves the study as it was.
        listing = ", ".join(f"{c} ({n} codings)" for c, n in dropped.items())
        if yes:
            return True
        if not interactive():
            raise BeicoderError(f"{file}: drops {listing}; there is no terminal to confirm deleting these codings, "
                                "so nothing was changed (rerun with --yes to delete them)")
        try:
            return click.confirm(f"{file.name} drops {listing}; delete these codings?", default=False)
        except click.Abort:
            raise BeicoderError(f"{file}: not confirmed; nothing was changed") from None

    with open_store(db) as store:
        new, dropped = replace_dictionary(store, file, confirm)
    click.echo(f"the study now uses {file} ({len(new.codes)} codes)"
               + (f"; deleted the codings of {', '.join(dropped)}" if dropped else ""))


@dictionary.command("from-codebook")
@click.argument("codebook", type=click.Path(path_type=Path))
@click.option("--out", required=True, type=click.Path(path_type=Path),
              help="The dictionary file to write (.yaml); an existing file is not overwritten.")
def from_codebook(codebook, out):
    """Make a competency dictionary file (YAML) from a REFI-QDA codebook (.qdc, or the codebook
    of a .qdpx project) exported by NVivo, ATLAS.ti, MAXQDA or QualCoder. Each code gets one
    placeholder level 1 and no keywords: add levels and keywords, then use the file with
    'beicoder import --dictionary' or 'beicoder dictionary'."""
    from ..core.refi import write_codebook_dictionary

    written = write_codebook_dictionary(codebook, out)
    n = len(written.codes)
    click.echo(f"{codebook.name}: {n} code{'s' if n != 1 else ''} -> dictionary {out} "
               "(each code has one placeholder level 1; add levels and keywords, then use it with "
               f"'beicoder import --dictionary {out}' or 'beicoder dictionary {out}')")


@dictionary.command("add-code")
@click.argument("code")
@click.option("--name-zh", required=True, help="The new code's Chinese name.")
@click.option("--name-en", default=None, help="Its English name.")
@click.option("--from-theme", "theme", required=True, type=click.IntRange(1),
              help="The theme's number in the last 'beicoder discover' of the study.")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="The dictionary file to write (.yaml; default STEM-CODE.yaml here); never overwritten.")
@click.option("--dictionary", "source", type=click.Path(path_type=Path), default=None,
              help="Copy this dictionary file instead of the study's dictionary.")
@db_option
def add_code(code, name_zh, name_en, theme, out, source, db):
    """Write a copy of the study's dictionary with CODE, a draft code made from theme N of
    the last 'beicoder discover': its names, one placeholder level, the theme's example
    passages as its examples. Refuses a code the dictionary has. Complete the definition,
    levels and keywords, then 'beicoder dictionary use FILE'."""
    from ..core.discover import draft_code_from_theme

    draft = draft_code_from_theme(db, code, name_zh, name_en, theme, out, source)
    skipped = f" ({draft.skipped} already in the dictionary left out)" if draft.skipped else ""
    click.echo(f"wrote {draft.path}: {len(draft.dictionary.codes)} codes, the last the draft {code.strip()} "
               f"{name_zh.strip()} from theme {theme} ({' '.join(draft.theme.top_terms[:5])}) with "
               f"{draft.examples} example passages{skipped}; it loads as a dictionary")
    if not draft.kept:
        click.echo("note: the file's layout could not be edited in place, so it was written anew without its comments")
    click.echo(f"complete its definition, levels and keywords, then: beicoder dictionary use {draft.path} --db {db}")
