"""Load and validate a competency dictionary written in YAML.

A dictionary file looks like (``negation_cues``, ``hypothetical_cues``,
``negation_exceptions``, a competency's ``patterns`` and ``negative_cues`` and a level's
``cues`` are optional)::

    name: 中小银行微贷客户经理胜任素质词典
    name_en: Competency dictionary for micro-credit account managers
    version: 1
    competencies:
      - code: ACH
        name_zh: 成就导向
        name_en: Achievement orientation
        definition_zh: ...
        definition_en: ...
        levels:
          - {level: 0, indicator_zh: ..., indicator_en: ...}
          - ...
        keywords: [定了目标, 复盘, ...]
        patterns: [[{TEXT: 复盘}, {TEXT: 了}]]     # spaCy Matcher token patterns
        negative_cues: [...]
    negation_cues: [没有, 没, 未]
    hypothetical_cues: [如果当时, 早知道]
    speaker_labels:                             # optional: the study's own speaker labels
      interviewer: [研究员]
      interviewee: [客户经理]
    examples:                                   # coding-manual passages, optional
      - {codes: [ACH], text: 我给自己定了每月新增二十户的目标……}
      - {codes: [], text: 我觉得做这行最重要的是细心。}   # an example of no code

``examples`` are passages coded the way the dictionary means its codes, written apart from
any study; the learned suggester trains on them together with a coder's decisions.

The keys above are Chinese. English lives in parallel keys ending in ``_en``: a competency's
``keywords_en``, ``patterns_en`` (spaCy Matcher patterns over English tokens, with the
attributes LEMMA, LOWER, LIKE_NUM, IS_PUNCT, IN and OP only) and ``negative_cues_en``, a level's
``cues_en``, and top-level ``negation_cues_en``, ``hypothetical_cues_en`` and
``negation_exceptions_en`` (matched by lemma: see :mod:`beicoder.core.suggest.english`). An
entry of a Chinese list must hold a CJK character; one of an ``_en`` list no CJK character and
at least one Latin letter. An example may carry ``lang: zh`` or ``lang: en``, which must fit
its script (without it, the script decides: :func:`text_language`)::

    keywords_en: [check the receipt, ask the neighbour, follow-up]
    examples:
      - {codes: [INFO], text: I checked every receipt against her bank statement., lang: en}

Every problem is reported as one :class:`DictionaryError` line that names the file and
the entry (``micro_credit.yaml: competency #3 (IU): level 'two' is not an integer``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from . import BeicoderError
from .textutil import read_text_input

CODE_CHARS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.")


class DictionaryError(BeicoderError):
    """A competency dictionary that cannot be used; the message is one line."""


@dataclass(frozen=True)
class Level:
    """One step of a competency's intensity scale: an integer, its behavioural indicator and
    optional cues (phrases whose presence in a passage points to this level)."""

    level: int
    indicator_zh: str
    indicator_en: str
    cues: tuple[str, ...] = ()
    cues_en: tuple[str, ...] = ()  # English level cues, matched by lemma


@dataclass(frozen=True)
class Competency:
    """One competency (a code of the dictionary) with its names, definition, levels and keywords."""

    code: str
    name_zh: str
    name_en: str
    definition_zh: str
    definition_en: str
    levels: tuple[Level, ...]
    keywords: tuple[str, ...]
    patterns: tuple = ()  # spaCy Matcher token patterns (each a list of token dicts)
    negative_cues: tuple[str, ...] = ()  # phrases that cancel this code within their sentence
    # English: keywords and cues in base form, matched by lemma; patterns over English tokens
    keywords_en: tuple[str, ...] = ()
    patterns_en: tuple = ()
    negative_cues_en: tuple[str, ...] = ()

    @property
    def min_level(self) -> int:
        return min(lv.level for lv in self.levels)

    @property
    def max_level(self) -> int:
        return max(lv.level for lv in self.levels)

    def indicator(self, level: int) -> str:
        """The behavioural indicator (zh, then en) of ``level``, or '' when the level is unknown."""
        for lv in self.levels:
            if lv.level == level:
                return lv.indicator_zh or lv.indicator_en
        return ""


@dataclass(frozen=True)
class Dictionary:
    """A validated competency dictionary.

    ``competencies`` keeps the file's order, which is also the order of the TUI's
    number keys (1 = first competency). ``examples`` are ``(text, codes)`` pairs and
    ``example_languages`` their languages (``zh`` or ``en``), in the same order. ``sha256`` is
    the hash of the dictionary's content (its YAML data as canonical JSON), so comments and
    layout do not change it: suggestions and trained models are kept while it stays the same.
    """

    name: str
    name_en: str
    version: str
    competencies: tuple[Competency, ...]
    source: str
    sha256: str
    yaml_text: str = field(repr=False, default="")
    negation_cues: tuple[str, ...] = ()
    hypothetical_cues: tuple[str, ...] = ()
    negation_exceptions: tuple[str, ...] = ()
    examples: tuple[tuple[str, frozenset[str]], ...] = field(repr=False, default=())
    #: the study's own speaker labels, ``(label, role)`` pairs (role: interviewer or interviewee)
    speaker_labels: tuple[tuple[str, str], ...] = ()
    negation_cues_en: tuple[str, ...] = ()
    hypothetical_cues_en: tuple[str, ...] = ()
    negation_exceptions_en: tuple[str, ...] = ()
    #: the language of each example (``zh`` or ``en``), in the order of ``examples``
    example_languages: tuple[str, ...] = field(repr=False, default=())

    @property
    def codes(self) -> list[str]:
        return [c.code for c in self.competencies]

    def get(self, code: str) -> Competency:
        """Return the competency with ``code``; raises KeyError when there is none."""
        for c in self.competencies:
            if c.code == code:
                return c
        raise KeyError(code)


def _text(value, where: str, key: str, required: bool = True) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise DictionaryError(f"{where}: missing {key}")
        return ""
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        raise DictionaryError(f"{where}: {key} must be text")
    return str(value).strip()


def has_cjk(text: str) -> bool:
    """True when ``text`` holds at least one CJK character (Han ideograph, kana or hangul)."""
    from .suggest.english import CJK

    return CJK.search(text) is not None


def _script_problem(item: str, lang: str | None) -> str:
    """Why ``item`` is not written in the script of ``lang`` ('zh': at least one CJK
    character; 'en': no CJK character and at least one Latin letter), or '' when it is."""
    if lang == "zh" and not has_cjk(item):
        return "has no Chinese character (English entries go in the list ending in _en)"
    if lang == "en":
        if has_cjk(item):
            return "holds Chinese characters (Chinese entries go in the list without _en)"
        if not any(ch.isascii() and ch.isalpha() or "\u00c0" <= ch <= "\u024f" for ch in item):
            return "has no Latin letter"
    return ""


def _phrases(value, where: str, key: str, lang: str | None = None) -> tuple[str, ...]:
    """A list of non-empty, distinct phrases (``[]`` when absent). ``lang`` ('zh', 'en' or
    None: any script) is the script every phrase must be written in (see :func:`_script_problem`)."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise DictionaryError(f"{where}: '{key}' must be a list")
    out: list[str] = []
    for k, item in enumerate(value, start=1):
        if item is None or isinstance(item, (dict, list)) or not str(item).strip():
            raise DictionaryError(f"{where}: {key} #{k} is empty")
        item = str(item).strip()
        if item in out:
            raise DictionaryError(f"{where}: {key} {item!r} appears twice")
        problem = _script_problem(item, lang)
        if problem:
            raise DictionaryError(f"{where}: {key} {item!r} {problem}")
        out.append(item)
    return tuple(out)


# the token attributes an English pattern may use (the English tokens have no tags, only lemmas)
EN_PATTERN_ATTRS = {"LEMMA", "LOWER", "LIKE_NUM", "IS_PUNCT", "OP"}
PATTERN_OPS = ("?", "*", "+", "!")  # spaCy Matcher's quantifiers


def _pattern_strings(tok: dict):
    """The literal strings of one pattern token (its values and IN lists)."""
    for key, val in tok.items():
        if key == "OP":
            continue
        if isinstance(val, str):
            yield val
        elif isinstance(val, dict):
            for v in val.get("IN", []) if isinstance(val.get("IN"), list) else []:
                if isinstance(v, str):
                    yield v


def _patterns(value, where: str, key: str = "patterns", lang: str | None = None) -> tuple:
    """spaCy Matcher patterns: a list of non-empty lists of token dicts (checked for shape here,
    by spaCy when the matcher is built). ``lang`` 'en': only the attributes of
    :data:`EN_PATTERN_ATTRS`, and no CJK character in a literal; 'zh': no literal check."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise DictionaryError(f"{where}: '{key}' must be a list of token-pattern lists")
    for k, pat in enumerate(value, start=1):
        if not isinstance(pat, list) or not pat or not all(isinstance(t, dict) and t for t in pat):
            raise DictionaryError(f"{where}: {key} #{k} must be a non-empty list of token attribute mappings")
        for tok in pat:
            if "OP" in tok and tok["OP"] not in PATTERN_OPS:
                raise DictionaryError(f"{where}: {key} #{k}: OP {tok['OP']!r} is not one of {', '.join(PATTERN_OPS)}")
        if lang == "en":
            for tok in pat:
                other = sorted(str(a) for a in tok if a not in EN_PATTERN_ATTRS)
                if other:
                    raise DictionaryError(f"{where}: {key} #{k} uses {', '.join(other)}; English patterns use "
                                          "LEMMA, LOWER, LIKE_NUM, IS_PUNCT (with IN) and OP")
                for attr, val in tok.items():
                    if attr in ("LIKE_NUM", "IS_PUNCT"):
                        ok = isinstance(val, bool)
                    elif attr in ("LEMMA", "LOWER"):
                        ok = isinstance(val, str) or (isinstance(val, dict) and set(val) == {"IN"}
                                                      and isinstance(val["IN"], list) and val["IN"]
                                                      and all(isinstance(v, str) for v in val["IN"]))
                    else:
                        ok = True
                    if not ok:
                        raise DictionaryError(f"{where}: {key} #{k}: {attr} must be "
                                              + ("true or false" if attr in ("LIKE_NUM", "IS_PUNCT")
                                                 else "a word or {IN: [words]}") + f", not {val!r}")
                for literal in _pattern_strings(tok):
                    if has_cjk(literal):
                        raise DictionaryError(f"{where}: {key} #{k}: {literal!r} holds Chinese characters")
    return tuple(tuple(dict(t) for t in pat) for pat in value)


def _unique_key_loader(fast: bool = False):
    """PyYAML's SafeLoader, refusing a mapping that repeats a key (PyYAML would keep the
    last value silently: ``{codes: [INFO], text: ..., codes: [EXP]}``). ``fast``: on
    libyaml's parser when PyYAML has it (ten times faster; its error messages differ, so a
    text it refuses is read again by the pure-Python loader for the message)."""
    import yaml

    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader) if fast else yaml.SafeLoader

    class UniqueKeyLoader(base):
        def construct_mapping(self, node, deep=False):
            seen = set()
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=deep)
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"key {key!r} appears twice in one mapping", key_node.start_mark)
                seen.add(key)
            return super().construct_mapping(node, deep)

    return UniqueKeyLoader


def parse_dictionary(text: str, source: str = "<dictionary>") -> Dictionary:
    """Validate the YAML ``text`` of a dictionary and return a :class:`Dictionary`.

    ``source`` names the file in error messages.

    Raises:
        DictionaryError: bad YAML, no competencies, a duplicate or malformed code, a missing
            name, a level that is not an integer or repeats, an empty or duplicate keyword.
    """
    import yaml  # lazy: the CLI starts without it

    name = Path(source).name
    try:
        try:
            data = yaml.load(text, Loader=_unique_key_loader(fast=True))  # noqa: S506 - a SafeLoader subclass
        except yaml.YAMLError:
            data = yaml.load(text, Loader=_unique_key_loader())  # noqa: S506 - the same, for its message
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise DictionaryError(f"{name}: bad YAML{at}: {problem}") from None
    if not isinstance(data, dict):
        raise DictionaryError(f"{name}: expected a mapping with 'competencies' at the top level")
    comps = data.get("competencies")
    if not isinstance(comps, list) or not comps:
        raise DictionaryError(f"{name}: 'competencies' must be a non-empty list")
    seen_codes: set[str] = set()
    out: list[Competency] = []
    for i, entry in enumerate(comps, start=1):
        where = f"{name}: competency #{i}"
        if not isinstance(entry, dict):
            raise DictionaryError(f"{where}: expected a mapping")
        code = _text(entry.get("code"), where, "code")
        where = f"{name}: competency #{i} ({code})"
        if not set(code) <= CODE_CHARS:
            raise DictionaryError(f"{where}: code must be upper-case letters, digits, '_', '-' or '.'")
        if code in seen_codes:
            raise DictionaryError(f"{where}: duplicate code {code}")
        seen_codes.add(code)
        name_zh = _text(entry.get("name_zh"), where, "name_zh", required=False)
        name_en = _text(entry.get("name_en"), where, "name_en", required=False)
        if not name_zh and not name_en:
            raise DictionaryError(f"{where}: missing name (name_zh or name_en)")
        levels_raw = entry.get("levels")
        if not isinstance(levels_raw, list) or not levels_raw:
            raise DictionaryError(f"{where}: 'levels' must be a non-empty list")
        levels: list[Level] = []
        seen_levels: set[int] = set()
        for lv in levels_raw:
            if not isinstance(lv, dict) or "level" not in lv:
                raise DictionaryError(f"{where}: each level needs a 'level' number")
            value = lv["level"]
            if isinstance(value, bool) or not isinstance(value, int):
                raise DictionaryError(f"{where}: level {value!r} is not an integer")
            if value in seen_levels:
                raise DictionaryError(f"{where}: level {value} appears twice")
            seen_levels.add(value)
            ind_zh = _text(lv.get("indicator_zh"), where, f"indicator of level {value}", required=False)
            ind_en = _text(lv.get("indicator_en"), where, f"indicator of level {value}", required=False)
            if not ind_zh and not ind_en:
                raise DictionaryError(f"{where}: level {value} has no behavioural indicator")
            levels.append(Level(value, ind_zh, ind_en, _phrases(lv.get("cues"), where, f"cue of level {value}", "zh"),
                                _phrases(lv.get("cues_en"), where, f"English cue of level {value}", "en")))
        keywords = _phrases(entry.get("keywords") or [], where, "keyword", "zh")
        out.append(
            Competency(
                code=code,
                name_zh=name_zh,
                name_en=name_en,
                definition_zh=_text(entry.get("definition_zh"), where, "definition_zh", required=False),
                definition_en=_text(entry.get("definition_en"), where, "definition_en", required=False),
                levels=tuple(sorted(levels, key=lambda lv: lv.level)),
                keywords=keywords,
                patterns=_patterns(entry.get("patterns"), where),
                negative_cues=_phrases(entry.get("negative_cues"), where, "negative cue", "zh"),
                keywords_en=_phrases(entry.get("keywords_en") or [], where, "English keyword", "en"),
                patterns_en=_patterns(entry.get("patterns_en"), where, "patterns_en", "en"),
                negative_cues_en=_phrases(entry.get("negative_cues_en"), where, "English negative cue", "en"),
            )
        )
    examples = _examples(data.get("examples"), name, seen_codes)
    return Dictionary(
        name=str(data.get("name") or data.get("name_en") or name),
        name_en=str(data.get("name_en") or ""),
        version=str(data.get("version", "")),
        competencies=tuple(out),
        source=source,
        sha256=hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False, default=str).encode("utf-8"))
        .hexdigest(),
        yaml_text=text,
        negation_cues=_phrases(data.get("negation_cues"), name, "negation cue", "zh"),
        hypothetical_cues=_phrases(data.get("hypothetical_cues"), name, "hypothetical cue", "zh"),
        negation_exceptions=_phrases(data.get("negation_exceptions"), name, "negation exception", "zh"),
        examples=tuple((text, codes) for text, codes, _ in examples),
        speaker_labels=tuple(_speaker_labels(data.get("speaker_labels"), name).items()),
        negation_cues_en=_phrases(data.get("negation_cues_en"), name, "English negation cue", "en"),
        hypothetical_cues_en=_phrases(data.get("hypothetical_cues_en"), name, "English hypothetical cue", "en"),
        negation_exceptions_en=_phrases(data.get("negation_exceptions_en"), name, "English negation exception",
                                        "en"),
        example_languages=tuple(lang for _, _, lang in examples),
    )


def _speaker_labels(value, name: str) -> dict[str, str]:
    """The ``speaker_labels`` mapping (``interviewer: [...]``, ``interviewee: [...]``) as
    ``{label: role}``; each label checked as the import checks ``--speaker-label``."""
    from .ingest import ROLES, ImportProblem, check_speaker_label

    if value is None:
        return {}
    where = f"{name}: speaker_labels"
    if not isinstance(value, dict):
        raise DictionaryError(f"{where}: expected a mapping with interviewer: [...] and/or interviewee: [...]")
    unknown = sorted(str(k) for k in value if k not in ROLES)
    if unknown:
        raise DictionaryError(f"{where}: unknown role(s) {', '.join(unknown)} (interviewer or interviewee)")
    out: dict[str, str] = {}
    for role in ROLES:
        for label in _phrases(value.get(role), where, f"{role} label"):
            try:
                label, _ = check_speaker_label(label, role, where)
            except ImportProblem as exc:
                raise DictionaryError(str(exc)) from None
            if out.get(label, role) != role:
                raise DictionaryError(f"{where}: {label!r} is listed as interviewer and as interviewee")
            out[label] = role
    return out


def _same_text_key(text: str) -> str:
    """``text`` folded (Simplified script, NFKC, lower case) without spaces and punctuation."""
    from .suggest.lexicon import fold  # lazy: OpenCC loads only for dictionaries with examples

    return "".join(ch for ch in fold(text) if ch.isalnum())


def text_language(text: str) -> str:
    """'zh' when CJK characters are at least a tenth of the letters of ``text``, else 'en'
    (the language of a passage or an example, by its script: see
    :func:`~beicoder.core.suggest.english.is_english`)."""
    from .suggest.english import is_english

    return "en" if is_english(text) else "zh"


def _examples(value, name: str, codes: set[str]) -> tuple[tuple[str, frozenset[str], str], ...]:
    """The ``examples`` list: ``(text, codes, lang)`` triples. Each item is a mapping with
    ``text`` (a string), ``codes`` (a list, or a ``;``-separated string, of the
    dictionary's codes; ``[]`` for a passage with no code) and optionally ``lang`` (``zh`` or
    ``en``, which must fit the text's script; without it, the script's: see
    :func:`text_language`). A text may appear once."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise DictionaryError(f"{name}: 'examples' must be a list of {{text, codes}} mappings")
    out = []
    first: dict[str, int] = {}
    for i, item in enumerate(value, start=1):
        where = f"{name}: example #{i}"
        if not isinstance(item, dict):
            raise DictionaryError(f"{where}: expected a mapping with text and codes")
        other = sorted(str(k) for k in item if k not in ("text", "codes", "lang"))
        if other:
            raise DictionaryError(f"{where}: unknown key(s) {', '.join(other)}; an example has text, codes "
                                  "and optionally lang")
        if not isinstance(item.get("text"), str):
            problem = "text must be text" if item.get("text") is not None else "missing text"
            raise DictionaryError(f"{where}: {problem}")
        text = _text(item.get("text"), where, "text")
        if "codes" not in item or item["codes"] is None:
            raise DictionaryError(f"{where}: missing codes (write codes: [] for a passage with no code)")
        raw = item["codes"]
        if isinstance(raw, str):
            raw = raw.replace("；", ";").split(";")
        if not isinstance(raw, list):
            raise DictionaryError(f"{where}: 'codes' must be a list of codes")
        labels = frozenset(str(c).strip() for c in raw if str(c).strip())
        unknown = sorted(labels - codes)
        if unknown:
            raise DictionaryError(f"{where}: unknown code(s) {', '.join(unknown)}")
        key = _same_text_key(text)
        if key in first:
            raise DictionaryError(f"{where}: same text as example #{first[key]} (script, case and punctuation aside)")
        first[key] = i
        script = text_language(text)
        lang = item.get("lang", script)
        if lang not in ("zh", "en"):
            raise DictionaryError(f"{where}: lang must be zh or en, not {lang!r}")
        if lang != script:
            raise DictionaryError(f"{where}: lang is {lang} but the text is written in "
                                  f"{'Chinese' if script == 'zh' else 'English'}")
        out.append((text, labels, lang))
    return tuple(out)


def load_dictionary(path: str | Path) -> Dictionary:
    """Read and validate the dictionary file at ``path`` (YAML, in UTF-8 or any encoding a
    transcript may have: see :func:`~beicoder.core.textutil.read_text_input`).

    Raises:
        DictionaryError: the file cannot be read or is not a valid dictionary (one line).
    """
    path = Path(path)
    if not path.is_file():
        raise DictionaryError(f"{path}: cannot read dictionary ({'is a folder' if path.is_dir() else 'no such file'})")
    return parse_dictionary(read_text_input(path, DictionaryError, "the dictionary").text, str(path))


def _block_end(lines: list[str], key_line: int) -> int:
    """The line index where the top-level block opened at ``key_line`` ends: before the next
    top-level key, less the comments and blank lines that lead into that key."""
    import re

    end = len(lines)
    for i in range(key_line + 1, len(lines)):
        if re.match(r"[^\s#-][^:]*:", lines[i]):
            end = i
            break
    while end > key_line + 1 and (not lines[end - 1].strip() or lines[end - 1].lstrip().startswith("#")):
        end -= 1
    return end


def _item_indent(lines: list[str], start: int, end: int) -> str:
    """The indentation of the first list item (``- ``) between lines ``start`` and ``end``."""
    for line in lines[start:end]:
        stripped = line.lstrip(" ")
        if stripped.startswith("- "):
            return line[:len(line) - len(stripped)]
    return "  "


def with_code_added(text: str, entry: dict, examples: list[dict], comment: str = "",
                    source: str = "<dictionary>") -> tuple[str, bool]:
    """The dictionary YAML ``text`` with the competency ``entry`` (a mapping as the file
    writes one: code, name_zh, levels, ...) appended to ``competencies`` and ``examples``
    (mappings with codes and text) appended to ``examples``, and ``comment`` (lines) above
    the new entry.

    The text is edited in place, so the file's comments and layout stay: the entry goes at
    the end of the ``competencies`` block and the examples at the end of the ``examples``
    block (one is opened at the end of the file when there is none). The result is checked:
    it must parse to exactly the old data plus the additions; when the file's layout defeats
    the edit (flow-style lists, unusual indentation), the whole dictionary is written anew by
    PyYAML instead, and the second value returned is False (comments were not kept).

    Raises:
        DictionaryError: ``text`` is not a valid dictionary, or the result is not one (a code
            that exists, a bad code, an example text the dictionary has already).
    """
    import copy
    import re

    import yaml

    parse_dictionary(text, source)  # the starting point must be valid
    data = yaml.safe_load(text)
    expected = copy.deepcopy(data)
    expected["competencies"].append(entry)
    expected["examples"] = list(expected.get("examples") or []) + list(examples)
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"

    class IndentedDumper(yaml.SafeDumper):  # lists indented under their key, as the bundled file writes them
        def increase_indent(self, flow=False, indentless=False):
            return super().increase_indent(flow, False)

    def dump_item(item: dict, indent: str, flow: bool) -> list[str]:
        body = yaml.dump(item, Dumper=IndentedDumper, allow_unicode=True, sort_keys=False, width=10 ** 6,
                         default_flow_style=flow).rstrip("\n")
        first, *rest = body.split("\n")
        return [f"{indent}- {first}\n"] + [f"{indent}  {line}\n" for line in rest]

    kept = True
    try:
        keys = {m.group(1): i for i, line in enumerate(lines) if (m := re.match(r"([A-Za-z_][\w-]*)\s*:\s*(#.*)?$",
                                                                               line.rstrip("\n")))}
        comp_at = keys["competencies"]
        end = _block_end(lines, comp_at)
        indent = _item_indent(lines, comp_at + 1, end)
        new_entry = [f"{indent}# {c}\n" for c in comment.splitlines()] + dump_item(entry, indent, False)
        new_lines = lines[:end] + new_entry + lines[end:]
        if examples:
            keys = {m.group(1): i for i, line in enumerate(new_lines)
                    if (m := re.match(r"([A-Za-z_][\w-]*)\s*:\s*(#.*)?$", line.rstrip("\n")))}
            if "examples" in keys:
                ex_at = keys["examples"]
                ex_end = _block_end(new_lines, ex_at)
                ex_indent = _item_indent(new_lines, ex_at + 1, ex_end)
                add = [line for ex in examples for line in dump_item(ex, ex_indent, True)]
                new_lines = new_lines[:ex_end] + add + new_lines[ex_end:]
            elif re.search(r"^examples\s*:", "".join(new_lines), re.MULTILINE):
                raise ValueError("examples written in flow style")
            else:
                new_lines += ["\nexamples:\n"] + [line for ex in examples for line in dump_item(ex, "  ", True)]
        new_text = "".join(new_lines)
        if yaml.safe_load(new_text) != expected:
            raise ValueError("the edit does not give the expected data")
    except (KeyError, ValueError, yaml.YAMLError):
        kept = False
        new_text = yaml.safe_dump(expected, allow_unicode=True, sort_keys=False, width=10 ** 6)
    parse_dictionary(new_text, source)
    return new_text, kept
