"""How the commands show what the core returns: Rich tables (comparison, reliability,
evaluation) and the line-by-line accounts of an import or a merge.

Rich is imported inside the functions that draw tables, so ``beicoder --help`` does not load it.
Numbers and p values are written by :mod:`beicoder.core.fmt`, as in the TUI and the report."""

from __future__ import annotations

import click

from ..core.fmt import num, p_value, plural, stars


def _console(min_width: int):
    from rich.console import Console

    return Console(soft_wrap=False, width=max(Console().width, min_width))


# -- import ---------------------------------------------------------------------------------------
def project_import(rep, db) -> None:
    """The account of one REFI-QDA project import (:class:`~beicoder.core.refi.ProjectImport`)."""
    for src in rep.sources:
        if src["status"] == "imported":
            click.echo(f"imported source {src['name']}: interviewee {src['interviewee']}, "
                       f"{plural(src['passages'], 'passage')}")
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
    if rep.no_code or rep.memos:
        click.echo(f"{rep.no_code} no-code decisions and {rep.memos} memos (from the project's notes) added or changed")
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


def import_report(report, db) -> None:
    """The account of :func:`~beicoder.core.importing.import_files`: each project, each
    pseudonymised file, each transcript file (failures on stderr), the metadata notes and a
    summary line."""
    for path, encoding in report.inputs:
        click.echo(f"read {path.name} ({encoding})")
    for rep in report.projects:
        project_import(rep, db)
    if not report.transcripts_given:
        return
    for p in report.pseudonymized:
        detail = ", ".join(f"{pseudonym} {n}" for pseudonym, n in p.replacements)
        click.echo(f"pseudonymized {p.path.name}: {p.total} replacements" + (f" ({detail})" if detail else ""))
    for r in report.files:
        if r.status == "imported":
            language = f", {r.language}" if r.language else ""
            click.echo(f"imported {r.path.name}: interviewee {r.interviewee}, {plural(r.passages, 'passage')} "
                       f"({r.encoding}{language})")
            for w in r.warnings:
                click.echo(f"  warning: {r.path.name}: {w}")
        elif r.status in ("unchanged", "updated"):
            click.echo(f"{r.status} {r.path.name}: {r.message}")
        else:
            click.echo(f"beicoder: {r.message}", err=True)
    for note in report.notes:
        click.echo(f"warning: {note}")
    where = f"study: {db}" if report.study_written else "no study file written"
    n_upd = report.count("updated")
    click.echo(f"{report.count('imported')} imported, {f'{n_upd} updated, ' if n_upd else ''}"
               f"{report.count('unchanged')} unchanged, {report.count('error')} failed; {where}")


# -- merge ----------------------------------------------------------------------------------------
def merge_report(report, other) -> None:
    """The account of :func:`~beicoder.core.merge.merge_study`."""
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
    for theirs, ours in report.same_coder:
        click.echo(f"coder {theirs!r} in {other} is {ours!r} here (the names differ only in case, width, spaces "
                   "or invisible characters)")
    for coder, tally in sorted(report.coders.items()):
        click.echo(f"coder {coder}: {tally['added']} added, {tally['updated']} updated, "
                   f"{tally['unchanged']} unchanged, {tally['kept']} kept (newer here)"
                   + (f", {tally['removed']} removed (taken back in {other})" if tally.get("removed") else ""))
    if not report.coders:
        click.echo("nothing to bring in")


# -- tables ---------------------------------------------------------------------------------------
def evaluation(table, design: str) -> None:
    """The table of :func:`~beicoder.core.evaluate.metrics`: one section per language and
    suggester (all passages first, then each language found), and the micro-F1 of each."""
    from rich.table import Table

    console = _console(110)
    console.print(f"Evaluation: {design}")
    t = Table(box=None, header_style="bold")
    for col in ("language", "suggester", "code", "precision", "recall", "F1", "support", "top-3 recall"):
        t.add_column(col, justify="left" if col in ("language", "suggester", "code") else "right")
    previous = None
    for r in table.to_dict("records"):
        group = (r.get("language", "all"), r["suggester"])
        if previous is not None and group != previous:
            t.add_section()
        previous = group
        style = "bold" if r["code"] in ("micro", "macro") else None
        t.add_row(group[0], r["suggester"], r["code"], num(r["precision"]), num(r["recall"]), num(r["f1"]),
                  str(r["support"]), num(r["top3_recall"]), style=style)
    console.print(t)
    languages = list(dict.fromkeys(table["language"])) if "language" in table else ["all"]
    for lang in languages:
        part = table[table["language"] == lang] if "language" in table else table
        micro = part[part["code"] == "micro"].set_index("suggester")
        passages = f", {int(part['passages'].iloc[0])} passages" if "passages" in part else ""
        label = "all passages" if lang == "all" else lang
        console.print(f"micro-F1 ({label}{passages}): "
                      + ", ".join(f"{name} {num(value, 3)}" for name, value in micro["f1"].items()))
        if "multi_recall" in micro and micro["multi_passages"].notna().any() and micro["multi_passages"].max() > 0:
            n_multi = int(micro["multi_passages"].max())
            console.print(f"  passages with two or three codes ({n_multi}): recall of all their codes " + ", ".join(
                f"{name} {num(r.multi_recall)}" for name, r in micro.iterrows()) + "; of their further codes "
                + ", ".join(f"{name} {num(r.further_recall)}" for name, r in micro.iterrows()))


def learning_curve(curve) -> None:
    """The table of :func:`~beicoder.core.evaluate.learning_curve`: one row per training size."""
    from rich.table import Table

    console = _console(100)
    console.print(f"Learning curve: {curve.design}")
    t = Table(box=None, header_style="bold")
    for col in ("trained on", "model P", "R", "F1", "top-3", "blend P", "R", "F1", "top-3"):
        t.add_column(col, justify="right")
    for point in curve.points:
        m, b = point["model"], point["blend"]
        t.add_row(f"{point['n']}", num(m["precision"]), num(m["recall"]), num(m["f1"]), num(m["top3_recall"]),
                  num(b["precision"]), num(b["recall"]), num(b["f1"]), num(b["top3_recall"]))
    console.print(t)
    lex = curve.lexicon
    console.print(f"lexicon on the same {curve.held_out} passages: P {num(lex['precision'])}, R {num(lex['recall'])}, "
                  f"F1 {num(lex['f1'])}, top-3 {num(lex['top3_recall'])}")


def comparison(analysis) -> None:
    """The group comparison of :func:`~beicoder.core.analysis.analyze_study`: the primary
    score's table with its verdicts, the secondary scores in brief, the rule, and warnings."""
    from rich.console import Console
    from rich.table import Table

    from ..core.analysis import SCORE_LABELS, normalize_group

    comp, names, interviewees, rule = analysis.comparison, analysis.names, analysis.interviewees, analysis.rule
    groups = [normalize_group(g) for g in interviewees["group"]]
    console = Console(soft_wrap=False)
    if not console.is_terminal or console.width < 120:
        console = Console(soft_wrap=False, width=max(console.width, 120))
    n_dec, n_all = int(interviewees["decided"].sum()), int(interviewees["passages"].sum())
    console.print(f"{groups.count('outstanding')} outstanding and {groups.count('average')} average interviewees; "
                  f"{n_dec} of {n_all} passages decided")
    prim = comp[comp["role"] == "primary"]
    table = Table(title=f"Outstanding vs average on the primary score, {SCORE_LABELS[rule.primary]} "
                        "(M = mean, SD in brackets)", box=None, header_style="bold")
    for col in ("code", "competency", "outstanding", "average", "g [95% CI]", "U", "p", "q", "verdict"):
        table.add_column(col, justify="left" if col in ("code", "competency", "verdict") else "right", no_wrap=True)
    for r in prim.to_dict("records"):
        style = _VERDICT_STYLE.get(r["verdict"])
        table.add_row(
            r["code"], names.get(r["code"], ""),
            f"{num(r['mean_outstanding'])} ({num(r['sd_outstanding'])})",
            f"{num(r['mean_average'])} ({num(r['sd_average'])})",
            f"{num(r['hedges_g'])} [{num(r['hedges_g_low'])}, {num(r['hedges_g_high'])}]",
            num(r["mw_u"], 1), p_value(r["p"]), p_value(r["q"]) + stars(r["q"]), r["verdict"], style=style)
    console.print(table)
    methods = sorted({m for m in prim["mw_method"] if m})
    console.print(f"p: {rule.test_name()}" + (f" ({'; '.join(methods)})" if rule.test != "welch" and methods else "")
                  + f"; q: Benjamini-Hochberg over the {len(prim)} codes of the primary score (* < .05, ** < .01, "
                  "*** < .001); g: Hedges' g (exact J), 95% CI from the noncentral t.", soft_wrap=True)
    console.print(f"Rule: {rule.describe()}.", soft_wrap=True)
    sec = comp[comp["role"] == "secondary"]
    t = Table(title=f"Secondary scores (q over all {len(comp)} tests; verdicts exploratory)", box=None,
              header_style="bold")
    t.add_column("code")
    for score in dict.fromkeys(sec["score"]):
        t.add_column(SCORE_LABELS[score], justify="right", no_wrap=True)
    for code in dict.fromkeys(sec["code"]):
        cells = []
        for score in dict.fromkeys(sec["score"]):
            r = sec[(sec["code"] == code) & (sec["score"] == score)].iloc[0]
            cells.append(f"{num(r['mean_outstanding'])}/{num(r['mean_average'])} {p_value(r['q'])}{stars(r['q'])}")
        t.add_row(code, *cells)
    console.print(t)
    console.print("cells: outstanding mean / average mean, then q", soft_wrap=True)
    diff = prim[prim["verdict"] == "differentiating"]
    console.print("Differentiating competencies: " + ("; ".join(f"{c} {names.get(c, '')}" for c in diff["code"])
                                                      if len(diff) else "none by this rule"), soft_wrap=True)
    labels = (("marginal", "Marginal"), ("threshold", "Threshold competencies (shown by most of both groups, no "
                                                        "significant difference)"), ("reversed", "Average higher"))
    for label, what in labels:
        sub = prim[prim["verdict"] == label]
        if len(sub):
            console.print(f"{what}: " + "; ".join(f"{c} {names.get(c, '')}" for c in sub["code"]), soft_wrap=True)
    if n_dec < n_all:
        console.print(f"[yellow]warning: only {n_dec} of {n_all} passages of these interviewees are decided; "
                      "the scores cover what is coded so far[/yellow]", soft_wrap=True)
    n_o, n_a = groups.count("outstanding"), groups.count("average")
    if 0 < min(n_o, n_a) < 20:
        from ..core.analysis import power_note

        console.print(f"[yellow]{power_note(n_o, n_a, rule, len(prim))['sentence']}[/yellow]", soft_wrap=True)


_VERDICT_STYLE = {"differentiating": "bold green", "threshold": "cyan", "marginal": "yellow", "reversed": "magenta"}


def reliability(result) -> None:
    """The figures of :func:`~beicoder.core.reliability.study_reliability`: summary, per code,
    per transcript."""
    from rich.table import Table

    report, table = result.report, result.table
    console = _console(110)
    shared = len(table.all_units) if table.all_units is not None else len(table.units)
    console.print(f"Coders: {', '.join(table.coders)}; {len(table.units)} passages decided by all"
                  + (f", {shared} by two or more (used by alpha)" if shared != len(table.units) else ""))
    t = Table(box=None, header_style="bold", title="Reliability")
    for col in ("measure", "value", "units", "bar", "flag"):
        t.add_column(col, justify="left" if col in ("measure", "flag") else "right")
    for r in report["summary"].to_dict("records"):
        bar = "" if r["bar"] is None or r["bar"] != r["bar"] else f"{r['bar']:g}"
        t.add_row(r["measure"], num(r["value"], 3), str(r["units"]), bar, r["flag"],
                  style="yellow" if r["flag"] else None)
    console.print(t)
    t = Table(box=None, header_style="bold", title="Per code")
    for col in ("code", "CA", "R", "kappa", "alpha", "% agree", "codings", "flag"):
        t.add_column(col, justify="left" if col in ("code", "flag") else "right")
    for r in report["per_code"].to_dict("records"):
        t.add_row(r["code"], num(r["ca"], 3), num(r["r"], 3), num(r["kappa"], 3), num(r["alpha_presence"], 3),
                  num(100 * r["percent_agreement"], 1), str(r["coded_by"]), r["flag"],
                  style="yellow" if r["flag"] else None)
    console.print(t)
    t = Table(box=None, header_style="bold", title="Per transcript")
    for col in ("interviewee", "units", "CA", "R", "% agree", "flag"):
        t.add_column(col, justify="left" if col in ("interviewee", "flag") else "right")
    for r in report["per_transcript"].to_dict("records"):
        t.add_row(r["interviewee"], str(r["units"]), num(r["ca"], 3), num(r["r"], 3),
                  num(100 * r["percent_agreement"], 1), r["flag"], style="yellow" if r["flag"] else None)
    console.print(t)
    console.print("kappa and alpha per code: agreement on the code's presence (alpha: nominal, missing data "
                  "allowed). Levels 'with absent = 0' count a code one coder gave and the other did not as a "
                  "disagreement; 'where coded' compares levels only where both coded.", soft_wrap=True)
    console.print(f"{len(report['disagreements'])} passages with disagreements (codes or levels); "
                  "--out writes them to disagreements.csv")


# -- discovery ------------------------------------------------------------------------------------
def _kwic(example):
    """A keyword-in-context line of :class:`~beicoder.core.discover.Example`, the term bold."""
    from rich.text import Text

    e = example
    return Text.assemble((f"{e.interviewee} ", "dim"), e.text[:e.start], (e.text[e.start:e.end], "bold yellow"),
                         e.text[e.end:])


def _short(text: str, width: int = 90) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[:width - 1] + "…"


def discovery(result, top: int = 10) -> None:
    """What :func:`~beicoder.core.discover.discover` found: the top terms of each group with
    two passages in context each, the candidate themes with their five example passages, and
    the method."""
    from rich.table import Table

    console = _console(120)
    n_terms = len(result.terms)
    console.print(f"[bold]Distinctive terms[/bold]: {result.n_outstanding} outstanding vs {result.n_average} average "
                  f"interviewees; {n_terms:,} terms tested (used by at least "
                  f"{result.parameters['min_interviewees']} interviewees)", soft_wrap=True)
    for group in ("outstanding", "average"):
        terms = result.top_terms(group, top)
        t = Table(title=f"Favouring the {group} group", box=None, header_style="bold", title_justify="left")
        for col in ("term", "z", "p", "q", "interviewees O/A", "count O/A", "in context"):
            t.add_column(col, justify="left" if col in ("term", "in context") else "right", no_wrap=True,
                         overflow="ellipsis")
        for term in terms:
            context = [_kwic(e) for e in term.examples]
            t.add_row(term.term, num(term.z), p_value(term.p), p_value(term.q) + stars(term.q),
                      f"{term.interviewees_outstanding}/{term.interviewees_average}",
                      f"{term.count_outstanding}/{term.count_average}", context[0] if context else "")
            for line in context[1:]:
                t.add_row("", "", "", "", "", "", line)
        console.print(t if terms else f"No tested term favours the {group} group.")
    console.print("z: weighted log-odds, outstanding vs average (informative Dirichlet prior, Monroe et al. 2008); "
                  f"p: two-sided permutation over interviewees ({result.method['terms_p']}); "
                  f"q: Benjamini-Hochberg over the {n_terms:,} tested terms (* < .05, ** < .01, *** < .001).",
                  soft_wrap=True)
    console.print()
    if not result.themes:
        console.print(result.method["themes"], soft_wrap=True)
    else:
        console.print(f"[bold]Candidate themes[/bold] in {result.n_theme_passages} passages no code covers "
                      f"({result.method['coder']}); k = {result.k} by NPMI coherence", soft_wrap=True)
        t = Table(box=None, header_style="bold")
        for col in ("theme", "top terms", "passages", "speak of it O/A", "p", "q", "passage share O/A", "p", "q"):
            t.add_column(col, justify="left" if col == "top terms" else "right", no_wrap=True, overflow="ellipsis")
        for th in result.themes:
            t.add_row(str(th.number), " ".join(th.top_terms[:8]), str(len(th.passages)),
                      f"{th.speakers_outstanding}/{result.n_outstanding} {th.speakers_average}/{result.n_average}",
                      p_value(th.p), p_value(th.q) + stars(th.q),
                      f"{th.passage_share_outstanding:.0%} {th.passage_share_average:.0%}", p_value(th.p_share),
                      p_value(th.q_share) + stars(th.q_share))
        console.print(t)
        console.print("speak of it: interviewees of each group with a passage in the theme; passage share: mean share "
                      "of an interviewee's uncoded passages in it; p: two-sided permutation over interviewees "
                      f"({result.method['themes_p']}); q: Benjamini-Hochberg over the themes.", soft_wrap=True)
        for th in result.themes:
            console.print(f"\n[bold]Theme {th.number}[/bold]: {' '.join(th.top_terms)} ({len(th.passages)} passages; "
                          f"more of the {th.favours} group's uncoded passages)", soft_wrap=True)
            for e in th.examples:
                console.print(f"  [dim]{e.interviewee} ({e.group})[/dim] {_short(e.text)}", soft_wrap=True)
    for note in result.notes:
        console.print(f"[yellow]note: {note}[/yellow]", soft_wrap=True)
    console.print(f"\n[dim]Method. {result.method['terms']} {result.method['themes']}[/dim]", soft_wrap=True)
# -- passages found --------------------------------------------------------------------------------
def passages_found(results, width: int = 60) -> None:
    """The rows of :func:`~beicoder.core.retrieval.find_passages` as a table (interviewee,
    passage number, group, coder, code and level or the codes, memo, the passage cut to
    ``width`` characters around its first match), then the one-line summary."""
    from rich.table import Table
    from rich.text import Text

    from ..tui.linebreak import WrappedText  # Chinese line breaking, as in the TUI

    q = results.query
    by_code = bool(q.code) and q.status == "any"
    t = Table(box=None, header_style="bold", pad_edge=False)
    for name in ["interviewee", "#", "group"] + (["coder", "level"] if by_code else ["codes"]):
        t.add_column(name, no_wrap=name != "codes", max_width=24 if name == "codes" else None, overflow="fold")
    t.add_column("memo", max_width=24, overflow="fold")
    t.add_column("passage", ratio=1, min_width=30, overflow="fold")
    for h in results.hits:
        text = h.text.replace("\n", " ")
        start = max(0, h.matches[0][0] - 10) if h.matches else 0
        shown = ("…" if start else "") + text[start:start + width] + ("…" if len(text) > start + width else "")
        body = Text(shown)
        shift = (1 if start else 0) - start
        for a, b in h.matches:
            if a + shift >= 0 and b + shift <= len(shown):
                body.stylize("bold reverse", a + shift, b + shift)
        codes = ([h.coder or "", "" if h.level is None else f"L{h.level}"] if by_code
                 else [h.codes or ", ".join(h.suggested)])
        t.add_row(h.interviewee, str(h.ordinal), h.group or "", *codes, WrappedText(h.memo), WrappedText(body))
    if results.hits:
        _console(100).print(t)
    click.echo(results.describe())
