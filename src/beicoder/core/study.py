"""Study-level workflows: import a batch of transcripts with their metadata, build the demo,
replace the dictionary, and check a study can be coded before the TUI opens."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from . import BeicoderError
from .ingest import ImportProblem, ParsedTranscript, read_transcript
from .textutil import read_text_input


class MetaError(BeicoderError):
    """An interviewee metadata CSV that cannot be used; one line naming the file and row."""


@dataclass
class FileResult:
    """The outcome of importing one file: ``status`` is ``imported``, ``updated`` (a new
    version of an interviewee's transcript), ``unchanged`` (same sha256 as a stored
    transcript) or ``error`` (``message`` says why)."""

    path: Path
    status: str
    message: str = ""
    interviewee: str = ""
    passages: int = 0
    encoding: str = ""
    warnings: list[str] = field(default_factory=list)
    language: str = ""  # zh-Hans, zh-Hant or en, as detected and stored (imported files)


def read_meta(path: str | Path) -> list[dict]:
    """The rows of the interviewee metadata CSV at ``path``; see :func:`read_meta_file`."""
    return read_meta_file(path)[0]


def read_meta_file(path: str | Path) -> tuple[list[dict], str]:
    """Read an interviewee metadata CSV in any encoding a transcript may have (UTF-8 with or
    without BOM, GB18030/GBK as Chinese Excel saves it, Big5, UTF-16, Windows-1252; see
    :func:`~beicoder.core.textutil.read_text_input`). Returns ``(rows, encoding found)``.

    Columns: ``interviewee`` (required), ``group`` (``outstanding``/``average`` or
    优秀/普通/一般; may be empty), ``tenure_years`` (a number >= 0), ``branch``; other columns
    are kept as JSON in ``extra``. Returns dicts ready for
    :meth:`~beicoder.core.store.Store.upsert_interviewees` (``id``, ``grp``, ...).

    Raises:
        MetaError: unreadable or undecodable, no ``interviewee`` column, an empty or repeated
            interviewee, a group that is neither outstanding nor average, a tenure that is
            not a number >= 0.
    """
    from .analysis import AnalysisError, normalize_group

    path = Path(path)
    text, encoding = read_text_input(path, MetaError, "the CSV")
    reader = csv.DictReader(text.splitlines())
    fields = [f.strip() for f in reader.fieldnames or []]
    if "interviewee" not in fields:
        raise MetaError(f"{path}: no 'interviewee' column")
    out, seen = [], set()
    for row in reader:
        row = {k.strip(): (v or "").strip() for k, v in row.items() if k}
        where = f"{path.name} line {reader.line_num}"
        iv = row.get("interviewee", "")
        if not iv:
            raise MetaError(f"{where}: empty interviewee")
        if iv in seen:
            raise MetaError(f"{where}: interviewee {iv} appears twice")
        seen.add(iv)
        try:
            normalize_group(row.get("group"))
        except AnalysisError as exc:
            raise MetaError(f"{where}: interviewee {iv}: {exc}") from None
        tenure = row.get("tenure_years", "")
        try:
            tenure_val = float(tenure) if tenure else None
        except ValueError:
            tenure_val = -1.0
        if tenure_val is not None and not tenure_val >= 0:
            raise MetaError(f"{where}: tenure_years {tenure!r} is not a number of years >= 0")
        extra = {k: v for k, v in row.items() if k not in ("interviewee", "group", "tenure_years", "branch")}
        out.append({"id": iv, "grp": row.get("group") or None, "tenure_years": tenure_val,
                    "branch": row.get("branch") or None,
                    "extra": json.dumps(extra, ensure_ascii=False) if extra else None})
    return out, encoding


def parse_files(paths, interviewee: str | None = None, roles=None,
                progress=None) -> list[tuple[Path, ParsedTranscript | None, FileResult | None]]:
    """Read and parse every file (``roles``: a :class:`~beicoder.core.ingest.SpeakerRoles`
    with the study's own speaker labels); a file that fails yields a FileResult with status
    ``error``. ``progress(done, total)`` is called after each file. Out: ``(path, parsed or
    None, failure or None)`` per file."""
    out = []
    paths = list(paths)
    for k, p in enumerate(paths, start=1):
        p = Path(p)
        try:
            out.append((p, read_transcript(p, interviewee, roles), None))
        except ImportProblem as exc:
            out.append((p, None, FileResult(p, "error", str(exc))))
        if progress:
            progress(k, len(paths))
    return out


def import_parsed(store, parsed_files, meta: list[dict] | None = None, progress=None) -> list[FileResult]:
    """Store parsed transcripts (see :func:`parse_files`) and metadata in ``store``.

    The interviewee of a transcript is the file name without extension (``MC01.txt`` ->
    ``MC01``), matched to the metadata's ``interviewee`` column. A file whose sha256 is already
    stored is ``unchanged``; a file with other text for an interviewee who already has a
    transcript is a new version of it, ``updated`` (see :meth:`Store.replace_transcript`:
    decisions on unchanged passages move to their new offsets, the others are set aside for
    review, none is shifted silently or dropped). Each transcript is its own transaction.
    ``progress(done, total)`` is called after each file.
    """
    if meta:
        store.upsert_interviewees(meta)
    results = []
    parsed_files = list(parsed_files)
    for k, (path, parsed, failure) in enumerate(parsed_files, start=1):
        if progress:
            progress(k - 1, len(parsed_files))
        if failure:
            results.append(failure)
            continue
        iv = path.stem
        known = store.transcript_by_sha(parsed.sha256)
        if known:
            results.append(FileResult(path, "unchanged", f"already imported as {known['interviewee']}",
                                      known["interviewee"]))
            continue
        other = store.transcripts_of(iv)
        if other:
            counts = store.replace_transcript(other[0]["id"], parsed)
            results.append(FileResult(
                path, "updated",
                f"new version {counts['version']} of {iv}: decisions on {counts['moved']} unchanged passages moved "
                f"to their new offsets, {counts['review']} decisions on changed passages set aside for review "
                "('beicoder review')", iv, counts["passages"], parsed.encoding, parsed.warnings))
            continue
        tid = store.add_transcript(parsed, iv)
        results.append(FileResult(path, "imported", "", iv, len(parsed.passages), parsed.encoding, parsed.warnings,
                                  store.transcript_languages().get(tid, "")))
    return results


def meta_warnings(meta: list[dict], store) -> list[str]:
    """One-line notes about metadata that matches no transcript, and transcripts without a group."""
    known = set(store.interviewees_with_transcripts())
    notes = [f"metadata names interviewee {m['id']}, who has no transcript in the study"
             for m in meta if m["id"] not in known]
    ungrouped = store.ungrouped_interviewees()
    if ungrouped:
        notes.append(f"no group for {', '.join(ungrouped)}: "
                     "give them one in the metadata CSV before 'beicoder analyze'")
    return notes


def build_demo(db_path: str | Path, progress=print, lang: str = "zh") -> Path:
    """Create the demo study at ``db_path`` from the bundled transcripts, metadata and the
    expert's reference codings (coder ``reference``): ``lang`` ``zh``, the ten Chinese
    interviews; ``en``, the English ones (``transcripts/en``), both coded with the bundled
    dictionary. Suggestions are left to the TUI, which computes them in a worker. Returns
    ``db_path``.

    Raises:
        BeicoderError: ``lang`` is neither zh nor en, or the bundled files are missing or broken.
    """
    from .dictionary import load_dictionary
    from .export import import_codings
    from .paths import default_dictionary, demo_study
    from .store import Store

    if lang not in ("zh", "en"):
        raise BeicoderError(f"no demo study in {lang!r}: zh or en")
    folder = demo_study(lang)
    dictionary = load_dictionary(default_dictionary())
    files = sorted(p for p in folder.iterdir() if p.suffix == ".txt") if folder.is_dir() else []
    if not files or not (folder / "interviewees.csv").is_file() or not (folder / "reference_codings.csv").is_file():
        raise BeicoderError(f"{folder}: the demo study's transcripts, interviewees.csv or reference_codings.csv "
                            "are missing; reinstall beicoder")
    parsed = parse_files(files)
    bad = [r for _, _, r in parsed if r]
    if bad:
        raise BeicoderError(bad[0].message)
    meta = read_meta(folder / "interviewees.csv")
    db_path = Path(db_path)
    if db_path.is_dir():
        raise BeicoderError(f"{db_path}: is a folder; give the demo study a file name (e.g. {db_path / 'demo.db'})")
    if not db_path.parent.is_dir():
        raise BeicoderError(f"{db_path}: folder {db_path.parent} does not exist")
    tmp = db_path.with_name(db_path.name + ".building")
    for leftover in (tmp, Path(str(tmp) + "-wal"), Path(str(tmp) + "-shm")):
        leftover.unlink(missing_ok=True)
    store = Store(tmp)
    try:
        store.set_dictionary(dictionary)
        results = import_parsed(store, parsed, meta)
        loaded = import_codings(store, folder / "reference_codings.csv", coder="reference")
        store.checkpoint()
    finally:
        store.close()
    tmp.replace(db_path)
    progress(f"built {db_path}: {len(results)} transcripts, {loaded.codings} reference codings "
             f"and {loaded.no_code} no-code decisions by coder 'reference'")
    return db_path


def replace_dictionary(store, path: str | Path, confirm=None):
    """Replace the study's competency dictionary in ``store`` by the one at ``path`` (YAML), in
    one transaction. Codes are matched by key, so renamed labels keep their codings. When the
    new dictionary drops codes that have codings, ``confirm(dropped)`` (``dropped``: code ->
    number of codings) decides whether those codings are deleted; without ``confirm`` they
    are not, and nothing is applied. Returns ``(dictionary, dropped)``; ``dropped`` is empty
    when no coding was deleted.

    Raises:
        DictionaryError: the file is not a valid dictionary.
        BeicoderError: codings would be deleted and ``confirm`` did not agree; nothing applied.
    """
    from .dictionary import load_dictionary

    path = Path(path)
    dictionary = load_dictionary(path)
    dropped = {c: n for c, n in store.dropped_codes(dictionary).items() if n}
    if dropped and not (confirm is not None and confirm(dropped)):
        raise BeicoderError(f"{path}: not applied; the study keeps its dictionary")
    store.set_dictionary(dictionary, drop_codings=bool(dropped))
    return dictionary, dropped


class SessionCheck(NamedTuple):
    """What :func:`check_coding_session` found: the ``coders`` to reconcile (empty without
    consensus), the ``consensus_coder`` and the ``coder`` who codes, each as the study names
    them (resolved by :func:`~beicoder.core.store.coder_identity`)."""

    coders: list[str]
    consensus_coder: str
    coder: str | None


def distinct_coders(names, what: str = "name", error: type[Exception] = BeicoderError) -> list[str]:
    """``names`` (as typed) when they are at least two different coders by
    :func:`~beicoder.core.store.coder_identity`.

    Raises:
        error: fewer than two names, or one person named twice (``Li`` and ``li ``), said in
            one line (``what`` starts it: ``--consensus``, ``--coders``).
    """
    from .store import coder_identity, normalize_coder

    typed = [normalize_coder(n) for n in names]
    seen: dict[str, str] = {}
    for name in typed:
        key = coder_identity(name)
        if key in seen:
            same = "the same name" if seen[key] == name else "one coder"
            raise error(f"{what}: {seen[key]!r} and {name!r} are {same} (names are compared without case, "
                        "width, spaces and invisible characters); name at least two different coders")
        seen[key] = name
    if len(typed) < 2:
        raise error(f"{what}: name at least two different coders")
    return typed


def check_coding_session(db_path: str | Path, blind: bool = False, consensus=(),
                         consensus_coder: str = "consensus", coder: str | None = None) -> SessionCheck:
    """Check that the study at ``db_path`` can be coded as asked, before the TUI opens: it
    exists and has a dictionary; with ``consensus`` (coders to reconcile), that these are two
    or more different coders (by identity: ``Li`` and ``li`` are one) who share decided
    passages, that ``consensus_coder`` is not one of them, and that ``blind`` is not asked too.
    Returns a :class:`SessionCheck`: the coders to reconcile, the consensus coder and
    ``coder`` (who codes), as the study names them.

    Raises:
        BeicoderError: any of the above does not hold (one line).
        StoreError: the file is not a beicoder study, or an empty coder name.
        ReliabilityError: a coder to reconcile has no decisions, or they share no passage.
    """
    from .store import Store, coder_identity, normalize_coder

    if not Path(db_path).exists():
        raise BeicoderError(f"{db_path}: no such study file (run 'beicoder import' or 'beicoder demo' first)")
    names = list(consensus or [])
    target = normalize_coder(consensus_coder)
    if names and blind:
        raise BeicoderError("--blind and --consensus exclude each other: "
                            "the consensus screen shows every coder's codings")
    if names:
        names = distinct_coders(names, "--consensus")
    if any(coder_identity(n) == coder_identity(target) for n in names):
        raise BeicoderError(f"--consensus: the consensus coder {target!r} cannot also be one of the coders reconciled "
                            "(choose another name with --consensus-coder)")
    with Store(db_path, create=False) as store:  # fail early, with one line, on a bad file
        if store.dictionary() is None:
            raise BeicoderError(f"{db_path}: the study has no dictionary; load one with "
                                "'beicoder dictionary FILE.yaml' (the bundled one: dictionary/micro_credit.yaml)")
        names = [store.resolve_coder(n) for n in names]
        target = store.resolve_coder(target)
        who = store.resolve_coder(coder) if coder is not None else None
        if names:
            from .reliability import coding_table

            coding_table(store, names)  # the coders exist and share decided passages
    return SessionCheck(names, target, who)
