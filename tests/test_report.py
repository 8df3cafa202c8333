import zipfile

import pandas as pd
from click.testing import CliRunner

from beicoder.cli import main


def run_report(db, out, *extra):
    return CliRunner().invoke(main, ["report", "--db", str(db), "--coder", "reference", "--out", str(out), *extra])


def test_report_writes_every_file_and_reruns_identically(demo_db, tmp_path, monkeypatch):
    from datetime import datetime

    from beicoder.core import report

    class Clock(datetime):
        """The provenance's date line (to the minute) is in report.xlsx too: both runs in one
        minute, or the byte comparison below fails whenever they straddle a minute's end."""

        @classmethod
        def now(cls, tz=None):
            return datetime(2026, 11, 30, 12, 0, tzinfo=tz)

    monkeypatch.setattr(report, "datetime", Clock)
    first, second = tmp_path / "a", tmp_path / "b"
    assert run_report(demo_db, first).exit_code == 0
    result = run_report(demo_db, second)
    assert result.exit_code == 0, result.output
    for name in ("report.md", "report.xlsx", "comparison.png", "comparison.svg"):
        assert (second / name).exists(), name
    md = (first / "report.md").read_text(encoding="utf-8")
    for heading in ("## Provenance", "## Method", "## Outstanding vs average (frequency, primary)", "## Power",
                    "## Length control", "## Does the model classify?", "## Appendix: every statistic",
                    "![Outstanding vs average](comparison.png)"):
        assert heading in md
    assert "Verdict rule: verdicts come from the primary score frequency and the two-sided Mann-Whitney U" in md
    assert "The Benjamini-Hochberg correction runs over the 8 competencies with a p value on the primary score" in md
    assert "The group comparisons' p values are two-sided" in md and "exact p values from all splits" in md
    assert "Differentiating competencies: ACH 成就导向" in md
    assert "5 outstanding and 5 average interviewees" in md
    assert "only for a difference of at least d = 2.02 (two-sided" in md
    assert "speech length (Han characters + words of other scripts)" in md and "Han characters:" not in md
    assert "- date: 2026-11-30 12:00 UTC" in md  # the pinned clock
    assert "- tool: beicoder 0.1.0" in md and "coders compared for reliability:" in md and "- coding:" in md
    # APA style, and no p below what an exact test of 5 vs 5 can give (2/252 = .00794)
    import re

    main_table = md.split("## Outstanding vs average")[1].split("Table 1.")[0]
    ps = [float(v) for v in re.findall(r"\| (\.\d{3}) \(\.\d{3}\*{0,3}\) \|", main_table)]
    assert len(ps) >= 8 and min(ps) >= 0.0079
    strip = lambda text: [line for line in text.splitlines() if not line.startswith("- date:")]  # noqa: E731
    assert strip(md) == strip((second / "report.md").read_text(encoding="utf-8"))
    for name in ("comparison.png", "comparison.svg"):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    # the workbook too, apart from the provenance's date (to the minute: two runs may straddle one)
    import openpyxl

    def cells(path):
        wb = openpyxl.load_workbook(path)
        return {ws.title: [r for r in ws.iter_rows(values_only=True)
                           if not (ws.title == "provenance" and r[0] == "date")] for ws in wb.worksheets}

    assert cells(first / "report.xlsx") == cells(second / "report.xlsx")
    if md == (second / "report.md").read_text(encoding="utf-8"):  # the same date: byte for byte
        assert (first / "report.xlsx").read_bytes() == (second / "report.xlsx").read_bytes()
    assert (first / "comparison.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    sheets = pd.read_excel(first / "report.xlsx", sheet_name=None)
    assert {"provenance", "scores", "comparison", "length", "length_correlations", "count_models", "power",
            "classification"} <= set(sheets)
    assert len(sheets["comparison"]) == 8 * 7
    assert sheets["comparison"]["mw_p"].min() == 2 / 252  # full double precision, read back exactly
    assert sheets["classification"].iloc[0]["p_method"] == "exact: all 252 labellings"
    assert zipfile.ZipFile(first / "report.xlsx").infolist()[0].date_time == (2000, 1, 1, 0, 0, 0)


def test_report_with_normalize_uses_rates_and_reports_reliability(demo_db, tmp_path):
    from pathlib import Path

    db = tmp_path / "s.db"
    db.write_bytes(demo_db.read_bytes())
    data = Path(__file__).parent / "data"
    runner = CliRunner()
    for csv, coder in (("coder_li.csv", "li"), ("coder_wang.csv", "wang")):
        result = runner.invoke(main, ["codings", "import", str(data / csv), "--coder", coder, "--db", str(db)])
        assert result.exit_code == 0
    out = tmp_path / "r"
    assert run_report(db, out, "--normalize").exit_code == 0
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "## Reliability" in md and "category agreement" in md
    comp = pd.read_excel(out / "report.xlsx", sheet_name="comparison")
    assert list(dict.fromkeys(comp["score"]))[0] == "rate"
    assert set(comp.loc[comp.role == "primary", "score"]) == {"rate"}
    assert "coders compared for reliability: li, wang" in md
    assert "Krippendorff's alpha, interval, levels with absent = 0 (presence and intensity)" in md


def test_report_refuses_a_file_as_folder(demo_db, tmp_path):
    f = tmp_path / "x"
    f.write_text("")
    result = run_report(demo_db, f)
    assert result.exit_code == 2 and "is a file; --out takes a folder" in result.stderr
