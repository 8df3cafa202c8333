"""The command palette is built from the screens' bindings: no key without its command."""

from __future__ import annotations

from textual.actions import parse

from beicoder.tui.app import BeicoderApp
from beicoder.tui.commands import declared_bindings, screen_commands
from beicoder.tui.screens.analysis import AnalysisScreen
from beicoder.tui.screens.coding import CodingScreen
from conftest import TUI_MC01, TUI_MC02, make_study

SIZE = (160, 45)


async def test_every_described_binding_is_a_command_and_every_code_too(tmp_path):
    db = make_study(tmp_path, {"MC01": TUI_MC01, "MC02": TUI_MC02}, {"MC01": "outstanding", "MC02": "average"})
    app = BeicoderApp(str(db), "alice")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, CodingScreen)
        commands = list(screen_commands(screen))
        described = {b.action for b in declared_bindings(screen) if b.description and not parse(b.action)[2]
                     and screen.palette_offers(parse(b.action)[1])}
        assert "back_to_list" not in described  # offered only after a jump from the find view
        # one command per described action (the arrows repeat j/k), then one per code
        assert len(commands) == len(described) + len(screen.code_order)
        help_of = {c.title: c.help for c in commands}
        assert help_of["Set level"] == "Set the level of a code on this passage (l)"
        assert help_of["Next passage"] == "Move to the next passage (j/↓)"
        assert help_of["Toggle EXP 专业知识"] == "Add or remove Expertise (8)"
        # a title Textual lists already (Quit) is listed once
        titles = [c.title for c in app.get_system_commands(screen)]
        assert titles.count("Quit") == 1 and len(titles) == len(set(titles))
        # a command runs its action: Next passage moves like j
        next(c for c in commands if c.title == "Next passage").callback()
        assert screen.index == 1
        # the analysis screen's commands come from its bindings too, namespaced ones included
        await pilot.press("A")
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, AnalysisScreen)
        back = next(c for c in app.get_system_commands(app.screen) if c.title == "Back to coding")
        await back.callback()
        await pilot.pause()
        assert app.screen is screen
