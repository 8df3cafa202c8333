"""The wheel carries the bundled dictionary and demo study, and an installed wheel finds them
with no checkout and no environment variable."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# what a build must not see: caches, venvs, earlier builds (setuptools would pack a stale
# build/lib into the wheel), studies
IGNORE = shutil.ignore_patterns(".git", ".*venv*", "venv*", "build", "dist", "*.egg-info", "__pycache__",
                                ".pytest_cache", ".ruff_cache", ".import_linter_cache", "*.db", "*.db-*", "out")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel built from a copy of the source tree, as ``pip wheel`` builds it for
    ``pip install .`` (an isolated build environment, PEP 517)."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    shutil.copytree(REPO, src, ignore=IGNORE)
    out = tmp / "dist"
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(src)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    (path,) = out.glob("beicoder-*.whl")
    return path


def test_the_wheel_carries_the_dictionary_the_demo_study_and_the_gold_files(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    data = "beicoder/data/"
    assert data + "dictionary/micro_credit.yaml" in names
    assert {data + f"transcripts/MC{i:02d}.txt" for i in range(1, 11)} <= names
    for f in ("interviewees.csv", "reference_codings.csv", "gold_passages.csv", "gold_passages_2.csv",
              "gold_passages_3.csv"):
        assert data + "transcripts/" + f in names
    # every file of the two folders, so that a new kind of file is not left behind
    for folder in ("dictionary", "transcripts"):
        for f in (REPO / folder).iterdir():
            if f.is_file() and f.suffix != ".pyc":
                assert f"{data}{folder}/{f.name}" in names, f"{folder}/{f.name} is not in the wheel"
    for f in (REPO / "transcripts" / "en").iterdir():  # the English demo study
        if f.is_file() and f.suffix != ".pyc":
            assert f"{data}transcripts/en/{f.name}" in names, f"transcripts/en/{f.name} is not in the wheel"
    assert data + "transcripts/en/reference_codings.csv" in names
    assert "beicoder/tui/app.tcss" in names
    assert not any(n.startswith(("dictionary/", "transcripts/", "tests/")) for n in names)  # nothing at top level


def test_an_installed_wheel_builds_the_demo_with_no_checkout(wheel, tmp_path):
    """The wheel unpacked into a folder of its own (its dependencies are this environment's),
    run from an empty folder with no BEICODER_HOME: the bundled files come from the wheel."""
    site = tmp_path / "site"
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target", str(site),
                           str(wheel)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "BEICODER_HOME"}
    env["PYTHONPATH"] = str(site)  # ahead of this environment's editable install
    where = subprocess.run(
        [sys.executable, "-c", "import beicoder, beicoder.core.paths as p; "
                               "print(beicoder.__file__); print(p.default_dictionary()); print(p.demo_study())"],
        cwd=empty, env=env, capture_output=True, text=True, check=True).stdout.splitlines()
    assert all(Path(line).is_relative_to(site) for line in where), where
    demo = subprocess.run([sys.executable, "-c", "from beicoder.cli import main; main()", "demo", "--no-tui"],
                          cwd=empty, env=env, capture_output=True, text=True)
    assert demo.returncode == 0, demo.stdout + demo.stderr
    con = sqlite3.connect(empty / "beicoder-demo.db")
    try:
        assert con.execute("SELECT count(*) FROM transcripts").fetchone() == (10,)
        assert con.execute("SELECT count(DISTINCT passage_id) FROM codings WHERE coder = 'reference'").fetchone()[0] > 0
    finally:
        con.close()
    english = subprocess.run([sys.executable, "-c", "from beicoder.cli import main; main()", "demo", "--lang", "en",
                              "--no-tui"], cwd=empty, env=env, capture_output=True, text=True)
    assert english.returncode == 0, english.stdout + english.stderr
    con = sqlite3.connect(empty / "beicoder-demo-en.db")
    try:
        n = len(list((REPO / "transcripts" / "en").glob("EN*.txt")))
        assert n >= 6 and con.execute("SELECT count(*) FROM transcripts WHERE language = 'en'").fetchone() == (n,)
        assert con.execute("SELECT count(DISTINCT passage_id) FROM codings WHERE coder = 'reference'").fetchone()[0] > 0
    finally:
        con.close()


def test_the_editable_install_reads_the_checkout():
    """``pip install -e .`` (how the tests run) maps the data packages onto the checkout's
    folders, so an edited dictionary is seen without reinstalling."""
    import beicoder
    from beicoder.core.paths import default_dictionary, demo_study

    if Path(beicoder.__file__).resolve().parent != REPO / "src" / "beicoder":
        pytest.skip("beicoder is not installed from this checkout in editable mode")
    if os.environ.get("BEICODER_HOME"):
        pytest.skip("BEICODER_HOME is set")
    assert default_dictionary() == REPO / "dictionary" / "micro_credit.yaml"
    assert demo_study() == REPO / "transcripts"


def test_beicoder_home_overrides_the_bundled_folders(tmp_path, monkeypatch):
    from beicoder.core.paths import default_dictionary, demo_study

    (tmp_path / "dictionary").mkdir()
    (tmp_path / "transcripts").mkdir()
    monkeypatch.setenv("BEICODER_HOME", str(tmp_path))
    assert default_dictionary() == tmp_path / "dictionary" / "micro_credit.yaml"
    assert demo_study() == tmp_path / "transcripts"
    monkeypatch.setenv("BEICODER_HOME", str(tmp_path / "nowhere"))  # not a home: the bundled ones
    assert demo_study() != tmp_path / "nowhere" / "transcripts" and (demo_study() / "MC01.txt").is_file()
