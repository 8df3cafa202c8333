"""Read a transcript file: decode it, normalise newlines, parse speaker turns, cut passages.

Offsets are character offsets (Python ``str`` indices) into the normalised text that is
stored in the study; for every passage ``text[start:end] == passage.text``.
"""

from __future__ import annotations

import codecs
import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from . import BeicoderError

MAX_PASSAGE_CHARS = 200
SUPPORTED_SUFFIXES = {".txt", ".md", ".markdown", ".text"}

INTERVIEWER_LABELS = {
    "访谈者", "訪談者", "采访者", "採訪者", "访问者", "訪問者", "访员", "訪員", "主持人", "提问者",
    "問", "问", "q", "i", "interviewer", "int",
}
INTERVIEWEE_LABELS = {
    "被访者", "被訪者", "受访者", "受訪者", "被访谈者", "被訪談者", "被采访者", "被採訪者", "答",
    "a", "r", "respondent", "interviewee", "resp",
}

# A possible speaker label at the start of a line: an optional timestamp ([00:01:05]),
# optional markdown heading marks or bold,
# a label of up to 24 characters, then a full-width or ASCII colon.
_LABEL_RE = re.compile(
    r"^[ \t\u3000]*(?:[\[(（]?\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d{1,3})?[\])）]?[ \t]*)?"  # optional timestamp
    r"(?:#{1,6}[ \t]*)?(?:\*\*)?(?P<label>[^\s:：#*][^:：\n]{0,23}?)[ \t]*(?:\*\*)?[ \t]*[:：](?:\*\*)?[ \t\u3000]*"
)
_LABEL_FORBIDDEN = set("，。！？,.!?、；;\"“”「」（）()[]【】《》/\\=")
_TERMINATORS = set("。！？!?")
_CLOSERS = set("”’」』）)\"'】》…")
_SOFT_BREAKS = set("，,；;：:、")


class ImportProblem(BeicoderError):
    """A transcript file that cannot be imported; the message is one line naming the file."""


@dataclass
class Turn:
    """A speaker's turn: ``start``/``end`` delimit its words (label excluded) in the text."""

    speaker: str
    role: str  # "interviewer", "interviewee" or "other" (preamble)
    start: int
    end: int


@dataclass
class PassageSpan:
    """A unit of coding: a stretch of one interviewee turn, at most ~200 characters."""

    turn_index: int
    start: int
    end: int


@dataclass
class ParsedTranscript:
    """A decoded and parsed transcript, ready to store.

    ``text`` is the normalised text (LF newlines, no BOM). ``turns`` and ``passages`` are in
    reading order; ``warnings`` are one-line notes for the user.
    """

    path: Path
    text: str
    encoding: str
    sha256: str
    turns: list[Turn]
    passages: list[PassageSpan]
    interviewee_speaker: str
    warnings: list[str] = field(default_factory=list)


def decode_bytes(data: bytes, name: str = "<bytes>") -> tuple[str, str]:
    """Decode transcript bytes and return ``(text, encoding)``.

    Order: a BOM (UTF-8, UTF-16 LE/BE, UTF-32), then strict UTF-8, then charset-normalizer's
    best guess (GB18030/GBK, Big5 and the rest). CRLF and lone CR become LF.

    Raises:
        ImportProblem: empty file, binary content (NUL bytes without a UTF-16/32 BOM, or
            control characters), or bytes no encoding explains.
    """
    if not data:
        raise ImportProblem(f"{name}: file is empty")
    if not data.strip(b" \t\r\n\x00"):
        raise ImportProblem(f"{name}: file has no text (only white space)")
    boms = [
        (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"),
    ]
    text = None
    encoding = ""
    for bom, enc in boms:
        if data.startswith(bom):
            try:
                text = data.decode(enc)
            except UnicodeDecodeError:
                raise ImportProblem(f"{name}: has a {enc.upper()} byte-order mark but is not valid {enc.upper()}") from None
            encoding = {"utf-8-sig": "utf-8-bom", "utf-16": "utf-16", "utf-32": "utf-32"}[enc]
            break
    if text is None:
        text, encoding = _decode_without_bom(data, name)
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\n\t\f")
    if controls > max(2, len(text) // 200):
        raise ImportProblem(f"{name}: looks binary ({controls} control characters); save the transcript as plain text")
    if not text.strip():
        raise ImportProblem(f"{name}: file has no text (only white space)")
    return text, encoding


# Encodings tried when a file is neither BOM-marked nor UTF-8: what Chinese and Western
# transcription tools write. A wider set lets charset-normalizer pick exotic code pages
# (cp874, cp1250, johab) for short GBK or Latin-1 files.
_CANDIDATES = ["gb18030", "big5", "cp1252"]


def _cjk_share(text: str) -> float:
    """Share of the non-ASCII characters of ``text`` that are Han or CJK punctuation/full-width."""
    non_ascii = [ch for ch in text if ord(ch) > 127]
    if not non_ascii:
        return 0.0
    cjk = sum(1 for ch in non_ascii if "\u4e00" <= ch <= "\u9fff" or "\u3000" <= ch <= "\u303f" or "\uff00" <= ch <= "\uffef")
    return cjk / len(non_ascii)


def _decode_without_bom(data: bytes, name: str) -> tuple[str, str]:
    if b"\x00" in data:
        # UTF-16 without a byte-order mark: accept a decoding with no control characters
        # whose text is mostly ASCII (every other byte NUL) or mostly CJK.
        for enc in ("utf-16-le", "utf-16-be"):
            try:
                text = data.decode(enc)
            except UnicodeDecodeError:
                continue
            if any(ord(ch) < 32 and ch not in "\n\r\t" for ch in text):
                continue
            ascii_share = sum(1 for ch in text if ord(ch) < 128) / max(1, len(text))
            if ascii_share > 0.6 or _cjk_share(text) >= 0.9:
                return text, enc
        raise ImportProblem(f"{name}: looks binary (NUL bytes); save the transcript as plain text")
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data, cp_isolation=_CANDIDATES).best()
    if best is not None:
        encoding = best.encoding
        try:
            return data.decode(encoding), encoding
        except (UnicodeDecodeError, LookupError):
            return str(best), encoding
    # Short texts give charset-normalizer too little to go on: take a strict Chinese decoding
    # whose non-ASCII characters are nearly all Han or CJK punctuation.
    for enc in ("gb18030", "big5"):
        try:
            text = data.decode(enc)
        except UnicodeDecodeError:
            continue
        if _cjk_share(text) >= 0.9:
            return text, enc
    raise ImportProblem(f"{name}: cannot tell the text encoding (not UTF-8, UTF-16, GB18030, Big5 or Windows-1252)")


def _label_of(line: str) -> tuple[str, int] | None:
    """Return ``(label, length of the label prefix)`` when ``line`` starts with a speaker label."""
    m = _LABEL_RE.match(line)
    if not m:
        return None
    label = m.group("label").strip()
    if not label or set(label) & _LABEL_FORBIDDEN or label.startswith(("http", "www")):
        return None
    if len(label.split()) > 4:
        return None
    return label, m.end()


def _role_of(label: str) -> str | None:
    key = label.casefold()
    if key in INTERVIEWER_LABELS:
        return "interviewer"
    if key in INTERVIEWEE_LABELS:
        return "interviewee"
    return None


def parse_turns(text: str, interviewee: str | None = None) -> tuple[list[Turn], str, list[str]]:
    """Split ``text`` into speaker turns.

    Labels understood: role labels (``访谈者/被访者``, ``问/答``, ``Q/A``, ``I/R`` and their
    Traditional forms) and personal names (``名字：`` or ``### 名字：``, full-width or ASCII
    colon). When role labels are present only they start turns, so a quoted ``客户说：`` line
    stays inside its turn. With names, a name must start at least two lines or stand in a
    ``###`` heading; the interviewee is ``interviewee`` when given, otherwise the speaker with
    the most text in turns that ask no question (interviewers ask). Text before the first label is a preamble turn (role ``other``).
    A text with no labels at all is one interviewee turn per paragraph, with a warning.

    Returns ``(turns, interviewee speaker label, warnings)``.
    """
    warnings: list[str] = []
    lines: list[tuple[int, str]] = []
    pos = 0
    for line in text.split("\n"):
        lines.append((pos, line))
        pos += len(line) + 1
    candidates: list[tuple[int, str, int, bool]] = []  # (line start, label, prefix length, heading)
    for start, line in lines:
        got = _label_of(line)
        if got:
            candidates.append((start, got[0], got[1], line.lstrip().startswith("#")))
    role_hits = [c for c in candidates if _role_of(c[1])]
    if role_hits and (len({_role_of(c[1]) for c in role_hits}) == 2 or len(role_hits) == len(candidates)):
        starts = role_hits
        mode = "roles"
    else:
        counts = Counter(c[1] for c in candidates)
        starts = [c for c in candidates if counts[c[1]] >= 2 or c[3]]
        mode = "names"
        if len({c[1] for c in starts}) < 1 or len(starts) < 2:
            starts = []
    turns: list[Turn] = []
    if not starts:
        warnings.append("no speaker labels found: every paragraph is taken as the interviewee's")
        for m in re.finditer(r"[^\n]+", text):
            s, e = _trim(text, m.start(), m.end())
            if e > s:
                turns.append(Turn("interviewee", "interviewee", s, e))
        return turns, "interviewee", warnings
    first = starts[0][0]
    s, e = _trim(text, 0, first)
    if e > s:
        turns.append(Turn("", "other", s, e))
    for i, (line_start, label, plen, _h) in enumerate(starts):
        end = starts[i + 1][0] if i + 1 < len(starts) else len(text)
        s, e = _trim(text, line_start + plen, end)
        turns.append(Turn(label, "", s, max(s, e)))
    if mode == "roles":
        for t in turns:
            if t.role != "other":
                t.role = _role_of(t.speaker) or "interviewer"
        who = next((t.speaker for t in turns if t.role == "interviewee"), "")
    else:
        volume: Counter[str] = Counter()
        asks: Counter[str] = Counter()
        n_turns: Counter[str] = Counter()
        for t in turns:
            if t.role != "other":
                volume[t.speaker] += t.end - t.start
                n_turns[t.speaker] += 1
                asks[t.speaker] += any(q in text[t.start:t.end] for q in "?？")
        if interviewee and interviewee not in volume:
            raise ImportProblem(f"no speaker called {interviewee!r}; speakers are {', '.join(volume)}")
        # The interviewee talks and the interviewer asks: weigh each speaker's volume by the
        # share of their turns that ask no question.
        who = interviewee or max(volume, key=lambda s: (volume[s] * (1 - asks[s] / n_turns[s]), volume[s]))
        for t in turns:
            if t.role != "other":
                t.role = "interviewee" if t.speaker == who else "interviewer"
    if not any(t.role == "interviewee" and t.end > t.start for t in turns):
        warnings.append("no interviewee turn found: nothing to code")
    return turns, who, warnings


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _sentences(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentence spans in ``text[start:end]``: a sentence ends after 。！？!? (plus closing
    quotes), after a full stop followed by white space, or at a blank line (a single line
    break inside a paragraph, as in hard-wrapped text, does not end a sentence)."""
    spans = []
    i = s = start
    while i < end:
        ch = text[i]
        cut = None
        if ch == "\n" and i + 1 < end and text[i + 1] == "\n":
            cut = i
        elif ch in _TERMINATORS or (ch == "." and (i + 1 >= end or text[i + 1].isspace())):
            j = i + 1
            while j < end and (text[j] in _TERMINATORS or text[j] in _CLOSERS):
                j += 1
            cut = j
        if cut is not None:
            a, b = _trim(text, s, cut)
            if b > a:
                spans.append((a, b))
            s = i = max(cut, i + 1)
            continue
        i += 1
    a, b = _trim(text, s, end)
    if b > a:
        spans.append((a, b))
    return spans


def _split_long(text: str, start: int, end: int, limit: int) -> list[tuple[int, int]]:
    """Cut an over-long sentence at the last comma-like mark before ``limit`` characters."""
    out = []
    while end - start > limit:
        cut = None
        for k in range(start + limit, start + limit // 3, -1):
            if text[k - 1] in _SOFT_BREAKS:
                cut = k
                break
        if cut is None:
            cut = start + limit
        a, b = _trim(text, start, cut)
        if b > a:
            out.append((a, b))
        start = cut
    a, b = _trim(text, start, end)
    if b > a:
        out.append((a, b))
    return out


def cut_passages(text: str, turns: list[Turn], max_chars: int = MAX_PASSAGE_CHARS) -> list[PassageSpan]:
    """Cut the interviewee's turns into passages of at most ``max_chars`` characters
    (three times that for turns written mostly in an alphabetic script, such as English).

    A turn that fits is one passage. A longer turn is split into sentences, which are packed
    greedily in order; a passage never crosses a turn or a blank line. A single sentence longer than the limit
    is cut at its last comma-like mark before the limit.
    """
    from .textutil import han_count

    out: list[PassageSpan] = []
    base = max_chars
    for ti, turn in enumerate(turns):
        if turn.role != "interviewee" or turn.end <= turn.start:
            continue
        body = text[turn.start:turn.end]
        letters = sum(1 for ch in body if ch.isalpha())
        # Alphabetic text carries about a third of the meaning per character that Chinese
        # does: allow three times the length so English sentences are not cut at commas.
        max_chars = base if han_count(body) >= 0.3 * max(1, letters) else base * 3
        if turn.end - turn.start <= max_chars and "\n\n" not in text[turn.start:turn.end]:
            out.append(PassageSpan(ti, turn.start, turn.end))
            continue
        pieces: list[tuple[int, int]] = []
        for a, b in _sentences(text, turn.start, turn.end):
            pieces.extend(_split_long(text, a, b, max_chars) if b - a > max_chars else [(a, b)])
        cur: tuple[int, int] | None = None
        for a, b in pieces:
            if cur and b - cur[0] <= max_chars and "\n\n" not in text[cur[1]:a]:
                cur = (cur[0], b)
            else:
                if cur:
                    out.append(PassageSpan(ti, *cur))
                cur = (a, b)
        if cur:
            out.append(PassageSpan(ti, *cur))
    return out


def parse_text(text: str, path: Path, encoding: str, sha256: str, interviewee: str | None = None) -> ParsedTranscript:
    """Parse already-decoded ``text`` (newlines normalised) into turns and passages."""
    turns, who, warnings = parse_turns(text, interviewee)
    return ParsedTranscript(path, text, encoding, sha256, turns, cut_passages(text, turns), who, warnings)


def read_transcript(path: str | Path, interviewee: str | None = None) -> ParsedTranscript:
    """Read, decode and parse the transcript at ``path`` (``.txt`` or ``.md``).

    Raises:
        ImportProblem: unreadable, unsupported, empty, binary or undecodable file (one line,
            naming the file).
    """
    path = Path(path)
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        raise ImportProblem(f"{path}: unsupported file type {path.suffix or '(none)'}; use .txt or .md")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImportProblem(f"{path}: cannot read ({exc.strerror})") from None
    text, encoding = decode_bytes(data, str(path))
    try:
        return parse_text(text, path, encoding, hashlib.sha256(data).hexdigest(), interviewee)
    except ImportProblem as exc:
        raise ImportProblem(f"{path}: {exc}") from None
