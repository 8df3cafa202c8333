"""The local LLM in the coding TUI (Pilot), against the scripted server of tests/llm_server.py:
a slow reply never holds up coding, its suggestions appear as a third source, closing the app
stops it, and without a config nothing changes."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from beicoder.tui.app import BeicoderApp
from beicoder.tui.screens.coding import CodingScreen
from conftest import TUI_MC01, TUI_MC02, make_study
from llm_server import Reply, ScriptedLLM
from test_llm import P_ACH, good

SIZE = (160, 45)


@pytest.fixture
def study(tmp_path: Path) -> Path:
    return make_study(tmp_path, {"MC01": TUI_MC01, "MC02": TUI_MC02}, {"MC01": "outstanding", "MC02": "average"})


def q(db: Path, sql: str, params=()) -> list[tuple]:
    conn = sqlite3.connect(str(db))
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def use_llm(monkeypatch, tmp_path: Path, url: str, **extra) -> None:
    """Point the TUI's config file at ``url`` (model scripted-7b)."""
    lines = [f'url = "{url}"', 'model = "scripted-7b"'] + [f"{k} = {v}" for k, v in extra.items()]
    path = tmp_path / "config.toml"
    path.write_text("[llm]\n" + "\n".join(lines) + "\n", encoding="utf-8")
    monkeypatch.setenv("BEICODER_CONFIG", str(path))


def painted(screen, selector: str) -> str:
    w = screen.query_one(selector)
    return "".join("".join(seg.text for seg in w.render_line(y)).strip() for y in range(w.size.height))


async def test_a_slow_llm_never_holds_up_coding_and_shows_as_a_third_source(study, tmp_path, monkeypatch):
    def slow(body, n):
        reply = good(body, n)
        reply.delay = 1.2
        return reply

    with ScriptedLLM(slow) as llm:
        use_llm(monkeypatch, tmp_path, llm.url, concurrency=1)
        app = BeicoderApp(str(study), "alice")
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            screen = app.screen
            assert isinstance(screen, CodingScreen) and screen.llm_config.source == "llm:scripted-7b"
            p1 = screen.passage.id
            await pilot.press("1")  # ACH on the first passage
            await pilot.press("j", "x")  # the second passage: no code
            # saved at once, while the model is still answering (5 passages, 1.2 s each)
            assert set(q(study, "SELECT passage_id, code FROM codings WHERE coder = 'alice'")) == {(p1, "ACH")}
            assert q(study, "SELECT count(*) FROM passage_marks WHERE coder = 'alice' AND no_code = 1") == [(1,)]
            assert q(study, "SELECT count(*) FROM llm_runs")[0][0] < 5
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert len(llm.requests) == 5
            assert screen.llm_state == "llm:scripted-7b ready"
            await pilot.press("k")
            shown = {s["code"]: s for s in screen.shown_suggestions(p1)}
            assert "llm" in shown["ACH"]["sources"] and "lexicon" in shown["ACH"]["sources"]
            assert shown["ACH"]["llm_level"] == 5
            llm_spans = [e for e in shown["ACH"]["evidence"] if e.get("source") == "llm"]
            assert [P_ACH[e["start"]:e["end"]] for e in llm_spans] == ["给自己定了目标", "拿了全行第一名"]
            evidence = painted(screen, "#evidence")
            assert "lexicon+llm" in evidence and "“给自己定了目标”" in evidence and "llm: a stretch goal" in evidence
            assert "llm:scripted-7b ready" in painted(screen, "#where")


async def test_closing_the_app_stops_the_llm(study, tmp_path, monkeypatch):
    with ScriptedLLM(lambda body, n: Reply('{"codes": []}', delay=20)) as llm:
        use_llm(monkeypatch, tmp_path, llm.url, timeout=60)
        app = BeicoderApp(str(study), "alice")
        started = time.monotonic()
        async with app.run_test(size=SIZE) as pilot:
            for _ in range(100):
                await pilot.pause(0.05)
                if llm.requests:
                    break
            assert llm.requests and app.screen.llm_state.startswith("llm:scripted-7b")
            await pilot.press("q")
        assert time.monotonic() - started < 15  # not the 20 s the server takes to answer
    assert q(study, "SELECT count(*) FROM llm_runs") == [(0,)]


async def test_a_remote_host_in_the_config_is_refused_and_coding_goes_on(study, tmp_path, monkeypatch):
    use_llm(monkeypatch, tmp_path, "http://8.8.8.8:11434/v1")
    app = BeicoderApp(str(study), "alice")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        assert screen.llm_state == "llm:scripted-7b unavailable"
        assert any("--allow-remote" in n.message for n in app._notifications)
        await pilot.press("1")
        assert q(study, "SELECT code FROM codings WHERE coder = 'alice'") == [("ACH",)]
    assert q(study, "SELECT count(*) FROM llm_hosts") == [(0,)]


async def test_without_a_config_the_screen_is_as_before(study, tmp_path, monkeypatch):
    monkeypatch.setenv("BEICODER_CONFIG", str(tmp_path / "no-such-config.toml"))
    app = BeicoderApp(str(study), "alice")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        assert screen.llm_config is None and screen.llm_state == ""
        assert not [w for w in app.workers if w.group == "llm"]
        assert "llm" not in painted(screen, "#where")
