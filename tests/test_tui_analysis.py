"""Pilot test of the analysis screen: reruns in a worker, shows the comparison and the chart."""

from beicoder.core.store import Store
from beicoder.tui.app import BeicoderApp
from beicoder.tui.screens.analysis import AnalysisScreen
from beicoder.tui.widgets.bar_chart import bar_chart


async def test_analysis_screen_shows_comparison_and_refreshes_after_coding(demo_db, tmp_path):
    db = tmp_path / "demo.db"
    db.write_bytes(demo_db.read_bytes())
    app = BeicoderApp(str(db), "reference")
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.press("A")
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, AnalysisScreen)
        comp = screen.comparison
        assert len(comp) == 8 * 7  # every code x score
        table = screen.query_one("#comparison")
        assert table.row_count == 8  # the primary score's table
        assert [str(c) for c in table.get_row_at(2)][-1] == "marginal"  # IU: exact p .048, q .054
        verdicts = dict(zip(zip(comp["code"], comp["score"]), comp["verdict"]))
        assert verdicts[("INFO", "frequency")] == "differentiating"
        chart = str(screen.query_one("#chart").content)  # a rich Group
        assert chart
        state = str(screen.query_one("#analysis-status").content)
        assert "coder reference: 10 interviewees, 288 of 288 passages decided" in state
        before = float(comp[(comp.code == "RB") & (comp.score == "frequency")]["mean_average"].iloc[0])
        # code RB on an average interviewee's passage behind the screen, then come back: it reruns
        store = Store(db)
        mc02 = next(t["id"] for t in store.transcripts() if t["interviewee"] == "MC02")
        pid = next(p.id for p in store.passages(mc02) if not store.codings_for(p.id, "reference"))
        store.toggle_code(pid, "reference", "RB")
        store.close()
        await pilot.press("escape")
        await pilot.press("A")
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        after = float(app.screen.comparison.query("code == 'RB' and score == 'frequency'")["mean_average"].iloc[0])
        assert after == before + 0.2  # one more RB among five average interviewees
        assert app.screen.score == "frequency"  # the chart starts on the primary score
        await pilot.press("s")
        assert app.screen.score == "rate"


def test_bar_chart_marks_differentiating_codes():
    import pandas as pd
    from rich.console import Console

    comp = pd.DataFrame([{"code": "INFO", "score": "frequency", "mean_outstanding": 4.0, "mean_average": 2.0,
                          "verdict": "differentiating"},
                         {"code": "SCT", "score": "frequency", "mean_outstanding": 1.0, "mean_average": 1.0,
                          "verdict": "threshold"}])
    console = Console(width=80, record=True)
    console.print(bar_chart(comp, "frequency", width=20))
    text = console.export_text()
    assert "★ INFO" in text and "★ SCT" not in text
    assert "█" * 20 in text and "▒" * 10 in text and "█" * 5 in text


async def test_a_blind_session_is_recorded_and_the_report_says_so(demo_db, tmp_path):
    from beicoder.core.report import build_report, markdown

    db = tmp_path / "demo.db"
    db.write_bytes(demo_db.read_bytes())
    for blind in (True, True):
        app = BeicoderApp(str(db), "amy", blind=blind)
        async with app.run_test(size=(160, 45)) as pilot:
            await pilot.pause()
            await pilot.press("x", "j", "x")  # two "no code" decisions
            await pilot.pause()
    with Store(db) as store:
        assert store.blinding("amy") == {"sessions": 2, "blind": 2, "outside": 0}
        assert store.blinding("reference")["sessions"] == 0
        md = markdown(build_report(store, "reference"))
    assert "- coding: unknown (no coding session in beicoder's TUI: codings were imported)" in md
    app = BeicoderApp(str(db), "amy")
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
    with Store(db) as store:
        assert store.blinding("amy")["blind"] == 2 and store.blinding("amy")["sessions"] == 3
