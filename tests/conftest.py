"""Shared fixtures: the bundled dictionary and small studies built in a temporary folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from beicoder.core.dictionary import load_dictionary
from beicoder.core.paths import default_dictionary, demo_study
from beicoder.core.store import Store
from beicoder.core.study import import_parsed, parse_files, read_meta

TINY_A = """# 访谈 A01

访谈者：请讲一件您觉得成功的事情。

被访者：去年有个养猪户来贷款。我去他家实地走访，还查了他的电费单和银行流水。

访谈者：结果呢？

被访者：后来他按时还款了。我们还一直保持联系。
"""

TINY_B = """访谈者：讲一件不太顺利的事。

被访者：有个客户资料很齐，我就按流程报上去了。

访谈者：后来呢？

被访者：后来逾期了，我觉得主要是运气不好。
"""


@pytest.fixture(scope="session")
def dictionary():
    return load_dictionary(default_dictionary())


@pytest.fixture
def tiny_study(tmp_path, dictionary):
    """A study with two short transcripts (A01 outstanding, B01 average); returns the db path."""
    (tmp_path / "A01.txt").write_text(TINY_A, encoding="utf-8")
    (tmp_path / "B01.txt").write_text(TINY_B, encoding="utf-8")
    db = tmp_path / "study.db"
    store = Store(db)
    store.set_dictionary(dictionary)
    import_parsed(store, parse_files([tmp_path / "A01.txt", tmp_path / "B01.txt"]),
                  [{"id": "A01", "grp": "outstanding"}, {"id": "B01", "grp": "average"}])
    store.close()
    return db


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory):
    """The bundled demo study built once per test session (read-only use)."""
    from beicoder.core.study import build_demo

    path = tmp_path_factory.mktemp("demo") / "demo.db"
    build_demo(path, progress=lambda _m: None)
    return path


def demo_files() -> list[Path]:
    return sorted(p for p in demo_study().iterdir() if p.suffix == ".txt")


def demo_meta() -> list[dict]:
    return read_meta(demo_study() / "interviewees.csv")
