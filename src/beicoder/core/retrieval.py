"""Coded segments and text search: the passages that carry a code, or hold some words,
across every interviewee (``beicoder passages``, ``beicoder search`` and the TUI's find view).

:func:`find_passages` takes a :class:`PassageQuery` and returns :class:`PassageHit` rows in
reading order (interviewee, transcript, passage number):

- a **code** (key, or its Chinese or English name): one row per coding of it, with its level,
  coder and that coder's memo; narrowed to one ``coder``, one ``group``, one ``level``;
- a **text**: passages holding every word of it (words are separated by spaces). Text is
  compared in its folded form (Simplified, full-width folded, lower case; see
  :func:`~beicoder.core.textutil.search_form`), so a Traditional query finds Simplified text
  and the other way round; words of three characters or more go through SQLite FTS5's trigram
  index, shorter ones (一两个汉字) are found by a substring scan;
- a **status**: ``undecided`` (passages the coder has neither coded nor marked "no code") or
  ``suggested`` (those of them with a code suggested to the coder, as the coding screen shows
  suggestions: the lexicon's, blended with the coder's own model when it has one). With a
  status, a code means "this code suggested".

Filters combine. :func:`write_hits_csv` writes the rows as CSV for a spreadsheet.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from . import BeicoderError

STATUSES = ("any", "undecided", "suggested")
HIT_COLUMNS = ["interviewee", "group", "transcript", "passage", "coder", "code", "level", "codes", "memo", "text"]


class QueryError(BeicoderError):
    """A query that cannot be run (an unknown code, a level without a code...); one line."""


@dataclass(frozen=True)
class PassageQuery:
    """What to find (see the module docstring); every field left at its default filters
    nothing. ``coder``: whose codings (with ``code``), whose memo, and whose decisions
    ``status`` looks at (then required)."""

    code: str | None = None
    text: str = ""
    coder: str | None = None
    group: str | None = None
    level: int | None = None
    status: str = "any"


@dataclass(frozen=True)
class PassageHit:
    """One passage found: where it is (``passage_id``, ``transcript_id``, ``interviewee``,
    ``title`` of the transcript, ``group``, ``ordinal``: its number in the transcript), its
    ``text``; for a code query the ``coder``, ``code`` and ``level`` of the coding; ``codes``:
    the codes on it as ``ACH L3, INFO`` (the query's coder's, or everyone's with their names
    when no coder was given); ``memo`` (that coder's); ``matches``: (start, end) offsets in
    ``text`` of the query's words; ``suggested``: codes suggested (status queries)."""

    passage_id: int
    transcript_id: int
    interviewee: str
    title: str
    group: str | None
    ordinal: int
    text: str
    coder: str | None = None
    code: str | None = None
    level: int | None = None
    codes: str = ""
    memo: str = ""
    matches: tuple[tuple[int, int], ...] = ()
    suggested: tuple[str, ...] = ()


@dataclass
class PassageResults:
    """The rows found (``hits``) for ``query`` (with its code resolved to a key), and how the
    text was searched (``method``: ``""`` without text, else ``FTS5 trigram index``,
    ``substring scan`` or both)."""

    query: PassageQuery
    hits: list[PassageHit] = field(default_factory=list)
    method: str = ""

    def describe(self) -> str:
        """One line: what was asked and how many rows came back (``12 passages coded ACH by
        amy, group outstanding``)."""
        q = self.query
        n = len(self.hits)
        what = f"{n} passage{'' if n == 1 else 's'}"
        if q.code and q.status == "any":
            what = f"{n} coding{'' if n == 1 else 's'} of {q.code}"
            if q.level is not None:
                what += f" at level {q.level}"
            if q.coder:
                what += f" by {q.coder}"
        parts = [what]
        if q.text:
            parts.append(f"holding “{q.text}”")
        if q.status == "undecided":
            parts.append(f"undecided by {q.coder}" + (f", {q.code} suggested" if q.code else ""))
        elif q.status == "suggested":
            parts.append(f"{q.code or 'a code'} suggested to {q.coder}, undecided")
        if q.group:
            parts.append(f"group {q.group}")
        return ", ".join(parts) + (f" ({self.method})" if self.method else "")


def search_terms(text: str) -> list[str]:
    """The words of a text query in the form search compares (see
    :func:`~beicoder.core.textutil.search_form`), separated by white space, empty ones
    dropped: ``"客戶  家"`` -> ``["客户", "家"]``."""
    from .textutil import search_form

    return [search_form(w) for w in text.split() if w]


def resolve_code(store, code: str) -> str:
    """The code key ``code`` names: a key (any case), or a code's Chinese or English name
    (Traditional and full-width folded).

    Raises:
        QueryError: no code of the study has that key or name."""
    from .textutil import search_form

    codes = store.codes()
    wanted = search_form(code.strip())
    for key in ("code", "name_zh", "name_en"):
        for c in codes:
            if c[key] and search_form(c[key]) == wanted:
                return c["code"]
    known = ", ".join(c["code"] for c in codes) or "none"
    raise QueryError(f"{store.path.name}: no code {code!r} in the dictionary (codes: {known})")


def match_spans(text: str, terms: list[str]) -> tuple[tuple[int, int], ...]:
    """Where the folded ``terms`` (see :func:`search_terms`) occur in ``text``: sorted
    (start, end) offsets into ``text`` itself (folding keeps the length)."""
    from .textutil import search_form

    folded = search_form(text)
    spans = []
    for term in terms:
        start = folded.find(term)
        while start >= 0:
            spans.append((start, start + len(term)))
            start = folded.find(term, start + len(term))
    return tuple(sorted(spans))


def _codes_cell(rows: list[dict], with_coder: bool) -> str:
    parts = []
    for r in rows:
        level = "" if r["level"] is None else f" L{r['level']}"
        parts.append(f"{r['code']}{level}" + (f" ({r['coder']})" if with_coder else ""))
    return ", ".join(parts)


def _suggested(store, hits: list[dict], coder: str, dictionary) -> dict[int, tuple[str, ...]]:
    """Per passage, the codes the coding screen would suggest to ``coder`` (not the muted
    keyword matches the coder's model scored low)."""
    from .suggest.learned import blended_suggestions, model_source, read_model_meta

    info = read_model_meta(store.path, coder, dictionary) if dictionary is not None else None
    usable = info is not None and not info.stale and info.decisions > 0
    thresholds = {"blend_threshold": info.blend_threshold, "model_threshold": info.model_threshold} if usable else {}
    source = model_source(coder)
    ids = [h["passage_id"] for h in hits]
    scored = store.scored_passages(source, dictionary.sha256) if usable else set()
    rows = store.suggestion_scores(ids, ["lexicon", source] if usable else ["lexicon"])
    out = {}
    for h in hits:
        pid = h["passage_id"]
        mine = [{**r, "level": None, "level_cue": None, "evidence": []} for r in rows.get(pid, [])]
        shown = blended_suggestions(mine, coder, pid in scored, len(h["text"]), **thresholds)
        codes = tuple(s["code"] for s in shown if not s.get("muted"))
        if codes:
            out[pid] = codes
    return out


def check_filters(store, query: PassageQuery) -> list[str]:
    """Refuse filters that can only be a slip of the keyboard, as a command line is typed:
    a coder with no decision in the study looking for coded segments, a group no interviewee
    has, a level the code does not have. A coder with no decisions asking for undecided or
    suggested passages (a new coder) is let through with a note. (The coding screen does not
    call this.) Returns the notes to show.

    Raises:
        QueryError: naming the filter and what the study has.
    """
    name = store.path.name
    notes = []
    if query.coder:
        coder = store.resolve_coder(query.coder)
        coders = store.coders()
        if coder not in coders:
            known = ", ".join(coders) or "none yet"
            if query.status == "any":
                raise QueryError(f"{name}: no decisions by coder {coder!r} (coders: {known})")
            notes.append(f"{name}: coder {coder!r} has no decisions yet (coders: {known})")
    if query.group is not None:
        groups = sorted({t["grp"] for t in store.transcripts() if t["grp"]})
        if query.group not in groups:
            raise QueryError(f"{name}: no interviewee in group {query.group!r} (groups: {', '.join(groups) or 'none'})")
    if query.level is not None and query.code:
        code = resolve_code(store, query.code)
        dictionary = store.dictionary()
        levels = next((c.levels for c in dictionary.competencies if c.code == code), None) if dictionary else None
        numbers = sorted(lv.level for lv in levels) if levels else []
        if numbers and query.level not in numbers:
            raise QueryError(f"{name}: {code} has no level {query.level} (levels {numbers[0]}–{numbers[-1]})")
    return notes


def find_passages(store, query: PassageQuery, dictionary=None) -> PassageResults:
    """Run ``query`` on the study ``store`` (see the module docstring); ``dictionary``, the
    study's (read from it when not given), is needed for the ``suggested`` status. Indexes for
    search any passage not indexed yet (a study made before schema 7), once.

    Raises:
        QueryError: an unknown code or status, a level without a code, a status without a
            coder, a query without a code, text or status.
    """
    if query.status not in STATUSES:
        raise QueryError(f"unknown status {query.status!r} (one of {', '.join(STATUSES)})")
    code = resolve_code(store, query.code) if query.code else None
    coder = store.resolve_coder(query.coder) if query.coder else None
    if query.level is not None and code is None:
        raise QueryError("a level filter needs a code (--code)")
    if query.status != "any" and coder is None:
        raise QueryError(f"the {query.status} filter needs a coder (--coder)")
    text = query.text.strip()
    terms = search_terms(text)
    query = PassageQuery(code, text, coder, query.group, query.level, query.status)
    if terms:
        store.index_passages()
    method = ""
    if terms:
        kinds = sorted({"FTS5 trigram index" if len(t) >= 3 else "substring scan" for t in terms})
        method = " + ".join(kinds)
    by_code = code is not None and query.status == "any"
    rows = store.passage_hits(code=code if by_code else None, coder=coder, group=query.group,
                              level=query.level if by_code else None, terms=terms,
                              undecided_by=coder if query.status != "any" else None,
                              suggested_for=coder if query.status == "suggested" or (code and not by_code) else None)
    suggested: dict[int, tuple[str, ...]] = {}
    if query.status != "any":
        if dictionary is None:
            dictionary = store.dictionary()
        candidates = rows if (query.status == "suggested" or code) else []
        suggested = _suggested(store, candidates, coder, dictionary) if candidates else {}
        if query.status == "suggested" or code:
            rows = [r for r in rows
                    if r["passage_id"] in suggested and (code is None or code in suggested[r["passage_id"]])]
    codes = store.codes_of_passages([r["passage_id"] for r in rows], None if by_code else coder)
    hits = []
    for r in rows:
        pid = r["passage_id"]
        hits.append(PassageHit(
            passage_id=pid, transcript_id=r["transcript_id"], interviewee=r["interviewee"], title=r["title"] or "",
            group=r["grp"], ordinal=r["ordinal"], text=r["text"], coder=r["coder"], code=r["code"], level=r["level"],
            codes=_codes_cell(codes.get(pid, []), with_coder=by_code or coder is None), memo=r["memo"] or "",
            matches=match_spans(r["text"], terms) if terms else (), suggested=suggested.get(pid, ())))
    return PassageResults(query, hits, method)


def write_hits_csv(results: PassageResults, path: str | Path) -> Path:
    """Write the rows of ``results`` to ``path`` as CSV (UTF-8 with BOM, formula-like cells
    neutralised; columns :data:`HIT_COLUMNS`; memos and passages whole, line breaks kept).

    Raises:
        OutputError: the path may not be written (see :func:`beicoder.core.export.check_output`).
    """
    import pandas as pd

    from .export import write_csv

    rows = [{"interviewee": h.interviewee, "group": h.group or "", "transcript": h.title, "passage": h.ordinal,
             "coder": h.coder or "", "code": h.code or ", ".join(h.suggested), "level": h.level, "codes": h.codes,
             "memo": h.memo, "text": h.text} for h in results.hits]
    return write_csv(pd.DataFrame(rows, columns=HIT_COLUMNS), path)
