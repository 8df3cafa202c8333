"""Pseudonymisation of transcripts before they are stored.

A names file is a UTF-8 CSV (BOM allowed) with columns ``name`` and ``pseudonym``. Every
occurrence of a listed name in a transcript's text is replaced by its pseudonym BEFORE the text
is parsed and stored, so turns, passages and their offsets are those of the pseudonymised text
and nothing downstream (coding, CSV and REFI-QDA exports, reports) ever sees the original.

Rules: one pass over the text, longest names first (``张伟明`` before ``张伟``), so a
replacement is never replaced again; case-sensitive; a name that begins (ends) with an ASCII
letter or digit only matches where it is not preceded (followed) by one (``Ann`` does not touch
``Annual``); Chinese names match anywhere.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from pathlib import Path

from . import BeicoderError
from .textutil import read_text_input


class NamesFileError(BeicoderError):
    """A names file that cannot be used; one line naming the file (and row)."""


def load_names(path) -> dict[str, str]:
    """The names of the names CSV at ``path`` as ``{name: pseudonym}``; see :func:`load_names_file`."""
    return load_names_file(path)[0]


def load_names_file(path) -> tuple[dict[str, str], str]:
    """Read a names CSV (columns ``name,pseudonym``) in any encoding a transcript may have (see
    :func:`~beicoder.core.textutil.read_text_input`). Returns ``({name: pseudonym}, encoding
    found)``, names and pseudonyms NFC-normalised and trimmed.

    Raises:
        NamesFileError: unreadable or undecodable, a missing column, no rows, an empty name or
            pseudonym, or a name listed twice.
    """
    path = Path(path)
    text, encoding = read_text_input(path, NamesFileError, "the names file")
    reader = csv.DictReader(text.splitlines())
    fields = [(f or "").strip().lower() for f in reader.fieldnames or []]
    missing = [c for c in ("name", "pseudonym") if c not in fields]
    if missing:
        raise NamesFileError(f"{path}: missing column(s) {', '.join(missing)} (the header must be name,pseudonym)")
    names: dict[str, str] = {}
    for row in reader:
        row = {(k or "").strip().lower(): unicodedata.normalize("NFC", (v or "").strip())
               for k, v in row.items() if k is not None and isinstance(v, str)}
        where = f"{path.name} line {reader.line_num}"
        name, pseudonym = row.get("name", ""), row.get("pseudonym", "")
        if not name:
            raise NamesFileError(f"{where}: empty name")
        if not pseudonym:
            raise NamesFileError(f"{where}: empty pseudonym for {name!r}")
        if name in names:
            raise NamesFileError(f"{where}: name {name!r} is listed twice")
        names[name] = pseudonym
    if not names:
        raise NamesFileError(f"{path}: no names")
    return names, encoding


def _pattern(names) -> re.Pattern:
    parts = []
    for name in sorted(names, key=lambda n: (-len(n), n)):
        p = re.escape(name)
        if re.match(r"[A-Za-z0-9]", name[0]):
            p = r"(?<![A-Za-z0-9])" + p
        if re.match(r"[A-Za-z0-9]", name[-1]):
            p += r"(?![A-Za-z0-9])"
        parts.append(p)
    return re.compile("|".join(parts))


def pseudonymize(text: str, names: dict[str, str]) -> tuple[str, dict[str, int]]:
    """``text`` with every listed name replaced by its pseudonym, and the number of
    replacements per name (names not found are left out of the counts)."""
    if not names:
        return text, {}
    counts: dict[str, int] = {}

    def swap(m):
        counts[m.group(0)] = counts.get(m.group(0), 0) + 1
        return names[m.group(0)]

    return _pattern(names).sub(swap, text), counts


def pseudonymize_spans(text: str, names: dict[str, str], span_lists) -> tuple[str, dict[str, int], list]:
    """:func:`pseudonymize` ``text`` and move each ``(start, end)`` span of ``span_lists`` (a
    list of lists of spans into ``text``) to the same place in the new text. Out: ``(new
    text, replacements per name, the span lists moved)``."""
    if not names:
        return text, {}, [list(spans) for spans in span_lists]
    counts: dict[str, int] = {}
    pieces: list[str] = []
    shifts: list[tuple[int, int, int]] = []  # (old end of a replaced name, its old start, total shift after it)
    pos = shift = 0
    for m in _pattern(names).finditer(text):
        pieces.append(text[pos:m.start()])
        new = names[m.group(0)]
        pieces.append(new)
        counts[m.group(0)] = counts.get(m.group(0), 0) + 1
        shift += len(new) - (m.end() - m.start())
        shifts.append((m.end(), m.start(), shift))
        pos = m.end()
    pieces.append(text[pos:])

    def moved(offset: int) -> int:
        total = 0
        for end, start, after in shifts:
            if end <= offset:
                total = after
            elif start < offset:  # inside a replaced name: to its new end
                return end + after
            else:
                break
        return offset + total

    spans_out = [[(moved(a), moved(b)) for a, b in spans] for spans in span_lists]
    return "".join(pieces), counts, spans_out
