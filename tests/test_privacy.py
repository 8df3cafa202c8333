"""Pseudonymisation on import: names file checks, replacement rules, and no original name in
any export (CSV, qdpx)."""

from __future__ import annotations

import zipfile

import pytest
from click.testing import CliRunner

from beicoder.cli import main
from beicoder.core.privacy import NamesFileError, load_names, pseudonymize
from beicoder.core.store import Store

TEXT = """访谈者：请讲一件您觉得成功的事情。

张伟明：去年有个养猪户张伟来贷款。我和同事李娜去他家实地走访，Ann 也去了，还查了他的电费单。

访谈者：结果呢？

张伟明：后来张伟按时还款了。Annual report 里也写了。我们和李娜一直保持联系。
"""
ORIGINALS = ["张伟明", "张伟", "李娜", "Ann"]


def _names(tmp_path, body="name,pseudonym\n张伟,客户甲\n张伟明,P07\n李娜,同事乙\nAnn,Colleague C\n"):
    path = tmp_path / "names.csv"
    path.write_text(body, encoding="utf-8")
    return path


def test_longest_first_and_word_boundaries(tmp_path):
    names = load_names(_names(tmp_path))
    text, counts = pseudonymize(TEXT, names)
    assert counts == {"张伟明": 2, "张伟": 2, "李娜": 2, "Ann": 1}
    assert "P07：" in text and "客户甲来贷款" in text and "Annual report" in text
    assert not any(n in text.replace("Annual", "") for n in ORIGINALS)


@pytest.mark.parametrize("body, message", [
    ("name,alias\n张伟,甲\n", "missing column"),
    ("name,pseudonym\n,甲\n", "line 2: empty name"),
    ("name,pseudonym\n张伟,甲\n张伟,乙\n", "line 3: name '张伟' is listed twice"),
    ("name,pseudonym\n张伟,\n", "empty pseudonym"),
])
def test_bad_names_file_is_one_line_and_imports_nothing(tmp_path, body, message):
    with pytest.raises(NamesFileError, match=message):
        load_names(_names(tmp_path, body))
    (tmp_path / "A01.txt").write_text(TEXT, encoding="utf-8")
    db = tmp_path / "s.db"
    result = CliRunner().invoke(main, ["import", str(tmp_path / "A01.txt"), "--db", str(db),
                                       "--pseudonymize", str(tmp_path / "names.csv")])
    assert result.exit_code == 2 and len(result.stderr.strip().splitlines()) == 1 and message in result.stderr
    assert not db.exists()


def test_no_export_holds_an_original_name(tmp_path):
    folder = tmp_path / "张伟明"  # a personal name even in the folder and file names
    folder.mkdir()
    src = folder / "张伟明.txt"
    src.write_text(TEXT, encoding="utf-8")
    meta = tmp_path / "meta.csv"
    meta.write_text("interviewee,group,branch\n张伟明,outstanding,李娜支行\n", encoding="utf-8")
    db = tmp_path / "s.db"
    run = CliRunner().invoke
    result = run(main, ["import", str(src), "--meta", str(meta), "--db", str(db),
                        "--pseudonymize", str(_names(tmp_path)), "--interviewee-label", "张伟明"])
    assert result.exit_code == 0, result.output
    assert "pseudonymized P07.txt: 7 replacements" in result.stdout
    assert "imported P07.txt: interviewee P07" in result.stdout
    with Store(db, create=False) as st:
        t = st.query("SELECT text, sha256, speaker, source_path, interviewee FROM transcripts")[0]
        assert t["speaker"] == "P07" and t["interviewee"] == "P07"
        for p in st.passages():
            assert p.text == t["text"][p.start:p.end]
        st.toggle_code(st.passages()[0].id, "alice", "INFO")
        assert st.query("SELECT grp, branch FROM interviewees") == [{"grp": "outstanding", "branch": "同事乙支行"}]
    import hashlib
    assert t["sha256"] == hashlib.sha256(src.read_bytes()).hexdigest()
    again = run(main, ["import", str(src), "--db", str(db), "--pseudonymize", str(_names(tmp_path))])
    assert "0 imported, 1 unchanged" in again.stdout
    out = tmp_path / "codings.csv"
    assert run(main, ["export", "--out", str(out), "--db", str(db)]).exit_code == 0
    assert run(main, ["export", "--format", "qdpx", "--out", str(tmp_path / "s.qdpx"), "--db", str(db)]).exit_code == 0
    blobs = {out.name: out.read_bytes()}
    with zipfile.ZipFile(tmp_path / "s.qdpx") as zf:
        blobs.update({f"qdpx:{n}": zf.read(n) for n in zf.namelist()})
    assert any(n.endswith(".csv") for n in blobs) and "qdpx:project.qde" in blobs
    for name, data in blobs.items():
        text = data.decode("utf-8", errors="replace").replace("Annual", "")
        for original in ORIGINALS:
            assert original not in text, (name, original)
    assert any("P07" in b.decode("utf-8", "replace") for b in blobs.values())


def test_pseudonymize_refuses_projects(tmp_path):
    qdpx = tmp_path / "p.qdpx"
    qdpx.write_bytes(b"x")
    result = CliRunner().invoke(main, ["import", str(qdpx), "--db", str(tmp_path / "s.db"),
                                       "--pseudonymize", str(_names(tmp_path))])
    assert result.exit_code == 2 and "--pseudonymize applies to .txt/.md" in result.stderr
