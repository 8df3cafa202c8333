"""REFI-QDA interchange: codebooks (``.qdc``) and projects (``.qdpx``) for NVivo, ATLAS.ti,
MAXQDA, QualCoder and other QDA tools.

* :func:`write_codebook` writes the dictionary's codes as a ``.qdc`` (``urn:QDA-XML:codebook:1.0``).
* :func:`write_project` writes a study as a ``.qdpx``: a zip of ``project.qde``
  (``urn:QDA-XML:project:1.0``) and ``sources/<guid>.txt``, one UTF-8 file per transcript holding
  the stored transcript text; every coding is a ``PlainTextSelection`` whose ``startPosition``
  and ``endPosition`` are the passage's character offsets into that text; "no code" decisions
  are uncoded selections and memos are ``Note`` elements, so everything comes back on import.
* :func:`read_codebook` reads a ``.qdc`` (also ATLAS.ti's quirks) into a beicoder
  :class:`~beicoder.core.dictionary.Dictionary`; :func:`write_codebook_dictionary` writes it as a
  dictionary file.
* :func:`read_project` reads a ``.qdpx`` into plain dicts (sources, codes, users, codings).
* :func:`validate` checks XML against the official REFI-QDA XSDs.

Every GUID written is a UUID 5 derived from a fixed namespace and the thing it names (code, coder,
transcript hash, coding), and the zip has fixed timestamps, so exporting the same study twice
gives byte-identical files. Problems are one-line :class:`RefiError` messages naming the file.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC
from pathlib import Path, PurePosixPath

from . import BeicoderError

CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"
PROJECT_NS = "urn:QDA-XML:project:1.0"
ORIGIN = "beicoder"
# Fixed namespace of every GUID beicoder writes (never change it: re-exports must be identical).
GUID_NS = uuid.UUID("6f1d5c7e-3b0a-5e8e-9a41-2c1b7d0e4f60")
# Distinct, readable colours given to codes by their position in the dictionary.
PALETTE = ("#E6194B", "#3CB44B", "#4363D8", "#F58231", "#911EB4", "#42D4F4", "#F032E6", "#9A6324",
           "#469990", "#808000", "#000075", "#BFEF45", "#FABED4", "#DCBEFF", "#FFD8B1", "#AAFFC3")
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
# The Description of an uncoded selection that records a "no code" decision.
NO_CODE_MARK = "beicoder: no code"
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")
_LEVEL = re.compile(r"\blevel\s+(-?\d+)\b", re.IGNORECASE)


class RefiError(BeicoderError):
    """A REFI-QDA file that cannot be read or written; the message is one line naming the file."""


# -- helpers ---------------------------------------------------------------------------------
def _guid(kind: str, key: str) -> str:
    """A stable GUID for ``kind`` (code, user, source, ...) named ``key``."""
    return str(uuid.uuid5(GUID_NS, f"{kind}:{key}"))


def code_guid(code: str) -> str:
    """The GUID beicoder gives the competency ``code`` (e.g. ``"ACH"``) in every export."""
    return _guid("code", code)


def user_guid(coder: str) -> str:
    """The GUID beicoder gives the coder named ``coder`` in every export."""
    return _guid("user", coder)


def code_label(competency) -> str:
    """The name a code gets in other tools: the code and its name, ``"ACH 成就导向"``."""
    name = competency.name_zh or competency.name_en
    return f"{competency.code} {name}".strip()


def _description(competency) -> str:
    return "\n".join(t for t in (competency.definition_zh, competency.definition_en) if t)


def _xml_bytes(root) -> bytes:
    from lxml import etree

    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + etree.tostring(root, encoding="UTF-8", pretty_print=True)


def _write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` without leaving a half file (see export.write_atomically)."""
    from .export import OutputError, write_atomically

    try:
        write_atomically(path, data)
    except OutputError as exc:
        raise RefiError(str(exc)) from None


def _checked_output(path) -> Path:
    from .export import check_output

    return check_output(path)


def _iso(stamp) -> str | None:
    """``stamp`` (ISO 8601 text as stored) as an xsd:dateTime in UTC, or None when unreadable."""
    from datetime import datetime

    if not stamp:
        return None
    try:
        dt = datetime.fromisoformat(str(stamp))
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _code_element(parent, ns: str, competency, position: int):
    from lxml import etree

    el = etree.SubElement(parent, f"{{{ns}}}Code", guid=code_guid(competency.code), name=code_label(competency),
                          isCodable="true", color=PALETTE[position % len(PALETTE)])
    desc = _description(competency)
    if desc:
        etree.SubElement(el, f"{{{ns}}}Description").text = desc
    return el


# -- writing ---------------------------------------------------------------------------------
def codebook_xml(dictionary) -> bytes:
    """The ``.qdc`` XML (UTF-8 bytes) of ``dictionary`` (a :class:`Dictionary`): one ``Code`` per
    competency, named ``"ACH 成就导向"``, with a colour and the definition as ``Description``."""
    from lxml import etree

    root = etree.Element(f"{{{CODEBOOK_NS}}}CodeBook", nsmap={None: CODEBOOK_NS}, origin=ORIGIN)
    codes = etree.SubElement(root, f"{{{CODEBOOK_NS}}}Codes")
    for pos, comp in enumerate(dictionary.competencies):
        _code_element(codes, CODEBOOK_NS, comp, pos)
    return _xml_bytes(root)


def write_codebook(dictionary, path) -> Path:
    """Write ``dictionary`` as a REFI-QDA codebook (``.qdc``) at ``path`` and return the path.

    The same dictionary always gives the same bytes (stable GUIDs, colours by position).

    Raises:
        OutputError: ``path`` may not be written (a folder, a study database, no such folder).
        RefiError: the file system refuses the write.
    """
    path = _checked_output(path)
    _write_atomic(path, codebook_xml(dictionary))
    return path


def _study_data(store, coders):
    """Everything :func:`project_xml` needs from ``store``, in a fixed order: the coders
    (every coder with a decision or a memo, or those named), the transcripts, their codings
    and their marks ("no code" decisions and memos)."""
    marks = store.marks()
    known = store.coders()
    if coders is None:
        chosen = known + sorted({m["coder"] for m in marks if m["memo"]} - set(known))
    else:
        chosen = []
        for name in coders:
            name = store.resolve_coder(name)
            if name not in known:
                raise RefiError(f"{store.path.name}: no decisions by coder {name!r} in this study")
            if name not in chosen:
                chosen.append(name)
    transcripts = store.transcript_rows()
    rows = [r for r in store.coding_rows() if r["coder"] in chosen]
    marks = [m for m in marks if m["coder"] in chosen and (m["no_code"] or m["memo"])]
    return chosen, transcripts, rows, marks


def project_xml(store, coders=None) -> tuple[bytes, dict[str, str]]:
    """The ``project.qde`` XML of the study in ``store`` and the source files of the zip.

    In: an open :class:`~beicoder.core.store.Store` and optionally the coders to include
    (default: every coder with a decision). Out: ``(xml_bytes, {"sources/<guid>.txt": text})``.

    Raises:
        RefiError: a named coder has no decisions in the study.
    """
    from lxml import etree

    chosen, transcripts, rows, marks = _study_data(store, coders)
    dictionary = store.dictionary()
    ns = PROJECT_NS

    def sub(parent, tag, **attrs):
        return etree.SubElement(parent, f"{{{ns}}}{tag}", **{k: str(v) for k, v in attrs.items() if v is not None})

    root = etree.Element(f"{{{ns}}}Project", nsmap={None: ns}, name=store.path.stem, origin=ORIGIN)
    # Users, CodeBook, Variables, Cases, Sources: the order of the XSD's ProjectType sequence.
    if chosen:
        users = sub(root, "Users")
        for name in chosen:
            sub(users, "User", guid=user_guid(name), name=name)
    comps = list(dictionary.competencies) if dictionary else []
    if comps:
        codes = sub(sub(root, "CodeBook"), "Codes")
        for pos, comp in enumerate(comps):
            _code_element(codes, ns, comp, pos)
    else:  # no dictionary stored: codes from the codes table
        table = store.codes()
        if table:
            codes = sub(sub(root, "CodeBook"), "Codes")
            for pos, c in enumerate(table):
                el = sub(codes, "Code", guid=code_guid(c["code"]),
                         name=f"{c['code']} {c['name_zh'] or c['name_en'] or ''}".strip(), isCodable="true",
                         color=PALETTE[pos % len(PALETTE)])
                desc = "\n".join(t for t in (c.get("definition_zh"), c.get("definition_en")) if t)
                if desc:
                    sub(el, "Description").text = desc

    variables = [("group", "grp", "Text")]
    if any(t["tenure_years"] is not None for t in transcripts):
        variables.append(("tenure_years", "tenure_years", "Float"))
    if any(t["branch"] for t in transcripts):
        variables.append(("branch", "branch", "Text"))
    if transcripts:
        var_el = sub(root, "Variables")
        for vname, _col, vtype in variables:
            sub(var_el, "Variable", guid=_guid("variable", vname), name=vname, typeOfVariable=vtype)
        cases = sub(root, "Cases")
        by_person: dict[str, list[dict]] = {}
        for t in transcripts:
            by_person.setdefault(t["interviewee"], []).append(t)
        for person, ts in by_person.items():
            case = sub(cases, "Case", guid=_guid("case", person), name=person)
            for vname, col, vtype in variables:
                value = ts[0][col]
                if value is None or value == "":
                    continue
                vv = sub(case, "VariableValue")
                sub(vv, "VariableRef", targetGUID=_guid("variable", vname))
                if vtype == "Float":
                    sub(vv, "FloatValue").text = format(float(value), "f").rstrip("0").rstrip(".") or "0"
                else:
                    sub(vv, "TextValue").text = str(value)
            for t in ts:
                sub(case, "SourceRef", targetGUID=_guid("source", t["sha256"]))

    files: dict[str, str] = {}
    by_transcript: dict[int, list[dict]] = {}
    for r in rows:
        by_transcript.setdefault(r["transcript_id"], []).append(r)
    info = store.passage_info() if marks else {}
    marks_of: dict[int, list[dict]] = {}
    for m in marks:
        marks_of.setdefault(info[m["passage_id"]]["transcript_id"], []).append(m)
    labels = {c.code: code_label(c) for c in comps}
    notes: list[tuple[str, dict, dict]] = []  # (note guid, mark, passage)
    if transcripts:
        sources = sub(root, "Sources")
        for t in transcripts:
            sguid = _guid("source", t["sha256"])
            title = t["title"] or t["interviewee"]
            files[f"sources/{sguid}.txt"] = t["text"]
            src = sub(sources, "TextSource", guid=sguid, name=title, plainTextPath=f"internal://{sguid}.txt")
            memo_of = {(m["passage_id"], m["coder"]): m for m in marks_of.get(t["id"], []) if m["memo"]}
            noted: set[tuple[int, str]] = set()
            for r in by_transcript.get(t["id"], []):
                key = f"{sguid}:{r['start']}:{r['end']}:{r['coder']}:{r['code']}"
                ucode = user_guid(r["coder"])
                when = _iso(r.get("created_at"))
                sel = sub(src, "PlainTextSelection", guid=_guid("selection", key),
                          name=f"{title} #{r['passage_ordinal']}",
                          startPosition=r["start"], endPosition=r["end"], creatingUser=ucode,
                          creationDateTime=when)
                if r["level"] is not None:
                    label = labels.get(r["code"], r["code"])
                    indicator = ""
                    if dictionary and r["code"] in dictionary.codes:
                        indicator = dictionary.get(r["code"]).indicator(r["level"])
                    sub(sel, "Description").text = (f"{label} level {r['level']}"
                                                    + (f": {indicator}" if indicator else ""))
                coding = sub(sel, "Coding", guid=_guid("coding", key), creatingUser=ucode, creationDateTime=when)
                sub(coding, "CodeRef", targetGUID=code_guid(r["code"]))
                mark = memo_of.get((r["passage_id"], r["coder"]))
                if mark is not None and (r["passage_id"], r["coder"]) not in noted:
                    # the memo's Note hangs on the coder's first coded selection of the passage
                    noted.add((r["passage_id"], r["coder"]))
                    sub(sel, "NoteRef", targetGUID=_guid("note", f"{sguid}:{r['start']}:{r['end']}:{r['coder']}"))
            for m in marks_of.get(t["id"], []):
                if not m["no_code"]:
                    continue
                p = info[m["passage_id"]]
                sel = sub(src, "PlainTextSelection",
                          guid=_guid("no-code", f"{sguid}:{p['start']}:{p['end']}:{m['coder']}"),
                          name=f"{title} #{p['ordinal']}", startPosition=p["start"], endPosition=p["end"],
                          creatingUser=user_guid(m["coder"]), creationDateTime=_iso(m.get("updated_at")))
                # no Coding: other tools take it for an uncoded selection (QualCoder: a note on the text)
                sub(sel, "Description").text = f"{NO_CODE_MARK} ({m['coder']} decided that this passage shows " \
                                               "no competency)"
            for (pid, coder), m in memo_of.items():
                # every memo hangs on its source too (QualCoder reads notes only there), the span in the Note
                p = info[pid]
                nguid = _guid("note", f"{sguid}:{p['start']}:{p['end']}:{coder}")
                sub(src, "NoteRef", targetGUID=nguid)
                notes.append((nguid, m, p))
    if notes:
        notes_el = sub(root, "Notes")
        for nguid, m, p in notes:
            note = sub(notes_el, "Note", guid=nguid, name=f"memo of {m['coder']} on {p['title'] or p['interviewee']} "
                       f"#{p['ordinal']}", creatingUser=user_guid(m["coder"]),
                       creationDateTime=_iso(m.get("updated_at")))
            sub(note, "PlainTextContent").text = m["memo"]
            # where in the source, as QualCoder writes the notes it hangs on a source
            sub(note, "PlainTextSelection", guid=_guid("note-selection", nguid), startPosition=p["start"],
                endPosition=p["end"])
    return _xml_bytes(root), files


def write_project(store, path, coders=None) -> Path:
    """Write the study in ``store`` as a REFI-QDA project (``.qdpx``) at ``path``; return the path.

    In: an open Store, the output path and optionally a list of coder names (default: all coders
    with a decision or a memo). Out: a zip holding ``project.qde`` and ``sources/<guid>.txt``
    (UTF-8, the stored transcript text, so selection offsets slice it exactly). Users are the
    coders; each interviewee is a Case with a ``group`` variable (and ``tenure_years``/``branch``
    when known); each coding is a PlainTextSelection over its passage with one Coding, its level
    in the selection's Description (``ACH 成就导向 level 3: ...``). A "no code" decision is a
    PlainTextSelection over the passage without a Coding, its Description starting
    :data:`NO_CODE_MARK` (other tools see an uncoded selection and code nothing). Each memo is a
    ``Note`` holding the whole memo (every line) and the passage's span as a
    PlainTextSelection, referenced by a ``NoteRef`` on its TextSource (as QualCoder writes and
    reads its notes on a text) and, when the coder coded the passage, by one on the coder's
    first coded selection of it too: one Note, never two copies. The same study gives the
    same bytes.

    Raises:
        OutputError: ``path`` may not be written.
        RefiError: a named coder has no decisions, or the file system refuses the write.
    """
    import io
    import zipfile

    path = _checked_output(path)
    xml, files = project_xml(store, coders)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        entries = [("project.qde", xml)] + [(name, files[name].encode("utf-8")) for name in sorted(files)]
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, data)
    _write_atomic(path, buf.getvalue())
    return path


# -- validation ------------------------------------------------------------------------------
_SCHEMAS: dict = {}


def validate(xml_bytes: bytes, kind: str, xsd_dir) -> list[str]:
    """Check ``xml_bytes`` against the official REFI-QDA schema and return the problems.

    In: the XML, ``kind`` ``"codebook"`` (Codebook.xsd) or ``"project"`` (Project.xsd), and the
    folder holding the XSDs. Out: one line per problem (``line N: message``); empty when valid.

    Raises:
        RefiError: an unknown kind, a missing XSD, or XML that is not well formed.
    """
    from lxml import etree

    names = {"codebook": "Codebook.xsd", "project": "Project.xsd"}
    if kind not in names:
        raise RefiError(f"unknown REFI-QDA kind {kind!r} (codebook or project)")
    xsd = Path(xsd_dir) / names[kind]
    key = str(xsd.resolve())
    if key not in _SCHEMAS:
        try:
            _SCHEMAS[key] = etree.XMLSchema(etree.parse(str(xsd)))
        except (OSError, etree.XMLSchemaParseError, etree.XMLSyntaxError) as exc:
            raise RefiError(f"{xsd}: cannot load schema ({str(exc).splitlines()[0]})") from None
    schema = _SCHEMAS[key]
    doc = _parse_xml(xml_bytes, f"<{kind}>")
    if schema.validate(doc):
        return []
    return [f"line {e.line}: {e.message}" for e in schema.error_log]


# -- reading ---------------------------------------------------------------------------------
def _parse_xml(data: bytes, name: str):
    """Parse ``data`` safely (no DTDs, entities or network); one-line RefiError when broken."""
    from lxml import etree

    if not data or not data.strip():
        raise RefiError(f"{name}: empty file, not REFI-QDA XML")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                             remove_comments=True)
    try:
        return etree.fromstring(data, parser).getroottree()
    except etree.XMLSyntaxError as exc:
        line, col = exc.position if exc.position else (exc.lineno, 0)
        msg = (exc.msg or str(exc)).splitlines()[0]
        msg = re.sub(r",\s*line \d+, column \d+$", "", msg.strip())
        msg = re.sub(r"\s+line (\d+)$", r" (opened at line \1)", msg)
        raise RefiError(f"{name}: not well-formed XML at line {line}, column {col}: {msg}") from None


def _local(el) -> str:
    tag = el.tag
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


def _children(el, name: str) -> list:
    return [c for c in el if _local(c) == name]


def _child(el, name: str):
    for c in el:
        if _local(c) == name:
            return c
    return None


def _norm_guid(value) -> str:
    return (value or "").strip().strip("{}").lower()


def _codes_tree(codes_el) -> list[dict]:
    """Every Code under a Codes element, depth first (parents before children), as dicts with
    guid, name, description, codable, color and path (names from the top)."""
    out: list[dict] = []

    def walk(parent, path):
        for code in _children(parent, "Code"):
            name = (code.get("name") or "").strip()
            desc_el = _child(code, "Description")
            codable = (code.get("isCodable") or "true").strip().lower() not in ("false", "0")
            out.append({"guid": _norm_guid(code.get("guid")), "name": name,
                        "description": (desc_el.text or "").strip() if desc_el is not None else "",
                        "codable": codable, "color": code.get("color") or "", "path": path + [name]})
            walk(code, path + [name])

    walk(codes_el, [])
    return out


def _split_lang(text: str) -> tuple[str, str]:
    """Split ``text`` into (Chinese part, other part) by lines."""
    zh, other = [], []
    for line in text.splitlines():
        if line.strip():
            (zh if _CJK.search(line) else other).append(line.strip())
    return "\n".join(zh), "\n".join(other)


def _code_key(name: str) -> tuple[str, str]:
    """(code key or '', rest of the name) from a code name like ``"ACH 成就导向"``."""
    parts = name.split(None, 1)
    if parts and re.fullmatch(r"[A-Z][A-Z0-9_.\-]{0,15}", parts[0]):
        return parts[0], parts[1].strip() if len(parts) > 1 else ""
    return "", name


def codebook_yaml(codes: list[dict], title: str) -> str:
    """Dictionary YAML text for the flattened ``codes`` of a codebook (see :func:`read_codebook`)."""
    import yaml

    keys = [_code_key(c["name"]) for c in codes]
    used: set[str] = set()
    chosen: list[str | None] = []
    for key, _rest in keys:
        if key and key not in used:
            used.add(key)
            chosen.append(key)
        else:
            chosen.append(None)
    counter = 0
    names = [c["name"] for c in codes]
    comps = []
    for c, (_key, rest), pick in zip(codes, keys, chosen):
        if pick is None:
            counter += 1
            while f"C{counter}" in used:
                counter += 1
            pick = f"C{counter}"
            used.add(pick)
            rest = c["name"]
        label = rest
        if names.count(c["name"]) > 1 and len(c["path"]) > 1:
            label = " / ".join(c["path"])
        label = label or c["name"] or pick
        entry: dict = {"code": pick}
        if _CJK.search(label):
            entry["name_zh"] = label
        else:
            entry["name_en"] = label
        zh, other = _split_lang(c["description"])
        if zh:
            entry["definition_zh"] = zh
        if other:
            entry["definition_en"] = other
        level = {"level": 1}
        indicator = c["description"].strip() or "present"
        level["indicator_zh" if _CJK.search(indicator) else "indicator_en"] = indicator
        entry["levels"] = [level]
        comps.append(entry)
    doc = {"name": title, "version": 1, "competencies": comps}
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=1000)


def read_codebook(path):
    """Read a REFI-QDA codebook (``.qdc``; a ``.qde``/``.qdpx`` project's codebook works too)
    and return it as a beicoder :class:`~beicoder.core.dictionary.Dictionary`.

    Codes nested in other codes are flattened (parents first); codes marked ``isCodable="false"``
    are left out. A code's key is the first word of its name when that is upper-case like
    ``ACH``, otherwise ``C1``, ``C2``...; the rest of the name becomes ``name_zh`` (when it has
    Chinese) or ``name_en``; the Description becomes the definition and the indicator of a single
    level 1 (``"present"`` when there is none). No keywords. Colours, sets, namespaces other than
    ``urn:QDA-XML:codebook:1.0`` and ``xsi:schemaLocation`` are ignored.

    Raises:
        RefiError: unreadable or not well-formed XML (names the file and line), or no codes.
        DictionaryError: the codes do not make a valid dictionary.
    """
    from .dictionary import parse_dictionary

    path = Path(path)
    if path.suffix.lower() == ".qdpx":
        data, zf = _read_qde(path)
        if zf is not None:
            zf.close()
    else:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise RefiError(f"{path}: cannot read ({exc.strerror})") from None
    root = _parse_xml(data, path.name).getroot()
    if _local(root) == "Project":
        root = _child(root, "CodeBook")
        if root is None:
            raise RefiError(f"{path.name}: project has no CodeBook")
    elif _local(root) != "CodeBook":
        raise RefiError(f"{path.name}: not a REFI-QDA codebook (root element is {_local(root)}, not CodeBook)")
    codes_el = _child(root, "Codes")
    codes = [c for c in _codes_tree(codes_el) if c["codable"]] if codes_el is not None else []
    if not codes:
        raise RefiError(f"{path.name}: codebook has no codes")
    title = f"{path.stem} ({root.get('origin')})" if root.get("origin") else path.stem
    return parse_dictionary(codebook_yaml(codes, title), str(path))


def write_codebook_dictionary(codebook, out):
    """Turn the REFI-QDA codebook at ``codebook`` (``.qdc``, or a project's codebook) into a
    competency dictionary file at ``out`` (``.yaml``/``.yml``), to be given levels and keywords.
    Returns the :class:`~beicoder.core.dictionary.Dictionary` written (as :func:`read_codebook`
    reads it).

    The file is written through a temporary name and then loaded back as a dictionary; when it
    does not load, it is removed. An existing ``out`` is never overwritten.

    Raises:
        OutputError: ``out`` exists, is a folder, or its folder does not exist.
        RefiError: the codebook cannot be read (see :func:`read_codebook`), ``out`` does not end
            in ``.yaml``/``.yml``, or the file system refuses the write.
        DictionaryError: the codes do not make a valid dictionary.
    """
    from .dictionary import load_dictionary
    from .export import OutputError

    out = _checked_output(out)
    if out.suffix.lower() not in (".yaml", ".yml"):
        raise RefiError(f"{out}: a dictionary is a YAML file; give a name ending in .yaml")
    if out.exists():
        raise OutputError(f"{out}: exists; move it away or give another file name")
    dictionary = read_codebook(codebook)
    _write_atomic(out, dictionary.yaml_text.encode("utf-8"))
    try:
        load_dictionary(out)  # the file written loads as a dictionary
    except BaseException:
        out.unlink(missing_ok=True)
        raise
    return dictionary


def _read_qde(path: Path):
    """(project.qde bytes, open ZipFile or None) of a ``.qdpx`` (or a bare ``.qde``)."""
    import zipfile

    if path.suffix.lower() == ".qde":
        try:
            return path.read_bytes(), None
        except OSError as exc:
            raise RefiError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        zf = zipfile.ZipFile(path)
    except FileNotFoundError:
        raise RefiError(f"{path}: no such file") from None
    except OSError as exc:
        raise RefiError(f"{path}: cannot read ({exc.strerror})") from None
    except zipfile.BadZipFile:
        raise RefiError(f"{path.name}: not a zip file (a .qdpx project is a zip holding project.qde)") from None
    members = [n for n in zf.namelist() if PurePosixPath(n).name.lower() == "project.qde"]
    if not members:
        zf.close()
        raise RefiError(f"{path.name}: no project.qde in the zip; not a REFI-QDA project")
    members.sort(key=lambda n: n.count("/"))
    try:
        return zf.read(members[0]), zf
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        zf.close()
        why = str(exc).splitlines()[0] if str(exc) else "read error"
        raise RefiError(f"{path.name}: damaged zip ({why})") from None


def _source_text(zf, src, project_path: Path) -> str | None:
    """The plain text of a TextSource: PlainTextContent, or its plainTextPath inside the zip
    (``internal://x.txt`` or a bare ``x.txt`` -> ``sources/x.txt``, any case of ``sources``)."""
    import zipfile

    content = _child(src, "PlainTextContent")
    if content is not None:
        return content.text or ""
    ref = (src.get("plainTextPath") or "").strip()
    if not ref or zf is None:
        return None
    if ref.startswith("internal://"):
        ref = ref[len("internal://"):]
    elif "://" in ref:  # absolute:// or relative:// files outside the project
        return None
    ref = ref.lstrip("/")
    by_lower = {n.lower(): n for n in zf.namelist()}
    for cand in (f"sources/{ref}", ref):
        member = by_lower.get(cand.lower())
        if member:
            try:
                raw = zf.read(member)
            except (zipfile.BadZipFile, OSError, EOFError):
                raise RefiError(f"{project_path.name}: damaged zip member {member}") from None
            try:
                return raw.decode("utf-8-sig")
            except UnicodeDecodeError:
                raise RefiError(f"{project_path.name}: {member} is not UTF-8 text") from None
    return None


def read_project(path) -> dict:
    """Read a REFI-QDA project (``.qdpx`` zip, or a bare ``project.qde``) into plain data.

    Out: a dict with
      ``name``, ``origin``;
      ``users``: ``[{"guid", "name"}]``;
      ``codes``: ``[{"guid", "name", "description", "codable", "color", "path"}]`` (flattened);
      ``sources``: ``[{"guid", "name", "text"}]`` (text None when not in the zip);
      ``cases``: ``[{"guid", "name", "sources": [source names], "variables": {name: value}}]``;
      ``codings``: ``[{"source", "start", "end", "code", "user", "level", "source_guid", "code_guid"}]``
      in file order
      (``user`` None when unknown, ``level`` from a selection Description "... level N ...",
      else None; a coding of a whole source has start 0 and end the text's length);
      ``no_codes``: ``[{"source", "source_guid", "start", "end", "user"}]``, the uncoded
      selections beicoder writes for "no code" decisions (Description :data:`NO_CODE_MARK`);
      ``memos``: ``[{"source", "source_guid", "start", "end", "user", "text"}]``: every ``Note``
      referenced by a ``NoteRef`` on a selection or its Coding (that selection's span), or on a
      TextSource with a PlainTextSelection in the Note (QualCoder's notes on a text), and the
      Description of any other uncoded selection (MAXQDA's memos); ``user`` is the Note's;
      ``notes_left_out``: reason -> number of Notes that are no memo on a stretch of text.
    A source's name is its ``name`` attribute, else its file name without extension, else its GUID;
    a user's name is its ``name``, else ``id``, else GUID; an unknown code GUID is kept as the name.

    Raises:
        RefiError: not a zip, no project.qde, broken XML, or a root that is not Project.
    """
    path = Path(path)
    data, zf = _read_qde(path)
    try:
        root = _parse_xml(data, path.name).getroot()
        if _local(root) != "Project":
            raise RefiError(f"{path.name}: not a REFI-QDA project (root element is {_local(root)}, not Project)")
        users = []
        users_el = _child(root, "Users")
        for u in _children(users_el, "User") if users_el is not None else []:
            g = _norm_guid(u.get("guid"))
            users.append({"guid": g, "name": u.get("name") or u.get("id") or g})
        user_names = {u["guid"]: u["name"] for u in users}
        codes = []
        book = _child(root, "CodeBook")
        if book is not None and _child(book, "Codes") is not None:
            codes = _codes_tree(_child(book, "Codes"))
        code_names = {c["guid"]: c["name"] for c in codes}
        sources, codings, no_codes, memos, note_refs = [], [], [], [], []
        source_names: dict[str, str] = {}
        sources_el = _child(root, "Sources")
        for src in _children(sources_el, "TextSource") if sources_el is not None else []:
            g = _norm_guid(src.get("guid"))
            ref = src.get("plainTextPath") or ""
            name = src.get("name") or (PurePosixPath(ref.split("://")[-1]).stem if ref else "") or g
            text = _source_text(zf, src, path)
            sources.append({"guid": g, "name": name, "text": text})
            source_names[g] = name
            src_user = _norm_guid(src.get("creatingUser"))

            def coding(c, start, end, sel_user, level, name=name, g=g):  # bound now, called in this iteration
                ref_el = _child(c, "CodeRef")
                if ref_el is None:
                    return
                cg = _norm_guid(ref_el.get("targetGUID"))
                ug = _norm_guid(c.get("creatingUser")) or sel_user
                codings.append({"source": name, "start": start, "end": end, "code": code_names.get(cg, cg),
                                "user": user_names.get(ug, ug or None), "level": level,
                                "source_guid": g, "code_guid": cg})

            for sel in _children(src, "PlainTextSelection"):
                try:
                    start, end = int(sel.get("startPosition")), int(sel.get("endPosition"))
                except (TypeError, ValueError):
                    continue
                desc = _child(sel, "Description")
                desc_text = (desc.text or "").strip() if desc is not None else ""
                m = _LEVEL.search(desc_text)
                sel_user = _norm_guid(sel.get("creatingUser")) or _norm_guid(sel.get("modifyingUser"))
                where = {"source": name, "source_guid": g, "start": start, "end": end,
                         "user": user_names.get(sel_user, sel_user or None)}
                sel_codings = _children(sel, "Coding")
                for c in sel_codings:
                    coding(c, start, end, sel_user, int(m.group(1)) if m else None)
                if not sel_codings and desc_text.startswith(NO_CODE_MARK):
                    no_codes.append(where)
                elif not sel_codings and desc_text:  # an uncoded selection's description: a memo (MAXQDA)
                    memos.append({**where, "text": desc_text})
                for holder in [sel, *sel_codings]:
                    for nr in _children(holder, "NoteRef"):
                        note_refs.append({**where, "note": _norm_guid(nr.get("targetGUID"))})
            for c in _children(src, "Coding"):
                coding(c, 0, len(text or ""), src_user, None)
            for nr in _children(src, "NoteRef"):
                note_refs.append({"source": name, "source_guid": g, "start": None, "end": None,
                                  "user": user_names.get(src_user, src_user or None),
                                  "note": _norm_guid(nr.get("targetGUID"))})
        notes: dict[str, dict] = {}
        notes_el = _child(root, "Notes")
        for note in _children(notes_el, "Note") if notes_el is not None else []:
            ng = _norm_guid(note.get("guid"))
            ug = _norm_guid(note.get("creatingUser")) or _norm_guid(note.get("modifyingUser"))
            spans = []
            for sel in _children(note, "PlainTextSelection"):
                try:
                    spans.append((int(sel.get("startPosition")), int(sel.get("endPosition"))))
                except (TypeError, ValueError):
                    continue
            notes[ng] = {"text": _source_text(zf, note, path), "user": user_names.get(ug, ug or None) if ug else None,
                         "spans": spans}
        left_out = {"on a whole source": 0, "not on a text (journals, or notes on codes or cases)": 0,
                    "empty": 0}
        placed_notes: set[tuple[str, str]] = set()
        for r in note_refs:
            note = notes.get(r["note"])
            if note is None or (r["note"], r["source_guid"]) in placed_notes:
                continue
            placed_notes.add((r["note"], r["source_guid"]))
            body = (note["text"] or "").strip()
            if not body:
                left_out["empty"] += 1
                continue
            spans = [(r["start"], r["end"])] if r["start"] is not None else note["spans"]
            if not spans:
                left_out["on a whole source"] += 1
                continue
            for start, end in spans:
                memos.append({"source": r["source"], "source_guid": r["source_guid"], "start": start, "end": end,
                              "user": note["user"] or r["user"], "text": body})
        referenced = {n for n, _ in placed_notes}
        left_out["not on a text (journals, or notes on codes or cases)"] = sum(1 for n in notes if n not in referenced)
        variables = {}
        vars_el = _child(root, "Variables")
        for v in _children(vars_el, "Variable") if vars_el is not None else []:
            variables[_norm_guid(v.get("guid"))] = v.get("name") or ""
        cases = []
        cases_el = _child(root, "Cases")
        for case in _children(cases_el, "Case") if cases_el is not None else []:
            values = {}
            for vv in _children(case, "VariableValue"):
                ref_el = _child(vv, "VariableRef")
                vals = [c for c in vv if _local(c).endswith("Value")]
                if ref_el is not None and vals:
                    vg = _norm_guid(ref_el.get("targetGUID"))
                    values[variables.get(vg, vg)] = vals[0].text
            cases.append({"guid": _norm_guid(case.get("guid")), "name": case.get("name") or "",
                          "sources": [source_names.get(_norm_guid(s.get("targetGUID")), _norm_guid(s.get("targetGUID")))
                                      for s in _children(case, "SourceRef")],
                          "variables": values})
        return {"name": root.get("name") or "", "origin": root.get("origin") or "", "users": users,
                "codes": codes, "sources": sources, "cases": cases, "codings": codings, "no_codes": no_codes,
                "memos": memos, "notes_left_out": {k: v for k, v in left_out.items() if v}}
    finally:
        if zf is not None:
            zf.close()


# -- importing a project into a study ---------------------------------------------------------
from dataclasses import dataclass, field  # noqa: E402


@dataclass
class ProjectImport:
    """What :func:`import_project` did.

    ``sources``: one dict per TextSource (name, interviewee, status ``imported``/``unchanged``/
    ``skipped``, passages, message); ``placed``: project codings placed on passages, per coder;
    ``written``: coding rows added or changed in the study; ``skipped_codes``: code name ->
    number of codings skipped because the study's dictionary has no such code; ``unplaced``:
    codings whose selection overlaps no passage; ``levels_dropped``: levels outside the code's
    scale (the coding is kept without level); ``dictionary``: ``"study"``, ``"given"``,
    ``"default"`` or ``"codebook"`` (built from the project's codebook); ``no_code``: "no code"
    decisions written; ``memos``: passage memos set or extended from the project's Notes;
    ``memos_unplaced``: notes on text outside any passage; ``no_code_conflicts``: no-code
    decisions left out because the coder also coded the passage; ``notes``: one-line notes.
    """

    project: str
    sources: list[dict] = field(default_factory=list)
    placed: dict[str, int] = field(default_factory=dict)
    written: int = 0
    skipped_codes: dict[str, int] = field(default_factory=dict)
    unplaced: int = 0
    levels_dropped: int = 0
    dictionary: str = "study"
    notes: list[str] = field(default_factory=list)
    no_code: int = 0
    memos: int = 0
    memos_unplaced: int = 0
    no_code_conflicts: int = 0

    @property
    def codings(self) -> int:
        return sum(self.placed.values())


def _normalized(text: str) -> tuple[str, list[int]]:
    """``text`` with CRLF/CR turned into LF and a leading BOM dropped, as transcripts are stored,
    and the sorted original positions of the characters removed (to shift selection offsets)."""
    removed = []
    if text.startswith("\ufeff"):
        removed.append(0)
    for m in re.finditer(r"\r\n", text):
        removed.append(m.start())
    out = text[1:] if text.startswith("\ufeff") else text
    return out.replace("\r\n", "\n").replace("\r", "\n"), removed


def _shift(offset: int, removed: list[int]) -> int:
    import bisect

    return offset - bisect.bisect_left(removed, offset)


def place_selection(start: int, end: int, spans) -> list[int]:
    """Indexes of the passages (``spans``: (start, end) pairs in order) a selection maps to.

    The rule: a selection maps to every passage it covers at least half of (a selection equal
    to a passage covers all of it); when it covers no passage that much, it maps to the one
    passage it overlaps most (the first on a tie), so a sentence coded in a QDA tool lands in
    the passage holding it; a selection that overlaps no passage maps to nothing.
    """
    overlaps = [max(0, min(end, b) - max(start, a)) for a, b in spans]
    chosen = [i for i, (o, (a, b)) in enumerate(zip(overlaps, spans)) if o > 0 and 2 * o >= (b - a)]
    if chosen:
        return chosen
    best = max(range(len(spans)), key=lambda i: (overlaps[i], -i), default=None)
    return [best] if best is not None and overlaps[best] > 0 else []


def _codebook_dictionary(codable: list[dict], title: str):
    from .dictionary import parse_dictionary

    return parse_dictionary(codebook_yaml(codable, title), title)


def _parse_source(text: str, name: str, project: Path, sha: str, selections: list[tuple[int, int]], roles=None):
    """Parse a source's text like a transcript file (``roles``: the dictionary's speaker
    labels); turns of other speakers that hold coded text become codable (role interviewee)
    so that every coded stretch lies in a passage."""
    from .ingest import ParsedTranscript, cut_passages, parse_text

    parsed = parse_text(text, project / name, "utf-8", sha, roles=roles)
    spans = [(p.start, p.end) for p in parsed.passages]
    loose = [(s, e) for s, e in selections if not place_selection(s, e, spans)]
    promoted = 0
    for t in parsed.turns:
        if t.role != "interviewee" and t.end > t.start and any(min(e, t.end) > max(s, t.start) for s, e in loose):
            t.role = "interviewee"
            promoted += 1
    if promoted:
        parsed = ParsedTranscript(parsed.path, text, parsed.encoding, sha, parsed.turns,
                                  cut_passages(text, parsed.turns), parsed.interviewee_speaker,
                                  parsed.warnings
                                  + [f"{promoted} turn(s) of other speakers hold codings and were made codable"])
    return parsed


def import_project(store, path, dictionary=None, default_dictionary=None) -> ProjectImport:
    """Import a REFI-QDA project (``.qdpx``) into the study in ``store``, in ONE transaction.

    Sources: each TextSource with text becomes a transcript, parsed like a transcript file
    (speaker turns, passages); its interviewee is the name of the Case that references it, else
    the source name; its title is the source name; the Case's ``group``, ``tenure_years`` and
    ``branch`` variables go to the interviewee. The text is stored with LF newlines; its sha256
    is that of its UTF-8 bytes. A source whose text (or hash) is already in the study is not
    added again; its codings are placed on the stored passages. Turns of non-interviewee
    speakers that hold codings are made codable (a meeting or focus group coded in a QDA tool).

    Codes: the dictionary is ``dictionary`` when given (it replaces the study's), else the
    study's, else ``default_dictionary`` when it knows the key of every codable code, else one
    built from the project's codebook (as :func:`read_codebook` does). A project code maps to
    the dictionary code whose key is the first word of its name (``"ACH 成就导向"`` -> ``ACH``);
    codings of other codes are counted in ``skipped_codes`` and left out.

    Codings: each selection is placed with :func:`place_selection`, stored for its user's
    name as coder (``unknown`` when the project names none), with the level from the
    selection's Description when it is inside the code's scale. Several selections landing on
    one passage with one code by one coder make one coding (with the highest level given).
    "No code" decisions (beicoder's uncoded selections, see :func:`write_project`) are
    placed alike, unless the same coder coded the passage. Memos: every Note on a stretch of
    text (see :func:`read_project`) becomes the memo of the passages it covers, for its
    user; a passage with a memo already keeps it and gets the note after a blank line (once).
    Everything is written through the store's audited path, one action per coder (origin
    ``qdpx``), which ``beicoder undo --coder NAME`` takes back whole. Importing the same
    project twice changes nothing.

    Raises:
        RefiError: unreadable project, no source with text, no codebook and no dictionary, or
            a source whose interviewee already has a transcript of that title with other text.
        StoreError: a given dictionary drops codes that have codings.
    """
    import hashlib

    from .analysis import AnalysisError, normalize_group
    from .store import coder_identity, normalize_coder

    path = Path(path)
    project = read_project(path)
    report = ProjectImport(project=path.name)
    codable = [c for c in project["codes"] if c["codable"]]
    current = store.dictionary()
    built = None
    title = f"{path.stem} ({project['origin']})" if project["origin"] else path.stem
    if dictionary is not None:
        report.dictionary = "given"
    elif current is not None:
        dictionary = current
    elif default_dictionary is not None and (
            not codable or all(_code_key(c["name"])[0] in default_dictionary.codes for c in codable)):
        dictionary, report.dictionary = default_dictionary, "default"
    elif codable:
        built = _codebook_dictionary(codable, title)
        dictionary, report.dictionary = built, "codebook"
    else:
        raise RefiError(f"{path.name}: the project has no codebook and the study no dictionary; "
                        "give one with --dictionary")
    # project code GUID -> dictionary code
    code_map: dict[str, str] = {}
    if built is not None:
        for c, comp in zip(codable, built.competencies):
            code_map[c["guid"]] = comp.code
    else:
        # by key; else (a study whose dictionary was built from this codebook before) by the
        # key and name the codebook gives the code
        try:
            derived = list(zip(codable, _codebook_dictionary(codable, title).competencies)) if codable else []
        except BeicoderError:
            derived = []
        by_guid = {c["guid"]: comp for c, comp in derived}
        for c in codable:
            key = _code_key(c["name"])[0] or c["name"].strip()
            comp = by_guid.get(c["guid"])
            if key in dictionary.codes:
                code_map[c["guid"]] = key
            elif comp is not None and comp.code in dictionary.codes and \
                    (dictionary.get(comp.code).name_zh, dictionary.get(comp.code).name_en) \
                    == (comp.name_zh, comp.name_en):
                code_map[c["guid"]] = comp.code
    scales = {c.code: (c.min_level, c.max_level) for c in dictionary.competencies}
    from .ingest import speaker_roles

    roles = speaker_roles(dict(dictionary.speaker_labels))

    case_of: dict[str, dict] = {}
    for case in project["cases"]:
        for sname in case["sources"]:
            case_of.setdefault(sname, case)
    by_source: dict[str, list[dict]] = {}
    for c in project["codings"]:
        by_source.setdefault(c["source_guid"], []).append(c)
    no_codes_of: dict[str, list[dict]] = {}
    for c in project["no_codes"]:
        no_codes_of.setdefault(c["source_guid"], []).append(c)
    memos_of: dict[str, list[dict]] = {}
    for c in project["memos"]:
        memos_of.setdefault(c["source_guid"], []).append(c)
    no_code: dict[tuple[int, str], str] = {}  # (passage id, coder identity) -> coder
    memos: dict[tuple[int, str], tuple[str, list[str]]] = {}  # (passage id, identity) -> (coder, texts)

    decisions: dict[tuple[int, str, str], int | None] = {}  # (passage id, coder, code) -> level
    with store.write():
        if report.dictionary in ("given", "default", "codebook"):
            store.set_dictionary(dictionary)
        for src in project["sources"]:
            name, text = src["name"], src["text"]
            entry = {"name": name, "interviewee": "", "status": "skipped", "passages": 0, "message": ""}
            report.sources.append(entry)
            codings = by_source.get(src["guid"], [])
            if text is None or not text.strip():
                entry["message"] = ("its text is not in the project" if text is None else "its plain text is empty") + \
                    (f"; {len(codings)} coding(s) left out" if codings else "")
                continue
            text, removed = _normalized(text)
            sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
            case = case_of.get(name)
            iv = (case["name"] if case and case["name"] else name).strip() or name
            known = store.find_transcript(sha, text)
            if known:
                tid = known["id"]
                entry.update(interviewee=known["interviewee"], status="unchanged",
                             message=f"already in the study as {known['interviewee']}")
            else:
                if store.transcripts_of(iv, title=name):
                    raise RefiError(f"{path.name}: source {name}: interviewee {iv} already has a transcript titled "
                                    f"{name} with other text; nothing imported")
                sels = [(_shift(c["start"], removed), _shift(c["end"], removed)) for c in codings]
                parsed = _parse_source(text, name, path, sha, sels, roles)
                tid = store.add_transcript(parsed, iv, title=name)
                entry.update(interviewee=iv, status="imported", passages=len(parsed.passages),
                             message="; ".join(parsed.warnings))
            if case:
                row = {"id": entry["interviewee"]}
                variables = case["variables"]
                try:
                    if normalize_group(variables.get("group")):
                        row["grp"] = variables["group"].strip()
                except AnalysisError as exc:
                    report.notes.append(f"case {case['name']}: {exc}; group left out")
                try:
                    if variables.get("tenure_years") not in (None, ""):
                        row["tenure_years"] = float(variables["tenure_years"])
                except ValueError:
                    report.notes.append(
                        f"case {case['name']}: tenure_years {variables['tenure_years']!r} is not a number")
                if (variables.get("branch") or "").strip():
                    row["branch"] = variables["branch"].strip()
                if len(row) > 1:
                    store.upsert_interviewees([row])
            passages = store.passages(tid)
            spans = [(p.start, p.end) for p in passages]
            for c in codings:
                code = code_map.get(c["code_guid"])
                if code is None:
                    report.skipped_codes[c["code"]] = report.skipped_codes.get(c["code"], 0) + 1
                    continue
                hits = place_selection(_shift(c["start"], removed), _shift(c["end"], removed), spans)
                if not hits:
                    report.unplaced += 1
                    continue
                coder = normalize_coder(c["user"] or "unknown")
                level = c["level"]
                if level is not None and not scales[code][0] <= level <= scales[code][1]:
                    level = None
                    report.levels_dropped += 1
                report.placed[coder] = report.placed.get(coder, 0) + 1
                for i in hits:
                    key = (passages[i].id, coder, code)
                    # several selections on one passage make one coding, with the highest level given
                    if key not in decisions or (
                            level is not None and (decisions[key] is None or level > decisions[key])):
                        decisions[key] = level
            for c in no_codes_of.get(src["guid"], []):
                coder = normalize_coder(c["user"] or "unknown")
                for i in place_selection(_shift(c["start"], removed), _shift(c["end"], removed), spans):
                    no_code.setdefault((passages[i].id, coder_identity(coder)), coder)
            for c in memos_of.get(src["guid"], []):
                hits = place_selection(_shift(c["start"], removed), _shift(c["end"], removed), spans)
                if not hits:
                    report.memos_unplaced += 1
                coder = normalize_coder(c["user"] or "unknown")
                for i in hits:
                    texts = memos.setdefault((passages[i].id, coder_identity(coder)), (coder, []))[1]
                    if c["text"] not in texts:
                        texts.append(c["text"])
        coded = {(pid, coder_identity(coder)) for pid, coder, _ in decisions}
        rows = [(pid, coder, code, level) for (pid, coder, code), level in decisions.items()]
        for key, coder in sorted(no_code.items()):
            if key in coded:
                report.no_code_conflicts += 1  # the same coder coded the passage too: the codings win
            else:
                rows.append((key[0], coder, None, None))
        memo_rows = []
        for (pid, _), (coder, texts) in memos.items():
            memo = "\n\n".join(texts)
            mark = store.mark_for(pid, coder)
            old = (mark or {}).get("memo") or ""
            if old and memo in old:
                continue  # imported before
            memo_rows.append((pid, coder, f"{old}\n\n{memo}" if old else memo))
        counts = store.apply_decisions(rows, origin="qdpx", description=f"import {path.name}", memos=memo_rows)
        report.written = sum(c["added"] + c["changed"] for c in counts.values())
        report.no_code = sum(c["no_code"] for c in counts.values())
        report.memos = sum(c["memos"] for c in counts.values())
        for reason, n in project["notes_left_out"].items():
            report.notes.append(f"{n} note(s) left out: {reason}")
        if report.memos_unplaced:
            report.notes.append(f"{report.memos_unplaced} note(s) on text outside any passage left out")
        if report.no_code_conflicts:
            report.notes.append(f"{report.no_code_conflicts} no-code decision(s) left out: the same coder also "
                                "coded the passage")
        if not any(s["status"] != "skipped" for s in report.sources):
            reasons = "; ".join(f"{s['name']}: {s['message']}" for s in report.sources) or "it has no text sources"
            raise RefiError(f"{path.name}: no text source to import ({reasons}); nothing imported "
                           "(export the project from its QDA tool with plain-text sources)")
    return report
