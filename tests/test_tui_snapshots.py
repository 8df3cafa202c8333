"""Snapshot tests of the coding screen (pytest-textual-snapshot): what the coder sees, as SVG.

The study is fixed (the two small transcripts the Pilot tests share), the suggestions are
made before the picture is taken, and no toast, clock or temporary path is in it. After an
intended change of the layout, look at the report pytest writes and accept the new pictures
with ``pytest tests/test_tui_snapshots.py --snapshot-update``.
"""

from __future__ import annotations

import pytest

from beicoder.tui.app import BeicoderApp
from conftest import TUI_MC01, TUI_MC02, make_study


@pytest.fixture
def study(tmp_path):
    return make_study(tmp_path, {"MC01": TUI_MC01, "MC02": TUI_MC02}, {"MC01": "outstanding", "MC02": "average"})


def settled(*keys: str):
    """A ``run_before`` that waits for the suggestions, presses ``keys`` and clears the toasts
    the keys raised ("added ACH · saved"), so the picture does not depend on timing."""

    async def run_before(pilot) -> None:
        app = pilot.app
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.screen.nlp_state == "suggestions ready"
        for key in keys:
            await pilot.press(key)
        await app.workers.wait_for_complete()
        await pilot.pause()
        app.clear_notifications()
        await pilot.pause()

    return run_before


@pytest.mark.parametrize("size", [(160, 45), (80, 24)], ids=["160x45", "80x24"])
def test_coding_screen(study, snap_compare, size):
    """The second passage of MC01 with its INFO and EXP keywords highlighted, the suggestions
    accepted (a) and the first passage coded ACH: three panes at 160 columns, the transcript
    list hidden at 80."""
    assert snap_compare(BeicoderApp(str(study), "alice"), terminal_size=size, run_before=settled("1", "j", "a"))


def test_coding_screen_transcript_list_on_a_narrow_terminal(study, snap_compare):
    """At 80x24, t shows the transcript list in place of the Codes pane."""
    assert snap_compare(BeicoderApp(str(study), "alice"), terminal_size=(80, 24), run_before=settled("1", "t"))
