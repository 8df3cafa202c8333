"""Every code within reach with a 12-code dictionary: the picker, the palette, the Codes pane."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import yaml

from beicoder.core.dictionary import load_dictionary
from beicoder.core.paths import default_dictionary
from beicoder.core.store import Store
from beicoder.core.study import import_parsed, parse_files
from beicoder.tui.app import BeicoderApp
from beicoder.tui.screens.coding import CodingScreen
from beicoder.tui.screens.picker import CodePickerScreen, rank_codes, split_level
from beicoder.tui.widgets.codes_panel import CodesPanel
from conftest import TUI_MC01, TUI_MC02

SIZE = (160, 45)
EXTRA = [("TEAM", "团队合作", "Teamwork"), ("LEAD", "带队能力", "Team leadership"),
         ("INNO", "创新意识", "Innovation"), ("COMP", "合规意识", "Compliance awareness")]


def twelve_codes(folder: Path) -> Path:
    """The bundled dictionary with four more codes (12 in all), written as YAML."""
    data = yaml.safe_load(default_dictionary().read_text(encoding="utf-8"))
    data.pop("examples", None)
    for code, zh, en in EXTRA:
        data["competencies"].append({
            "code": code, "name_zh": zh, "name_en": en, "definition_zh": f"{zh}的定义。",
            "definition_en": f"What {en.lower()} means.",
            "levels": [{"level": lv, "indicator_zh": f"{zh}第{lv}级", "indicator_en": f"{en} level {lv}"}
                       for lv in range(0, 4)],
            "keywords": [f"{zh}关键词"]})
    path = folder / "twelve.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def study(tmp_path: Path) -> Path:
    for name, text in (("MC01", TUI_MC01), ("MC02", TUI_MC02)):
        (tmp_path / f"{name}.txt").write_text(text, encoding="utf-8")
    db = tmp_path / "study.db"
    store = Store(db)
    store.set_dictionary(load_dictionary(twelve_codes(tmp_path)))
    import_parsed(store, parse_files([tmp_path / "MC01.txt", tmp_path / "MC02.txt"]))
    store.close()
    return db


def codings(db: Path) -> set[tuple]:
    con = sqlite3.connect(db)
    try:
        return set(con.execute("SELECT code, level FROM codings WHERE coder = 'alice'").fetchall())
    finally:
        con.close()


async def ready(app, pilot) -> CodingScreen:
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()
    return app.screen


def test_ranking_and_levels_typed_in_the_picker():
    d = load_dictionary(default_dictionary())
    comps = {c.code: c for c in d.competencies}
    assert rank_codes("in", d.codes, comps)[0] == "INFO"  # key first, then names holding it
    assert rank_codes("資訊", d.codes, comps) == [] and rank_codes("信息", d.codes, comps) == ["INFO"]
    assert rank_codes("資訊", d.codes, comps) == []
    assert rank_codes("成就導向", d.codes, comps) == ["ACH"]  # Traditional finds Simplified
    assert rank_codes("achievement", d.codes, comps) == ["ACH"]
    assert rank_codes("", d.codes, comps) == d.codes
    assert split_level("ACH 3") == ("ACH", 3) and split_level("成就 ４") == ("成就", 4)
    assert split_level("ACH") == ("ACH", None)


async def test_the_picker_reaches_codes_past_the_ninth(study: Path):
    app = BeicoderApp(str(study), "alice")
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        assert len(screen.code_order) == 12 and screen.code_order[-1] == "COMP"
        # by its Traditional Chinese name
        await pilot.press("p")
        assert isinstance(app.screen, CodePickerScreen)
        await pilot.press(*"合規")
        assert app.screen.shown == ["COMP"]
        assert "合规意识的定义" in str(app.screen.query_one("#picker-info").content.renderables[1])
        await pilot.press("enter")
        await pilot.pause()
        assert codings(study) == {("COMP", None)}
        # by part of its English name, with a level: added at that level
        await pilot.press("p", *"innov 2", "enter")
        await pilot.pause()
        assert codings(study) == {("COMP", None), ("INNO", 2)}
        # a level on a code the passage has changes its level; Enter again removes it
        await pilot.press("p", *"comp 3", "enter")
        await pilot.pause()
        assert codings(study) == {("COMP", 3), ("INNO", 2)}
        await pilot.press("p", *"COMP", "enter")
        await pilot.pause()
        assert codings(study) == {("INNO", 2)}
        # a level off the scale is refused and the picker stays open; Esc cancels
        await pilot.press("p", *"team 9", "enter")
        await pilot.pause()
        assert isinstance(app.screen, CodePickerScreen)
        assert any("TEAM levels run 0..3" in n.message for n in app._notifications)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, CodingScreen)
        # ↓ then Enter takes the second code listed
        await pilot.press("p", *"意识", "down", "enter")
        await pilot.pause()
        assert codings(study) == {("INNO", 2), ("COMP", None)}
        # undo takes the picker's actions back one by one
        await pilot.press("u")
        assert codings(study) == {("INNO", 2)}


async def test_palette_and_codes_pane_offer_all_twelve(study: Path):
    app = BeicoderApp(str(study), "alice")
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        titles = [c.title for c in app.get_system_commands(screen)]
        for code, zh, _ in EXTRA:
            assert f"Toggle {code} {zh}" in titles
        next(c for c in app.get_system_commands(screen) if c.title == "Toggle LEAD 带队能力").callback()
        await pilot.pause()
        assert codings(study) == {("LEAD", None)}
        # the Codes pane lists all twelve; its cursor shows a code's definition and levels
        panel = screen.query_one(CodesPanel)
        assert panel.row_count == 12
        await pilot.press("tab")
        assert panel.has_focus
        for _ in range(11):
            await pilot.press("down")
        await pilot.pause()
        assert panel.highlighted_code == "COMP"
        info = screen.query_one("#code-info")
        assert "COMP" in str(info.content.renderables[0]) and "合规意识的定义" in str(info.content.renderables[1])
        # Enter on a row toggles that code, then the number keys still work from the passage
        await pilot.press("enter")
        await pilot.pause()
        assert codings(study) == {("LEAD", None), ("COMP", None)}
        await pilot.press("escape", "1")
        await pilot.pause()
        assert codings(study) == {("LEAD", None), ("COMP", None), ("ACH", None)}
        assert panel.highlighted_code == "ACH"  # a number key highlights its code


@pytest.mark.parametrize("size", [(160, 45), (80, 24)])
async def test_the_codes_pane_scrolls_and_keeps_names_and_levels_whole(study: Path, size):
    app = BeicoderApp(str(study), "alice")
    async with app.run_test(size=size) as pilot:
        screen = await ready(app, pilot)
        await pilot.press("3", "p", *"comp 2", "enter")
        await pilot.pause()
        panel = screen.query_one(CodesPanel)
        lines = ["".join(s.text for s in panel.render_line(y)) for y in range(panel.size.height)]
        text = "\n".join(lines)
        assert "人际理解" in text and ("✓ L?" in text or "✓L?" in text)
        # at 80x24 the table is shorter than its twelve rows: it scrolls to the last one
        assert (panel.max_scroll_y > 0) == (size == (80, 24))
        panel.focus()
        panel.highlight("COMP")
        await pilot.pause()
        lines = ["".join(s.text for s in panel.render_line(y)) for y in range(panel.size.height)]
        assert any("COMP" in line and ("L2" in line) for line in lines)
