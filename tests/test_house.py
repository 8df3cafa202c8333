"""The rules that hold the house together: only core/store speaks SQL, nothing outside the
store handles sqlite3's errors, and every coding write is audited whoever makes it."""

from __future__ import annotations

import ast
import re
import sqlite3
from pathlib import Path

import pytest

from beicoder.core.store import Store, StoreError

SRC = Path(__file__).resolve().parents[1] / "src" / "beicoder"
STORE = SRC / "core" / "store"
SQL = re.compile(r"\b(SELECT\s[\s\S]+\sFROM|INSERT\s+(OR\s+\w+\s+)?INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|"
                 r"CREATE\s+(TABLE|INDEX|VIRTUAL)|PRAGMA\s+\w|ALTER\s+TABLE|DROP\s+(TABLE|INDEX)|BEGIN\s+IMMEDIATE)\b")
CALLS = {"execute", "executemany", "executescript", "query"}


def outside_store():
    files = [p for p in SRC.rglob("*.py") if STORE not in p.parents]
    assert len(files) > 20  # the scan sees the product, not an empty folder
    return files


def test_only_the_store_speaks_sql():
    found = []
    for path in outside_store():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in CALLS:
                found.append(f"{path.relative_to(SRC)}:{node.lineno}: .{node.func.attr}(")
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and SQL.search(node.value):
                found.append(f"{path.relative_to(SRC)}:{node.lineno}: SQL text {node.value[:40]!r}")
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] + ([node.module] if isinstance(node, ast.ImportFrom) else [])
                if any(n and n.split(".")[0] in ("sqlite3", "sqlite_utils") for n in names):
                    found.append(f"{path.relative_to(SRC)}:{node.lineno}: imports sqlite")
    assert found == []


def test_the_scan_would_see_sql():
    """The two detectors catch what they are meant to catch."""
    assert SQL.search('SELECT count(*) FROM codings WHERE coder = ?')
    assert SQL.search("INSERT OR REPLACE INTO codings(a) VALUES (?)")
    assert SQL.search("UPDATE passage_marks SET no_code = 0")
    assert not SQL.search("Select the codes from the list; update the memo and delete from view")
    call = ast.parse("store.db.execute('x')").body[0].value
    assert call.func.attr in CALLS


def test_store_errors_are_one_line_store_errors(tiny_study, tmp_path):
    store = Store(tiny_study)
    pid = store.passages()[0].id
    # locked: another program holds the write lock
    store.conn.execute("PRAGMA busy_timeout = 100")
    other = sqlite3.connect(tiny_study, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    with pytest.raises(StoreError, match="locked by another program") as err:
        store.toggle_code(pid, "amy", "ACH")
    assert "\n" not in str(err.value) and str(tiny_study) in str(err.value)
    other.execute("ROLLBACK")
    other.close()
    store.close()
    # read-only: the file opens, but no decision can be written
    tiny_study.chmod(0o444)
    try:
        con = Store(tiny_study, create=False)
        con.conn.execute("PRAGMA query_only = ON")  # what a read-only file does to writes, for root too
        with pytest.raises(StoreError, match="read-only") as err:
            con.toggle_code(pid, "amy", "ACH")
        assert "\n" not in str(err.value)
        con.close()
    finally:
        tiny_study.chmod(0o644)
    # full disk: SQLite refuses to grow the file (what a full disk does)
    con = Store(tiny_study, create=False)
    pages = con.query("PRAGMA page_count")[0]["page_count"]
    con.conn.execute(f"PRAGMA max_page_count = {pages}")
    with pytest.raises(StoreError, match="disk is full"):
        con.set_memo(pid, "amy", "x" * 200_000)
    assert con.mark_for(pid, "amy") is None  # nothing half-written
    con.close()
    # damaged: bytes overwritten in the middle of the file
    broken = tmp_path / "broken.db"
    data = bytearray(tiny_study.read_bytes())
    data[100:] = b"\xff" * (len(data) - 100)
    broken.write_bytes(bytes(data))
    with pytest.raises(StoreError) as err:
        Store(broken, create=False).transcripts()
    assert "\n" not in str(err.value) and "broken.db" in str(err.value)


# -- every write is audited, whoever makes it ------------------------------------------------------
def _cli(*args):
    from click.testing import CliRunner

    from beicoder.cli import main

    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    return result.exit_code, result.output


def _decisions(db, coder):
    with Store(db, create=False) as store:
        return (sorted((r["passage_id"], r["code"], r["level"]) for r in store.coding_rows(coder)),
                sorted(r["passage_id"] for r in store.marks(coder) if r["no_code"]))


def test_codings_import_is_one_action_that_undo_takes_back(demo_db, tmp_path):
    import shutil

    db = tmp_path / "study.db"
    shutil.copy(demo_db, db)
    before = _decisions(db, "王老师")
    code, out = _cli("codings", "import", Path(__file__).parent / "data" / "coder_wang.csv", "--coder", "王老师",
                     "--db", db)
    assert code == 0, out
    coded, no_code = _decisions(db, "王老师")
    assert len(coded) > 10 and len(no_code) > 10
    with Store(db, create=False) as store:
        (act,) = store.actions("王老师")
        assert (act.origin, act.description) == ("csv", "codings import coder_wang.csv")
        assert act.rows == len(coded) + len(no_code)
    code, out = _cli("undo", "--coder", "王老师", "--db", db)
    assert code == 0 and "undone: codings import coder_wang.csv (csv" in out
    assert _decisions(db, "王老师") == before == ([], [])
    code, out = _cli("undo", "--coder", "王老师", "--redo", "--db", db)
    assert code == 0 and "redone" in out
    assert _decisions(db, "王老师") == (coded, no_code)
    # the reference coding of the demo was itself loaded through the audited path
    with Store(db, create=False) as store:
        assert [a.origin for a in store.actions("reference")] == ["csv"]


def test_qdpx_import_and_merge_are_audited_and_undone_whole(demo_db, tmp_path):
    import shutil

    src = tmp_path / "source.db"
    shutil.copy(demo_db, src)
    with Store(src, create=False) as store:
        p = store.passages()[3].id
        store.toggle_code(p, "amy", "ACH")
        store.set_memo(p, "amy", "first line\nsecond line")
    code, out = _cli("export", "--format", "qdpx", "--out", tmp_path / "s.qdpx", "--db", src)
    assert code == 0, out
    target = tmp_path / "target.db"
    code, out = _cli("import", tmp_path / "s.qdpx", "--db", target)
    assert code == 0, out
    with Store(target, create=False) as store:
        assert {a.origin for c in store.coders() for a in store.actions(c)} == {"qdpx"}
        ref = store.coding_rows("reference")
        assert ref and store.actions("reference")[0].rows >= len(ref)
    code, out = _cli("undo", "--coder", "reference", "--db", target)
    assert code == 0 and "(qdpx" in out
    assert _decisions(target, "reference")[0] == []

    # merge: the other file's amy comes in as one action of origin merge
    merged = tmp_path / "merged.db"
    shutil.copy(demo_db, merged)
    code, out = _cli("merge", src, "--db", merged)
    assert code == 0 and "coder amy: 2 added, 0 updated, 0 unchanged, 0 kept" in out, out
    with Store(merged, create=False) as store:
        (act,) = store.actions("amy")
        assert act.origin == "merge" and act.description == "merge source.db"
        assert store.mark_for(p, "amy")["memo"] == "first line\nsecond line"
    _cli("undo", "--coder", "amy", "--db", merged)
    assert _decisions(merged, "amy") == ([], [])
    with Store(merged, create=False) as store:
        assert store.mark_for(p, "amy") is None


def test_review_apply_is_audited(tmp_path):
    from conftest import make_study

    text = "访谈者：讲一件事。\n被访者：我去客户家实地走访了三次。\n访谈者：然后？\n被访者：后来按时还款了。\n"
    db = make_study(tmp_path, {"R01": text})
    with Store(db, create=False) as store:
        first = store.passages()[0].id
        store.toggle_code(first, "amy", "INFO")
    (tmp_path / "R01.txt").write_text(text.replace("三次", "五次"), encoding="utf-8")
    code, out = _cli("import", tmp_path / "R01.txt", "--db", db)
    assert code == 0 and "1 decisions on changed passages set aside" in out
    code, out = _cli("review", "--db", db)
    item = int(out.split("]")[0].lstrip("["))
    code, out = _cli("review", "--apply", item, 1, "--db", db)
    assert code == 0 and "applied INFO of amy to passage 1 of R01" in out
    with Store(db, create=False) as store:
        new_first = store.passages()[0].id
        assert [c["code"] for c in store.codings_for(new_first, "amy")] == ["INFO"]
        assert store.actions("amy")[0].origin == "review"
        assert store.review_items() == []
    code, out = _cli("undo", "--coder", "amy", "--db", db)
    # the coding and the item's resolution are one action: undo brings the item back for review
    assert "undone: review: INFO on passage 1 (review, 2 rows, passage 1 of R01" in out
    code, out = _cli("review", "--db", db)
    assert f"[{item}]" in out and "1 decisions to review" in out
    code, out = _cli("review", "--dismiss", item, "--db", db)
    assert code == 0 and "dismissed" in out
    code, out = _cli("review", "--dismiss", item, "--db", db)
    assert code == 2 and "resolved already" in out
    _cli("undo", "--coder", "amy", "--db", db)
    assert f"[{item}]" in _cli("review", "--db", db)[1]


def test_undo_of_an_import_follows_decisions_moved_by_a_reimport(demo_db, tmp_path):
    """The reference coding (a CSV import) moved to an edited transcript's new version is
    still taken back whole by undo."""
    import shutil

    from beicoder.core.paths import demo_study

    db = tmp_path / "s.db"
    shutil.copy(demo_db, db)
    edited = tmp_path / "MC01.txt"
    text = (demo_study() / "MC01.txt").read_text(encoding="utf-8")
    first_line = next(line for line in text.splitlines() if line.startswith("被访者"))
    edited.write_text(text.replace(first_line, first_line + "（补记）", 1), encoding="utf-8")
    code, out = _cli("import", edited, "--db", db)
    assert code == 0 and "updated MC01.txt" in out
    code, out = _cli("undo", "--coder", "reference", "--db", db)
    assert "undone: codings import reference_codings.csv" in out
    assert _decisions(db, "reference") == ([], [])


def test_dictionary_drops_are_recorded_and_scales_checked(demo_db, tmp_path):
    import shutil

    import yaml

    from beicoder.core.paths import default_dictionary

    db = tmp_path / "s.db"
    shutil.copy(demo_db, db)
    data = yaml.safe_load(default_dictionary().read_text(encoding="utf-8"))
    data["competencies"] = [c for c in data["competencies"] if c["code"] != "SCT"]
    data["examples"] = [e for e in data.get("examples", []) if "SCT" not in e["codes"]]
    small = tmp_path / "small.yaml"
    small.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with Store(db, create=False) as store:
        n_sct = sum(1 for r in store.coding_rows("reference") if r["code"] == "SCT")
    code, out = _cli("dictionary", small, "--yes", "--db", db)
    assert code == 0, out
    with Store(db, create=False) as store:
        (act,) = store.query("SELECT * FROM actions WHERE origin = 'dictionary'")
        assert act["coder"] == "reference" and act["state"] == 2  # recorded, and closed: SCT is gone
        assert store.query("SELECT count(*) AS n FROM audit WHERE action = ?", [act["id"]]) == [{"n": n_sct}]
    # undo and redo of the import skip the codings that can no longer be restored
    assert _cli("undo", "--coder", "reference", "--db", db)[0] == 0
    code, out = _cli("undo", "--coder", "reference", "--redo", "--db", db)
    assert code == 0 and "redone" in out
    # a dictionary whose scales leave out levels in use is refused, nothing changed
    data["competencies"][0]["levels"] = data["competencies"][0]["levels"][:2]
    narrow = tmp_path / "narrow.yaml"
    narrow.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    code, out = _cli("dictionary", narrow, "--yes", "--db", db)
    assert code == 2 and "levels of existing codings fall outside the new scales: ACH" in out


def test_merge_carries_a_code_taken_back_and_a_no_code_decision(demo_db, tmp_path):
    import shutil

    first, second = tmp_path / "li.db", tmp_path / "wang.db"
    shutil.copy(demo_db, first)
    _cli("codings", "import", Path(__file__).parent / "data" / "coder_wang.csv", "--coder", "wang", "--db", first)
    shutil.copy(first, second)
    with Store(second, create=False) as store:
        coded = sorted({r["passage_id"] for r in store.coding_rows("wang")})
        gone, changed = coded[0], coded[1]
        store.mark_no_code(gone, "wang")  # wang's later view: no code here
        codes = [c["code"] for c in store.codings_for(changed, "wang")]
        store.toggle_code(changed, "wang", codes[0])  # and one code taken back there
        if len(codes) == 1:
            store.toggle_code(changed, "wang", "EXP" if codes[0] != "EXP" else "ACH")
        expected = ([c["code"] for c in store.codings_for(gone, "wang")],
                    sorted(c["code"] for c in store.codings_for(changed, "wang")))
    code, out = _cli("merge", second, "--db", first)
    assert code == 0 and "removed (taken back in" in out, out
    with Store(first, create=False) as store:
        assert store.codings_for(gone, "wang") == [] and store.mark_for(gone, "wang")["no_code"] == 1
        assert sorted(c["code"] for c in store.codings_for(changed, "wang")) == expected[1]
        assert expected[0] == []
    # merging again changes nothing
    code, out = _cli("merge", second, "--db", first)
    assert "0 added, 0 updated" in out and "removed" not in out
