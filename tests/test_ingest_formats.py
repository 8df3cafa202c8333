"""Import of .docx, .srt and .vtt transcripts, [idN] markers, and exact offsets for astral text."""

import codecs
import zipfile

import docx
import pytest

from beicoder.core.ingest import ImportProblem, decode_bytes, parse_cues, parse_turns, read_transcript


def check_offsets(parsed):
    """Every passage lies inside an interviewee turn and is exactly its slice of the text."""
    pieces = []
    for p in parsed.passages:
        turn = parsed.turns[p.turn_index]
        assert turn.role == "interviewee"
        assert turn.start <= p.start < p.end <= turn.end
        piece = parsed.text[p.start:p.end]
        assert piece and piece == piece.strip()
        pieces.append(piece)
    return pieces


def turn_texts(parsed, role=None):
    return [(t.speaker, t.role, parsed.text[t.start:t.end]) for t in parsed.turns if role is None or t.role == role]


# --------------------------------------------------------------------------- .docx


def add_para(document, label, rest, bold_colon=True):
    p = document.add_paragraph()
    if label is not None:
        p.add_run(label + ("：" if bold_colon and not label.isascii() else (": " if bold_colon else ""))).bold = True
    p.add_run(rest)
    return p


def test_docx_with_bold_labels_gives_turns_and_passages(tmp_path):
    d = docx.Document()
    d.add_heading("访谈记录 2024-05-06", level=1)  # preamble, not a turn
    add_para(d, "李记者", "您好，请讲讲您的工作？")
    add_para(d, "王经理", "我在县城支行做微贷，已经六年了。😀 客户都认识我。")
    p = d.add_paragraph()
    p.add_run("李记者").bold = True  # bold label without a colon
    p.add_run(" 举个例子？")
    add_para(d, "王经理", "去年我查了客户的电费单，发现𠀀用电量不对。")
    table = d.add_table(rows=1, cols=2)
    table.cell(0, 0).text = "表格里的字"
    table.cell(0, 1).text = "王经理：不该出现"
    d.add_paragraph("")  # empty paragraph is dropped
    path = tmp_path / "访谈.docx"
    d.save(path)

    parsed = read_transcript(path)
    assert parsed.encoding == "docx"
    assert parsed.interviewee_speaker == "王经理"
    # a one-row table is not a speaker | text table: kept as context, in the text, never a turn
    assert parsed.warnings == ["kept 1 other table as context: in the text, not coded"]
    assert parsed.text == (
        "访谈记录 2024-05-06\n\n李记者：您好，请讲讲您的工作？\n\n"
        "王经理：我在县城支行做微贷，已经六年了。😀 客户都认识我。\n\n"
        "李记者：举个例子？\n\n王经理：去年我查了客户的电费单，发现𠀀用电量不对。\n\n表格里的字 | 王经理：不该出现\n"
    )
    assert turn_texts(parsed) == [
        ("", "other", "访谈记录 2024-05-06"),
        ("李记者", "interviewer", "您好，请讲讲您的工作？"),
        ("王经理", "interviewee", "我在县城支行做微贷，已经六年了。😀 客户都认识我。"),
        ("李记者", "interviewer", "举个例子？"),
        ("王经理", "interviewee", "去年我查了客户的电费单，发现𠀀用电量不对。"),
        ("", "other", "表格里的字 | 王经理：不该出现"),
    ]
    assert check_offsets(parsed) == ["我在县城支行做微贷，已经六年了。😀 客户都认识我。",
                                     "去年我查了客户的电费单，发现𠀀用电量不对。"]
    assert all(p.start_time is None and p.end_time is None for p in parsed.passages)


def test_docx_english_bold_labels_with_colon_outside_the_bold_and_plain_labels(tmp_path):
    d = docx.Document()
    for label, rest in [("Interviewer", "What do you do?"), ("Respondent", "I run micro loans at a county branch."),
                        ("Interviewer", "For how long?"), ("Respondent", "Six years, before that I was a teller.")]:
        p = d.add_paragraph()
        p.add_run(label).bold = True
        p.add_run(": " + rest)
    d.add_paragraph("Q: a plain label")  # a paragraph with a typed label is read by parse_turns too
    d.add_paragraph("A: also coded.")
    bold_only = d.add_paragraph()
    bold_only.add_run("Closing remarks").bold = True  # all-bold paragraph without colon: a heading, kept as is
    emphasis = d.add_paragraph()
    emphasis.add_run("Really").bold = True  # a one-off bold word without colon: emphasis, kept as is
    emphasis.add_run(" good times.")
    path = tmp_path / "en.docx"
    d.save(path)
    parsed = read_transcript(path)
    assert "Interviewer: What do you do?" in parsed.text
    assert "Closing remarks" in parsed.text and "Closing remarks:" not in parsed.text
    assert parsed.text.endswith("\n\nReally good times.\n")
    assert [t for _, _, t in turn_texts(parsed, "interviewee")] == [
        "I run micro loans at a county branch.", "Six years, before that I was a teller.",
        "also coded.\n\nClosing remarks\n\nReally good times."]
    assert check_offsets(parsed)[0] == "I run micro loans at a county branch."


def test_docx_without_labels_is_plain_paragraphs(tmp_path):
    d = docx.Document()
    d.add_paragraph("第一段：我们先去看了现场。")
    d.add_paragraph("第二段，然后回行里做报告。")
    path = tmp_path / "plain.docx"
    d.save(path)
    parsed = read_transcript(path)
    assert parsed.interviewee_speaker == "interviewee"
    assert parsed.warnings == ["no speaker labels found: every paragraph is taken as the interviewee's"]
    assert check_offsets(parsed) == ["第一段：我们先去看了现场。", "第二段，然后回行里做报告。"]


@pytest.mark.parametrize("kind", ["garbage", "other-zip", "truncated", "empty-doc"])
def test_broken_docx_is_one_line_naming_the_file(tmp_path, kind):
    path = tmp_path / "bad.docx"
    if kind == "garbage":
        path.write_bytes(b"this is not a zip at all")
    elif kind == "other-zip":
        with zipfile.ZipFile(path, "w") as z:
            z.writestr("hello.txt", "hi")
    elif kind == "truncated":
        d = docx.Document()
        d.add_paragraph("王经理：你好")
        d.save(tmp_path / "good.docx")
        path.write_bytes((tmp_path / "good.docx").read_bytes()[:2000])
    else:
        docx.Document().save(path)
    with pytest.raises(ImportProblem) as err:
        read_transcript(path)
    message = str(err.value)
    assert message.startswith(f"{path}: ") and "\n" not in message
    assert ("no text" if kind == "empty-doc" else "not a readable .docx file") in message


@pytest.mark.parametrize("suffix", [".doc", ".pdf", ".rtf", ""])
def test_unsupported_types_name_the_supported_ones(tmp_path, suffix):
    path = tmp_path / f"x{suffix}"
    path.write_bytes(b"whatever")
    with pytest.raises(ImportProblem) as err:
        read_transcript(path)
    assert str(err.value) == (f"{path}: unsupported file type {suffix or '(none)'}; "
                              "use .txt, .md, .docx, .odt, .srt or .vtt (or a .qdpx project)")


def test_a_folder_and_export_names_are_refused_in_one_line(tmp_path, demo_db):
    from click.testing import CliRunner

    from beicoder.cli import main

    with pytest.raises(ImportProblem, match="is a folder; give the files in it"):
        read_transcript(tmp_path)
    runner = CliRunner()
    for out, fmt, message in ((tmp_path / "out.csv", "xlsx", "a xlsx export needs a name ending in .xlsx"),
                              (tmp_path / "x.db-wal", "csv", "is the name of a study's journal file")):
        result = runner.invoke(main, ["export", "--format", fmt, "--out", str(out), "--db", str(demo_db)])
        assert result.exit_code == 2 and message in result.stderr and not out.exists()
    from beicoder.core.export import OutputError, check_output

    with pytest.raises(OutputError, match="journal file"):
        check_output(tmp_path / "study.db-wal")


# --------------------------------------------------------------------------- .srt / .vtt

SRT_NAMED = """1
00:00:01,000 --> 00:00:03,500
李记者：您好，请讲讲
您的工作？

2
00:00:04,000 --> 00:00:07,000
王经理：我在县城支行
做微贷，

3
00:00:07,000 --> 00:00:09,250
已经六年了。

4
00:00:10,000 --> 00:00:11,000
李记者：举个例子？

5
00:00:12,000 --> 00:00:15,000
王经理：<i>去年</i>我查了客户的电费单。
"""


def test_srt_with_name_labels_merges_cues_and_keeps_times(tmp_path):
    path = tmp_path / "a.srt"
    path.write_text(SRT_NAMED, encoding="utf-8")
    parsed = read_transcript(path)
    assert parsed.interviewee_speaker == "王经理" and not parsed.warnings
    assert parsed.text == (
        "李记者：您好，请讲讲您的工作？\n\n王经理：我在县城支行做微贷，已经六年了。\n\n"
        "李记者：举个例子？\n\n王经理：去年我查了客户的电费单。\n"
    )
    assert [(t.speaker, t.role, t.start_time, t.end_time) for t in parsed.turns] == [
        ("李记者", "interviewer", 1.0, 3.5), ("王经理", "interviewee", 4.0, 9.25),
        ("李记者", "interviewer", 10.0, 11.0), ("王经理", "interviewee", 12.0, 15.0)]
    assert check_offsets(parsed) == ["我在县城支行做微贷，已经六年了。", "去年我查了客户的电费单。"]
    assert [(p.start_time, p.end_time) for p in parsed.passages] == [(4.0, 9.25), (12.0, 15.0)]


def test_srt_long_turn_passages_get_the_times_of_their_own_cues(tmp_path):
    sentence = "我先去他的养殖场数了一遍栏舍，又查了近半年的电费单，还找饲料厂的老板核实了赊账情况。"  # 43 chars
    blocks = ["1\n00:00:00,000 --> 00:00:02,000\n访谈者：具体做了什么？\n"]
    for k in range(8):  # one sentence per cue, 5 seconds each
        blocks.append(f"{k + 2}\n00:00:{5 * k + 2:02d},000 --> 00:00:{5 * k + 7:02d},000\n"
                      + ("被访者：" if k == 0 else "") + sentence + "\n")
    path = tmp_path / "long.srt"
    path.write_text("\n".join(blocks), encoding="utf-8")
    parsed = read_transcript(path)
    assert [t.role for t in parsed.turns] == ["interviewer", "interviewee"]
    pieces = check_offsets(parsed)
    assert pieces == [sentence * 4, sentence * 4]
    assert [(p.start_time, p.end_time) for p in parsed.passages] == [(2.0, 22.0), (22.0, 42.0)]


def test_srt_without_speakers_is_one_interviewee_with_a_warning(tmp_path):
    srt = ("1\r\n00:00:00,000 --> 00:00:02,000\r\nWe checked the\r\nledger.\r\n\r\n\r\n"
           "2\r\n00:00:02,000 --> 00:00:04,000\r\n<b>Then</b> we called the bank\r\n.\r\n\r\n"
           "3\r\n00:00:09,000 --> 00:00:10,000\r\nMuch later: done.\r\n")
    path = tmp_path / "en.srt"
    path.write_bytes(codecs.BOM_UTF8 + srt.encode("utf-8"))
    parsed = read_transcript(path)
    assert parsed.encoding == "utf-8-bom"
    assert parsed.warnings == ["no speaker labels found: every paragraph is taken as the interviewee's"]
    # a pause of 2 s or more starts a new paragraph (and so a new turn)
    assert parsed.text == "We checked the ledger. Then we called the bank.\n\nMuch later: done.\n"
    assert check_offsets(parsed) == ["We checked the ledger. Then we called the bank.", "Much later: done."]
    assert [(p.start_time, p.end_time) for p in parsed.passages] == [(0.0, 4.0), (9.0, 10.0)]


VTT = """WEBVTT - interview

NOTE recorded on site
with a phone

STYLE
::cue { color: yellow }

q1
00:00.000 --> 00:02.000 align:start
<v.loud Interviewer>What did you do &amp; why?</v>

00:02.500 --> 00:05.000
<v Ms Chen>I went to the farm.
I counted the pens.</v>

00:05.000 --> 00:06.000
and checked the bills 😀.

00:06.000 --> 00:08.000
<v Interviewer>Then?
<v Ms Chen>Then I <c.yellow>called</c> <00:00:07.000>the feed mill.

00:08.000 --> 00:09.000
<v Ms Chen>Done.
"""


def test_vtt_voices_give_speakers_and_times(tmp_path):
    path = tmp_path / "a.vtt"
    path.write_text(VTT, encoding="utf-8")
    parsed = read_transcript(path)
    assert parsed.interviewee_speaker == "Ms Chen"
    assert "recorded" not in parsed.text and "cue {" not in parsed.text and "q1" not in parsed.text
    assert turn_texts(parsed) == [
        ("Interviewer", "interviewer", "What did you do & why?"),
        ("Ms Chen", "interviewee", "I went to the farm. I counted the pens. and checked the bills 😀."),
        ("Interviewer", "interviewer", "Then?"),
        ("Ms Chen", "interviewee", "Then I called the feed mill. Done."),
    ]
    assert [(t.start_time, t.end_time) for t in parsed.turns] == [(0.0, 2.0), (2.5, 6.0), (6.0, 8.0), (6.0, 9.0)]
    assert check_offsets(parsed) == ["I went to the farm. I counted the pens. and checked the bills 😀.",
                                     "Then I called the feed mill. Done."]
    assert [(p.start_time, p.end_time) for p in parsed.passages] == [(2.5, 6.0), (6.0, 9.0)]


def test_vtt_role_voices_and_hour_timestamps(tmp_path):
    vtt = ("WEBVTT\n\n01:02:03.5 --> 01:02:04.250\n<v 访谈者>后来呢？\n\n"
           "01:02:05.000 --> 01:02:09.000\n<v 被访者>我跟他说了。\n")
    path = tmp_path / "b.vtt"
    path.write_text(vtt, encoding="utf-8")
    parsed = read_transcript(path)
    assert [(t.speaker, t.role) for t in parsed.turns] == [("访谈者", "interviewer"), ("被访者", "interviewee")]
    assert parsed.turns[0].start_time == pytest.approx(3723.5) and parsed.turns[0].end_time == pytest.approx(3724.25)
    assert check_offsets(parsed) == ["我跟他说了。"]
    assert (parsed.passages[0].start_time, parsed.passages[0].end_time) == (3725.0, 3729.0)


def test_vtt_without_voices_can_use_name_labels():
    cues = parse_cues("WEBVTT\n\n00:01.000 --> 00:02.000\nhello\n\n00:03.000 --> 00:04.000\nworld\n", vtt=True)
    assert [(c.start, c.end, c.text, c.speaker) for c in cues] == [(1.0, 2.0, "hello", None), (3.0, 4.0, "world", None)]


@pytest.mark.parametrize("suffix,data", [(".srt", b"just some words\nno cues\n"), (".vtt", b"WEBVTT\n\n"),
                                         (".srt", b""), (".srt", b"\x00\x01\x02\x03" * 40)])
def test_bad_subtitles_are_one_line_naming_the_file(tmp_path, suffix, data):
    path = tmp_path / f"bad{suffix}"
    path.write_bytes(data)
    with pytest.raises(ImportProblem) as err:
        read_transcript(path)
    assert str(err.value).startswith(f"{path}: ") and "\n" not in str(err.value)


# --------------------------------------------------------------------------- [idN] markers


def test_id_markers_are_speaker_labels():
    text = ("[id1] I liked it a lot, it helped me.\n\n[id2] Did it?\n\n"
            "[id1] Yes, the slides were clear and the tutor was kind.\n\n[id3]: ok\n")
    turns, who, warnings = parse_turns(text)
    assert who == "id1" and not warnings
    assert [(t.speaker, t.role, text[t.start:t.end]) for t in turns] == [
        ("id1", "interviewee", "I liked it a lot, it helped me."), ("id2", "interviewer", "Did it?"),
        ("id1", "interviewee", "Yes, the slides were clear and the tutor was kind."), ("id3", "interviewer", "ok")]


def test_speaker_markers_from_diarisation_and_forced_interviewee():
    text = "[SPEAKER_00]: 你做什么工作？\n[SPEAKER_01]: 我做微贷，六年了。\n"
    turns, who, _ = parse_turns(text)
    assert who == "SPEAKER_01" and [t.role for t in turns] == ["interviewer", "interviewee"]
    turns, who, _ = parse_turns(text, interviewee="SPEAKER_00")
    assert [text[t.start:t.end] for t in turns if t.role == "interviewee"] == ["你做什么工作？"]


def test_bracketed_words_and_timestamps_are_not_id_markers():
    turns, who, warnings = parse_turns("[laughs] 好的。\n[00:01] 然后呢。\n")
    assert who == "interviewee" and warnings  # no labels: plain paragraphs


# --------------------------------------------------------------------------- astral characters

ASTRAL = (
    "访谈者：说说那次😀经历？\n"
    "被访者：我们在𠀀村（𠀁𠀂）放款，ＡＢＣ公司的账👨‍👩‍👧不对。\n"
    "访谈者：然后？\n"
    "被访者：我查了𝄞电费单，全角！１２３。\n"
)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "gb18030"])
def test_astral_and_full_width_characters_keep_exact_offsets(tmp_path, encoding):
    data = ASTRAL.encode(encoding)
    if encoding in ("utf-16-le", "utf-16-be"):
        data = (codecs.BOM_UTF16_LE if encoding.endswith("le") else codecs.BOM_UTF16_BE) + data
    path = tmp_path / "astral.txt"
    path.write_bytes(data)
    parsed = read_transcript(path)
    assert parsed.text == ASTRAL
    pieces = check_offsets(parsed)
    assert pieces == ["我们在𠀀村（𠀁𠀂）放款，ＡＢＣ公司的账👨‍👩‍👧不对。", "我查了𝄞电费单，全角！１２３。"]
    # code-point offsets: the passage starts right after the label on its line
    first = parsed.passages[0]
    assert first.start == ASTRAL.index("我们在") and first.end - first.start == len(pieces[0]) == 27
    assert len(pieces[0].encode("utf-16-le")) // 2 == 33  # six characters are surrogate pairs in UTF-16
    assert parsed.passages[1].start == ASTRAL.rindex("我查了") == 57  # 13 + 32 + 8 + 4 code points


def test_utf16_surrogate_pairs_decode_to_single_code_points():
    data = "被访者：𠀀😀".encode("utf-16-le")
    assert len(data) == 4 * 2 + 2 * 4  # four BMP characters, two surrogate pairs
    text, encoding = decode_bytes(codecs.BOM_UTF16_LE + data)
    assert encoding == "utf-16" and text == "被访者：𠀀😀" and len(text) == 6
    full = "甲：" + text + "\n乙：好？\n甲：再来。\n乙：嗯？\n"
    turns, who, _ = parse_turns(full)
    first = next(t for t in turns if t.role == "interviewee")
    assert who == "甲" and full[first.start:first.end] == "被访者：𠀀😀" and (first.start, first.end) == (2, 8)


def test_astral_characters_in_docx_and_srt_keep_exact_offsets(tmp_path):
    d = docx.Document()
    add_para(d, "访谈者", "说说？")
    add_para(d, "被访者", "𠀀😀ＡＢＣ的账👨‍👩‍👧不对。")
    d.save(tmp_path / "a.docx")
    srt = ("1\n00:00:00,000 --> 00:00:01,000\n访谈者：说说？\n\n"
           "2\n00:00:01,000 --> 00:00:02,000\n被访者：𠀀😀ＡＢＣ的账\n👨‍👩‍👧不对。\n")
    (tmp_path / "a.srt").write_bytes(codecs.BOM_UTF16_LE + srt.encode("utf-16-le"))
    for name in ("a.docx", "a.srt"):
        parsed = read_transcript(tmp_path / name)
        assert check_offsets(parsed) == ["𠀀😀ＡＢＣ的账👨‍👩‍👧不对。"], name


# --------------------------------------------------------------------------- real files


def test_real_qualcoder_docx(realdata):
    parsed = read_transcript(realdata / "qualcoder-examples" / "ID1.docx")
    pieces = check_offsets(parsed)
    assert parsed.interviewee_speaker == "interviewee" and len(parsed.warnings) == 1
    assert len(parsed.turns) == 3 and len(pieces) == 3 and len(parsed.text) == 630
    assert pieces[0].startswith("I really like learning new things.")
    assert pieces[2].endswith("I'm happy to pay €200.")


def test_real_qualcoder_id_transcript(realdata):
    parsed = read_transcript(realdata / "qualcoder-examples" / "transcript.txt")
    assert parsed.interviewee_speaker == "id1" and not parsed.warnings
    assert [t.speaker for t in parsed.turns] == ["id1", "id2", "id3", "id1", "id3", "id1", "id2"]
    assert [t.role for t in parsed.turns].count("interviewee") == 3
    pieces = check_offsets(parsed)
    assert len(pieces) == 3
    assert pieces[0].startswith("hello, I like the course.")
    assert pieces[2] == "yes, I agree, it will be good for my career at the museum."


def test_real_qualcoder_odt_imports(realdata):
    path = realdata / "qualcoder-examples" / "ID2.odt"
    parsed = read_transcript(path)
    assert parsed.encoding == "odt" and parsed.interviewee_speaker == "interviewee"
    assert parsed.warnings == ["no speaker labels found: every paragraph is taken as the interviewee's"]
    pieces = check_offsets(parsed)
    assert len(pieces) == 3 and pieces[0].startswith("I have not studied much before, but my father")
    assert pieces[2] == "The course cost €200.00 and I do not want to waste my money."  # spans joined, € kept


def test_real_messy_chinese_srt(realdata):
    path = realdata / "zh-srt-pyvideotrans" / "video1.mp4.srt"
    assert len(parse_cues(decode_bytes(path.read_bytes())[0])) == 14
    parsed = read_transcript(path)
    assert parsed.encoding == "utf-8" and parsed.interviewee_speaker == "interviewee"
    assert parsed.warnings == ["no speaker labels found: every paragraph is taken as the interviewee's"]
    pieces = check_offsets(parsed)
    # the 0.631 s gap before cue 13 is no pause, but the text passes 500 characters first
    assert len(parsed.turns) == 2 and len(pieces) == 5
    assert all(len(p) <= 200 for p in pieces)
    assert "问题" in parsed.text and "问\n题" not in parsed.text  # hard wraps inside words are undone
    assert "重新发明了它。" in parsed.text and "(asrs) 或基于" in parsed.text
    assert pieces[0].startswith("如今，语音体验")
    assert parsed.text.rstrip().endswith("唯一的机会..机会..")
    assert (parsed.passages[0].start_time, parsed.passages[-1].end_time) == (0.0, pytest.approx(127.429))
    times = [(p.start_time, p.end_time) for p in parsed.passages]
    assert all(a < b for a, b in times) and times == sorted(times)
