import math

import pytest

from beicoder.core.evaluate import GoldFileError, Scored, fold_of, metrics, predicted, read_gold, top_k_recall


def test_metrics_on_a_hand_checked_example():
    gold = [{"A"}, {"A", "B"}, set(), {"B"}]
    lexicon = [{"A": 0.6}, {"A": 0.5}, {"B": 0.55}, {}]
    table = metrics(Scored(gold, {"lexicon": lexicon}), ["A", "B"]).set_index("code")
    # A: 2 true positives, no errors. B: predicted once wrongly, missed twice.
    assert tuple(table.loc["A", ["precision", "recall", "f1", "support"]]) == (1.0, 1.0, 1.0, 2)
    assert tuple(table.loc["B", ["precision", "recall", "f1", "support"]]) == (0.0, 0.0, 0.0, 2)
    # micro: TP 2, FP 1, FN 2 -> P 2/3, R 1/2, F1 4/7
    assert table.loc["micro", "precision"] == pytest.approx(2 / 3)
    assert table.loc["micro", "recall"] == pytest.approx(0.5)
    assert table.loc["micro", "f1"] == pytest.approx(4 / 7)
    # macro: mean of the per-code figures
    assert tuple(table.loc["macro", ["precision", "recall", "f1"]]) == pytest.approx((0.5, 0.5, 0.5))
    # top-3 recall: of the 4 gold pairs, (1, A) and (2, A) are among their passage's scored codes
    assert table.loc["micro", "top3_recall"] == pytest.approx(0.5)
    assert math.isnan(table.loc["A", "top3_recall"])


def test_prediction_rules_and_top_k():
    assert predicted("lexicon", {"A": 0.55, "B": 0.0}) == {"A"}
    from beicoder.core.suggest.learned import BLEND_THRESHOLD, MODEL_THRESHOLD

    assert predicted("model", {"A": MODEL_THRESHOLD - 0.01, "B": MODEL_THRESHOLD}) == {"B"}
    assert predicted("blend", {"A": BLEND_THRESHOLD - 0.01, "B": BLEND_THRESHOLD + 0.01}) == {"B"}
    scores = [{"A": 0.9, "B": 0.8, "C": 0.7, "D": 0.6}]
    assert top_k_recall([{"D"}], scores) == 0.0
    assert top_k_recall([{"C", "D"}], scores) == 0.5
    assert top_k_recall([{"C"}], scores, k=3) == 1.0


def test_folds_are_deterministic_and_balanced():
    assign = fold_of(["MC03", "MC01", "MC02", "MC04", "MC05"], 2)
    assert assign == {"MC01": 0, "MC02": 1, "MC03": 0, "MC04": 1, "MC05": 0}


def write(tmp_path, text, name="gold.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_gold_file_parses_codes_and_empty_codes(tmp_path):
    items = read_gold(write(tmp_path, 'id,text,codes\ng1,"我去核实了，又问了邻居。",INFO;IU\ng2,我觉得这行不好做。,\n'),
                      ["INFO", "IU", "ACH"])
    assert [(i.id, i.text, i.codes) for i in items] == [("g1", "我去核实了，又问了邻居。", {"INFO", "IU"}),
                                                        ("g2", "我觉得这行不好做。", set())]


def test_gold_file_bad_rows_are_listed_by_line(tmp_path):
    path = write(tmp_path, "id,text,codes\ng1,文本,INFO\ng1,重复,\ng3,别的,XYZ;INFO\ng4,,INFO\n,文本,\n"
                           "g6,我去了, 他不在,INFO\n\ng8,文本,\ng9,\"两行\n文本\",INFO\ng10,好,\n")
    with pytest.raises(GoldFileError) as err:
        read_gold(path, ["INFO"])
    assert err.value.problems == [
        "gold.csv line 3: id 'g1' repeats line 2",
        "gold.csv line 4: unknown code(s) XYZ",
        "gold.csv line 5: empty text",
        "gold.csv line 6: empty id",
        "gold.csv line 7: more cells than columns (quote texts that hold commas)",
        "gold.csv line 9: same text as line 2 (script, case and punctuation aside)",  # blank line 8 skipped
        "gold.csv line 10: a cell runs on to line 11; is a quote left open? (write each passage on one line)",
    ]


@pytest.mark.parametrize(
    "content,problem",
    [
        # the closing quote of g2 forgotten: g3 would vanish into g2's text
        ('id,text,codes\ng1,好,\ng2,"我去看了,INFO\ng3,"他来了",RB\n',
         "gold.csv line 3: broken CSV (',' expected after '\"'); is a quote left open?"),
        ('id,text,codes\ng1,"没有收尾的引号,INFO\n',
         "gold.csv line 2: broken CSV (unexpected end of data); is a quote left open?"),
    ],
)
def test_gold_file_with_an_open_quote_is_refused(tmp_path, content, problem):
    with pytest.raises(GoldFileError) as err:
        read_gold(write(tmp_path, content), ["INFO", "RB"])
    assert err.value.problems == [problem]


@pytest.mark.parametrize(
    "content,message",
    [("id,text\ng1,x\n", r"missing column\(s\) codes"), ("id,text,codes\n", "no rows")],
)
def test_gold_file_structure_errors(tmp_path, content, message):
    with pytest.raises(GoldFileError, match=message):
        read_gold(write(tmp_path, content), ["INFO"])


def test_gold_file_in_gbk_is_read(tmp_path):
    path = tmp_path / "g.csv"
    path.write_bytes("id,text,codes\ng1,我去核实了他的流水,INFO\n".encode("gbk"))
    (item,) = read_gold(path, ["INFO"])
    assert item.text == "我去核实了他的流水" and item.codes == {"INFO"}


def test_gold_passages_that_were_trained_on_are_refused(demo_db, tmp_path):
    from opencc import OpenCC

    from beicoder.core.evaluate import evaluate_gold
    from beicoder.core.store import Store

    store = Store(demo_db)
    dictionary = store.dictionary()
    example = dictionary.examples[0][0]
    study_passage = store.passages()[5].text
    gold = tmp_path / "gold.csv"
    # the same texts in Traditional script and with other punctuation still count as seen
    retold = OpenCC("s2t").convert(example).replace("，", " ").rstrip("。")
    # a trimmed copy and two passages joined count as seen too
    trimmed = study_passage[:-10]
    joined = store.passages()[7].text + store.passages()[8].text
    retyped = store.passages()[9].text
    retyped = retyped[:20] + "嗯，" + retyped[20:].replace("我", "俺", 1)  # a second transcription
    gold.write_text(f"id,text,codes\nfresh,我今天第一次去拜访这个客户。,\nx1,\"{retold}\",\nx2,\"{study_passage}\",\n"
                    f"x3,\"{trimmed}\",\nx4,\"{joined}\",\nx5,\"{retyped}\",\n", encoding="utf-8")
    items = read_gold(gold, dictionary.codes)
    with pytest.raises(GoldFileError) as err:
        evaluate_gold(store, "reference", dictionary, items, source="gold.csv")
    assert str(err.value) == ("gold.csv: 5 gold passage(s) are also training passages (x1, x2, x3, x4, x5); "
                              "score only unseen passages")
    with pytest.raises(GoldFileError, match=r"4 gold passage\(s\) are also training passages \(x2, x3, x4, x5\)"):
        evaluate_gold(store, "reference", dictionary, items, dictionary_examples=False, source="gold.csv")
    store.close()


@pytest.mark.usefixtures("shared_models")
def test_bundled_gold_files_are_unseen_and_the_blend_beats_the_lexicon_on_the_newest(demo_db):
    from beicoder.core.evaluate import evaluate_gold, unseen_violations
    from beicoder.core.paths import demo_study
    from beicoder.core.store import Store

    store = Store(demo_db)
    dictionary = store.dictionary()
    training = [p.text for p in store.passages()] + [text for text, _ in dictionary.examples]
    golds = {name: read_gold(demo_study() / name, dictionary.codes)
             for name in ("gold_passages.csv", "gold_passages_2.csv", "gold_passages_3.csv")}
    assert [len(items) for items in golds.values()] == [48, 120, 100]
    for items in golds.values():
        assert unseen_violations(items, training) == []
    # gold_passages_3.csv was written after the suggester was fixed; figures as in the README
    table = metrics(evaluate_gold(store, "reference", dictionary, golds["gold_passages_3.csv"]), dictionary.codes)
    assert list(dict.fromkeys(table["language"])) == ["all", "zh-Hans", "zh-Hant"]  # Taiwanese passages too
    micro = table[(table["code"] == "micro") & (table["language"] == "all")].set_index("suggester")["f1"]
    assert micro["lexicon"] == pytest.approx(0.403, abs=5e-4)
    # .784 before the model learned the dictionary's English examples too (260 of them, English
    # calibrated on its own); the spaCy textcat blend before: .641
    assert micro["blend"] == pytest.approx(0.779, abs=5e-4)
    store.close()


def test_cross_validation_never_trains_on_an_example_that_copies_a_held_out_passage(demo_db, monkeypatch):
    import dataclasses

    from beicoder.core.evaluate import cross_validate
    from beicoder.core.store import Store
    from beicoder.core.suggest import learned
    from beicoder.core.suggest.learned import ModelError

    store = Store(demo_db)
    dictionary = store.dictionary()
    passages = store.passages()
    # a coding manual that copies six study passages (one per two interviewees, roughly)
    copied = [passages[i].text for i in (3, 40, 90, 140, 200, 250)]
    manual = dataclasses.replace(dictionary, examples=tuple((t, frozenset()) for t in copied))
    calls = []
    real = learned.train_model

    def spy(examples, dic, *args, **kwargs):
        calls.append(({t for t, _ in examples}, [t for t, _ in kwargs.get("extra") or []]))
        return real(examples, dic, *args, **kwargs)

    monkeypatch.setattr(learned, "train_model", spy)
    cross_validate(store, "reference", manual, folds=3)
    assert len(calls) == 3
    for train_texts, extra in calls:
        held_out = {p.text for p in passages} - train_texts
        assert not set(extra) & held_out  # no peeking at the fold's answers
        assert set(extra) == set(copied) - held_out  # the other copies stay
    assert sum(len(extra) for _, extra in calls) == 2 * len(copied)

    def too_little(*args, **kwargs):
        raise ModelError("too little to learn from: 7 decided passages; decide at least 10 first")

    monkeypatch.setattr(learned, "train_model", too_little)
    with pytest.raises(ModelError,
                       match=r"^fold 1 of 3 \(test: MC01, MC04, MC07, MC10\): too little to learn from: 7 "):
        cross_validate(store, "reference", manual, folds=3)
    store.close()


def test_a_gold_text_repeated_in_another_script_is_refused(tmp_path):
    path = write(tmp_path, "id,text,codes\nd1,我先去了他家看了猪栏，还查了电费单。,INFO\n"
                           "d2,我先去了他家看了豬欄還查了電費單,INFO\n")
    with pytest.raises(GoldFileError) as err:
        read_gold(path, ["INFO"])
    assert err.value.problems == ["gold.csv line 3: same text as line 2 (script, case and punctuation aside)"]


def test_seen_in_keeps_different_passages_apart():
    from beicoder.core.evaluate import seen_in

    training = ["我跟他约了第二天去场里看，早上六点多就先到了，一栋一栋数栏。",
                "他塞给我一张两千块的购物卡，我当场就还给他了。"]
    texts = ["我跟他约了第二天去他店里，先看了进货单，又问了隔壁两家。",  # shares an opening, not a copy
             "客户说利率太高，我给他算了三家银行的总成本。",
             "嗯，他塞给我一张两千块的购物卡，我当场就还给他了，对。",  # a copy with fillers
             "还给他了"]  # too short to judge by similarity, and not an exact copy
    assert seen_in(texts, training) == [2]


def test_learning_curve_on_the_demo_study(demo_db, tmp_path):
    import json

    from click.testing import CliRunner

    from beicoder.cli import main
    from beicoder.core.evaluate import curve_path, last_curve_point

    db = tmp_path / "demo.db"
    db.write_bytes(demo_db.read_bytes())
    out = tmp_path / "curve.csv"
    result = CliRunner().invoke(main, ["evaluate", "--db", str(db), "--coder", "reference", "--learning-curve",
                                       "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "scored on the last 58 of 288" in result.stdout  # a fifth of the reference's 288 decisions
    data = json.loads(curve_path(db, "reference").read_text(encoding="utf-8"))
    assert [p["n"] for p in data["points"]] == [25, 50, 100, 200, 230]
    for point in data["points"]:
        for name in ("model", "blend"):
            assert 0 <= point[name]["precision"] <= 1 and 0 <= point[name]["f1"] <= 1
    png = curve_path(db, "reference", ".png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 20_000
    last = last_curve_point(db, "reference")
    assert last["n"] == 230 and last["held_out"] == 58 and last["lexicon"]["f1"] == data["lexicon"]["f1"]
    assert out.read_text(encoding="utf-8-sig").splitlines()[0] == "trained_on,suggester,precision,recall,f1,top3_recall"
    assert last_curve_point(db, "nobody") is None
    bad = CliRunner().invoke(main, ["evaluate", "--db", str(db), "--plot", str(tmp_path / "c.png")])
    assert bad.exit_code == 2 and "--plot draws the learning curve" in bad.output
