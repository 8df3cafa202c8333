"""The find view (coded segments and text search), jumping from it and back, and go to."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import DataTable, Select

from beicoder.core.store import Store
from beicoder.tui.app import BeicoderApp
from beicoder.tui.screens.coding import CodingScreen, resolve_goto
from beicoder.tui.screens.dialogs import GoToScreen
from beicoder.tui.screens.finder import FinderScreen
from conftest import TUI_MC01, TUI_MC02, make_study

SIZE = (160, 45)
# A Traditional transcript: a Simplified query must find it, and a Traditional one MC01/MC02
TW01 = """訪談者：講一件你覺得成功的事。
被訪者：我到客戶的店裡看了水電費單，還查了銀行流水。
訪談者：結果呢？
被訪者：他按時還款了，我們一直保持聯繫。
"""


@pytest.fixture
def study(tmp_path: Path) -> Path:
    db = make_study(tmp_path, {"MC01": TUI_MC01, "MC02": TUI_MC02, "TW01": TW01},
                    {"MC01": "outstanding", "MC02": "average", "TW01": "outstanding"})
    store = Store(db)
    ids = {(t["interviewee"], p.ordinal): p.id for t in store.transcripts() for p in store.passages(t["id"])}
    store.add_codes(ids["MC01", 2], "alice", {"INFO": 3})
    store.add_codes(ids["TW01", 1], "alice", {"INFO": 4})
    store.add_codes(ids["MC02", 1], "bob", {"INFO": 2})
    store.set_memo(ids["TW01", 1], "alice", "查了流水\n也看了电费")
    store.close()
    return db


async def ready(app, pilot) -> CodingScreen:
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()
    return app.screen


async def settle(app, pilot) -> None:
    """Let the find view's query worker finish and its rows be drawn."""
    await pilot.pause(0.3)  # the text box waits for typing to pause before it queries
    await app.workers.wait_for_complete()
    await pilot.pause()


def rows(app) -> list[tuple[str, str]]:
    table = app.screen.query_one("#find-results", DataTable)
    return [(str(table.get_row_at(i)[0]), str(table.get_row_at(i)[1])) for i in range(table.row_count)]


async def test_text_search_in_both_scripts_and_short_queries(study: Path):
    app = BeicoderApp(str(study), "alice")
    async with app.run_test(size=SIZE) as pilot:
        await ready(app, pilot)
        await pilot.press("slash")
        assert isinstance(app.screen, FinderScreen)
        # two Simplified characters find the Traditional transcript (the substring scan)
        await pilot.press(*"客户")
        await settle(app, pilot)
        assert rows(app) == [("TW01", "1")]
        summary = str(app.screen.query_one("#find-summary").content)
        assert "1 passage, holding “客户” (substring scan)" in summary
        # a Traditional query of four characters finds Simplified text (the trigram index)
        await pilot.press(*["backspace"] * 2, *"水電費單")
        await settle(app, pilot)
        assert rows(app) == [("MC01", "2"), ("TW01", "1")]
        await pilot.press(*["backspace"] * 4, *"银行流水")
        await settle(app, pilot)
        assert rows(app) == [("MC01", "2"), ("TW01", "1")]
        assert "FTS5 trigram index" in str(app.screen.query_one("#find-summary").content)
        # the row highlighted stays highlighted from one query to the next; the passage is shown whole
        preview = str(app.screen.query_one("#find-preview").content.renderables[1])
        assert preview == "我到客戶的店裡看了水電費單，還查了銀行流水。"
        await pilot.press("enter", "up")
        await pilot.pause()
        assert "又查了他的银行流水" in str(app.screen.query_one("#find-preview").content.renderables[1])
        # the highlighted passage's memo is shown whole
        await pilot.press("down")
        await pilot.pause()
        shown = str(app.screen.query_one("#find-preview").content.renderables[-1])
        assert "查了流水\n也看了电费" in shown
        # Enter opens it; the words searched for stand out in the passage
        await pilot.press("enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, CodingScreen) and screen.passage.ordinal == 1
        body = screen.query_one("#passage").content.text
        a = body.plain.index("銀行流水")
        assert any("reverse" in str(span.style) and span.start == a and span.end == a + 4 for span in body.spans)


async def test_coded_segments_jump_and_back(study: Path):
    app = BeicoderApp(str(study), "alice")
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        await pilot.press("slash")
        app.screen.query_one("#find-code", Select).value = "INFO"
        await settle(app, pilot)
        assert rows(app) == [("MC01", "2"), ("TW01", "1")]  # alice's codings of INFO
        assert "2 codings of INFO by alice" in str(app.screen.query_one("#find-summary").content)
        app.screen.query_one("#find-who", Select).value = "all"
        await settle(app, pilot)
        assert rows(app) == [("MC01", "2"), ("MC02", "1"), ("TW01", "1")]
        table = app.screen.query_one("#find-results", DataTable)
        assert [str(table.get_row_at(i)[4]) for i in range(3)] == ["L3", "L2", "L4"]  # the level column
        app.screen.query_one("#find-group", Select).value = "outstanding"
        await settle(app, pilot)
        assert rows(app) == [("MC01", "2"), ("TW01", "1")]
        # Enter jumps to the passage in the coding screen
        table.focus()
        await pilot.press("down", "enter")
        await pilot.pause()
        assert app.screen is screen
        assert screen.by_id[screen.transcript_id]["interviewee"] == "TW01" and screen.passage.ordinal == 1
        assert screen.check_action("back_to_list", ()) is True  # the footer now offers b
        # b returns to the list as it was: the same filters, the same row
        await pilot.press("b")
        await settle(app, pilot)
        assert isinstance(app.screen, FinderScreen)
        assert rows(app) == [("MC01", "2"), ("TW01", "1")]
        assert app.screen.query_one("#find-results", DataTable).cursor_row == 1
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen and screen.passage.ordinal == 1  # Esc does not move


async def test_undecided_and_suggested_filters(study: Path):
    app = BeicoderApp(str(study), "alice")
    async with app.run_test(size=SIZE) as pilot:
        await ready(app, pilot)
        await pilot.press("slash")
        app.screen.query_one("#find-status", Select).value = "undecided"
        await settle(app, pilot)
        assert rows(app) == [("MC01", "1"), ("MC01", "3"), ("MC02", "1"), ("MC02", "2"), ("TW01", "2")]
        app.screen.query_one("#find-status", Select).value = "suggested"
        await settle(app, pilot)
        found = rows(app)
        assert ("MC01", "1") in found and ("MC01", "3") not in found  # 后来就按正常流程办完了: nothing suggested
        assert "suggested to alice, undecided" in str(app.screen.query_one("#find-summary").content)


def test_go_to_is_resolved_by_number_name_or_both():
    ts = [{"id": 1, "interviewee": "MC01", "title": "MC01"}, {"id": 2, "interviewee": "MC02", "title": "MC02"},
          {"id": 3, "interviewee": "唐鳳", "title": "2019-06-04-胡曉萍訪問"}]
    assert resolve_goto("17", ts, 2) == (2, 17)
    assert resolve_goto("１７", ts, 2) == (2, 17)  # full-width digits, as a Chinese IME types them
    assert resolve_goto("mc01", ts, 2) == (1, None)
    assert resolve_goto("MC02 5", ts, 1) == (2, 5)
    assert resolve_goto("唐凤", ts, 1) == (3, None)  # Simplified finds the Traditional name
    assert resolve_goto("胡曉萍", ts, 1) == (3, None)  # part of a transcript's title
    with pytest.raises(ValueError, match="matches 2 transcripts"):
        resolve_goto("MC0", ts, 1)
    with pytest.raises(ValueError, match="no interviewee"):
        resolve_goto("XX99", ts, 1)


async def test_go_to_from_the_keyboard(study: Path):
    app = BeicoderApp(str(study), "alice")
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        await pilot.press("g")
        assert isinstance(app.screen, GoToScreen)
        await pilot.press(*"TW01 2", "enter")
        await pilot.pause()
        assert screen.by_id[screen.transcript_id]["interviewee"] == "TW01" and screen.passage.ordinal == 2
        await pilot.press("g", "1", "enter")
        await pilot.pause()
        assert screen.passage.ordinal == 1
        # a passage beyond the transcript is refused with its number of passages
        await pilot.press("g", *"9", "enter")
        await pilot.pause()
        assert screen.passage.ordinal == 1
        assert any("TW01 has 2 passages" in n.message for n in app._notifications)
        # the name is completed as typed (→ takes the completion)
        await pilot.press("g", *"mc0", "right")
        assert app.screen.query_one("#goto-input").value.lower().startswith("mc0")
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, CodingScreen)


async def test_down_from_the_text_box_goes_into_the_list(study: Path):
    app = BeicoderApp(str(study), "alice")
    async with app.run_test(size=SIZE) as pilot:
        await ready(app, pilot)
        await pilot.press("slash", *"水電費單", "down")  # ↓ before the typing pause: the query runs now
        await settle(app, pilot)
        assert rows(app) == [("MC01", "2"), ("TW01", "1")]
        assert isinstance(app.screen.focused, DataTable) and app.screen.focused.cursor_row == 0
        await pilot.press("down", "enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, CodingScreen)
        assert screen.store.transcript_of(screen.passage.id) == next(
            t["id"] for t in screen.transcripts if t["interviewee"] == "TW01")
