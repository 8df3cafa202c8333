"""The ``beicoder`` command: wires the core and the TUI together, nothing else."""

from __future__ import annotations

import getpass
import os
import sys
from pathlib import Path

import click

from .core import BeicoderError

DEFAULT_DB = "beicoder.db"
DEMO_DB = "beicoder-demo.db"


def _fail(message: str, code: int = 2):
    click.echo(f"beicoder: {message}", err=True)
    sys.exit(code)


def _default_coder() -> str:
    return os.environ.get("BEICODER_CODER") or getpass.getuser() or "coder"


def _open_store(db: str, create: bool = False):
    from .core.store import Store

    return Store(db, create=create)


class Group(click.Group):
    """Turns every BeicoderError into one line on stderr and exit status 2."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except BeicoderError as exc:
            _fail(str(exc))


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="beicoder")
def main():
    """beicoder: code behavioural event interview (BEI) transcripts against a competency
    dictionary, and compare outstanding with average performers."""


db_option = click.option("--db", default=DEFAULT_DB, show_default=True, help="The study file (SQLite).")


@main.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--meta", type=click.Path(path_type=Path), help="interviewees.csv: interviewee, group, tenure_years, branch.")
@db_option
@click.option("--dictionary", "dictionary_path", type=click.Path(path_type=Path),
              help="Competency dictionary (YAML); default: the study's, or the bundled micro-credit one.")
@click.option("--interviewee-label", help="Speaker label of the interviewee when turns carry names (e.g. 唐鳳).")
@click.option("--pseudonymize", "names_path", type=click.Path(path_type=Path),
              help="names.csv (name,pseudonym): replace these personal names in the transcripts before storing them.")
def import_cmd(files, meta, db, dictionary_path, interviewee_label, names_path):
    """Import transcripts (.txt/.md in UTF-8, GB18030/GBK, Big5 or UTF-16) into the study.

    Each file's interviewee is its name without extension. Files already imported (same
    sha256) are skipped. A file that cannot be read is reported and skipped; the exit status
    is then 2.

    A REFI-QDA project (.qdpx, e.g. from QualCoder, NVivo, ATLAS.ti or beicoder) is imported
    whole in one transaction: its sources become transcripts, its codings are placed on the
    passages they cover, under their coder's name.

    With --pseudonymize names.csv every listed name (longest first) is replaced in the text,
    the file name and the metadata before anything is stored, so passages and offsets are
    those of the pseudonymised text. The file's sha256 is kept: importing the file again is a
    no-op (it is not pseudonymised again with another names file)."""
    from .core.dictionary import load_dictionary
    from .core.paths import default_dictionary
    from .core.study import import_parsed, meta_warnings, parse_files, read_meta

    names = None
    if names_path:
        from .core.privacy import load_names

        names = load_names(names_path)
    projects = [f for f in files if f.suffix.lower() in (".qdpx", ".qde")]
    if projects:
        from .core.refi import import_project

        if names:
            raise BeicoderError("--pseudonymize applies to .txt/.md transcripts, not to .qdpx projects "
                                "(their codings' offsets would no longer fit the text); nothing imported")
        given = load_dictionary(dictionary_path) if dictionary_path else None
        fallback = load_dictionary(default_dictionary())
        existed = Path(db).exists()
        store = _open_store(db, create=True)
        try:
            reports = [import_project(store, project, given, fallback) for project in projects]
        except BaseException:
            store.close()
            if not existed:  # no half-made study file left behind
                for suffix in ("", "-wal", "-shm"):
                    Path(str(db) + suffix).unlink(missing_ok=True)
            raise
        store.close()
        for rep in reports:
            for src in rep.sources:
                if src["status"] == "imported":
                    click.echo(f"imported source {src['name']}: interviewee {src['interviewee']}, {src['passages']} passages")
                    if src["message"]:
                        click.echo(f"  note: {src['message']}")
                else:
                    click.echo(f"{src['status']} source {src['name']}: {src['message']}")
            if rep.dictionary == "codebook":
                click.echo("dictionary: built from the project's codebook (each code has one level 1)")
            elif rep.dictionary == "default":
                click.echo("dictionary: the bundled micro-credit dictionary")
            per_coder = ", ".join(f"{c} {n}" for c, n in sorted(rep.placed.items())) or "none"
            click.echo(f"codings per coder: {per_coder} ({rep.written} passage codings added or changed)")
            if rep.skipped_codes:
                n = sum(rep.skipped_codes.values())
                shown = ", ".join(f"{k} ({v})" for k, v in sorted(rep.skipped_codes.items())[:20])
                more = f", ... {len(rep.skipped_codes) - 20} more" if len(rep.skipped_codes) > 20 else ""
                click.echo(f"skipped codes (not in the study's dictionary): {len(rep.skipped_codes)} codes, "
                           f"{n} codings: {shown}{more}")
            if rep.unplaced:
                click.echo(f"warning: {rep.unplaced} codings cover no passage and were left out")
            if rep.levels_dropped:
                click.echo(f"warning: {rep.levels_dropped} levels outside their code's scale were left out")
            for note in rep.notes:
                click.echo(f"warning: {note}")
            n_imp = sum(1 for s in rep.sources if s["status"] == "imported")
            n_unch = sum(1 for s in rep.sources if s["status"] == "unchanged")
            click.echo(f"{rep.project}: {n_imp} sources imported, {n_unch} unchanged, "
                       f"{len(rep.sources) - n_imp - n_unch} skipped; {rep.codings} codings; study: {db}")
        files = tuple(f for f in files if f not in projects)
        if not files:
            return
    codebooks = [f for f in files if f.suffix.lower() == ".qdc"]
    if codebooks:
        _import_codebooks(codebooks)
        files = tuple(f for f in files if f.suffix.lower() != ".qdc")
        if not files:
            return
    meta_rows = read_meta(meta) if meta else None
    dictionary = load_dictionary(dictionary_path) if dictionary_path else None
    parsed = parse_files(files, interviewee_label)
    if names:
        from .core.ingest import ImportProblem, parse_text
        from .core.privacy import pseudonymize
        from .core.study import FileResult

        label = pseudonymize(interviewee_label, names)[0] if interviewee_label else None
        for row in meta_rows or []:
            for key in ("id", "branch", "extra"):
                if row.get(key):
                    row[key] = pseudonymize(row[key], names)[0]
        redone = []
        for path, p, failure in parsed:
            if p is None:
                redone.append((path, p, failure))
                continue
            text, counts = pseudonymize(p.text, names)
            safe = Path(pseudonymize(str(path), names)[0])
            try:
                redone.append((safe, parse_text(text, safe, p.encoding, p.sha256, label), None))
            except ImportProblem as exc:
                redone.append((safe, None, FileResult(safe, "error", f"{safe}: {exc}")))
            detail = ", ".join(f"{names[k]} {v}" for k, v in sorted(counts.items(), key=lambda kv: names[kv[0]]))
            click.echo(f"pseudonymized {safe.name}: {sum(counts.values())} replacements" + (f" ({detail})" if detail else ""))
        parsed = redone
    good = [p for p in parsed if p[2] is None]
    results = [p[2] for p in parsed if p[2] is not None]
    if good or meta_rows:
        store = _open_store(db, create=True)
        try:
            if dictionary is not None or store.dictionary() is None:
                store.set_dictionary(dictionary or load_dictionary(default_dictionary()))
            results += import_parsed(store, good, meta_rows)
            notes = meta_warnings(meta_rows or [], store)
        finally:
            store.close()
    else:
        notes = []
    for r in results:
        if r.status == "imported":
            click.echo(f"imported {r.path.name}: interviewee {r.interviewee}, {r.passages} passages ({r.encoding})")
            for w in r.warnings:
                click.echo(f"  warning: {r.path.name}: {w}")
        elif r.status == "unchanged":
            click.echo(f"unchanged {r.path.name}: {r.message}")
        elif r.status == "updated":
            click.echo(f"updated {r.path.name}: {r.message}")
        else:
            click.echo(f"beicoder: {r.message}", err=True)
    for note in notes:
        click.echo(f"warning: {note}")
    n_new = sum(1 for r in results if r.status == "imported")
    n_bad = sum(1 for r in results if r.status == "error")
    where = f"study: {db}" if Path(db).exists() else "no study file written"
    n_upd = sum(1 for r in results if r.status == "updated")
    click.echo(f"{n_new} imported, {f'{n_upd} updated, ' if n_upd else ''}"
               f"{sum(1 for r in results if r.status == 'unchanged')} unchanged, {n_bad} failed; {where}")
    if n_bad:
        sys.exit(2)


def _import_codebooks(paths) -> None:
    """A REFI-QDA codebook becomes a competency dictionary file in the current folder
    (NAME.yaml), to be given levels and keywords and used with --dictionary."""
    from .core.dictionary import load_dictionary
    from .core.export import check_output
    from .core.refi import read_codebook

    for path in paths:
        dictionary = read_codebook(path)
        target = check_output(Path.cwd() / (Path(path).stem + ".yaml"))
        if target.exists():
            raise BeicoderError(f"{target}: exists; move it away to import {Path(path).name} again")
        target.write_text(dictionary.yaml_text, encoding="utf-8")
        load_dictionary(target)  # the file we wrote loads as a dictionary
        n = len(dictionary.codes)
        click.echo(f"imported codebook {Path(path).name}: {n} code{'s' if n != 1 else ''} -> dictionary {target} "
                   "(each code has one placeholder level 1; add levels and keywords, then use it with --dictionary)")


@main.command()
@db_option
def suggest(db):
    """Suggest codes for every passage (jieba + spaCy keyword matching) and store the evidence;
    coders' saved models score the passages they have not seen."""
    from .core.suggest.learned import model_dir, refresh_model_suggestions
    from .core.suggest.lexicon import suggest_study

    store = _open_store(db)
    try:
        dictionary = store.dictionary()
        if dictionary is None:
            raise BeicoderError(f"{db}: the study has no dictionary; import transcripts first")
        ids = [p.id for p in store.passages()]
        done = suggest_study(store, dictionary, ids)
        n = store.suggestion_counts("lexicon")
        click.echo(f"suggested codes for {done} passages: {n[0]} keyword suggestions on {n[1]} passages")
        for who in store.coders():
            try:
                scored = refresh_model_suggestions(store, db, who, dictionary)
            except Exception as exc:  # noqa: BLE001 - a damaged model must not stop the others
                click.echo(f"beicoder: {model_dir(db, who)}: {who}'s model cannot be loaded ({exc}); "
                           f"run 'beicoder train --coder {who}'", err=True)
                continue
            if scored:
                click.echo(f"{who}'s model scored {scored} passages it had not seen")
            elif scored is None and model_dir(db, who).exists():
                click.echo(f"{who}'s model was trained with another version of the dictionary; "
                           f"run 'beicoder train --coder {who}' to use it again")
    finally:
        store.close()


@main.command()
@db_option
@click.option("--coder", default=None, help="Whose decisions to learn from (default: the coder with most decisions).")
@click.option("--no-dictionary-examples", is_flag=True,
              help="Learn from the coder's decisions only, not also from the dictionary's example passages.")
def train(db, coder, no_dictionary_examples):
    """Train a text classifier (spaCy textcat_multilabel) on a coder's decisions and the
    dictionary's example passages, save it beside the study, and store its suggestions for
    every passage."""
    from .core.suggest.learned import LearnedSuggester, store_model_suggestions
    from .core.suggest.learned import train as train_model

    store = _open_store(db)
    try:
        who = _pick_coder(store, coder)
        dictionary = store.dictionary()
        result = train_model(store, who, dictionary, db, dictionary_examples=not no_dictionary_examples)
        model = LearnedSuggester.load(result.path, dictionary)
        done = store_model_suggestions(store, model, who)
    finally:
        store.close()
    meta = result.meta
    click.echo(f"trained on {meta['examples']} decided passages of {who} ({meta['examples_with_codes']} with codes) "
               f"and {meta['dictionary_examples']} example passages of the dictionary, seed {meta['seed']}, {meta['epochs']} epochs; saved to {result.path}; scored {done} passages")


@main.command()
@db_option
@click.option("--coder", default=None, help="Whose decisions are the truth (default: the coder with most decisions).")
@click.option("--gold", type=click.Path(path_type=Path), help="Score this gold file (id,text,codes) instead of cross-validating.")
@click.option("--folds", default=5, show_default=True, type=click.IntRange(2, 50), help="Folds over interviewees.")
@click.option("--out", type=click.Path(path_type=Path), help="Write the table as CSV (UTF-8 with BOM).")
@click.option("--no-dictionary-examples", is_flag=True,
              help="Train the model on the coder's decisions only, not also on the dictionary's example passages.")
def evaluate(db, coder, gold, folds, out, no_dictionary_examples):
    """Precision, recall and F1 per code (micro and macro) and top-3 recall of the lexicon,
    learned and blended suggesters: cross-validated over interviewees, or on a gold file."""
    from .core.evaluate import GoldFileError, cross_validate, evaluate_gold, metrics, read_gold
    from .core.export import check_output, write_csv

    if gold and click.get_current_context().get_parameter_source("folds").name != "DEFAULT":
        raise click.UsageError("--folds is for cross-validation; a --gold file is scored by a model trained on the whole study")
    if out:
        check_output(out)
        if out.suffix.lower() != ".csv":
            raise BeicoderError(f"{out}: the table is written as CSV; give a file name ending in .csv")
        if gold and out.resolve() == gold.resolve():
            raise BeicoderError(f"{out}: is the gold file; write the table to another file")
    store = _open_store(db)
    try:
        who = _pick_coder(store, coder)
        dictionary = store.dictionary()
        with_examples = not no_dictionary_examples and bool(dictionary.examples)
        also = f" and the dictionary's {len(dictionary.examples)} example passages" if with_examples else ""
        if gold:
            try:
                items = read_gold(gold, dictionary.codes)
            except GoldFileError as exc:
                for p in exc.problems:
                    click.echo(f"beicoder: {p}", err=True)
                raise
            scored = evaluate_gold(store, who, dictionary, items, with_examples, str(gold))
            design = f"trained on {who}'s decisions in {db}{also}, scored on {len(items)} passages of {gold}"
        else:
            scored = cross_validate(store, who, dictionary, folds, dictionary_examples=with_examples,
                                    progress=lambda k, n: click.echo(f"  fold {k}/{n} done", err=True))
            design = (f"{folds}-fold cross-validation over interviewees on {len(scored.gold)} passages decided by "
                      f"{who}{also}")
    finally:
        store.close()
    table = metrics(scored, dictionary.codes)
    _print_evaluation(table, design)
    if out:
        write_csv(table, out)
        click.echo(f"wrote {out}")


def _print_evaluation(table, design: str) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(soft_wrap=False, width=max(Console().width, 100))
    console.print(f"Evaluation: {design}")
    t = Table(box=None, header_style="bold")
    for col in ("suggester", "code", "precision", "recall", "F1", "support", "top-3 recall"):
        t.add_column(col, justify="left" if col in ("suggester", "code") else "right")
    previous = None
    for r in table.to_dict("records"):
        if previous is not None and r["suggester"] != previous:
            t.add_section()
        previous = r["suggester"]
        style = "bold" if r["code"] in ("micro", "macro") else None
        t.add_row(r["suggester"], r["code"], _fmt(r["precision"]), _fmt(r["recall"]), _fmt(r["f1"]),
                  str(r["support"]), _fmt(r["top3_recall"]), style=style)
    console.print(t)
    micro = table[table["code"] == "micro"].set_index("suggester")["f1"]
    console.print("micro-F1: " + ", ".join(f"{name} {_fmt(value, 3)}" for name, value in micro.items()))


@main.command()
@db_option
@click.option("--coder", default=None, help="Your coder name (default: $BEICODER_CODER or your user name).")
@click.option("--blind", is_flag=True,
              help="Blind coding: hide the interviewees' groups and the other coders' progress.")
@click.option("--consensus", "consensus", multiple=True,
              help="Open the consensus screen on these coders' disagreements (two or more): --consensus A B.")
@click.argument("more_coders", nargs=-1)
@click.option("--consensus-coder", default="consensus", show_default=True,
              help="The coder name the consensus coding is recorded under.")
def code(db, coder, blind, consensus, more_coders, consensus_coder):
    """Code passages in the terminal (Textual TUI).

    With --consensus A B, reconcile coders A and B: walk the passages where they disagree and
    decide each for the consensus coder; every decision records you (--coder) as its maker."""
    if more_coders and not consensus:
        raise click.UsageError(f"unexpected argument(s): {' '.join(more_coders)} (coders to reconcile go after --consensus)")
    if not Path(db).exists():
        raise BeicoderError(f"{db}: no such study file (run 'beicoder import' or 'beicoder demo' first)")
    names = [n for c in list(consensus) + list(more_coders) for n in c.split()]
    _run_tui(db, coder or _default_coder(), blind=blind, consensus=names, consensus_coder=consensus_coder)


def _run_tui(db: str, coder: str, blind: bool = False, consensus: list[str] | None = None,
             consensus_coder: str = "consensus") -> None:
    from .core.store import normalize_coder
    from .tui.app import BeicoderApp

    names = list(dict.fromkeys(normalize_coder(n) for n in consensus or []))
    target = normalize_coder(consensus_coder)
    if names and blind:
        raise BeicoderError("--blind and --consensus exclude each other: the consensus screen shows every coder's codings")
    if names and len(names) < 2:
        raise BeicoderError("--consensus: name at least two different coders")
    if target in names:
        raise BeicoderError(f"--consensus: the consensus coder {target!r} cannot also be one of the coders reconciled "
                            "(choose another name with --consensus-coder)")
    store = _open_store(db)  # fail early, with one line, on a bad file
    try:
        if store.dictionary() is None:
            raise BeicoderError(f"{db}: the study has no dictionary; import transcripts first")
        if names:
            from .core.reliability import coding_table

            coding_table(store, names)  # the coders exist and share decided passages
    finally:
        store.close()
    BeicoderApp(db, normalize_coder(coder), blind=blind, consensus=names, consensus_coder=target).run()


@main.command()
@click.option("--db", default=DEMO_DB, show_default=True, help="Where to build the demo study.")
@click.option("--coder", default=None, help="Your coder name (default: $BEICODER_CODER or your user name).")
@click.option("--rebuild", is_flag=True, help="Build the demo study again even when it exists.")
@click.option("--no-tui", is_flag=True, help="Only build the study; do not open the TUI.")
def demo(db, coder, rebuild, no_tui):
    """Build the bundled demo study (10 micro-credit BEI transcripts, reference codings) on
    first run, then open it in the TUI."""
    from .core.study import build_demo

    if rebuild or not Path(db).exists():
        build_demo(db, progress=click.echo)
    else:
        try:
            _open_store(db).close()
        except BeicoderError as exc:
            raise BeicoderError(f"{exc}; use --rebuild to build the demo study there again") from None
        click.echo(f"opening the existing demo study {db} (--rebuild starts it afresh)")
    if not no_tui:
        _run_tui(db, coder or _default_coder())


def _pick_coder(store, coder: str | None) -> str:
    from .core.store import normalize_coder

    coders = store.coders()
    if coder:
        if normalize_coder(coder) not in coders:
            raise BeicoderError(f"{store.path}: no decisions by coder {coder!r} (coders: {', '.join(coders) or 'none yet'})")
        return normalize_coder(coder)
    if not coders:
        raise BeicoderError(f"{store.path}: no codings yet; code some passages or load codings first")
    counts = {c: len(store.decided_passages(c)) for c in coders}
    best = max(coders, key=lambda c: (counts[c], c == "consensus", c == "reference"))
    others = [f"{c} ({counts[c]})" for c in coders if c != best]
    msg = f"coder: {best} ({counts[best]} decided passages)"
    if others:
        msg += f"; other coders: {', '.join(others)}; choose with --coder"
    click.echo(msg)
    return best


@main.command()
@db_option
@click.option("--coder", default=None, help="Whose codings to analyse (default: the coder with most decisions).")
@click.option("--out", type=click.Path(path_type=Path), help="Folder for scores.csv and comparison.csv.")
@click.option("--alpha", default=0.05, show_default=True, type=click.FloatRange(0, 1, min_open=True, max_open=True),
              help="Significance level of the verdict rule.")
@click.option("--uncorrected", is_flag=True, help="Judge by Welch's p instead of Benjamini-Hochberg q.")
@click.option("--threshold-presence", default=0.5, show_default=True, type=click.FloatRange(0, 1),
              help="Share of each group that must show a code for a threshold competency.")
@click.option("--normalize", is_flag=True, help="Compare the rate per 1,000 characters instead of the frequency.")
def analyze(db, coder, out, alpha, uncorrected, threshold_presence, normalize):
    """Scores per interviewee and competency, and which competencies differentiate the
    outstanding from the average group."""
    from .core.analysis import Rule, compare_groups, compute_scores, study_frames
    from .core.export import write_csv

    store = _open_store(db)
    try:
        who = _pick_coder(store, coder)
        codings, interviewees, codes = study_frames(store, who)
        names = {c["code"]: c["name_zh"] or c["name_en"] for c in store.codes()}
    finally:
        store.close()
    from .core.analysis import SCORES

    rule = Rule(alpha=alpha, corrected=not uncorrected, threshold_presence=threshold_presence)
    scores = compute_scores(codings, interviewees, codes)
    comparison = compare_groups(scores, codes, rule,
                                tuple(s for s in SCORES if s != "frequency") if normalize else SCORES)
    _print_comparison(comparison, names, interviewees, rule)
    if out:
        out = _out_folder(out)
        write_csv(scores, Path(out) / "scores.csv")
        write_csv(comparison, Path(out) / "comparison.csv")
        click.echo(f"wrote {Path(out) / 'scores.csv'} and {Path(out) / 'comparison.csv'}")


def _fmt(v, nd=2) -> str:
    import math

    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    return f"{v:.{nd}f}"


def _fmt_p(p) -> str:
    """A p or q value as papers print it: three decimals, '<.001' below that."""
    import math

    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "–"
    return "<.001" if p < 0.001 else f"{p:.3f}"


def _print_comparison(comparison, names, interviewees, rule) -> None:
    from rich.console import Console
    from rich.table import Table

    from .core.analysis import SCORE_LABELS, normalize_group

    groups = [normalize_group(g) for g in interviewees["group"]]
    console = Console(soft_wrap=False)
    if not console.is_terminal or console.width < 120:
        console = Console(soft_wrap=False, width=max(console.width, 120))
    n_dec, n_all = int(interviewees["decided"].sum()), int(interviewees["passages"].sum())
    console.print(f"{groups.count('outstanding')} outstanding and {groups.count('average')} average interviewees; "
                  f"{n_dec} of {n_all} passages decided")
    table = Table(title="Outstanding vs average (M = mean, SD in brackets)", box=None, header_style="bold")
    for col in ("code", "score", "outstanding", "average", "Welch t (df)", "p", "U", "p(U)",
                "g", "q", "verdict"):
        table.add_column(col, justify="left" if col in ("code", "score", "verdict") else "right", no_wrap=True)
    previous = None
    for r in comparison.to_dict("records"):
        if previous is not None and r["score"] != previous:
            table.add_section()
        previous = r["score"]
        style = "bold green" if r["verdict"] == "differentiating" else ("cyan" if r["verdict"] == "threshold" else None)
        table.add_row(
            r["code"], SCORE_LABELS[r["score"]],
            f"{_fmt(r['mean_outstanding'])} ({_fmt(r['sd_outstanding'])})",
            f"{_fmt(r['mean_average'])} ({_fmt(r['sd_average'])})",
            f"{_fmt(r['welch_t'])} ({_fmt(r['welch_df'], 1)})", _fmt_p(r["welch_p"]),
            _fmt(r["mw_u"], 1), _fmt_p(r["mw_p"]), _fmt(r["hedges_g"]), _fmt_p(r["q_bh"]), r["verdict"],
            style=style,
        )
    console.print(table)
    console.print("t: Welch's t-test; U: Mann-Whitney U (two-sided); g: Hedges' g; q: Benjamini-Hochberg "
                  "adjusted p across the codes of each score.")
    console.print(f"Rule: {rule.describe()}.")
    diff = comparison[comparison["verdict"] == "differentiating"]
    diff_codes = list(dict.fromkeys(diff["code"]))
    if diff_codes:
        parts = []
        for code in diff_codes:
            scores = diff.loc[diff["code"] == code, "score"]
            parts.append(f"{code} {names.get(code, '')} (on {', '.join(SCORE_LABELS[s] for s in scores)})")
        console.print("Differentiating competencies: " + "; ".join(parts), soft_wrap=True)
    else:
        console.print("Differentiating competencies: none by this rule")
    base = "frequency" if "frequency" in set(comparison["score"]) else "rate"
    thr = comparison[(comparison["verdict"] == "threshold") & (comparison["score"] == base)]
    if len(thr):
        console.print(f"Threshold competencies by {SCORE_LABELS[base]} (shown by most of both groups, no difference): "
                      + "; ".join(f"{c} {names.get(c, '')}" for c in thr["code"]), soft_wrap=True)
    if n_dec < n_all:
        console.print(f"[yellow]warning: only {n_dec} of {n_all} passages of these interviewees are decided; "
                      "the scores cover what is coded so far[/yellow]", soft_wrap=True)
    small = [g for g in ("outstanding", "average") if 0 < groups.count(g) < 5]
    if small:
        console.print(f"[yellow]warning: fewer than 5 {' and '.join(small)} interviewees; "
                      "tests have little power[/yellow]", soft_wrap=True)


@main.command()
@db_option
@click.option("--coders", "coders", required=True, multiple=True,
              help="Two or more coders; repeat the option or separate names by spaces: --coders A B.")
@click.argument("more_coders", nargs=-1)
@click.option("--out", type=click.Path(path_type=Path), help="Folder for reliability_*.csv and disagreements.csv.")
@click.option("--kappa-bar", default=0.60, show_default=True, type=click.FloatRange(-1, 1), help="Flag kappa below this.")
@click.option("--alpha-bar", default=0.667, show_default=True, type=click.FloatRange(-1, 1), help="Flag alpha below this.")
@click.option("--ca-bar", default=0.70, show_default=True, type=click.FloatRange(0, 1), help="Flag CA below this.")
def reliability(db, coders, more_coders, out, kappa_bar, alpha_bar, ca_bar):
    """Inter-coder reliability on the passages all named coders have decided: Winter's
    category agreement and R, Cohen's (two coders) or Fleiss' kappa per code, Krippendorff's
    alpha on code sets and levels, percent agreement, and the list of disagreements."""
    from .core.export import write_csv
    from .core.reliability import Bars, coding_table, reliability_report

    names = [n for c in list(coders) + list(more_coders) for n in c.split()]
    if out:
        out = _out_folder(out)
    store = _open_store(db)
    try:
        table = coding_table(store, names)
        codes = [c["code"] for c in store.codes()]
    finally:
        store.close()
    report = reliability_report(table, codes, Bars(kappa=kappa_bar, alpha=alpha_bar, ca=ca_bar))
    _print_reliability(report, table)
    if out:
        for name in ("summary", "per_code", "per_transcript", "disagreements"):
            target = out / (f"reliability_{name}.csv" if name != "disagreements" else "disagreements.csv")
            write_csv(report[name], target)
        click.echo(f"wrote reliability_summary.csv, reliability_per_code.csv, reliability_per_transcript.csv "
                   f"and disagreements.csv to {out}")


def _out_folder(out: Path) -> Path:
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise BeicoderError(f"{out}: is a file; --out takes a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BeicoderError(f"{out}: cannot create the folder ({exc.strerror})") from None
    return out


def _print_reliability(report, table) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(soft_wrap=False, width=max(Console().width, 110))
    console.print(f"Coders: {', '.join(table.coders)}; {len(table.units)} passages decided by all")
    t = Table(box=None, header_style="bold", title="Reliability")
    for col in ("measure", "value", "units", "bar", "flag"):
        t.add_column(col, justify="left" if col in ("measure", "flag") else "right")
    for r in report["summary"].to_dict("records"):
        t.add_row(r["measure"], _fmt(r["value"], 3), str(r["units"]), "" if r["bar"] is None or r["bar"] != r["bar"] else f"{r['bar']:g}",
                  r["flag"], style="yellow" if r["flag"] else None)
    console.print(t)
    t = Table(box=None, header_style="bold", title="Per code")
    for col in ("code", "CA", "R", "kappa", "% agree", "codings", "flag"):
        t.add_column(col, justify="left" if col in ("code", "flag") else "right")
    for r in report["per_code"].to_dict("records"):
        t.add_row(r["code"], _fmt(r["ca"], 3), _fmt(r["r"], 3), _fmt(r["kappa"], 3), _fmt(100 * r["percent_agreement"], 1),
                  str(r["coded_by"]), r["flag"], style="yellow" if r["flag"] else None)
    console.print(t)
    t = Table(box=None, header_style="bold", title="Per transcript")
    for col in ("interviewee", "units", "CA", "R", "% agree", "flag"):
        t.add_column(col, justify="left" if col in ("interviewee", "flag") else "right")
    for r in report["per_transcript"].to_dict("records"):
        t.add_row(r["interviewee"], str(r["units"]), _fmt(r["ca"], 3), _fmt(r["r"], 3),
                  _fmt(100 * r["percent_agreement"], 1), r["flag"], style="yellow" if r["flag"] else None)
    console.print(t)
    console.print(f"{len(report['disagreements'])} passages with disagreements (codes or levels); "
                  "--out writes them to disagreements.csv")


@main.command()
@click.argument("other", type=click.Path(path_type=Path))
@db_option
def merge(other, db):
    """Bring another study file's codings in (another coder's copy of the same transcripts).
    Transcripts are matched by content; merging twice adds nothing."""
    from .core.merge import merge_study

    store = _open_store(db)
    try:
        report = merge_study(store, other)
    finally:
        store.close()
    click.echo(f"matched {len(report.matched)} transcript(s): {', '.join(o for o, _ in report.matched) or 'none'}")
    if report.unmatched:
        click.echo(f"not in this study (skipped with their codings): {', '.join(report.unmatched)}")
    if report.changed:
        click.echo(f"text differs from this study's transcript of the same interviewee (skipped with their codings): "
                   f"{', '.join(report.changed)}")
    if report.unmatched_passages:
        click.echo(f"{report.unmatched_passages} passage(s) cut differently in {other} (skipped)")
    if report.unknown_codes:
        click.echo(f"codes not in this study's dictionary (skipped): {', '.join(sorted(report.unknown_codes))}")
    for coder, tally in sorted(report.coders.items()):
        click.echo(f"coder {coder}: {tally['added']} added, {tally['updated']} updated, "
                   f"{tally['unchanged']} unchanged, {tally['kept']} kept (newer here)")
    if not report.coders:
        click.echo("nothing to bring in")


@main.command()
@db_option
@click.option("--coder", default=None, help="Whose codings to report (default: the coder with most decisions).")
@click.option("--out", required=True, type=click.Path(path_type=Path), help="Folder for the report files.")
@click.option("--alpha", default=0.05, show_default=True, type=click.FloatRange(0, 1, min_open=True, max_open=True))
@click.option("--uncorrected", is_flag=True, help="Judge by Welch's p instead of Benjamini-Hochberg q.")
@click.option("--threshold-presence", default=0.5, show_default=True, type=click.FloatRange(0, 1))
@click.option("--marginal", default=0.10, show_default=True, type=click.FloatRange(0, 1, min_open=True),
              help="Welch p under which a higher outstanding mean is called marginal.")
@click.option("--normalize", is_flag=True, help="Use the rate per 1,000 characters instead of the frequency.")
def report(db, coder, out, alpha, uncorrected, threshold_presence, marginal, normalize):
    """Write report.md, report.xlsx and comparison.png/.svg: method, scores, group comparison,
    length control, reliability, and provenance."""
    from .core.analysis import Rule
    from .core.report import build_report, write_report

    if Path(out).exists() and not Path(out).is_dir():
        raise BeicoderError(f"{out}: is a file; --out takes a folder")
    store = _open_store(db)
    try:
        who = _pick_coder(store, coder)
        rep = build_report(store, who, Rule(alpha=alpha, corrected=not uncorrected,
                                            threshold_presence=threshold_presence, marginal=marginal), normalize)
    finally:
        store.close()
    for path in write_report(rep, out):
        click.echo(f"wrote {path}")


@main.command("dictionary")
@click.argument("file", type=click.Path(path_type=Path))
@db_option
@click.option("--yes", is_flag=True, help="Do not ask before deleting the codings of codes the new dictionary drops.")
def dictionary_cmd(file, db, yes):
    """Replace the study's competency dictionary by FILE (YAML). Codes are matched by key, so
    renamed labels keep their codings; codings of dropped codes are deleted only after you
    confirm (one transaction). Suggestions are recomputed when next needed."""
    from .core.dictionary import load_dictionary

    dictionary = load_dictionary(file)
    store = _open_store(db)
    try:
        dropped = {c: n for c, n in store.dropped_codes(dictionary).items() if n}
        if dropped:
            listing = ", ".join(f"{c} ({n} codings)" for c, n in dropped.items())
            if not yes and not click.confirm(f"{file.name} drops {listing}; delete these codings?", default=False):
                raise BeicoderError(f"{file}: not applied; the study keeps its dictionary")
        store.set_dictionary(dictionary, drop_codings=bool(dropped))
    finally:
        store.close()
    click.echo(f"the study now uses {file} ({len(dictionary.codes)} codes)"
               + (f"; deleted the codings of {', '.join(dropped)}" if dropped else ""))


@main.command()
@db_option
@click.option("--coder", default=None, help="Only this coder's decisions.")
@click.option("--out", type=click.Path(path_type=Path), help="Also write them as CSV.")
@click.option("--apply", "apply_to", nargs=2, type=int, metavar="ID PASSAGE",
              help="Apply set-aside decision ID to passage number PASSAGE of the transcript's new version.")
@click.option("--dismiss", type=int, metavar="ID", help="Dismiss set-aside decision ID (decided again by hand).")
def review(db, coder, out, apply_to, dismiss):
    """Decisions set aside when a re-imported transcript changed under them: the old
    passage's text and the decision, to code the new version again. --apply writes one onto
    a passage of the new version (audited: 'beicoder undo' takes it back); --dismiss marks
    one settled."""
    import pandas as pd

    from .core.export import write_csv

    if apply_to and dismiss is not None:
        raise click.UsageError("--apply and --dismiss exclude each other")
    store = _open_store(db)
    try:
        if apply_to or dismiss is not None:
            item_id = apply_to[0] if apply_to else dismiss
            target = None
            if apply_to:
                item = store.review_item(item_id)
                if item is None:
                    raise BeicoderError(f"{db}: no decision set aside with id {item_id}")
                target = next((p.id for p in store.passages(item["transcript_id"]) if p.ordinal == apply_to[1]), None)
                if target is None:
                    raise BeicoderError(f"{db}: {item['interviewee']}'s transcript has no passage {apply_to[1]}")
            item = store.resolve_review(item_id, target)
            what = "no code" if item["no_code"] else (item["code"] or "memo")
            click.echo(f"applied {what} of {item['coder']} to passage {apply_to[1]} of {item['interviewee']}"
                       if apply_to else f"dismissed set-aside decision {item_id} ({what} of {item['coder']})")
            return
        items = store.review_items(coder)
    finally:
        store.close()
    if not items:
        click.echo("nothing to review")
        return
    for r in items:
        what = "no code" if r["no_code"] else f"{r['code']}{'' if r['level'] is None else ' L' + str(r['level'])}"
        click.echo(f"[{r['id']}] {r['interviewee']} v{r['version']} passage {r['passage_ordinal']} · {r['coder']}: "
                   f"{what} · {r['passage_text'][:60]}{'…' if len(r['passage_text']) > 60 else ''}")
    click.echo(f"{len(items)} decisions to review ('beicoder review --apply ID PASSAGE' or '--dismiss ID')")
    if out:
        cols = ["id", "interviewee", "version", "passage_ordinal", "passage_text", "coder", "code", "level", "no_code",
                "memo", "decided_at", "reason"]
        write_csv(pd.DataFrame(items)[cols], out)
        click.echo(f"wrote {out}")


@main.command()
@db_option
@click.option("--coder", required=True, help="Whose action to undo.")
@click.option("--redo", is_flag=True, help="Apply again the action undone last.")
@click.option("--list", "listing", is_flag=True, help="List the coder's last actions instead (newest first).")
def undo(db, coder, redo, listing):
    """Undo a coder's last action, whatever made it (a key in the TUI, 'codings import',
    a .qdpx import, 'merge', the consensus screen, 'review --apply'): every row it changed
    goes back to its state before. --redo applies it again."""
    store = _open_store(db)
    try:
        if listing:
            actions = store.actions(coder)
            for a in actions:
                click.echo(f"{a.at[:19].replace('T', ' ')}  {a.origin:<10} {a.description} ({a.rows} rows)")
            if not actions:
                click.echo(f"nothing to undo for {coder}")
            return
        done = store.redo_action(coder) if redo else store.undo_action(coder)
        where = ""
        if done is not None and done.passage_id is not None:
            p = store.passage(done.passage_id)
            iv = next(t["interviewee"] for t in store.transcripts() if t["id"] == p.transcript_id)
            where = f", passage {p.ordinal} of {iv}"
    finally:
        store.close()
    if done is None:
        click.echo(f"nothing to {'redo' if redo else 'undo'} for {coder}")
        return
    click.echo(f"{'redone' if redo else 'undone'}: {done.description} ({done.origin}, {done.rows} rows{where}, "
               f"made {done.at[:19].replace('T', ' ')} UTC)")


@main.command()
@click.argument("target", type=click.Path(path_type=Path))
@db_option
def backup(target, db):
    """A consistent copy of the study file (SQLite's backup API; safe while others code)."""
    store = _open_store(db)
    try:
        path = store.backup(target)
    finally:
        store.close()
    click.echo(f"backed up {db} to {path}")


@main.command()
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx", "qdc", "qdpx"]), default="csv", show_default=True,
              help="csv: every decision; xlsx: decisions and scores per coder; qdc: REFI-QDA codebook; "
                   "qdpx: REFI-QDA project for NVivo, ATLAS.ti, MAXQDA.")
@click.option("--out", required=True, type=click.Path(path_type=Path), help="The file to write.")
@db_option
@click.option("--coder", default=None, help="Only this coder's codings (default: all coders).")
def export(fmt, out, db, coder):
    """Export every decision as CSV (one row per coding, plus one row with an empty code for
    each "no code" decision, with interviewee, group, transcript, passage ordinal, offsets,
    passage text, code, level, coder, memo and time; it loads back with 'beicoder codings
    import'), or the codebook / whole project in the REFI-QDA exchange format."""
    from .core.export import check_output, codings_frame, write_csv

    check_output(out)
    store = _open_store(db)
    try:
        if coder and coder not in store.coders():
            known = ", ".join(store.coders()) or "none yet"
            raise BeicoderError(f"{db}: no decisions by coder {coder!r} (coders: {known})")
        if fmt == "qdc":
            from .core.refi import write_codebook

            path = write_codebook(store.dictionary(), out)
            click.echo(f"wrote the codebook ({len(store.codes())} codes) to {path}")
            return
        if fmt == "qdpx":
            from .core.refi import write_project

            path = write_project(store, out, [coder] if coder else None)
            n = len(store.coding_rows(coder))
            click.echo(f"wrote the project ({len(store.transcripts())} sources, {n} codings) to {path}")
            return
        frame = codings_frame(store, coder)
        if fmt == "xlsx":
            from .core.analysis import AnalysisError, compute_scores, study_frames
            from .core.export import write_xlsx

            sheets = {"codings": frame}
            for who in ([coder] if coder else store.coders()):
                try:
                    codings, interviewees, codes = study_frames(store, who)
                except AnalysisError:
                    continue
                sheets[f"scores {who}"] = compute_scores(codings, interviewees, codes)
            write_xlsx(sheets, out)
            click.echo(f"wrote {len(frame)} decisions and the scores of {len(sheets) - 1} coder(s) to {out}")
            return
    finally:
        store.close()
    write_csv(frame, out)
    n_codes = int((frame["code"] != "").sum())
    click.echo(f"wrote {n_codes} codings and {len(frame) - n_codes} no-code decisions to {out}")


@main.group(cls=Group)
def codings():
    """Codings kept outside the TUI (spreadsheets)."""


@codings.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--coder", default=None, help="Coder to load the codings as (overrides a coder column).")
@db_option
def codings_import(file, coder, db):
    """Load codings from a CSV with columns interviewee, passage, code, level [, coder].
    An empty code is a "no code" decision. Nothing is loaded from a file with a bad row."""
    from .core.export import CodingsFileError, import_codings

    store = _open_store(db)
    try:
        result = import_codings(store, file, coder)
    except CodingsFileError as exc:
        for p in exc.problems:
            click.echo(f"beicoder: {p}", err=True)
        raise
    finally:
        store.close()
    click.echo(f"loaded {result.codings} codings and {result.no_code} no-code decisions on "
               f"{result.passages} passages for {', '.join(result.coders)}")


if __name__ == "__main__":  # pragma: no cover
    main()
