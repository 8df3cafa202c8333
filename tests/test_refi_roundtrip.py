"""A REFI-QDA round trip keeps everything beicoder has (issue 14, point 8, and issue 12's memos):
codings with levels, "no code" decisions (uncoded selections other tools code nothing with)
and memos as Notes, multi-line and whole, with NoteRefs on the coded selection or the source;
other tools' Notes come back as memos. The exports validate against the official XSDs."""

from __future__ import annotations

import shutil
import sqlite3
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree

from beicoder.cli import main
from beicoder.core.export import export_study, import_codings
from beicoder.core.refi import NO_CODE_MARK, import_project, validate, write_project
from beicoder.core.store import Store

REPO = Path(__file__).resolve().parents[1]
XSD = REPO.parent / "shared" / "realdata" / "refi-qda-xsd"  # the official schemas, beside the repository
XSD = XSD if (XSD / "Project.xsd").is_file() else None
NS = {"q": "urn:QDA-XML:project:1.0"}
MEMO_CODED = "核实了三个月的流水。\n第二行：他的说法对不上。\n\n- 第四行以减号开头"
MEMO_NO_CODE = "没有胜任力表现，\n只是在介绍自己。"
MEMO_UNDECIDED = "还没决定：\n问一下督导。"


def decisions(db) -> list[tuple]:
    """Every decision and memo in the study at ``db``, by interviewee, passage ordinal and coder."""
    con = sqlite3.connect(db)
    try:
        codings = con.execute(
            """SELECT t.interviewee, p.ordinal, c.coder, c.code, c.level FROM codings c
               JOIN passages p ON p.id = c.passage_id JOIN transcripts t ON t.id = p.transcript_id
               ORDER BY 1, 2, 3, 4""").fetchall()
        marks = con.execute(
            """SELECT t.interviewee, p.ordinal, m.coder, m.no_code, m.memo FROM passage_marks m
               JOIN passages p ON p.id = m.passage_id JOIN transcripts t ON t.id = p.transcript_id
               WHERE m.no_code = 1 OR m.memo IS NOT NULL ORDER BY 1, 2, 3""").fetchall()
    finally:
        con.close()
    return codings + marks


@pytest.fixture
def full_study(tiny_study):
    with Store(tiny_study) as store:
        ps = store.passages()  # A01 #1, A01 #2, B01 #1, B01 #2
        store.toggle_code(ps[0].id, "王老师", "INFO")
        store.set_level(ps[0].id, "王老师", "INFO", 4)
        store.toggle_code(ps[0].id, "王老师", "ACH")  # no level
        store.set_memo(ps[0].id, "王老师", MEMO_CODED)
        store.mark_no_code(ps[1].id, "王老师")
        store.set_memo(ps[1].id, "王老师", MEMO_NO_CODE)
        store.set_memo(ps[2].id, "王老师", MEMO_UNDECIDED)  # undecided
        store.toggle_code(ps[0].id, "Li", "INFO")
        store.set_level(ps[0].id, "Li", "INFO", 3)
        store.mark_no_code(ps[3].id, "Li")
        store.set_memo(ps[3].id, "memo only", "a coder with nothing but a memo")
    return tiny_study


def _fresh_copy(study: Path, tmp_path: Path) -> Path:
    """The same transcripts without any decision: the study before anyone coded."""
    empty = tmp_path / "empty.db"
    shutil.copy(study, empty)
    con = sqlite3.connect(empty)
    for table in ("audit", "actions", "codings", "passage_marks", "sessions", "coders"):
        con.execute(f"DELETE FROM {table}")
    con.commit()
    con.close()
    return empty


def test_qdpx_round_trip_keeps_levels_no_code_and_memos(full_study, tmp_path):
    out = tmp_path / "study.qdpx"
    result = CliRunner().invoke(main, ["export", "--format", "qdpx", "--out", str(out), "--db", str(full_study)])
    assert result.exit_code == 0 and "(2 sources, 3 codings, 2 no-code decisions, 4 memos as Notes)" in result.stdout
    before = decisions(full_study)
    # into a new study made from the project alone
    fresh = tmp_path / "fresh.db"
    back = CliRunner().invoke(main, ["import", str(out), "--db", str(fresh)])
    assert back.exit_code == 0, back.output
    assert "2 no-code decisions and 4 memos" in back.stdout
    assert decisions(fresh) == before
    # into a copy of the study before coding: the same rows, and a second import changes nothing
    empty = _fresh_copy(full_study, tmp_path)
    with Store(empty) as store:
        first = import_project(store, out)
        assert (first.no_code, first.memos, first.notes) == (2, 4, [])
        again = import_project(store, out)
        assert (again.written, again.no_code, again.memos) == (0, 0, 0)
    assert decisions(empty) == before


def test_the_project_says_it_in_a_form_other_tools_ignore_safely(full_study, tmp_path):
    out = tmp_path / "study.qdpx"
    with Store(full_study) as store:
        write_project(store, out)
        ps = store.passages()
    xml = zipfile.ZipFile(out).read("project.qde")
    if XSD is not None:
        assert validate(xml, "project", XSD) == []
    root = etree.fromstring(xml)
    # a tool that reads codings sees the three real codings and nothing else
    assert len(root.findall(".//q:Coding", NS)) == 3
    uncoded = [s for s in root.iterfind(".//q:PlainTextSelection", NS)
               if s.find("q:Coding", NS) is None and s.getparent().tag.endswith("TextSource")]
    assert len(uncoded) == 2
    assert all(s.findtext("q:Description", namespaces=NS).startswith(NO_CODE_MARK) for s in uncoded)
    assert {int(s.get("startPosition")) for s in uncoded} == {ps[1].start, ps[3].start}
    notes = {n.get("guid"): n for n in root.iterfind("q:Notes/q:Note", NS)}
    texts = sorted(n.findtext("q:PlainTextContent", namespaces=NS) for n in notes.values())
    assert texts == sorted([MEMO_CODED, MEMO_NO_CODE, MEMO_UNDECIDED, "a coder with nothing but a memo"])
    # every memo hangs on its source with its span inside (QualCoder's way), a memo on a coded
    # passage on the coder's coded selection too: one Note either way
    on_selection = [r.get("targetGUID") for r in root.iterfind(".//q:PlainTextSelection/q:NoteRef", NS)]
    on_source = [r.get("targetGUID") for r in root.iterfind(".//q:TextSource/q:NoteRef", NS)]
    assert [notes[g].findtext("q:PlainTextContent", namespaces=NS) for g in on_selection] == [MEMO_CODED]
    assert sorted(on_source) == sorted(notes)
    placed = {notes[g].find("q:PlainTextSelection", NS).get("startPosition") for g in on_source}
    assert placed == {str(ps[0].start), str(ps[1].start), str(ps[2].start), str(ps[3].start)}
    users = {u.get("name") for u in root.iterfind("q:Users/q:User", NS)}
    assert users == {"王老师", "Li", "memo only"}


def test_csv_round_trip_keeps_memos_also_on_undecided_passages(full_study, tmp_path):
    out = tmp_path / "codings.csv"
    with Store(full_study) as store:
        done = export_study(store, "csv", out)
    assert (done.codings, done.no_code, done.memos) == (3, 2, 4)
    empty = _fresh_copy(full_study, tmp_path)
    with Store(empty) as store:
        loaded = import_codings(store, out)
        assert loaded.memos == 4 and sorted(loaded.coders) == ["Li", "memo only", "王老师"]
        assert import_codings(store, out).memos == 0  # loading again changes nothing
    assert decisions(empty) == decisions(full_study)


def _other_tools_project(path: Path, text: str, spans) -> Path:
    """A project as QualCoder, NVivo and MAXQDA write notes: a Note on the source with the span
    inside it (QualCoder), a NoteRef on a coded selection (NVivo), an uncoded selection with a
    Description (MAXQDA), and a journal note on nothing."""
    (a0, a1), (b0, b1) = spans
    u = "11111111-1111-1111-1111-111111111111"
    src = "22222222-2222-2222-2222-222222222222"
    code = "33333333-3333-3333-3333-333333333333"
    xml = f"""<?xml version="1.0" encoding="UTF-8"?>
<Project xmlns="urn:QDA-XML:project:1.0" name="other" origin="QualCoder 3.5">
 <Users><User guid="{u}" name="Amy"/></Users>
 <CodeBook><Codes><Code guid="{code}" name="INFO 信息搜集" isCodable="true"/></Codes></CodeBook>
 <Sources><TextSource guid="{src}" name="A01" plainTextPath="internal://{src}.txt">
  <PlainTextSelection guid="44444444-4444-4444-4444-444444444444" startPosition="{a0}" endPosition="{a1}"
   creatingUser="{u}"><Coding guid="55555555-5555-5555-5555-555555555555" creatingUser="{u}">
   <CodeRef targetGUID="{code}"/></Coding><NoteRef targetGUID="66666666-6666-6666-6666-666666666666"/>
  </PlainTextSelection>
  <PlainTextSelection guid="77777777-7777-7777-7777-777777777777" startPosition="{b0}" endPosition="{b1}"
   creatingUser="{u}"><Description>MAXQDA memo:
two lines</Description></PlainTextSelection>
  <NoteRef targetGUID="88888888-8888-8888-8888-888888888888"/>
 </TextSource></Sources>
 <Notes>
  <Note guid="66666666-6666-6666-6666-666666666666" creatingUser="{u}"><PlainTextContent>NVivo annotation
on the coded text</PlainTextContent></Note>
  <Note guid="88888888-8888-8888-8888-888888888888" creatingUser="{u}">
   <PlainTextContent>QualCoder annotation</PlainTextContent>
   <PlainTextSelection guid="99999999-9999-9999-9999-999999999999" startPosition="{b0}" endPosition="{b1}"/></Note>
  <Note guid="aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa" name="Journal" creatingUser="{u}">
   <PlainTextContent>a journal</PlainTextContent></Note>
 </Notes>
</Project>"""
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("project.qde", xml)
        zf.writestr(f"sources/{src}.txt", text)
    return path


def test_other_tools_notes_become_memos(tiny_study, tmp_path):
    with Store(tiny_study) as store:
        (t,) = [t for t in store.transcripts() if t["interviewee"] == "A01"]
        text = store.transcript_text(t["id"])
        ps = store.passages(t["id"])
        project = _other_tools_project(tmp_path / "other.qdpx", text, [(ps[0].start, ps[0].end),
                                                                       (ps[1].start + 2, ps[1].end)])
        if XSD is not None:
            assert validate(zipfile.ZipFile(project).read("project.qde"), "project", XSD) == []
        report = import_project(store, project)
        assert report.memos == 2 and report.codings == 1
        assert report.notes == ["1 note(s) left out: not on a text (journals, or notes on codes or cases)"]
        assert store.mark_for(ps[0].id, "Amy")["memo"] == "NVivo annotation\non the coded text"
        assert store.mark_for(ps[1].id, "amy")["memo"] == "MAXQDA memo:\ntwo lines\n\nQualCoder annotation"
        assert not store.mark_for(ps[1].id, "Amy")["no_code"]
        assert [c["code"] for c in store.codings_for(ps[0].id, "Amy")] == ["INFO"]
        assert import_project(store, project).memos == 0
        store.set_memo(ps[0].id, "Amy", "my own memo")
        assert import_project(store, project).memos == 1  # an own memo is kept, the note added after it
        assert store.mark_for(ps[0].id, "Amy")["memo"] == "my own memo\n\nNVivo annotation\non the coded text"
