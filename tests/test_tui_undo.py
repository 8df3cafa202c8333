"""Safe undo and redo in the coding screen, and memos of several lines."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from beicoder.core.store import Store
from beicoder.tui.app import BeicoderApp
from beicoder.tui.screens.coding import CodingScreen
from beicoder.tui.screens.dialogs import ConfirmScreen, MemoScreen
from conftest import TUI_MC01, TUI_MC02, make_study

SIZE = (160, 45)


@pytest.fixture
def study(tmp_path: Path) -> Path:
    return make_study(tmp_path, {"MC01": TUI_MC01, "MC02": TUI_MC02}, {"MC01": "outstanding", "MC02": "average"})


def codings(db: Path) -> set[tuple]:
    con = sqlite3.connect(db)
    try:
        return set(con.execute("SELECT t.interviewee, p.ordinal, c.code FROM codings c JOIN passages p "
                               "ON p.id = c.passage_id JOIN transcripts t ON t.id = p.transcript_id "
                               "WHERE c.coder = 'alice'").fetchall())
    finally:
        con.close()


def messages(app) -> list[str]:
    return [n.message for n in app._notifications]


async def ready(app, pilot) -> CodingScreen:
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()
    return app.screen


async def test_undo_names_the_passage_moves_there_and_redo_brings_it_back(study: Path):
    app = BeicoderApp(str(study), "alice")
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        await pilot.press("1", "j", "2", "t", "down", "enter")  # ACH on MC01 1, INFO on MC01 2, then to MC02
        await pilot.pause()
        assert screen.by_id[screen.transcript_id]["interviewee"] == "MC02"
        assert codings(study) == {("MC01", 1, "ACH"), ("MC01", 2, "INFO")}
        await pilot.press("u")
        assert codings(study) == {("MC01", 1, "ACH")}
        # the screen went to the passage undone, and says which one
        assert screen.by_id[screen.transcript_id]["interviewee"] == "MC01" and screen.passage.ordinal == 2
        assert "undone: add INFO on MC01 passage 2" in messages(app)
        await pilot.press("u")
        assert screen.passage.ordinal == 1 and "undone: add ACH on MC01 passage 1" in messages(app)
        assert codings(study) == set()
        # redo, with U and with ctrl+y, in the order undone
        await pilot.press("U")
        assert codings(study) == {("MC01", 1, "ACH")} and "redone: add ACH on MC01 passage 1" in messages(app)
        await pilot.press("ctrl+y")
        assert codings(study) == {("MC01", 1, "ACH"), ("MC01", 2, "INFO")}
        assert screen.passage.ordinal == 2 and "redone: add INFO on MC01 passage 2" in messages(app)
        await pilot.press("ctrl+y")
        assert "nothing to redo" in messages(app)
        # the decision line and progress show the state as stored
        assert "INFO" in str(screen.query_one("#mine").content)
        assert screen.by_id[screen.transcript_id]["n_decided"] == 2


async def test_undoing_past_the_session_start_asks_once(study: Path):
    store = Store(study)
    first = store.passages()[0].id
    store.toggle_code(first, "alice", "ACH")  # yesterday's work
    store.toggle_code(first, "alice", "IU")
    store.close()
    app = BeicoderApp(str(study), "alice")
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        await pilot.press("j", "2")  # today's
        await pilot.press("u")
        assert codings(study) == {("MC01", 1, "ACH"), ("MC01", 1, "IU")}
        # the next undo would take back an action from before this session: asked first
        await pilot.press("u")
        assert isinstance(app.screen, ConfirmScreen)
        question = str(app.screen.query_one("#confirm-question").content)
        assert "Undo past the start of this session?" in question and "“add IU” on MC01 passage 1" in question
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, CodingScreen)
        assert codings(study) == {("MC01", 1, "ACH"), ("MC01", 1, "IU")}  # no: nothing undone
        await pilot.press("u")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await pilot.pause()
        assert codings(study) == {("MC01", 1, "ACH")}
        assert screen.passage.ordinal == 1
        # asked once: the next undo goes on without a question
        await pilot.press("u")
        assert isinstance(app.screen, CodingScreen) and codings(study) == set()
        await pilot.press("u")
        assert "nothing to undo" in messages(app)


THREE_LINES = "第一行：他说的和流水对不上。\nsecond line, in English\n第三行 — 再问一次"


async def test_a_memo_of_several_lines_is_kept_whole(study: Path):
    app = BeicoderApp(str(study), "alice")
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        await pilot.press("m")
        assert isinstance(app.screen, MemoScreen)
        area = app.screen.query_one("#memo-input")
        area.insert(THREE_LINES)  # what a paste of three lines does
        await pilot.press("enter", *"four")  # Enter is a new line, not "save"
        await pilot.pause()
        assert isinstance(app.screen, MemoScreen)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, CodingScreen)
        with Store(study) as store:
            memo = store.mark_for(screen.passage.id, "alice")["memo"]
        assert memo == THREE_LINES + "\nfour"
        shown = str(screen.query_one("#mine").content)
        assert THREE_LINES in shown and shown.endswith("four")  # never cut to a line
        # it opens again with every line; Esc keeps it; the Cancel button too
        await pilot.press("m")
        assert app.screen.query_one("#memo-input").text == THREE_LINES + "\nfour"
        await pilot.press("escape")
        await pilot.pause()
        # an empty memo clears it
        await pilot.press("m")
        app.screen.query_one("#memo-input").clear()
        await pilot.press("ctrl+s")
        await pilot.pause()
        with Store(study) as store:
            assert (store.mark_for(screen.passage.id, "alice") or {}).get("memo") is None
        await pilot.press("u")  # and undo brings it back
        with Store(study) as store:
            assert store.mark_for(screen.passage.id, "alice")["memo"] == THREE_LINES + "\nfour"
