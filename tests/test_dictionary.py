import pytest

from beicoder.core.dictionary import DictionaryError, load_dictionary, parse_dictionary

GOOD = """
name: test
competencies:
  - code: ACH
    name_zh: 成就导向
    name_en: Achievement orientation
    levels:
      - {level: 0, indicator_zh: 只做分内事}
      - {level: 1, indicator_zh: 想把事情做好}
    keywords: [定了目标, 复盘]
  - code: INFO
    name_zh: 信息搜集
    levels:
      - {level: 0, indicator_en: takes what is given}
    keywords: [电费单]
"""


def test_bundled_dictionary_has_the_eight_dimensions(dictionary):
    assert dictionary.codes == ["ACH", "INFO", "IU", "CSO", "RB", "SCT", "FLX", "EXP"]
    for comp in dictionary.competencies:
        assert comp.name_zh and comp.name_en and comp.definition_zh and comp.definition_en
        assert len(comp.keywords) >= 15
        assert [lv.level for lv in comp.levels] == [0, 1, 2, 3, 4, 5]
        assert all(lv.indicator_zh and lv.indicator_en for lv in comp.levels)
    assert dictionary.get("SCT").name_zh == "自我控制"
    assert len(dictionary.sha256) == 64


def test_good_dictionary_parses():
    d = parse_dictionary(GOOD, "test.yaml")
    assert d.codes == ["ACH", "INFO"]
    assert d.get("ACH").max_level == 1
    assert d.get("INFO").keywords == ("电费单",)


@pytest.mark.parametrize(
    "old,new,message",
    [
        ("code: INFO", "code: ACH", "test.yaml: competency #2 (ACH): duplicate code ACH"),
        ("    name_zh: 信息搜集\n", "", "test.yaml: competency #2 (INFO): missing name (name_zh or name_en)"),
        ("[电费单]", "[电费单, '']", "test.yaml: competency #2 (INFO): keyword #2 is empty"),
        ("{level: 1,", "{level: one,", "test.yaml: competency #1 (ACH): level 'one' is not an integer"),
        ("{level: 1,", "{level: 1.5,", "test.yaml: competency #1 (ACH): level 1.5 is not an integer"),
        ("[定了目标, 复盘]", "[定了目标, 复盘, 复盘]", "test.yaml: competency #1 (ACH): keyword '复盘' appears twice"),
    ],
)
def test_bad_entries_give_one_line_naming_file_and_entry(old, new, message):
    assert old in GOOD
    with pytest.raises(DictionaryError) as err:
        parse_dictionary(GOOD.replace(old, new, 1), "test.yaml")
    assert str(err.value) == message
    assert "\n" not in str(err.value)


def test_bad_yaml_names_the_line(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("competencies:\n  - code: ACH\n    name_zh: [unclosed\n", encoding="utf-8")
    with pytest.raises(DictionaryError) as err:
        load_dictionary(path)
    msg = str(err.value)
    assert msg.startswith("broken.yaml: bad YAML at line")
    assert "\n" not in msg


def test_missing_file_is_one_line(tmp_path):
    with pytest.raises(DictionaryError, match="cannot read dictionary"):
        load_dictionary(tmp_path / "none.yaml")


EXAMPLES = GOOD + """
examples:
  - {codes: [ACH], text: 我给自己定了每月新增二十户的目标。}
  - {codes: "ACH; INFO", text: 我定了目标，又去查了他的电费单。}
  - {codes: [], text: 我觉得做这行要细心。}
  - {codes: [], text: 天气不错。}
"""


def test_examples_parse_with_list_string_or_no_codes():
    d = parse_dictionary(EXAMPLES, "test.yaml")
    assert d.examples == (
        ("我给自己定了每月新增二十户的目标。", frozenset({"ACH"})),
        ("我定了目标，又去查了他的电费单。", frozenset({"ACH", "INFO"})),
        ("我觉得做这行要细心。", frozenset()),
        ("天气不错。", frozenset()),
    )
    assert parse_dictionary(GOOD, "test.yaml").examples == ()


@pytest.mark.parametrize(
    "old,new,message",
    [
        ("codes: [ACH], text", "codes: [ACH, RB], text", "test.yaml: example #1: unknown code(s) RB"),
        ("text: 天气不错。}", "text: ''}", "test.yaml: example #4: missing text"),
        ("- {codes: [], text: 天气不错。}", "- 天气不错",
         "test.yaml: example #4: expected a mapping with text and codes"),
        ("{codes: [], text: 天气不错。}", "{text: 天气不错。}",
         "test.yaml: example #4: missing codes (write codes: [] for a passage with no code)"),
        ("{codes: [], text: 天气不错。}", "{codes: , text: 天气不错。}",
         "test.yaml: example #4: missing codes (write codes: [] for a passage with no code)"),
        ("{codes: [], text: 天气不错。}", "{code: [], text: 天气不错。}",
         "test.yaml: example #4: unknown key(s) code; an example has text, codes and optionally lang"),
        ("{codes: [], text: 天气不错。}", "{codes: [], text: 12345}", "test.yaml: example #4: text must be text"),
        ("text: 天气不错。}", "text: 我觉得做这行要细心。}",
         "test.yaml: example #4: same text as example #3 (script, case and punctuation aside)"),
        ("codes: [], text", "codes: {a: 1}, text", "test.yaml: example #3: 'codes' must be a list of codes"),
        ("examples:\n", "examples: 42\n_unused:\n", "test.yaml: 'examples' must be a list of {text, codes} mappings"),
    ],
)
def test_bad_examples_give_one_line(old, new, message):
    assert old in EXAMPLES
    with pytest.raises(DictionaryError) as err:
        parse_dictionary(EXAMPLES.replace(old, new, 1), "test.yaml")
    assert str(err.value) == message


def test_bundled_dictionary_examples_cover_every_code_and_both_scripts(dictionary):
    from collections import Counter

    from opencc import OpenCC

    languages = dictionary.example_languages
    assert len(languages) == len(dictionary.examples) == 511 + languages.count("en")
    examples = [ex for ex, lang in zip(dictionary.examples, dictionary.example_languages) if lang == "zh"]
    assert len(examples) == 511  # and the English ones (test_english.py)
    per_code = Counter(code for _, labels in examples for code in labels)
    assert set(per_code) == set(dictionary.codes) and min(per_code.values()) >= 9
    no_code = sum(1 for _, labels in examples if not labels)
    assert 175 <= no_code <= 190  # 183: negated, hypothetical and general talk among them
    to_simplified = OpenCC("t2s").convert
    traditional = sum(1 for text, _ in examples if to_simplified(text) != text)
    assert traditional >= 140
    assert len({text for text, _ in examples}) == 511
    assert sum(1 for _, labels in examples if len(labels) >= 2) >= 100  # passages with two or three codes


def test_an_example_repeated_in_another_script_or_a_repeated_key_is_refused():
    with pytest.raises(DictionaryError) as err:
        parse_dictionary(EXAMPLES + "  - {codes: [ACH], text: 我給自己定了每月新增二十戶的目標}\n", "test.yaml")
    assert str(err.value) == "test.yaml: example #5: same text as example #1 (script, case and punctuation aside)"
    with pytest.raises(DictionaryError) as err:
        parse_dictionary(EXAMPLES + "  - {codes: [ACH], text: 新的一段。, codes: []}\n", "test.yaml")
    assert str(err.value).startswith("test.yaml: bad YAML at line ")
    assert str(err.value).endswith("key 'codes' appears twice in one mapping")


def test_the_hash_follows_the_content_not_comments_or_layout():
    base = parse_dictionary(EXAMPLES, "test.yaml").sha256
    relaid = "# a comment\n" + EXAMPLES.replace("[定了目标, 复盘]", "[定了目标,   复盘]")
    assert parse_dictionary(relaid, "t.yaml").sha256 == base
    assert parse_dictionary(EXAMPLES.replace("[定了目标, 复盘]", "[定了目标]"), "t.yaml").sha256 != base
    assert parse_dictionary(EXAMPLES.replace("天气不错。", "天气很好。"), "t.yaml").sha256 != base
