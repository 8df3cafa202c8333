"""Read a transcript file: decode it, normalise newlines, parse speaker turns, cut passages.

Formats: plain text and Markdown (``.txt``, ``.md``), Word (``.docx``, paragraphs only) and
speech-to-text subtitles (``.srt``, ``.vtt``, whose cue times are kept on turns and passages).

Offsets are character offsets (Python ``str`` indices, so one per code point: an emoji or a
CJK Extension B character counts as one) into the normalised text that is stored in the
study; for every passage ``text[start:end] == passage.text``.
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
TEXT_SUFFIXES = {".txt", ".md", ".markdown", ".text"}
DOCX_SUFFIXES = {".docx"}
SUBTITLE_SUFFIXES = {".srt", ".vtt"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | DOCX_SUFFIXES | SUBTITLE_SUFFIXES
_SUPPORTED_HINT = "use .txt, .md, .docx, .srt or .vtt"

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
# A bracketed speaker marker at the start of a line, as QualCoder (``[id1] text``) and
# diarising speech-to-text tools (``[SPEAKER_00]: text``, ``[Speaker 2] text``) write them.
_ID_LABEL_RE = re.compile(
    r"^[ \t\u3000]*\[(?P<label>(?:id|speaker|spk)[ _]?\d{1,4})\][ \t]*[:：]?[ \t\u3000]*", re.IGNORECASE
)
_LABEL_FORBIDDEN = set("，。！？,.!?、；;\"“”「」（）()[]【】《》/\\=")
_TERMINATORS = set("。！？!?")
_CLOSERS = set("”’」』）)\"'】》…")
_SOFT_BREAKS = set("，,；;：:、")


class ImportProblem(BeicoderError):
    """A transcript file that cannot be imported; the message is one line naming the file."""


@dataclass
class Turn:
    """A speaker's turn: ``start``/``end`` delimit its words (label excluded) in the text.

    ``start_time``/``end_time`` (seconds from the start of the recording) are set only for
    subtitle files (``.srt``, ``.vtt``): the span of the cues the turn was built from.
    """

    speaker: str
    role: str  # "interviewer", "interviewee" or "other" (preamble)
    start: int
    end: int
    start_time: float | None = None
    end_time: float | None = None


@dataclass
class PassageSpan:
    """A unit of coding: a stretch of one interviewee turn, at most ~200 characters.

    ``start_time``/``end_time`` (seconds from the start of the recording) are set only for
    subtitle files (``.srt``, ``.vtt``): the earliest start and latest end of the cues whose
    text the passage overlaps. They are ``None`` for text and Word files.
    """

    turn_index: int
    start: int
    end: int
    start_time: float | None = None
    end_time: float | None = None


@dataclass
class ParsedTranscript:
    """A decoded and parsed transcript, ready to store.

    ``text`` is the normalised text (LF newlines, no BOM). ``turns`` and ``passages`` are in
    reading order; ``warnings`` are one-line notes for the user. ``encoding`` is the byte
    encoding of a text or subtitle file, ``"docx"`` for a Word file. For subtitle files the
    turns and passages carry ``start_time``/``end_time`` in seconds (see :class:`PassageSpan`).
    """

    path: Path
    text: str
    encoding: str
    sha256: str
    turns: list[Turn]
    passages: list[PassageSpan]
    interviewee_speaker: str
    warnings: list[str] = field(default_factory=list)


def decode_bytes(data: bytes, name: str = "<bytes>", what: str = "the transcript") -> tuple[str, str]:
    """Decode transcript bytes (or those of a CSV or other text input) and return ``(text, encoding)``.

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
        text, encoding = _decode_without_bom(data, name, what)
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\n\t\f")
    if controls > max(2, len(text) // 200):
        raise ImportProblem(f"{name}: looks binary ({controls} control characters); save {what} as plain text")
    if not text.strip():
        raise ImportProblem(f"{name}: file has no text (only white space)")
    return text, encoding


# Encodings tried when a file is neither BOM-marked nor UTF-8: what Chinese and Western
# transcription tools write. A wider set lets charset-normalizer pick exotic code pages
# (cp874, cp1250, johab) for short GBK or Latin-1 files.
_CANDIDATES = ["gb18030", "big5", "cp1252"]


def _cjk_share(text: str) -> float:
    """Share of the non-ASCII characters of ``text`` that are Han (including the Extension A
    and B+ planes) or CJK punctuation/full-width; emoji, symbols and joiners are not counted."""
    import unicodedata

    non_ascii = [ch for ch in text if ord(ch) > 127 and unicodedata.category(ch) not in ("So", "Sk", "Cf", "Mn")]
    if not non_ascii:
        return 0.0
    cjk = sum(
        1 for ch in non_ascii
        if "\u4e00" <= ch <= "\u9fff" or "\u3000" <= ch <= "\u303f" or "\uff00" <= ch <= "\uffef"
        or "\u3400" <= ch <= "\u4dbf" or "\U00020000" <= ch <= "\U0003ffff"
    )
    return cjk / len(non_ascii)


def _common_share(text: str, encoding: str) -> float:
    """Share of the non-ASCII characters of ``text`` that are common in the script ``encoding``
    writes: Han characters in GB2312 for ``gb18030``, in Big5's frequently used block (lead
    byte 0xA4-0xC6) for ``big5``, and CJK punctuation or full-width forms for both. Bytes of
    one Chinese encoding read as the other give mostly rare characters and symbols."""
    chars = [ch for ch in text if ord(ch) > 127][:4000]
    if not chars:
        return 0.0
    common = 0
    for ch in chars:
        if "\u3000" <= ch <= "\u303f" or "\uff00" <= ch <= "\uffef":
            common += 1
            continue
        if not "\u4e00" <= ch <= "\u9fff":
            continue
        try:
            if encoding == "gb18030":
                ch.encode("gb2312")
                common += 1
            elif 0xA4 <= ch.encode("big5")[0] <= 0xC6:
                common += 1
        except UnicodeEncodeError:
            pass
    return common / len(chars)


def _chinese_choice(data: bytes, text: str, encoding: str) -> tuple[str, str]:
    """``(text, encoding)`` as charset-normalizer decoded it, unless it chose GB18030 or Big5
    and the other decodes the bytes too with more common characters (short texts such as a
    CSV cell ``优秀`` in GBK give it too little to go on)."""
    if encoding not in ("gb18030", "big5"):
        return text, encoding
    other = "big5" if encoding == "gb18030" else "gb18030"
    try:
        alt = data.decode(other)
    except UnicodeDecodeError:
        return text, encoding
    if _common_share(alt, other) > _common_share(text, encoding):
        return alt, other
    return text, encoding


def _decode_without_bom(data: bytes, name: str, what: str = "the transcript") -> tuple[str, str]:
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
        raise ImportProblem(f"{name}: looks binary (NUL bytes); save {what} as plain text")
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data, cp_isolation=_CANDIDATES).best()
    if best is not None:
        encoding = best.encoding
        try:
            text = data.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            return str(best), encoding
        return _chinese_choice(data, text, encoding)
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
    m = _ID_LABEL_RE.match(line)
    if m:
        return m.group("label"), m.end()
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
    Traditional forms), personal names (``名字：`` or ``### 名字：``, full-width or ASCII
    colon) and bracketed markers (``[id1] text`` as QualCoder writes, ``[SPEAKER_00]:``; each
    one starts a turn and counts as a name). When role labels are present only they start turns, so a quoted ``客户说：`` line
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
            heading = line.lstrip().startswith("#") or bool(_ID_LABEL_RE.match(line))
            candidates.append((start, got[0], got[1], heading))
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
    who = _assign_roles(text, turns, interviewee, mode == "roles", warnings)
    return turns, who, warnings


def _assign_roles(text: str, turns: list[Turn], interviewee: str | None, by_role_labels: bool,
                  warnings: list[str]) -> str:
    """Give each labelled turn its role, by its role label (访谈者, Q, …; unknown labels are
    the interviewer's) or, with personal names, by picking the interviewee; warn when no
    interviewee turn has text. Returns the interviewee's speaker label."""
    if by_role_labels:
        for t in turns:
            if t.role != "other":
                t.role = _role_of(t.speaker) or "interviewer"
        who = next((t.speaker for t in turns if t.role == "interviewee"), "")
    else:
        who = _pick_interviewee(text, turns, interviewee)
    if not any(t.role == "interviewee" and t.end > t.start for t in turns):
        warnings.append("no interviewee turn found: nothing to code")
    return who


def _pick_interviewee(text: str, turns: list[Turn], interviewee: str | None) -> str:
    """Give every non-preamble turn of named speakers its role; return the interviewee.

    The interviewee is ``interviewee`` when given, otherwise the speaker with the most text
    in turns that ask no question.
    """
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
    return who


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
    """Read, decode and parse the transcript at ``path``, by its suffix: ``.txt``/``.md``
    (plain text), ``.docx`` (Word paragraphs; tables and images are ignored) or ``.srt``/
    ``.vtt`` (subtitle cues; turns and passages get ``start_time``/``end_time``).

    Raises:
        ImportProblem: unreadable, unsupported, empty, binary or undecodable file (one line,
            naming the file).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise ImportProblem(f"{path}: unsupported file type {path.suffix or '(none)'}; {_SUPPORTED_HINT}")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImportProblem(f"{path}: cannot read ({exc.strerror})") from None
    sha256 = hashlib.sha256(data).hexdigest()
    try:
        if suffix in DOCX_SUFFIXES:
            return parse_text(docx_text(data, str(path)), path, "docx", sha256, interviewee)
        text, encoding = decode_bytes(data, str(path))
        if suffix in SUBTITLE_SUFFIXES:
            return parse_subtitles(text, path, encoding, sha256, interviewee, vtt=suffix == ".vtt")
        return parse_text(text, path, encoding, sha256, interviewee)
    except ImportProblem as exc:
        message = str(exc)
        raise ImportProblem(message if message.startswith(f"{path}:") else f"{path}: {message}") from None


# ---------------------------------------------------------------------------------------
# Word (.docx)


def _run_is_bold(run) -> bool:
    if run.bold:
        return True
    style = getattr(run, "style", None)
    return bool(style is not None and style.font is not None and style.font.bold)


def _label_ok(label: str) -> bool:
    return (
        0 < len(label) <= 24 and not set(label) & _LABEL_FORBIDDEN and len(label.split()) <= 4
        and not label.startswith(("http", "www"))
    )


def _docx_paragraph(paragraph) -> tuple[str, str | None, str, bool]:
    """``(text, bold label, rest, had a colon)`` of one Word paragraph; the label is ``None``
    unless the paragraph starts with a bold run that can be a speaker label."""
    text = paragraph.text
    bold = []
    for run in paragraph.runs:
        if not run.text:
            continue
        if not _run_is_bold(run):
            break
        bold.append(run.text)
    bold_text = "".join(bold)
    if not bold_text.strip() or not text.startswith(bold_text):
        return text, None, "", False
    rest = text[len(bold_text):]
    label = bold_text.strip()
    colon = label.endswith((":", "："))
    label = label.rstrip(":：").strip()
    if rest.lstrip().startswith((":", "：")):
        colon = True
        rest = rest.lstrip()[1:]
    # A paragraph that is all bold is a heading unless it ends with a colon.
    if not _label_ok(label) or (not rest.strip() and not colon):
        return text, None, "", False
    return text, label, rest.strip(), colon


def docx_text(data: bytes, name: str = "<docx>") -> str:
    """The stored text of a ``.docx`` file: its body paragraphs joined with blank lines.

    A paragraph that starts with a bold run (``**王经理** 我……`` or ``**王经理：**我……``)
    becomes ``王经理：我……`` so :func:`parse_turns` sees the label. Tables, images, headers
    and footers are left out.

    Raises:
        ImportProblem: not a Word document (a broken zip, another zip, an old ``.doc``) or
            no text in it.
    """
    import io

    try:
        import docx
    except ImportError:  # pragma: no cover - python-docx is a dependency
        raise ImportProblem(f"{name}: reading .docx needs python-docx (pip install python-docx)") from None
    try:
        document = docx.Document(io.BytesIO(data))
        parts = [_docx_paragraph(p) for p in document.paragraphs]
    except Exception as exc:  # noqa: BLE001 - zipfile, lxml and python-docx raise many kinds
        reason = " ".join(str(exc).split())[:120] or type(exc).__name__
        raise ImportProblem(f"{name}: not a readable .docx file ({reason})") from None
    # A bold start without a colon is a label only when it is a role or recurs (so a single
    # bold word of emphasis stays as written).
    counts = Counter(label for _, label, _, _ in parts if label)
    cleaned = []
    for text, label, rest, colon in parts:
        if label and (colon or _role_of(label) or counts[label] >= 2):
            para = f"{label}{'：' if any(ord(ch) > 127 for ch in label) else ': '}{rest}"
        else:
            para = text
        para = para.replace("\r\n", "\n").replace("\r", "\n").replace("\v", "\n")
        para = "".join(ch for ch in para if ord(ch) >= 32 or ch in "\n\t")
        para = "\n".join(line.rstrip() for line in para.split("\n")).strip("\n")
        if para.strip():
            cleaned.append(para)
    if not cleaned:
        raise ImportProblem(f"{name}: the document has no text")
    return "\n\n".join(cleaned) + "\n"


# ---------------------------------------------------------------------------------------
# Subtitles (.srt, .vtt)

_TIME = r"(?:(\d+):)?(\d{1,2}):(\d{2})[,.](\d{1,3})"
_CUE_TIMING_RE = re.compile(rf"^[ \t]*{_TIME}[ \t]*-->[ \t]*{_TIME}(?:[ \t].*)?$")
_VOICE_RE = re.compile(r"<v(?:\.[^\s>]*)?(?:[ \t]+(?P<name>[^>]*))?>", re.IGNORECASE)
_TAG_RE = re.compile(r"</?[a-zA-Z][^>]*>|<\d[\d:.]*>|\{\\[^}]*\}")
_ENTITIES = {"&amp;": "&", "&lt;": "<", "&gt;": ">", "&nbsp;": " ", "&lrm;": "", "&rlm;": "", "&quot;": '"', "&apos;": "'"}
# A paragraph of subtitle text ends at a pause this long or, once it is this long, at a cue
# that ends a sentence.
_PAUSE_SECONDS = 2.0
_PARAGRAPH_CHARS = 500


@dataclass
class Cue:
    """One subtitle cue (or one voice's part of a cue): times in seconds, plain text."""

    start: float
    end: float
    text: str
    speaker: str | None = None


def _seconds(h: str | None, m: str, s: str, frac: str) -> float:
    return int(h or 0) * 3600 + int(m) * 60 + int(s) + int(frac.ljust(3, "0")) / 1000


def _is_wide(ch: str) -> bool:
    o = ord(ch)
    return (
        0x2E80 <= o <= 0x9FFF or 0xF900 <= o <= 0xFAFF or 0xFF00 <= o <= 0xFFEF
        or 0x3000 <= o <= 0x303F or 0x20000 <= o <= 0x3FFFF or 0xAC00 <= o <= 0xD7AF
    )


def _join(a: str, b: str) -> str:
    """Join two stretches of subtitle text: no space between CJK characters."""
    if not a:
        return b
    if not b:
        return a
    return a + b if _is_wide(a[-1]) or _is_wide(b[0]) or b[0] in ".,;:!?)]}%…" else f"{a} {b}"


def _clean(text: str) -> str:
    text = _TAG_RE.sub("", text)
    for entity, ch in _ENTITIES.items():
        text = text.replace(entity, ch)
    return " ".join(text.split())


def parse_cues(text: str, vtt: bool = False) -> list[Cue]:
    """Parse SRT or WebVTT ``text`` into cues, tolerating messy layout (missing or extra blank
    lines, cue numbers or not, stray spaces, ``<i>``/``{\\an8}`` tags). Lines of a cue are
    joined into one line (without a space between CJK characters). A WebVTT ``<v Name>``
    sets the cue's speaker; a cue holding several voices gives one :class:`Cue` per voice.
    ``NOTE``, ``STYLE`` and ``REGION`` blocks are skipped. Cues with no text are dropped.
    """
    lines = text.split("\n")
    cues: list[Cue] = []
    current: tuple[float, float, list[str]] | None = None

    def flush() -> None:
        if current is None:
            return
        start, end, body = current
        while body and not body[-1].strip():
            body.pop()
        cues.extend(_cue_parts(start, end, body, vtt))

    in_block = False  # inside a WebVTT NOTE/STYLE/REGION block
    for i, line in enumerate(lines):
        m = _CUE_TIMING_RE.match(line)
        if m:
            if current is not None:
                body = current[2]
                # The cue number (or WebVTT cue id) before a timing line belongs to the next cue.
                while body and not body[-1].strip():
                    body.pop()
                if body and (body[-1].strip().isdigit() or (vtt and _cue_id_line(lines, i))):
                    body.pop()
            flush()
            g = m.groups()
            current = (_seconds(*g[0:4]), _seconds(*g[4:8]), [])
            in_block = False
            continue
        if vtt and current is None or in_block:
            if not line.strip():
                in_block = False
            continue
        if vtt and not line.strip() and i + 1 < len(lines) and lines[i + 1].strip().startswith(("NOTE", "STYLE", "REGION")) and (
            lines[i + 1].strip() in {"NOTE", "STYLE", "REGION"} or lines[i + 1].strip().startswith(("NOTE ", "NOTE\t"))
        ):
            flush()
            current = None
            in_block = True
            continue
        if current is not None:
            current[2].append(line)
    flush()
    return [c for c in cues if c.text]


def _cue_id_line(lines: list[str], i: int) -> bool:
    """True when the line before timing line ``i`` is a WebVTT cue id (preceded by a blank line)."""
    j = i - 1
    return j >= 1 and bool(lines[j].strip()) and not lines[j - 1].strip()


def _cue_parts(start: float, end: float, body: list[str], vtt: bool) -> list[Cue]:
    parts: list[Cue] = []
    speaker: str | None = None
    for raw in body:
        line = raw
        if vtt:
            pieces = _VOICE_RE.split(line)
            # split with one group: [before, name1, after1, name2, after2, ...]
            segments = [(None, pieces[0])] + [(pieces[k], pieces[k + 1]) for k in range(1, len(pieces), 2)]
            for name, seg in segments:
                if name is not None:
                    speaker = " ".join(_clean(name).split()) or None
                seg = _clean(seg)
                if not seg:
                    continue
                if parts and parts[-1].speaker == speaker:
                    parts[-1].text = _join(parts[-1].text, seg)
                else:
                    parts.append(Cue(start, end, seg, speaker))
        else:
            seg = _clean(line)
            if not seg:
                continue
            if parts:
                parts[-1].text = _join(parts[-1].text, seg)
            else:
                parts.append(Cue(start, end, seg, None))
    return parts


def _srt_speakers(cues: list[Cue]) -> None:
    """Take ``Name:``/``名字：``/``[SPEAKER_00]`` at the start of SRT cues as speakers (a role label,
    a bracketed marker, or a name that starts at least two cues), removing it from the text."""
    found = [_label_of(c.text) for c in cues]
    counts = Counter(f[0] for f in found if f)
    for cue, got in zip(cues, found):
        if not got:
            continue
        label, plen = got
        if _role_of(label) or counts[label] >= 2 or _ID_LABEL_RE.match(cue.text):
            cue.speaker = label
            cue.text = cue.text[plen:].strip()


def parse_subtitles(
    text: str, path: Path, encoding: str, sha256: str, interviewee: str | None = None, vtt: bool = False
) -> ParsedTranscript:
    """Parse decoded SRT or WebVTT ``text`` into a transcript.

    Speakers come from WebVTT ``<v Name>`` tags or, in SRT, from ``Name:``/``名字：`` at the
    start of cues; a cue without one continues the previous speaker. Consecutive cues of one
    speaker merge into one turn, stored as ``Name：text`` (a blank line between turns; a long
    turn is broken into paragraphs at pauses). Role names (``访谈者``, ``Interviewer``, ``Q``…)
    give roles directly; otherwise the interviewee is picked as for named speakers. Without
    any speaker, the text is the interviewee's, paragraph by paragraph, with the same warning
    as a plain text file. Turns and passages carry ``start_time``/``end_time`` in seconds.
    """
    cues = parse_cues(text, vtt)
    if not cues:
        raise ImportProblem(f"{path}: no subtitle cues found (expected lines like 00:00:01,000 --> 00:00:04,000)")
    if not vtt or not any(c.speaker for c in cues):
        _srt_speakers(cues)
    speakers = any(c.speaker for c in cues)
    # Group cues into turns: runs of one speaker (unlabelled cues continue the previous one).
    groups: list[tuple[str | None, list[Cue]]] = []
    for cue in cues:
        who = cue.speaker if cue.speaker else (groups[-1][0] if groups else None)
        if groups and groups[-1][0] == who:
            groups[-1][1].append(cue)
        else:
            groups.append((who, [cue]))
    out = ""
    turns: list[Turn] = []
    spans: list[tuple[int, int, float, float]] = []  # (start, end) of each cue's text, times
    for who, group in groups:
        if out:
            out += "\n\n"
        if who:
            out += who + ("：" if any(ord(ch) > 127 for ch in who) else ": ")
        turn_start = len(out)
        para = ""
        for k, cue in enumerate(group):
            prev = group[k - 1] if k else None
            new_para = prev is not None and (
                cue.start - prev.end >= _PAUSE_SECONDS
                or (len(para) >= _PARAGRAPH_CHARS and prev.text[-1] in _TERMINATORS | _CLOSERS)
            )
            if new_para:
                out += "\n\n"
                para = ""
                joined = cue.text
            else:
                joined = _join(para, cue.text)
            out += joined[len(para):]
            para = joined
            spans.append((len(out) - len(cue.text), len(out), cue.start, cue.end))
        s, e = _trim(out, turn_start, len(out))
        if who or not speakers:
            role = "" if who else "interviewee"
            if not who:
                # No speakers at all: one interviewee turn per paragraph, as in plain text.
                for m in re.finditer(r"[^\n]+", out[turn_start:]):
                    a, b = _trim(out, turn_start + m.start(), turn_start + m.end())
                    if b > a:
                        turns.append(Turn("interviewee", role, a, b, group[0].start, group[-1].end))
                continue
            turns.append(Turn(who, role, s, e, group[0].start, group[-1].end))
        else:
            turns.append(Turn("", "other", s, e, group[0].start, group[-1].end))
    text_out = out + "\n"
    warnings: list[str] = []
    if not speakers:
        warnings.append("no speaker labels found: every paragraph is taken as the interviewee's")
        who_name = "interviewee"
    else:
        names = {t.speaker for t in turns if t.role != "other"}
        role_names = {n for n in names if _role_of(n)}
        by_roles = bool(role_names) and (len({_role_of(n) for n in role_names}) == 2 or role_names == names)
        who_name = _assign_roles(text_out, turns, interviewee, by_roles, warnings)
    _set_times(turns, spans)
    passages = cut_passages(text_out, turns)
    _set_times(passages, spans)
    return ParsedTranscript(path, text_out, encoding, sha256, turns, passages, who_name, warnings)


def _set_times(items, spans: list[tuple[int, int, float, float]]) -> None:
    """Give each turn or passage the time span of the cues whose text it overlaps."""
    for item in items:
        hit = [(t0, t1) for a, b, t0, t1 in spans if a < item.end and b > item.start]
        if hit:
            item.start_time = min(t0 for t0, _ in hit)
            item.end_time = max(t1 for _, t1 in hit)
