"""REFI-QDA interchange: .qdc codebooks and .qdpx projects, written and read, checked against
the official XSDs and against real files written by ATLAS.ti, NVivo and qc."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

pytest.importorskip("lxml")

from beicoder.core import BeicoderError  # noqa: E402
from beicoder.core.export import OutputError  # noqa: E402
from beicoder.core.refi import (  # noqa: E402
    RefiError,
    code_guid,
    code_label,
    read_codebook,
    read_project,
    validate,
    write_codebook,
    write_project,
)
from beicoder.core.store import Store  # noqa: E402


def _need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path} not available")
    return path


@pytest.fixture
def xsd(realdata) -> Path:
    """The official REFI-QDA schemas."""
    path = realdata / "refi-qda-xsd"
    if not (path / "Project.xsd").is_file():
        pytest.skip("REFI-QDA XSDs not available")
    return path


@pytest.fixture
def requal(realdata) -> Path:
    """Codebooks written by ATLAS.ti (REQUAL test files)."""
    return realdata / "refi-qda-requal"


@pytest.fixture
def qc(realdata) -> Path:
    """Projects written by QualCoder and NVivo."""
    return realdata / "refi-qda-qc"


@pytest.fixture
def coded_study(tiny_study):
    """The tiny study coded by two coders, with levels and a code without level."""
    store = Store(tiny_study)
    ps = store.passages()
    store.toggle_code(ps[0].id, "alice", "INFO")
    store.set_level(ps[0].id, "alice", "INFO", 4)
    store.toggle_code(ps[0].id, "alice", "ACH")
    store.toggle_code(ps[0].id, "bob", "INFO")
    store.set_level(ps[0].id, "bob", "INFO", 3)
    store.toggle_code(ps[-1].id, "bob", "SCT")
    store.close()
    return tiny_study


# -- codebook --------------------------------------------------------------------------------
def test_codebook_validates_and_is_stable(dictionary, tmp_path, xsd):
    a = write_codebook(dictionary, tmp_path / "a.qdc").read_bytes()
    b = write_codebook(dictionary, tmp_path / "b.qdc").read_bytes()
    assert a == b
    assert validate(a, "codebook", xsd) == []
    text = a.decode("utf-8")
    assert 'xmlns="urn:QDA-XML:codebook:1.0"' in text
    assert f'name="ACH {dictionary.get("ACH").name_zh}"' in text
    assert f'guid="{code_guid("ACH")}"' in text
    assert text.count("<Code ") == len(dictionary.codes)
    assert not list(tmp_path.glob(".beicoder-*"))


def test_codebook_round_trip_keeps_codes_and_names(dictionary, tmp_path):
    back = read_codebook(write_codebook(dictionary, tmp_path / "a.qdc"))
    assert back.codes == dictionary.codes
    for c in dictionary.competencies:
        got = back.get(c.code)
        assert got.name_zh == c.name_zh
        assert got.definition_zh == c.definition_zh
        assert got.definition_en == c.definition_en
        assert [lv.level for lv in got.levels] == [1]
        assert got.keywords == ()


def test_codebook_refuses_to_overwrite_a_study(dictionary, tiny_study):
    with pytest.raises(OutputError):
        write_codebook(dictionary, tiny_study)


def test_atlas_ti_codebook_is_read(requal):
    d = read_codebook(_need(requal / "atlasti_win23_codebook_valid.qdc"))
    assert d.codes == ["C1"]
    c = d.competencies[0]
    assert c.name_en == "code1"
    assert c.definition_en == "description"
    assert c.levels[0].level == 1 and c.levels[0].indicator_en == "description"
    assert "ATLAS.ti" in d.name


def test_atlas_ti_codebook_validates(xsd, requal):
    assert validate(_need(requal / "atlasti_win23_codebook_valid.qdc").read_bytes(), "codebook", xsd) == []


def test_truncated_atlas_ti_codebook_is_one_line_error(requal):
    path = _need(requal / "atlasti_win23_codebook_truncated_ns04.qdc")
    with pytest.raises(RefiError) as info:
        read_codebook(path)
    msg = str(info.value)
    assert "\n" not in msg
    assert msg.startswith(path.name)
    assert "line" in msg
    assert isinstance(info.value, BeicoderError)


def test_codebook_quirks_nested_codes_colours_empty_and_keys(tmp_path):
    path = tmp_path / "x.qdc"
    path.write_text(
        '<?xml version="1.0"?>\n'
        '<CodeBook xmlns="urn:QDA-XML:codebook:0:4" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xsi:schemaLocation="urn:QDA-XML:codebook:0:4 Codebook.xsd">\n'
        '<Codes><Code guid="{11111111-1111-1111-1111-111111111111}" name="ACH 成就导向" isCodable="true" color="red">'
        '<Description/>'
        '<Code guid="22222222-2222-2222-2222-222222222222" name="C1 sub" isCodable="true"/></Code>'
        '<Code guid="33333333-3333-3333-3333-333333333333" name="grouping" isCodable="false"/>'
        '<Code guid="44444444-4444-4444-4444-444444444444" name="ACH again" isCodable="true"></Code>'
        "</Codes></CodeBook>",
        encoding="utf-8")
    d = read_codebook(path)
    assert d.codes == ["ACH", "C1", "C2"]
    assert d.get("ACH").name_zh == "成就导向"
    assert d.get("ACH").levels[0].indicator_en == "present"
    assert d.get("C2").name_en == "ACH again"


@pytest.mark.parametrize("content", [b"", b"<CodeBook",
                                     b"<CodeBook xmlns='urn:QDA-XML:codebook:1.0'><Codes/></CodeBook>", b"<Other/>"])
def test_bad_codebooks_are_one_line_errors(tmp_path, content):
    path = tmp_path / "bad.qdc"
    path.write_bytes(content)
    with pytest.raises(RefiError) as info:
        read_codebook(path)
    assert "\n" not in str(info.value) and "bad.qdc" in str(info.value)


# -- project ---------------------------------------------------------------------------------
def test_project_validates_and_has_the_zip_layout(coded_study, tmp_path, xsd):
    store = Store(coded_study)
    out = write_project(store, tmp_path / "study.qdpx")
    with zipfile.ZipFile(out) as zf:
        names = zf.namelist()
        qde = zf.read("project.qde")
        assert validate(qde, "project", xsd) == []
        assert names[0] == "project.qde"
        txts = [n for n in names if n != "project.qde"]
        assert all(n.startswith("sources/") and n.endswith(".txt") for n in txts)
        transcripts = store.transcripts()
        assert len(txts) == len(transcripts)
        stored = {store.transcript_text(t["id"]) for t in transcripts}
        assert {zf.read(n).decode("utf-8") for n in txts} == stored
        text = qde.decode("utf-8")
        assert 'xmlns="urn:QDA-XML:project:1.0"' in text
        for n in txts:
            assert f'plainTextPath="internal://{n[len("sources/"):]}"' in text
    store.close()


def test_selection_offsets_slice_the_passage_text(coded_study, tmp_path):
    from lxml import etree

    store = Store(coded_study)
    out = write_project(store, tmp_path / "study.qdpx")
    ns = {"q": "urn:QDA-XML:project:1.0"}
    passages = {(p.start, p.end): p.text for p in store.passages()}
    with zipfile.ZipFile(out) as zf:
        root = etree.fromstring(zf.read("project.qde"))
        users = {u.get("guid"): u.get("name") for u in root.iterfind("q:Users/q:User", ns)}
        assert sorted(users.values()) == ["alice", "bob"]
        n = 0
        for src in root.iterfind("q:Sources/q:TextSource", ns):
            body = zf.read("sources/" + src.get("plainTextPath").split("://")[1]).decode("utf-8")
            for sel in src.iterfind("q:PlainTextSelection", ns):
                s, e = int(sel.get("startPosition")), int(sel.get("endPosition"))
                assert body[s:e] == passages[(s, e)]
                coding = sel.find("q:Coding", ns)
                assert coding.get("creatingUser") == sel.get("creatingUser") and sel.get("creatingUser") in users
                assert coding.find("q:CodeRef", ns).get("targetGUID") in {code_guid(c) for c in ("INFO", "ACH", "SCT")}
                n += 1
        assert n == len(store.coding_rows()) == 4
        cases = root.findall("q:Cases/q:Case", ns)
        assert sorted(c.get("name") for c in cases) == ["A01", "B01"]
        groups = {c.get("name"): c.find("q:VariableValue/q:TextValue", ns).text for c in cases}
        assert groups == {"A01": "outstanding", "B01": "average"}
        assert all(c.find("q:SourceRef", ns) is not None for c in cases)
        assert [v.get("name") for v in root.iterfind("q:Variables/q:Variable", ns)][0] == "group"
    store.close()


def test_project_export_is_byte_identical(coded_study, tmp_path):
    store = Store(coded_study)
    a = write_project(store, tmp_path / "a.qdpx").read_bytes()
    b = write_project(store, tmp_path / "b.qdpx").read_bytes()
    store.close()
    assert a == b


def test_project_round_trip_keeps_codings(coded_study, tmp_path):
    store = Store(coded_study)
    dictionary = store.dictionary()
    titles = {t["id"]: t["title"] for t in store.transcripts()}
    want = sorted((titles[r["transcript_id"]], r["start"], r["end"], code_label(dictionary.get(r["code"])),
                   r["coder"], r["level"]) for r in store.coding_rows())
    out = write_project(store, tmp_path / "study.qdpx")
    texts = {t["title"]: store.transcript_text(t["id"]) for t in store.transcripts()}
    store.close()
    back = read_project(out)
    got = sorted((c["source"], c["start"], c["end"], c["code"], c["user"], c["level"]) for c in back["codings"])
    assert got == want
    assert {s["name"]: s["text"] for s in back["sources"]} == texts
    assert sorted(u["name"] for u in back["users"]) == ["alice", "bob"]
    assert [c["name"] for c in back["codes"]] == [code_label(c) for c in dictionary.competencies]
    assert {c["name"]: c["variables"]["group"] for c in back["cases"]} == {"A01": "outstanding", "B01": "average"}


def test_project_for_one_coder_and_unknown_coder(coded_study, tmp_path):
    store = Store(coded_study)
    back = read_project(write_project(store, tmp_path / "bob.qdpx", coders=["bob"]))
    assert {c["user"] for c in back["codings"]} == {"bob"} and len(back["codings"]) == 2
    with pytest.raises(RefiError, match="carol"):
        write_project(store, tmp_path / "x.qdpx", coders=["carol"])
    store.close()


def test_uncoded_study_still_validates(tiny_study, tmp_path, xsd):
    store = Store(tiny_study)
    out = write_project(store, tmp_path / "empty.qdpx")
    store.close()
    with zipfile.ZipFile(out) as zf:
        assert validate(zf.read("project.qde"), "project", xsd) == []
    assert read_project(out)["codings"] == []


def test_demo_study_exports_every_coding(demo_db, tmp_path, xsd):
    store = Store(demo_db)
    n = len(store.coding_rows())
    out = write_project(store, tmp_path / "demo.qdpx")
    store.close()
    with zipfile.ZipFile(out) as zf:
        assert validate(zf.read("project.qde"), "project", xsd) == []
    back = read_project(out)
    assert len(back["codings"]) == n > 100
    assert len(back["sources"]) == len(back["cases"]) == 10
    texts = {s["name"]: s["text"] for s in back["sources"]}
    for c in back["codings"]:
        assert 0 <= c["start"] < c["end"] <= len(texts[c["source"]])


# -- real projects from other tools ----------------------------------------------------------
def test_qc_project_is_read(qc):
    p = read_project(_need(qc / "qc_demo.qdpx"))
    assert p["origin"] == "qc 1.3.2"
    assert len(p["codings"]) == 205
    assert len(p["codes"]) == 262
    assert [u["name"] for u in p["users"]] == ["cp"]
    assert {s["name"] for s in p["sources"]} == {"board_2017", "admin-1"}
    texts = {s["name"]: s["text"] for s in p["sources"]}
    admin = _need(qc / "qc_demo_admin-1_interview.txt").read_bytes().decode("utf-8")
    assert texts["admin-1"] == admin
    assert {c["user"] for c in p["codings"]} == {"cp"}
    known = {c["name"] for c in p["codes"]}
    for c in p["codings"]:
        assert c["code"] in known
        assert 0 <= c["start"] < c["end"] <= len(texts[c["source"]])
    assert len({(c["source"], c["start"], c["end"]) for c in p["codings"]}) == 158


def test_nvivo_project_is_read(qc):
    p = read_project(_need(qc / "nvivo_mac15_project.qdpx"))
    assert p["origin"].startswith("NVivo")
    assert len(p["codes"]) == 262
    assert sorted(u["name"] for u in p["users"]) == ["chrisp", "cp"]
    assert len(p["sources"]) == 2 and all(s["text"] == "\n" for s in p["sources"])
    assert p["codings"] == []


@pytest.mark.parametrize("name", ["qc_demo.qdpx", "nvivo_mac15_project.qdpx"])
def test_real_projects_validate(name, xsd, qc):
    with zipfile.ZipFile(_need(qc / name)) as zf:
        assert validate(zf.read("project.qde"), "project", xsd) == []


def test_codebook_of_a_real_project_flattens_nested_codes(qc):
    d = read_codebook(_need(qc / "qc_demo.qdpx"))
    assert len(d.codes) == 262
    assert d.codes[:3] == ["C1", "C2", "C3"]
    # names used by several nested codes are qualified by their path
    assert d.get("C3").name_en == "rq1_definition / competencies / programming"


def test_broken_projects_are_one_line_errors(tmp_path):
    not_zip = tmp_path / "a.qdpx"
    not_zip.write_bytes(b"hello")
    no_qde = tmp_path / "b.qdpx"
    with zipfile.ZipFile(no_qde, "w") as zf:
        zf.writestr("sources/x.txt", "x")
    bad_xml = tmp_path / "c.qdpx"
    with zipfile.ZipFile(bad_xml, "w") as zf:
        zf.writestr("project.qde", "<Project xmlns='urn:QDA-XML:project:1.0'><Users>")
    for path in (not_zip, no_qde, bad_xml, tmp_path / "missing.qdpx"):
        with pytest.raises(RefiError) as info:
            read_project(path)
        assert "\n" not in str(info.value) and path.name in str(info.value)


def test_validate_reports_problems(xsd):
    bad = b'<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes><Code name="x" isCodable="yes"/></Codes></CodeBook>'
    problems = validate(bad, "codebook", xsd)
    assert problems and all(p.startswith("line ") for p in problems)
    with pytest.raises(RefiError):
        validate(bad, "nonsense", xsd)
