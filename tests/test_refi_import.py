"""Importing REFI-QDA projects (.qdpx) into a study: round trips through beicoder's own
export, several coders, idempotence, and real files from QualCoder's qc and NVivo."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("lxml")

from click.testing import CliRunner  # noqa: E402

from beicoder.cli import main  # noqa: E402
from beicoder.core.refi import RefiError, import_project, place_selection, write_project  # noqa: E402
from beicoder.core.store import Store  # noqa: E402


@pytest.fixture
def qc(realdata) -> Path:
    """Projects written by QualCoder and NVivo."""
    path = realdata / "refi-qda-qc"
    if not path.is_dir():
        pytest.skip(f"{path} not available")
    return path


def _codings(db) -> set[tuple]:
    with Store(db, create=False) as s:
        return {(r["interviewee"], r["passage_ordinal"], r["code"], r["level"], r["coder"]) for r in s.coding_rows()}


def _groups(db) -> dict:
    with Store(db, create=False) as s:
        return {r["id"]: r["grp"] for r in s.query("SELECT id, grp FROM interviewees")}


@pytest.fixture
def coded_study(tiny_study):
    store = Store(tiny_study)
    ps = store.passages()
    store.toggle_code(ps[0].id, "alice", "INFO", 4)
    store.toggle_code(ps[0].id, "alice", "ACH")
    store.toggle_code(ps[0].id, "bob", "INFO", 3)
    store.toggle_code(ps[-1].id, "bob", "SCT")
    store.toggle_code(ps[1].id, "张三", "ACH")
    store.close()
    return tiny_study


def test_place_selection_rule():
    spans = [(0, 100), (100, 140), (150, 400)]
    assert place_selection(100, 140, spans) == [1]          # equal to a passage
    assert place_selection(40, 150, spans) == [0, 1]        # half of passage 0 and all of 1
    assert place_selection(160, 200, spans) == [2]          # a sentence inside a long passage
    assert place_selection(90, 115, spans) == [1]           # most overlap wins when none is covered by half
    assert place_selection(140, 150, spans) == []           # between passages (an interviewer's turn)


def test_round_trip_of_the_demo_study(demo_db, tmp_path):
    with Store(demo_db, create=False) as src:
        qdpx = write_project(src, tmp_path / "demo.qdpx")
        dictionary = src.dictionary()
        n_transcripts = len(src.transcripts())
    fresh = tmp_path / "fresh.db"
    with Store(fresh) as dst:
        rep = import_project(dst, qdpx, dictionary)
        assert len(dst.transcripts()) == n_transcripts
    assert rep.skipped_codes == {} and rep.unplaced == 0 and rep.levels_dropped == 0
    assert _codings(fresh) == _codings(demo_db)
    fresh_groups = _groups(fresh)
    assert dict(fresh_groups) == {k: v for k, v in _groups(demo_db).items() if k in fresh_groups}


def test_round_trip_with_several_coders_and_reimport_changes_nothing(coded_study, tmp_path, dictionary):
    with Store(coded_study, create=False) as src:
        qdpx = write_project(src, tmp_path / "tiny.qdpx")
    fresh = tmp_path / "fresh.db"
    with Store(fresh) as dst:
        first = import_project(dst, qdpx, default_dictionary=dictionary)
        assert first.dictionary == "default"
        assert first.placed == {"alice": 2, "bob": 2, "张三": 1}
        before = dst.query("SELECT * FROM codings ORDER BY passage_id, coder, code")
        n_t = len(dst.transcripts())
        again = import_project(dst, qdpx)
        assert again.written == 0 and [s["status"] for s in again.sources] == ["unchanged"] * n_t
        assert dst.query("SELECT * FROM codings ORDER BY passage_id, coder, code") == before
        assert len(dst.transcripts()) == n_t
    assert _codings(fresh) == _codings(coded_study)
    assert _groups(fresh) == {"A01": "outstanding", "B01": "average"}
    # into the original study: its sources are already there, nothing changes
    with Store(coded_study, create=False) as same:
        assert import_project(same, qdpx).written == 0
    assert _codings(coded_study) == _codings(fresh)


def test_a_broken_project_writes_nothing(tmp_path):
    bad = tmp_path / "bad.qdpx"
    bad.write_bytes(b"not a zip")
    with Store(tmp_path / "s.db") as st:
        with pytest.raises(RefiError, match="not a zip"):
            import_project(st, bad)
        assert st.transcripts() == []


def test_qualcoder_project_builds_a_dictionary_from_its_codebook(tmp_path, qc):
    db = tmp_path / "qc.db"
    with Store(db) as st:
        rep = import_project(st, qc / "qc_demo.qdpx")
        assert rep.dictionary == "codebook"
        assert len(st.codes()) == 262
        assert [s["status"] for s in rep.sources] == ["imported", "imported"]
        assert rep.placed == {"cp": 205} and rep.unplaced == 0 and rep.skipped_codes == {}
        n = len(st.coding_rows())
        assert 0 < n <= 205
        again = import_project(st, qc / "qc_demo.qdpx")
        assert again.written == 0 and again.placed == {"cp": 205} and len(st.coding_rows()) == n


def test_qualcoder_codes_unknown_to_the_study_dictionary_are_reported(tiny_study, qc):
    with Store(tiny_study, create=False) as st:
        rep = import_project(st, qc / "qc_demo.qdpx")
        assert rep.dictionary == "study"
        assert sum(rep.skipped_codes.values()) == 205 and rep.placed == {}
        assert "computational_thinking" in rep.skipped_codes


def test_nvivo_project_fails_with_a_reason_and_writes_nothing(tmp_path, qc):
    with Store(tmp_path / "n.db") as st:
        with pytest.raises(RefiError, match="no text source to import.*plain text is empty"):
            import_project(st, qc / "nvivo_mac15_project.qdpx")
        assert st.transcripts() == [] and st.dictionary() is None


def test_cli_imports_a_project_and_reports(coded_study, tmp_path):
    with Store(coded_study, create=False) as src:
        qdpx = write_project(src, tmp_path / "tiny.qdpx")
    db = tmp_path / "cli.db"
    result = CliRunner().invoke(main, ["import", str(qdpx), "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert "imported source A01: interviewee A01" in result.stdout
    assert "codings per coder: alice 2, bob 2, 张三 1" in result.stdout
    assert "tiny.qdpx: 2 sources imported, 0 unchanged, 0 skipped; 5 codings" in result.stdout
    again = CliRunner().invoke(main, ["import", str(qdpx), "--db", str(db)])
    assert "0 sources imported, 2 unchanged" in again.stdout and "(0 passage codings added or changed)" in again.stdout
    assert _codings(db) == _codings(coded_study)


def test_cli_project_error_is_one_line_and_leaves_no_study(tmp_path):
    bad = tmp_path / "bad.qdpx"
    bad.write_bytes(b"PK\x03\x04 broken")
    db = tmp_path / "new.db"
    result = CliRunner().invoke(main, ["import", str(bad), "--db", str(db)])
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "bad.qdpx" in result.stderr
    assert not db.exists()


def test_cli_qualcoder_summary(tmp_path, qc):
    result = CliRunner().invoke(main, ["import", str(qc / "qc_demo.qdpx"), "--db", str(tmp_path / "q.db")])
    assert result.exit_code == 0, result.output
    assert "dictionary: built from the project's codebook" in result.stdout
    assert "codings per coder: cp 205" in result.stdout
    nv = CliRunner().invoke(main, ["import", str(qc / "nvivo_mac15_project.qdpx"), "--db", str(tmp_path / "n.db")])
    assert nv.exit_code == 2 and "no text source to import" in nv.stderr
    assert not (tmp_path / "n.db").exists()
