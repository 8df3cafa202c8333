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
                                   "code", "level", "coder", "time"]
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
    got = con.execute("""SELECT t.interviewee, p.ordinal, c.code, c.level FROM codings c JOIN passages p ON p.id = c.passage_id
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
    decided = con.execute("""SELECT count(*) FROM passages p WHERE EXISTS (SELECT 1 FROM codings c WHERE c.passage_id = p.id
                             AND c.coder = 'reference') OR EXISTS (SELECT 1 FROM passage_marks m
                             WHERE m.passage_id = p.id AND m.coder = 'reference' AND m.no_code = 1)""").fetchone()[0]
    assert n_passages == decided > 250
