import sqlite3

import pandas as pd
import pytest

from beicoder.core.export import CodingsFileError, codings_frame, import_codings, write_csv
from beicoder.core.store import Store


def test_csv_has_bom_and_neutralised_formulas(tmp_path):
    frame = pd.DataFrame({"text": ["=SUM(A1:A2)", "+1", "-x", "@cmd", "正常", "a=b"], "n": [1, -2, 3, 4, 5, 6]})
    path = write_csv(frame, tmp_path / "out.csv")
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    lines = data.decode("utf-8-sig").splitlines()
    assert lines == ["text,n", "'=SUM(A1:A2),1", "'+1,-2", "'-x,3", "'@cmd,4", "正常,5", "a=b,6"]
    assert not list(tmp_path.glob(".beicoder-*"))  # no temporary file left behind


def test_export_every_coding_with_context(tiny_study, tmp_path):
    store = Store(tiny_study)
    p = store.passages()[0]
    store.toggle_code(p.id, "alice", "INFO")
    store.set_level(p.id, "alice", "INFO", 4)
    frame = codings_frame(store)
    store.close()
    assert list(frame.columns) == ["interviewee", "group", "transcript", "passage", "start", "end", "passage_text",
                                   "decision", "code", "level", "coder", "memo", "time"]
    row = frame.iloc[0]
    assert (row.interviewee, row.group, row.transcript, row.passage, row.code, row.level, row.coder) == \
        ("A01", "outstanding", "A01", 1, "INFO", 4, "alice")
    assert row.passage_text == p.text and (row.start, row.end) == (p.start, p.end)
    path = write_csv(frame, tmp_path / "codings.csv")
    back = pd.read_csv(path, encoding="utf-8-sig")
    assert back.loc[0, "passage_text"] == p.text and back.loc[0, "level"] == 4


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def test_import_codings_loads_codes_levels_and_no_code(tiny_study, tmp_path):
    csv = write(tmp_path / "c.csv", "interviewee,passage,code,level\nA01,1,INFO,4\nA01,1,ACH,\nA01,2,,\nB01,1,EXP,2\n")
    store = Store(tiny_study)
    result = import_codings(store, csv, coder="expert")
    again = import_codings(store, csv, coder="expert")  # idempotent
    store.close()
    assert (result.codings, result.no_code, result.coders) == (3, 1, ["expert"])
    assert again.codings == 3
    con = sqlite3.connect(tiny_study)
    got = con.execute("""SELECT t.interviewee, p.ordinal, c.code, c.level FROM codings c
                         JOIN passages p ON p.id = c.passage_id
                         JOIN transcripts t ON t.id = p.transcript_id ORDER BY 1, 2, 3""").fetchall()
    marks = con.execute("SELECT count(*) FROM passage_marks WHERE no_code = 1 AND coder = 'expert'").fetchone()
    assert got == [("A01", 1, "ACH", None), ("A01", 1, "INFO", 4), ("B01", 1, "EXP", 2)]
    assert marks == (1,)


def test_import_codings_reports_every_bad_row_and_loads_nothing(tiny_study, tmp_path):
    csv = write(tmp_path / "bad.csv",
                "interviewee,passage,code,level,coder\n"
                "A01,1,INFO,4,amy\n"
                "Z99,1,INFO,4,amy\n"
                "A01,99,INFO,4,amy\n"
                "A01,1,XYZ,1,amy\n"
                "A01,2,INFO,7,amy\n"
                "A01,x,INFO,1,amy\n")
    store = Store(tiny_study)
    with pytest.raises(CodingsFileError) as err:
        import_codings(store, csv)
    store.close()
    assert err.value.problems == [
        "bad.csv line 3: unknown interviewee 'Z99'",
        "bad.csv line 4: interviewee 'A01' has no passage 99",
        "bad.csv line 5: unknown code 'XYZ'",
        "bad.csv line 6: level 7 outside INFO's scale 0..5",
        "bad.csv line 7: passage ordinal 'x' is not a whole number",
    ]
    assert "nothing loaded" in str(err.value)
    assert sqlite3.connect(tiny_study).execute("SELECT count(*) FROM codings").fetchone() == (0,)


def test_import_codings_needs_a_coder(tiny_study, tmp_path):
    csv = write(tmp_path / "c.csv", "interviewee,passage,code,level\nA01,1,INFO,4\n")
    store = Store(tiny_study)
    with pytest.raises(CodingsFileError, match="no coder column"):
        import_codings(store, csv)
    store.close()


def test_reference_codings_cover_every_demo_passage(demo_db):
    con = sqlite3.connect(demo_db)
    n_passages = con.execute("SELECT count(*) FROM passages").fetchone()[0]
    decided = con.execute("""SELECT count(*) FROM passages p
                             WHERE EXISTS (SELECT 1 FROM codings c WHERE c.passage_id = p.id
                             AND c.coder = 'reference') OR EXISTS (SELECT 1 FROM passage_marks m
                             WHERE m.passage_id = p.id AND m.coder = 'reference' AND m.no_code = 1)""").fetchone()[0]
    assert n_passages == decided > 250


def test_export_includes_no_code_decisions_and_memos_and_loads_back(tiny_study, tmp_path):
    store = Store(tiny_study)
    p1, p2, p3 = store.passages()[:3]
    store.add_codes(p1.id, "alice", {"INFO": 4, "ACH": None})
    store.mark_no_code(p2.id, "alice")
    store.set_memo(p2.id, "alice", "=只是结果")
    store.toggle_code(p3.id, "bob", "EXP")
    frame = codings_frame(store, "alice")
    assert [(r.passage, r.code, r.memo) for r in frame.itertuples()] == [
        (1, "ACH", ""), (1, "INFO", ""), (2, "", "=只是结果")]
    path = write_csv(frame, tmp_path / "alice.csv")
    assert "'=只是结果" in path.read_text(encoding="utf-8-sig")
    result = import_codings(store, path, coder="alice2")
    assert (result.codings, result.no_code) == (2, 1)
    assert store.decided_passages("alice2") == store.decided_passages("alice")
    assert {(c["code"], c["level"]) for c in store.codings_for(p1.id, "alice2")} == {("INFO", 4), ("ACH", None)}
    store.close()


def test_duplicate_rows_and_contradictions_are_bad_rows(tiny_study, tmp_path):
    csv = write(tmp_path / "dup.csv",
                "interviewee,passage,code,level\nA01,1,INFO,3\nA01,1,INFO,4\nA01,2,ACH,1\nA01,2,,\n")
    store = Store(tiny_study)
    with pytest.raises(CodingsFileError) as err:
        import_codings(store, csv, coder="amy")
    store.close()
    assert err.value.problems == [
        "dup.csv line 3: repeats line 2 (same interviewee, passage, code and coder)",
        "dup.csv line 5: a no-code row for a passage that also has codes by amy",
    ]


@pytest.mark.parametrize("kind", ["folder", "sqlite", "missing-folder"])
def test_outputs_that_must_not_be_written(tiny_study, tmp_path, kind):
    from beicoder.core.export import OutputError

    target = {"folder": tmp_path, "sqlite": tiny_study, "missing-folder": tmp_path / "no" / "x.csv"}[kind]
    before = tiny_study.read_bytes()
    with pytest.raises(OutputError) as err:
        write_csv(pd.DataFrame({"a": [1]}), target)
    assert str(target) in str(err.value) and "\n" not in str(err.value)
    assert tiny_study.read_bytes() == before


def test_written_csv_has_ordinary_permissions(tmp_path):
    import os

    old = os.umask(0o022)
    try:
        path = write_csv(pd.DataFrame({"a": [1]}), tmp_path / "p.csv")
    finally:
        os.umask(old)
    assert oct(path.stat().st_mode & 0o777) == oct(0o644)
