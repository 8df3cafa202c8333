"""Small text helpers shared by import, suggestion and analysis."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import NamedTuple

# CJK Unified Ideographs, Extension A, compatibility ideographs, and the astral extensions B-H.
HAN_RE = re.compile(
    "[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ebef\U00030000-\U000323af]"
)
# A run of letters or digits outside the Han script (an English word, a number).
WORD_RE = re.compile(r"[^\W\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ebef\U00030000-\U000323af_]+")


def han_count(text: str) -> int:
    """Number of Han characters (CJK ideographs, all extensions) in ``text``."""
    return len(HAN_RE.findall(text))


def speech_length(text: str) -> int:
    """Length of speech in the unit BEI rates use: Han characters plus non-Han words.

    For Chinese this is the Han-character count; for English it is the number of words
    (Winter's running-text convention counts words); mixed text adds the two.
    Punctuation and white space count nothing.
    """
    return han_count(text) + len(WORD_RE.findall(text))


@lru_cache(maxsize=1)
def _fold_table() -> dict[int, str]:
    """Code point -> replacement for :func:`match_form`: every BMP character whose NFKC form
    (lower-cased) is one other character. Built once (about 65,000 look-ups)."""
    table: dict[int, str] = {}
    for cp in range(0x10000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        ch = chr(cp)
        n = unicodedata.normalize("NFKC", ch)
        if len(n) == 1:
            n = n.lower()
            if len(n) == 1 and n != ch:
                table[cp] = n
    return table


def match_form(text: str) -> str:
    """Fold ``text`` for keyword matching without changing its length.

    Each character is NFKC-normalised and lower-cased only where that gives exactly one
    character (full-width ``２０００ｉｎ`` becomes ``2000in``; ``……`` stays, since NFKC
    would make it six dots). So offsets in the result are offsets in ``text``. Characters
    outside the Basic Multilingual Plane are left as they are.
    """
    return text.translate(_fold_table())


class TextFile(NamedTuple):
    """A text input read by :func:`read_text_input`: its ``text`` (newlines normalised to LF, no
    BOM) and the ``encoding`` it was decoded from (as transcripts report it: ``utf-8``,
    ``utf-8-bom``, ``gb18030``, ``big5``, ``cp1252``, ``utf-16``, ...)."""

    text: str
    encoding: str


def read_text_input(path, error: type[Exception], what: str = "file") -> TextFile:
    """Read the text file ``path`` (a CSV of metadata, codings, gold passages or names, or a
    dictionary) in any encoding a transcript may have: UTF-8 with or without BOM, UTF-16/32
    (with or without BOM), GB18030/GBK, Big5 or Windows-1252, detected as
    :func:`~beicoder.core.ingest.decode_bytes` detects them (Chinese Excel saves CSV as GBK).

    Out: a :class:`TextFile` (text with LF newlines, the encoding found).

    Raises:
        error: (an exception class taking one message) when the file cannot be read, is
            empty, looks binary, or no supported encoding explains its bytes; one line naming
            the file (``what`` names the kind of file: "the CSV", "the names file").
    """
    from pathlib import Path

    from .ingest import ImportProblem, decode_bytes

    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise error(f"{path}: cannot read ({exc.strerror})") from None
    try:
        text, encoding = decode_bytes(raw, str(path), what)
    except ImportProblem as exc:
        raise error(str(exc)) from None
    return TextFile(text, encoding)


@lru_cache(maxsize=1)
def _t2s():
    import opencc

    return opencc.OpenCC("t2s")


def simplified_form(text: str) -> str:
    """``text`` converted from Traditional to Simplified Chinese by OpenCC, keeping its length:
    where a phrase rule would change the length, the text is converted character by character
    instead, so offsets in the result are offsets in ``text``."""
    conv = _t2s()
    out = conv.convert(text)
    if len(out) == len(text):
        return out
    chars = []
    for ch in text:
        c = conv.convert(ch)
        chars.append(c if len(c) == 1 else ch)
    return "".join(chars)


def search_form(text: str) -> str:
    """The form of ``text`` that text search compares: :func:`match_form` (full-width folded,
    lower case) then :func:`simplified_form`, so Simplified and Traditional find each other.
    Same length as ``text``: a match's offsets are offsets in ``text``."""
    return simplified_form(match_form(text))
