"""The README mentions every command and subcommand of the CLI (``beicoder NAME``, or
``beicoder GROUP NAME`` for a subcommand), so a new command cannot ship undocumented."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from beicoder.cli import main

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def command_paths(group: click.Group, prefix: tuple[str, ...] = ()) -> list[str]:
    """'import', 'codings import', ...: every command and subcommand under ``group``."""
    out = []
    for name, command in sorted(group.commands.items()):
        path = prefix + (name,)
        out.append(" ".join(path))
        if isinstance(command, click.Group):
            out += command_paths(command, path)
    return out


def mentioned(path: str, text: str = README) -> bool:
    return re.search(rf"\bbeicoder {re.escape(path)}(?![\w-])", text) is not None


def test_the_scan_sees_the_commands():
    paths = command_paths(main)
    assert {"import", "codings import", "dictionary use", "dictionary from-codebook"} <= set(paths)
    assert len(paths) > 15
    assert mentioned("code", "run `beicoder code --coder x`")
    assert not mentioned("code", "`beicoder codings import`")
    assert not mentioned("dictionary use", "`beicoder dictionary use-it`")


@pytest.mark.parametrize("path", command_paths(main))
def test_every_command_is_in_the_readme(path):
    assert mentioned(path), f"README.md does not mention 'beicoder {path}'"
