import pytest

from beicoder.core.store import Store, StoreError
from beicoder.core.study import MetaError, import_parsed, meta_warnings, parse_files, read_meta
from conftest import TINY_A


def meta_file(tmp_path, text):
    path = tmp_path / "meta.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_meta_reads_groups_tenure_and_extra_columns(tmp_path):
    rows = read_meta(meta_file(tmp_path, "interviewee,group,tenure_years,branch,age\nA01,优秀,6,县城,35\nB01,,,,\n"))
    assert rows == [
        {"id": "A01", "grp": "优秀", "tenure_years": 6.0, "branch": "县城", "extra": '{"age": "35"}'},
        {"id": "B01", "grp": None, "tenure_years": None, "branch": None, "extra": '{"age": ""}'},
    ]


@pytest.mark.parametrize(
    "text,message",
    [
        ("name,group\nA01,优秀\n", "meta.csv: no 'interviewee' column"),
        ("interviewee,group\nA01,优秀\nA01,普通\n", "meta.csv line 3: interviewee A01 appears twice"),
        ("interviewee,group\nA01,excellent\n",
         "meta.csv line 2: interviewee A01: group 'excellent' is neither outstanding (优秀) nor average (普通/一般)"),
        ("interviewee,tenure_years\nA01,-3\n", "meta.csv line 2: tenure_years '-3' is not a number of years >= 0"),
        ("interviewee,tenure_years\nA01,six\n", "meta.csv line 2: tenure_years 'six' is not a number of years >= 0"),
        ("interviewee,group\n,优秀\n", "meta.csv line 2: empty interviewee"),
    ],
)
def test_bad_meta_is_one_line_naming_file_and_line(tmp_path, text, message):
    with pytest.raises(MetaError) as err:
        read_meta(meta_file(tmp_path, text))
    assert str(err.value).endswith(message) and "\n" not in str(err.value)


def test_meta_in_gbk_is_read_as_excel_saves_it(tmp_path):
    path = tmp_path / "meta.csv"
    path.write_bytes("interviewee,group\nA01,优秀\n".encode("gbk"))
    assert read_meta(path)[0]["grp"] == "优秀"
    path.write_bytes(b"interviewee,group\nA01,\x00\x01\x02\x03\x04\x05\x06\n")
    with pytest.raises(MetaError, match="looks binary"):
        read_meta(path)


def test_an_edited_transcript_is_a_new_version_not_a_second_transcript(tmp_path, dictionary):
    path = tmp_path / "A01.txt"
    path.write_text(TINY_A, encoding="utf-8")
    store = Store(tmp_path / "s.db")
    store.set_dictionary(dictionary)
    assert [r.status for r in import_parsed(store, parse_files([path]))] == ["imported"]
    assert [r.status for r in import_parsed(store, parse_files([path]))] == ["unchanged"]
    path.write_text(TINY_A + "\n被访者：补充一句。\n", encoding="utf-8")
    (result,) = import_parsed(store, parse_files([path]))
    assert result.status == "updated" and "new version 2 of A01" in result.message
    assert store.query("SELECT count(*) AS n FROM transcripts") == [{"n": 1}]
    notes = meta_warnings([{"id": "A01"}, {"id": "MC99"}], store)
    assert notes == ["metadata names interviewee MC99, who has no transcript in the study",
                     "no group for A01: give them one in the metadata CSV before 'beicoder analyze'"]
    store.close()


def test_reading_commands_do_not_turn_other_files_into_studies(tmp_path):
    empty = tmp_path / "zero.db"
    empty.write_bytes(b"")
    with pytest.raises(StoreError, match="empty file, not a beicoder study file"):
        Store(empty, create=False)
    assert empty.read_bytes() == b""
    with pytest.raises(StoreError, match="is a folder"):
        Store(tmp_path)
    with pytest.raises(StoreError, match="does not exist"):
        Store(tmp_path / "nofolder" / "x.db")


def test_reimporting_an_edited_transcript_moves_decisions_and_sets_the_rest_aside(tmp_path, dictionary):
    import sqlite3

    from click.testing import CliRunner

    from beicoder.cli import main

    path = tmp_path / "A01.txt"
    path.write_text(TINY_A, encoding="utf-8")
    db = tmp_path / "s.db"
    store = Store(db)
    store.set_dictionary(dictionary)
    import_parsed(store, parse_files([path]))
    p1, p2 = store.passages()
    store.add_codes(p1.id, "amy", {"INFO": 4})
    store.add_codes(p2.id, "amy", {"RB": 2})
    store.mark_no_code(p2.id, "bob")
    # the edit: a new first question and answer before, and the second answer reworded
    edited = TINY_A.replace("访谈者：请讲一件您觉得成功的事情。",
                            "访谈者：先介绍一下您自己。\n\n被访者：我做了六年微贷。\n\n访谈者：请讲一件您觉得成功的事情。")
    edited = edited.replace("我们还一直保持联系。", "我们后来成了朋友。")
    path.write_text(edited, encoding="utf-8")
    (result,) = import_parsed(store, parse_files([path]))
    assert result.status == "updated"
    assert "decisions on 1 unchanged passages moved" in result.message
    assert "2 decisions on changed passages" in result.message
    passages = store.passages()
    text = store.transcript_text(passages[0].transcript_id)
    assert [p.text for p in passages] == ["我做了六年微贷。", p1.text, "后来他按时还款了。我们后来成了朋友。"]
    assert all(text[p.start:p.end] == p.text for p in passages)
    moved = passages[1]
    assert moved.start != p1.start  # new offsets
    assert [(c["code"], c["level"]) for c in store.codings_for(moved.id, "amy")] == [("INFO", 4)]
    items = store.review_items()
    assert [(r["coder"], r["code"], r["level"], r["no_code"], r["passage_text"]) for r in items] == [
        ("amy", "RB", 2, 0, p2.text), ("bob", None, None, 1, p2.text)]
    con = sqlite3.connect(db)
    assert con.execute("SELECT version FROM transcripts").fetchone() == (2,)
    assert con.execute("SELECT version, text FROM transcript_versions").fetchone() == (1, TINY_A)
    assert con.execute("PRAGMA foreign_key_check").fetchall() == []
    store.close()
    result = CliRunner().invoke(main, ["review", "--db", str(db)])
    assert result.exit_code == 0 and "2 decisions to review" in result.stdout and "amy: RB L2" in result.stdout
