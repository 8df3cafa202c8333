"""Small text helpers shared by import, suggestion and analysis."""

from __future__ import annotations

import re
import unicodedata

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


def match_form(text: str) -> str:
    """Fold ``text`` for keyword matching without changing its length.

    Each character is NFKC-normalised and lower-cased only where that gives exactly one
    character (full-width ``２０００ｉｎ`` becomes ``2000in``; ``……`` stays, since NFKC
    would make it six dots). So offsets in the result are offsets in ``text``.
    """
    out = []
    for ch in text:
        if ch.isascii():
            out.append(ch.lower())
            continue
        n = unicodedata.normalize("NFKC", ch)
        if len(n) == 1:
            n = n.lower()
            out.append(n if len(n) == 1 else ch)
        else:
            out.append(ch)
    return "".join(out)
