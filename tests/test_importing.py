"""core.importing.import_files: the import flow as a function that returns a report."""

from __future__ import annotations

import subprocess
import sys

import pytest

from beicoder.core.importing import ImportRefused, import_files
from beicoder.core.store import Store
from beicoder.core.study import MetaError
from conftest import TINY_A, TINY_B


def _write(folder, name, text, encoding="utf-8"):
    path = folder / name
    path.write_text(text, encoding=encoding)
    return path


def test_the_report_says_what_happened_to_each_file(tmp_path):
    db = tmp_path / "s.db"
    a = _write(tmp_path, "A01.txt", TINY_A, "gbk")
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    meta = _write(tmp_path, "meta.csv", "interviewee,group\nA01,outstanding\nZ99,average\n")
    report = import_files(db, [a, empty], meta=meta)
    assert [(r.path.name, r.status) for r in report.files] == [("empty.txt", "error"), ("A01.txt", "imported")]
    assert report.failed and report.count("imported") == 1 and report.count("error") == 1
    imported = report.files[1]
    assert (imported.interviewee, imported.passages, imported.encoding) == ("A01", 2, "gb18030")
    assert report.notes == ["metadata names interviewee Z99, who has no transcript in the study"]
    assert report.study_written and report.projects == [] and report.pseudonymized == []
    with Store(db, create=False) as store:
        assert [t["interviewee"] for t in store.transcripts()] == ["A01"]
        assert store.interviewee_rows()[0]["group"] == "outstanding"
    again = import_files(db, [a])
    assert [r.status for r in again.files] == ["unchanged"] and not again.failed


def test_only_bad_files_leave_no_study_file(tmp_path):
    db = tmp_path / "s.db"
    binary = tmp_path / "scan.txt"
    binary.write_bytes(b"\x00\x01\x02garbage\x00" * 50)
    report = import_files(db, [binary])
    assert report.failed and not report.study_written and not db.exists()
    assert "looks binary" in report.files[0].message


def test_a_codebook_is_refused_before_anything_is_written(tmp_path, dictionary, monkeypatch):
    from beicoder.core.refi import write_codebook

    monkeypatch.chdir(tmp_path)
    book = write_codebook(dictionary, tmp_path / "codes.qdc")
    a = _write(tmp_path, "A01.txt", TINY_A)
    with pytest.raises(ImportRefused) as err:
        import_files(tmp_path / "s.db", [a, book])
    message = str(err.value)
    assert "\n" not in message and str(book) in message and "beicoder dictionary from-codebook" in message
    assert not (tmp_path / "s.db").exists() and not (tmp_path / "codes.yaml").exists()


def test_bad_metadata_refuses_the_whole_import_even_the_project(tmp_path, tiny_study):
    from beicoder.core.refi import write_project

    with Store(tiny_study, create=False) as store:
        project = write_project(store, tmp_path / "p.qdpx")
    bad_meta = _write(tmp_path, "meta.csv", "interviewee,group\nA01,excellent\n")
    target = tmp_path / "target.db"
    with pytest.raises(MetaError):
        import_files(target, [project, _write(tmp_path, "C01.txt", TINY_B)], meta=bad_meta)
    assert not target.exists()  # checked before the project was imported


def test_a_project_with_metadata_gets_the_metadata(tmp_path, tiny_study):
    from beicoder.core.refi import write_project

    with Store(tiny_study, create=False) as store:
        store.toggle_code(store.passages()[0].id, "amy", "INFO")
        project = write_project(store, tmp_path / "p.qdpx")
    meta = _write(tmp_path, "meta.csv", "interviewee,group\nA01,average\n")
    target = tmp_path / "target.db"
    report = import_files(target, [project], meta=meta)
    (rep,) = report.projects
    assert rep.project == "p.qdpx" and rep.placed == {"amy": 1}
    assert report.files == [] and report.transcripts_given and not report.failed
    with Store(target, create=False) as store:
        groups = {r["interviewee"]: r["group"] for r in store.interviewee_rows()}
    assert groups == {"A01": "average", "B01": "average"}  # A01 outstanding in the project, average by the CSV


def test_pseudonymized_files_are_reported_without_the_original_names(tmp_path):
    names = _write(tmp_path, "names.csv", "name,pseudonym\n养猪户,客户甲\n")
    a = _write(tmp_path, "A01.txt", TINY_A)
    report = import_files(tmp_path / "s.db", [a], names_path=names)
    (p,) = report.pseudonymized
    assert p.path.name == "A01.txt" and p.replacements == [("客户甲", 1)] and p.total == 1
    assert "养猪户" not in repr(report)


def test_a_failure_after_the_study_was_created_leaves_no_study_file(tmp_path, monkeypatch):
    from beicoder.core import study

    def broken(*_args, **_kwargs):
        raise OSError("disk gone")

    monkeypatch.setattr(study, "import_parsed", broken)
    db = tmp_path / "s.db"
    with pytest.raises(OSError):
        import_files(db, [_write(tmp_path, "A01.txt", TINY_A)])
    assert not db.exists() and not (tmp_path / "s.db-wal").exists()


def test_importing_loads_no_ui_library():
    code = ("import sys, beicoder.core.importing\n"
            "print(','.join(m for m in sys.modules if m.split('.')[0] in ('click', 'rich', 'textual') "
            "or m.startswith(('beicoder.cli', 'beicoder.tui'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
