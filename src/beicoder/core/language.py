"""The language of a transcript or a passage, by its script: ``zh-Hans`` (Simplified
Chinese), ``zh-Hant`` (Traditional Chinese) or ``en`` (English, and any other alphabetic text).

A text is English when CJK characters are under a tenth of its letters
(:func:`~beicoder.core.suggest.english.is_english`). A Chinese text is Traditional when
OpenCC's Traditional-to-Simplified conversion (``t2s``) changes at least
:data:`TRADITIONAL_SHARE` of its CJK characters: Simplified text hardly changes (a few
characters such as 著 or 乾 at most), Traditional text changes one character in four or five.
"""

from __future__ import annotations

LANGUAGES = ("zh-Hans", "zh-Hant", "en")
TRADITIONAL_SHARE = 0.05


def detect_language(text: str) -> str:
    """``zh-Hans``, ``zh-Hant`` or ``en`` for ``text`` (see the module docstring); text with
    no letters at all counts as ``zh-Hans``, the tool's first language."""
    from .suggest.english import CJK, is_english

    if is_english(text):
        return "en"
    cjk = CJK.findall(text)
    if not cjk:
        return "zh-Hans"
    from .suggest.lexicon import to_simplified

    han = "".join(cjk)
    changed = sum(1 for a, b in zip(han, to_simplified(han)) if a != b)
    return "zh-Hant" if changed >= TRADITIONAL_SHARE * len(han) else "zh-Hans"


def english_study(store) -> bool:
    """True when the study in ``store`` has transcripts and every one of them is English
    (see :meth:`~beicoder.core.store.Store.transcript_languages`): its tables and charts then
    name the competencies in English."""
    languages = set(store.transcript_languages().values())
    return languages == {"en"}


def code_names(store) -> dict[str, str]:
    """Code -> the competency's name to show for the study in ``store``: the English name in
    an English study (:func:`english_study`), else the Chinese one; either falls back to the
    other when it is empty."""
    english = english_study(store)
    return {c["code"]: (c["name_en"] or c["name_zh"]) if english else (c["name_zh"] or c["name_en"])
            for c in store.codes()}
