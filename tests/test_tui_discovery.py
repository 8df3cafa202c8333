"""Pilot test of the discovery screen: D opens it, Enter lists a term's or theme's passages,
Enter on a passage goes back to coding on it; refused when coding blind."""

from beicoder.core.discover import discovery_path, load_discovery
from beicoder.tui.app import BeicoderApp
from beicoder.tui.screens.coding import CodingScreen
from beicoder.tui.screens.discovery import DiscoveryScreen
from beicoder.tui.widgets.discovery_passages import DiscoveryPassages

SIZE = (160, 45)


async def settle(app, pilot):
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()


async def test_discovery_screen_lists_terms_and_themes_and_jumps_to_a_passage(demo_db, tmp_path):
    db = tmp_path / "demo.db"
    db.write_bytes(demo_db.read_bytes())
    app = BeicoderApp(str(db), "reference")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("D")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, DiscoveryScreen)
        assert "computed now and saved" in str(screen.query_one("#discovery-status").content)
        assert discovery_path(db).is_file() and load_discovery(db).coder == "reference"
        terms, themes = screen.query_one("#terms"), screen.query_one("#themes")
        assert terms.row_count == 30 and themes.row_count == len(screen.result.themes) > 0
        top = screen.result.top_terms("outstanding", 1)[0]
        await pilot.press("enter")  # the first term
        await pilot.pause()
        passages = screen.query_one(DiscoveryPassages)
        assert passages.has_focus and passages.option_count == len(top.passages)
        await pilot.press("down", "enter")  # its second passage
        await pilot.pause()
        coding = app.screen
        assert isinstance(coding, CodingScreen)
        assert coding.passage.id == top.passages[1]
        # back on the screen: the saved discovery shows at once; a theme lists its passages
        await pilot.press("D")
        await settle(app, pilot)
        screen = app.screen
        assert "the last one saved" in str(screen.query_one("#discovery-status").content)
        screen.query_one("#themes").focus()
        await pilot.press("down", "enter")  # theme 2
        await pilot.pause()
        theme = screen.result.theme(2)
        assert screen.query_one(DiscoveryPassages).option_count == len(theme.passages)
        assert "--from-theme 2" in str(screen.query_one("#discovery-status").content)
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen.passage.id == theme.passages[0]


async def test_discovery_is_refused_when_coding_blind(demo_db, tmp_path):
    db = tmp_path / "demo.db"
    db.write_bytes(demo_db.read_bytes())
    app = BeicoderApp(str(db), "reference", blind=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("D")
        await pilot.pause()
        assert isinstance(app.screen, CodingScreen)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Discover" not in titles
