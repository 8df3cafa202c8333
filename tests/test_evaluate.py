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
    path = write(tmp_path, "id,text,codes\ng1,文本,INFO\ng1,重复,\ng3,文本,XYZ;INFO\ng4,,INFO\n,文本,\ng6,我去了, 他不在,INFO\n")
    with pytest.raises(GoldFileError) as err:
        read_gold(path, ["INFO"])
    assert err.value.problems == [
        "gold.csv line 3: id 'g1' repeats line 2",
        "gold.csv line 4: unknown code(s) XYZ",
        "gold.csv line 5: empty text",
        "gold.csv line 6: empty id",
        "gold.csv line 7: more cells than columns (quote texts that hold commas)",
    ]


@pytest.mark.parametrize(
    "content,message",
    [("id,text\ng1,x\n", r"missing column\(s\) codes"), ("id,text,codes\n", "no rows")],
)
def test_gold_file_structure_errors(tmp_path, content, message):
    with pytest.raises(GoldFileError, match=message):
        read_gold(write(tmp_path, content), ["INFO"])


def test_gold_file_not_utf8(tmp_path):
    path = tmp_path / "g.csv"
    path.write_bytes("id,text,codes\ng1,核实,INFO\n".encode("gbk"))
    with pytest.raises(GoldFileError, match="not UTF-8"):
        read_gold(path, ["INFO"])
