"""Word (``.docx``) and OpenDocument (``.odt``) transcripts as the text a reader sees.

:func:`read_document` turns a document into a :class:`DocumentText`: the text of its body in
reading order, one block per paragraph or table row, blocks separated by a blank line, ready
for :func:`beicoder.core.ingest.parse_text`. Both formats follow the same rules:

* **Paragraphs** everywhere body text lives: the body, content controls (``w:sdt``), text
  boxes (after the paragraph that holds them; Word's fallback copy of a text box is not read
  twice), lists and sections. A paragraph that starts with a bold run (``**王经理** 我……`` or
  ``**王经理：**我……``) becomes ``王经理：我……`` when the bold text ends with a colon, is a
  role label or starts two paragraphs or more, so the speaker is found; a bold label line with
  a time (``**被访者** 00:00:12``) is left for the text parser, which reads the time.
* **Tables**: a table of two columns, speaker | text (optionally with a column of times, and
  a header row such as ``说话人 | 内容``), is read as turns, one per row (a row without a
  speaker continues the previous one). It is taken for one when every speaker cell can be a
  speaker label with a letter in it, speakers recur (or one is a role label such as 访谈者),
  and what they say is longer than their names; any other table is kept as *context*: its
  rows are in the text, cells separated by `` | ``, but it starts no turn and is never coded.
* **Left out, and said so**: headers, footers, comments, footnotes and endnotes, tracked
  deletions and pictures; :attr:`DocumentText.notes` says what there was.

Problems are one-line :class:`~beicoder.core.ingest.ImportProblem` messages naming the file.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections import Counter
from dataclasses import dataclass, field

from .ingest import (
    _TIME_FIRST_RE,
    _TIMED_LABEL_RE,
    _TS,
    ImportProblem,
    SpeakerRoles,
    _label_ok,
    _role_of,
)

#: Header cells of a speaker | text table (compared without case).
HEADER_WORDS = {
    "speaker", "name", "who", "role", "text", "content", "transcript", "time", "timestamp", "start", "utterance",
    "说话人", "發言人", "发言人", "說話人", "讲话人", "講話人", "角色", "姓名", "人物", "内容", "內容", "文本",
    "发言内容", "發言內容", "说话内容", "說話內容", "转写", "轉寫", "转写内容", "时间", "時間", "时间戳", "時間戳",
}
_TIME_CELL = re.compile(rf"^[\[(（【]?{_TS}(?:\s*[-–~]\s*{_TS})?[\])）】]?$")
CELL_SEPARATOR = " | "
#: What a document may hold that is not the interview's body text, in the order it is reported.
LEFT_OUT_ORDER = ("header", "footer", "comment", "footnote", "endnote", "picture", "tracked deletion")


@dataclass
class Paragraph:
    """A paragraph as runs of text with their boldness: ``[(text, bold), ...]``."""

    runs: list[tuple[str, bool]] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "".join(t for t, _ in self.runs)


@dataclass
class Table:
    """A table as the texts of its cells, row by row (a cell's paragraphs joined by ``\\n``)."""

    rows: list[list[str]] = field(default_factory=list)


@dataclass
class DocumentText:
    """What :func:`read_document` read: ``text`` (LF newlines, blocks separated by blank
    lines, ending with one newline), ``kind`` (``docx`` or ``odt``), ``context`` (``(start,
    end)`` spans of tables kept for reading, not for coding), ``blocked`` (spans of the text
    cells of speaker | text tables, where no speaker label is looked for) and ``notes`` (one
    line each: what was left out, which tables were read how)."""

    text: str
    kind: str
    context: list[tuple[int, int]] = field(default_factory=list)
    blocked: list[tuple[int, int]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def read_document(data: bytes, name: str, kind: str, roles: SpeakerRoles | None = None) -> DocumentText:
    """The text of the ``.docx`` (``kind`` ``"docx"``) or ``.odt`` (``"odt"``) file whose bytes
    are ``data``; ``name`` names it in messages, ``roles`` adds speaker labels.

    Raises:
        ImportProblem: not a document of that kind (another zip, a broken file, an old
            ``.doc``), or no text in it.
    """
    reader = _docx_blocks if kind == "docx" else _odt_blocks
    try:
        blocks, skipped = reader(data)
    except ImportProblem:
        raise
    except Exception as exc:  # noqa: BLE001 - zipfile, lxml, python-docx and odfpy raise many kinds
        reason = " ".join(str(exc).split())[:120] or type(exc).__name__
        raise ImportProblem(f"{name}: not a readable .{kind} file ({reason})") from None
    doc = _flatten(blocks, kind, roles)
    if not doc.text.strip():
        raise ImportProblem(f"{name}: the document has no text")
    left_out = [_count(skipped[what], what) for what in LEFT_OUT_ORDER if skipped.get(what)]
    if left_out:
        doc.notes.insert(0, f"left out (not the interview's body text): {', '.join(left_out)}")
    return doc


def _count(n: int, what: str) -> str:
    plural = {"body": "bodies", "footnote": "footnotes", "endnote": "endnotes", "comment": "comments"}
    return f"{n} {what if n == 1 else plural.get(what, what + 's')}"


# -- blocks into text ------------------------------------------------------------------------
def _clean(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\v", "\n").replace("\u2028", "\n")
    text = "".join(ch for ch in text if ord(ch) >= 32 or ch in "\n\t")
    return "\n".join(line.rstrip() for line in text.split("\n")).strip("\n")


def _bold_label(par: Paragraph) -> tuple[str | None, str, bool]:
    """``(label, rest, had a colon)`` of a paragraph starting with a bold run that can be a
    speaker label, else ``(None, "", False)``."""
    text = par.text
    bold = []
    for t, is_bold in par.runs:
        if not t:
            continue
        if not is_bold:
            break
        bold.append(t)
    bold_text = "".join(bold)
    if not bold_text.strip() or not text.startswith(bold_text):
        return None, "", False
    rest = text[len(bold_text):]
    label = bold_text.strip()
    colon = label.endswith((":", "："))
    label = label.rstrip(":：").strip()
    if rest.lstrip().startswith((":", "：")):
        colon = True
        rest = rest.lstrip()[1:]
    # A paragraph that is all bold is a heading unless it ends with a colon; a label followed
    # by a time is read by the text parser with its time.
    if not _label_ok(label) or (not rest.strip() and not colon) or _TIMED_LABEL_RE.match(text.strip()):
        return None, "", False
    return label, rest.strip(), colon


def _joined_label(label: str, rest: str) -> str:
    return f"{label}{'：' if any(ord(ch) > 127 for ch in label) else ': '}{rest}"


def _speaker_cell(cell: str) -> tuple[str, str | None] | None:
    """``(label, time or None)`` of a table's speaker cell (``被访者``, ``Interviewer:``,
    ``说话人1 00:01:05``, ``00:00:12 被访者``), or None when it cannot be a speaker."""
    cell = " ".join(cell.split()).rstrip(":：").strip()
    for rx in (_TIMED_LABEL_RE, _TIME_FIRST_RE):
        m = rx.match(cell)
        if m and m.end() >= len(cell):
            label = m.group("label").strip().strip("*").strip()
            if _label_ok(label):
                return label, m.groupdict().get("btime") or m.group("time")
    return (cell, None) if _label_ok(cell) else None


def _speaker_table(table: Table, roles: SpeakerRoles | None) -> list[tuple[str, str | None, str]] | None:
    """The rows of a speaker | text table as ``(speaker, time or None, text)`` (a row without a
    speaker has speaker ``""``), or None when the table is not one."""
    rows = [[c.strip() for c in r] for r in table.rows if any(c.strip() for c in r)]
    if not rows or max(len(r) for r in rows) not in (2, 3) or min(len(r) for r in rows) < 2:
        return None
    width = max(len(r) for r in rows)
    rows = [r + [""] * (width - len(r)) for r in rows]
    if all(not c or " ".join(c.split()).rstrip(":：").casefold() in HEADER_WORDS for c in rows[0]):
        rows = rows[1:]
    if len(rows) < 2:
        return None
    cols = list(range(width))
    time_col = None
    if width == 3:
        timed = [c for c in cols if all(not r[c] or _TIME_CELL.match(r[c]) for r in rows) and any(r[c] for r in rows)]
        if len(timed) != 1:
            return None
        time_col = timed[0]
        cols.remove(time_col)
    who_col, text_col = cols
    speakers = [_speaker_cell(r[who_col]) if r[who_col] else ("", None) for r in rows]
    if any(s is None for s in speakers) or not speakers[0][0]:
        return None
    named = [s[0] for s in speakers if s[0]]
    labels = set(named)
    if not all(any(ch.isalpha() for ch in label) for label in labels):
        return None  # years, amounts: a table of figures
    has_roles = any(_role_of(label, roles) for label in labels)
    if not has_roles and ((len(labels) == len(named) and len(rows) > 2) or len(labels) > max(8, len(rows) // 2)):
        return None  # every row its own "speaker": a table of items and values
    said = [r[text_col] for r in rows if r[text_col]]
    if len(said) * 2 < len(rows) or sum(map(len, said)) / len(said) <= sum(map(len, named)) / len(named):
        return None  # what the speakers say is longer than their names
    out = []
    for r, (label, stamp) in zip(rows, speakers):
        if time_col is not None and r[time_col]:
            stamp = re.search(_TS, r[time_col]).group(0)
        out.append((label, stamp, r[text_col]))
    return out


def _flatten(blocks: list, kind: str, roles: SpeakerRoles | None) -> DocumentText:
    """The text of ``blocks`` (paragraphs and tables in reading order), see the module docstring."""
    bold = [(_bold_label(b) if isinstance(b, Paragraph) else (None, "", False)) for b in blocks]
    counts = Counter(label for label, _, _ in bold if label)
    parts: list[tuple[str, str, int]] = []  # (text, what: para/turns/context, label prefix length)
    speaker_tables = context_tables = 0
    for block, (label, rest, colon) in zip(blocks, bold):
        if isinstance(block, Paragraph):
            if label and (colon or _role_of(label, roles) or counts[label] >= 2):
                text = _joined_label(label, rest)
            else:
                text = block.text
            text = _clean(text)
            if text.strip():
                parts.append((text, "para", 0))
            continue
        turns = _speaker_table(block, roles)
        if turns is not None:
            speaker_tables += 1
            rows: list[list] = []
            for who, stamp, said in turns:
                said = _clean(said)
                if not who:  # a row without a speaker continues the previous one
                    if rows and said:
                        rows[-1][1] += "\n" + said
                    continue
                prefix = (f"[{stamp}] " if stamp else "") + _joined_label(who, "")
                rows.append([prefix, said])
            for prefix, said in rows:
                parts.append((prefix + said, "turns", len(prefix)))
            continue
        lines = [_clean(CELL_SEPARATOR.join(" ".join(c.split("\n")) for c in row)) for row in block.rows]
        text = "\n".join(line for line in lines if line.strip(" |"))
        if text.strip():
            context_tables += 1
            parts.append((text, "context", 0))
    out, context, blocked = "", [], []
    for text, what, prefix in parts:
        if out:
            out += "\n\n"
        start = len(out)
        out += text
        if what == "context":
            context.append((start, len(out)))
        elif what == "turns" and len(text) > prefix:
            blocked.append((start + prefix, len(out)))
    notes = []
    if speaker_tables:
        notes.append(f"read {speaker_tables} speaker | text table{'s' if speaker_tables > 1 else ''} as turns")
    if context_tables:
        notes.append(f"kept {context_tables} other table{'s' if context_tables > 1 else ''} as context: "
                     "in the text, not coded")
    return DocumentText(out + "\n" if out else "", kind, context, blocked, notes)


# -- Word ------------------------------------------------------------------------------------
_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"


def _w(tag: str) -> str:
    return f"{{{_W}}}{tag}"


def _docx_blocks(data: bytes) -> tuple[list, Counter]:
    """Paragraphs and tables of a Word file's body in reading order, and what was left out."""
    import docx
    from docx.text.run import Run

    document = docx.Document(io.BytesIO(data))
    body = document.element.body
    parent = document._body
    blocks: list = []

    def run_bold(r) -> bool:
        run = Run(r, parent)
        if run.bold:
            return True
        style = getattr(run, "style", None)
        return bool(style is not None and style.font is not None and style.font.bold)

    def paragraph(p) -> None:
        par = Paragraph()
        boxes = []
        for el in p.iter():
            tag = el.tag
            if tag == _w("txbxContent"):
                if not _inside(el, p, (f"{{{_MC}}}Fallback", _w("txbxContent"))):
                    boxes.append(el)
            elif tag == _w("r") and not _inside(el, p, (_w("txbxContent"), f"{{{_MC}}}Fallback", _w("del"),
                                                         _w("moveFrom"))):
                text = el.text  # python-docx: w:t, w:tab, w:br, w:cr, w:noBreakHyphen, w:ptab
                if text:
                    par.runs.append((text, run_bold(el)))
        blocks.append(par)
        for box in boxes:
            for child in box:
                block(child)

    def table(tbl) -> None:
        rows = []
        for tr in tbl.iter(_w("tr")):
            if _inside(tr, tbl, (_w("tbl"),)):
                continue  # a row of a nested table: its text is in its cell
            cells = []
            for tc in tr.iter(_w("tc")):
                if _inside(tc, tr, (_w("tbl"),)):
                    continue
                merge = tc.find(f"{_w('tcPr')}/{_w('vMerge')}")
                if merge is not None and merge.get(_w("val")) != "restart":
                    cells.append("")  # the continuation of a vertically merged cell
                    continue
                inner = []
                for p in tc.iter(_w("p")):
                    if _inside(p, tc, (f"{{{_MC}}}Fallback",)):
                        continue
                    inner.append("".join(r.text for r in p.iter(_w("r"))
                                         if not _inside(r, p, (_w("del"), _w("moveFrom"), f"{{{_MC}}}Fallback"))))
                cells.append("\n".join(inner))
            rows.append(cells)
        blocks.append(Table(rows))

    def block(el) -> None:
        tag = el.tag
        if tag == _w("p"):
            paragraph(el)
        elif tag == _w("tbl"):
            table(el)
        elif tag in (_w("sdt"), _w("customXml"), _w("sdtContent")):
            content = el.find(_w("sdtContent")) if tag == _w("sdt") else el
            for child in content if content is not None else ():
                block(child)

    for child in body:
        block(child)
    return blocks, _docx_left_out(data)


def _inside(el, top, tags) -> bool:
    """True when ``el`` lies inside an element with one of ``tags`` below ``top``."""
    node = el.getparent()
    while node is not None and node is not top:
        if node.tag in tags:
            return True
        node = node.getparent()
    return False


def _docx_left_out(data: bytes) -> Counter:
    """Headers and footers with text, comments, footnotes, endnotes and pictures of a Word file."""
    from lxml import etree

    found: Counter = Counter()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for member in zf.namelist():
            part = member.rsplit("/", 1)[-1]
            kind = next((k for k in ("header", "footer") if re.fullmatch(rf"{k}\d*\.xml", part)), None)
            if part in ("comments.xml", "footnotes.xml", "endnotes.xml"):
                kind = part[:-4]
            if kind is None and part != "document.xml":
                continue
            root = etree.fromstring(zf.read(member), etree.XMLParser(resolve_entities=False, no_network=True))
            if part == "document.xml":
                found["picture"] += len(root.findall(f".//{_w('drawing')}")) - len(
                    [d for d in root.iter(_w("drawing")) if d.find(f".//{_w('txbxContent')}") is not None])
                found["tracked deletion"] += len(root.findall(f".//{_w('del')}"))
            elif kind in ("header", "footer"):
                found[kind] += bool("".join(t.text or "" for t in root.iter(_w("t"))).strip())
            else:
                tag = {"comments": "comment", "footnotes": "footnote", "endnotes": "endnote"}[kind]
                found[tag] += sum(1 for n in root.iter(_w(tag))
                                  if n.get(_w("type")) in (None, "normal")
                                  and "".join(t.text or "" for t in n.iter(_w("t"))).strip())
    return found


# -- OpenDocument ----------------------------------------------------------------------------
def _odt_blocks(data: bytes) -> tuple[list, Counter]:
    """Paragraphs and tables of an OpenDocument text's body in reading order, and what was left out."""
    from odf.namespaces import DRAWNS, FONS, OFFICENS, STYLENS, TABLENS, TEXTNS
    from odf.opendocument import load

    doc = load(io.BytesIO(data))
    if not str(doc.mimetype).startswith("application/vnd.oasis.opendocument.text"):
        raise ImportProblem(f"not an OpenDocument text ({doc.mimetype})")
    styles: dict[str, tuple[bool | None, str]] = {}  # name -> (bold, parent)
    for holder in (doc.styles, doc.automaticstyles):
        for st in holder.childNodes:
            if getattr(st, "qname", None) != (STYLENS, "style"):
                continue
            weight = None
            for props in st.childNodes:
                if getattr(props, "qname", None) == (STYLENS, "text-properties"):
                    value = props.getAttrNS(FONS, "font-weight") or props.getAttrNS(STYLENS, "font-weight-asian")
                    if value:
                        weight = value == "bold" or (value.isdigit() and int(value) >= 600)
            styles[st.getAttrNS(STYLENS, "name")] = (weight, st.getAttrNS(STYLENS, "parent-style-name") or "")

    def is_bold(name: str | None, inherited: bool) -> bool:
        seen = set()
        while name and name not in seen:
            seen.add(name)
            weight, parent = styles.get(name, (None, ""))
            if weight is not None:
                return weight
            name = parent
        return inherited

    skipped: Counter = Counter()
    blocks: list = []

    def inline(node, bold: bool, par: Paragraph, boxes: list) -> None:
        for child in node.childNodes:
            if child.nodeType == child.TEXT_NODE:
                par.runs.append((child.data, bold))
                continue
            q = getattr(child, "qname", None)
            if q == (TEXTNS, "s"):
                par.runs.append((" " * int(child.getAttrNS(TEXTNS, "c") or 1), bold))
            elif q == (TEXTNS, "tab"):
                par.runs.append(("\t", bold))
            elif q == (TEXTNS, "line-break"):
                par.runs.append(("\n", bold))
            elif q == (TEXTNS, "note"):
                skipped["footnote" if child.getAttrNS(TEXTNS, "note-class") != "endnote" else "endnote"] += 1
            elif q in ((OFFICENS, "annotation"), (OFFICENS, "annotation-end")):
                skipped["comment"] += q[1] == "annotation"
            elif q == (DRAWNS, "frame"):
                for sub in child.childNodes:
                    sq = getattr(sub, "qname", None)
                    if sq == (DRAWNS, "text-box"):
                        boxes.append(sub)
                    elif sq == (DRAWNS, "image"):
                        skipped["picture"] += 1
            elif q == (TEXTNS, "span"):
                inline(child, is_bold(child.getAttrNS(TEXTNS, "style-name"), bold), par, boxes)
            elif q in ((TEXTNS, "bookmark-start"), (TEXTNS, "bookmark-end"), (TEXTNS, "soft-page-break"),
                       (TEXTNS, "change-start"), (TEXTNS, "change-end"), (TEXTNS, "change")):
                continue
            else:  # links, fields, ruby and the like: their text as it reads
                inline(child, bold, par, boxes)

    def paragraph(p) -> None:
        par, boxes = Paragraph(), []
        inline(p, is_bold(p.getAttrNS(TEXTNS, "style-name"), False), par, boxes)
        blocks.append(par)
        for box in boxes:
            for child in box.childNodes:
                block(child)

    def cell_text(cell) -> str:
        inner = []
        for child in cell.childNodes:
            sub = _collect(child)
            if sub is not None:
                inner.append(sub)
        return "\n".join(inner)

    def _collect(node) -> str | None:
        """The text of a block inside a table cell (paragraphs and lists; nested tables flattened)."""
        q = getattr(node, "qname", None)
        if q in ((TEXTNS, "p"), (TEXTNS, "h")):
            par = Paragraph()
            inline(node, False, par, [])
            return par.text
        if q is None or node.nodeType == node.TEXT_NODE:
            return None
        parts = [t for t in (_collect(c) for c in node.childNodes) if t is not None]
        return "\n".join(parts) if parts else None

    def table(tbl) -> None:
        rows = []

        def walk_rows(node):
            for child in node.childNodes:
                q = getattr(child, "qname", None)
                if q == (TABLENS, "table-row"):
                    cells = []
                    for cell in child.childNodes:
                        cq = getattr(cell, "qname", None)
                        if cq == (TABLENS, "table-cell"):
                            text = cell_text(cell)
                            repeat = int(cell.getAttrNS(TABLENS, "number-columns-repeated") or 1)
                            cells.extend([text] * (min(repeat, 64) if text else 1))
                        elif cq == (TABLENS, "covered-table-cell"):
                            cells.append("")
                    while cells and not cells[-1]:
                        cells.pop()
                    repeat = int(child.getAttrNS(TABLENS, "number-rows-repeated") or 1)
                    rows.extend([cells] * (min(repeat, 64) if any(cells) else 1))
                elif q in ((TABLENS, "table-header-rows"), (TABLENS, "table-rows"), (TABLENS, "table-row-group")):
                    walk_rows(child)

        walk_rows(tbl)
        blocks.append(Table(rows))

    def block(node) -> None:
        q = getattr(node, "qname", None)
        if q in ((TEXTNS, "p"), (TEXTNS, "h")):
            paragraph(node)
        elif q == (TABLENS, "table"):
            table(node)
        elif q in ((TEXTNS, "list"), (TEXTNS, "list-item"), (TEXTNS, "list-header"), (TEXTNS, "section"),
                   (TEXTNS, "index-body")):
            for child in node.childNodes:
                block(child)
        elif q == (TEXTNS, "tracked-changes"):
            skipped["tracked deletion"] += sum(1 for _ in _descendants(node, (TEXTNS, "deletion")))
        elif q is not None and q[0] == TEXTNS and q[1].startswith(("table-of-content", "alphabetical-index",
                                                                     "illustration-index", "bibliography")):
            for child in node.childNodes:
                if getattr(child, "qname", None) == (TEXTNS, "index-body"):
                    block(child)

    for child in doc.text.childNodes:
        block(child)
    for master in doc.masterstyles.childNodes:
        for part in master.childNodes:
            q = getattr(part, "qname", None)
            if q is not None and q[0] == STYLENS and q[1].split("-")[0] in ("header", "footer"):
                par = Paragraph()
                inline(part, False, par, [])
                skipped[q[1].split("-")[0]] += bool(par.text.strip())
    return blocks, skipped


def _descendants(node, qname):
    for child in node.childNodes:
        if getattr(child, "qname", None) == qname:
            yield child
        if child.nodeType != child.TEXT_NODE:
            yield from _descendants(child, qname)
