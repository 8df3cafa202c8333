"""Shared fixtures: the bundled dictionary and small studies built in a temporary folder."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from beicoder.core.dictionary import load_dictionary
from beicoder.core.paths import default_dictionary, demo_study
from beicoder.core.store import Store
from beicoder.core.study import import_parsed, parse_files, read_meta

REPO = Path(__file__).resolve().parents[1]

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


# Two small transcripts the TUI tests share: MC01's first passage has ACH keywords, its second
# INFO and EXP keywords, its third none; MC02 has IU, then CSO keywords.
TUI_MC01 = """访谈者：请讲一件你觉得做得好的事。
被访者：那年我给自己定了目标，要超额完成任务，最后拿了全行第一名。
访谈者：你怎么了解一个客户的经营情况？
被访者：我去他店里看了水电费单子，又查了他的银行流水，算了算现金流。
访谈者：后来呢？
被访者：后来就按正常流程办完了。
"""

TUI_MC02 = """访谈者：说说你和客户打交道的一次经历。
被访者：我看出来他有顾虑，说话很犹豫。
访谈者：你怎么做的？
被访者：我坐下来替他算了一份还款计划。
"""


@pytest.fixture(scope="session", autouse=True)
def parse_each_dictionary_once():
    """Every study re-parses its dictionary from the YAML stored in it, and most tests open a
    study several times (the TUI, the CLI, the test itself): about 0.1 s of YAML a time, 200
    times a session. A Dictionary is frozen (tuples all the way down), so within one test
    process the same text from the same source is parsed once and the result shared; a text
    that fails to parse is not kept and fails again. Processes the tests start parse as usual.
    """
    from beicoder.core import dictionary as module

    real = module.parse_dictionary
    parsed: dict[tuple[str, str], object] = {}

    @functools.wraps(real)
    def parse_dictionary(text, source="<dictionary>"):
        key = (text, str(source))
        if key not in parsed:
            parsed[key] = real(text, source)
        return parsed[key]

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(module, "parse_dictionary", parse_dictionary)
        yield


@pytest.fixture(autouse=True)
def no_llm_config_from_home(tmp_path_factory, monkeypatch):
    """The TUI reads an LLM endpoint from the user's config file; a test never does (it would
    send test passages to a real local server). Tests that want one set BEICODER_CONFIG."""
    monkeypatch.setenv("BEICODER_CONFIG", str(tmp_path_factory.getbasetemp() / "no-llm-config.toml"))


@functools.cache
def bundled_dictionary():
    """The bundled dictionary, parsed once per test process: a Dictionary is frozen (tuples all
    the way down), so every study and test can share one."""
    return load_dictionary(default_dictionary())


def make_study(folder: Path, texts: dict[str, str], groups: dict[str, str] | None = None,
               name: str = "study.db") -> Path:
    """A study in ``folder`` with the bundled dictionary and one transcript per ``texts`` item
    (interviewee -> transcript text, written as INTERVIEWEE.txt and imported), groups set from
    ``groups``. Returns the database path."""
    files = []
    for iv, text in texts.items():
        path = folder / f"{iv}.txt"
        path.write_text(text, encoding="utf-8")
        files.append(path)
    db = folder / name
    store = Store(db)
    try:
        store.set_dictionary(bundled_dictionary())
        results = import_parsed(store, parse_files(files))
        assert [r.status for r in results] == ["imported"] * len(files)
        if groups:
            store.upsert_interviewees([{"id": iv, "grp": g} for iv, g in groups.items()])
    finally:
        store.close()
    return db


@pytest.fixture(scope="session")
def realdata() -> Path:
    """The shared real files (transcripts, QDA projects, REFI-QDA schemas) in
    ``shared/realdata`` beside the repository; a test that asks for them skips without them."""
    path = REPO.parent / "shared" / "realdata"
    if not path.is_dir():
        pytest.skip(f"{path} not present (shared/realdata beside the repository)")
    return path


# Models trained in this test session (one per xdist worker), by what they were trained on.
_TRAINED: dict[tuple, object] = {}


def _content(examples) -> tuple:
    return tuple((text, tuple(sorted(labels))) for text, labels in examples)


@pytest.fixture
def shared_models(monkeypatch):
    """Tests that train the same model share it: while this fixture is active,
    ``learned.train_model`` trains once per distinct input (examples, added examples,
    dictionary, seed, epochs) in the session and hands the same pipeline to later calls.

    Every caller still runs its whole path (``train`` saves and reloads, the CLI and the TUI's
    background worker train through it, evaluation scores with the result); only the fit
    itself is not repeated. Training is deterministic, so this changes no result:
    test_training_is_deterministic checks that with the real function, which a test binding
    ``train_model`` at import time keeps calling. ``progress`` is called once at the end.
    """
    from beicoder.core.suggest import learned

    real = learned.train_model

    def train_model(examples, dictionary, seed=learned.SEED, epochs=None, dictionary_examples=True, extra=None,
                    progress=None, settings=None):
        added = extra if extra is not None else (
            [(text, set(labels)) for text, labels in dictionary.examples] if dictionary_examples else [])
        key = (dictionary.sha256, tuple(dictionary.codes), seed, tuple(sorted((settings or {}).items())),
               _content(examples), _content(added))
        if key not in _TRAINED:
            _TRAINED[key] = real(examples, dictionary, seed, epochs, dictionary_examples, extra, settings=settings)
        if progress is not None:
            progress(1, 1)
        return _TRAINED[key]

    monkeypatch.setattr(learned, "train_model", train_model)


@pytest.fixture(scope="session")
def dictionary():
    return bundled_dictionary()


@pytest.fixture
def tiny_study(tmp_path):
    """A study with two short transcripts (A01 outstanding, B01 average); returns the db path."""
    return make_study(tmp_path, {"A01": TINY_A, "B01": TINY_B}, {"A01": "outstanding", "B01": "average"})


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
