"""Discovery beyond the dictionary (issue 16): distinctive terms with a permutation p over
interviewees, candidate themes, a theme made a draft code, the report's section and the CLI."""

from __future__ import annotations

import math
import random
from itertools import combinations

import pytest
from click.testing import CliRunner

from beicoder.cli import main
from beicoder.core.dictionary import load_dictionary, parse_dictionary
from beicoder.core.discover import (
    DiscoveryError,
    discover,
    discovery_path,
    distinctive_terms,
    draft_code_from_theme,
    load_discovery,
    log_odds_z,
    save_discovery,
    term_spans,
)
from beicoder.core.store import Store
from conftest import make_study

NEUTRAL = ["我们支行在县城，客户大多是做小生意的。", "早上开完晨会就出去跑市场。", "这个月的任务还差一点。",
           "下午回来整理材料，录进系统里。", "有个卖水果的大姐来问贷款利率。", "行里最近推了一个新产品。",
           "周末有时候也要加班。", "我们网点一共七个人。", "客户来了先登记，再约时间上门。",
           "审批一般要一个星期左右。", "去年年底我们网点评了先进。", "有的客户不太会用手机银行。"]
PLANTED = "每个案子结束以后我都会复盘。"  # the term 复盘
TALKATIVE = "他家的鱼塘很大。"  # the term 鱼塘


def planted_study(folder, talkative: bool = False):
    """Five outstanding (O1-O5) and five average (A1-A5) interviewees who all say the same
    neutral sentences (shuffled, seeded); every outstanding interviewee says PLANTED twice,
    A1 says it once. With ``talkative``, O1 also says TALKATIVE 30 times, A2 and A3 once each."""
    rng = random.Random(7)
    texts, groups = {}, {}
    for g, prefix in (("outstanding", "O"), ("average", "A")):
        for k in range(1, 6):
            iv = f"{prefix}{k}"
            sentences = list(NEUTRAL)
            if g == "outstanding":
                sentences += [PLANTED, PLANTED]
            if iv == "A1":
                sentences.append(PLANTED)
            if talkative and iv == "O1":
                sentences += [TALKATIVE] * 30
            if talkative and iv in ("A2", "A3"):
                sentences.append(TALKATIVE)
            rng.shuffle(sentences)
            turns = [f"访谈者：请接着讲。\n被访者：{''.join(sentences[i:i + 3])}" for i in range(0, len(sentences), 3)]
            texts[iv] = "\n".join(turns) + "\n"
            groups[iv] = g
    return make_study(folder, texts, groups)


def z_by_hand(y_o, y_a, n_o, n_a, y, n):
    """Monroe, Colaresi & Quinn (2008), eqs. 16 and 18-22, with the prior a_w = y_w (the pooled
    count) and a_0 = n, written out with math.log."""
    a, a0 = y, n
    delta = (math.log((y_o + a) / (n_o + a0 - y_o - a)) - math.log((y_a + a) / (n_a + a0 - y_a - a)))
    return delta / math.sqrt(1 / (y_o + a) + 1 / (y_a + a))


def test_log_odds_z_against_a_hand_computation_on_a_tiny_corpus():
    # outstanding said a a a b, average said a b b c c: y_O = (3, 1, 0), y_A = (1, 2, 2), n_O = 4,
    # n_A = 5; pooled y = (4, 3, 2), n = 9; prior a_w = y_w, a_0 = 9
    delta, z = log_odds_z([3, 1, 0], [1, 2, 2], 4, 5, [4, 3, 2], 9)
    # term a: log(7 / 6) - log(5 / 9) = 0.741937; var = 1/7 + 1/5 = 0.342857; z = 1.267100
    assert delta[0] == pytest.approx(math.log(7 / 6) - math.log(5 / 9), abs=1e-12)
    assert delta[0] == pytest.approx(0.741937, abs=1e-6)
    assert z[0] == pytest.approx(1.267100, abs=1e-6)
    for w, (yo, ya, y) in enumerate([(3, 1, 4), (1, 2, 3), (0, 2, 2)]):
        assert z[w] == pytest.approx(z_by_hand(yo, ya, 4, 5, y, 9), abs=1e-12)
    assert z[2] < 0 < z[0]  # c only in the average group's speech
    # the same from an interviewee x term count matrix (one interviewee per group; not tested)
    scored = distinctive_terms([[3, 1, 0], [1, 2, 2]], [4, 5], [True, False], min_interviewees=3)
    assert list(scored["z"]) == pytest.approx(list(z), abs=1e-12)
    assert not scored["tested"].any() and math.isnan(scored["p"][0])


def per_interviewee_counts(db, key):
    """Each interviewee's count of the term ``key`` and number of term tokens, from the
    passages in the study, tokenised as discovery does."""
    store = Store(db)
    rows = store.passage_decisions()
    store.close()
    counts, tokens = {}, {}
    for r, spans in zip(rows, term_spans([r["text"] for r in rows])):
        counts[r["interviewee"]] = counts.get(r["interviewee"], 0) + sum(1 for k, _, _ in spans if k == key)
        tokens[r["interviewee"]] = tokens.get(r["interviewee"], 0) + len(spans)
    return counts, tokens


def exact_p(counts, tokens, outstanding):
    """The two-sided permutation p of the log-odds z by enumerating every split of the
    interviewees into groups of the observed sizes (twice the smaller one-sided share)."""
    ivs = sorted(counts)
    y, n = sum(counts.values()), sum(tokens.values())

    def z_of(group):
        y_o = sum(counts[i] for i in group)
        n_o = sum(tokens[i] for i in group)
        return z_by_hand(y_o, y - y_o, n_o, n - n_o, y, n)

    observed = z_of(outstanding)
    zs = [z_of(set(c)) for c in combinations(ivs, len(outstanding))]
    ge = sum(1 for v in zs if v >= observed - 1e-9)
    le = sum(1 for v in zs if v <= observed + 1e-9)
    return min(1.0, 2 * min(ge, le) / len(zs)), observed


def test_a_planted_phrase_is_the_top_outstanding_term_with_the_exact_permutation_p(tmp_path):
    db = planted_study(tmp_path)
    with Store(db) as store:
        result = discover(store)
    top = result.top_terms("outstanding", 1)[0]
    assert top.term == "复盘" and top.favours == "outstanding"
    assert (top.interviewees_outstanding, top.interviewees_average) == (5, 1)
    assert (top.count_outstanding, top.count_average) == (10, 1)
    counts, tokens = per_interviewee_counts(db, "复盘")
    p, z = exact_p(counts, tokens, {f"O{k}" for k in range(1, 6)})
    assert top.z == pytest.approx(z, abs=1e-9)
    assert top.p == pytest.approx(p, abs=1e-12)
    assert top.p == pytest.approx(2 / 252)  # the most extreme of the 252 splits, two-sided
    assert result.method["terms_p"] == "exact, all 252 splits"
    # its evidence: two passages in context from two outstanding interviewees, the term marked
    assert len(top.examples) == 2 and len({e.interviewee for e in top.examples}) == 2
    assert all(e.group == "outstanding" and e.text[e.start:e.end] == "复盘" for e in top.examples)
    with Store(db) as store:
        holding = [p.id for p in store.passages() if "复盘" in p.text]
    assert sorted(top.passages) == sorted(holding) and len(holding) >= 6  # every passage that holds it


def test_a_term_used_very_often_by_one_interviewee_is_not_significant(tmp_path):
    db = planted_study(tmp_path, talkative=True)
    with Store(db) as store:
        result = discover(store)
    term = next(t for t in result.terms if t.term == "鱼塘")
    assert (term.count_outstanding, term.count_average) == (30, 2)
    assert term.z > 1.96  # the model-based z alone would call it distinctive
    assert term.p > 0.3 and term.q > 0.05  # over interviewees it is one person's habit
    counts, tokens = per_interviewee_counts(db, "鱼塘")
    assert term.p == pytest.approx(exact_p(counts, tokens, {f"O{k}" for k in range(1, 6)})[0], abs=1e-12)
    # a term used by fewer interviewees than the family's minimum is not tested at all
    with Store(db) as store:
        strict = discover(store, min_interviewees=4)
    assert "鱼塘" not in {t.term for t in strict.terms} and "复盘" in {t.term for t in strict.terms}
    # the planted phrase stays the top outstanding term, with the p of the enumeration, though
    # O1's 30 sentences dilute every other term's rate in any group O1 is in
    top = result.top_terms("outstanding", 1)[0]
    counts, tokens = per_interviewee_counts(db, "复盘")
    assert top.term == "复盘" and top.p == pytest.approx(exact_p(counts, tokens, {f"O{k}" for k in range(1, 6)})[0])


def test_monte_carlo_splits_when_there_are_too_many():
    import numpy as np

    rng = np.random.default_rng(3)
    counts = rng.poisson(2.0, size=(40, 6)).astype(float)
    counts[:20, 0] += 5  # term 0 used more by the first (outstanding) twenty
    is_o = np.arange(40) < 20
    scored = distinctive_terms(counts, counts.sum(axis=1), is_o)
    assert scored["method"] == "Monte-Carlo, 9,999 resamples, seed 0"
    assert scored["p"][0] == pytest.approx(1 / 10_000 * 2)  # no resample as extreme: 2 (b + 1) / (R + 1)
    again = distinctive_terms(counts, counts.sum(axis=1), is_o)
    assert list(again["p"]) == list(scored["p"])  # seeded


def test_themes_are_deterministic_and_stored_beside_the_study(demo_db, tmp_path):
    db = tmp_path / "demo.db"
    db.write_bytes(demo_db.read_bytes())
    with Store(db) as store:
        first = discover(store, "reference")
        second = discover(store, "reference")
    assert first.themes and first.themes == second.themes
    assert first.terms == second.terms and first.k_coherence == second.k_coherence
    assert [t.number for t in first.themes] == list(range(1, len(first.themes) + 1))
    assert 2 <= first.k <= 12 and len(first.themes) <= first.k
    sizes = [len(t.passages) for t in first.themes]
    assert sizes == sorted(sizes, reverse=True)
    for t in first.themes:
        assert len(t.examples) == 5 and len(t.top_terms) == 10
        assert {e.passage_id for e in t.examples} <= set(t.passages)
        assert 0 <= t.p <= 1 and 0 <= t.p_share <= 1
    # only passages no code covers: none of them has a reference coding
    with Store(db) as store:
        coded = {r["passage_id"] for r in store.coding_rows("reference")}
    assert not coded & {pid for t in first.themes for pid in t.passages}
    path = save_discovery(first, db)
    assert path == discovery_path(db) and path.name == "demo.db.discover.json"
    back = load_discovery(db)
    assert back.themes == first.themes and back.terms == first.terms and back.k == first.k
    assert "NPMI" in back.method["themes"] and "Monroe" in back.method["terms"]


def test_no_saved_discovery_is_one_line(tmp_path):
    with pytest.raises(DiscoveryError, match="no discovery yet; run 'beicoder discover"):
        load_discovery(tmp_path / "none.db")


def test_add_code_from_a_theme_round_trips_through_the_validator(demo_db, tmp_path, monkeypatch):
    db = tmp_path / "demo.db"
    db.write_bytes(demo_db.read_bytes())
    with Store(db) as store:
        save_discovery(discover(store, "reference"), db)
        source = store.dictionary()
    theme = load_discovery(db).theme(1)
    out = tmp_path / "draft.yaml"
    draft = draft_code_from_theme(db, "CHK", "按章办事", "Following procedure", 1, out)
    written = load_dictionary(out)
    assert written.codes == [*source.codes, "CHK"]
    comp = written.get("CHK")
    assert (comp.name_zh, comp.name_en, [lv.level for lv in comp.levels]) == ("按章办事", "Following procedure", [1])
    new_examples = [text for text, codes in written.examples if codes == {"CHK"}]
    assert new_examples == [e.text for e in theme.examples] and draft.examples == 5 and draft.kept
    assert written.examples[:len(source.examples)] == source.examples  # the others untouched
    text = out.read_text(encoding="utf-8")
    assert parse_dictionary(text, str(out)).sha256 == written.sha256
    assert "# Draft code from theme 1 of 'beicoder discover'" in text
    assert "# A keyword does not count when" in text  # the original comments stay
    # refused: a code that exists, a file that exists, a theme that does not
    with pytest.raises(Exception, match="code ACH exists already"):
        draft_code_from_theme(db, "ACH", "成就", None, 1, tmp_path / "other.yaml")
    with pytest.raises(Exception, match="exists; move it away"):
        draft_code_from_theme(db, "NEW", "新", None, 1, out)
    with pytest.raises(DiscoveryError, match="theme 99: the discovery of"):
        draft_code_from_theme(db, "NEW", "新", None, 99, tmp_path / "other.yaml")
    # the CLI, with the default file name, then the study uses the draft
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    res = runner.invoke(main, ["dictionary", "add-code", "TRUST", "--name-zh", "诚信", "--from-theme", "2",
                               "--db", str(db)])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "micro_credit-TRUST.yaml").is_file() and "it loads as a dictionary" in res.output
    res = runner.invoke(main, ["dictionary", "add-code", "ACH", "--name-zh", "x", "--from-theme", "2", "--db", str(db)])
    assert res.exit_code == 2 and "code ACH exists already" in res.output
    res = runner.invoke(main, ["dictionary", "use", str(out), "--db", str(db)])
    assert res.exit_code == 0, res.output
    with Store(db) as store:
        assert "CHK" in store.code_keys()


def test_add_code_keeps_a_dictionary_without_examples_valid(tmp_path, demo_db):
    db = tmp_path / "demo.db"
    db.write_bytes(demo_db.read_bytes())
    with Store(db) as store:
        save_discovery(discover(store, "reference"), db)
    small = tmp_path / "small.yaml"
    small.write_text("name: 小词典\ncompetencies:\n  - code: A\n    name_zh: 甲\n    levels:\n"
                     "      - {level: 1, indicator_zh: 有}\n", encoding="utf-8")
    draft = draft_code_from_theme(db, "B", "乙", None, 3, tmp_path / "small-B.yaml", small)
    assert draft.dictionary.codes == ["A", "B"] and len(draft.dictionary.examples) == 5 and draft.kept


def test_discover_command_prints_terms_and_themes_and_writes_the_csvs(demo_db, tmp_path):
    import pandas as pd

    db = tmp_path / "demo.db"
    db.write_bytes(demo_db.read_bytes())
    res = CliRunner().invoke(main, ["discover", "--db", str(db), "--out", str(tmp_path / "out"), "--top", "5"])
    assert res.exit_code == 0, res.output
    out = res.output
    for text in ("coder: reference", "Distinctive terms", "Favouring the outstanding group",
                 "Favouring the average group", "Candidate themes", "Theme 1:", "Monroe, Colaresi & Quinn 2008",
                 "exact, all 252 splits", "Benjamini-Hochberg", "beicoder dictionary add-code CODE"):
        assert text in out, text
    terms = pd.read_csv(tmp_path / "out" / "terms.csv", encoding="utf-8-sig")
    assert list(terms.columns)[:9] == ["term", "favours", "z", "p", "q", "interviewees_outstanding",
                                       "interviewees_average", "count_outstanding", "count_average"]
    assert terms["p"].min() >= 2 / 252 - 1e-12  # no p below what 5 vs 5 can give
    themes = pd.read_csv(tmp_path / "out" / "themes.csv", encoding="utf-8-sig")
    assert {"theme", "top_terms", "share_outstanding", "share_average", "p", "q", "example_5"} <= set(themes.columns)
    assert discovery_path(db).is_file()


def test_discover_without_groups_is_one_line(tmp_path):
    from conftest import TINY_A, TINY_B

    db = make_study(tmp_path, {"A01": TINY_A, "B01": TINY_B}, {"A01": "outstanding"})
    res = CliRunner().invoke(main, ["discover", "--db", str(db)])
    assert res.exit_code == 2
    assert "no average interviewee with passages" in res.output


def test_report_discover_section(demo_db, tmp_path):
    db = tmp_path / "demo.db"
    db.write_bytes(demo_db.read_bytes())
    out = tmp_path / "rep"
    res = CliRunner().invoke(main, ["report", "--db", str(db), "--coder", "reference", "--out", str(out),
                                    "--discover"])
    assert res.exit_code == 0, res.output
    md = (out / "report.md").read_text(encoding="utf-8")
    section = md.split("## Beyond the dictionary: distinctive terms and candidate themes")[1].split("## Appendix")[0]
    for text in ("informative Dirichlet prior (Monroe, Colaresi & Quinn 2008)", "permutation test over interviewees",
                 "Benjamini-Hochberg", "Table D1.", "Table D2.", "Table D3.", "NPMI", "- Theme 1 ("):
        assert text in section, text
    assert discovery_path(db).is_file()
    import pandas as pd

    sheets = pd.read_excel(out / "report.xlsx", sheet_name=None)
    assert {"discover_terms", "discover_themes"} <= set(sheets)
    plain = tmp_path / "plain"
    assert CliRunner().invoke(main, ["report", "--db", str(db), "--coder", "reference", "--out", str(plain)]
                              ).exit_code == 0
    assert "## Beyond the dictionary" not in (plain / "report.md").read_text(encoding="utf-8")


def test_terms_are_counted_folded_and_shown_as_written():
    text = "我去他家實地走訪，查了他的電費單。I checked the borrower's bills. ２０２３年做了ｉｎｔｅｒｎｅｔ貸款，两万"
    spans = term_spans([text])[0]
    keys = [k for k, _, _ in spans]
    assert {"实地", "走访", "电费", "checked", "borrower", "bills", "internet", "贷款"} <= set(keys)
    assert "两万" not in keys and "the" not in keys  # numerals and stop words are no terms
    written = {k: text[s:e] for k, s, e in spans}
    assert written["走访"] == "走訪" and written["internet"] == "ｉｎｔｅｒｎｅｔ"  # offsets into the text as written


def test_a_term_written_in_both_scripts_is_one_term_shown_in_its_usual_form(tmp_path):
    texts, groups = {}, {}
    for k in range(1, 4):
        texts[f"O{k}"] = f"访谈者：讲讲。\n被访者：我每次都去实地走访客户的店铺，第{k}年了。\n"
        texts[f"A{k}"] = f"访谈者：讲讲。\n被访者：我每次都去看客户的店铺，第{k}年了。\n"
        groups[f"O{k}"], groups[f"A{k}"] = "outstanding", "average"
    texts["O3"] = "访谈者：讲讲。\n被访者：我每次都去實地走訪客戶的店鋪。\n"
    with Store(make_study(tmp_path, texts, groups)) as store:
        result = discover(store)
    term = next(t for t in result.terms if t.key == "走访")
    assert term.term == "走访" and term.forms == ("走访", "走訪") and term.interviewees_outstanding == 3
