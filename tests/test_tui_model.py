"""Pilot tests of the TUI's learned-suggestion features: sources, proposed levels, retraining."""

import sqlite3
from pathlib import Path

import pytest

from beicoder.core.dictionary import load_dictionary
from beicoder.core.paths import default_dictionary
from beicoder.core.store import Store
from beicoder.core.study import import_parsed, parse_files
from beicoder.tui.app import BeicoderApp
from beicoder.tui.screens.coding import CodingScreen
from conftest import bundled_dictionary, make_study

SIZE = (160, 45)


async def settle(app, pilot) -> CodingScreen:
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()
    return app.screen


def levels(db: Path, coder: str) -> set[tuple]:
    con = sqlite3.connect(db)
    try:
        return set(con.execute("SELECT code, level FROM codings WHERE coder = ?", [coder]).fetchall())
    finally:
        con.close()


async def test_proposed_level_from_a_cue_is_taken_with_one_key(tmp_path):
    d = load_dictionary(default_dictionary())
    info = d.get("INFO")
    cue_level = max(lv.level for lv in info.levels if lv.cues)
    cue = next(lv.cues[0] for lv in info.levels if lv.level == cue_level)
    text = (f"访谈者：然后呢？\n被访者：我先核实了他的说法，{cue}，才放心。\n"
            "访谈者：后来？\n被访者：我觉得这行不好做。\n")
    db = make_study(tmp_path, {"A01": text})
    app = BeicoderApp(str(db), "amy")
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(app, pilot)
        shown = screen.shown_suggestions(screen.passage.id)
        assert shown[0]["code"] == "INFO" and shown[0]["sources"] == ["lexicon"]
        assert shown[0]["level"] == cue_level
        await pilot.press("a")
        assert levels(db, "amy") >= {("INFO", None)}
        assert f"INFO L{cue_level} (cue {cue})" in str(screen.query_one("#mine").content)
        await pilot.press("L")
        assert ("INFO", cue_level) in levels(db, "amy")
        await pilot.press("u")  # one action, undone at once
        assert ("INFO", None) in levels(db, "amy")


async def test_negated_evidence_is_shown_as_not_counted(tmp_path):
    db = make_study(tmp_path, {"A01": "访谈者：你核实了吗？\n被访者：当时我没有去核实，后来查了他的电费单。\n"})
    app = BeicoderApp(str(db), "amy")
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(app, pilot)
        evidence = str(screen.query_one("#evidence").content)
        assert "核实 (not counted: 没有)" in evidence
        assert "电费单" in evidence


@pytest.mark.usefixtures("shared_models")
async def test_retraining_runs_in_the_background_and_blends_the_model_in(demo_db, tmp_path):
    db = tmp_path / "demo.db"
    db.write_bytes(demo_db.read_bytes())
    app = BeicoderApp(str(db), "reference")
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(app, pilot)
        assert screen.trained_on == 0
        await pilot.press("T", "j")  # coding goes on while the model trains in a thread worker
        await settle(app, pilot)
        assert screen.index == 1
        n_examples = len(bundled_dictionary().examples)  # the demo's dictionary: 511 Chinese, the rest English
        assert screen.trained_on == 288 and screen.model_state == f"model: 288 decisions + {n_examples} examples"
        screen.refresh_passage()
        await pilot.pause()
        assert "the model learned this passage from your decision" in str(screen.query_one("#evidence").content)
        assert (tmp_path / "demo.db.model-reference" / "beicoder-model.json").exists()
        con = sqlite3.connect(db)
        assert con.execute("SELECT count(*) FROM suggested WHERE source = 'model:reference'").fetchone() == (288,)
        con.close()
        sources = {src for p in screen.passages for s in screen.shown_suggestions(p.id) for src in s["sources"]}
        assert "model" in sources
        # the model's own evidence: shown in the evidence panel and underlined in the passage
        i, s = next((i, s) for i, p in enumerate(screen.passages) for s in screen.shown_suggestions(p.id)
                    if s["model_evidence"])
        screen.index = i
        screen.refresh_passage()
        await pilot.pause()
        words = list(dict.fromkeys(e["matched"] for e in s["model_evidence"]))
        assert "、".join(words) in str(screen.query_one("#evidence").content)
        body = screen.query_one("#passage").content.text  # the Text inside the WrappedText
        first = s["model_evidence"][0]
        assert any("underline" in str(span.style) and span.start <= first["start"] and span.end >= first["end"]
                   for span in body.spans)


async def test_decisions_set_aside_by_a_new_version_are_flagged(tmp_path):
    d = load_dictionary(default_dictionary())
    path = tmp_path / "A01.txt"
    path.write_text("访谈者：一？\n被访者：我去核实了。\n访谈者：二？\n被访者：第二段。\n", encoding="utf-8")
    db = tmp_path / "s.db"
    store = Store(db)
    store.set_dictionary(d)
    import_parsed(store, parse_files([path]))
    store.add_codes(store.passages()[1].id, "amy", {"ACH": 1})
    path.write_text("访谈者：一？\n被访者：我去核实了。\n访谈者：二？\n被访者：改过的第二段。\n", encoding="utf-8")
    import_parsed(store, parse_files([path]))
    store.close()
    app = BeicoderApp(str(db), "amy")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert app.sub_title.endswith("· 1 to review")
        assert any("set aside" in n.message for n in app._notifications)


@pytest.mark.usefixtures("shared_models")
async def test_a_saved_model_scores_new_transcripts_and_an_outdated_one_is_not_shown(demo_db, tmp_path):
    from beicoder.core.dictionary import parse_dictionary
    from beicoder.core.suggest.learned import train

    db = tmp_path / "demo.db"
    db.write_bytes(demo_db.read_bytes())
    store = Store(db)
    dictionary = store.dictionary()
    train(store, "reference", dictionary, db)  # the model exists, its scores are not stored yet
    new = tmp_path / "NEW01.txt"
    new.write_text("访谈者：说说看？\n被访者：我去他厂里核实了库存，又问了隔壁两家店。\n", encoding="utf-8")
    import_parsed(store, parse_files([new]))
    fresh = store.passages()[-1].id
    store.close()
    app = BeicoderApp(str(db), "reference")
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(app, pilot)
        assert screen.trained_on == 288
        # the suggestion worker let the saved model score every passage, the new one too
        assert screen.store.has_suggestions_from(fresh, "model:reference", dictionary.sha256)
        assert "model" in {src for s in screen.shown_suggestions(fresh) for src in s["sources"]}
        assert len(screen.learned_passages) == 288 and fresh not in screen.learned_passages
        await pilot.press("t")
        await settle(app, pilot)
        screen.open_transcript(next(t["id"] for t in screen.transcripts if t["interviewee"] == "NEW01"))
        await settle(app, pilot)
        assert screen.passage.id == fresh
        assert "the model learned this passage" not in str(screen.query_one("#evidence").content)

    store = Store(db)
    store.set_dictionary(parse_dictionary(dictionary.yaml_text.replace("version: 1", "version: 2", 1), "v2.yaml"))
    store.close()
    app = BeicoderApp(str(db), "reference")
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(app, pilot)
        assert screen.trained_on == 0 and screen.model_state == "model out of date: T retrains"
        assert any("another version of the dictionary" in n.message for n in app._notifications)
        shown = [s for p in screen.passages for s in screen.shown_suggestions(p.id)]
        assert shown and all(s["sources"] == ["lexicon"] for s in shown)


async def test_retraining_refuses_when_the_dictionary_changed_under_an_open_screen(demo_db, tmp_path):
    from beicoder.core.dictionary import parse_dictionary

    db = tmp_path / "demo.db"
    db.write_bytes(demo_db.read_bytes())
    app = BeicoderApp(str(db), "reference")
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(app, pilot)
        other = Store(db)  # another window changes the dictionary
        old = other.dictionary()
        changed = old.yaml_text.replace("      - 定了目标\n", "      - 定了个目标\n", 1)
        other.set_dictionary(parse_dictionary(changed, "v2.yaml"))
        other.close()
        await pilot.press("T")
        await settle(app, pilot)
        assert screen.trained_on == 0
        assert not (tmp_path / "demo.db.model-reference").exists()
        assert any("dictionary changed since this screen opened" in n.message for n in app._notifications)


@pytest.mark.usefixtures("shared_models")
async def test_a_keyword_the_model_disagrees_with_shows_the_models_score(demo_db, tmp_path):
    db = tmp_path / "demo.db"
    db.write_bytes(demo_db.read_bytes())
    app = BeicoderApp(str(db), "reference")
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(app, pilot)
        await pilot.press("T")
        await settle(app, pilot)
        found = [(i, s) for i, p in enumerate(screen.passages) for s in screen.shown_suggestions(p.id)
                 if s["sources"] == ["lexicon"] and not s["muted"]]
        assert found
        i, s = found[0]
        screen.index = i
        screen.refresh_passage()
        await pilot.pause()
        assert f"{s['code']} {s['score']:.2f} [lexicon; model {s['model_score']:.2f}]" in str(
            screen.query_one("#evidence").content)
