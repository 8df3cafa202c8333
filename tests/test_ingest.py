import codecs

import pytest

from beicoder.core.ingest import ImportProblem, cut_passages, decode_bytes, parse_turns, read_transcript

SAMPLE = ("访谈者：您好，请讲讲您的工作。\r\n被访者：我在县城支行做微贷，已经六年了。\r\n"
          "访谈者：举个例子？\r\n被访者：去年我查了客户的电费单。\r\n")


def check_offsets(parsed):
    for p in parsed.passages:
        piece = parsed.text[p.start:p.end]
        assert piece and piece == piece.strip()
    return [parsed.text[p.start:p.end] for p in parsed.passages]


@pytest.mark.parametrize(
    "encoding,expected",
    [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-bom"), ("gbk", "gb18030"), ("gb18030", "gb18030"),
     ("big5", "big5"), ("utf-16", "utf-16"), ("utf-16-be-bom", "utf-16")],
)
def test_encodings_decode_to_the_same_passages(tmp_path, encoding, expected):
    text = SAMPLE
    if encoding == "big5":
        import opencc

        text = opencc.OpenCC("s2t").convert(text)
    if encoding == "utf-16-be-bom":
        data = codecs.BOM_UTF16_BE + text.encode("utf-16-be")
    else:
        data = text.encode(encoding)
    path = tmp_path / "t.txt"
    path.write_bytes(data)
    parsed = read_transcript(path)
    assert parsed.encoding == expected
    assert "\r" not in parsed.text
    passages = check_offsets(parsed)
    assert len(passages) == 2
    assert passages[1].endswith("。") and ("电费单" in passages[1] or "電費單" in passages[1])
    assert [t.role for t in parsed.turns] == ["interviewer", "interviewee"] * 2


@pytest.mark.parametrize(
    "text,interviewee_texts",
    [
        ("问：做什么工作？\n答：做微贷。\n问：多久了？\n答：六年。\n", ["做微贷。", "六年。"]),
        ("Q: What do you do?\nA: Micro loans.\nQ: How long?\nA: Six years.\n", ["Micro loans.", "Six years."]),
        ("I: What do you do?\nR: Micro loans.\nI: How long?\nR: Six years.\n", ["Micro loans.", "Six years."]),
        ("访谈者:做什么工作？\n被访者:做微贷。\n", ["做微贷。"]),
        ("### 李记者：\n你做什么工作？\n\n### 王经理：\n我在支行做微贷，管一百多户。\n\n"
         "### 李记者：\n多久了？\n\n### 王经理：\n六年了，之前在柜台。\n",
         ["我在支行做微贷，管一百多户。", "六年了，之前在柜台。"]),
        ("李记者：你做什么工作？\n王经理：我在支行做微贷，管一百多户。\n李记者：多久了？\n王经理：六年了，之前在柜台。\n",
         ["我在支行做微贷，管一百多户。", "六年了，之前在柜台。"]),
    ],
)
def test_speaker_formats(text, interviewee_texts):
    turns, who, warnings = parse_turns(text)
    got = [text[t.start:t.end] for t in turns if t.role == "interviewee"]
    assert got == interviewee_texts
    assert not warnings


def test_quoted_speech_inside_a_role_turn_is_not_a_new_turn():
    text = "访谈者：后来呢？\n被访者：我跟他说了。\n客户说：那我再想想。\n访谈者：然后？\n被访者：他第二天就来了。\n"
    turns, _, _ = parse_turns(text)
    speech = [text[t.start:t.end] for t in turns if t.role == "interviewee"]
    assert speech == ["我跟他说了。\n客户说：那我再想想。", "他第二天就来了。"]


def test_named_interviewee_can_be_forced():
    text = "甲：问一下？\n乙：好的。\n甲：说说？\n乙：嗯。\n"
    turns, who, _ = parse_turns(text, interviewee="甲")
    assert who == "甲"
    assert [text[t.start:t.end] for t in turns if t.role == "interviewee"] == ["问一下？", "说说？"]


def test_long_turn_is_split_at_sentence_ends_into_passages_of_at_most_200():
    sentence = "我先去他的养殖场数了一遍栏舍，又查了近半年的电费单，还找饲料厂的老板核实了赊账情况。"  # 43 chars
    long_turn = sentence * 12
    text = f"访谈者：具体做了什么？\n被访者：{long_turn}\n"
    turns, _, _ = parse_turns(text)
    passages = cut_passages(text, turns)
    pieces = [text[p.start:p.end] for p in passages]
    assert "".join(pieces) == long_turn
    assert all(len(p) <= 200 for p in pieces)
    assert all(p.endswith("。") for p in pieces)
    assert [len(p) for p in pieces] == [len(sentence) * 4] * 3  # 4 sentences fit, 5 do not


def test_sentence_longer_than_the_limit_is_cut_at_a_comma():
    clause = "他说饲料款都是现金付的" + "，"  # 12 chars
    text = "访谈者：然后？\n被访者：" + clause * 30 + "我不信。\n"
    turns, _, _ = parse_turns(text)
    pieces = [text[p.start:p.end] for p in cut_passages(text, turns)]
    assert all(len(p) <= 200 for p in pieces)
    assert pieces[0].endswith("，")
    assert "".join(pieces) == text[turns[1].start:turns[1].end]


def test_plain_paragraphs_without_labels_warn():
    turns, who, warnings = parse_turns("第一段话。\n\n第二段话。\n")
    assert who == "interviewee" and len(turns) == 2
    assert warnings and "no speaker labels" in warnings[0]


@pytest.mark.parametrize(
    "data,message",
    [
        (b"", "file is empty"),
        (b"  \r\n\r\n ", "file has no text"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "looks binary"),
        (bytes(range(1, 32)) * 20, "looks binary"),
        (codecs.BOM_UTF8 + b"\xff\xfe\xfa bad", "not valid UTF-8"),
    ],
)
def test_bad_files_raise_one_line_naming_the_file(tmp_path, data, message):
    path = tmp_path / "bad.txt"
    path.write_bytes(data)
    with pytest.raises(ImportProblem) as err:
        read_transcript(path)
    assert str(path) in str(err.value) and message in str(err.value)
    assert "\n" not in str(err.value)


def test_unsupported_suffix(tmp_path):
    path = tmp_path / "a.pdf"
    path.write_bytes(b"%PDF-1.4")
    with pytest.raises(ImportProblem, match="unsupported file type .pdf"):
        read_transcript(path)


def test_decode_bytes_normalises_lone_cr():
    text, enc = decode_bytes("甲：一\r乙：二\r".encode())
    assert text == "甲：一\n乙：二\n" and enc == "utf-8"


def test_real_traditional_transcripts_and_their_encodings_give_exact_offsets(realdata):
    folder = realdata / "audreyt-transcript-zh"
    original = read_transcript(folder / "2019-06-04-胡曉萍訪問.md")
    assert original.interviewee_speaker == "唐鳳"
    base = check_offsets(original)
    assert len(base) > 20
    for f in sorted((folder / "derived-encodings").glob("2019*.txt")):
        parsed = read_transcript(f)
        assert parsed.interviewee_speaker == "唐鳳", f.name
        assert check_offsets(parsed) == base, f.name
    for f in sorted(folder.glob("*.md")):
        parsed = read_transcript(f)
        assert parsed.interviewee_speaker == "唐鳳", f.name
        assert check_offsets(parsed)


def test_real_english_transcripts_pick_the_interviewee(realdata):
    for f in sorted((realdata / "audreyt-transcript-en").glob("*.md")):
        parsed = read_transcript(f)
        assert parsed.interviewee_speaker == "Audrey Tang", f.name
        assert check_offsets(parsed)


@pytest.mark.parametrize(
    "data,encoding,start",
    [
        ("问：你在哪里工作？\n答：银行。\n问：多久了？\n答：六年。\n".encode("gbk"), "gb18030", "问：你在哪里工作？"),
        ("Q: a\nA: Très bien, café crème à Zürich.\n".encode("latin-1"), "cp1252", "Q: a\nA: Très bien, café"),
        ("Q: a naïve “quote”\nA: ok\n".encode("cp1252"), "cp1252", "Q: a naïve “quote”"),
        ("访谈者：你好\n被访者：好的\n".encode("utf-16-le"), "utf-16-le", "访谈者：你好"),
        ("Q: hi\nA: ok\n".encode("utf-16-be"), "utf-16-be", "Q: hi\nA: ok"),
    ],
)
def test_short_and_bomless_files_get_the_right_encoding(data, encoding, start):
    text, enc = decode_bytes(data, "f.txt")
    assert (enc, text[:len(start)]) == (encoding, start)


def test_timestamps_before_labels_are_not_speech():
    text = "[00:00:05] 访谈者：你好？\n[00:00:09] 被访者：好的。\n00:12 访谈者：再说说？\n(00:15) 被访者：嗯。\n"
    turns, _, _ = parse_turns(text)
    assert [(t.role, text[t.start:t.end]) for t in turns] == [
        ("interviewer", "你好？"), ("interviewee", "好的。"), ("interviewer", "再说说？"), ("interviewee", "嗯。")]


def test_a_file_with_only_interviewer_turns_warns():
    turns, _, warnings = parse_turns("访谈者：你好？\n访谈者：在吗？\n")
    assert [t.role for t in turns] == ["interviewer", "interviewer"]
    assert warnings == ["no interviewee turn found: nothing to code"]


def test_english_turns_are_cut_at_sentence_ends_not_commas():
    sentence = "We went to the market, talked to the suppliers, and checked the ledger against the bank statements. "
    text = "Q: What did you do?\nA: " + sentence * 8 + "\n"
    turns, _, _ = parse_turns(text)
    pieces = [text[p.start:p.end] for p in cut_passages(text, turns)]
    assert all(p.startswith("We went") and p.endswith("statements.") for p in pieces)
    assert all(len(p) <= 600 for p in pieces) and len(pieces) == 2


def test_a_single_role_label_is_enough():
    text = "hello\n\n被访者：我是新人。\n"
    turns, who, warnings = parse_turns(text)
    assert [(t.role, text[t.start:t.end]) for t in turns] == [("other", "hello"), ("interviewee", "我是新人。")]
    assert not warnings
