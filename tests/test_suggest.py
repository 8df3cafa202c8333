import pytest

from beicoder.core.dictionary import parse_dictionary
from beicoder.core.store import Store
from beicoder.core.suggest.lexicon import LexiconSuggester, fold, keyword_weight, suggest_study, zh_pipeline


def codes_of(suggestions):
    return {s.code: s for s in suggestions}


def test_keyword_inside_a_longer_jieba_word_is_found(dictionary):
    text = "我去查了银行流水账和他家的水电费单据。"
    tokens = [t.text for t in zh_pipeline()(text)]
    assert "流水账" in tokens and "流水" not in tokens  # jieba hides the keyword inside a longer word
    (result,) = LexiconSuggester(dictionary).suggest([text])
    info = codes_of(result)["INFO"]
    spans = {(e.start, e.end, e.keyword, e.token) for e in info.evidence}
    assert (6, 8, "流水", "流水账") in spans
    assert (13, 16, "水电费", "水电费") in spans
    for e in info.evidence:
        assert text[e.start:e.end] == e.matched


def test_traditional_passage_matches_with_offsets_on_the_original(dictionary):
    text = "後來我又去核實了他的銀行流水，還看了電費單。"
    (result,) = LexiconSuggester(dictionary).suggest([text])
    info = codes_of(result)["INFO"]
    found = {(e.keyword, e.matched) for e in info.evidence}
    assert ("核实", "核實") in found
    assert ("银行流水", "銀行流水") in found
    assert ("电费单", "電費單") in found
    for e in info.evidence:
        assert text[e.start:e.end] == e.matched


def test_full_width_letters_and_digits_fold_without_moving_offsets():
    d = parse_dictionary(
        "competencies:\n  - code: AT\n    name_en: Analytical thinking\n    levels: [{level: 1, indicator_en: x}]\n"
        "    keywords: [PDCA, 5W2H]\n", "t.yaml")
    text = "我用了ＰＤＣＡ和５Ｗ２Ｈ……来复盘。"
    assert len(fold(text)) == len(text)
    (result,) = LexiconSuggester(d).suggest([text])
    ev = sorted((e.start, e.end, e.matched) for e in result[0].evidence)
    assert ev == [(3, 7, "ＰＤＣＡ"), (8, 12, "５Ｗ２Ｈ")]


def test_score_combines_distinct_keywords(dictionary):
    # 电费单 (3 chars, w=0.65) and 库存 (2 chars, w=0.55), 电费单 twice: repeats add nothing
    text = "我看了电费单，又看了电费单，再盘了库存。"
    (result,) = LexiconSuggester(dictionary).suggest([text])
    info = codes_of(result)["INFO"]
    assert keyword_weight("电费单") == pytest.approx(0.65)
    assert keyword_weight("库存") == pytest.approx(0.55)
    assert info.score == pytest.approx(1 - (1 - 0.65) * (1 - 0.55))  # 0.8425
    assert len([e for e in info.evidence if e.keyword == "电费单"]) == 2


def test_no_keyword_no_suggestion(dictionary):
    assert LexiconSuggester(dictionary).suggest(["今天天气不错。"]) == [[]]


def test_every_bundled_keyword_is_found_in_a_sentence(dictionary):
    suggester = LexiconSuggester(dictionary)
    for comp in dictionary.competencies:
        for kw in comp.keywords:
            text = f"那次我{kw}了之后才放心。"
            hits = {(code, e.keyword) for code, e in suggester.find(text)}
            assert (comp.code, kw) in hits, kw


def test_suggest_study_stores_code_score_and_evidence(tiny_study, dictionary):
    store = Store(tiny_study)
    done = suggest_study(store, dictionary)
    assert done == len(store.passages())
    first = store.passages()[0]
    rows = store.suggestions_for(first.id)
    info = next(r for r in rows if r["code"] == "INFO")
    for ev in info["evidence"]:
        assert first.text[ev["start"]:ev["end"]] == ev["matched"]
    assert {e["keyword"] for e in info["evidence"]} >= {"实地走访", "电费单", "银行流水"}
    # nothing left to do with the same dictionary
    assert store.passages_needing_suggestions("lexicon", dictionary.sha256) == []
    store.close()
