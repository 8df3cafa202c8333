"""The bundled demo study is what a new user sees first: check it is complete and sound."""

import csv

from beicoder.core.analysis import normalize_group
from beicoder.core.ingest import read_transcript
from beicoder.core.paths import demo_study
from beicoder.core.suggest.lexicon import LexiconSuggester
from beicoder.core.textutil import han_count


def test_ten_transcripts_of_at_least_2500_han_characters_five_per_group():
    folder = demo_study()
    files = sorted(folder.glob("MC*.txt"))
    assert len(files) == 10
    with open(folder / "interviewees.csv", encoding="utf-8-sig", newline="") as fh:
        meta = list(csv.DictReader(fh))
    assert list(meta[0]) == ["interviewee", "group", "tenure_years", "branch"]
    groups = {m["interviewee"]: normalize_group(m["group"]) for m in meta}
    assert sorted(groups) == [f.stem for f in files]
    assert list(groups.values()).count("outstanding") == 5 and list(groups.values()).count("average") == 5
    for f in files:
        parsed = read_transcript(f)
        assert han_count(parsed.text) >= 2500, f.name
        roles = [t.role for t in parsed.turns]
        assert roles.count("interviewer") >= 15 and roles.count("interviewee") >= 15, f.name
        assert parsed.interviewee_speaker == "被访者"


def test_reference_codings_use_known_codes_and_levels(dictionary):
    with open(demo_study() / "reference_codings.csv", encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["interviewee", "passage", "code", "level"]
    for r in rows:
        if r["code"]:
            comp = dictionary.get(r["code"])
            assert comp.min_level <= int(r["level"]) <= comp.max_level
        else:
            assert r["level"] == ""


def test_real_traditional_transcripts_get_some_suggestions(dictionary, realdata):
    suggester = LexiconSuggester(dictionary)
    total = 0
    for f in sorted((realdata / "audreyt-transcript-zh").glob("*.md")):
        parsed = read_transcript(f)
        texts = [parsed.text[p.start:p.end] for p in parsed.passages]
        for text, suggestions in zip(texts, suggester.suggest(texts)):
            for s in suggestions:
                for e in s.evidence:
                    assert text[e.start:e.end] == e.matched
                total += 1
    assert total >= 5
