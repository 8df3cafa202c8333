"""Excel workbooks (``.xlsx``) that open readably: legal and unique sheet names for any title,
column widths fitted to their content (long text wrapped), times as dates, numbers as
numbers, and two sheets that explain the others.

:func:`workbook_bytes` takes a list of :class:`Sheet` (a title, a DataFrame, what it holds and
the kind of table, which decides how its columns are explained) and returns the bytes of a
workbook with one sheet per table, followed by

* ``sheets``: every sheet's name in the workbook, what it holds, and the full title it was
  given (a coder named ``王老师/李老师`` gets a sheet ``scores 王老师_李老师``: Excel forbids
  ``/ \\ ? * [ ] :`` and allows 31 characters, so two long names sharing their first 31
  characters get ``… (2)``);
* ``columns``: every column of every sheet with its meaning and its unit (:data:`COLUMN_DOCS`).

Text that Excel would read as a formula (``= + - @``) gets a leading apostrophe, control
characters that XML cannot hold are dropped, and a cell longer than Excel's 32,767 characters
is refused (:class:`~beicoder.core.export.OutputError`) rather than cut.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime

SHEET_NAME_MAX = 31
CELL_MAX = 32767
_FORBIDDEN_IN_SHEET_NAMES = re.compile(r"[\\/?*\[\]:]")
_TIME_COLUMNS = {"time", "created_at", "updated_at", "at", "decided_at", "imported_at"}
_WRAP_WIDTH = 60
_MAX_WIDTH = 50
_NUMBER_WIDTH = 14
_LINE_POINTS = 15
_ROW_MAX_POINTS = 409  # Excel's highest row

SPEECH_UNIT = "units of speech (Han characters + words of other scripts)"

#: Meaning and unit of every column beicoder writes, by ``(kind of sheet, column)`` or by
#: column alone; ``columns`` sheets are built from it.
COLUMN_DOCS: dict[tuple[str, str] | str, tuple[str, str]] = {
    # decisions (export --format xlsx, codings sheet)
    "interviewee": ("the interviewee (transcript file name without extension, or REFI-QDA case)", "text"),
    "group": ("the interviewee's group: outstanding or average (as in the metadata)", "text"),
    "transcript": ("title of the transcript", "text"),
    "passage": ("passage number within the transcript (1 = first)", "ordinal"),
    "start": ("offset of the passage's first character in the stored transcript text", "characters from 0"),
    "end": ("offset just after the passage's last character (text[start:end] is the passage)", "characters from 0"),
    "passage_text": ("the passage as stored", "text"),
    "decision": ("code (a coding), no code (decided: no competency shown) or undecided (a memo only)", "text"),
    ("codings", "code"): ("competency code of the dictionary; empty for no code and undecided", "code"),
    ("codings", "level"): ("level given to the code, on its scale in the dictionary; empty when none", "level"),
    "coder": ("the coder, as the name was first typed in this study", "text"),
    "memo": ("the coder's memo on the passage, every line of it", "text"),
    "time": ("when the decision or memo was last changed", "date and time, UTC"),
    # scores
    "code": ("competency code of the dictionary", "code"),
    "frequency": ("passages coded with the code", "passages"),
    "mean_level": ("mean level of the code's codings (0 when the code is never shown)", "level"),
    "max_level": ("highest level given to the code", "level"),
    "rate": ("frequency per 1,000 units of the interviewee's own speech", f"per 1,000 {SPEECH_UNIT}"),
    ("scores", "presence"): ("1 when the interviewee shows the code at least once, else 0", "0 or 1"),
    "speech_length": ("length of the interviewee's own speech", SPEECH_UNIT),
    "level_score": ("sum of the levels of the code's codings (Spencer & Spencer)", "level points"),
    "mean_level_shown": ("mean level among the passages carrying the code; empty when never shown", "level"),
    # comparison
    "score": ("the score compared (frequency, rate, level_score, mean_level, ...)", "name"),
    "role": ("primary (decides the verdict) or secondary (exploratory)", "text"),
    "n_outstanding": ("interviewees in the outstanding group", "interviewees"),
    "n_average": ("interviewees in the average group", "interviewees"),
    "mean_outstanding": ("mean of the score in the outstanding group", "unit of the score"),
    "sd_outstanding": ("standard deviation of the score in the outstanding group", "unit of the score"),
    "mean_average": ("mean of the score in the average group", "unit of the score"),
    "sd_average": ("standard deviation of the score in the average group", "unit of the score"),
    "presence_outstanding": ("share of the outstanding group showing the code", "share 0-1"),
    "presence_average": ("share of the average group showing the code", "share 0-1"),
    "welch_t": ("Welch's t statistic (outstanding minus average)", "t"),
    "welch_df": ("Welch-Satterthwaite degrees of freedom", "degrees of freedom"),
    "welch_p": ("p of Welch's t-test, on the rule's side", "probability 0-1"),
    "student_t": ("Student's t statistic (pooled variance)", "t"),
    "student_df": ("Student's degrees of freedom (n1 + n2 - 2)", "degrees of freedom"),
    "student_p": ("p of Student's t-test, on the rule's side", "probability 0-1"),
    "mw_u": ("Mann-Whitney U of the outstanding group (ties count one half)", "U (pairs)"),
    "mw_p": ("p of the Mann-Whitney test (exact over every split, or Monte-Carlo), on the rule's side",
             "probability 0-1"),
    "mw_method": ("how mw_p was computed", "text"),
    "perm_diff": ("difference in means, outstanding minus average", "unit of the score"),
    "perm_p": ("p of the permutation test of the difference in means, on the rule's side", "probability 0-1"),
    "perm_method": ("how perm_p was computed (exact or Monte-Carlo, with its seed)", "text"),
    "cohens_d": ("Cohen's d (pooled SD)", "standard deviations"),
    "cohens_d_low": ("lower bound of the 95% CI of Cohen's d (noncentral t)", "standard deviations"),
    "cohens_d_high": ("upper bound of the 95% CI of Cohen's d (noncentral t)", "standard deviations"),
    "hedges_g": ("Hedges' g (Cohen's d with the exact small-sample correction J)", "standard deviations"),
    "hedges_g_low": ("lower bound of the 95% CI of Hedges' g", "standard deviations"),
    "hedges_g_high": ("upper bound of the 95% CI of Hedges' g", "standard deviations"),
    "rank_biserial": ("rank-biserial correlation r_rb from U (positive: outstanding higher)", "correlation -1 to 1"),
    "rank_biserial_low": ("lower bound of the 95% CI of r_rb (Fisher z)", "correlation -1 to 1"),
    "rank_biserial_high": ("upper bound of the 95% CI of r_rb (Fisher z)", "correlation -1 to 1"),
    "p": ("p of the rule's test, on the rule's side", "probability 0-1"),
    "q": ("Benjamini-Hochberg q over the row's family", "probability 0-1"),
    "q_bh": ("the same as q (Benjamini-Hochberg)", "probability 0-1"),
    "family": ("the tests the Benjamini-Hochberg correction runs over", "text"),
    "verdict": ("differentiating, reversed, marginal, threshold or none (see the README)", "text"),
    "warning": ("why the figures of the row mean little, when they do", "text"),
    # length
    "n": ("interviewees", "interviewees"),
    ("length", "mean"): ("mean speech length of the group", SPEECH_UNIT),
    ("length", "sd"): ("standard deviation of the speech length of the group", SPEECH_UNIT),
    ("length", "t"): ("Welch's t (row welch) or the difference in means (row permutation)",
                      f"t, or {SPEECH_UNIT}"),
    ("length", "df"): ("Welch-Satterthwaite degrees of freedom", "degrees of freedom"),
    ("length", "p"): ("two-sided p of the test of the row", "probability 0-1"),
    "method": ("how the row's figure was computed", "text"),
    # length correlations
    "pearson_r": ("Pearson r of the score with speech length, both groups pooled", "correlation -1 to 1"),
    "pearson_p": ("p of pearson_r", "probability 0-1"),
    "spearman_rho": ("Spearman rho of the score with speech length, pooled", "correlation -1 to 1"),
    "spearman_p": ("p of spearman_rho", "probability 0-1"),
    "partial_r": ("Pearson partial r with speech length, controlling for group (within groups)",
                  "correlation -1 to 1"),
    "partial_p": ("p of partial_r", "probability 0-1"),
    "partial_rho": ("Spearman partial rho with speech length, controlling for group", "correlation -1 to 1"),
    "partial_rho_p": ("p of partial_rho", "probability 0-1"),
    "length_driven": ("TRUE when a within-group correlation has p < .05", "TRUE/FALSE"),
    "advice": ("what to look at when the score follows length", "text"),
    # count models
    "model": ("poisson or negative binomial (NB2), log speech length as offset", "text"),
    "rate_ratio": ("rate of the outstanding group / rate of the average group, per unit of speech", "ratio"),
    "ci_low": ("lower bound of the 95% Wald CI of the rate ratio", "ratio"),
    "ci_high": ("upper bound of the 95% Wald CI of the rate ratio", "ratio"),
    ("count_models", "p"): ("Wald p of the group term, on the rule's side", "probability 0-1"),
    ("count_models", "q"): ("Benjamini-Hochberg q over the codes of the model", "probability 0-1"),
    "dispersion": ("Pearson chi-square / residual df (Poisson; above 1: overdispersion) or the NB2 alpha",
                   "ratio (Poisson) or alpha (NB2)"),
    "note": ("why a model could not be fitted or did not converge", "text"),
    # power
    "alpha": ("significance level of the rule", "probability 0-1"),
    "d_two_sided": ("smallest Cohen's d a two-sided t-test detects with 80% power", "standard deviations"),
    "d_one_sided": ("smallest Cohen's d a one-sided t-test detects with 80% power", "standard deviations"),
    "d_bonferroni": ("smallest d detected with 80% power at alpha / number of codes", "standard deviations"),
    "sentence": ("the power statement of the report", "text"),
    # classification
    ("classification", "score"): ("the score the classifier uses for every code", "name"),
    "accuracy": ("leave-one-out accuracy of outstanding vs average", "share 0-1"),
    "chance": ("accuracy of always guessing the larger group", "share 0-1"),
    ("classification", "p"): ("permutation p of the accuracy", "probability 0-1"),
    "p_method": ("how the permutation p was computed", "text"),
    # reliability
    "measure": ("the reliability figure", "text"),
    "value": ("its value", "as the measure"),
    ("reliability", "units"): ("passages the figure is computed on", "passages"),
    "bar": ("the value under which the figure is flagged", "as the measure"),
    "flag": ("which figures are under their bar", "text"),
    ("reliability_per_code", "units"): ("passages decided by every coder", "passages"),
    "coded_by": ("codings of the code by all coders together", "codings"),
    "ca": ("Winter's category agreement 2S/(T1+T2), mean over coder pairs", "share 0-1"),
    "r": ("Spearman-Brown reliability n·CA/(1+(n-1)·CA)", "share 0-1"),
    "kappa": ("Cohen's (two coders) or Fleiss' kappa on the code's presence", "kappa -1 to 1"),
    "kappa_kind": ("Cohen or Fleiss", "text"),
    "alpha_presence": ("Krippendorff's alpha (nominal) on the code's presence", "alpha -1 to 1"),
    "alpha_units": ("passages alpha is computed on (decided by two coders or more)", "passages"),
    "percent_agreement": ("share of passages where every coder agrees on the code", "share 0-1"),
    # provenance
    "item": ("what the row records", "text"),
    ("provenance", "value"): ("the record", "text"),
    # the two explaining sheets
    "sheet": ("name of a sheet of this workbook", "text"),
    "holds": ("what the sheet holds", "text"),
    "title": ("the full title the sheet was given (a coder's name as typed, for example)", "text"),
    "column": ("a column header of the sheet", "text"),
    "meaning": ("what the column holds", "text"),
    "unit": ("the unit of its values", "text"),
}


@dataclass
class Sheet:
    """One table of a workbook: its ``title`` (any text; the sheet name is made legal from
    it), the ``frame`` (a pandas DataFrame), what it ``holds`` (one line for the ``sheets``
    sheet) and its ``kind`` (``codings``, ``scores``, ``comparison``, ...: which entries of
    :data:`COLUMN_DOCS` explain its columns; default: the title)."""

    title: str
    frame: object
    holds: str = ""
    kind: str = ""


def column_doc(kind: str, column: str) -> tuple[str, str]:
    """``(meaning, unit)`` of ``column`` in a sheet of ``kind``; ``("", "")`` when undocumented."""
    return COLUMN_DOCS.get((kind, column)) or COLUMN_DOCS.get(column) or ("", "")


def _units16(text: str) -> int:
    """Length as Excel counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


def _cut16(text: str, limit: int) -> str:
    while _units16(text) > limit:
        text = text[:-1]
    return text


def sheet_names(titles) -> list[str]:
    """Legal, unique Excel sheet names for ``titles``, in order: ``/ \\ ? * [ ] :`` become
    ``_``, leading and trailing apostrophes go, an empty title becomes ``sheet``, the reserved
    ``History`` gets a ``_``, at most 31 characters are kept, and a name equal to an earlier
    one (Excel ignores case) gets `` (2)``, `` (3)``, ... within the 31 characters."""
    out: list[str] = []
    taken: set[str] = set()
    for title in titles:
        base = _FORBIDDEN_IN_SHEET_NAMES.sub("_", unicodedata.normalize("NFC", str(title)))
        base = " ".join(base.split()).strip("'") or "sheet"
        if base.casefold() == "history":
            base += "_"
        name = _cut16(base, SHEET_NAME_MAX).rstrip("'") or "sheet"
        k = 1
        while name.casefold() in taken:
            k += 1
            suffix = f" ({k})"
            name = _cut16(base, SHEET_NAME_MAX - len(suffix)).rstrip("'") + suffix
        taken.add(name.casefold())
        out.append(name)
    return out


def _display_width(text: str) -> int:
    """Columns the longest line of ``text`` takes in a spreadsheet (CJK and full-width count 2)."""
    best = 0
    for line in text.split("\n"):
        best = max(best, sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line))
    return best


def _wrapped_lines(text: str, width: int) -> int:
    """Lines ``text`` takes wrapped in a column ``width`` characters wide (CJK counts 2)."""
    return sum(max(1, math.ceil(_display_width(line) / max(1, width - 1))) for line in text.split("\n"))


def _as_time(value):
    """An ISO 8601 text as a naive datetime in UTC (Excel has no time zones), else ``value``."""
    if not isinstance(value, str) or not value:
        return value
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        return value
    if dt.tzinfo is not None:
        dt = dt.astimezone(UTC).replace(tzinfo=None)
    return dt


def _cell_value(value, where: str):
    """``value`` as openpyxl should store it: numbers as numbers (NaN and NA empty), text
    neutralised and without XML-illegal control characters.

    Raises:
        OutputError: text longer than an Excel cell holds."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    from .export import OutputError, neutralize

    if value is None:
        return None
    try:
        import pandas as pd

        if value is pd.NA or value is pd.NaT:
            return None
    except ImportError:  # pragma: no cover - pandas is a dependency
        pass
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):  # numpy scalars
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, (bool, int, float, datetime)):
        return value
    if hasattr(value, "to_pydatetime"):
        return value.to_pydatetime()
    text = ILLEGAL_CHARACTERS_RE.sub("", str(value))
    if len(text) > CELL_MAX:
        raise OutputError(f"{where}: {len(text):,} characters, more than an Excel cell holds ({CELL_MAX:,}); "
                          "nothing written (export it as CSV instead)")
    return neutralize(text)


def workbook_bytes(sheets: list[Sheet], explain: bool = True) -> bytes:
    """The bytes of a workbook with one sheet per :class:`Sheet`, in order, and (with
    ``explain``) the ``sheets`` and ``columns`` sheets that say what each sheet and column
    holds. Headers are bold and frozen; numbers stay numbers at full double precision; the
    values of time columns (``time``, ``created_at``, ...) in ISO 8601 become dates
    (``yyyy-mm-dd hh:mm:ss``, UTC); columns are as wide as their content (CJK counts double),
    at most 50 characters, and a column with longer text is 60 wide and wrapped.

    Raises:
        OutputError: a cell longer than Excel allows (32,767 characters).
    """
    import io

    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    tables = list(sheets)
    if explain:
        import pandas as pd

        titles = [s.title for s in tables] + ["sheets", "columns"]
        names = sheet_names(titles)
        index = pd.DataFrame({"sheet": names[:-2], "holds": [s.holds for s in tables],
                              "title": [s.title for s in tables]})
        index_sheet = Sheet("sheets", index, "what each sheet holds, and the full title it was given", "sheets")
        index.loc[len(index)] = [names[-2], index_sheet.holds, "sheets"]
        cols_sheet = Sheet("columns", None, "every column of every sheet, with its meaning and unit", "columns")
        index.loc[len(index)] = [names[-1], cols_sheet.holds, "columns"]
        headers = ["sheet", "column", "meaning", "unit"]
        explained = [(s, name, [str(c) for c in s.frame.columns]) for s, name in zip(tables, names)]
        explained += [(index_sheet, names[-2], list(index.columns)), (cols_sheet, names[-1], headers)]
        cols = [{"sheet": name, "column": col, "meaning": column_doc(s.kind or s.title, col)[0],
                 "unit": column_doc(s.kind or s.title, col)[1]} for s, name, columns in explained for col in columns]
        cols_sheet.frame = pd.DataFrame(cols, columns=headers)
        tables += [index_sheet, cols_sheet]
    else:
        names = sheet_names([s.title for s in tables])
    wb = Workbook()
    wb.remove(wb.active)
    bold = Font(bold=True)
    wrap = Alignment(wrap_text=True, vertical="top")
    top = Alignment(vertical="top")
    for sheet, name in zip(tables, names):
        ws = wb.create_sheet(name)
        frame = sheet.frame
        headers = [str(c) for c in frame.columns]
        ws.append(headers)
        for cell in ws[1]:
            cell.font = bold
        widths = [_display_width(h) for h in headers]
        number_widths = [0] * len(headers)
        numeric = [True] * len(headers)
        times = [h in _TIME_COLUMNS for h in headers]
        lines: dict[int, int] = {}  # row -> lines its wrapped cells need
        for r, row in enumerate(frame.itertuples(index=False, name=None), start=2):
            values = []
            for c, value in enumerate(row):
                if times[c]:
                    value = _as_time(value)
                value = _cell_value(value, f"sheet {name} row {r}, column {headers[c]}")
                values.append(value)
                if isinstance(value, str):
                    numeric[c] = False
                    widths[c] = max(widths[c], _display_width(value))
                elif isinstance(value, (int, float)):
                    number_widths[c] = max(number_widths[c], min(_NUMBER_WIDTH, len(repr(value))))
            ws.append(values)
        for c, header in enumerate(headers, start=1):
            letter = get_column_letter(c)
            if times[c - 1]:
                width = 20
                for cell in ws[letter][1:]:
                    if isinstance(cell.value, datetime):
                        cell.number_format = "yyyy-mm-dd hh:mm:ss"
            elif numeric[c - 1]:
                width = max(_display_width(header), number_widths[c - 1])
            elif widths[c - 1] > _MAX_WIDTH:
                width = _WRAP_WIDTH
                for cell in ws[letter][1:]:
                    cell.alignment = wrap
                    if isinstance(cell.value, str):
                        lines[cell.row] = max(lines.get(cell.row, 1), _wrapped_lines(cell.value, width))
            else:
                width = widths[c - 1]
                for cell in ws[letter][1:]:
                    if isinstance(cell.value, str) and "\n" in cell.value:  # a memo of several lines
                        cell.alignment = wrap
                        lines[cell.row] = max(lines.get(cell.row, 1), _wrapped_lines(cell.value, width + 1))
            ws.column_dimensions[letter].width = max(6, width) + 2
        for row, n in lines.items():
            if n > 1:  # spreadsheet programs do not all grow a row for wrapped text by themselves
                ws.row_dimensions[row].height = min(_ROW_MAX_POINTS, n * _LINE_POINTS)
                for c in range(1, len(headers) + 1):  # ws[row] would rescan the sheet per row
                    cell = ws.cell(row=row, column=c)
                    if not cell.alignment.wrap_text:
                        cell.alignment = top
        ws.freeze_panes = "A2"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
