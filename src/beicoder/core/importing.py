"""The import flow: transcripts and REFI-QDA projects into a study, with an account of what happened.

:func:`import_files` does everything ``beicoder import`` does and returns an
:class:`ImportReport`; the command only prints it. Inputs that cannot be used at all (a names,
metadata or dictionary file that does not load, a codebook given as a transcript, a project to
pseudonymise) are refused before anything is written. A transcript that cannot be read is
reported in the report and skipped; the others are imported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from . import BeicoderError
from .study import FileResult

PROJECT_SUFFIXES = (".qdpx", ".qde")
CODEBOOK_SUFFIX = ".qdc"


class ImportRefused(BeicoderError):
    """Files that ``import`` does not take, or not together; one line naming the file."""


@dataclass
class Pseudonymized:
    """Names replaced in one transcript before it was stored: ``path`` is the file's
    pseudonymised path, ``replacements`` (pseudonym, count) pairs in pseudonym order, one per
    original name that occurred (the original names are not kept here)."""

    path: Path
    replacements: list[tuple[str, int]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(n for _, n in self.replacements)


@dataclass
class ImportReport:
    """What :func:`import_files` did.

    ``projects``: one :class:`~beicoder.core.refi.ProjectImport` per REFI-QDA project, in the
    order given; ``pseudonymized``: one :class:`Pseudonymized` per transcript read with a
    names file; ``files``: one :class:`~beicoder.core.study.FileResult` per transcript file
    (status ``imported``, ``updated``, ``unchanged`` or ``error``); ``notes``: one-line
    warnings about the metadata; ``inputs``: ``(file, encoding found)`` of the metadata and names
    CSVs read (in any encoding a transcript may have); ``transcripts_given``: whether transcript files or metadata
    were given (so a summary of them is due); ``study_written``: whether the study file exists
    afterwards.
    """

    db_path: Path
    projects: list = field(default_factory=list)
    pseudonymized: list[Pseudonymized] = field(default_factory=list)
    files: list[FileResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    inputs: list[tuple[Path, str]] = field(default_factory=list)
    transcripts_given: bool = False
    study_written: bool = False

    def count(self, status: str) -> int:
        """Number of transcript files with this status."""
        return sum(1 for r in self.files if r.status == status)

    @property
    def failed(self) -> bool:
        """True when at least one transcript file could not be imported."""
        return self.count("error") > 0


def _check_files(files: list[Path], names) -> tuple[list[Path], list[Path]]:
    """(projects, transcripts) of ``files``; refuses codebooks and projects to pseudonymise."""
    codebooks = [f for f in files if f.suffix.lower() == CODEBOOK_SUFFIX]
    if codebooks:
        book = codebooks[0]
        raise ImportRefused(f"{book}: a REFI-QDA codebook, not a transcript; make it a dictionary with "
                            f"'beicoder dictionary from-codebook {book.name} --out {book.stem}.yaml'; nothing imported")
    projects = [f for f in files if f.suffix.lower() in PROJECT_SUFFIXES]
    if projects and names:
        raise ImportRefused("--pseudonymize applies to .txt/.md transcripts, not to .qdpx projects "
                            "(their codings' offsets would no longer fit the text); nothing imported")
    return projects, [f for f in files if f not in projects]


def _pseudonymize_parsed(parsed, names: dict[str, str], label: str | None, report: ImportReport, roles=None):
    """``parsed`` (from :func:`~beicoder.core.study.parse_files`) again, with every listed
    name replaced in each text and file name before parsing (a document's context and table
    spans moved with the text)."""
    from .ingest import ImportProblem, parse_text
    from .privacy import pseudonymize, pseudonymize_spans

    redone = []
    for path, p, failure in parsed:
        if p is None:
            redone.append((path, p, failure))
            continue
        text, counts, (context, blocked) = pseudonymize_spans(p.text, names, [p.context, p.blocked])
        safe = Path(pseudonymize(str(path), names)[0])
        try:
            again = parse_text(text, safe, p.encoding, p.sha256, label, roles, context, blocked)
            notes = [w for w in p.warnings if w not in again.warnings and w.startswith(("left out", "read ", "kept "))]
            again.warnings.extend(notes)
            redone.append((safe, again, None))
        except ImportProblem as exc:
            redone.append((safe, None, FileResult(safe, "error", f"{safe}: {exc}")))
        pairs = sorted(((names[k], v) for k, v in counts.items()), key=lambda kv: kv[0])
        report.pseudonymized.append(Pseudonymized(safe, pairs))
    return redone


def _remove_study(db: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(str(db) + suffix).unlink(missing_ok=True)


def import_files(db_path: str | Path, files, meta: str | Path | None = None,
                 dictionary_path: str | Path | None = None, interviewee_label: str | None = None,
                 names_path: str | Path | None = None, speaker_labels=None, progress=None) -> ImportReport:
    """Import transcripts and REFI-QDA projects into the study at ``db_path`` (created when missing).
    ``progress(done, total)`` is called as transcripts are read and stored.

    ``files``: transcript files (``.txt``/``.md`` in UTF-8, GB18030/GBK, Big5, UTF-16 or
    Windows-1252, ``.docx``, ``.srt``/``.vtt``) and REFI-QDA projects (``.qdpx``, ``.qde``).
    Each transcript's interviewee is its file name without extension; a file already imported
    (same sha256) is ``unchanged``; an edited file of an interviewee who has a transcript
    becomes its new version (``updated``). A project is imported whole, in one transaction
    (see :func:`~beicoder.core.refi.import_project`), before the transcripts.

    ``meta``: interviewees CSV (see :func:`~beicoder.core.study.read_meta`), stored with the
    transcripts. ``dictionary_path``: a competency dictionary (YAML) that replaces the study's;
    without it a new study gets the bundled one. ``interviewee_label``: speaker label of the
    interviewee when turns carry names. ``names_path``: names CSV (``name,pseudonym``); every
    listed name is replaced in the text, the file name and the metadata before anything is
    stored (the sha256 kept is the original file's, so importing it again is a no-op).
    ``speaker_labels``: the study's own speaker labels, ``NAME=interviewer`` /
    ``NAME=interviewee`` texts or a ``{label: role}`` mapping, added to those the dictionary
    lists under ``speaker_labels`` (given with ``dictionary_path``, else the study's) and to
    the built-in ones (see :class:`~beicoder.core.ingest.SpeakerRoles`).

    Returns an :class:`ImportReport`. A transcript that cannot be read or parsed is an
    ``error`` in it (``report.failed``) and nothing is written for it; the others are
    imported. When an exception is raised and the study file did not exist before, no study
    file is left behind.

    Raises:
        ImportRefused: a bad ``speaker_labels`` item; a ``.qdc`` codebook among ``files`` (see
            :func:`~beicoder.core.refi.write_codebook_dictionary`), or a project together with
            ``names_path``; nothing is written.
        NamesFileError, MetaError, DictionaryError: the names, metadata or dictionary file
            cannot be used; nothing is written.
        RefiError: a project that cannot be imported.
        StoreError: the study file cannot be opened or written, or the given dictionary drops
            codes that have codings.
    """
    from .dictionary import load_dictionary
    from .study import read_meta_file

    db = Path(db_path)
    files = [Path(f) for f in files]
    labels = _speaker_labels(speaker_labels)
    names = None
    inputs: list[tuple[Path, str]] = []
    if names_path:
        from .privacy import load_names_file

        names, encoding = load_names_file(names_path)
        inputs.append((Path(names_path), encoding))
    projects, transcripts = _check_files(files, names)
    # everything that can refuse the whole import is read before the study is touched
    meta_rows = None
    if meta:
        meta_rows, encoding = read_meta_file(meta)
        inputs.append((Path(meta), encoding))
    dictionary = load_dictionary(dictionary_path) if dictionary_path else None
    roles = _roles(db, dictionary, labels)
    report = ImportReport(db_path=db, transcripts_given=bool(transcripts or meta_rows), inputs=inputs)
    existed = db.exists()
    try:
        if projects:
            _import_projects(db, projects, dictionary, report)
        if report.transcripts_given:
            _import_transcripts(db, transcripts, meta_rows, dictionary, interviewee_label, names, report, roles,
                                progress)
    except BaseException:
        if not existed:  # no half-made study file left behind
            _remove_study(db)
        raise
    report.study_written = db.exists()
    return report


def _speaker_labels(items) -> dict[str, str]:
    """``{label: role}`` of ``--speaker-label`` items (texts ``NAME=ROLE``) or of a mapping.

    Raises:
        ImportRefused: a bad item (one line)."""
    from .ingest import ImportProblem, check_speaker_label, parse_speaker_labels

    try:
        if isinstance(items, dict):
            return dict(check_speaker_label(k, v, "--speaker-label") for k, v in items.items())
        return parse_speaker_labels(items or ())
    except ImportProblem as exc:
        raise ImportRefused(f"{exc}; nothing imported") from None


def _roles(db: Path, dictionary, labels: dict[str, str]):
    """The speaker roles of this import: the built-in labels, the dictionary's (the given one,
    else the study's), then ``labels``."""
    from .ingest import speaker_roles

    if dictionary is None and db.is_file() and db.stat().st_size:
        from .store import Store, StoreError

        try:
            with Store(db, create=False) as store:
                dictionary = store.dictionary()
        except StoreError:
            dictionary = None  # the import itself says what is wrong with the file
    return speaker_roles(dict(dictionary.speaker_labels) if dictionary is not None else {}, labels)


def _import_projects(db: Path, projects: list[Path], dictionary, report: ImportReport) -> None:
    from .dictionary import load_dictionary
    from .paths import default_dictionary
    from .refi import import_project
    from .store import Store

    fallback = load_dictionary(default_dictionary())
    with Store(db, create=True) as store:
        for project in projects:
            report.projects.append(import_project(store, project, dictionary, fallback))


def _import_transcripts(db: Path, files: list[Path], meta_rows, dictionary, interviewee_label, names,
                        report: ImportReport, roles=None, progress=None) -> None:
    from .dictionary import load_dictionary
    from .paths import default_dictionary
    from .study import import_parsed, meta_warnings, parse_files

    n = len(files)
    parsed = parse_files(files, interviewee_label, roles,
                         progress=(lambda done, _: progress(done, 2 * n)) if progress else None)
    if names:
        from .privacy import pseudonymize

        label = pseudonymize(interviewee_label, names)[0] if interviewee_label else None
        for row in meta_rows or []:
            for key in ("id", "branch", "extra"):
                if row.get(key):
                    row[key] = pseudonymize(row[key], names)[0]
        parsed = _pseudonymize_parsed(parsed, names, label, report, roles)
    good = [p for p in parsed if p[2] is None]
    results = [p[2] for p in parsed if p[2] is not None]
    if good or meta_rows:
        from .store import Store

        with Store(db, create=True) as store:
            if dictionary is not None or store.dictionary() is None:
                store.set_dictionary(dictionary or load_dictionary(default_dictionary()))
            results += import_parsed(store, good, meta_rows,
                                     progress=(lambda done, _: progress(n + done, 2 * n)) if progress else None)
            report.notes = meta_warnings(meta_rows or [], store)
    report.files = results
