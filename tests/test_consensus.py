"""Blind coding and the consensus screen, driven through Textual's Pilot; every consensus
decision is checked in SQLite (coder 'consensus', decided_by the person at the keyboard)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from beicoder.cli import main
from beicoder.core.store import Store
from beicoder.tui.app import BeicoderApp
from beicoder.tui.screens.coding import CodingScreen
from beicoder.tui.screens.consensus import ConsensusScreen
from beicoder.tui.screens.dialogs import HelpScreen, LevelScreen
from beicoder.tui.widgets.transcript_list import TranscriptList
from conftest import TUI_MC01, TUI_MC02, make_study

SIZE = (160, 45)

MC01, MC02 = TUI_MC01, TUI_MC02


def passage_ids(db: Path) -> list[int]:
    return [r[0] for r in q(db, "SELECT p.id FROM passages p JOIN transcripts t ON t.id = p.transcript_id "
                                "ORDER BY t.interviewee, p.ordinal")]


def q(db: Path, sql: str, params=()) -> list[tuple]:
    conn = sqlite3.connect(str(db))
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


@pytest.fixture
def study(tmp_path: Path) -> Path:
    """MC01 (outstanding, passages p1-p3) and MC02 (average, p4-p5), coded by amy and bob:

    - p1: both ACH L3 (agreement)
    - p2: amy INFO L2 + EXP; bob INFO L3 (codes and levels differ)
    - p3: both "no code" (agreement)
    - p4: amy IU L2; bob "no code"
    - p5: amy CSO L1; bob CSO L2 (levels differ)
    """
    db = make_study(tmp_path, {"MC01": MC01, "MC02": MC02}, {"MC01": "outstanding", "MC02": "average"})
    store = Store(db)
    try:
        p1, p2, p3, p4, p5 = passage_ids(db)
        store.add_codes(p1, "amy", {"ACH": 3})
        store.add_codes(p1, "bob", {"ACH": 3})
        store.add_codes(p2, "amy", {"INFO": 2, "EXP": None})
        store.add_codes(p2, "bob", {"INFO": 3})
        store.mark_no_code(p3, "amy")
        store.mark_no_code(p3, "bob")
        store.add_codes(p4, "amy", {"IU": 2})
        store.mark_no_code(p4, "bob")
        store.add_codes(p5, "amy", {"CSO": 1})
        store.add_codes(p5, "bob", {"CSO": 2})
    finally:
        store.close()
    return db


def consensus(db: Path, passage_id: int | None = None) -> set[tuple]:
    """The consensus codings as (passage, code, level, decided_by)."""
    rows = q(db, "SELECT passage_id, code, level, decided_by FROM codings WHERE coder = 'consensus'")
    return {r for r in rows if passage_id is None or r[0] == passage_id}


def no_code(db: Path, passage_id: int) -> list[tuple]:
    return q(db, "SELECT no_code, decided_by FROM passage_marks WHERE coder = 'consensus' AND passage_id = ?",
             [passage_id])


async def settle(app, pilot):
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()
    return app.screen


def text(screen, selector: str) -> str:
    return str(screen.query_one(selector).content)


def painted(screen, selector: str) -> str:
    w = screen.query_one(selector)
    return "\n".join("".join(seg.text for seg in w.render_line(y)).rstrip() for y in range(w.size.height))


def messages(app) -> list[str]:
    return [n.message for n in app._notifications]


async def test_reconcile_every_disagreement(study: Path):
    p1, p2, p3, p4, p5 = passage_ids(study)
    app = BeicoderApp(str(study), "lee", consensus=["amy", "bob"])
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(app, pilot)
        assert isinstance(screen, ConsensusScreen)
        assert screen.coders == ["amy", "bob"] and screen.target == "consensus" and screen.by == "lee"
        assert [screen.table.units[i] for i in screen.disagreements] == [p2, p4, p5]
        assert [screen.table.units[i] for i in screen.agreements] == [p1, p3]
        assert screen.passage_id == p2
        assert text(screen, "#c-progress").startswith("disagreement 1/3 · 0 decided")
        assert "agreements 0/2 in consensus (g copies the rest)" in text(screen, "#c-progress")
        assert "水电费" in text(screen, "#c-passage")
        assert "你怎么了解一个客户的经营情况" in text(screen, "#c-question")
        table = painted(screen, "#c-table")
        assert "a: amy" in table and "b: bob" in table and "consensus" in table
        info_row = next(line for line in table.splitlines() if " INFO " in line)
        assert "✓ L2" in info_row and "✓ L3" in info_row
        exp_row = next(line for line in table.splitlines() if " EXP " in line)
        assert "✓ L?" in exp_row
        assert "not decided" in text(screen, "#c-decision")

        # g: the two agreements go to the consensus in one go, by lee
        await pilot.press("g")
        assert consensus(study) == {(p1, "ACH", 3, "lee")}
        assert no_code(study, p3) == [(1, "lee")]
        assert "copied 2 agreements to consensus" in messages(app)
        assert "agreements 2/2 in consensus" in text(screen, "#c-progress")
        await pilot.press("g")  # twice copies nothing more
        assert any(m.startswith("nothing to copy") for m in messages(app))
        assert consensus(study) == {(p1, "ACH", 3, "lee")}

        # p2: take amy's coding, then bob's; undo goes back one key press at a time
        await pilot.press("a")
        assert consensus(study, p2) == {(p2, "INFO", 2, "lee"), (p2, "EXP", None, "lee")}
        await pilot.press("b")
        assert consensus(study, p2) == {(p2, "INFO", 3, "lee")}
        await pilot.press("u")
        assert consensus(study, p2) == {(p2, "INFO", 2, "lee"), (p2, "EXP", None, "lee")}
        await pilot.press("u")
        assert consensus(study, p2) == set()
        assert consensus(study) == {(p1, "ACH", 3, "lee")}  # the agreements stay
        # bob's coding plus EXP (toggled with its number), then EXP's level through the dialog
        await pilot.press("b", str(screen.code_order.index("EXP") + 1))
        assert consensus(study, p2) == {(p2, "INFO", 3, "lee"), (p2, "EXP", None, "lee")}
        await pilot.press("l")
        assert isinstance(app.screen, LevelScreen)
        assert app.screen._code() == "EXP"
        await pilot.press("4", "enter")
        await pilot.pause()
        assert app.screen is screen
        assert consensus(study, p2) == {(p2, "INFO", 3, "lee"), (p2, "EXP", 4, "lee")}
        assert "INFO L3, EXP L4" in text(screen, "#c-decision")
        assert text(screen, "#c-progress").startswith("disagreement 1/3 · 1 decided")

        # p4: "no code", then amy's IU L2 instead (which clears the mark)
        await pilot.press("j")
        assert screen.passage_id == p4
        await pilot.press("x")
        assert no_code(study, p4) == [(1, "lee")] and consensus(study, p4) == set()
        await pilot.press("a")
        assert consensus(study, p4) == {(p4, "IU", 2, "lee")}
        assert no_code(study, p4)[0][0] == 0
        await pilot.press("u")
        assert no_code(study, p4) == [(1, "lee")] and consensus(study, p4) == set()
        await pilot.press("b")  # bob's "no code": already so, nothing written
        assert any("already has bob's coding" in m for m in messages(app))
        await pilot.press("a")
        assert consensus(study, p4) == {(p4, "IU", 2, "lee")}

        # n: the next disagreement without a consensus decision is p5
        await pilot.press("k", "n")
        assert screen.passage_id == p5
        await pilot.press("b")
        assert consensus(study, p5) == {(p5, "CSO", 2, "lee")}
        assert text(screen, "#c-progress").startswith("disagreement 3/3 · 3 decided")
        await pilot.press("n")
        assert "every disagreement has a consensus decision" in messages(app)
        await pilot.press("j")  # stays on the last disagreement
        assert screen.passage_id == p5

        # the toggles act on the consensus only
        await pilot.press(str(screen.code_order.index("CSO") + 1))
        assert consensus(study, p5) == set()
        await pilot.press("u")
        assert consensus(study, p5) == {(p5, "CSO", 2, "lee")}

        # the coders' own codings are untouched; every consensus decision names lee
        assert q(study, "SELECT count(*) FROM codings WHERE coder IN ('amy', 'bob')") == [(8,)]
        assert set(q(study, "SELECT DISTINCT decided_by FROM codings WHERE coder = 'consensus' UNION "
                            "SELECT DISTINCT decided_by FROM passage_marks WHERE coder = 'consensus'")) == {("lee",)}
        # every passage both coders decided is decided by the consensus
        decided = {r[0] for r in q(study, "SELECT passage_id FROM codings WHERE coder = 'consensus' UNION "
                                          "SELECT passage_id FROM passage_marks "
                                          "WHERE coder = 'consensus' AND no_code = 1")}
        assert decided == {p1, p2, p3, p4, p5}

        # Esc goes back to coding (as lee, who has decided nothing)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, CodingScreen)
        assert "not decided" in str(app.screen.query_one("#mine").content)

    # the consensus coding is analysed like any coder's
    result = CliRunner().invoke(main, ["analyze", "--db", str(study), "--coder", "consensus"])
    assert result.exit_code == 0, result.output
    assert "1 outstanding and 1 average interviewees; 5 of 5 passages decided" in result.output


async def test_accept_agreements_is_one_undo(study: Path):
    p1, _p2, p3, _p4, _p5 = passage_ids(study)
    app = BeicoderApp(str(study), "lee", consensus=["amy", "bob"], consensus_coder="consensus")
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(app, pilot)
        assert isinstance(screen, ConsensusScreen) and screen.coders == ["amy", "bob"]
        await pilot.press("g")
        assert consensus(study) == {(p1, "ACH", 3, "lee")} and no_code(study, p3) == [(1, "lee")]
        await pilot.press("u")
        assert consensus(study) == set()
        assert q(study, "SELECT count(*) FROM passage_marks WHERE coder = 'consensus' AND no_code = 1") == [(0,)]
        await pilot.press("u")  # nothing left: says so
        assert "nothing to undo" in messages(app)


async def test_c_opens_the_consensus_screen_from_coding(study: Path):
    app = BeicoderApp(str(study), "lee")
    async with app.run_test(size=SIZE) as pilot:
        coding = await settle(app, pilot)
        assert isinstance(coding, CodingScreen)
        titles = [c.title for c in app.get_system_commands(coding)]
        assert "Consensus" in titles
        await pilot.press("c")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ConsensusScreen)
        assert screen.coders == ["amy", "bob"]  # every coder with decisions but the consensus
        # the palette offers the consensus commands here
        titles = [c.title for c in app.get_system_commands(screen)]
        for t in ("Take amy's coding", "Take bob's coding", "Accept all agreements", "Undo (consensus)",
                  "Next undecided disagreement"):
            assert t in titles, t
        take_bob = next(c for c in app.get_system_commands(screen) if c.title == "Take bob's coding")
        take_bob.callback()
        assert consensus(study, screen.passage_id) == {(screen.passage_id, "INFO", 3, "lee")}
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        assert "accept all agreements" in painted(app.screen, "#help-keys")
        await pilot.press("escape", "escape")
        await pilot.pause()
        assert app.screen is coding
        # the consensus now shows as a coder: no room for a column of its own beside amy's and
        # bob's (people first), so its total is listed under the transcript list
        assert columns(coding) == ["interviewee", "done", "coder:amy", "coder:bob", "group"]
        assert row(coding, "MC01") == ["MC01", "0/3", "3", "3", "outstanding"]
        assert str(coding.query_one("#others-note").content) == "also decided: consensus 1/5"
        assert coding.query_one("#others-note").display
        # a consensus coder does not reconcile itself: c leaves it out
        await pilot.press("c")
        await pilot.pause()
        assert isinstance(app.screen, ConsensusScreen) and app.screen.coders == ["amy", "bob"]


@pytest.mark.parametrize("size", [SIZE, (80, 24)])
async def test_consensus_screen_is_readable(study: Path, size):
    app = BeicoderApp(str(study), "lee", consensus=["amy", "bob"])
    async with app.run_test(size=size) as pilot:
        screen = await settle(app, pilot)
        assert isinstance(screen, ConsensusScreen)
        assert "水电费" in painted(screen, "#c-passage")
        table = painted(screen, "#c-table")
        assert screen.query_one("#c-table").size.width <= size[0]
        assert "a: amy" in table and "b: bob" in table and "INFO" in table and "no code" in table
        footer = [b.binding.action for b in screen.active_bindings.values() if b.binding.show]
        if size == (80, 24):
            assert footer[:3] == ["help", "back", "take(0)"]  # the keys one cannot guess come first
        await pilot.press("b")  # keys work at any size
        assert consensus(study, screen.passage_id) == {(screen.passage_id, "INFO", 3, "lee")}


async def test_c_needs_two_coders(tmp_path: Path, study: Path):
    store = Store(study)
    try:
        store.db.execute("DELETE FROM codings WHERE coder = 'bob'")
        store.db.execute("DELETE FROM passage_marks WHERE coder = 'bob'")
    finally:
        store.close()
    app = BeicoderApp(str(study), "lee")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("c")
        await pilot.pause()
        assert isinstance(app.screen, CodingScreen)
        assert any("needs decisions by two coders" in m for m in messages(app))


# -- blind coding ---------------------------------------------------------------------------------
def columns(screen: CodingScreen) -> list[str]:
    return [c.key for c in screen.query_one("#transcripts", TranscriptList).columns]


def row(screen: CodingScreen, interviewee: str) -> list[str]:
    table = screen.query_one("#transcripts", TranscriptList)
    tid = next(t["id"] for t in screen.transcripts if t["interviewee"] == interviewee)
    return [str(c) for c in table.get_row(str(tid))]


@pytest.mark.parametrize("size", [SIZE, (80, 24)])
async def test_blind_hides_groups_and_other_coders(study: Path, size):
    app = BeicoderApp(str(study), "amy", blind=True)
    async with app.run_test(size=size) as pilot:
        screen = await settle(app, pilot)
        await pilot.press("t")  # shows the list on a narrow terminal
        await pilot.pause()
        assert columns(screen) == ["interviewee", "done"]
        assert not screen.query_one("#others-note").display
        assert row(screen, "MC01") == ["MC01", "3/3"]
        cells = " ".join(" ".join(row(screen, iv)) for iv in ("MC01", "MC02"))
        assert "outstanding" not in cells and "average" not in cells and "bob" not in cells
        where = str(screen.query_one("#where").content)
        assert "MC01" in where and "outstanding" not in where and "group" not in where
        assert "blind" in app.sub_title
        # no consensus screen while blind, by key or palette
        await pilot.press("escape", "c")
        await pilot.pause()
        assert app.screen is screen
        assert any("coding blind" in m for m in messages(app))
        assert "Consensus" not in [c.title for c in app.get_system_commands(screen)]


@pytest.mark.parametrize("size", [SIZE, (80, 24)])
async def test_without_blind_the_other_coders_progress_is_shown(study: Path, size):
    p1 = passage_ids(study)[0]
    store = Store(study)
    try:
        store.add_codes(p1, "李老师", {"ACH": 2})  # a third coder with one decision
    finally:
        store.close()
    app = BeicoderApp(str(study), "cat")  # cat has decided nothing
    async with app.run_test(size=size) as pilot:
        screen = await settle(app, pilot)
        await pilot.press("t")
        await pilot.pause()
        assert columns(screen) == ["interviewee", "done", "coder:amy", "coder:bob", "coder:李老师", "group"]
        assert row(screen, "MC01")[:5] == ["MC01", "0/3", "3", "3", "1"]
        assert row(screen, "MC02")[:5] == ["MC02", "0/2", "2", "2", "0"]
        # three other coders leave little room in the list: the group is cut at its end
        group = row(screen, "MC01")[5]
        assert group == "outstanding" or (group.endswith("…") and "outstanding".startswith(group[:-1])
                                          and len(group) >= 6)
        table = screen.query_one("#transcripts", TranscriptList)
        assert [c.label for c in table.columns][1:5] == ["you", "amy", "bob", "李老师"]
        # readable: nothing pushed out of sight
        assert table.virtual_size.width <= table.scrollable_content_region.width
        # the coding screen never shows another coder's codings
        await pilot.press("escape")
        assert screen.passage.id == p1
        assert "not decided" in str(screen.query_one("#mine").content)
        codes_pane = "".join("".join(s.text for s in screen.query_one("#codes").render_line(y))
                             for y in range(screen.query_one("#codes").size.height))
        assert "✓" not in codes_pane
        # cat's own decision shows in "you" and nowhere else
        await pilot.press("1")
        assert row(screen, "MC01")[:5] == ["MC01", "1/3", "3", "3", "1"]


@pytest.mark.parametrize("size", [SIZE, (80, 24)])
async def test_coders_without_a_column_are_listed_under_the_list_from_the_start(study: Path, size):
    """A coder the list has no room for is named under it as soon as the screen opens, not
    only after coming back from another screen."""
    p1 = passage_ids(study)[0]
    store = Store(study)
    try:
        store.add_codes(p1, "consensus", {"ACH": 3})
        store.add_codes(p1, "reference", {"ACH": 3})
    finally:
        store.close()
    app = BeicoderApp(str(study), "lee")
    async with app.run_test(size=size) as pilot:
        screen = await settle(app, pilot)
        await pilot.press("t")  # shows the list on a narrow terminal
        await pilot.pause()
        shown = [c for c in ("amy", "bob", "consensus", "reference") if f"coder:{c}" in columns(screen)]
        assert shown[:2] == ["amy", "bob"] and len(shown) < 4
        note = screen.query_one("#others-note")
        assert note.display
        assert str(note.content) == "also decided: " + " · ".join(
            f"{c} 1/5" for c in ("consensus", "reference") if c not in shown)


# -- the command line -----------------------------------------------------------------------------
@pytest.fixture
def launched(monkeypatch):
    """Run 'beicoder code' without the TUI: record what BeicoderApp was given."""
    seen = {}

    def run(self):
        seen.update(coder=self.coder, blind=self.blind, consensus=self.consensus, target=self.consensus_coder)

    monkeypatch.setattr(BeicoderApp, "run", run)
    return seen


@pytest.mark.parametrize("args", [["--consensus", "amy", "bob"], ["--consensus", "amy bob"],
                                  ["--consensus", "amy", "--consensus", "bob"]])
def test_cli_passes_the_consensus_coders(study: Path, launched, args):
    result = CliRunner().invoke(main, ["code", "--db", str(study), "--coder", "lee", *args,
                                       "--consensus-coder", "agreed"])
    assert result.exit_code == 0, result.output
    assert launched == {"coder": "lee", "blind": False, "consensus": ["amy", "bob"], "target": "agreed"}


def test_cli_passes_blind(study: Path, launched):
    result = CliRunner().invoke(main, ["code", "--db", str(study), "--coder", "amy", "--blind"])
    assert result.exit_code == 0, result.output
    assert launched == {"coder": "amy", "blind": True, "consensus": [], "target": "consensus"}


@pytest.mark.parametrize("args,message", [
    (["--blind", "--consensus", "amy", "bob"], "--blind and --consensus exclude each other"),
    (["--consensus", "amy"], "at least two different coders"),
    (["--consensus", "amy", "zed"], "no decisions by zed"),
    (["--consensus", "amy", "bob", "--consensus-coder", "bob"], "cannot also be one of the coders"),
    (["amy"], "unexpected argument"),
])
def test_cli_refuses_bad_consensus_options(study: Path, launched, args, message):
    result = CliRunner().invoke(main, ["code", "--db", str(study), "--coder", "lee", *args])
    assert result.exit_code == 2
    assert message in result.output
    assert launched == {}
