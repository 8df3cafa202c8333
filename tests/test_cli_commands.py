"""The CLI package: 'dictionary' as a group with a default command, the explicit codebook
conversion, and an import that refuses a codebook."""

from __future__ import annotations

import subprocess
import sys

from click.testing import CliRunner

from beicoder.cli import main
from beicoder.core.dictionary import load_dictionary
from beicoder.core.refi import write_codebook
from beicoder.core.store import Store
from conftest import TINY_A


def run(*args, input=None):
    return CliRunner().invoke(main, [str(a) for a in args], input=input, catch_exceptions=False)


def _codebook(tmp_path, dictionary):
    (tmp_path / "books").mkdir(exist_ok=True)
    return write_codebook(dictionary, tmp_path / "books" / "codes.qdc")


def test_from_codebook_writes_the_dictionary_named_by_out(tmp_path, dictionary, monkeypatch):
    monkeypatch.chdir(tmp_path)
    book = _codebook(tmp_path, dictionary)
    out = tmp_path / "dicts" / "mine.yaml"
    out.parent.mkdir()
    result = run("dictionary", "from-codebook", book, "--out", out)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("codes.qdc: 8 codes -> dictionary ")
    written = load_dictionary(out)
    assert list(written.codes) == list(dictionary.codes)
    assert all(len(c.levels) == 1 for c in written.competencies)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["books", "dicts"]  # nothing else, nowhere else


def test_from_codebook_refuses_in_one_line_and_writes_nothing(tmp_path, dictionary):
    book = _codebook(tmp_path, dictionary)
    existing = tmp_path / "taken.yaml"
    existing.write_text("mine\n", encoding="utf-8")
    broken = tmp_path / "broken.qdc"
    broken.write_text("<CodeBook><Codes>", encoding="utf-8")
    cases = [
        ((book, "--out", existing), "taken.yaml: exists; move it away"),
        ((book, "--out", tmp_path / "codes.txt"), "codes.txt: a dictionary is a YAML file"),
        ((book, "--out", tmp_path / "nofolder" / "x.yaml"), "does not exist"),
        ((book, "--out", tmp_path), "is a folder"),
        ((tmp_path / "none.qdc", "--out", tmp_path / "a.yaml"), "none.qdc: cannot read"),
        ((broken, "--out", tmp_path / "b.yaml"), "broken.qdc"),
    ]
    for args, message in cases:
        result = run("dictionary", "from-codebook", *args)
        assert result.exit_code == 2, (args, result.output)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and message in lines[0], (args, result.stderr)
    assert existing.read_text(encoding="utf-8") == "mine\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["books", "broken.qdc", "taken.yaml"]


def test_import_refuses_a_codebook_and_names_the_command(tmp_path, dictionary, monkeypatch):
    monkeypatch.chdir(tmp_path)
    book = _codebook(tmp_path, dictionary)
    good = tmp_path / "A01.txt"
    good.write_text(TINY_A, encoding="utf-8")
    db = tmp_path / "s.db"
    result = run("import", good, book, "--db", db)
    assert result.exit_code == 2
    (line,) = result.stderr.strip().splitlines()
    assert str(book) in line and "'beicoder dictionary from-codebook codes.qdc --out codes.yaml'" in line
    assert not db.exists() and not (tmp_path / "codes.yaml").exists()


def test_dictionary_file_alone_still_replaces_the_study_dictionary(tiny_study, tmp_path, dictionary):
    renamed = tmp_path / "renamed.yaml"
    renamed.write_text(dictionary.yaml_text.replace("name_zh: 信息搜集", "name_zh: 信息收集"), encoding="utf-8")
    for args in (["dictionary", renamed, "--db", tiny_study],          # the shorthand of today
                 ["dictionary", "--db", tiny_study, renamed],          # options first
                 ["dictionary", "use", renamed, "--db", tiny_study]):  # the named command
        result = run(*args)
        assert result.exit_code == 0, (args, result.output)
        assert result.stdout.strip() == f"the study now uses {renamed} (8 codes)"
    with Store(tiny_study, create=False) as store:
        assert next(c for c in store.codes() if c["code"] == "INFO")["name_zh"] == "信息收集"


def test_dictionary_group_help_and_a_mistyped_subcommand(tiny_study):
    shown = run("dictionary", "--help")
    assert shown.exit_code == 0 and "from-codebook" in shown.stdout and "use" in shown.stdout
    wrong = run("dictionary", "from-codbook", "x.qdc", "--out", "x.yaml")
    assert wrong.exit_code == 2 and "No such command 'from-codbook'" in wrong.output
    missing = run("dictionary", "nowhere.yaml", "--db", tiny_study)
    assert missing.exit_code == 2 and "nowhere.yaml: cannot read dictionary (no such file)" in missing.stderr


def test_no_command_module_loads_a_heavy_library():
    modules = ["analyze", "backup", "code", "codings", "common", "dictionary", "evaluate", "export", "importing",
               "merge", "reliability", "render", "report", "review", "suggest", "train", "undo"]
    code = ("import sys, importlib\n"
            f"for m in {modules!r}: importlib.import_module('beicoder.cli.' + m)\n"
            "from click.testing import CliRunner\nfrom beicoder.cli import main\n"
            "for args in (['--help'], ['dictionary', '--help'], ['codings', '--help'], ['import', '--help']):\n"
            "    assert CliRunner().invoke(main, args).exit_code == 0, args\n"
            "heavy = ('spacy', 'jieba', 'pandas', 'scipy', 'sklearn', 'textual', 'rich', 'lxml', 'sqlite_utils')\n"
            "print(','.join(m for m in heavy if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_python_m_beicoder_cli_is_the_command():
    out = subprocess.run([sys.executable, "-m", "beicoder.cli", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "dictionary" in out.stdout
