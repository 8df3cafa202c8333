"""The core functions the commands wrap, called directly (no click): each takes a store and
options, returns a result object, and raises a one-line BeicoderError on bad input."""

from __future__ import annotations

import shutil

import pytest

from beicoder.core import BeicoderError
from beicoder.core.store import Store


@pytest.fixture
def demo_copy(demo_db, tmp_path):
    db = tmp_path / "demo.db"
    shutil.copy(demo_db, db)
    return db


def test_analyze_study_compares_the_scores_asked_for(demo_db):
    from beicoder.core.analysis import Rule, analyze_study

    with Store(demo_db, create=False) as store:
        plain = analyze_study(store, "reference", Rule())
        rated = analyze_study(store, "reference", Rule(), normalize=True)
    everything = {"frequency", "rate", "level_score", "mean_level", "mean_level_shown", "max_level", "presence"}
    assert set(plain.comparison["score"]) == everything == set(rated.comparison["score"])
    assert plain.rule.primary == "frequency" and rated.rule.primary == "rate"
    assert set(rated.comparison.loc[rated.comparison.role == "primary", "score"]) == {"rate"}
    assert len(plain.scores) == 10 * 8 and plain.names["INFO"] == "信息搜集"
    assert plain.interviewees["decided"].sum() == 288


def test_export_study_counts_what_it_wrote(demo_db, tmp_path):
    from beicoder.core.export import export_study

    with Store(demo_db, create=False) as store:
        csv = export_study(store, "csv", tmp_path / "c.csv")
        book = export_study(store, "qdc", tmp_path / "c.qdc")
        with pytest.raises(BeicoderError, match="no decisions by coder 'ghost'"):
            export_study(store, "csv", tmp_path / "g.csv", coder="ghost")
    assert (csv.codings, csv.no_code) == (196, 153) and csv.path.exists()
    assert book.codes == 8 and book.path.read_bytes().startswith(b"<?xml")
    assert not (tmp_path / "g.csv").exists()


def test_replace_dictionary_asks_before_deleting_codings(tiny_study, tmp_path, dictionary):
    from beicoder.core.study import replace_dictionary

    text = dictionary.yaml_text
    start, end = text.index("  - code: ACH"), text.index("  - code: INFO")
    smaller = tmp_path / "no_ach.yaml"
    smaller.write_text(text[:start] + text[end:text.index("\nexamples:")] + "\n", encoding="utf-8")
    asked = []
    with Store(tiny_study, create=False) as store:
        store.toggle_code(store.passages()[0].id, "amy", "ACH")
        with pytest.raises(BeicoderError, match="no_ach.yaml: not applied"):
            replace_dictionary(store, smaller, lambda dropped: asked.append(dropped) or False)
        assert asked == [{"ACH": 1}] and "ACH" in store.dictionary().codes
        new, dropped = replace_dictionary(store, smaller, lambda _d: True)
        assert dropped == {"ACH": 1} and "ACH" not in new.codes and store.coding_rows("amy") == []


def test_undo_last_names_the_passage(tiny_study):
    from beicoder.core.review import undo_last

    with Store(tiny_study, create=False) as store:
        second = store.passages()[1]
        store.toggle_code(second.id, "amy", "INFO")
        done = undo_last(store, "amy")
        assert (done.ordinal, done.interviewee, done.action.description) == (2, "A01", "add INFO")
        assert store.coding_rows("amy") == []
        assert undo_last(store, "amy", redo=True).ordinal == 2
        assert undo_last(store, "nobody") is None


def test_apply_review_refuses_unknown_items_and_passages(tmp_path):
    from beicoder.core.review import apply_review
    from beicoder.core.study import import_parsed, parse_files
    from conftest import make_study

    text = "访谈者：讲一件事。\n被访者：我去客户家实地走访了三次。\n"
    db = make_study(tmp_path, {"R01": text})
    with Store(db, create=False) as store:
        store.toggle_code(store.passages()[0].id, "amy", "INFO")
        (tmp_path / "R01.txt").write_text(text.replace("三次", "五次"), encoding="utf-8")
        import_parsed(store, parse_files([tmp_path / "R01.txt"]))
        (item,) = store.review_items()
        with pytest.raises(BeicoderError, match="no decision set aside with id 999"):
            apply_review(store, 999, 1)
        with pytest.raises(BeicoderError, match="R01's transcript has no passage 7"):
            apply_review(store, item["id"], 7)
        applied = apply_review(store, item["id"], 1)
        assert applied["code"] == "INFO" and store.review_items() == []


def test_check_coding_session_refuses_before_the_tui_opens(tiny_study, tmp_path):
    from beicoder.core.study import check_coding_session

    with pytest.raises(BeicoderError, match="no such study file"):
        check_coding_session(tmp_path / "none.db")
    assert not (tmp_path / "none.db").exists()
    with pytest.raises(BeicoderError, match="exclude each other"):
        check_coding_session(tiny_study, blind=True, consensus=["amy", "bob"])
    with pytest.raises(BeicoderError, match="at least two different coders"):
        check_coding_session(tiny_study, consensus=["amy", " amy "])
    with pytest.raises(BeicoderError, match="'amy' and 'Ａｍｙ' are one coder"):
        check_coding_session(tiny_study, consensus=["amy", "Ａｍｙ"])
    assert check_coding_session(tiny_study) == ([], "consensus", None)


def test_study_reliability_of_two_coders(demo_copy):
    from beicoder.core.reliability import study_reliability

    with Store(demo_copy, create=False) as store:
        for p in store.passages()[:5]:
            store.toggle_code(p.id, "amy", "INFO")
        result = study_reliability(store, ["reference", "amy"])
    assert result.table.coders == ["reference", "amy"] and len(result.table.units) == 5
    assert set(result.report) >= {"summary", "per_code", "per_transcript", "disagreements"}


def test_long_flows_report_progress_and_the_cli_draws_no_bar_off_a_terminal(tiny_study, monkeypatch):
    from click.testing import CliRunner

    from beicoder.cli import main, progress
    from beicoder.core.store import Store
    from beicoder.core.suggest.study import suggest_everything

    calls = []
    with Store(tiny_study) as store:
        run = suggest_everything(store, tiny_study, progress=lambda done, total: calls.append((done, total)))
    total = run.passages
    assert calls[-1] == (total, total) and all(b == total for _, b in calls)
    assert [a for a, _ in calls] == sorted(a for a, _ in calls)
    result = CliRunner().invoke(main, ["suggest", "--db", str(tiny_study)])
    assert result.exit_code == 0 and result.stderr == ""  # not a terminal: no bar
    drawn = []
    monkeypatch.setattr(progress, "on_terminal", lambda: True)
    with progress.bar("suggesting") as report:
        report(1, 4)
        drawn.append("ok")
    assert drawn == ["ok"]
