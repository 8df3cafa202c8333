"""One coder, however the name is typed: ``Li``, ``li ``, ``Ｌｉ`` and ``Li`` + a zero-width space
are one identity (NFKC, case-folded, no white space or invisible characters); the name shown
is the one first typed; merge says when it maps a name; reliability refuses one person named
twice (issue 14, point 6)."""

from __future__ import annotations

import shutil
import sqlite3

import pytest
from click.testing import CliRunner

from beicoder.cli import main
from beicoder.core import BeicoderError
from beicoder.core.export import import_codings
from beicoder.core.merge import merge_study
from beicoder.core.reliability import ReliabilityError, study_reliability
from beicoder.core.store import Store, StoreError, coder_identity, normalize_coder

SPELLINGS = ["Li", "li ", "Ｌｉ", "Li\u200b", " LI", "l\u200di"]


def run(*args, input=None):
    return CliRunner().invoke(main, [str(a) for a in args], input=input, catch_exceptions=False)


def test_one_identity_rule():
    assert {coder_identity(n) for n in SPELLINGS} == {"li"}
    assert coder_identity("张三\u200b") == coder_identity("张三") == coder_identity(" 张 三 ")
    assert coder_identity("王老师/李老师") != coder_identity("王老师")
    assert coder_identity("Li") != coder_identity("Lin")
    assert normalize_coder(" Ｌｉ ") == "Ｌｉ"  # the name as typed is kept for showing
    with pytest.raises(StoreError):
        coder_identity("\u200b \u2060")


def test_the_store_takes_every_spelling_as_the_first_coder(tiny_study):
    with Store(tiny_study) as store:
        first, second = store.passages()[:2]
        store.toggle_code(first.id, "Li", "INFO")
        for name in SPELLINGS[1:]:
            assert store.resolve_coder(name) == "Li"
        store.toggle_code(second.id, "Ｌｉ", "ACH")
        store.mark_no_code(store.passages()[2].id, "li ")
        store.set_memo(first.id, "Li\u200b", "line one\nline two")
        assert store.coders() == ["Li"]
        assert store.decided_passages("LI") == {first.id, second.id, store.passages()[2].id}
        assert store.mark_for(first.id, " li")["memo"] == "line one\nline two"
        assert [a.coder for a in store.actions("li")] == ["Li"] * 4
        assert store.undo("ｌｉ") == "memo"


def test_a_csv_coder_column_with_near_identical_names_is_one_coder(tiny_study, tmp_path):
    csv = tmp_path / "c.csv"
    csv.write_text("interviewee,passage,code,coder\nA01,1,INFO,Li\nA01,2,ACH,li \nA01,1,ACH,Ｌｉ\u200b\n"
                   "A01,2,ACH,LI\n", encoding="utf-8")
    with Store(tiny_study) as store:
        with pytest.raises(BeicoderError) as err:
            import_codings(store, csv)
        assert any("line 5: repeats line 3" in p for p in err.value.problems)  # li and LI coded A01 #2 ACH twice
        csv.write_text("interviewee,passage,code,coder\nA01,1,INFO,Li\nA01,2,ACH,li \nA01,1,ACH,Ｌｉ\u200b\n",
                       encoding="utf-8")
        done = import_codings(store, csv)
        assert done.coders == ["Li"] and done.passages == 2 and store.coders() == ["Li"]


def _two_copies(tiny_study, tmp_path):
    theirs = tmp_path / "theirs.db"
    shutil.copy(tiny_study, theirs)
    return tiny_study, theirs


def test_merge_maps_near_identical_names_to_one_coder_and_says_so(tiny_study, tmp_path):
    ours, theirs = _two_copies(tiny_study, tmp_path)
    with Store(ours) as store:
        store.toggle_code(store.passages()[0].id, "Li", "INFO")
    with Store(theirs) as other:
        ps = other.passages()
        other.toggle_code(ps[1].id, "li ", "ACH")
        other.toggle_code(ps[2].id, "old", "IU")
        other.toggle_code(ps[3].id, "王老师", "CSO")
    # a study from before identities could hold two spellings of one coder
    con = sqlite3.connect(theirs)
    for table in ("coders SET name", "codings SET coder", "actions SET coder", "audit SET coder"):
        con.execute(f"UPDATE {table} = 'Ｌｉ' WHERE {table.split()[-1]} = 'old'")
    con.commit()
    con.close()
    with Store(theirs) as other:
        assert sorted(other.coders()) == ["li", "王老师", "Ｌｉ"]
    with Store(ours) as store:
        report = merge_study(store, theirs)
        assert sorted(report.same_coder) == [("li", "Li"), ("Ｌｉ", "Li")]
        assert sorted(store.coders()) == ["Li", "王老师"]
        assert len(store.decided_passages("Li")) == 3
        assert report.coders["Li"]["added"] == 2
    again = run("merge", theirs, "--db", ours)
    assert again.exit_code == 0
    assert "coder 'li' in" in again.stdout and "is 'Li' here" in again.stdout
    assert "coder Li: 0 added" in again.stdout


def test_reliability_refuses_one_person_named_twice(tiny_study):
    with Store(tiny_study) as store:
        for p in store.passages():
            store.toggle_code(p.id, "Li", "INFO")
            store.toggle_code(p.id, "Wang", "INFO")
        for twice in (["Li", "li "], ["Li", "Ｌｉ"], ["Li", "Li\u200b"], ["Li", "Li"]):
            with pytest.raises(ReliabilityError, match="name at least two different coders"):
                study_reliability(store, twice)
        assert study_reliability(store, ["li", "WANG"]).table.coders == ["Li", "Wang"]
    result = run("reliability", "--db", tiny_study, "--coders", "Li", "Ｌｉ")
    assert result.exit_code == 2
    (line,) = result.stderr.strip().splitlines()
    assert "'Li' and 'Ｌｉ' are one coder" in line
