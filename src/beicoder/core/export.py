"""Files in and out: CSV exports for papers and spreadsheets, and codings read from CSV.

CSV files are written as UTF-8 with a BOM (``utf-8-sig``) so that Excel opens Chinese text
correctly, and every text cell that Excel would read as a formula (starting with ``=``, ``+``,
``-``, ``@``, tab or carriage return) gets a leading apostrophe.
"""

from __future__ import annotations

import csv
import io
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from . import BeicoderError
from .textutil import read_text_input

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

CODING_COLUMNS = ["interviewee", "group", "transcript", "passage", "start", "end", "passage_text", "decision",
                  "code", "level", "coder", "memo", "time"]
#: The ``decision`` column: a coding, a "no code" decision, or a memo on a passage not decided.
DECISIONS = ("code", "no code", "undecided")


class CodingsFileError(BeicoderError):
    """A codings CSV that cannot be loaded. ``problems`` lists one line per bad row."""

    def __init__(self, message: str, problems: list[str] | None = None):
        super().__init__(message)
        self.problems = problems or []


def neutralize(value):
    """Return ``value`` with a leading apostrophe when it is text Excel would take as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


class OutputError(BeicoderError):
    """An output file that cannot or must not be written; one line naming it."""


def check_output(path: str | Path) -> Path:
    """Check that ``path`` may be written as an export: not a folder, not a SQLite database
    (so an export can never overwrite a study), in an existing folder.

    Raises:
        OutputError: when it may not.
    """
    path = Path(path)
    if path.is_dir():
        raise OutputError(f"{path}: is a folder; give a file name")
    if path.name.endswith(("-wal", "-shm", "-journal")):
        raise OutputError(f"{path}: is the name of a study's journal file; choose another name")
    if path.exists():
        try:
            with open(path, "rb") as fh:
                head = fh.read(16)
        except OSError as exc:
            raise OutputError(f"{path}: cannot read ({exc.strerror})") from None
        if head == b"SQLite format 3\x00":
            raise OutputError(f"{path}: is a SQLite database (a study?); refusing to overwrite it")
    if not path.parent.is_dir():
        raise OutputError(f"{path}: folder {path.parent} does not exist")
    return path


def write_csv(frame, path: str | Path) -> Path:
    """Write a DataFrame to ``path`` as UTF-8 CSV with BOM, formula-like text neutralised.

    The file is written to a temporary name and renamed, so a failure leaves no half file;
    it gets the usual permissions (0666 less the umask). Floats keep full double precision
    (the shortest text that reads back to the same number, at most 17 significant digits);
    NaN is an empty cell.

    Raises:
        OutputError: see :func:`check_output`, or the file system refuses the write.
    """
    path = check_output(path)
    safe = frame.copy()
    for col in safe.columns:
        if safe[col].dtype == object or str(safe[col].dtype).startswith(("string", "str")):
            safe[col] = safe[col].map(neutralize)
    buf = io.StringIO()
    safe.to_csv(buf, index=False)
    return write_atomically(path, buf.getvalue().encode("utf-8-sig"))


def write_atomically(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename, so
    a failure leaves no half file; the file gets the usual permissions (0666 less the umask).

    Raises:
        OutputError: the file system refuses the write.
    """
    path = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=".beicoder-", suffix=path.suffix, dir=str(path.parent))
    except OSError as exc:
        raise OutputError(f"{path}: cannot write ({exc.strerror})") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write ({exc.strerror})") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def codings_frame(store, coder: str | None = None):
    """Every decision and memo (of ``coder``, or of all coders) as a DataFrame with columns
    :data:`CODING_COLUMNS`: interviewee, group, transcript (title), passage (ordinal), start,
    end (character offsets into the stored transcript text), passage_text, decision (one of
    :data:`DECISIONS`), code, level, coder, memo (whole, every line), time (UTC, ISO 8601,
    when the decision or memo was last changed).

    One row per coding (decision ``code``); a "no code" decision is a row with decision
    ``no code`` and an empty code and level; a memo on a passage the coder has not decided is
    a row with decision ``undecided``. The memo of a passage is repeated on each of the
    coder's rows for it. Rows are in reading order.
    """
    import pandas as pd

    marks = {(r["passage_id"], r["coder"]): r for r in store.marks(coder)}
    rows = []
    coded = set()
    for r in store.coding_rows(coder):
        mark = marks.get((r["passage_id"], r["coder"]), {})
        coded.add((r["passage_id"], r["coder"]))
        rows.append({"interviewee": r["interviewee"], "group": r["grp"], "transcript": r["transcript"],
                     "passage": r["passage_ordinal"], "start": r["start"], "end": r["end"],
                     "passage_text": r["passage_text"], "decision": "code", "code": r["code"], "level": r["level"],
                     "coder": r["coder"], "memo": mark.get("memo") or "", "time": r["updated_at"]})
    other = [m for key, m in marks.items() if m["no_code"] or (m["memo"] and key not in coded)]
    if other:
        info = store.passage_info()
        for m in other:
            p = info[m["passage_id"]]
            rows.append({"interviewee": p["interviewee"], "group": p["grp"], "transcript": p["title"],
                         "passage": p["ordinal"], "start": p["start"], "end": p["end"], "passage_text": p["text"],
                         "decision": "no code" if m["no_code"] else "undecided", "code": "", "level": None,
                         "coder": m["coder"], "memo": m["memo"] or "", "time": m["updated_at"]})
    frame = pd.DataFrame(rows, columns=CODING_COLUMNS)
    frame = frame.sort_values(["interviewee", "transcript", "passage", "coder"], kind="stable",
                              ignore_index=True)
    frame["level"] = frame["level"].astype("Int64")
    return frame


def _unneutralize(value: str) -> str:
    """``value`` without the apostrophe :func:`neutralize` put before a formula-like start."""
    if value.startswith("'") and value[1:].startswith(FORMULA_START):
        return value[1:]
    return value


@dataclass
class CodingsImport:
    """What :func:`import_codings` loaded: ``codings`` and ``no_code`` decisions (rows),
    ``coders`` (as the study names them), ``passages`` decided, the file's ``encoding`` and
    ``memos`` set or changed."""

    codings: int
    no_code: int
    coders: list[str]
    passages: int
    encoding: str = "utf-8"
    memos: int = 0


def _read_rows(path: Path) -> tuple[list[dict], str]:
    """(rows as dicts of lower-cased column -> trimmed cell, with ``_line``, encoding found)."""
    text, encoding = read_text_input(path, CodingsFileError, "the CSV")
    if not text.strip():
        raise CodingsFileError(f"{path}: file is empty")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    fields = [f.strip().lower() for f in (reader.fieldnames or [])]
    rows = []
    for row in reader:
        rows.append({fields[i]: (v if isinstance(v, str) else "").strip() for i, v in enumerate(row.values())
                     if i < len(fields)}
                    | {"_line": reader.line_num})
    return (rows if fields else []), encoding


def import_codings(store, path: str | Path, coder: str | None = None) -> CodingsImport:
    """Load codings from a CSV in the ``reference_codings.csv`` layout.

    Columns: ``interviewee``, ``passage`` (the passage ordinal within the interviewee's
    transcript, 1-based; ``passage_ordinal`` or ``ordinal`` also accepted), ``code`` (empty =
    a "no code" decision), ``level`` (integer in the code's scale, or empty), and optionally
    ``coder``, ``transcript`` (the transcript title, needed only when an interviewee has
    several), ``memo`` (the coder's memo on the passage, any number of lines; an empty cell
    leaves the memo as it is) and ``decision`` (as :func:`codings_frame` writes it: ``code``,
    ``no code``, or ``undecided`` for a row that only carries a memo). ``coder`` given here
    overrides the column. Coders are told apart by
    :func:`~beicoder.core.store.coder_identity`: ``Li`` and ``li `` are one coder.

    All rows are checked first; when any is bad nothing is loaded and
    :class:`CodingsFileError` lists every bad row (line number and problem). Otherwise all
    rows are written in one transaction, through the store's audited path: one action per
    coder (origin ``csv``), which ``beicoder undo --coder NAME`` takes back whole. A code row
    adds the code or sets its level; a "no code" row replaces the coder's codes on the
    passage; a memo replaces the coder's memo on the passage. Loading the same file again
    changes nothing. Out: a :class:`CodingsImport` (its coders as the study names them).
    """
    from .store import coder_identity, normalize_coder

    path = Path(path)
    rows, encoding = _read_rows(path)
    if not rows:
        raise CodingsFileError(f"{path}: no rows")
    cols = set(rows[0])
    ord_col = next((c for c in ("passage", "passage_ordinal", "ordinal") if c in cols), None)
    missing = [c for c, ok in (("interviewee", "interviewee" in cols), ("passage", ord_col), ("code", "code" in cols))
               if not ok]
    if missing:
        raise CodingsFileError(f"{path}: missing column(s) {', '.join(missing)}")
    if not coder and "coder" not in cols:
        raise CodingsFileError(f"{path}: no coder column; name the coder with --coder")
    codes = {c["code"]: c for c in store.codes()}
    transcripts: dict[str, list[dict]] = {}
    for t in sorted(store.transcripts(), key=lambda t: t["id"]):
        transcripts.setdefault(t["interviewee"], []).append(t)
    passages = store.passage_index()
    problems: list[str] = []
    resolved: list[tuple[int, str, str | None, int | None]] = []
    lines: list[int] = []
    memos: dict[tuple[int, str], tuple[str, str, int]] = {}  # (passage, identity) -> (coder, memo, line)
    first_line: dict[tuple, int] = {}
    for row in rows:
        line = row["_line"]
        where = f"{path.name} line {line}"
        iv = row.get("interviewee", "")
        ts = transcripts.get(iv)
        if not ts:
            problems.append(f"{where}: unknown interviewee {iv!r}")
            continue
        if len(ts) > 1:
            title = row.get("transcript", "")
            ts = [t for t in ts if t["title"] == title]
            if len(ts) != 1:
                problems.append(f"{where}: interviewee {iv!r} has several transcripts; give the transcript title")
                continue
        try:
            ordinal = int(row.get(ord_col, ""))
        except ValueError:
            problems.append(f"{where}: passage ordinal {row.get(ord_col, '')!r} is not a whole number")
            continue
        pid = passages.get((ts[0]["id"], ordinal))
        if pid is None:
            problems.append(f"{where}: interviewee {iv!r} has no passage {ordinal}")
            continue
        code = row.get("code", "")
        level_text = row.get("level", "")
        level = None
        decision = " ".join(row.get("decision", "").lower().replace("_", " ").split())
        if decision not in DECISIONS + ("",):
            problems.append(f"{where}: decision {row.get('decision')!r} is not one of {', '.join(DECISIONS)}")
            continue
        if code and decision not in ("", "code"):
            problems.append(f"{where}: decision {decision!r} with a code")
            continue
        if not code and decision == "code":
            problems.append(f"{where}: decision 'code' without a code")
            continue
        if code:
            if code not in codes:
                problems.append(f"{where}: unknown code {code!r}")
                continue
            if level_text:
                try:
                    level = int(level_text)
                except ValueError:
                    problems.append(f"{where}: level {level_text!r} is not an integer")
                    continue
                c = codes[code]
                if not c["min_level"] <= level <= c["max_level"]:
                    problems.append(f"{where}: level {level} outside {code}'s scale {c['min_level']}..{c['max_level']}")
                    continue
        elif level_text:
            problems.append(f"{where}: a level without a code")
            continue
        try:
            who = normalize_coder(coder or row.get("coder", ""))
            identity = coder_identity(who)
        except BeicoderError:
            problems.append(f"{where}: empty coder")
            continue
        memo = _unneutralize(row.get("memo", ""))
        if memo:
            earlier = memos.setdefault((pid, identity), (who, memo, line))
            if earlier[1] != memo:
                problems.append(f"{where}: another memo for this passage and coder than line {earlier[2]}")
                continue
        if decision == "undecided":
            continue  # a memo on a passage the coder has not decided
        key = (pid, identity, code or None)
        if key in first_line:
            problems.append(f"{where}: repeats line {first_line[key]} (same interviewee, passage, code and coder)")
            continue
        first_line[key] = line
        resolved.append((pid, who, code or None, level))
        lines.append(line)
    coded = {(pid, coder_identity(who)) for pid, who, code, _ in resolved if code}
    for (pid, who, code, _), line in zip(resolved, lines):
        if code is None and (pid, coder_identity(who)) in coded:
            problems.append(f"{path.name} line {line}: a no-code row for a passage that also has codes by {who}")
    if problems:
        raise CodingsFileError(f"{path}: {len(problems)} bad row(s); nothing loaded", problems)
    memo_rows = [(pid, who, memo) for (pid, _), (who, memo, _) in memos.items()]
    names = store.resolve_coders([r[1] for r in resolved] + [m[1] for m in memo_rows])
    counts = store.apply_decisions(resolved, origin="csv", description=f"codings import {path.name}", memos=memo_rows)
    return CodingsImport(codings=sum(1 for r in resolved if r[2]), no_code=sum(1 for r in resolved if not r[2]),
                         coders=sorted(set(names.values())),
                         passages=len({(r[0], names[r[1]]) for r in resolved}),
                         encoding=encoding, memos=sum(c["memos"] for c in counts.values()))


def xlsx_bytes(sheets) -> bytes:
    """The bytes of a workbook (see :func:`~beicoder.core.workbook.workbook_bytes`): one sheet
    per table, ``sheets`` being a list of :class:`~beicoder.core.workbook.Sheet` or a dict
    (title -> DataFrame; the title is also the kind of table), then the ``sheets`` and
    ``columns`` sheets. Formula-like text is neutralised, numbers stay numbers at full double
    precision, times are dates.

    Raises:
        OutputError: a cell longer than Excel allows."""
    from .workbook import Sheet, workbook_bytes

    if isinstance(sheets, dict):
        sheets = [Sheet(name, frame, kind=name) for name, frame in sheets.items()]
    sheets = list(sheets)
    return full_precision(workbook_bytes(sheets), [s.frame for s in sheets])


_NUMBER_CELL = re.compile(rb'<c r="([A-Z]+)(\d+)"((?:(?! t="(?:s|inlineStr|str|b|e)")[^>])*)><v>([^<]*)</v></c>')


def full_precision(data: bytes, frames: list) -> bytes:
    """The workbook ``data`` (written by openpyxl from ``frames``, one sheet each, header in row
    1, no index) with every float cell holding the shortest text that reads back to the same
    double: openpyxl writes 16 significant digits, which can change the last bit."""
    import zipfile

    import numpy as np

    def column_index(letters: bytes) -> int:
        n = 0
        for ch in letters:
            n = n * 26 + ch - 64
        return n - 1

    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            m = re.fullmatch(r"xl/worksheets/sheet(\d+)\.xml", info.filename)
            if m and int(m.group(1)) <= len(frames):
                values = frames[int(m.group(1)) - 1].to_numpy(dtype=object)

                def fix(cell, values=values):
                    row, col = int(cell.group(2)) - 2, column_index(cell.group(1))
                    if 0 <= row < len(values) and 0 <= col < values.shape[1]:
                        v = values[row, col]
                        if isinstance(v, (float, np.floating)) and np.isfinite(v):
                            return b'<c r="%s%s"%s><v>%s</v></c>' % (cell.group(1), cell.group(2), cell.group(3),
                                                                     repr(float(v)).encode())
                    return cell.group(0)

                body = _NUMBER_CELL.sub(fix, body)
            dst.writestr(info, body)
    return out.getvalue()


def write_xlsx(sheets, path: str | Path) -> Path:
    """Write tables as the sheets of one workbook (see :func:`xlsx_bytes`) through a
    temporary file.

    Raises:
        OutputError: see :func:`check_output`, or the file system refuses the write.
    """
    path = check_output(path)
    try:
        data = xlsx_bytes(sheets)
    except OutputError as exc:
        raise OutputError(f"{path}: {exc}") from None
    return write_atomically(path, data)


EXPORT_FORMATS = ("csv", "xlsx", "qdc", "qdpx")


@dataclass
class Exported:
    """What :func:`export_study` wrote: the ``format``, the ``path``, and what went in:
    ``codings`` and ``no_code`` decisions and ``memos`` (passage memos; csv, xlsx, qdpx),
    ``codes`` (qdc), ``sources`` (qdpx), ``coders_scored`` (xlsx: coders with a sheet of
    scores)."""

    format: str
    path: Path
    codings: int = 0
    no_code: int = 0
    codes: int = 0
    sources: int = 0
    coders_scored: int = 0
    memos: int = 0


def export_study(store, fmt: str, out: str | Path, coder: str | None = None, progress=None) -> Exported:
    """Export the study in ``store`` to ``out`` as ``fmt``: ``csv`` (every decision and memo,
    see :func:`codings_frame`; it loads back with :func:`import_codings`), ``xlsx`` (the
    decisions and each coder's scores, one sheet each, with the ``sheets`` and ``columns``
    sheets explaining them; see :mod:`beicoder.core.workbook`), ``qdc`` (the REFI-QDA
    codebook) or ``qdpx`` (the whole REFI-QDA project, memos as Notes). ``coder`` (resolved
    by identity) limits it to one coder's decisions. ``progress(done, total)`` is called as
    the steps are done. Returns an :class:`Exported`.

    Raises:
        OutputError: ``out`` may not be written (a folder, a study database, no such folder).
        BeicoderError: an unknown format, or no decisions by ``coder``.
        RefiError: the REFI-QDA file cannot be written.
    """
    from .workbook import Sheet

    if fmt not in EXPORT_FORMATS:
        raise BeicoderError(f"{out}: unknown export format {fmt!r} (one of {', '.join(EXPORT_FORMATS)})")
    if Path(out).suffix.lower() != f".{fmt}":
        raise BeicoderError(f"{out}: a {fmt} export needs a name ending in .{fmt}")
    out = check_output(out)
    if coder:
        coder = store.resolve_coder(coder)
        if coder not in store.coders():
            known = ", ".join(store.coders()) or "none yet"
            raise BeicoderError(f"{store.path}: no decisions by coder {coder!r} (coders: {known})")
    if fmt == "qdc":
        from .refi import write_codebook

        return Exported(fmt, write_codebook(store.dictionary(), out), codes=len(store.codes()))
    if fmt == "qdpx":
        from .refi import write_project

        path = write_project(store, out, [coder] if coder else None)
        marks = store.marks(coder)
        return Exported(fmt, path, codings=len(store.coding_rows(coder)), sources=len(store.transcripts()),
                        no_code=sum(1 for m in marks if m["no_code"]), memos=sum(1 for m in marks if m["memo"]))
    report = progress or (lambda done, total: None)
    who_all = [coder] if coder else store.coders()
    steps = 2 + (len(who_all) if fmt == "xlsx" else 0)
    report(0, steps)
    frame = codings_frame(store, coder)
    n_codes = int((frame["decision"] == "code").sum())
    n_none = int((frame["decision"] == "no code").sum())
    memos = len(frame.loc[frame["memo"] != "", ["passage", "transcript", "interviewee", "coder"]].drop_duplicates())
    report(1, steps)
    if fmt == "csv":
        return Exported(fmt, write_csv(frame, out), codings=n_codes, no_code=n_none, memos=memos)
    from .analysis import AnalysisError, compute_scores, study_frames

    sheets = [Sheet("codings", frame, "every decision (one row per coding, no-code decision or memo on an "
                    "undecided passage)", "codings")]
    for k, who in enumerate(who_all, start=2):
        try:
            codings, interviewees, codes = study_frames(store, who)
        except AnalysisError:
            continue
        finally:
            report(k, steps)
        sheets.append(Sheet(f"scores {who}", compute_scores(codings, interviewees, codes),
                            f"scores per interviewee and code of coder {who}", "scores"))
    written = write_xlsx(sheets, out)
    report(steps, steps)
    return Exported(fmt, written, codings=n_codes, no_code=n_none, memos=memos, coders_scored=len(sheets) - 1)
