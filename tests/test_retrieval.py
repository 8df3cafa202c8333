"""Coded segments and text search (core.retrieval, the store's search index, and the
``passages`` and ``search`` commands)."""

from __future__ import annotations

import csv
import sqlite3

import pytest
from click.testing import CliRunner

from beicoder.cli import main
from beicoder.core.retrieval import PassageQuery, QueryError, find_passages, search_terms
from beicoder.core.store import Store
from conftest import make_study

ZH_A = """访谈者：说说你做得好的一件事。
被访者：我去客户家里看了他的账本，又问了邻居，才放心给他贷款。
访谈者：还有呢？
被访者：那年我给自己定了目标，要超额完成任务。
访谈者：后来呢？
被访者：后来就按流程办完了。
"""
# Traditional, as in the zh-Hant transcripts
ZH_B = """訪談者：講一件你覺得成功的事。
被訪者：我到客戶的店裡看了水電費單，還查了銀行流水。
訪談者：結果呢？
被訪者：他按時還款了，我們一直保持聯繫。
"""


@pytest.fixture
def study(tmp_path):
    db = make_study(tmp_path, {"A01": ZH_A, "B01": ZH_B}, {"A01": "outstanding", "B01": "average"})
    store = Store(db)
    p = {(r["interviewee"], r["ordinal"]): r["id"] for r in store.query(
        "SELECT p.id, p.ordinal, t.interviewee FROM passages p JOIN transcripts t ON t.id = p.transcript_id")}
    store.add_codes(p["A01", 1], "amy", {"INFO": 3})
    store.add_codes(p["A01", 2], "amy", {"ACH": 4})
    store.add_codes(p["B01", 1], "amy", {"INFO": 2})
    store.add_codes(p["B01", 1], "bob", {"INFO": 4, "EXP": None})
    store.set_memo(p["A01", 1], "amy", "first line\nsecond line\nthird line")
    store.mark_no_code(p["A01", 3], "amy")
    store.close()
    return db, p


def where(results) -> list[tuple[str, int]]:
    return [(h.interviewee, h.ordinal) for h in results.hits]


def test_coded_segments_of_a_code_across_interviewees(study):
    db, p = study
    with Store(db) as store:
        res = find_passages(store, PassageQuery(code="INFO"))
        assert [(h.interviewee, h.ordinal, h.coder, h.level) for h in res.hits] == [
            ("A01", 1, "amy", 3), ("B01", 1, "amy", 2), ("B01", 1, "bob", 4)]
        assert res.hits[0].memo == "first line\nsecond line\nthird line"  # the memo whole
        assert res.hits[0].group == "outstanding"
        # narrowed to one coder, one group, one level; the code by its name, in either script
        assert where(find_passages(store, PassageQuery(code="信息搜集", coder="amy"))) == [("A01", 1), ("B01", 1)]
        assert where(find_passages(store, PassageQuery(code="info", group="average"))) == [("B01", 1), ("B01", 1)]
        assert where(find_passages(store, PassageQuery(code="INFO", level=4))) == [("B01", 1)]
        assert where(find_passages(store, PassageQuery(code="成就導向"))) == [("A01", 2)]
        assert find_passages(store, PassageQuery(code="INFO", coder="amy")).describe() == \
            "2 codings of INFO by amy"


def test_text_search_short_chinese_and_both_scripts(study):
    db, _ = study
    with Store(db) as store:
        # two characters: below the trigram index, found by the substring scan
        res = find_passages(store, PassageQuery(text="客户"))
        assert where(res) == [("A01", 1), ("B01", 1)] and res.method == "substring scan"
        # a Traditional query finds the Simplified text, and the other way round
        assert where(find_passages(store, PassageQuery(text="客戶"))) == [("A01", 1), ("B01", 1)]
        res = find_passages(store, PassageQuery(text="水电费单"))
        assert where(res) == [("B01", 1)] and res.method == "FTS5 trigram index"
        hit = res.hits[0]
        a, b = hit.matches[0]
        assert hit.text[a:b] == "水電費單"  # offsets into the text as stored
        assert where(find_passages(store, PassageQuery(text="帳本"))) == []  # 账本, not 帳本: a different word
        assert where(find_passages(store, PassageQuery(text="账本"))) == [("A01", 1)]
        # one character, and every word of a query of several
        assert where(find_passages(store, PassageQuery(text="贷"))) == [("A01", 1)]
        assert where(find_passages(store, PassageQuery(text="客户 邻居"))) == [("A01", 1)]
        # text and code together; the codes column names the coders when none is chosen
        res = find_passages(store, PassageQuery(text="客戶"))
        assert res.hits[1].codes == "INFO L2 (amy), INFO L4 (bob), EXP (bob)"
        res = find_passages(store, PassageQuery(text="客戶", coder="bob"))
        assert res.hits[1].codes == "INFO L4, EXP"


def test_undecided_and_suggested_passages(study):
    db, p = study
    with Store(db) as store:
        res = find_passages(store, PassageQuery(status="undecided", coder="amy"))
        assert where(res) == [("B01", 2)]  # A01 3 is "no code": decided
        assert where(find_passages(store, PassageQuery(status="undecided", coder="bob"))) == [
            ("A01", 1), ("A01", 2), ("A01", 3), ("B01", 2)]
        # suggested: needs the lexicon's suggestions
        from beicoder.core.suggest.lexicon import suggest_study

        suggest_study(store, store.dictionary())
        res = find_passages(store, PassageQuery(status="suggested", coder="bob"))
        assert ("A01", 1) in where(res) and ("A01", 3) not in where(res)  # 后来就按流程办完了: nothing
        assert all(h.suggested for h in res.hits)
        info = find_passages(store, PassageQuery(status="suggested", coder="bob", code="INFO"))
        assert where(info) == [("A01", 1)] and "INFO" in info.hits[0].suggested


def test_bad_queries_say_why(study):
    db, _ = study
    with Store(db) as store:
        with pytest.raises(QueryError, match="no code 'XYZ'"):
            find_passages(store, PassageQuery(code="XYZ"))
        with pytest.raises(QueryError, match="level filter needs a code"):
            find_passages(store, PassageQuery(level=3))
        with pytest.raises(QueryError, match="needs a coder"):
            find_passages(store, PassageQuery(status="undecided"))
    assert search_terms("  客戶  ＡＢＣ ") == ["客户", "abc"]


def test_a_study_from_before_the_index_is_indexed_on_first_search(study):
    db, _ = study
    con = sqlite3.connect(db)
    con.execute("DELETE FROM passage_search")
    con.execute("UPDATE meta SET value = '6' WHERE key = 'schema_version'")
    con.commit()
    con.close()
    with Store(db) as store:
        assert store.query("SELECT count(*) AS n FROM passage_search") == [{"n": 0}]
        assert where(find_passages(store, PassageQuery(text="銀行流水"))) == [("B01", 1)]
        assert store.query("SELECT count(*) AS n FROM passage_search") == [{"n": 5}]
        assert store.index_passages() == 0  # complete: nothing written again


def test_a_reimported_transcript_is_searched_in_its_new_text(study, tmp_path):
    from beicoder.core.study import import_parsed, parse_files

    db, _ = study
    (tmp_path / "B01.txt").write_text(ZH_B.replace("水電費單", "電費收據"), encoding="utf-8")
    with Store(db) as store:
        import_parsed(store, parse_files([tmp_path / "B01.txt"]))
        assert where(find_passages(store, PassageQuery(text="水电费单"))) == []
        assert where(find_passages(store, PassageQuery(text="电费收据"))) == [("B01", 1)]
        assert store.index_passages() == 0


runner = CliRunner()


def test_cli_passages_and_search(study, tmp_path):
    db, _ = study
    result = runner.invoke(main, ["passages", "--db", str(db), "--code", "INFO", "--coder", "amy"])
    assert result.exit_code == 0, result.output
    assert "2 codings of INFO by amy" in result.output and "A01" in result.output and "B01" in result.output
    result = runner.invoke(main, ["search", "客戶", "--db", str(db)])
    assert result.exit_code == 0 and "2 passages, holding “客戶” (substring scan)" in result.output
    out = tmp_path / "hits.csv"
    result = runner.invoke(main, ["passages", "--db", str(db), "--code", "INFO", "--out", str(out)])
    assert result.exit_code == 0 and f"wrote {out}" in result.output
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # Excel reads the Chinese right
    rows = list(csv.DictReader(raw.decode("utf-8-sig").splitlines(keepends=True)))
    assert [(r["interviewee"], r["passage"], r["coder"], r["level"]) for r in rows] == [
        ("A01", "1", "amy", "3"), ("B01", "1", "amy", "2"), ("B01", "1", "bob", "4")]
    assert rows[0]["memo"] == "first line\nsecond line\nthird line"
    result = runner.invoke(main, ["search", "银行流水", "--db", str(db), "--out", str(tmp_path / "s.csv")])
    assert result.exit_code == 0 and "1 passage, holding “银行流水”" in result.output
    # mistakes are one line
    result = runner.invoke(main, ["passages", "--db", str(db)])
    assert result.exit_code == 2 and "name a code" in result.output
    result = runner.invoke(main, ["passages", "--db", str(db), "--code", "NOPE"])
    assert result.exit_code == 2 and "no code 'NOPE'" in result.output
    result = runner.invoke(main, ["passages", "--db", str(db), "--undecided"])
    assert result.exit_code == 2 and "needs a coder" in result.output


def test_cli_refuses_a_coder_group_or_level_the_study_does_not_have(study):
    db, _ = study
    result = runner.invoke(main, ["passages", "--db", str(db), "--code", "INFO", "--coder", "nobdy"])
    assert result.exit_code == 2
    assert result.output.strip() == f"beicoder: {db.name}: no decisions by coder 'nobdy' (coders: amy, bob)"
    # a new coder may list what is left to decide, with a note that they have decided nothing
    result = runner.invoke(main, ["passages", "--db", str(db), "--undecided", "--coder", "newbie"])
    assert result.exit_code == 0
    assert f"beicoder: note: {db.name}: coder 'newbie' has no decisions yet (coders: amy, bob)" in result.output
    assert "undecided by newbie" in result.output
    result = runner.invoke(main, ["search", "客戶", "--db", str(db), "--group", "best"])
    assert result.exit_code == 2
    assert "no interviewee in group 'best' (groups: average, outstanding)" in result.output
    result = runner.invoke(main, ["passages", "--db", str(db), "--code", "INFO", "--level", "9"])
    assert result.exit_code == 2 and "INFO has no level 9 (levels 0–5)" in result.output
    # a coder's name in another case is the same coder, and a level the code has is fine
    result = runner.invoke(main, ["passages", "--db", str(db), "--code", "INFO", "--coder", "AMY", "--level", "3"])
    assert result.exit_code == 0 and "1 coding of INFO at level 3 by amy" in result.output, result.output
