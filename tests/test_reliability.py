import math
import sqlite3

import numpy as np
import pytest
from click.testing import CliRunner
from sklearn.metrics import cohen_kappa_score

from beicoder.cli import main
from beicoder.core.export import import_codings
from beicoder.core.reliability import (
    ReliabilityError,
    alpha,
    category_agreement,
    coding_table,
    presence_kappa,
    reliability_report,
    spearman_brown,
)
from beicoder.core.store import Store
from beicoder.core.study import import_parsed, parse_files

NAN = float("nan")


def test_krippendorff_published_example():
    data = [[1, 2, 3, 3, 2, 1, 4, 1, 2, NAN, NAN, NAN],
            [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, NAN, 3],
            [NAN, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, NAN],
            [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, NAN]]
    assert round(alpha(data, "nominal"), 3) == 0.743
    assert round(alpha(data, "ordinal"), 3) == 0.815
    assert round(alpha(data, "interval"), 3) == 0.849
    assert round(alpha(data, "ratio"), 3) == 0.797


def sets_from_table(table):
    """Two coders' presence of code X from a 2x2 table [[yes-yes, yes-no], [no-yes, no-no]]."""
    (yy, yn), (ny, nn) = table
    a = [{"X"}] * (yy + yn) + [set()] * (ny + nn)
    b = [{"X"}] * yy + [set()] * yn + [{"X"}] * ny + [set()] * nn
    return [a, b]


@pytest.mark.parametrize("table,kappa", [([[20, 20], [10, 50]], 0.348), ([[20, 5], [10, 15]], 0.40)])
def test_cohen_kappa_published_tables(table, kappa):
    assert round(presence_kappa(sets_from_table(table), "X"), 3) == kappa


def test_fleiss_kappa_against_the_definition():
    # 3 coders, 5 units: presence counts per unit 3, 0, 2, 1, 3
    sets = [[{"X"}, set(), {"X"}, set(), {"X"}],
            [{"X"}, set(), {"X"}, {"X"}, {"X"}],
            [{"X"}, set(), set(), set(), {"X"}]]
    counts = [3, 0, 2, 1, 3]
    n, N = 3, 5
    p_i = [(c * (c - 1) + (n - c) * (n - c - 1)) / (n * (n - 1)) for c in counts]
    p_bar = sum(p_i) / N
    p_yes = sum(counts) / (N * n)
    p_e = p_yes ** 2 + (1 - p_yes) ** 2
    assert presence_kappa(sets, "X") == pytest.approx((p_bar - p_e) / (1 - p_e), abs=1e-12)


@pytest.mark.parametrize("ca,n,r", [(0.6, 2, 0.75), (0.6, 3, 0.8182), (0.7, 2, 0.8235), (0.7, 3, 0.875),
                                    (0.8, 2, 0.8889), (0.8, 3, 0.9231)])
def test_reliability_from_category_agreement(ca, n, r):
    assert round(spearman_brown(ca, n), 4) == r


TEXT = ("访谈者：一？\n被访者：第一段。\n访谈者：二？\n被访者：第二段。\n访谈者：三？\n被访者：第三段。\n"
        "访谈者：四？\n被访者：第四段。\n访谈者：五？\n被访者：第五段。\n")


@pytest.fixture
def five(tmp_path, dictionary):
    (tmp_path / "P01.txt").write_text(TEXT, encoding="utf-8")
    db = tmp_path / "s.db"
    store = Store(db)
    store.set_dictionary(dictionary)
    import_parsed(store, parse_files([tmp_path / "P01.txt"]))
    p = [x.id for x in store.passages()]
    # amy: {INFO L3}, {INFO L2, EXP L1}, {}, {EXP L4}, {}
    # bob: {INFO L3}, {INFO L4},         {EXP L2}, {EXP L4}, {}
    store.add_codes(p[0], "amy", {"INFO": 3})
    store.add_codes(p[1], "amy", {"INFO": 2, "EXP": 1})
    store.mark_no_code(p[2], "amy")
    store.add_codes(p[3], "amy", {"EXP": 4})
    store.mark_no_code(p[4], "amy")
    store.add_codes(p[0], "bob", {"INFO": 3})
    store.add_codes(p[1], "bob", {"INFO": 4})
    store.add_codes(p[2], "bob", {"EXP": 2})
    store.add_codes(p[3], "bob", {"EXP": 4})
    store.mark_no_code(p[4], "bob")
    yield store
    store.close()


def test_report_matches_hand_computation(five, dictionary):
    table = coding_table(five, ["amy", "bob"])
    assert len(table.units) == 5
    rep = reliability_report(table, dictionary.codes)
    summary = rep["summary"].set_index("measure")["value"]
    # S = 3 (INFO p1, INFO p2, EXP p4), T1 = 4, T2 = 4
    assert category_agreement(table.sets[0], table.sets[1]) == 0.75
    assert summary["category agreement (CA, mean over pairs)"] == 0.75
    assert summary["reliability R for 2 coders"] == pytest.approx(1.5 / 1.75)
    assert summary["percent agreement (identical code sets)"] == 0.6
    # nominal alpha on code sets by hand: Do = 4/10, De = 72/90 -> 0.5
    assert summary["Krippendorff's alpha, nominal (code sets)"] == pytest.approx(0.5)
    # levels on (p1 INFO), (p2 INFO), (p2 EXP), (p3 EXP), (p4 EXP): pairable 3/3, 2/4, 4/4 -> Do = De = 4/3
    assert summary["Krippendorff's alpha, interval, levels where coded (intensity only)"] == pytest.approx(
        0.0, abs=1e-12)
    # absent = 0: (p1 INFO) 3/3, (p2 INFO) 2/4, (p2 EXP) 1/0, (p3 EXP) 0/2, (p4 EXP) 4/4; ten values,
    # Do = 2 (0 + 4 + 1 + 4 + 0) / 10 = 1.8, De = 2 * 10 * 22.1 / (10 * 9) -> alpha = 1 - 1.8 / 4.9111
    assert summary["Krippendorff's alpha, interval, levels with absent = 0 (presence and intensity)"] == pytest.approx(
        1 - 1.8 / (442 / 90), abs=1e-12)
    import krippendorff

    matrix = np.array([[3, 2, 1, 0, 4], [3, 4, 0, 2, 4]], dtype=float)
    for level in ("interval", "ordinal"):
        assert summary[f"Krippendorff's alpha, {level}, levels with absent = 0 (presence and intensity)"] == \
            pytest.approx(krippendorff.alpha(reliability_data=matrix, level_of_measurement=level), abs=1e-12)
    per_code = rep["per_code"].set_index("code")
    assert per_code.loc["INFO", "ca"] == 1.0 and per_code.loc["INFO", "kappa"] == 1.0
    # EXP presence: amy 0,1,0,1,0; bob 0,0,1,1,0 -> Po .6, Pe .52, kappa 1/6
    assert per_code.loc["EXP", "ca"] == 0.5
    assert per_code.loc["EXP", "kappa"] == pytest.approx((0.6 - 0.52) / 0.48)
    assert per_code.loc["EXP", "kappa"] == pytest.approx(cohen_kappa_score([0, 1, 0, 1, 0], [0, 0, 1, 1, 0]))
    assert per_code.loc["EXP", "flag"] == "CA < 0.7; kappa < 0.6; alpha < 0.667"
    presence = np.array([[0, 1, 0, 1, 0], [0, 0, 1, 1, 0]], dtype=float)
    assert per_code.loc["EXP", "alpha_presence"] == pytest.approx(
        krippendorff.alpha(reliability_data=presence, level_of_measurement="nominal"), abs=1e-12)
    assert math.isnan(per_code.loc["ACH", "kappa"]) and per_code.loc["ACH", "percent_agreement"] == 1.0
    dis = rep["disagreements"]
    assert list(dis["passage"]) == [2, 3]
    assert list(dis["amy"]) == ["INFO L2; EXP L1", "no code"]
    assert list(dis["bob"]) == ["INFO L4", "EXP L2"]


def test_alpha_uses_passages_only_some_coders_decided(five, dictionary):
    """A third coder who decided two passages only: CA and kappa use the passages all three
    decided, alpha every passage decided by two or more, with the third coder missing."""
    import krippendorff

    p = [x.id for x in five.passages()]
    five.add_codes(p[0], "cat", {"INFO": 3})
    five.mark_no_code(p[4], "cat")
    table = coding_table(five, ["amy", "bob", "cat"])
    assert len(table.units) == 2 and len(table.all_units) == 5
    rep = reliability_report(table, dictionary.codes)
    per_code = rep["per_code"].set_index("code")
    nan = np.nan
    presence = np.array([[0, 1, 0, 1, 0], [0, 0, 1, 1, 0], [0, nan, nan, nan, 0]], dtype=float)
    assert per_code.loc["EXP", "alpha_presence"] == pytest.approx(
        krippendorff.alpha(reliability_data=presence, level_of_measurement="nominal"), abs=1e-12)
    assert per_code.loc["EXP", "alpha_units"] == 5


def test_alpha_agrees_with_the_package_on_random_data_and_stays_small():
    """Our coincidence-matrix alpha against the krippendorff package on random matrices with
    missing values, at every level; and a 200,000-unit matrix in V x V memory."""
    import krippendorff

    from beicoder.core.reliability import alpha

    rng = np.random.default_rng(1)
    for _ in range(20):
        data = rng.integers(0, 6, size=(3, 40)).astype(float)
        data[rng.random(data.shape) < 0.2] = np.nan
        for level in ("nominal", "ordinal", "interval", "ratio"):
            assert alpha(data, level) == pytest.approx(
                krippendorff.alpha(reliability_data=data, level_of_measurement=level), abs=1e-10)
    big = rng.integers(0, 300, size=(2, 200_000)).astype(float)
    assert -0.1 < alpha(big, "nominal") < 0.1


def test_errors_name_the_problem(five):
    with pytest.raises(ReliabilityError, match="at least two different coders"):
        coding_table(five, ["amy", " amy "])
    with pytest.raises(ReliabilityError, match="no decisions by zed"):
        coding_table(five, ["amy", "zed"])


def fixture_coders(demo_db, tmp_path):
    """The demo study plus two coders' independent coding of MC01 and MC02 (tests/data)."""
    from pathlib import Path

    db = tmp_path / "study.db"
    db.write_bytes(demo_db.read_bytes())
    store = Store(db)
    data = Path(__file__).parent / "data"
    import_codings(store, data / "coder_li.csv", coder="li")
    import_codings(store, data / "coder_wang.csv", coder="wang")
    store.close()
    return db


def test_two_coders_on_the_first_two_transcripts_match_the_libraries(demo_db, tmp_path, dictionary):
    db = fixture_coders(demo_db, tmp_path)
    store = Store(db)
    table = coding_table(store, ["li", "wang"])
    rep = reliability_report(table, dictionary.codes)
    store.close()
    assert len(table.units) == 26 + 31  # every passage of MC01 and MC02
    li, wang = table.sets
    s = sum(len(a & b) for a, b in zip(li, wang))
    t1, t2 = sum(map(len, li)), sum(map(len, wang))
    summary = rep["summary"].set_index("measure")["value"]
    assert summary["category agreement (CA, mean over pairs)"] == pytest.approx(2 * s / (t1 + t2))
    for code in dictionary.codes:
        expected = cohen_kappa_score([int(code in a) for a in li], [int(code in b) for b in wang])
        got = rep["per_code"].set_index("code").loc[code, "kappa"]
        assert (math.isnan(got) and math.isnan(expected)) or got == pytest.approx(expected)
    import krippendorff

    cats = {}
    nominal = [[cats.setdefault(frozenset(x), len(cats)) for x in coder] for coder in (li, wang)]
    assert summary["Krippendorff's alpha, nominal (code sets)"] == pytest.approx(
        krippendorff.alpha(reliability_data=np.array(nominal, dtype=float), level_of_measurement="nominal"))
    assert 0 < len(rep["disagreements"]) < len(table.units)


def test_cli_reliability_and_merge_twice(demo_db, tmp_path):
    from pathlib import Path

    runner = CliRunner()
    data = Path(__file__).parent / "data"
    first = tmp_path / "li.db"
    second = tmp_path / "wang.db"
    for db, csv, coder in ((first, "coder_li.csv", "li"), (second, "coder_wang.csv", "wang")):
        db.write_bytes(demo_db.read_bytes())
        result = runner.invoke(main, ["codings", "import", str(data / csv), "--coder", coder, "--db", str(db)])
        assert result.exit_code == 0
    result = runner.invoke(main, ["merge", str(second), "--db", str(first)])
    assert result.exit_code == 0, result.output
    assert "matched 10 transcript(s)" in result.stdout
    con = sqlite3.connect(second)
    n_wang = (con.execute("SELECT count(*) FROM codings WHERE coder = 'wang'").fetchone()[0]
              + con.execute("SELECT count(*) FROM passage_marks WHERE coder = 'wang'").fetchone()[0])
    assert f"coder wang: {n_wang} added" in result.stdout  # codings and no-code decisions
    before = sqlite3.connect(first).execute("SELECT count(*) FROM codings").fetchone()[0]
    again = runner.invoke(main, ["merge", str(second), "--db", str(first)])
    assert "coder wang: 0 added, 0 updated" in again.stdout
    assert sqlite3.connect(first).execute("SELECT count(*) FROM codings").fetchone()[0] == before
    out = tmp_path / "rel"
    result = runner.invoke(main, ["reliability", "--db", str(first), "--coders", "li", "wang", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Coders: li, wang; 57 passages decided by all" in result.stdout
    assert (out / "disagreements.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    header = (out / "disagreements.csv").read_text(encoding="utf-8-sig").splitlines()[0]
    assert header == "interviewee,passage,passage_text,li,wang"
    bad = runner.invoke(main, ["reliability", "--db", str(first), "--coders", "li", "nobody"])
    assert bad.exit_code == 2 and "no decisions by nobody" in bad.stderr
