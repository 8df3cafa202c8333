"""Speaker layouts with times, as transcription services write them (issue 14, point 2): label
then time alone on its line or before the text, the time in brackets, the time before the
label; the time kept per turn and passage; speaker labels added from the command line or the
dictionary file."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from beicoder.cli import main
from beicoder.core.dictionary import DictionaryError, parse_dictionary
from beicoder.core.importing import ImportRefused, import_files
from beicoder.core.ingest import ImportProblem, parse_speaker_labels, read_transcript, speaker_roles
from beicoder.core.store import Store


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def parse(tmp_path, text, name="t.txt", **kw):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return read_transcript(path, **kw)


def turns(parsed):
    return [(t.speaker, t.role, parsed.text[t.start:t.end], t.start_time) for t in parsed.turns]


def passages(parsed):
    out = []
    for p in parsed.passages:
        turn = parsed.turns[p.turn_index]
        assert turn.role == "interviewee" and turn.start <= p.start < p.end <= turn.end
        out.append((parsed.text[p.start:p.end], p.start_time, p.end_time))
    return out


def test_label_then_time_alone_on_its_line(tmp_path):
    parsed = parse(tmp_path, "被访者 00:00:12\n我去年做了一个养猪户的贷款。\n\n访谈者 00:00:30\n后来呢？\n\n"
                             "被访者 00:00:35\n后来他按时还了。\n")
    assert turns(parsed) == [("被访者", "interviewee", "我去年做了一个养猪户的贷款。", 12.0),
                             ("访谈者", "interviewer", "后来呢？", 30.0),
                             ("被访者", "interviewee", "后来他按时还了。", 35.0)]
    assert passages(parsed) == [("我去年做了一个养猪户的贷款。", 12.0, 30.0), ("后来他按时还了。", 35.0, None)]
    assert "00" not in "".join(parsed.text[p.start:p.end] for p in parsed.passages)


def test_numbered_speakers_with_the_time_before_the_text(tmp_path):
    parsed = parse(tmp_path, "说话人1 00:01:05 你当时是怎么判断这个客户的？\n说话人2 00:01:09 我先去他家看了，"
                             "又查了他三个月的流水，发现跟他说的对不上。\n说话人1 00:01:30 然后呢？\n"
                             "说话人2 00:01:33 然后我就跟他当面核实了一遍。\n")
    assert [(s, r, t) for s, r, _, t in turns(parsed)] == [
        ("说话人1", "interviewer", 65.0), ("说话人2", "interviewee", 69.0),
        ("说话人1", "interviewer", 90.0), ("说话人2", "interviewee", 93.0)]
    assert passages(parsed)[0] == ("我先去他家看了，又查了他三个月的流水，发现跟他说的对不上。", 69.0, 90.0)


def test_otter_english_speaker_and_minutes(tmp_path):
    parsed = parse(tmp_path, "Speaker 1  0:00\nTell me about a loan you are proud of?\n\nSpeaker 2  0:04\n"
                             "A pig farmer. I checked his feed bills\nand his bank statements.\n\n"
                             "Speaker 1  1:02\nWhat then?\n\nSpeaker 2  1:05\nHe repaid on time.\n")
    assert [(s, r, t) for s, r, _, t in turns(parsed)] == [
        ("Speaker 1", "interviewer", 0.0), ("Speaker 2", "interviewee", 4.0),
        ("Speaker 1", "interviewer", 62.0), ("Speaker 2", "interviewee", 65.0)]
    assert passages(parsed) == [("A pig farmer. I checked his feed bills\nand his bank statements.", 4.0, 62.0),
                                ("He repaid on time.", 65.0, None)]


def test_rev_style_time_in_brackets(tmp_path):
    parsed = parse(tmp_path, "Interviewer (00:00:05):\nWhat do you do?\n\nRespondent (00:00:09): I run loans.\n\n"
                             "Interviewer (00:01:15): For how long?\n\nRespondent (00:01:18):\nSix years.\n")
    assert turns(parsed) == [("Interviewer", "interviewer", "What do you do?", 5.0),
                             ("Respondent", "interviewee", "I run loans.", 9.0),
                             ("Interviewer", "interviewer", "For how long?", 75.0),
                             ("Respondent", "interviewee", "Six years.", 78.0)]
    # the questions are the interviewer's: only the answers count as speech
    assert [p[0] for p in passages(parsed)] == ["I run loans.", "Six years."]


def test_time_before_the_label_as_before_now_keeps_the_time(tmp_path):
    parsed = parse(tmp_path, "[00:01:05] 访谈者：讲一件事。\n[00:01:09] 被访者：我核实了流水。\n"
                             "00:02:00 访谈者\n后来呢？\n00:02:04 被访者\n后来还款了。\n")
    assert turns(parsed) == [("访谈者", "interviewer", "讲一件事。", 65.0),
                             ("被访者", "interviewee", "我核实了流水。", 69.0),
                             ("访谈者", "interviewer", "后来呢？", 120.0),
                             ("被访者", "interviewee", "后来还款了。", 124.0)]
    assert passages(parsed) == [("我核实了流水。", 69.0, 120.0), ("后来还款了。", 124.0, None)]


def test_a_time_in_a_sentence_is_not_a_label(tmp_path):
    parsed = parse(tmp_path, "访谈者：你们几点出发？\n被访者：我们 8:30 出发，\n下午 3:00 到了客户家。\n")
    assert turns(parsed) == [("访谈者", "interviewer", "你们几点出发？", None),
                             ("被访者", "interviewee", "我们 8:30 出发，\n下午 3:00 到了客户家。", None)]


def test_the_label_list_extends_and_is_checked():
    assert parse_speaker_labels(["研究员=interviewer", "客户经理=Interviewee"]) == {
        "研究员": "interviewer", "客户经理": "interviewee"}
    roles = speaker_roles({"研究员": "interviewer"}, {"客户经理": "interviewee", "访谈者": "interviewee"})
    assert roles.role_of("研究员") == "interviewer" and roles.role_of("客户经理") == "interviewee"
    assert roles.role_of("访谈者") == "interviewee"  # the later list wins
    for bad, message in [("研究员", "write NAME=interviewer"), ("研究员=boss", "neither interviewer nor interviewee"),
                         ("a/b=interviewer", "cannot be a speaker label"),
                         ("=interviewer", "cannot be a speaker label")]:
        with pytest.raises(ImportProblem, match=message):
            parse_speaker_labels([bad])
    with pytest.raises(ImportProblem, match="both roles"):
        parse_speaker_labels(["甲=interviewer", "甲=interviewee"])


TEAM = ("研究员 00:00:03\n请讲一件你做得好的事？\n\n客户经理 00:00:07\n我先去看了他的猪场，又核实了流水。\n\n"
        "研究员 00:00:40\n后来呢？\n\n客户经理 00:00:42\n后来他按时还款了。\n")


def test_speaker_labels_from_the_command_line(tmp_path):
    (tmp_path / "A01.txt").write_text(TEAM, encoding="utf-8")
    db = tmp_path / "s.db"
    bad = run("import", tmp_path / "A01.txt", "--db", db, "--speaker-label", "研究员=boss")
    assert bad.exit_code == 2 and len(bad.stderr.strip().splitlines()) == 1 and "neither interviewer" in bad.stderr
    assert not db.exists()
    done = run("import", tmp_path / "A01.txt", "--db", db, "--speaker-label", "研究员=interviewer",
               "--speaker-label", "客户经理=interviewee")
    assert done.exit_code == 0, done.output
    with Store(db, create=False) as store:
        (t,) = store.transcripts()
        texts = [p.text for p in store.passages(t["id"])]
        assert texts == ["我先去看了他的猪场，又核实了流水。", "后来他按时还款了。"]
        assert store.query("SELECT speaker FROM transcripts") == [{"speaker": "客户经理"}]


def test_speaker_labels_from_the_dictionary_file(tmp_path, dictionary):
    text = dictionary.yaml_text + "\nspeaker_labels:\n  interviewer: [研究员]\n  interviewee: [客户经理]\n"
    mine = tmp_path / "mine.yaml"
    mine.write_text(text, encoding="utf-8")
    (tmp_path / "A01.txt").write_text(TEAM.replace("研究员", "督导"), encoding="utf-8")
    report = import_files(tmp_path / "s.db", [tmp_path / "A01.txt"], dictionary_path=mine,
                          speaker_labels=["督导=interviewer"])
    assert report.files[0].passages == 2
    # the study keeps the dictionary, so a later import knows its labels
    (tmp_path / "B01.txt").write_text(TEAM.replace("00:00", "00:01"), encoding="utf-8")
    report = import_files(tmp_path / "s.db", [tmp_path / "B01.txt"])
    assert report.files[0].passages == 2 and report.files[0].warnings == []
    for bad, message in [("speaker_labels: [研究员]", "expected a mapping"),
                         ("speaker_labels: {boss: [研究员]}", "unknown role"),
                         ("speaker_labels: {interviewer: [研究员], interviewee: [研究员]}", "as interviewer and as"),
                         ("speaker_labels: {interviewer: ['a/b']}", "cannot be a speaker label")]:
        with pytest.raises(DictionaryError, match=message) as err:
            parse_dictionary(dictionary.yaml_text + "\n" + bad + "\n", "mine.yaml")
        assert str(err.value).startswith("mine.yaml: speaker_labels")
    with pytest.raises(ImportRefused, match="--speaker-label"):
        import_files(tmp_path / "t.db", [tmp_path / "A01.txt"], speaker_labels=["x"])
