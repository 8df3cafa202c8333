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
        "    keywords: [PDCA循环, 5W2H分析]\n", "t.yaml")
    text = "我用了ＰＤＣＡ循环和５Ｗ２Ｈ分析……来复盘。"
    assert len(fold(text)) == len(text)
    (result,) = LexiconSuggester(d).suggest([text])
    ev = sorted((e.start, e.end, e.matched) for e in result[0].evidence)
    assert ev == [(3, 9, "ＰＤＣＡ循环"), (10, 16, "５Ｗ２Ｈ分析")]


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


def test_every_keyword_is_found_inside_a_longer_jieba_word_in_traditional_and_full_width(dictionary):
    import jieba
    import opencc

    s2t = opencc.OpenCC("s2t")
    suggester = LexiconSuggester(dictionary)
    nlp = zh_pipeline()
    for comp in dictionary.competencies:
        for kw in comp.keywords:
            compound = f"甲{kw}乙"
            jieba.add_word(compound, freq=10**7)  # force jieba to hide the keyword in a longer word
            try:
                text = f"那天我们{compound}２０２３年的事。"
                assert compound in [t.text for t in nlp(text)], kw
                (result,) = suggester.suggest([text])
                ev = [e for s in result if s.code == comp.code for e in s.evidence if e.keyword == kw]
                assert ev and ev[0].token == compound and text[ev[0].start:ev[0].end] == kw, kw
                trad = s2t.convert(f"那天我们{kw}了。")
                hits = [(c, e) for c, e in suggester.find(trad) if e.keyword == kw]
                assert hits and hits[0][0] == comp.code, (kw, trad)
                assert trad[hits[0][1].start:hits[0][1].end] == hits[0][1].matched
            finally:
                jieba.del_word(compound)


@pytest.mark.parametrize(
    "text,negated_by",
    [
        ("当时我没有去核实他的说法。", "没有"),
        ("我没去查他的电费单。", "没"),
        ("如果当时我去看一下他的库存就好了。", "如果当时"),
        ("早知道就先打听一下他的为人。", "早知道"),
        ("後來我沒有去核實。", "没有"),
    ],
)
def test_negated_and_hypothetical_statements_do_not_count(dictionary, text, negated_by):
    (result,) = LexiconSuggester(dictionary).suggest([text])
    assert [s.code for s in result if s.code == "INFO"] == []
    hits = [e for c, e in LexiconSuggester(dictionary).find(text) if c == "INFO"]
    assert hits and all(e.negated == negated_by for e in hits)


@pytest.mark.parametrize(
    "text",
    ["我去核实了他的说法，没想到对不上。", "我没去他店里，但是查了电费单。", "我特别去看了库存。",
     "别人没注意，我去核实了。"],
)
def test_negation_stays_in_its_clause_and_exceptions_do_not_negate(dictionary, text):
    (result,) = LexiconSuggester(dictionary).suggest([text])
    info = [s for s in result if s.code == "INFO"]
    assert info and any(not e.negated for e in info[0].evidence)


def test_patterns_negative_cues_and_level_cues():
    d = parse_dictionary(
        "negation_cues: [没有]\n"
        "competencies:\n"
        "  - code: INFO\n    name_en: Information seeking\n"
        "    levels:\n      - {level: 1, indicator_en: asks, cues: [问了]}\n"
        "      - {level: 4, indicator_en: third parties, cues: [邻居]}\n"
        "    keywords: [核实]\n"
        "    patterns: [[{TEXT: 翻}, {TEXT: 了, OP: '?'}, {TEXT: 账本}]]\n"
        "    negative_cues: [听说]\n", "t.yaml")
    suggester = LexiconSuggester(d)
    (r1,) = suggester.suggest(["我翻了账本，又问了邻居。"])
    assert [(s.code, s.score, s.level, s.level_cue) for s in r1] == [("INFO", 0.65, 4, "邻居")]
    assert [(e.keyword, e.matched) for e in r1[0].evidence] == [("pattern INFO#1", "翻了账本")]
    (r2,) = suggester.suggest(["听说他核实过。"])
    assert r2 == []


def test_lazy_words_are_exactly_the_words_of_one_jieba_pass(dictionary):
    import jieba

    from beicoder.core.suggest import lexicon
    from beicoder.core.suggest.lexicon import JIEBA_HMM, LazyWords

    assert f"({lexicon._JIEBA_BLOCK.pattern})" == jieba.re_han_default.pattern  # jieba's own blocks
    texts = [t for t, _ in dictionary.examples[:60]] + [
        "我去查了银行流水账和他家的水电费单据。",
        "ｃａｓｈ ｆｌｏｗ２０２３年，A-B 测试 100% ok\r\n第二行\t\t还有😀表情",
        "   ", "。。。", "abc", "第一句。\n\n第二句，有逗号；还有（括号）和“引号”", "𠀀扩展B字符也在里面",
    ]
    for text in texts:
        folded = lexicon.fold(text)
        whole = jieba.lcut(folded, HMM=JIEBA_HMM)
        starts = [sum(map(len, whole[:k])) for k in range(len(whole))]
        spans = list(zip(starts, starts[1:] + [len(folded)]))
        lazy = LazyWords(folded)
        assert lazy.all_words() == spans, text
        for i in range(len(folded)):  # the word holding each character, from a fresh start
            assert LazyWords(folded).word_at(i) == next((a, b) for a, b in spans if a <= i < b)


def test_jieba_runs_only_where_a_keyword_or_a_pattern_can_match(dictionary):
    suggester = LexiconSuggester(dictionary)
    nothing = "今天天气不错，我们一起吃了顿饭，聊了很多家常。" * 5
    assert suggester.suggest([nothing]) == [[]] and suggester.segmented_chars == 0
    (result,) = suggester.suggest(["今天天气不错，" * 5 + "我查了他的银行流水。"])
    assert codes_of(result)["INFO"].evidence[0].token == "银行流水"
    assert 0 < suggester.segmented_chars <= len("我查了他的银行流水")  # one block of the passage


ENGLISH = ("competencies:\n  - code: INFO\n    name_en: Information seeking\n"
           "    levels: [{level: 1, indicator_en: x}]\n"
           "    keywords_en: [cash flow, site-visit, bank statement]\n"
           "  - code: EXP\n    name_en: Expertise\n    levels: [{level: 1, indicator_en: x}]\n"
           "    keywords_en: [cashflow, balance sheet]\n")


@pytest.mark.parametrize("text,matched", [
    ("I checked his cash flow.", "cash flow"),
    ("I checked his cash\nflow for the year.", "cash\nflow"),
    ("I checked his cash  \t flow.", "cash  \t flow"),
    ("I checked his cash-flow.", "cash-flow"),
    ("I checked his cash -\nflow.", "cash -\nflow"),
    ("I checked his CASH\r\nFLOW.", "CASH\r\nFLOW"),
    ("I checked his ｃａｓｈ　ｆｌｏｗ.", "ｃａｓｈ　ｆｌｏｗ"),
])
def test_english_multi_word_keywords_match_across_white_space_and_hyphens(text, matched):
    (result,) = LexiconSuggester(parse_dictionary(ENGLISH, "en.yaml")).suggest([text])
    (info,) = [s for s in result if s.code == "INFO"]
    (ev,) = info.evidence
    assert (ev.keyword, ev.matched, text[ev.start:ev.end]) == ("cash flow", matched, matched)
    assert "EXP" not in {s.code for s in result}  # the joined form is another keyword


def test_english_keywords_listed_joined_or_hyphenated():
    suggester = LexiconSuggester(parse_dictionary(ENGLISH, "en.yaml"))
    text = "Her cashflow was thin, so I did a site visit and read the bank\nstatement and balance-sheet."
    found = sorted((code, e.keyword, e.matched) for code, e in suggester.find(text))
    assert found == [("EXP", "balance sheet", "balance-sheet"), ("EXP", "cashflow", "cashflow"),
                     ("INFO", "bank statement", "bank\nstatement"), ("INFO", "site-visit", "site visit")]
    for _, e in suggester.find(text):
        assert text[e.start:e.end] == e.matched
    assert suggester.find("a cash register and a flow chart; cashew flowers") == []


@pytest.mark.parametrize("text,code,matched", [
    # ^(他|她)?怕(老婆)?$: the optional 他/她 was once taken as the word a match starts with
    ("他怕老婆知道，就一直不肯签。", "IU", "怕老婆知道"),
    ("她怕被家里人知道。", "IU", "怕被家里人知道"),
    # ^我?(忍|憋|压|火压|咽)$: jieba makes 我忍 one word, which the optional 我 allows
    ("我忍了下来", "SCT", "我忍了下来"),
    ("我劝他先别贷那么多", "CSO", "劝他先别"),
])
def test_patterns_whose_first_token_is_a_regex_with_optional_parts(dictionary, text, code, matched):
    (result,) = LexiconSuggester(dictionary).suggest([text])
    ev = [e for s in result if s.code == code for e in s.evidence if e.keyword.startswith("pattern ")]
    assert [e.matched for e in ev] == [matched] and text[ev[0].start:ev[0].end] == matched


def test_simple_token_regexes_are_read_for_the_words_a_match_needs():
    from beicoder.core.suggest.lexicon import _parse_regex

    assert _parse_regex("^我?(定|定下|设)$") == (("定", "定下", "设"), 1, 3)
    assert _parse_regex("^(他|她)?怕(老婆)?$") == (("怕",), 1, 4)
    assert _parse_regex("^(退|退回)") == (("退", "退回"), 0, None)
    assert _parse_regex("怕") == (("怕",), None, None)  # searched anywhere in the word
    assert _parse_regex("^ab(c|d)$") == (("ab",), 0, 3)
    assert _parse_regex("^[0-9]+(户|家)?$") is None
