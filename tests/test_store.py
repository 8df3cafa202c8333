import sqlite3

import pytest

from beicoder.core.store import SCHEMA_VERSION, Store, StoreError, normalize_coder


def rows(db, sql, *params):
    con = sqlite3.connect(db)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


def test_passages_are_offsets_into_the_stored_text(tiny_study):
    store = Store(tiny_study)
    for t in store.transcripts():
        text = store.transcript_text(t["id"])
        for p in store.passages(t["id"]):
            assert text[p.start:p.end] == p.text
    first = store.passages()[0]
    assert store.question_for(first) == "请讲一件您觉得成功的事情。"
    assert rows(tiny_study, "PRAGMA journal_mode") == [("wal",)]
    store.close()


def test_decisions_are_committed_at_once_and_undo_restores(tiny_study):
    store = Store(tiny_study)
    p = store.passages()[0].id
    assert store.toggle_code(p, " alice ", "INFO") is True
    # another connection sees it immediately: committed, not pending
    assert rows(tiny_study, "SELECT coder, code, level, origin FROM codings") == [("alice", "INFO", None, "manual")]
    store.set_level(p, "alice", "INFO", 4)
    assert rows(tiny_study, "SELECT level FROM codings") == [(4,)]
    assert store.add_codes(p, "alice", {"INFO": None, "ACH": None, "EXP": 2}) == ["ACH", "EXP"]
    assert sorted(rows(tiny_study, "SELECT code, level FROM codings")) == [("ACH", None), ("EXP", 2), ("INFO", 4)]
    assert store.undo("alice") == "accept suggestions"  # the three-code accept was one action
    assert rows(tiny_study, "SELECT code, level FROM codings") == [("INFO", 4)]
    assert store.undo("alice") == "level INFO=4"
    assert rows(tiny_study, "SELECT code, level FROM codings") == [("INFO", None)]
    assert store.undo("alice") == "add INFO"
    assert rows(tiny_study, "SELECT count(*) FROM codings") == [(0,)]
    assert store.undo("alice") is None
    store.close()


def test_no_code_replaces_codes_and_a_code_clears_no_code(tiny_study):
    store = Store(tiny_study)
    p = store.passages()[1].id
    store.toggle_code(p, "bob", "RB")
    store.mark_no_code(p, "bob")
    assert rows(tiny_study, "SELECT count(*) FROM codings") == [(0,)]
    assert rows(tiny_study, "SELECT no_code FROM passage_marks") == [(1,)]
    assert store.decided_passages("bob") == {p}
    store.set_memo(p, "bob", "  只是结果，不是行为  ")
    assert rows(tiny_study, "SELECT no_code, memo FROM passage_marks") == [(1, "只是结果，不是行为")]
    store.toggle_code(p, "bob", "RB")
    assert rows(tiny_study, "SELECT no_code, memo FROM passage_marks") == [(0, "只是结果，不是行为")]
    store.undo("bob")
    assert rows(tiny_study, "SELECT no_code FROM passage_marks") == [(1,)]
    store.close()


def test_coders_are_kept_apart(tiny_study):
    store = Store(tiny_study)
    p = store.passages()[0].id
    store.toggle_code(p, "alice", "INFO")
    store.toggle_code(p, "bob", "ACH")
    assert [c["code"] for c in store.codings_for(p, "alice")] == ["INFO"]
    assert [c["code"] for c in store.codings_for(p, "bob")] == ["ACH"]
    store.undo("alice")
    assert [c["code"] for c in store.codings_for(p, "bob")] == ["ACH"]
    assert store.coders() == ["bob"]
    store.close()


def test_bad_code_and_level_are_refused(tiny_study):
    store = Store(tiny_study)
    p = store.passages()[0].id
    with pytest.raises(StoreError, match="unknown code 'XYZ'"):
        store.toggle_code(p, "alice", "XYZ")
    store.toggle_code(p, "alice", "INFO")
    with pytest.raises(StoreError, match="outside INFO's scale 0..5"):
        store.set_level(p, "alice", "INFO", 9)
    with pytest.raises(StoreError, match="not coded"):
        store.set_level(p, "alice", "ACH", 1)
    assert rows(tiny_study, "SELECT level FROM codings") == [(None,)]
    store.close()


def test_coder_names_are_normalised():
    assert normalize_coder("  Cafe\u0301 ") == "Café"
    assert normalize_coder("Alice") != normalize_coder("alice")  # case kept
    with pytest.raises(StoreError):
        normalize_coder("   ")


def test_a_foreign_or_newer_database_is_refused(tmp_path):
    other = tmp_path / "other.db"
    con = sqlite3.connect(other)
    con.execute("CREATE TABLE foo(x)")
    con.commit()
    con.close()
    with pytest.raises(StoreError, match="not a beicoder study file"):
        Store(other)
    newer = tmp_path / "newer.db"
    Store(newer).close()
    con = sqlite3.connect(newer)
    con.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    con.commit()
    con.close()
    with pytest.raises(StoreError, match="newer beicoder"):
        Store(newer)
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(StoreError, match="not a beicoder study file"):
        Store(junk)


def test_a_version_1_study_is_migrated_and_keeps_its_data(tiny_study):
    store = Store(tiny_study)
    p = store.passages()[0].id
    store.toggle_code(p, "alice", "INFO")
    store.close()
    con = sqlite3.connect(tiny_study)  # make it look like a study written by schema 1
    con.execute("ALTER TABLE suggestions DROP COLUMN level")
    con.execute("ALTER TABLE suggestions DROP COLUMN level_cue")
    con.execute("ALTER TABLE codings DROP COLUMN decided_by")
    con.execute("ALTER TABLE passage_marks DROP COLUMN decided_by")
    con.execute("ALTER TABLE transcripts DROP COLUMN version")
    con.execute("DROP TABLE transcript_versions")
    con.execute("DROP TABLE review_codings")
    con.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    con.commit()
    con.close()
    store = Store(tiny_study, create=False)
    cols = [r["name"] for r in store.query("PRAGMA table_info(suggestions)")]
    assert cols[-2:] == ["level", "level_cue"]
    assert store.query("SELECT value FROM meta WHERE key = 'schema_version'") == [{"value": str(SCHEMA_VERSION)}]
    assert {"transcript_versions", "review_codings"} <= set(store.db.table_names())
    assert "decided_by" in [r["name"] for r in store.query("PRAGMA table_info(codings)")]
    assert [c["code"] for c in store.codings_for(p, "alice")] == ["INFO"]
    store.close()


def test_backup_is_a_consistent_copy_while_another_connection_writes(tiny_study, tmp_path):
    from click.testing import CliRunner

    from beicoder.cli import main

    store = Store(tiny_study)
    p = store.passages()[0].id
    store.toggle_code(p, "amy", "INFO")
    other = sqlite3.connect(tiny_study)
    other.execute("BEGIN")
    other.execute("UPDATE codings SET level = 5")  # uncommitted: must not reach the backup
    copy = store.backup(tmp_path / "copy.db")
    other.rollback()
    other.close()
    con = sqlite3.connect(copy)
    assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert con.execute("SELECT coder, code, level FROM codings").fetchall() == [("amy", "INFO", None)]
    con.close()
    with pytest.raises(StoreError, match="exists"):
        store.backup(copy)
    store.close()
    result = CliRunner().invoke(main, ["backup", str(tmp_path / "b2.db"), "--db", str(tiny_study)])
    assert result.exit_code == 0 and "backed up" in result.stdout
    assert Store(tmp_path / "b2.db", create=False).coders() == ["amy"]


def test_renaming_a_code_keeps_codings_and_dropping_one_asks_first(tiny_study, dictionary, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from beicoder.cli import main
    from beicoder.core.dictionary import parse_dictionary

    store = Store(tiny_study)
    p = store.passages()[0].id
    store.add_codes(p, "amy", {"INFO": 3, "ACH": 2})
    renamed = parse_dictionary(dictionary.yaml_text.replace("name_zh: 信息搜集", "name_zh: 信息收集"), "renamed.yaml")
    store.set_dictionary(renamed)
    assert {c["code"]: c["level"] for c in store.codings_for(p, "amy")} == {"INFO": 3, "ACH": 2}
    assert next(c for c in store.codes() if c["code"] == "INFO")["name_zh"] == "信息收集"
    store.close()
    text = dictionary.yaml_text
    start = text.index("  - code: ACH")
    end = text.index("  - code: INFO")
    runner = CliRunner()
    # the dictionary's example passages still cite ACH: refused before anything is asked
    (tmp_path / "no_ach.yaml").write_text(text[:start] + text[end:], encoding="utf-8")
    cited = runner.invoke(main, ["dictionary", str(tmp_path / "no_ach.yaml"), "--db", str(tiny_study)])
    assert cited.exit_code == 2 and "no_ach.yaml: example #" in cited.output and "unknown code(s) ACH" in cited.output
    without_examples = text[:start] + text[end:text.index("\nexamples:")] + "\n"
    (tmp_path / "no_ach.yaml").write_text(without_examples, encoding="utf-8")
    # no terminal and no --yes: one line, exit 2, nothing changed (click's "Aborted!" before)
    alone = runner.invoke(main, ["dictionary", str(tmp_path / "no_ach.yaml"), "--db", str(tiny_study)])
    assert alone.exit_code == 2 and len(alone.output.strip().splitlines()) == 1
    assert "drops ACH (1 codings); there is no terminal to confirm" in alone.output and "--yes" in alone.output
    assert rows(tiny_study, "SELECT code FROM codings ORDER BY code") == [("ACH",), ("INFO",)]
    import importlib

    dictionary_cli = importlib.import_module("beicoder.cli.dictionary")  # the module, not the click group
    monkeypatch.setattr(dictionary_cli, "interactive", lambda: True)  # a person at a terminal
    ended = runner.invoke(main, ["dictionary", str(tmp_path / "no_ach.yaml"), "--db", str(tiny_study)], input="")
    assert ended.exit_code == 2 and "not confirmed; nothing was changed" in ended.output
    assert "Aborted" not in ended.output
    refused = runner.invoke(main, ["dictionary", str(tmp_path / "no_ach.yaml"), "--db", str(tiny_study)], input="n\n")
    assert refused.exit_code == 2 and "drops ACH (1 codings); delete these codings?" in refused.output
    assert rows(tiny_study, "SELECT code FROM codings ORDER BY code") == [("ACH",), ("INFO",)]
    done = runner.invoke(main, ["dictionary", str(tmp_path / "no_ach.yaml"), "--db", str(tiny_study)], input="y\n")
    assert done.exit_code == 0 and "deleted the codings of ACH" in done.output
    assert rows(tiny_study, "SELECT code FROM codings") == [("INFO",)]
    assert rows(tiny_study, "SELECT count(*) FROM codes WHERE code = 'ACH'") == [(0,)]


def test_undo_survives_a_restart(tiny_study):
    store = Store(tiny_study)
    p = store.passages()[0].id
    store.add_codes(p, "amy", {"INFO": 3, "ACH": 2})
    store.close()
    again = Store(tiny_study, create=False)
    assert again.undo("amy") == "accept suggestions"
    assert again.codings_for(p, "amy") == []
    again.close()


def test_the_same_code_twice_counts_once(tiny_study, tmp_path):
    from beicoder.core.export import import_codings

    store = Store(tiny_study)
    p = store.passages()[0].id
    store.add_codes(p, "amy", {"INFO": 3})
    assert store.add_codes(p, "amy", {"INFO": 4}) == []  # already there: not added again
    csv = tmp_path / "c.csv"
    csv.write_text("interviewee,passage,code,level\nA01,1,INFO,3\n", encoding="utf-8")
    import_codings(store, csv, coder="amy")
    assert rows(tiny_study, "SELECT count(*) FROM codings WHERE coder = 'amy' AND code = 'INFO'") == [(1,)]
    store.close()
