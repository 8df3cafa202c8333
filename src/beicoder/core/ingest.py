"""Read a transcript file: decode it, normalise newlines, parse speaker turns, cut passages.

Formats: plain text and Markdown (``.txt``, ``.md``), Word and OpenDocument (``.docx``,
``.odt``: every place body text lives, tables included, read by :mod:`beicoder.core.documents`)
and speech-to-text subtitles (``.srt``, ``.vtt``, whose cue times are kept on turns and
passages). Speaker labels may carry a time (``被访者 00:00:12``, ``Interviewer (00:00:05):``,
``[00:01:05] 访谈者：``), kept on turns and passages as for subtitles; which labels mean the
interviewer or the interviewee is a :class:`SpeakerRoles`, extensible from the command line or
the dictionary file.

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
ODT_SUFFIXES = {".odt"}
SUBTITLE_SUFFIXES = {".srt", ".vtt"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | DOCX_SUFFIXES | ODT_SUFFIXES | SUBTITLE_SUFFIXES
_SUPPORTED_HINT = "use .txt, .md, .docx, .odt, .srt or .vtt (or a .qdpx project)"
ROLES = ("interviewer", "interviewee")

INTERVIEWER_LABELS = {
    "访谈者", "訪談者", "采访者", "採訪者", "访问者", "訪問者", "访员", "訪員", "主持人", "提问者",
    "访谈人", "訪談人", "采访人", "採訪人", "問", "问", "q", "i", "interviewer", "int",
}
INTERVIEWEE_LABELS = {
    "被访者", "被訪者", "受访者", "受訪者", "被访谈者", "被訪談者", "被采访者", "被採訪者", "答",
    "受访人", "受訪人", "被访人", "被訪人", "a", "r", "respondent", "interviewee", "resp",
}

# A time as transcription services write it: H:MM:SS, MM:SS or M:SS, optionally with milliseconds.
_TS = r"(?:\d{1,2}:)?\d{1,2}:\d{2}(?:[.,]\d{1,3})?"
# A possible speaker label at the start of a line: an optional timestamp ([00:01:05]),
# optional markdown heading marks or bold,
# a label of up to 24 characters, then a full-width or ASCII colon.
_LABEL_RE = re.compile(
    rf"^[ \t\u3000]*(?:[\[(（]?(?P<time>{_TS})[\])）]?[ \t]*)?"  # optional timestamp
    r"(?:#{1,6}[ \t]*)?(?:\*\*)?(?P<label>[^\s:：#*][^:：\n]{0,23}?)[ \t]*(?:\*\*)?[ \t]*[:：](?:\*\*)?[ \t\u3000]*"
)
# A label followed by its time, alone on its line or before the text, with or without a colon:
# ``被访者 00:00:12`` (Otter), ``Speaker 1  0:00``, ``Interviewer (00:00:05):`` (Rev), ``**王经理** [01:05]``.
_TIMED_LABEL_RE = re.compile(
    r"^[ \t\u3000]*(?:#{1,6}[ \t]*)?(?:\*\*)?(?P<label>[^\s:：#*\d\[(（【][^:：\n]{0,23}?)(?:\*\*)?"
    rf"(?:[ \t\u3000]*[\[(（【](?P<btime>{_TS})[\])）】]|[ \t\u3000]+(?P<time>{_TS}))"
    r"(?:\*\*)?(?:[ \t]*[:：](?:\*\*)?|(?=[ \t\u3000]|$))[ \t\u3000]*"
)
# A time, then a label alone on its line: ``00:00:12 被访者``, ``[00:01:05] Interviewer``.
_TIME_FIRST_RE = re.compile(
    rf"^[ \t\u3000]*[\[(（【]?(?P<time>{_TS})[\])）】]?[ \t\u3000]+"
    r"(?:\*\*)?(?P<label>[^\s:：#*\d\[(（【][^:：\n]{0,23}?)(?:\*\*)?[ \t\u3000]*$"
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


def _label_key(label: str) -> str:
    import unicodedata

    return " ".join(unicodedata.normalize("NFKC", label).casefold().split())


@dataclass(frozen=True)
class SpeakerRoles:
    """Which speaker labels mean the interviewer and which the interviewee (compared without
    case and width: ``Ｑ`` is ``q``). :data:`DEFAULT_ROLES` holds the built-in ones
    (``访谈者/被访者``, ``问/答``, ``Q/A``, ``I/R``, ``Interviewer/Respondent`` ...);
    :meth:`with_labels` adds a study's own (``主持人=interviewer``, ``客户经理=interviewee``)."""

    interviewer: frozenset[str]
    interviewee: frozenset[str]

    def role_of(self, label: str) -> str | None:
        """``"interviewer"``, ``"interviewee"`` or None for ``label``."""
        key = _label_key(label)
        if key in self.interviewer:
            return "interviewer"
        if key in self.interviewee:
            return "interviewee"
        return None

    def with_labels(self, labels: dict[str, str]) -> SpeakerRoles:
        """These roles plus ``labels`` (label -> ``interviewer`` or ``interviewee``; a label
        given a role here loses any other role it had)."""
        er, ee = set(self.interviewer), set(self.interviewee)
        for label, role in labels.items():
            key = _label_key(label)
            er.discard(key)
            ee.discard(key)
            (er if role == "interviewer" else ee).add(key)
        return SpeakerRoles(frozenset(er), frozenset(ee))


#: The speaker labels beicoder knows without being told.
DEFAULT_ROLES = SpeakerRoles(frozenset(_label_key(x) for x in INTERVIEWER_LABELS),
                             frozenset(_label_key(x) for x in INTERVIEWEE_LABELS))


def speaker_roles(*label_maps) -> SpeakerRoles:
    """:data:`DEFAULT_ROLES` plus each of ``label_maps`` (label -> role) in turn, later ones
    winning (the dictionary's, then the command line's)."""
    roles = DEFAULT_ROLES
    for labels in label_maps:
        if labels:
            roles = roles.with_labels(labels)
    return roles


def check_speaker_label(label: str, role: str, where: str) -> tuple[str, str]:
    """``(label, role)`` trimmed when ``label`` can be a speaker label (1-24 characters, at most
    four words, no sentence punctuation, brackets or slashes) and ``role`` is ``interviewer`` or
    ``interviewee`` (case ignored).

    Raises:
        ImportProblem: otherwise, one line starting with ``where``.
    """
    label = " ".join(str(label or "").split())
    role = str(role or "").strip().lower()
    if role not in ROLES:
        raise ImportProblem(f"{where}: role {role!r} for speaker label {label!r} is neither interviewer "
                            "nor interviewee")
    if not _label_ok(label):
        raise ImportProblem(f"{where}: {label!r} cannot be a speaker label (1-24 characters, at most four words, "
                            "no punctuation, brackets or slashes)")
    return label, role


def parse_speaker_labels(items, where: str = "--speaker-label") -> dict[str, str]:
    """Speaker labels given as ``NAME=ROLE`` texts (``主持人=interviewer``) as ``{label: role}``.

    Raises:
        ImportProblem: an item without ``=``, a bad label or role (see
            :func:`check_speaker_label`), or a label given two roles; one line.
    """
    out: dict[str, str] = {}
    given: dict[str, str] = {}  # label key -> role
    for item in items or ():
        label, eq, role = str(item).rpartition("=")
        if not eq:
            raise ImportProblem(f"{where} {item!r}: write NAME=interviewer or NAME=interviewee")
        label, role = check_speaker_label(label, role, f"{where} {item!r}")
        if given.setdefault(_label_key(label), role) != role:
            raise ImportProblem(f"{where}: {label!r} is given both roles")
        out[label] = role
    return out


@dataclass
class Turn:
    """A speaker's turn: ``start``/``end`` delimit its words (label excluded) in the text.

    ``start_time``/``end_time`` (seconds from the start of the recording) are set for
    subtitle files (``.srt``, ``.vtt``: the span of the cues the turn was built from) and for
    transcripts whose labels carry times (``被访者 00:00:12``: from the turn's time to the
    next labelled time; ``end_time`` is None for the last).
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

    ``start_time``/``end_time`` (seconds from the start of the recording) are set for
    subtitle files (``.srt``, ``.vtt``: the earliest start and latest end of the cues whose
    text the passage overlaps) and for transcripts with timed labels (the span of the passage's
    turn). They are ``None`` otherwise.
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
    reading order; ``warnings`` are one-line notes for the user (what a Word or OpenDocument
    file had that was left out, too). ``encoding`` is the byte encoding of a text or subtitle
    file, ``"docx"`` or ``"odt"`` for a document. Turns and passages carry
    ``start_time``/``end_time`` in seconds when the file gave times (see :class:`PassageSpan`).
    """

    path: Path
    text: str
    encoding: str
    sha256: str
    turns: list[Turn]
    passages: list[PassageSpan]
    interviewee_speaker: str
    warnings: list[str] = field(default_factory=list)
    #: spans of a document's text kept as context and spans where no label is looked for (see
    #: :func:`parse_turns`), so the text can be parsed again (after pseudonymisation) alike
    context: list[tuple[int, int]] = field(default_factory=list)
    blocked: list[tuple[int, int]] = field(default_factory=list)


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
                raise ImportProblem(
                    f"{name}: has a {enc.upper()} byte-order mark but is not valid {enc.upper()}") from None
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


def time_seconds(stamp: str) -> float:
    """Seconds of a time ``H:MM:SS``, ``MM:SS`` or ``M:SS`` (``.mmm`` or ``,mmm`` allowed)."""
    main, _, frac = stamp.replace(",", ".").partition(".")
    parts = [int(x) for x in main.split(":")]
    while len(parts) < 3:
        parts.insert(0, 0)
    h, m, sec = parts
    return h * 3600 + m * 60 + sec + (int(frac.ljust(3, "0")[:3]) / 1000 if frac else 0.0)


def _label_of(line: str) -> tuple[str, int, float | None] | None:
    """``(label, length of the label prefix, time in seconds or None)`` when ``line`` starts
    with a speaker label: a bracketed marker, a label followed by a time (``被访者 00:00:12``,
    ``Interviewer (00:00:05):``), a time and a label alone on the line, or a label before a
    colon (optionally after a time)."""
    m = _ID_LABEL_RE.match(line)
    if m:
        return m.group("label"), m.end(), None
    for rx in (_TIMED_LABEL_RE, _TIME_FIRST_RE, _LABEL_RE):
        m = rx.match(line)
        if not m:
            continue
        label = m.group("label").strip().strip("*").strip()
        if not _label_ok(label):
            continue
        stamp = m.groupdict().get("btime") or m.group("time")
        return label, m.end(), time_seconds(stamp) if stamp else None
    return None


def _role_of(label: str, roles: SpeakerRoles | None = None) -> str | None:
    return (roles or DEFAULT_ROLES).role_of(label)


def _inside(pos: int, spans) -> bool:
    return any(a <= pos < b for a, b in spans)


def parse_turns(text: str, interviewee: str | None = None, roles: SpeakerRoles | None = None,
                context=(), blocked=()) -> tuple[list[Turn], str, list[str]]:
    """Split ``text`` into speaker turns.

    Labels understood: role labels (``访谈者/被访者``, ``问/答``, ``Q/A``, ``I/R`` and their
    Traditional forms, plus those ``roles`` adds), personal names (``名字：`` or ``### 名字：``,
    full-width or ASCII colon), bracketed markers (``[id1] text`` as QualCoder writes,
    ``[SPEAKER_00]:``; each one starts a turn and counts as a name), and labels with a time:
    ``被访者 00:00:12`` or ``Speaker 1  0:00`` (label, white space, time), ``Interviewer
    (00:00:05):`` (time in brackets), ``[00:01:05] 访谈者：`` or ``00:00:12 被访者`` (time
    first), each alone on its line or followed by the text. The time is the turn's
    ``start_time``. When role labels are present only they start turns, so a quoted
    ``客户说：`` line stays inside its turn. With names, a name must start at least two lines or
    stand in a ``###`` heading; the interviewee is ``interviewee`` when given, else a name
    ``roles`` calls the interviewee's, else the speaker with the most text in turns that ask
    no question (interviewers ask). Text before the first label is a preamble turn (role
    ``other``). A text with no labels at all is one interviewee turn per paragraph, with a
    warning.

    ``context``: ``(start, end)`` spans of text kept for reading but not coded (a document's
    tables other than speaker | text): they start no turn and become turns of role ``other``,
    cutting the turn they lie in. ``blocked``: spans where no label is looked for (the text
    cells of a speaker | text table).

    Returns ``(turns, interviewee speaker label, warnings)``.
    """
    warnings: list[str] = []
    lines: list[tuple[int, str]] = []
    pos = 0
    for line in text.split("\n"):
        lines.append((pos, line))
        pos += len(line) + 1
    no_labels = list(context) + list(blocked)
    candidates: list[tuple[int, str, int, bool, float | None]] = []  # (line start, label, prefix, heading, time)
    for start, line in lines:
        if no_labels and _inside(start, no_labels):
            continue
        got = _label_of(line)
        if got:
            heading = line.lstrip().startswith("#") or bool(_ID_LABEL_RE.match(line))
            candidates.append((start, got[0], got[1], heading, got[2]))
    role_hits = [c for c in candidates if _role_of(c[1], roles)]
    if role_hits and (len({_role_of(c[1], roles) for c in role_hits}) == 2 or len(role_hits) == len(candidates)):
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
        return _carve(text, turns, context), "interviewee", warnings
    first = starts[0][0]
    s, e = _trim(text, 0, first)
    if e > s:
        turns.append(Turn("", "other", s, e))
    for i, (line_start, label, plen, _h, stamp) in enumerate(starts):
        end = starts[i + 1][0] if i + 1 < len(starts) else len(text)
        s, e = _trim(text, line_start + plen, end)
        turns.append(Turn(label, "", s, max(s, e), stamp))
    _timed_turn_ends(turns)
    who = _assign_roles(text, turns, interviewee, mode == "roles", warnings, roles)
    return _carve(text, turns, context), who, warnings


def _timed_turn_ends(turns: list[Turn]) -> None:
    """Give each timed turn the time of the next timed turn as its ``end_time``."""
    timed = [t for t in turns if t.start_time is not None]
    for a, b in zip(timed, timed[1:]):
        a.end_time = b.start_time if b.start_time >= a.start_time else None


def _carve(text: str, turns: list[Turn], context) -> list[Turn]:
    """``turns`` with every ``context`` span cut out of the turn holding it and made a turn of
    role ``other`` (a table kept for reading, not for coding), in text order."""
    if not context:
        return turns
    spans = sorted(context)
    out: list[Turn] = []
    for t in turns:
        pos = t.start
        for a, b in spans:
            if b <= t.start or a >= t.end:
                continue
            s, e = _trim(text, pos, max(pos, a))
            if e > s:
                out.append(Turn(t.speaker, t.role, s, e, t.start_time, t.end_time))
            pos = max(pos, b)
        s, e = _trim(text, pos, t.end)
        if e > s:
            out.append(Turn(t.speaker, t.role, s, e, t.start_time, t.end_time))
    for a, b in spans:
        s, e = _trim(text, a, b)
        if e > s:
            out.append(Turn("", "other", s, e))
    out.sort(key=lambda t: t.start)
    return out


def _assign_roles(text: str, turns: list[Turn], interviewee: str | None, by_role_labels: bool,
                  warnings: list[str], roles: SpeakerRoles | None = None) -> str:
    """Give each labelled turn its role, by its role label (访谈者, Q, …; unknown labels are
    the interviewer's) or, with personal names, by picking the interviewee; warn when no
    interviewee turn has text. Returns the interviewee's speaker label."""
    if by_role_labels:
        for t in turns:
            if t.role != "other":
                t.role = _role_of(t.speaker, roles) or "interviewer"
        who = next((t.speaker for t in turns if t.role == "interviewee"), "")
    else:
        who = _pick_interviewee(text, turns, interviewee, roles)
    if not any(t.role == "interviewee" and t.end > t.start for t in turns):
        warnings.append("no interviewee turn found: nothing to code")
    return who


def _pick_interviewee(text: str, turns: list[Turn], interviewee: str | None,
                      roles: SpeakerRoles | None = None) -> str:
    """Give every non-preamble turn of named speakers its role; return the interviewee.

    The interviewee is ``interviewee`` when given, otherwise the one speaker whose label
    ``roles`` calls the interviewee's, otherwise the speaker with the most text in turns that
    ask no question (never one ``roles`` calls an interviewer).
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
    named = [s for s in volume if _role_of(s, roles) == "interviewee"]
    pool = [s for s in volume if _role_of(s, roles) != "interviewer"] or list(volume)
    who = interviewee or (named[0] if len(named) == 1 else None) or max(
        pool, key=lambda s: (volume[s] * (1 - asks[s] / n_turns[s]), volume[s]))
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


def parse_text(text: str, path: Path, encoding: str, sha256: str, interviewee: str | None = None,
               roles: SpeakerRoles | None = None, context=(), blocked=()) -> ParsedTranscript:
    """Parse already-decoded ``text`` (newlines normalised) into turns and passages (see
    :func:`parse_turns` for ``roles``, ``context`` and ``blocked``). A passage of a timed
    turn gets the turn's ``start_time``/``end_time``."""
    turns, who, warnings = parse_turns(text, interviewee, roles, context, blocked)
    passages = cut_passages(text, turns)
    for p in passages:
        t = turns[p.turn_index]
        p.start_time, p.end_time = t.start_time, t.end_time
    return ParsedTranscript(path, text, encoding, sha256, turns, passages, who, warnings,
                            list(context), list(blocked))


def read_transcript(path: str | Path, interviewee: str | None = None,
                    roles: SpeakerRoles | None = None) -> ParsedTranscript:
    """Read, decode and parse the transcript at ``path``, by its suffix: ``.txt``/``.md``
    (plain text), ``.docx``/``.odt`` (every paragraph, table, content control and text box of
    the body in reading order, see :mod:`beicoder.core.documents`; what was left out is in the
    warnings) or ``.srt``/``.vtt`` (subtitle cues; turns and passages get
    ``start_time``/``end_time``). ``roles`` adds speaker labels (see :class:`SpeakerRoles`).

    Raises:
        ImportProblem: unreadable, unsupported, empty, binary or undecodable file (one line,
            naming the file).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if path.is_dir():
        raise ImportProblem(f"{path}: is a folder; give the files in it (e.g. {path}/*.txt)")
    if suffix not in SUPPORTED_SUFFIXES:
        raise ImportProblem(f"{path}: unsupported file type {path.suffix or '(none)'}; {_SUPPORTED_HINT}")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImportProblem(f"{path}: cannot read ({exc.strerror})") from None
    sha256 = hashlib.sha256(data).hexdigest()
    try:
        if suffix in DOCX_SUFFIXES | ODT_SUFFIXES:
            from .documents import read_document

            doc = read_document(data, str(path), "odt" if suffix in ODT_SUFFIXES else "docx", roles)
            parsed = parse_text(doc.text, path, doc.kind, sha256, interviewee, roles, doc.context, doc.blocked)
            parsed.warnings.extend(doc.notes)
            return parsed
        text, encoding = decode_bytes(data, str(path))
        if suffix in SUBTITLE_SUFFIXES:
            return parse_subtitles(text, path, encoding, sha256, interviewee, vtt=suffix == ".vtt", roles=roles)
        return parse_text(text, path, encoding, sha256, interviewee, roles)
    except ImportProblem as exc:
        message = str(exc)
        raise ImportProblem(message if message.startswith(f"{path}:") else f"{path}: {message}") from None


def _label_ok(label: str) -> bool:
    """True when ``label`` can be a speaker label: 1-24 characters, at most four words, no
    sentence punctuation, brackets or slashes, not a web address."""
    return (
        0 < len(label) <= 24 and not set(label) & _LABEL_FORBIDDEN and len(label.split()) <= 4
        and not label.startswith(("http", "www"))
    )


# ---------------------------------------------------------------------------------------
# Subtitles (.srt, .vtt)

_TIME = r"(?:(\d+):)?(\d{1,2}):(\d{2})[,.](\d{1,3})"
_CUE_TIMING_RE = re.compile(rf"^[ \t]*{_TIME}[ \t]*-->[ \t]*{_TIME}(?:[ \t].*)?$")
_VOICE_RE = re.compile(r"<v(?:\.[^\s>]*)?(?:[ \t]+(?P<name>[^>]*))?>", re.IGNORECASE)
_TAG_RE = re.compile(r"</?[a-zA-Z][^>]*>|<\d[\d:.]*>|\{\\[^}]*\}")
_ENTITIES = {"&amp;": "&", "&lt;": "<", "&gt;": ">", "&nbsp;": " ", "&lrm;": "", "&rlm;": "",
             "&quot;": '"', "&apos;": "'"}
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
        following = lines[i + 1].strip() if i + 1 < len(lines) else ""
        if vtt and not line.strip() and i + 1 < len(lines) and following.startswith(("NOTE", "STYLE", "REGION")) and (
            following in {"NOTE", "STYLE", "REGION"} or following.startswith(("NOTE ", "NOTE\t"))
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


def _srt_speakers(cues: list[Cue], roles: SpeakerRoles | None = None) -> None:
    """Take ``Name:``/``名字：``/``[SPEAKER_00]`` at the start of SRT cues as speakers (a role label,
    a bracketed marker, or a name that starts at least two cues), removing it from the text."""
    found = [_label_of(c.text) for c in cues]
    counts = Counter(f[0] for f in found if f)
    for cue, got in zip(cues, found):
        if not got:
            continue
        label, plen, _time = got
        if _role_of(label, roles) or counts[label] >= 2 or _ID_LABEL_RE.match(cue.text):
            cue.speaker = label
            cue.text = cue.text[plen:].strip()


def parse_subtitles(
    text: str, path: Path, encoding: str, sha256: str, interviewee: str | None = None, vtt: bool = False,
    roles: SpeakerRoles | None = None,
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
        _srt_speakers(cues, roles)
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
        role_names = {n for n in names if _role_of(n, roles)}
        by_roles = bool(role_names) and (len({_role_of(n, roles) for n in role_names}) == 2 or role_names == names)
        who_name = _assign_roles(text_out, turns, interviewee, by_roles, warnings, roles)
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
