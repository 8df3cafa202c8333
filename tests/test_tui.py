"""The coding TUI driven through Textual's Pilot; every decision is checked in SQLite."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from textual import events

from beicoder.core.dictionary import load_dictionary
from beicoder.core.paths import default_dictionary
from beicoder.core.store import Store
from beicoder.core.study import import_parsed, parse_files
from beicoder.tui.app import BeicoderApp
from beicoder.tui.screens.coding import CodingScreen
from beicoder.tui.screens.dialogs import HelpScreen, LevelScreen, MemoScreen
from conftest import TUI_MC01, TUI_MC02, make_study

SIZE = (160, 45)

MC01, MC02 = TUI_MC01, TUI_MC02

P1_TEXT = "那年我给自己定了目标，要超额完成任务，最后拿了全行第一名。"


@pytest.fixture
def study(tmp_path: Path) -> Path:
    """A study of two small transcripts (MC01 outstanding, MC02 average), no suggestions yet."""
    return make_study(tmp_path, {"MC01": MC01, "MC02": MC02}, {"MC01": "outstanding", "MC02": "average"})


def q(db: Path, sql: str, params=()) -> list[tuple]:
    """Read the study with a connection of its own (what another process would see)."""
    conn = sqlite3.connect(str(db))
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def passage_ids(db: Path) -> list[int]:
    return [r[0] for r in q(db, "SELECT p.id FROM passages p JOIN transcripts t ON t.id = p.transcript_id "
                                "ORDER BY t.interviewee, p.ordinal")]


def codings(db: Path, passage_id: int | None = None) -> set[tuple]:
    if passage_id is None:
        return set(q(db, "SELECT passage_id, code, level FROM codings WHERE coder = 'alice'"))
    return set(q(db, "SELECT code, level FROM codings WHERE coder = 'alice' AND passage_id = ?", [passage_id]))


async def ready(app: BeicoderApp, pilot) -> CodingScreen:
    """Wait until the suggestion worker is done and the screen has caught up."""
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, CodingScreen)
    assert screen.nlp_state == "suggestions ready"
    return screen


def passage_shown(screen: CodingScreen) -> str:
    return str(screen.query_one("#passage").content)


def painted(screen: CodingScreen, selector: str) -> str:
    """The text a widget has drawn on screen (its content lines, wrapped lines joined)."""
    w = screen.query_one(selector)
    return "".join("".join(seg.text for seg in w.render_line(y)).strip() for y in range(w.size.height))


async def test_toggle_first_code_and_undo(study: Path):
    p1 = passage_ids(study)[0]
    app = BeicoderApp(str(study), "alice")
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        assert screen.passage.id == p1 and screen.code_order[0] == "ACH"
        await pilot.press("1")
        assert codings(study) == {(p1, "ACH", None)}
        assert "ACH" in str(screen.query_one("#mine").content)
        await pilot.press("1")
        assert codings(study) == set()
        await pilot.press("u")
        assert codings(study) == {(p1, "ACH", None)}
        # the second code toggles the second dictionary code
        await pilot.press("2")
        assert codings(study, p1) == {("ACH", None), (screen.code_order[1], None)}


async def test_accept_suggestions_is_one_action(study: Path):
    p2 = passage_ids(study)[1]
    app = BeicoderApp(str(study), "alice")
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        suggested = {r[0] for r in q(study, "SELECT code FROM suggestions WHERE passage_id = ?", [p2])}
        assert {"INFO", "EXP"} <= suggested  # 水电费/银行流水 and 现金流
        await pilot.press("j")
        assert screen.passage.id == p2
        await pilot.press("a")
        assert {c for c, _ in codings(study, p2)} == suggested
        assert codings(study) == {(p2, c, None) for c in suggested}
        assert q(study, "SELECT count(DISTINCT action) FROM audit WHERE coder = 'alice'") == [(1,)]
        assert set(q(study, "SELECT origin FROM codings")) == {("suggestion",)}
        await pilot.press("u")
        assert codings(study) == set()
        # nothing more to undo: a second u changes nothing and does not crash
        await pilot.press("u")
        assert codings(study) == set()


async def test_accept_without_suggestions_writes_nothing(study: Path):
    p3 = passage_ids(study)[2]
    app = BeicoderApp(str(study), "alice")
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        assert q(study, "SELECT count(*) FROM suggestions WHERE passage_id = ?", [p3]) == [(0,)]
        assert q(study, "SELECT count(*) FROM suggested WHERE passage_id = ?", [p3]) == [(1,)]
        await pilot.press("j", "j")
        assert screen.passage.id == p3
        await pilot.press("a")
        assert codings(study) == set()


async def test_level_screen_sets_level(study: Path):
    p1 = passage_ids(study)[0]
    app = BeicoderApp(str(study), "alice")
    async with app.run_test(size=SIZE) as pilot:
        await ready(app, pilot)
        # without a code, l only warns
        await pilot.press("l")
        assert not isinstance(app.screen, LevelScreen)
        await pilot.press("1")
        await pilot.press("l")
        assert isinstance(app.screen, LevelScreen)
        await pilot.press("3", "enter")
        await pilot.pause()
        assert isinstance(app.screen, CodingScreen)
        assert codings(study) == {(p1, "ACH", 3)}
        # out of range: 9 is refused and the screen stays open; Escape cancels
        await pilot.press("l")
        assert isinstance(app.screen, LevelScreen)
        await pilot.press("9", "enter")
        await pilot.pause()
        assert isinstance(app.screen, LevelScreen)
        assert codings(study) == {(p1, "ACH", 3)}
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, CodingScreen)
        assert codings(study) == {(p1, "ACH", 3)}
        # a negative level is refused too
        await pilot.press("l", "minus", "1", "enter")
        await pilot.pause()
        assert isinstance(app.screen, LevelScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert codings(study) == {(p1, "ACH", 3)}
        # undo restores the level as it was before
        await pilot.press("u")
        assert codings(study) == {(p1, "ACH", None)}


async def test_level_screen_chooses_among_codes(study: Path):
    p2 = passage_ids(study)[1]
    app = BeicoderApp(str(study), "alice")
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        await pilot.press("j", "a")
        coded = [c for c in screen.code_order if c in {c for c, _ in codings(study, p2)}]
        assert len(coded) >= 2
        await pilot.press("l")
        assert isinstance(app.screen, LevelScreen)
        level_screen = app.screen
        first = level_screen._code()
        assert first in coded
        # down moves to the next code of the passage (wrapping around)
        await pilot.press("down")
        chosen = level_screen._code()
        assert chosen == coded[(coded.index(first) + 1) % len(coded)]
        await pilot.press("2", "enter")
        await pilot.pause()
        assert isinstance(app.screen, CodingScreen)
        levels = dict(codings(study, p2))
        assert levels[chosen] == 2
        assert all(levels[c] is None for c in coded if c != chosen)


async def test_no_code_and_memo(study: Path):
    p1 = passage_ids(study)[0]
    app = BeicoderApp(str(study), "alice")
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        await pilot.press("1", "2")
        assert len(codings(study, p1)) == 2
        await pilot.press("x")
        assert codings(study) == set()
        assert q(study, "SELECT no_code, memo FROM passage_marks WHERE coder = 'alice' AND passage_id = ?",
                 [p1]) == [(1, None)]
        assert "no code" in str(screen.query_one("#mine").content)
        await pilot.press("m")
        assert isinstance(app.screen, MemoScreen)
        await pilot.press(*"hard case", "ctrl+s")  # Enter starts a new line in the memo; ctrl+s saves
        await pilot.pause()
        assert isinstance(app.screen, CodingScreen)
        assert q(study, "SELECT no_code, memo FROM passage_marks WHERE coder = 'alice' AND passage_id = ?",
                 [p1]) == [(1, "hard case")]
        # the memo screen opens with the memo; Escape leaves it unchanged
        await pilot.press("m")
        assert app.screen.query_one("#memo-input").text == "hard case"
        await pilot.press(*" edited", "escape")
        await pilot.pause()
        assert q(study, "SELECT memo FROM passage_marks WHERE passage_id = ?", [p1]) == [("hard case",)]
        # adding a code clears the no-code mark but keeps the memo
        await pilot.press("1")
        assert q(study, "SELECT no_code, memo FROM passage_marks WHERE passage_id = ?", [p1]) == [(0, "hard case")]
        assert codings(study) == {(p1, "ACH", None)}


async def test_navigation_and_next_undecided(study: Path):
    ids = passage_ids(study)  # MC01: ids[0..2], MC02: ids[3..4]
    assert len(ids) == 5
    app = BeicoderApp(str(study), "alice")
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        assert screen.index == 0 and P1_TEXT in passage_shown(screen)
        await pilot.press("j")
        assert screen.index == 1 and screen.passage.id == ids[1]
        assert "水电费" in passage_shown(screen)
        await pilot.press("k")
        assert screen.index == 0
        await pilot.press("k")  # stays on the first passage
        assert screen.index == 0
        await pilot.press("down", "down")
        assert screen.index == 2
        await pilot.press("down")  # stays on the last passage of the transcript
        assert screen.index == 2 and screen.passage.id == ids[2]
        await pilot.press("up")
        assert screen.index == 1
        # decide passages 1 and 3 of MC01 and 1 of MC02; n goes from passage 1 to 2, then into MC02
        await pilot.press("k", "1")
        await pilot.press("j", "j", "x")
        assert len(q(study, "SELECT * FROM passage_marks WHERE no_code = 1")) == 1
        await pilot.press("k", "k")
        assert screen.index == 0
        await pilot.press("n")
        assert screen.passage.id == ids[1]
        await pilot.press("a")  # decide it
        await pilot.press("n")
        assert screen.passage.id == ids[3]
        assert "看出来" in passage_shown(screen)
        assert "MC02" in str(screen.query_one("#where").content)
        await pilot.press("1")
        await pilot.press("n")
        assert screen.passage.id == ids[4]
        await pilot.press("2")
        # everything decided: n stays put
        await pilot.press("n")
        assert screen.passage.id == ids[4]
        assert len(q(study, "SELECT DISTINCT passage_id FROM codings UNION "
                            "SELECT passage_id FROM passage_marks WHERE no_code = 1")) == 5


async def test_next_undecided_wraps_to_earlier_transcript(study: Path):
    ids = passage_ids(study)
    app = BeicoderApp(str(study), "alice")
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        # decide everything except MC01 passage 2, then start from MC02
        await pilot.press("1", "j", "j", "x")
        await pilot.press("n")
        assert screen.passage.id == ids[3]
        await pilot.press("1")
        await pilot.press("n")
        assert screen.passage.id == ids[4]
        await pilot.press("1", "n")
        assert screen.passage.id == ids[1]
        assert screen.transcript_id == q(study, "SELECT id FROM transcripts WHERE interviewee = 'MC01'")[0][0]


async def test_screen_paints_before_suggestions(study: Path):
    app = BeicoderApp(str(study), "alice")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, CodingScreen)
        # the passage is there whatever the worker's state
        assert P1_TEXT in passage_shown(screen)
        assert P1_TEXT in painted(screen, "#passage")
        assert "访谈者" in str(screen.query_one("#question").content)
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert screen.nlp_state == "suggestions ready"
        # the worker suggested every passage
        assert q(study, "SELECT count(*) FROM suggested") == [(5,)]
        assert "ACH" in str(screen.query_one("#evidence").content)


async def test_screen_paints_while_worker_blocked(study: Path, monkeypatch):
    """The passage is on screen while the NLP worker is still running."""
    import threading

    import beicoder.core.suggest.lexicon as lexicon

    release = threading.Event()
    real = lexicon.suggest_study

    def slow(*args, **kwargs):
        release.wait(10)
        return real(*args, **kwargs)

    monkeypatch.setattr(lexicon, "suggest_study", slow)
    app = BeicoderApp(str(study), "alice")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, CodingScreen)
        assert screen.nlp_state.startswith("loading")
        assert P1_TEXT in passage_shown(screen)
        assert P1_TEXT in painted(screen, "#passage")
        assert "loading" in painted(screen, "#evidence")
        # coding works while suggestions load
        await pilot.press("1")
        assert codings(study) == {(passage_ids(study)[0], "ACH", None)}
        release.set()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert screen.nlp_state == "suggestions ready"


async def test_help_and_command_palette(study: Path):
    app = BeicoderApp(str(study), "alice")
    async with app.run_test(size=SIZE) as pilot:
        await ready(app, pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, CodingScreen)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        for t in ("Accept suggestions", "Undo", "No code", "Set level", "Memo", "Next undecided passage",
                  "Toggle ACH 成就导向"):
            assert t in titles, t
        # a palette command acts like its key
        toggle = next(c for c in app.get_system_commands(app.screen) if c.title.startswith("Toggle ACH"))
        toggle.callback()
        assert codings(study) == {(passage_ids(study)[0], "ACH", None)}


async def test_quit(study: Path):
    app = BeicoderApp(str(study), "alice")
    async with app.run_test(size=SIZE) as pilot:
        await ready(app, pilot)
        await pilot.press("q")
        await pilot.pause()
        assert not app.is_running
    assert app.return_code == 0


async def test_transcript_list_opens_transcript(study: Path):
    ids = passage_ids(study)
    app = BeicoderApp(str(study), "alice")
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        await pilot.press("t", "down", "enter")
        await pilot.pause()
        assert screen.passage.id == ids[3]
        # focus is back on the passage: coding keys work
        await pilot.press("1")
        assert codings(study) == {(ids[3], "ACH", None)}
        from beicoder.tui.widgets.transcript_list import TranscriptList
        table = screen.query_one("#transcripts", TranscriptList)
        tid2 = q(study, "SELECT id FROM transcripts WHERE interviewee = 'MC02'")[0][0]
        assert table.get_cell(str(tid2), "done") == "1/2"


async def test_suggestion_failure_does_not_close_the_app(study: Path, monkeypatch):
    """An error in the NLP worker is shown; coding goes on without suggestions."""
    import beicoder.core.suggest.lexicon as lexicon

    def broken(*args, **kwargs):
        raise OSError("jieba dictionary missing")

    monkeypatch.setattr(lexicon, "suggest_study", broken)
    app = BeicoderApp(str(study), "alice")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.is_running
        screen = app.screen
        assert isinstance(screen, CodingScreen)
        assert screen.nlp_state.startswith("suggestions unavailable")
        assert "jieba dictionary missing" in str(screen.query_one("#where").content)
        await pilot.press("1")
        assert codings(study) == {(passage_ids(study)[0], "ACH", None)}
        await pilot.press("a")  # no suggestions: nothing more is written
        assert codings(study) == {(passage_ids(study)[0], "ACH", None)}


async def test_transcript_without_passages(study: Path, tmp_path: Path):
    """A transcript with no interviewee speech (imported with a warning) shows no stale passage."""
    (tmp_path / "MC03.txt").write_text("访谈者：你好。\n被访者：\n访谈者：再见。\n", encoding="utf-8")
    store = Store(study)
    try:
        results = import_parsed(store, parse_files([tmp_path / "MC03.txt"]))
        assert results[0].status == "imported" and results[0].passages == 0
    finally:
        store.close()
    app = BeicoderApp(str(study), "alice")
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        assert P1_TEXT in passage_shown(screen)
        await pilot.press("t", "down", "down", "enter")
        await pilot.pause()
        assert screen.passages == [] and screen.passage is None
        assert "no passages" in str(screen.query_one("#where").content)
        assert P1_TEXT not in passage_shown(screen)
        await pilot.press("1", "a", "x", "l", "m", "j", "k")
        assert isinstance(app.screen, CodingScreen)
        assert codings(study) == set()
        assert q(study, "SELECT count(*) FROM passage_marks") == [(0,)]
        await pilot.press("n")  # back to the first undecided passage
        assert screen.passage.id == passage_ids(study)[0]



async def test_level_screen_starts_on_a_code_without_level(study: Path):
    """The level screen starts on the first code still without a level, else the code last touched."""
    p2 = passage_ids(study)[1]
    app = BeicoderApp(str(study), "alice")
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        info, exp = screen.code_order.index("INFO") + 1, screen.code_order.index("EXP") + 1
        await pilot.press("j", str(exp), str(info), "l")
        assert app.screen._code() == "INFO"  # first in dictionary order, though EXP was added first
        await pilot.press("2", "enter")
        await pilot.pause()
        await pilot.press("l")
        assert app.screen._code() == "EXP"
        await pilot.press("4", "enter")
        await pilot.pause()
        assert codings(study, p2) == {("INFO", 2), ("EXP", 4)}
        await pilot.press("l")
        assert app.screen._code() == "EXP"  # every code has a level: the one last touched
        await pilot.press("escape")
        await pilot.pause()
        assert codings(study, p2) == {("INFO", 2), ("EXP", 4)}


async def test_a_failed_write_is_reported_and_the_app_goes_on(study: Path, monkeypatch):
    app = BeicoderApp(str(study), "alice")
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)

        # another program holds the write lock: a real "database is locked", after a short wait
        screen.store.conn.execute("PRAGMA busy_timeout = 200")
        other = sqlite3.connect(study, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        await pilot.press("1")
        await pilot.pause()
        assert app.is_running and app.screen is screen
        messages = [n.message for n in app._notifications]
        assert any("NOT saved (ACH)" in m and "locked by another program" in m for m in messages)
        other.execute("ROLLBACK")
        other.close()
        assert codings(study) == set()
        await pilot.press("1")
        assert codings(study) == {(passage_ids(study)[0], "ACH", None)}


# -- layout on small terminals ------------------------------------------------------------------
@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_passage_is_readable_on_small_terminals(study: Path, size):
    app = BeicoderApp(str(study), "alice")
    async with app.run_test(size=size) as pilot:
        screen = await ready(app, pilot)
        assert screen.query_one("#passage").size.width >= 30
        assert P1_TEXT in painted(screen, "#passage")
        assert screen.query_one("#codes").size.width >= 25  # the Codes pane stays usable
        # coding keys still work
        await pilot.press("1")
        assert codings(study) == {(passage_ids(study)[0], "ACH", None)}


async def test_wide_terminal_keeps_the_three_panes(study: Path):
    app = BeicoderApp(str(study), "alice")
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        assert screen.query_one("#left").size.width == 40 - 1  # without its border
        assert screen.query_one("#right").outer_size.width == 52
        assert screen.query_one("#left").display and screen.query_one("#right").display


async def test_narrow_terminal_hides_the_transcript_list_until_t(study: Path):
    ids = passage_ids(study)
    app = BeicoderApp(str(study), "alice")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(app, pilot)
        left = screen.query_one("#left")
        assert not left.display
        await pilot.press("t")
        assert left.display and screen.query_one("#transcripts").has_focus
        assert left.size.width >= 30
        assert screen.query_one("#passage").size.width >= 30
        await pilot.press("down", "enter")
        await pilot.pause()
        assert screen.passage.id == ids[3]
        assert not left.display and screen.query_one("#center").has_focus
        # t and Esc close the list again without opening anything
        await pilot.press("t")
        assert left.display
        await pilot.press("t")
        assert not left.display
        await pilot.press("t", "escape")
        assert not left.display and screen.passage.id == ids[3]
        # the footer lists help and the transcript list first
        footer_actions = [b.binding.action for b in screen.active_bindings.values() if b.binding.show]
        assert footer_actions[:2] == ["help", "focus_transcripts"]


# -- the level dialog ---------------------------------------------------------------------------
def prompt(app) -> str:
    return str(app.screen.query_one("#level-prompt").content)


async def test_level_screen_does_not_wrap_and_names_the_target(study: Path):
    p2 = passage_ids(study)[1]
    app = BeicoderApp(str(study), "alice")
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        info, exp = screen.code_order.index("INFO") + 1, screen.code_order.index("EXP") + 1
        await pilot.press("j", str(info), str(exp), "l")
        assert app.screen._code() == "INFO"
        assert prompt(app) == "Level for INFO 信息搜集 (0–5):"
        await pilot.press("down")
        assert app.screen._code() == "EXP"
        assert prompt(app) == "Level for EXP 专业知识 (0–5):"
        # ↓ on the last code stays there (it used to wrap to the first code)
        await pilot.press("down", "down", "tab")
        assert app.screen._code() == "EXP"
        assert prompt(app) == "Level for EXP 专业知识 (0–5):"
        await pilot.press("up", "up", "up")
        assert app.screen._code() == "INFO"
        await pilot.press("down", "4", "enter")
        await pilot.pause()
        assert isinstance(app.screen, CodingScreen)
        assert codings(study, p2) == {("INFO", None), ("EXP", 4)}


async def test_level_screen_accepts_full_width_digits(study: Path):
    p1 = passage_ids(study)[0]
    app = BeicoderApp(str(study), "alice")
    async with app.run_test(size=SIZE) as pilot:
        await ready(app, pilot)
        await pilot.press("1", "l", "３")  # what a Chinese IME types
        assert app.screen.query_one("#level-input").value == "３"
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, CodingScreen)
        assert codings(study) == {(p1, "ACH", 3)}
        # a full-width minus is typed too, and the level is then checked like any other
        await pilot.press("l")
        # (Pilot cannot name the full-width minus; send the key a terminal sends)
        app.screen.query_one("#level-input").post_message(events.Key("fullwidth_hyphen_minus", "－"))
        await pilot.pause()
        await pilot.press("１")
        assert app.screen.query_one("#level-input").value == "－１"
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, LevelScreen)
        assert any("levels run 0..5" in n.message for n in app._notifications)
        await pilot.press("escape")
        await pilot.pause()
        assert codings(study) == {(p1, "ACH", 3)}


async def test_level_screen_enter_on_empty_input_does_not_clear(study: Path):
    p1 = passage_ids(study)[0]
    app = BeicoderApp(str(study), "alice")
    async with app.run_test(size=SIZE) as pilot:
        await ready(app, pilot)
        await pilot.press("1", "l", "2", "enter")
        await pilot.pause()
        assert codings(study) == {(p1, "ACH", 2)}
        await pilot.press("l", "enter")
        await pilot.pause()
        assert isinstance(app.screen, LevelScreen)  # still open
        assert any(n.message == "type a level, or Esc to cancel" for n in app._notifications)
        assert codings(study) == {(p1, "ACH", 2)}
        # clearing a level takes an explicit "?"
        await pilot.press("question_mark", "enter")
        await pilot.pause()
        assert isinstance(app.screen, CodingScreen)
        assert codings(study) == {(p1, "ACH", None)}


# -- the transcript list ------------------------------------------------------------------------
@pytest.mark.parametrize("size", [SIZE, (120, 40), (80, 24)])
async def test_long_names_are_shortened_in_the_middle(tmp_path: Path, size):
    names = ["2019-06-04-胡曉萍訪問.UTF-16LE-BOM", "2019-06-04-胡曉萍訪問.UTF-8-BOM-CRLF"]
    for name, text in zip(names, (MC01, MC02)):
        (tmp_path / f"{name}.txt").write_text(text, encoding="utf-8")
    db = tmp_path / "study.db"
    store = Store(db)
    try:
        store.set_dictionary(load_dictionary(default_dictionary()))
        import_parsed(store, parse_files([tmp_path / f"{n}.txt" for n in names]))
    finally:
        store.close()
    app = BeicoderApp(str(db), "alice")
    async with app.run_test(size=size) as pilot:
        screen = await ready(app, pilot)
        await pilot.press("t")  # shows the list on a narrow terminal
        await pilot.pause()
        from beicoder.tui.widgets.transcript_list import TranscriptList
        table = screen.query_one("#transcripts", TranscriptList)
        shown = [str(table.get_row_at(i)[0]) for i in range(2)]
        assert shown[0] != shown[1]
        for full, cell in zip(names, shown):
            assert "…" in cell
            head, tail = cell.split("…")
            assert full.startswith(head) and full.endswith(tail)
            assert head.startswith("2019-06") and len(tail) >= 3
        assert shown[0].endswith("BOM") and shown[1].endswith("CRLF")
        # nothing is pushed out of sight: the table needs no horizontal scrolling
        assert table.virtual_size.width <= table.scrollable_content_region.width
        # the full name of the open transcript is on the #where line
        assert names[0] in str(screen.query_one("#where").content)


# -- number keys beyond the dictionary ----------------------------------------------------------
async def test_key_beyond_the_dictionary_says_so(study: Path):
    app = BeicoderApp(str(study), "alice")
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        assert len(screen.code_order) == 8
        await pilot.press("9")
        assert any(n.message == "no code 9 in this dictionary (8 codes)" for n in app._notifications)
        assert codings(study) == set()


# -- the interviewer's label --------------------------------------------------------------------
NAMED = """### 李记者：请讲一件你觉得做得好的事？
### 王经理：那年我给自己定了目标，要超额完成任务，最后拿了全行第一名，这件事我记得很清楚。
### 李记者：后来呢？
### 王经理：后来就按正常流程办完了，客户也很满意，一直在我们这里贷款。
"""

QA = """Q: Tell me about a time you did well?
A: I set myself a target and beat it, and came first in the branch that year.
Q: What happened next?
A: Nothing special, the client stayed with us.
"""


@pytest.mark.parametrize("text,label,question", [
    (NAMED, "李记者", "请讲一件你觉得做得好的事？"),
    (QA, "Q", "Tell me about a time you did well?"),
])
async def test_question_shows_the_interviewer_label(tmp_path: Path, text, label, question):
    (tmp_path / "T1.txt").write_text(text, encoding="utf-8")
    db = tmp_path / "study.db"
    store = Store(db)
    try:
        store.set_dictionary(load_dictionary(default_dictionary()))
        results = import_parsed(store, parse_files([tmp_path / "T1.txt"]))
        assert results[0].status == "imported" and results[0].passages == 2
    finally:
        store.close()
    app = BeicoderApp(str(db), "alice")
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        shown = str(screen.query_one("#question").content)
        assert shown == f"{label}: {question}"
        assert "访谈者" not in shown and "interviewer" not in shown
    # an interviewer turn without a label falls back to "Interviewer"
    conn = sqlite3.connect(str(db))
    conn.execute("UPDATE turns SET speaker = '' WHERE role = 'interviewer'")
    conn.commit()
    conn.close()
    app = BeicoderApp(str(db), "alice")
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        assert str(screen.query_one("#question").content) == f"Interviewer: {question}"


# -- the help dialog ----------------------------------------------------------------------------
@pytest.mark.parametrize("size", [SIZE, (80, 24)])
async def test_help_keeps_definitions_indented_when_they_wrap(study: Path, size):
    app = BeicoderApp(str(study), "alice")
    async with app.run_test(size=size) as pilot:
        await ready(app, pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        box = app.screen.query_one("#help-box")
        assert box.outer_size.width <= size[0]
        codes = app.screen.query_one("#help-codes")
        lines = ["".join(seg.text for seg in codes.render_line(y)).rstrip() for y in range(codes.size.height)]
        start = next(i for i, line in enumerate(lines) if "ACH" in line)
        indent = lines[start].index("成就导向")
        continuation = [line for line in lines[start:] if line.strip() and not line.strip()[0].isdigit()]
        assert len(continuation) >= 8  # 8 definitions, at least one line each
        wrapped = len(continuation) > 8
        assert all(len(line) - len(line.lstrip()) == indent for line in continuation)
        if size == (80, 24):
            assert wrapped  # definitions do wrap at this width, and stay indented
