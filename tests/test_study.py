import pytest

from beicoder.core.store import Store, StoreError
from beicoder.core.study import MetaError, import_parsed, meta_warnings, parse_files, read_meta
from conftest import TINY_A


def meta_file(tmp_path, text):
    path = tmp_path / "meta.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_meta_reads_groups_tenure_and_extra_columns(tmp_path):
    rows = read_meta(meta_file(tmp_path, "interviewee,group,tenure_years,branch,age\nA01,优秀,6,县城,35\nB01,,,,\n"))
    assert rows == [
        {"id": "A01", "grp": "优秀", "tenure_years": 6.0, "branch": "县城", "extra": '{"age": "35"}'},
        {"id": "B01", "grp": None, "tenure_years": None, "branch": None, "extra": '{"age": ""}'},
    ]


@pytest.mark.parametrize(
    "text,message",
    [
        ("name,group\nA01,优秀\n", "meta.csv: no 'interviewee' column"),
        ("interviewee,group\nA01,优秀\nA01,普通\n", "meta.csv line 3: interviewee A01 appears twice"),
        ("interviewee,group\nA01,excellent\n",
         "meta.csv line 2: interviewee A01: group 'excellent' is neither outstanding (优秀) nor average (普通/一般)"),
        ("interviewee,tenure_years\nA01,-3\n", "meta.csv line 2: tenure_years '-3' is not a number of years >= 0"),
        ("interviewee,tenure_years\nA01,six\n", "meta.csv line 2: tenure_years 'six' is not a number of years >= 0"),
        ("interviewee,group\n,优秀\n", "meta.csv line 2: empty interviewee"),
    ],
)
def test_bad_meta_is_one_line_naming_file_and_line(tmp_path, text, message):
    with pytest.raises(MetaError) as err:
        read_meta(meta_file(tmp_path, text))
    assert str(err.value).endswith(message) and "\n" not in str(err.value)


def test_meta_not_utf8(tmp_path):
    path = tmp_path / "meta.csv"
    path.write_bytes("interviewee,group\nA01,优秀\n".encode("gbk"))
    with pytest.raises(MetaError, match="not UTF-8"):
        read_meta(path)


def test_an_edited_transcript_is_refused_not_added_twice(tmp_path, dictionary):
    path = tmp_path / "A01.txt"
    path.write_text(TINY_A, encoding="utf-8")
    store = Store(tmp_path / "s.db")
    store.set_dictionary(dictionary)
    assert [r.status for r in import_parsed(store, parse_files([path]))] == ["imported"]
    assert [r.status for r in import_parsed(store, parse_files([path]))] == ["unchanged"]
    path.write_text(TINY_A + "\n被访者：补充一句。\n", encoding="utf-8")
    (result,) = import_parsed(store, parse_files([path]))
    assert result.status == "error" and "already has a transcript with other text" in result.message
    assert store.query("SELECT count(*) AS n FROM transcripts") == [{"n": 1}]
    notes = meta_warnings([{"id": "A01"}, {"id": "MC99"}], store)
    assert notes == ["metadata names interviewee MC99, who has no transcript in the study",
                     "no group for A01: give them one in the metadata CSV before 'beicoder analyze'"]
    store.close()


def test_reading_commands_do_not_turn_other_files_into_studies(tmp_path):
    empty = tmp_path / "zero.db"
    empty.write_bytes(b"")
    with pytest.raises(StoreError, match="empty file, not a beicoder study file"):
        Store(empty, create=False)
    assert empty.read_bytes() == b""
    with pytest.raises(StoreError, match="is a folder"):
        Store(tmp_path)
    with pytest.raises(StoreError, match="does not exist"):
        Store(tmp_path / "nofolder" / "x.db")
