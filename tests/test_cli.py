import sqlite3

import pandas as pd
from click.testing import CliRunner

from beicoder.cli import main
from conftest import TINY_A, demo_files, demo_meta  # noqa: F401


def run(*args):
    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    return result


def test_import_reports_a_bad_file_in_one_line_and_imports_the_rest(tmp_path):
    good = tmp_path / "A01.txt"
    good.write_text(TINY_A, encoding="gbk")
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    db = tmp_path / "s.db"
    result = run("import", good, empty, "--db", db)
    assert result.exit_code == 2
    assert f"beicoder: {empty}: file is empty" in result.stderr.splitlines()
    assert "imported A01.txt: interviewee A01, 2 passages (gb18030, zh-Hans)" in result.stdout
    again = run("import", good, "--db", db)
    assert again.exit_code == 0 and "unchanged A01.txt" in again.stdout
    assert sqlite3.connect(db).execute("SELECT count(*) FROM transcripts").fetchone() == (1,)


def test_nothing_is_written_for_bad_input(tmp_path):
    binary = tmp_path / "scan.txt"
    binary.write_bytes(b"\x00\x01\x02garbage\x00" * 50)
    db = tmp_path / "s.db"
    result = run("import", binary, "--db", db)
    assert result.exit_code == 2 and "looks binary" in result.stderr
    assert not db.exists()
    bad_dict = tmp_path / "d.yaml"
    bad_dict.write_text("competencies:\n  - code: ACH\n    levels: [{level: 1, indicator_en: x}]\n", encoding="utf-8")
    good = tmp_path / "A01.txt"
    good.write_text(TINY_A, encoding="utf-8")
    result = run("import", good, "--db", db, "--dictionary", bad_dict)
    assert result.exit_code == 2
    assert result.stderr.strip() == "beicoder: d.yaml: competency #1 (ACH): missing name (name_zh or name_en)"
    assert not db.exists()


def test_demo_analyze_export_and_codings_import(tmp_path):
    db = tmp_path / "demo.db"
    built = run("demo", "--db", db, "--no-tui")
    assert built.exit_code == 0 and "coder 'reference'" in built.stdout
    out = tmp_path / "out"
    result = run("analyze", "--db", db, "--coder", "reference", "--out", out)
    assert result.exit_code == 0, result.output
    assert "Differentiating competencies:" in result.stdout and "INFO 信息搜集" in result.stdout
    assert "Rule: verdicts come from the primary score frequency and the two-sided Mann-Whitney U" in result.stdout
    scores = (out / "scores.csv").read_bytes()
    assert scores.startswith(b"\xef\xbb\xbf")
    header = scores.decode("utf-8-sig").splitlines()[0]
    assert header == ("interviewee,group,code,frequency,mean_level,max_level,rate,presence,speech_length,"
                      "level_score,mean_level_shown")
    comparison = (out / "comparison.csv").read_bytes().decode("utf-8-sig")
    assert comparison.splitlines()[0].startswith("code,score,role,n_outstanding")
    # full double precision in the CSV: the exact p of complete separation (2/252) reads back exactly
    comp = pd.read_csv(out / "comparison.csv", encoding="utf-8-sig")
    assert comp["mw_p"].min() == 2 / 252 and (comp["mw_p"] == 2 / 252).sum() >= 3
    export = tmp_path / "codings.csv"
    result = run("export", "--format", "csv", "--out", export, "--db", db)
    n = sqlite3.connect(db).execute("SELECT count(*) FROM codings").fetchone()[0]
    assert result.exit_code == 0 and f"wrote {n} codings" in result.stdout
    assert len(export.read_text(encoding="utf-8-sig").splitlines()) > n  # header + rows (texts may hold newlines)
    bad = tmp_path / "bad.csv"
    bad.write_text("interviewee,passage,code,level\nMC01,1,INFO,3\nMC77,1,INFO,3\nMC01,2,ABC,1\n", encoding="utf-8")
    result = run("codings", "import", bad, "--coder", "zoe", "--db", db)
    assert result.exit_code == 2
    assert "beicoder: bad.csv line 3: unknown interviewee 'MC77'" in result.stderr
    assert "beicoder: bad.csv line 4: unknown code 'ABC'" in result.stderr
    assert sqlite3.connect(db).execute("SELECT count(*) FROM codings WHERE coder = 'zoe'").fetchone() == (0,)


def test_analyze_without_codings_and_missing_db(tmp_path):
    result = run("analyze", "--db", tmp_path / "none.db")
    assert result.exit_code == 2 and "no such study file" in result.stderr
    assert not (tmp_path / "none.db").exists()


def test_suggest_command(tmp_path):
    good = tmp_path / "A01.txt"
    good.write_text(TINY_A, encoding="utf-8")
    db = tmp_path / "s.db"
    assert run("import", good, "--db", db).exit_code == 0
    result = run("suggest", "--db", db)
    assert result.exit_code == 0 and "suggested codes for 2 passages" in result.stdout
    codes = {r[0] for r in sqlite3.connect(db).execute("SELECT code FROM suggestions")}
    assert "INFO" in codes


def test_demo_on_a_broken_file_says_how_to_rebuild(tmp_path):
    db = tmp_path / "demo.db"
    db.write_bytes(b"")
    result = run("demo", "--db", db, "--no-tui")
    assert result.exit_code == 2
    assert result.stderr.strip().endswith("use --rebuild to build the demo study there again")
    assert db.read_bytes() == b""
    assert run("demo", "--db", db, "--no-tui", "--rebuild").exit_code == 0
    assert sqlite3.connect(db).execute("SELECT count(*) FROM transcripts").fetchone() == (10,)


def test_export_refuses_to_overwrite_the_study_and_unknown_coders(tmp_path):
    db = tmp_path / "demo.db"
    assert run("demo", "--db", db, "--no-tui").exit_code == 0
    before = db.stat().st_size
    result = run("export", "--format", "csv", "--out", db, "--db", db)
    assert result.exit_code == 2 and "refusing to overwrite it" in result.stderr
    assert db.stat().st_size == before
    result = run("export", "--format", "csv", "--out", tmp_path / "x.csv", "--db", db, "--coder", "ghost")
    assert result.exit_code == 2 and "no decisions by coder 'ghost' (coders: reference)" in result.stderr
    assert not (tmp_path / "x.csv").exists()
    result = run("export", "--format", "csv", "--out", tmp_path / "ref.csv", "--db", db, "--coder", "reference")
    assert result.exit_code == 0 and "wrote 196 codings, 153 no-code decisions and 0 memos" in result.stdout


def test_analyze_warns_about_partial_coding_and_checks_options(tmp_path):
    db = tmp_path / "demo.db"
    assert run("demo", "--db", db, "--no-tui").exit_code == 0
    con = sqlite3.connect(db)
    con.execute("DELETE FROM codings WHERE passage_id IN (SELECT id FROM passages WHERE ordinal > 20)")
    con.execute("DELETE FROM passage_marks WHERE passage_id IN (SELECT id FROM passages WHERE ordinal > 20)")
    con.commit()
    con.close()
    result = run("analyze", "--db", db)
    assert result.exit_code == 0
    assert "coder: reference (200 decided passages)" in result.stdout
    assert "warning: only 200 of 288 passages of these interviewees are decided" in result.stdout
    assert run("analyze", "--db", db, "--alpha", "2").exit_code == 2
    result = run("analyze", "--db", db, "--out", db)
    assert result.exit_code == 2 and "is a file; --out takes a folder" in result.stderr


def test_import_of_an_edited_file_makes_a_new_version(tmp_path):
    path = tmp_path / "A01.txt"
    path.write_text(TINY_A, encoding="utf-8")
    db = tmp_path / "s.db"
    assert run("import", path, "--db", db).exit_code == 0
    path.write_text(TINY_A + "\n被访者：补充。\n", encoding="utf-8")
    result = run("import", path, "--db", db)
    assert result.exit_code == 0, result.output
    assert "updated A01.txt: new version 2 of A01" in result.stdout
    assert "0 imported, 1 updated, 0 unchanged, 0 failed" in result.stdout
    assert sqlite3.connect(db).execute("SELECT count(*), max(version) FROM transcripts").fetchone() == (1, 2)


def test_refi_export_and_codebook_import_through_the_cli(tmp_path, monkeypatch):
    import zipfile

    monkeypatch.chdir(tmp_path)  # nothing lands in the current folder unless asked (--out)
    db = tmp_path / "demo.db"
    assert run("demo", "--db", db, "--no-tui").exit_code == 0
    result = run("export", "--format", "qdpx", "--out", tmp_path / "study.qdpx", "--db", db)
    assert result.exit_code == 0
    assert "wrote the project (10 sources, 196 codings, 153 no-code decisions, 0 memos as Notes)" in result.stdout
    names = zipfile.ZipFile(tmp_path / "study.qdpx").namelist()
    assert names[0] == "project.qde" and sum(n.startswith("sources/") for n in names) == 10
    result = run("export", "--format", "qdc", "--out", tmp_path / "codes.qdc", "--db", db)
    assert result.exit_code == 0 and "wrote the codebook (8 codes)" in result.stdout
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "codes.qdc").rename(tmp_path / "elsewhere" / "codes.qdc")
    result = run("dictionary", "from-codebook", tmp_path / "elsewhere" / "codes.qdc", "--out", tmp_path / "codes.yaml")
    assert result.exit_code == 0 and "8 codes -> dictionary" in result.stdout
    assert not (tmp_path / "elsewhere" / "codes.yaml").exists()
    text = (tmp_path / "codes.yaml").read_text(encoding="utf-8")
    assert "code: ACH" in text and "成就导向" in text
    again = run("dictionary", "from-codebook", tmp_path / "elsewhere" / "codes.qdc", "--out", tmp_path / "codes.yaml")
    assert again.exit_code == 2 and "exists; move it away" in again.stderr


def test_named_coder_without_decisions_is_one_clear_line(tmp_path):
    db = tmp_path / "demo.db"
    assert run("demo", "--db", db, "--no-tui").exit_code == 0
    for cmd in (["train"], ["evaluate"], ["analyze"], ["report", "--out", str(tmp_path / "r")]):
        result = run(*cmd, "--db", db, "--coder", "nobody")
        assert result.exit_code == 2, cmd
        assert "no decisions by coder 'nobody' (coders: reference)" in result.stderr, cmd


def test_export_xlsx_has_codings_and_scores(tmp_path):
    import pandas as pd

    db = tmp_path / "demo.db"
    assert run("demo", "--db", db, "--no-tui").exit_code == 0
    out = tmp_path / "study.xlsx"
    result = run("export", "--format", "xlsx", "--out", out, "--db", db)
    assert result.exit_code == 0 and "wrote 349 decisions, 0 memos and the scores of 1 coder(s)" in result.stdout
    sheets = pd.read_excel(out, sheet_name=None)
    assert list(sheets) == ["codings", "scores reference", "sheets", "columns"]
    assert len(sheets["codings"]) == 349 and len(sheets["scores reference"]) == 10 * 8
    info = sheets["scores reference"].query("interviewee == 'MC01' and code == 'INFO'").iloc[0]
    assert info.frequency == 8


def test_analyze_normalize_compares_rates_not_frequencies(tmp_path):
    db = tmp_path / "demo.db"
    assert run("demo", "--db", db, "--no-tui").exit_code == 0
    out = tmp_path / "o"
    result = run("analyze", "--db", db, "--coder", "reference", "--normalize", "--out", out)
    assert result.exit_code == 0
    comp = pd.read_csv(out / "comparison.csv", encoding="utf-8-sig")
    # the rate is the primary score (the verdicts' family); every other score is secondary
    assert set(comp.loc[comp.role == "primary", "score"]) == {"rate"} and len(comp[comp.role == "primary"]) == 8
    assert set(comp.loc[comp.role == "secondary", "score"]) == {"frequency", "level_score", "mean_level",
                                                                 "mean_level_shown", "max_level", "presence"}
    assert "primary score, rate /1000" in result.stdout and "Threshold competencies" in result.stdout
