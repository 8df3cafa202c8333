"""XLSX exports that open readably (issue 14, point 5, and issue 12's memos): legal and unique
sheet names for any coder name with a sheet saying which is which, widths fitted with passage
text wrapped, times as dates, numbers as numbers, a "columns" sheet explaining every header;
memos whole, also on undecided passages. Read back with openpyxl."""

from __future__ import annotations

from datetime import datetime

import openpyxl
import pytest
from click.testing import CliRunner

from beicoder.cli import main
from beicoder.core.export import export_study
from beicoder.core.store import Store
from beicoder.core.workbook import COLUMN_DOCS, sheet_names

SLASHED = "王老师/李老师"
LONG_A = "Evaluator of the western region group A " + "x"  # 41 characters
LONG_B = "Evaluator of the western region group A " + "y"
MEMO = "first line\nsecond line: 核实了流水\n= not a formula"


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def test_sheet_names_are_legal_and_unique():
    names = sheet_names(["scores 王老师/李老师", "a\\b?c*d[e]f:g", "'quoted'", "", "History", "x" * 40,
                         "x" * 40, "Scores li", "scores LI", "scores " + "😀" * 20])
    assert names[0] == "scores 王老师_李老师"
    assert names[1] == "a_b_c_d_e_f_g"
    assert names[2] == "quoted" and names[3] == "sheet" and names[4] == "History_"
    assert names[5] == "x" * 31 and names[6] == "x" * 27 + " (2)"
    assert names[7] == "Scores li" and names[8] == "scores LI (2)"  # Excel ignores case
    assert all(len(n.encode("utf-16-le")) // 2 <= 31 for n in names)
    assert not any(set(n) & set("/\\?*[]:") for n in names)
    assert len({n.casefold() for n in names}) == len(names)


@pytest.fixture
def coded_study(tiny_study):
    with Store(tiny_study) as store:
        ps = store.passages()
        for coder in (SLASHED, LONG_A, LONG_B):
            store.toggle_code(ps[0].id, coder, "INFO")
            store.set_level(ps[0].id, coder, "INFO", 3)
            store.mark_no_code(ps[1].id, coder)
        store.set_memo(ps[0].id, SLASHED, MEMO)
        store.set_memo(ps[2].id, SLASHED, "undecided yet\nask the supervisor")  # no decision on ps[2]
    return tiny_study


def test_xlsx_export_keeps_every_coder_and_explains_itself(coded_study, tmp_path):
    out = tmp_path / "study.xlsx"
    result = run("export", "--format", "xlsx", "--out", out, "--db", coded_study)
    assert result.exit_code == 0, result.output
    assert "the scores of 3 coder(s)" in result.stdout and "2 memos" in result.stdout
    wb = openpyxl.load_workbook(out)
    long_prefix = f"scores {LONG_A}"[:31]
    assert wb.sheetnames == ["codings", long_prefix, long_prefix[:27] + " (2)", "scores 王老师_李老师", "sheets",
                             "columns"]
    index = {r[0]: r for r in wb["sheets"].iter_rows(min_row=2, values_only=True)}
    assert index["scores 王老师_李老师"][2] == f"scores {SLASHED}"
    assert (index[long_prefix][2], index[long_prefix[:27] + " (2)"][2]) == (f"scores {LONG_A}", f"scores {LONG_B}")
    assert SLASHED in index["scores 王老师_李老师"][1]
    # every header of every sheet explained, with a unit
    documented = {(r[0], r[1]): (r[2], r[3]) for r in wb["columns"].iter_rows(min_row=2, values_only=True)}
    for ws in wb.worksheets:
        for cell in ws[1]:
            meaning, unit = documented[(ws.title, cell.value)]
            assert meaning and unit, (ws.title, cell.value)
    assert documented[("codings", "time")][1] == "date and time, UTC"
    assert "1,000" in documented[(long_prefix, "rate")][1]


def test_xlsx_cells_are_typed_and_columns_fitted(coded_study, tmp_path):
    out = tmp_path / "study.xlsx"
    with Store(coded_study) as store:
        export_study(store, "xlsx", out)
        passages = store.passages()
    wb = openpyxl.load_workbook(out)
    ws = wb["codings"]
    header = [c.value for c in ws[1]]
    rows = [dict(zip(header, r)) for r in ws.iter_rows(min_row=2, values_only=True)]
    first = next(r for r in rows if r["coder"] == SLASHED and r["decision"] == "code")
    assert isinstance(first["passage"], int) and isinstance(first["start"], int) and first["level"] == 3
    assert isinstance(first["time"], datetime)
    assert ws.cell(row=2, column=header.index("time") + 1).number_format == "yyyy-mm-dd hh:mm:ss"
    assert first["passage_text"] == passages[0].text
    assert first["memo"] == "first line\nsecond line: 核实了流水\n= not a formula"  # whole, every line
    undecided = [r for r in rows if r["decision"] == "undecided"]
    assert [(r["coder"], r["passage"], r["memo"], r["code"]) for r in undecided] == [
        (SLASHED, passages[2].ordinal, "undecided yet\nask the supervisor", None)]
    assert sum(r["decision"] == "no code" for r in rows) == 3
    letter = {h: openpyxl.utils.get_column_letter(i + 1) for i, h in enumerate(header)}
    widths = {h: ws.column_dimensions[letter[h]].width for h in header}
    assert widths["passage_text"] == 62 and ws[f"{letter['passage_text']}2"].alignment.wrap_text
    assert 8 <= widths["interviewee"] <= 14 and widths["passage"] < 12
    scores = wb["scores 王老师_李老师"]
    head = [c.value for c in scores[1]]
    values = [dict(zip(head, r)) for r in scores.iter_rows(min_row=2, values_only=True)]
    assert all(isinstance(v["frequency"], int) and isinstance(v["speech_length"], int) for v in values)
    assert all(isinstance(v["rate"], (int, float)) for v in values) and any(v["rate"] > 0 for v in values)


def test_a_formula_like_memo_is_text_and_a_too_long_cell_is_refused(tiny_study, tmp_path):
    from beicoder.core.export import OutputError

    with Store(tiny_study) as store:
        p = store.passages()[0].id
        store.set_memo(p, "amy", "=HYPERLINK(\"x\")")
        export_study(store, "xlsx", tmp_path / "a.xlsx")
        ws = openpyxl.load_workbook(tmp_path / "a.xlsx")["codings"]
        assert ws["L2"].value == "'=HYPERLINK(\"x\")" and ws["L2"].data_type == "s"
        store.set_memo(p, "amy", "长" * 40000)
        too_long = r"b\.xlsx: sheet codings row 2, column memo: 40,000 characters, more than"
        with pytest.raises(OutputError, match=too_long):
            export_study(store, "xlsx", tmp_path / "b.xlsx")
        assert not (tmp_path / "b.xlsx").exists()


def test_report_workbook_explains_every_column(demo_db, tmp_path):
    out = tmp_path / "rep"
    assert run("report", "--db", demo_db, "--coder", "reference", "--out", out).exit_code == 0
    wb = openpyxl.load_workbook(out / "report.xlsx")
    documented = {(r[0], r[1]): r[2] for r in wb["columns"].iter_rows(min_row=2, values_only=True)}
    missing = [(ws.title, c.value) for ws in wb.worksheets for c in ws[1] if not documented.get((ws.title, c.value))]
    assert missing == []
    assert "Benjamini-Hochberg" in documented[("comparison", "q_bh")]
    assert "rank-biserial" in documented[("comparison", "rank_biserial")]
    assert "Mann-Whitney U" in documented[("comparison", "mw_u")]
    assert all(isinstance(k, str) or len(k) == 2 for k in COLUMN_DOCS)
