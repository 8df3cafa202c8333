import json
import sqlite3

import pytest
from click.testing import CliRunner

from beicoder.cli import main
from beicoder.core.store import Store
from beicoder.core.suggest.learned import (
    LearnedSuggester,
    ModelError,
    blended_suggestions,
    examples_from_study,
    model_dir,
    read_model_meta,
    train,
    train_model,
    usual_levels,
)


@pytest.fixture(scope="module")
def demo_examples(demo_db):
    store = Store(demo_db)
    examples = examples_from_study(store, "reference")
    dictionary = store.dictionary()
    store.close()
    return examples, dictionary


def test_examples_are_the_coders_decisions(demo_examples):
    examples, _ = demo_examples
    assert len(examples) == 288
    assert sum(1 for _, labels in examples if not labels) == 153  # the no-code decisions
    assert sum(len(labels) for _, labels in examples) == 196


def test_training_is_deterministic(demo_examples):
    examples, dictionary = demo_examples
    held_out = [text for text, _ in examples[200:215]]
    first = LearnedSuggester(train_model(examples[:200], dictionary), dictionary).scores(held_out)
    second = LearnedSuggester(train_model(examples[:200], dictionary), dictionary).scores(held_out)
    assert first == second
    assert set(first[0]) == set(dictionary.codes) and all(0.0 <= p <= 1.0 for p in first[0].values())
    other_seed = LearnedSuggester(train_model(examples[:200], dictionary, seed=1), dictionary).scores(held_out)
    assert other_seed != first


def test_too_little_to_learn_from(demo_examples):
    examples, dictionary = demo_examples
    with pytest.raises(ModelError, match="too little to learn from: 5 decided passages"):
        train_model(examples[:5], dictionary)


@pytest.mark.usefixtures("shared_models")
def test_train_saves_model_with_metadata_and_reloads(demo_db, tmp_path):
    db = tmp_path / "s.db"
    db.write_bytes(demo_db.read_bytes())
    store = Store(db)
    dictionary = store.dictionary()
    result = train(store, "reference", dictionary, db)
    store.close()
    assert result.path == model_dir(db, "reference") == tmp_path / "s.db.model-reference"
    meta = json.loads((result.path / "beicoder-model.json").read_text(encoding="utf-8"))
    assert (meta["coder"], meta["examples"], meta["examples_with_codes"], meta["seed"]) == ("reference", 288, 135, 0)
    assert meta["dictionary_sha256"] == dictionary.sha256 and meta["trained_at"]
    model = LearnedSuggester.load(result.path, dictionary)
    assert model.codes == dictionary.codes
    with pytest.raises(ModelError, match="another version of the dictionary"):
        LearnedSuggester.load(result.path, type("D", (), {"sha256": "x"})())


def test_blend_shows_sources_and_drops_weak_codes():
    rows = [
        {"code": "INFO", "score": 0.65, "source": "lexicon", "level": 4, "level_cue": "问了邻居", "evidence": [1]},
        {"code": "EXP", "score": 0.55, "source": "lexicon", "level": None, "level_cue": None, "evidence": [2]},
        {"code": "INFO", "score": 0.5, "source": "model:amy"},
        {"code": "ACH", "score": 0.7, "source": "model:amy"},
        {"code": "RB", "score": 0.9, "source": "model:bob"},
    ]
    without = blended_suggestions(rows, "amy", has_model=False)
    assert [(r["code"], r["score"], r["sources"]) for r in without] == [
        ("INFO", 0.65, ["lexicon"]), ("EXP", 0.55, ["lexicon"])]
    shown = blended_suggestions(rows, "amy", has_model=True)
    # weights 0.3 lexicon / 0.7 model, threshold 0.2:
    # ACH 0.7*0.7 = 0.49; INFO 0.3*0.65+0.7*0.5 = 0.545; EXP 0.3*0.55 = 0.165 < 0.2: dropped; bob's model ignored
    assert [(r["code"], r["score"], r["sources"]) for r in shown] == [
        ("INFO", 0.545, ["lexicon", "model"]), ("ACH", 0.49, ["model"])]
    assert shown[0]["level"] == 4 and shown[0]["evidence"] == [1]


def test_usual_levels(tiny_study):
    store = Store(tiny_study)
    a, b, c = [p.id for p in store.passages()[:3]]
    store.add_codes(a, "amy", {"INFO": 3, "ACH": 2})
    store.add_codes(b, "amy", {"INFO": 3})
    store.add_codes(c, "amy", {"INFO": 2, "EXP": None})
    assert usual_levels(store, "amy") == {"INFO": 3, "ACH": 2}
    store.close()


@pytest.mark.usefixtures("shared_models")
def test_cli_train_then_evaluate_on_the_demo(demo_db, tmp_path):
    db = tmp_path / "demo.db"
    db.write_bytes(demo_db.read_bytes())
    runner = CliRunner()
    result = runner.invoke(main, ["train", "--db", str(db), "--coder", "reference"])
    assert result.exit_code == 0, result.output
    assert "trained on 288 decided passages of reference (135 with codes)" in result.stdout
    con = sqlite3.connect(db)
    assert con.execute("SELECT count(*) FROM suggested WHERE source = 'model:reference'").fetchone() == (288,)
    assert con.execute("SELECT count(*) FROM suggestions "
                       "WHERE source = 'model:reference' AND score < 0.01").fetchone() == (0,)
    out = tmp_path / "eval.csv"
    result = runner.invoke(main, ["evaluate", "--db", str(db), "--coder", "reference", "--folds", "3",
                                  "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "3-fold cross-validation over interviewees on 288 passages decided by reference" in result.stdout
    assert "micro-F1 (all passages, 288 passages): lexicon" in result.stdout
    assert "micro-F1 (zh-Hans, 288 passages): lexicon" in result.stdout  # the demo is all Simplified
    lines = out.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == ("language,suggester,code,precision,recall,f1,support,top3_recall,multi_recall,further_recall,"
                        "multi_passages,passages") and len(lines) == 1 + 2 * 3 * 10
    assert {line.split(",")[0] for line in lines[1:]} == {"all", "zh-Hans"}
    assert "passages with two or three codes (" in result.stdout


@pytest.mark.usefixtures("shared_models")
def test_dictionary_examples_join_the_training_data(demo_examples, demo_db, tmp_path):
    examples, dictionary = demo_examples
    assert len(dictionary.examples) == 511 + dictionary.example_languages.count("en") >= 511 + 150
    held_out = [text for text, _ in examples[200:210]]
    coder_only = LearnedSuggester(train_model(examples[:20], dictionary, dictionary_examples=False), dictionary)
    with_manual = LearnedSuggester(train_model(examples[:20], dictionary), dictionary)
    assert coder_only.scores(held_out) != with_manual.scores(held_out)
    # The manual's own passages are learned: its coded examples score higher than with the coder alone.
    coded = [(text, labels) for text, labels in dictionary.examples if len(labels) == 1][:30]
    gain = [with_manual.scores([t])[0][next(iter(codes))] - coder_only.scores([t])[0][next(iter(codes))]
            for t, codes in coded]
    assert sum(g > 0 for g in gain) >= 25

    db = tmp_path / "s.db"
    db.write_bytes(demo_db.read_bytes())
    store = Store(db)
    assert train(store, "reference", dictionary, db).meta["dictionary_examples"] == len(dictionary.examples)
    assert train(store, "reference", dictionary, db, dictionary_examples=False).meta["dictionary_examples"] == 0
    store.close()


def test_nothing_to_learn_without_a_code(demo_examples):
    examples, dictionary = demo_examples
    no_codes = [(text, set()) for text, _ in examples[:15]]
    with pytest.raises(ModelError, match="nothing to learn from: none of the 15 decided passages has a code"):
        train_model(no_codes, dictionary)


def test_coders_whose_names_differ_only_in_odd_characters_get_their_own_model(tmp_path):
    db = tmp_path / "s.db"
    assert model_dir(db, "amy") == tmp_path / "s.db.model-amy"
    assert model_dir(db, "王老师") == tmp_path / "s.db.model-王老师"
    assert model_dir(db, "a/b") != model_dir(db, "a_b") == tmp_path / "s.db.model-a_b"
    assert model_dir(db, "a/b").name.startswith("s.db.model-a_b-")


@pytest.mark.usefixtures("shared_models")
def test_suggest_lets_saved_models_score_new_passages(demo_db, tmp_path):
    from beicoder.core.dictionary import parse_dictionary
    from beicoder.core.study import import_parsed, parse_files
    from beicoder.core.suggest.learned import refresh_model_suggestions

    db = tmp_path / "demo.db"
    db.write_bytes(demo_db.read_bytes())
    store = Store(db)
    dictionary = store.dictionary()
    train(store, "reference", dictionary, db)
    assert refresh_model_suggestions(store, db, "reference", dictionary) == 288
    assert refresh_model_suggestions(store, db, "reference", dictionary) == 0
    assert refresh_model_suggestions(store, db, "nobody", dictionary) is None
    new = tmp_path / "NEW01.txt"
    new.write_text("访谈者：说说看？\n被访者：我去他厂里核实了库存。\n访谈者：然后？\n被访者：就放款了。\n",
                   encoding="utf-8")
    import_parsed(store, parse_files([new]))
    store.close()
    result = CliRunner().invoke(main, ["suggest", "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert "reference's model scored 2 passages it had not seen" in result.output
    lexicon_rows = sqlite3.connect(db).execute(
        "SELECT count(*) FROM suggestions WHERE source = 'lexicon'").fetchone()[0]
    assert f": {lexicon_rows} keyword suggestions on" in result.output

    store = Store(db)
    store.set_dictionary(parse_dictionary(dictionary.yaml_text.replace("version: 1", "version: 2", 1), "v2.yaml"))
    assert refresh_model_suggestions(store, db, "reference", store.dictionary()) is None
    store.close()
    result = CliRunner().invoke(main, ["suggest", "--db", str(db)])
    assert "reference's model was trained with another version of the dictionary" in result.output


def test_evaluate_refuses_to_overwrite_its_gold_file_and_folds_with_gold(demo_db, tmp_path):
    gold = tmp_path / "gold.csv"
    gold.write_text("id,text,codes\ng1,我去核实了他的库存。,INFO\n", encoding="utf-8")
    before = gold.read_bytes()
    runner = CliRunner()
    result = runner.invoke(main, ["evaluate", "--db", str(demo_db), "--gold", str(gold), "--out", str(gold)])
    assert result.exit_code == 2 and f"{gold}: is the gold file; write the table to another file" in result.output
    assert gold.read_bytes() == before
    result = runner.invoke(main, ["evaluate", "--db", str(demo_db), "--gold", str(gold), "--folds", "7"])
    assert result.exit_code == 2 and "--folds is for cross-validation" in result.output


def test_model_evidence_is_the_ngrams_that_add_most_to_the_log_odds(demo_examples):
    import numpy as np

    from beicoder.core.suggest.learned import EVIDENCE_MIN_DROP
    from beicoder.core.suggest.lexicon import fold

    examples, dictionary = demo_examples
    model = LearnedSuggester(train_model(examples[:150], dictionary), dictionary)
    # unseen passages, one in Traditional script
    texts = [examples[200][0], examples[230][0], examples[250][0], examples[270][0],
             "那個阿嬤來申請十萬，我問她保證人要找誰，她就一直低頭摸那個包包，話講一半就停下來。"
             "我就先不問了，改問她兒子在做什麼。"]
    wanted = [dictionary.codes] * len(texts)
    explained = model.explain(texts, wanted)
    checked = 0
    for k, text in enumerate(texts):
        folded = fold(text)
        logit = model.model.decision([folded])[0]
        for code, evs in explained[k].items():
            j = model.codes.index(code)
            parts = dict((g, add) for add, g in model.model.contributions(folded, code))
            # the contributions add up to the calibrated log-odds, whose logistic is the score
            total = sum(parts.values()) + model.model.intercept[j] * model.model.slope[j] + model.model.offset[j]
            assert total == pytest.approx(logit[j], abs=1e-6)
            assert 1 / (1 + np.exp(-logit[j])) == pytest.approx(model.scores([text])[0][code], abs=1e-9)
            grams = list(dict.fromkeys(e["token"] for e in evs))
            assert len(grams) <= 3
            for e in evs:
                assert e["keyword"] == "model" and text[e["start"]:e["end"]] == e["matched"]
                assert folded[e["start"]:e["end"]] == e["token"] and len(e["token"]) >= 2
                assert all(ch.isalnum() for ch in e["token"])  # no punctuation or space shown as evidence
                assert e["drop"] == pytest.approx(parts[e["token"]], abs=1e-3) and e["drop"] >= EVIDENCE_MIN_DROP
                checked += 1
            # every occurrence is listed, and no chosen n-gram holds another
            for g in grams:
                assert sum(1 for e in evs if e["token"] == g) == folded.count(g)
                assert not any(g != h and g in h for h in grams)
            drops = [e["drop"] for e in evs]
            assert drops == sorted(drops, reverse=True)
    assert checked >= 10
    # the Traditional passage: evidence in its own characters, the n-gram in Simplified
    trad = [e for evs in explained[-1].values() for e in evs]
    assert trad and any(e["matched"] != e["token"] for e in trad)


@pytest.mark.usefixtures("shared_models")
def test_cli_train_normalises_the_coder_and_suggest_survives_a_damaged_model(demo_db, tmp_path):
    db = tmp_path / "demo.db"
    db.write_bytes(demo_db.read_bytes())
    runner = CliRunner()
    result = runner.invoke(main, ["train", "--db", str(db), "--coder", " reference "])
    assert result.exit_code == 0, result.output
    con = sqlite3.connect(db)
    assert {r[0] for r in con.execute("SELECT DISTINCT source FROM suggested")} == {"model:reference"}
    con.close()
    (model_dir(db, "reference") / "model.npz").write_bytes(b"")  # damaged
    con = sqlite3.connect(db)
    con.execute("DELETE FROM suggested WHERE source = 'model:reference' AND passage_id = 1")
    con.commit()
    con.close()
    result = runner.invoke(main, ["suggest", "--db", str(db)])
    assert result.exit_code == 0
    assert "reference's model cannot be loaded" in result.stderr
    assert "run 'beicoder train --coder reference'" in result.stderr
    assert "keyword suggestions on" in result.stdout
    result = runner.invoke(main, ["evaluate", "--db", str(db), "--out", str(tmp_path / "table.yaml")])
    assert result.exit_code == 2 and "give a file name ending in .csv" in result.output


def test_on_a_short_passage_the_model_alone_suggests_nothing():
    from beicoder.core.suggest.learned import MODEL_ONLY_MIN_CHARS, blend

    lexicon, model = {"INFO": 0.65}, {"INFO": 0.5, "IU": 0.8}
    # long enough: 0.3*0.65 + 0.7*0.5 = 0.545 and 0.7*0.8 = 0.56
    assert blend(lexicon, model, length=MODEL_ONLY_MIN_CHARS) == {"INFO": 0.545, "IU": 0.56}
    # shorter: the keyword-backed code keeps its blend, the model-only one scores 0
    assert blend(lexicon, model, length=MODEL_ONLY_MIN_CHARS - 1) == {"INFO": 0.545, "IU": 0.0}
    rows = [{"code": "INFO", "score": 0.65, "source": "lexicon", "level": None, "level_cue": None, "evidence": []},
            {"code": "INFO", "score": 0.5, "source": "model:amy"}, {"code": "IU", "score": 0.8, "source": "model:amy"}]
    assert [r["code"] for r in blended_suggestions(rows, "amy", True, length=12)] == ["INFO"]
    assert [r["code"] for r in blended_suggestions(rows, "amy", True, length=120)] == ["IU", "INFO"]


def test_read_model_meta_says_what_the_tui_shows(tmp_path):
    dictionary = type("D", (), {"sha256": "abc"})()
    db = tmp_path / "s.db"
    assert read_model_meta(db, "amy", dictionary) is None  # no model yet
    folder = model_dir(db, "amy")
    folder.mkdir()
    (folder / "beicoder-model.json").write_text("{not json", encoding="utf-8")
    assert read_model_meta(db, "amy", dictionary) is None  # damaged: as if there were none
    (folder / "beicoder-model.json").write_text(json.dumps({
        "dictionary_sha256": "abc", "examples": 12, "dictionary_examples": 400, "learned_passages": [3, 1, 2],
        "trained_at": "2026-01-02T03:04:05+00:00"}), encoding="utf-8")
    info = read_model_meta(db, "amy", dictionary)
    assert (info.path, info.decisions, info.dictionary_examples, info.stale) == (folder, 12, 400, False)
    assert info.learned_passages == {1, 2, 3} and info.trained_at.startswith("2026")
    assert read_model_meta(db, "amy", type("D", (), {"sha256": "other"})()).stale


def test_next_best_names_the_code_left_out_when_it_is_close():
    from beicoder.core.suggest.learned import next_best
    from beicoder.tui.widgets.evidence_panel import evidence_text

    rows = [{"code": "INFO", "score": 0.65, "source": "lexicon", "level": None, "level_cue": None, "evidence": []},
            {"code": "INFO", "score": 0.6, "source": "model:amy"},
            {"code": "IU", "score": 0.40, "source": "model:amy", "evidence": [{"matched": "犹豫"}]},
            {"code": "RB", "score": 0.20, "source": "model:amy"}]
    # blend 0.3 lexicon + 0.7 model: INFO 0.615 shown; IU 0.28 and RB 0.14 below the threshold 0.35
    shown = blended_suggestions(rows, "amy", True, length=120, blend_threshold=0.35)
    assert [r["code"] for r in shown] == ["INFO"]
    best = next_best(rows, "amy", True, length=120, blend_threshold=0.35)
    assert (best["code"], best["score"]) == ("IU", 0.28)  # within 0.1 of 0.35; RB is not
    assert next_best(rows, "amy", True, length=120, blend_threshold=0.45) is None  # IU 0.17 short of it
    assert next_best(rows, "amy", False, length=120) is None  # no model: the lexicon's scores are all shown
    text = str(evidence_text(shown, ["INFO", "IU", "RB"], "none", False, best))
    assert "also close: IU 0.28 (犹豫)" in text


def test_thresholds_saved_with_the_model_are_read_back(demo_db, tmp_path):
    db = tmp_path / "s.db"
    db.write_bytes(demo_db.read_bytes())
    store = Store(db)
    dictionary = store.dictionary()
    meta = train(store, "reference", dictionary, db).meta
    store.close()
    info = read_model_meta(db, "reference", dictionary)
    assert 0.05 <= meta["model_threshold"] <= 0.95 and 0.05 <= meta["blend_threshold"] <= 0.95
    assert (info.model_threshold, info.blend_threshold) == (meta["model_threshold"], meta["blend_threshold"])
    model = LearnedSuggester.load(model_dir(db, "reference"), dictionary)
    assert model.blend_threshold == meta["blend_threshold"] and meta["training"]["ngrams"] == [1, 3]


def test_a_learning_curve_chart_in_a_missing_folder_is_refused_before_any_work(demo_db, tmp_path):
    missing = tmp_path / "no-such-folder" / "curve.png"
    result = CliRunner().invoke(main, ["evaluate", "--db", str(demo_db), "--coder", "reference",
                                       "--learning-curve", "--plot", str(missing)])
    assert result.exit_code == 2
    assert result.output.startswith(f"beicoder: {missing}") and len(result.output.strip().splitlines()) == 1
    assert not missing.parent.exists() and not list(tmp_path.iterdir())
