"""The line breaker of the passage view: Chinese rules (kinsoku), mixed Latin and Chinese,
cell widths as Rich counts them."""

from __future__ import annotations

import pytest
from rich.cells import cell_len
from rich.console import Console
from rich.text import Text

from beicoder.tui.linebreak import CLOSING, OPENING, WrappedText, break_lines

ZH = ("好的。我在某农商行县城支行做微贷客户经理，到今年是第六年了。前面一年在柜台，后来转到信贷这边。"
      "我们支行在老城区，旁边就是县里最大的农贸市场（“菜市场”），所以客户大部分是市场里的个体工商户，"
      "卖菜的、卖干货的、开农资店的……还有就是城郊一些养殖户——养猪养鸡的比较多。他说：「我不知道。」")
MIXED = "Interviewer asked: 然后我去了客户家，看了他的电费单 and the bank statements，又问了邻居。"
EMOJI = "客户很满意👍🏽，还给我发了个😀表情，一家人👨‍👩‍👧都来了。é and 中文"


def lines(text: str, width: int) -> list[str]:
    return [text[a:b] for a, b in break_lines(text, width)]


@pytest.mark.parametrize("text", [ZH, MIXED, EMOJI])
@pytest.mark.parametrize("width", range(8, 61))  # from 8: "场”），" is 7 cells
def test_lines_fit_and_follow_the_rules(text, width):
    got = lines(text, width)
    assert all(cell_len(line) <= width for line in got), got
    assert not any(line[0] in CLOSING for line in got[1:] if line), got
    assert not any(line[-1] in OPENING for line in got if line), got
    assert "".join(got).replace(" ", "") == text.replace(" ", "")  # nothing lost, nothing added
    assert "——" in "\n".join(got) and "……" in "\n".join(got) if text is ZH else True


def test_latin_followed_by_chinese_fills_the_line():
    got = lines(MIXED, 25)
    assert got[0] == "Interviewer asked: 然后我"  # 19 cells of Latin, then three Han characters
    assert cell_len(got[0]) == 25


def test_a_closing_mark_pulls_the_character_before_it_down():
    # 9 characters fill 18 cells; "。" may not start the next line, so "九" goes down with it
    got = lines("一二三四五六七八九。十", 18)
    assert got == ["一二三四五六七八", "九。十"]


def test_an_opening_mark_goes_down_with_what_follows():
    got = lines("一二三四五六七八「九」", 18)
    assert got == ["一二三四五六七八", "「九」"]


def test_latin_words_are_not_cut_and_spaces_at_a_break_are_dropped():
    assert lines("the quick brown fox", 10) == ["the quick", "brown fox"]
    assert lines("一共1,000笔，3.14元", 9) == ["一共1,000", "笔，3.14", "元"]
    # a word longer than the line is cut where it must be
    assert lines("abcdefghijkl", 5) == ["abcde", "fghij", "kl"]


def test_graphemes_keep_their_width_and_are_never_cut():
    for width in range(2, 12):
        for line in lines(EMOJI, width):
            assert "\u200d" != line[-1] and not line.startswith(("\u200d", "\U0001F3FD", "\u0301"))
    assert cell_len("👍🏽") == 2 and cell_len("👨‍👩‍👧") == 2
    assert lines("👍🏽👍🏽👍🏽", 4) == ["👍🏽👍🏽", "👍🏽"]


def test_newlines_always_break_and_empty_text_is_one_empty_line():
    assert lines("第一行\n\n第三行", 40) == ["第一行", "", "第三行"]
    assert break_lines("", 10) == [(0, 0)]


def test_wrapped_text_draws_the_lines_with_their_styles():
    text = Text(MIXED)
    text.stylize("on dark_red", MIXED.index("电费单"), MIXED.index("电费单") + 3)
    console = Console(width=25, record=True, color_system="truecolor", force_terminal=True)
    console.print(WrappedText(text))
    drawn = console.export_text(clear=False).splitlines()
    assert drawn[0] == "Interviewer asked: 然后我"
    assert [line.rstrip() for line in drawn] == lines(MIXED, 25)
    assert str(WrappedText(text)) == MIXED
    styled = [line for line in WrappedText(text).lines(25) if "电费" in line.plain]
    assert styled and any("dark_red" in str(span.style) for span in styled[0].spans)
    assert "\x1b[48;5;88m电费" in console.export_text(styles=True)
