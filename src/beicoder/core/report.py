"""The report a thesis chapter needs, rerun after every coding session (``beicoder report``).

Writes into a folder:

- ``report.md``: provenance (tool version, dictionary hash, coders, blinding), the method in
  one paragraph (scores and units, the test and its side, the family of the correction, the
  verdict rule), a compact main table on the primary score that fits a portrait page, the
  power of the study, length control within groups with count models as a sensitivity
  analysis, the check by classification, reliability, the chart, and an appendix with every
  statistic of every score; with ``discover``, a section on what the dictionary does not
  cover (:func:`discovery_markdown`: distinctive terms, candidate themes, their method);
- ``report.xlsx``: one sheet per table (pandas + openpyxl), numbers at full precision;
- ``comparison.png`` and ``comparison.svg``: mean score per competency for each group with 95%
  confidence intervals (t distribution), competencies named, q marked (* < .05, ** < .01,
  *** < .001).

Same inputs give byte-identical files apart from the date line of the provenance: figures
carry no creation date, and the workbook's timestamps are fixed. p values are written in APA
style (no leading zero, ``< .001``).
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import zipfile
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

from .analysis import (
    SCORE_LABELS,
    SCORE_UNITS,
    SPEECH_UNIT,
    AnalysisError,
    Rule,
    classify_groups,
    compare_groups,
    compute_scores,
    count_models,
    length_control,
    normalize_group,
    power_note,
    study_frames,
)
from .fmt import num, p_value, signed, stars

FIXED_TIME = (2000, 1, 1, 0, 0, 0)
MIN_RELIABILITY_DECISIONS = 10  # a coder with fewer decided passages is left out of the default comparison


def codings_hash(store, coder: str) -> str:
    """sha256 of the coder's decisions in a canonical form (interviewee, transcript hash,
    passage ordinal, code, level; "no code" marks included), independent of row order and
    edit times."""
    coder = store.resolve_coder(coder)
    rows = store.decision_rows(coder)
    canon = sorted(json.dumps([r["interviewee"], r["sha256"], r["ordinal"], r["code"], r["level"]]) for r in rows)
    return hashlib.sha256("\n".join(canon).encode("utf-8")).hexdigest()


def _width(text: str) -> int:
    """Columns ``text`` takes in a fixed-width font (a Han character takes two)."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in str(text))


def _md_table(headers: list[str], rows: list[list[str]]) -> str:
    """A pipe table whose separator has as many dashes as its column's widest cell, so that
    pandoc gives each column its share of the page when it converts the report to DOCX."""
    widths = []
    for i, h in enumerate(headers):
        cells = [str(r[i]) for r in rows]
        widest = max([3, min(_width(h), 12)] + [_width(c) for c in cells])
        word = max([_width(w) for c in cells + [h] for w in c.split()] or [3])
        widths.append(max(widest + 3, word + 8))  # room for the widest cell, and never a word cut
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("-" * w for w in widths) + "|"]
    lines += ["| " + " | ".join(str(c).replace("|", "/") for c in r) + " |" for r in rows]
    return "\n".join(lines)


def _blinding_text(b: dict) -> str:
    if b["sessions"] == 0:
        return "unknown (no coding session in beicoder's TUI" + (": codings were imported)" if b["outside"] else ")")
    if b["blind"] == b["sessions"]:
        return f"blind to the groups in all {b['sessions']} coding sessions"
    if b["blind"] == 0:
        return f"not blind ({b['sessions']} coding sessions showed the groups)"
    return f"partly blind ({b['blind']} of {b['sessions']} coding sessions blind)"


def build_report(store, coder: str, rule: Rule = Rule(), normalize: bool = False, reliability_coders=None,
                 discover: bool = False, progress=None) -> dict:
    """Compute everything the report shows; ``progress(done, total)`` is called as its parts
    are done.

    ``normalize`` makes the rate the primary score (unless ``rule.primary`` names another
    than frequency). ``reliability_coders``: the coders whose agreement is reported (default:
    every coder but the consensus and the reference coder with at least
    :data:`MIN_RELIABILITY_DECISIONS` decided passages, when two or more; those left out are
    named in the provenance). ``discover``: also run :func:`beicoder.core.discover.discover`
    for ``coder`` (the result under ``discovery``, else None) for the optional section of
    :func:`discovery_markdown`.

    Returns a dict with frames (scores, comparison, length, correlations, count_models;
    reliability or None), classification (dict, or None with classification_note), power,
    names (code -> Chinese name or English), names_en, codes, interviewees, provenance,
    rule, coder, blinding, llm_models (the local LLMs whose suggestions the coder accepted,
    see ``Store.accepted_llm_models``).

    Raises:
        AnalysisError: the coder has no decisions, a group is missing.
        ReliabilityError: the ``reliability_coders`` named cannot be compared.
    """
    from .. import __version__
    from .reliability import ReliabilityError, coding_table, reliability_report

    if normalize and rule.primary == "frequency":
        rule = Rule(**{**asdict(rule), "primary": "rate"})
    codings, interviewees, codes = study_frames(store, coder)
    from .language import code_names

    names = code_names(store)  # Chinese names, or English ones in an English study
    names_en = {c["code"]: c["name_en"] or c["name_zh"] for c in store.codes()}
    report = progress or (lambda done, total: None)
    report(1, 6)
    scores = compute_scores(codings, interviewees, codes)
    comparison = compare_groups(scores, codes, rule)
    report(2, 6)
    length, correlations = length_control(scores, interviewees)
    models = count_models(scores, codes, rule)
    report(3, 6)
    groups = [normalize_group(g) for g in interviewees["group"]]
    n_o, n_a = groups.count("outstanding"), groups.count("average")
    power = power_note(n_o, n_a, rule, len(codes))
    try:
        classification, classification_note = classify_groups(scores, codes, rule.primary), ""
    except AnalysisError as exc:
        classification, classification_note = None, str(exc)
    report(4, 6)
    others = list(reliability_coders) if reliability_coders else \
        [c for c in store.coders() if c not in ("consensus", "reference")]
    left_out = []
    if reliability_coders:
        others = list(reliability_coders)
    else:  # coders with a real share of the work: a stray keystroke does not make a coder
        candidates = [c for c in store.coders() if c not in ("consensus", "reference")]
        others = [c for c in candidates if len(store.decided_passages(c)) >= MIN_RELIABILITY_DECISIONS]
        left_out = [c for c in candidates if c not in others]
    reliability, rel_note = None, ""
    if len(others) >= 2:
        try:
            table = coding_table(store, others)
            reliability = reliability_report(table, codes)
            others = table.coders
        except ReliabilityError as exc:
            if reliability_coders:
                raise
            rel_note = str(exc)
    elif reliability_coders:
        raise ReliabilityError("--reliability-coders: name at least two coders")
    report(5, 6)
    dictionary = store.dictionary()
    blinding = store.blinding(coder)
    provenance = {
        "tool": f"beicoder {__version__}",
        "dictionary": f"{Path(dictionary.source).name} (sha256 {dictionary.sha256})",
        "study": f"{store.path.name} (sha256 of {coder}'s codings {codings_hash(store, coder)})",
        "coder analysed": coder,
        "coding": _blinding_text(blinding),
        "coders compared for reliability": (", ".join(others) if reliability is not None else
                                            (rel_note or "none (fewer than two coders)"))
        + (f" (left out, fewer than {MIN_RELIABILITY_DECISIONS} decided passages: {', '.join(left_out)})"
           if left_out else ""),
        "parameters": json.dumps({**asdict(rule), "normalize": normalize}, sort_keys=True),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }
    return {"scores": scores, "comparison": comparison, "length": length, "correlations": correlations,
            "count_models": models, "classification": classification, "classification_note": classification_note,
            "power": power, "reliability": reliability, "names": names, "names_en": names_en, "codes": codes,
            "interviewees": interviewees, "provenance": provenance, "rule": rule, "normalize": normalize,
            "coder": coder, "blinding": blinding, "n_outstanding": n_o, "n_average": n_a,
            "llm_models": store.accepted_llm_models(coder),
            "discovery": _discovery(store, coder) if discover else None}


def _discovery(store, coder: str):
    from .discover import discover

    return discover(store, coder)


def _ci(lo, hi, digits=2, fmt=num) -> str:
    return "–" if any(map(lambda v: v is None or (isinstance(v, float) and math.isnan(v)), (lo, hi))) \
        else f"[{fmt(lo, digits)}, {fmt(hi, digits)}]"


def _method(rep: dict) -> str:
    rule: Rule = rep["rule"]
    iv = rep["interviewees"]
    decided, total = int(iv["decided"].sum()), int(iv["passages"].sum())
    comp = rep["comparison"]
    prim = comp[comp["role"] == "primary"]
    k = int(prim["p"].notna().sum())
    n_tests = int(comp["p"].notna().sum())
    methods = [m for m in comp["mw_method"] if m]
    exact = all(m.startswith("exact") for m in methods)
    if rule.test == "welch":
        how = "p from the t distribution with Welch-Satterthwaite df"
    else:
        how = ("exact p values from all splits of the interviewees between the groups" if exact else
               "Monte-Carlo permutation p values (9,999 resamples, seed 0) where the splits exceed 100,000")
    return (
        f"The transcripts of {rep['n_outstanding']} outstanding and {rep['n_average']} average interviewees were coded "
        f"by {rep['coder']} against the competency dictionary ({decided} of {total} passages decided); coding was "
        f"{_blinding_text(rep['blinding'])}. The unit of coding is a passage. For each interviewee and competency we "
        "computed the frequency (coded passages), the rate per 1,000 units of speech (a unit is a Han character or a "
        "word of another script), the level score (sum of levels), the mean level (0 for a competency never shown), "
        "the mean level among those who show the competency, the maximum level and presence. "
        f"The primary score, fixed before the comparison, is the {SCORE_LABELS[rule.primary]}; the others are "
        f"secondary. Groups were compared with the {rule.test_name()} ({how}); Welch's t-test, the Mann-Whitney U, "
        "a permutation test of the difference in means, Cohen's d with a 95% confidence interval from the "
        "noncentral t distribution (Steiger & Fouladi 1997), Hedges' g with the exact correction J (its interval "
        "that of d times J), and the rank-biserial correlation with a Fisher-z interval (King, Rosopa & Minium "
        "2011) are reported for every score. "
        f"The group comparisons' p values are {rule.sided}; those of length control and of correlations are "
        "two-sided. "
        + (f"The Benjamini-Hochberg correction runs over the {k} competencies with a p value on the primary score "
           f"(the family that decides the verdicts); secondary scores carry q over all {n_tests} competency x score "
           "tests with a p value. "
           if rule.corrected else "Verdicts use the uncorrected p (Benjamini-Hochberg q is shown for reference). ")
        + f"Verdict rule: {rule.describe()}." + _llm_sentence(rep.get("llm_models") or []))


def _llm_sentence(models: list[dict]) -> str:
    """The method's sentence on the local LLMs whose suggestions the coder accepted ('' when none)."""
    if not models:
        return ""
    named = "; ".join(f"{m['model']} at {m['endpoints']}, {m['accepted']} codings" for m in models)
    return (f" The coder accepted suggestions of a local language model ({named}), each shown only with quotes "
            "verified in the passage.")


def markdown(rep: dict) -> str:
    """The report as Markdown (a methods-and-results section, then an appendix)."""
    rule: Rule = rep["rule"]
    comp = rep["comparison"]
    names = rep["names"]
    prim = comp[comp["role"] == "primary"]
    out = ["# BEI analysis report", "", "## Provenance", ""]
    out += [f"- {k}: {v}" for k, v in rep["provenance"].items()]
    out += ["", "## Method", "", _method(rep), ""]
    out += [f"## Outstanding vs average ({SCORE_LABELS[rule.primary]}, primary)", ""]
    rows = []
    for r in prim.to_dict("records"):
        rows.append([f"{r['code']} {names.get(r['code'], '')}".strip(),
                     f"{num(r['mean_outstanding'])} ({num(r['sd_outstanding'])})",
                     f"{num(r['mean_average'])} ({num(r['sd_average'])})",
                     f"{num(r['hedges_g'])} {_ci(r['hedges_g_low'], r['hedges_g_high'])}",
                     f"{p_value(r['p'])} ({p_value(r['q'])}{stars(r['q'])})", r["verdict"]])
    out += [_md_table(["competency", "O: M (SD)", "A: M (SD)", "g [95% CI]", "p (q)", "verdict"], rows), ""]
    unit = SCORE_UNITS[rule.primary]
    primary_label = SCORE_LABELS[rule.primary][0].upper() + SCORE_LABELS[rule.primary][1:]
    out.append(f"Table 1. {primary_label} ({unit}) by group "
               f"(O: outstanding, A: average); g: Hedges' g, 95% CI from the "
               f"noncentral t; p: {rule.test_name()}; "
               f"in brackets q: Benjamini-Hochberg over the {len(prim)} competencies "
               "(* < .05, ** < .01, *** < .001). Every statistic of every score is in the appendix.")
    out.append("")
    diff = prim[prim["verdict"] == "differentiating"]
    out.append("Differentiating competencies: " + "; ".join(f"{c} {names.get(c, '')}" for c in diff["code"]) + "."
               if len(diff) else "No competency differentiates the groups by this rule.")
    for label in ("marginal", "threshold", "reversed"):
        sub = prim[prim["verdict"] == label]
        if len(sub):
            out.append(f"{label.capitalize()}: " + "; ".join(f"{c} {names.get(c, '')}" for c in sub["code"]) + ".")
    sec = comp[(comp["role"] == "secondary") & (comp["verdict"] == "differentiating")]
    if len(sec):
        by_code = {}
        for r in sec.to_dict("records"):
            by_code.setdefault(r["code"], []).append(SCORE_LABELS[r["score"]])
        out.append("On secondary scores (exploratory, q over all tests): " + "; ".join(
            f"{c} ({', '.join(v)})" for c, v in by_code.items()) + ".")
    warns = sorted({w for w in prim["warning"] if w})
    if warns:
        out.append("Notes: " + "; ".join(warns) + ".")
    out += ["", "## Power", "", rep["power"]["sentence"], ""]
    out += ["## Length control", ""]
    lt = rep["length"].set_index("group")
    out.append(f"{SPEECH_UNIT[0].upper() + SPEECH_UNIT[1:]}: outstanding M = {num(lt.loc['outstanding', 'mean'], 0)} "
               f"(SD {num(lt.loc['outstanding', 'sd'], 0)}), average M = {num(lt.loc['average', 'mean'], 0)} "
               f"(SD {num(lt.loc['average', 'sd'], 0)}); Welch t = {num(lt.loc['welch', 't'])}, "
               f"df = {num(lt.loc['welch', 'df'], 1)}, p = {p_value(lt.loc['welch', 'p'])}; permutation test of the "
               f"difference in means ({lt.loc['permutation', 'method'].split('(')[-1].rstrip(')')}), two-sided "
               f"p = {p_value(lt.loc['permutation', 'p'])}.")
    out.append("")
    corr = rep["correlations"]
    driven = corr[corr["length_driven"]]
    pooled = corr[(corr["pearson_p"] < 0.05) | (corr["spearman_p"] < 0.05)]
    out.append(f"Correlations with speech length are computed within groups (partial Pearson r and partial Spearman "
               f"rho controlling for group, t-test on n - 3 df), since group and length can be confounded: "
               f"{len(driven)} of {len(corr)} scores correlate with length within groups at p < .05 "
               f"({len(pooled)} when the groups are pooled)"
               + (": " + ", ".join(f"{r['code']} {SCORE_LABELS[r['score']]}" for r in driven.to_dict("records"))
                  if len(driven) else "") + ".")
    out.append("")
    pc = corr[corr["score"] == rule.primary]
    out += [_md_table(["code", "partial r", "p", "partial rho", "p", "pooled r", "p"],
                      [[r["code"], signed(r["partial_r"]), p_value(r["partial_p"]), signed(r["partial_rho"]),
                        p_value(r["partial_rho_p"]), signed(r["pearson_r"]), p_value(r["pearson_p"])]
                       for r in pc.to_dict("records")]), ""]
    out.append(f"Table 2. Correlation of the {SCORE_LABELS[rule.primary]} with {SPEECH_UNIT}, "
               "within groups and pooled.")
    out.append("")
    cm = rep["count_models"]
    out.append("Sensitivity analysis: each competency's frequency modelled with group as predictor and log(speech "
               "length) as offset, by a Poisson GLM and a negative binomial (NB2) model (statsmodels; Cameron & "
               "Trivedi 2013); rate ratio outstanding / average with 95% Wald CI, "
               f"{rule.sided} Wald p, Benjamini-Hochberg q over the competencies; dispersion = Pearson chi-square / "
               "residual df for Poisson (above 1: overdispersion), the estimated alpha for the negative binomial.")
    out.append("")
    crow = []
    main = dict(zip(prim["code"], prim["verdict"]))
    differ = []
    for code in rep["codes"]:
        pr = cm[(cm["code"] == code) & (cm["model"] == "poisson")].iloc[0]
        nb = cm[(cm["code"] == code) & (cm["model"] == "negative binomial")].iloc[0]
        if "Poisson fit" in nb["note"]:
            nb_cell = "= Poisson (alpha 0)"
        elif math.isnan(nb["rate_ratio"]):
            nb_cell = f"n/e: {nb['note']}"
        else:
            nb_cell = (f"{num(nb['rate_ratio'])} {_ci(nb['ci_low'], nb['ci_high'])} ({p_value(nb['q'])})"
                       + (f"; {nb['note']}" if nb["note"] else ""))
        crow.append([code, f"{num(pr['rate_ratio'])} {_ci(pr['ci_low'], pr['ci_high'])} ({p_value(pr['q'])})"
                     if not math.isnan(pr["rate_ratio"]) else f"n/e: {pr['note']}",
                     num(pr["dispersion"]), nb_cell])
        verdicts = {v for v in (pr["verdict"], nb["verdict"]) if v != "not estimable"}
        if any(v != main.get(code) for v in verdicts):
            differ.append(f"{code} ({main.get(code)}; Poisson {pr['verdict']}, negative binomial {nb['verdict']})")
    out += [_md_table(["code", "Poisson RR [95% CI] (q)", "dispersion", "NB RR [95% CI] (q)"], crow), ""]
    disp = cm.loc[cm["model"] == "poisson", "dispersion"].dropna()
    if len(disp):
        under, over = int((disp < 1).sum()), int((disp > 1).sum())
        out.append(f"Table 3. Count models (n/e: not estimable). Poisson dispersion ranged {num(disp.min())} to "
                   f"{num(disp.max())}: {under} competencies under-dispersed (the Poisson test is then conservative), "
                   f"{over} over-dispersed (read the negative binomial model there). "
                   + ("The count models' verdicts differ from the main verdict for " + "; ".join(differ)
                      + ": there the difference is not robust to the choice of test." if differ else
                      "The count models' verdicts agree with the main verdict for every competency."))
        out.append("")
    out += ["## Does the model classify?", ""]
    cl = rep["classification"]
    if cl is None:
        out.append(f"Not computed: {rep['classification_note']}.")
    else:
        out.append(f"{cl['method']}: {cl['accuracy'] * 100:.0f}% of {cl['n']} interviewees classified correctly "
                   f"(chance {cl['chance'] * 100:.0f}%); permutation p = {p_value(cl['p'])} ({cl['p_method']})."
                   + (f" Caution: {cl['warning']}." if cl["warning"] else ""))
    out.append("")
    if rep["reliability"] is not None:
        rel = rep["reliability"]["summary"]
        out += ["## Reliability", "", f"Coders compared: {rep['provenance']['coders compared for reliability']}. "
                "CA, kappa and percent agreement use the passages every coder decided; Krippendorff's alpha every "
                "passage decided by two coders or more (missing data allowed). The level alphas' units are the "
                "(passage, competency) cells that at least one coder coded: *with absent = 0* a coder who decided "
                "the passage without the competency gives level 0, so it measures presence and intensity together "
                "(where a scale has a real level 0, that level and absence are the same value here); *where coded* "
                "compares levels only where both coded (intensity).", ""]
        out += [_md_table(["measure", "value", "units", "flag"],
                          [[r["measure"], num(r["value"], 3), str(r["units"]), r["flag"]]
                           for r in rel.to_dict("records")]),
                ""]
        pcode = rep["reliability"]["per_code"]
        out += [_md_table(["code", "CA", "kappa", "alpha (presence)", "flag"],
                          [[r["code"], num(r["ca"], 3), num(r["kappa"], 3), num(r["alpha_presence"], 3), r["flag"]]
                           for r in pcode.to_dict("records")]), ""]
    out += ["![Outstanding vs average](comparison.png)", ""]
    if rep.get("discovery") is not None:
        out += [discovery_markdown(rep["discovery"]), ""]
    out += _appendix(rep)
    return "\n".join(out)


def discovery_markdown(result, top: int = 10) -> str:
    """The report's section on what the dictionary does not cover, from a
    :class:`~beicoder.core.discover.Discovery`: the method paragraph (terms, prior, permutation
    over interviewees, correction; the themes' clustering, number and tests), the ``top``
    distinctive terms of each group with one passage in context each, and the candidate
    themes with their interviewee-level comparisons and example passages."""
    out = ["## Beyond the dictionary: distinctive terms and candidate themes", "",
           result.method["terms"], "", result.method["themes"], ""]
    for n, group in enumerate(("outstanding", "average"), start=1):
        terms = result.top_terms(group, top)
        if not terms:
            out += [f"No tested term favours the {group} group.", ""]
            continue
        rows = []
        for t in terms:
            e = t.examples[0] if t.examples else None
            context = f"{e.interviewee}: {e.text[:e.start]}**{e.text[e.start:e.end]}**{e.text[e.end:]}" if e else ""
            rows.append([t.term, num(t.z), p_value(t.p), p_value(t.q) + stars(t.q),
                         f"{t.interviewees_outstanding}/{t.interviewees_average}",
                         f"{t.count_outstanding}/{t.count_average}", context])
        out += [_md_table(["term", "z", "p", "q", "interviewees O/A", "count O/A", "in context"], rows), ""]
        out += [f"Table D{n}. Terms favouring the {group} group, smallest permutation p first (then largest |z|); "
                "z: weighted log-odds with an informative Dirichlet prior; p: two-sided permutation over interviewees "
                f"({result.method['terms_p']}); q: Benjamini-Hochberg over the {len(result.terms)} tested terms.", ""]
    if result.themes:
        rows = [[str(t.number), " ".join(t.top_terms[:8]), str(len(t.passages)),
                 f"{t.speakers_outstanding}/{result.n_outstanding}, {t.speakers_average}/{result.n_average}",
                 f"{p_value(t.p)} ({p_value(t.q)}{stars(t.q)})",
                 f"{t.passage_share_outstanding * 100:.0f}%, {t.passage_share_average * 100:.0f}%",
                 f"{p_value(t.p_share)} ({p_value(t.q_share)}{stars(t.q_share)})"] for t in result.themes]
        out += [_md_table(["theme", "top terms", "passages", "speak of it (O, A)", "p (q)", "passage share (O, A)",
                           "p (q)"], rows), ""]
        out += [f"Table D3. Candidate themes in the passages no code covers ({result.method['coder']}): interviewees "
                "of each group with a passage in the theme, and the mean share of an interviewee's uncoded passages "
                f"in it, each with a two-sided permutation p over interviewees ({result.method['themes_p']}) and "
                "Benjamini-Hochberg q over the themes. Example passages:", ""]
        for t in result.themes:
            out.append(f"- Theme {t.number} ({' '.join(t.top_terms[:5])}):")
            for e in t.examples:
                text = " ".join(e.text.split())
                out.append(f"    - {e.interviewee} ({e.group}): {text[:120] + ('…' if len(text) > 120 else '')}")
        out.append("")
    out.append("Terms and themes are candidates for the researcher to read, not findings: a theme becomes a code only "
               "after it is defined, coded and validated on a further sample (Boyatzis 1998).")
    return "\n".join(out)


def _appendix(rep: dict) -> list[str]:
    comp = rep["comparison"].to_dict("records")
    corr = rep["correlations"].to_dict("records")
    rule: Rule = rep["rule"]

    def both(r, a, b):
        return f"{num(r[a])} ({num(r[b])})"

    def interval(r, value, stem, fmt=num):
        return f"{fmt(r[value])} {_ci(r[stem + '_low'], r[stem + '_high'])}"

    def with_p(r, value, p):
        return f"{signed(r[value])} ({p_value(r[p])})"

    tables = [
        ("A1. Descriptive statistics per score (n: interviewees with a value; for the mean level among those who "
         "show the code, n is the number who show it).", comp,
         ["n (O/A)", "outstanding M (SD)", "average M (SD)", "shown (O/A)"],
         lambda r: [f"{r['n_outstanding']}/{r['n_average']}", both(r, "mean_outstanding", "sd_outstanding"),
                    both(r, "mean_average", "sd_average"),
                    f"{num(r['presence_outstanding'])}/{num(r['presence_average'])}"]),
        (f"A2. Parametric and rank tests ({rule.sided}): Welch's t with its df and p; the Mann-Whitney U of the "
         "outstanding group with its permutation p.", comp, ["Welch t (df)", "p", "U", "p(U)"],
         lambda r: [f"{num(r['welch_t'])} ({num(r['welch_df'], 1)})", p_value(r["welch_p"]), num(r["mw_u"], 1),
                    p_value(r["mw_p"])]),
        (f"A3. The permutation test of the difference in means (difference, p); then the verdict test's p "
         f"({rule.test_name()}) with its q by family (the primary score, {SCORE_LABELS[rule.primary]}, first: q "
         "over its codes; the secondary scores: q over every test), and the verdict.", comp,
         ["difference", "p", "verdict p", "q", "verdict"],
         lambda r: [num(r["perm_diff"]), p_value(r["perm_p"]), p_value(r["p"]), p_value(r["q"]) + stars(r["q"]),
                    r["verdict"]]),
        ("A4. Effect sizes with 95% CIs: Cohen's d (noncentral t), Hedges' g (d's interval times J), rank-biserial "
         "r (Fisher z; undefined at complete separation).", comp, ["d [95% CI]", "g [95% CI]", "r_rb [95% CI]"],
         lambda r: [interval(r, "cohens_d", "cohens_d"), interval(r, "hedges_g", "hedges_g"),
                    f"{signed(r['rank_biserial'])} "
                    f"{_ci(r['rank_biserial_low'], r['rank_biserial_high'], fmt=signed)}"]),
        (f"A5. Correlation of every score with {SPEECH_UNIT}: pooled and within groups (partial), p in brackets.",
         corr, ["r (p)", "rho (p)", "partial r (p)", "partial rho (p)"],
         lambda r: [with_p(r, "pearson_r", "pearson_p"), with_p(r, "spearman_rho", "spearman_p"),
                    with_p(r, "partial_r", "partial_p"), with_p(r, "partial_rho", "partial_rho_p")]),
    ]
    out = ["## Appendix: every statistic", ""]
    for caption, records, headers, cells in tables:
        out += [caption, "", _md_table(["code", "score", *headers],
                                       [[r["code"], SCORE_LABELS[r["score"]], *cells(r)] for r in records]), ""]
    return out


def cjk_font():
    """The name of an installed font that draws Chinese (for the chart's labels), Simplified
    Chinese forms preferred, or None."""
    from matplotlib import font_manager

    keys = ("CJK", "Han Sans", "Han Serif", "WenQuanYi", "Heiti", "SimHei", "Noto Sans SC", "PingFang",
            "Microsoft YaHei", "Droid Sans Fallback", "AR PL")
    found = sorted({e.name for e in font_manager.fontManager.ttflist if any(k in e.name for k in keys)})
    for wanted in (" SC", " CN", "TC", ""):
        for name in found:
            if wanted in name:
                return name
    return None


def _figure(rep: dict):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    from scipy import stats

    rule: Rule = rep["rule"]
    scores = rep["scores"].copy()
    scores["group"] = [normalize_group(g) for g in scores["group"]]
    comp = rep["comparison"]
    panels = [rule.primary] + [s for s in ("max_level",) if s != rule.primary]
    font = cjk_font()
    codes = rep["codes"]
    import textwrap

    labels = [f"{c}\n" + (rep["names"][c] if font else textwrap.fill(rep["names_en"][c], 13)) for c in codes]
    with plt.rc_context({"font.family": [font, "DejaVu Sans"]} if font else {}):
        fig, axes = plt.subplots(len(panels), 1, figsize=(11, 3.3 * len(panels)), squeeze=False)
        xs = np.arange(len(codes))
        for ax, score in zip(axes[:, 0], panels):
            for k, (group, colour) in enumerate((("outstanding", "#1f77b4"), ("average", "#ff7f0e"))):
                means, lows, highs = [], [], []
                for code in codes:
                    v = scores.loc[(scores["code"] == code) & (scores["group"] == group), score].dropna().astype(float)
                    m = v.mean() if len(v) else np.nan
                    h = stats.t.ppf(0.975, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v)) if len(v) > 1 else 0.0
                    h = 0.0 if np.isnan(h) else h
                    means.append(m)
                    lows.append(min(h, m) if not np.isnan(m) else 0.0)  # scores are never negative
                    highs.append(h)
                ax.bar(xs + (k - 0.5) * 0.38, means, 0.38, yerr=[lows, highs], capsize=3, label=group, color=colour)
            top = ax.get_ylim()[1] * 1.18
            ax.set_ylim(top=top)
            for i, code in enumerate(codes):
                row = comp[(comp["code"] == code) & (comp["score"] == score)]
                mark = stars(row.iloc[0]["q"]) if len(row) else ""
                if mark:
                    ax.text(i, top * 0.93, mark, ha="center", va="center", fontsize=13, fontweight="bold")
            ax.set_xticks(xs, labels, fontsize=8)
            role = "primary" if score == rule.primary else "secondary"
            ax.set_ylabel(f"{SCORE_LABELS[score]} ({role})")
            ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)
        axes[0, 0].set_title("Mean score per competency, outstanding vs average (95% CI, cut at 0); "
                             "q: * < .05, ** < .01, *** < .001", fontsize=10)
        if not font:
            fig.text(0.01, 0.005,
                     "No CJK font found on this machine: English names shown (install e.g. fonts-noto-cjk).",
                     fontsize=7, color="#555555")
        fig.tight_layout()
    return fig


def _deterministic_xlsx(data: bytes) -> bytes:
    """Rewrite an xlsx (a zip) with fixed entry times and document dates."""
    src = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in sorted(src.infolist(), key=lambda i: i.filename):
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                import re

                body = re.sub(rb"<dcterms:(created|modified)([^>]*)>[^<]*</dcterms:\1>",
                              rb"<dcterms:\1\2>2000-01-01T00:00:00Z</dcterms:\1>", body)
            zi = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME)
            zi.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(zi, body)
    return buf.getvalue()


def write_report(rep: dict, out_dir: str | Path) -> list[Path]:
    """Write report.md, report.xlsx, comparison.png and comparison.svg into ``out_dir``
    (created when missing). Returns the paths written.

    Raises:
        OutputError: the folder cannot be written.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd

    from .export import OutputError, write_atomically, xlsx_bytes

    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{out}: cannot create the folder ({exc.strerror})") from None
    written = [write_atomically(out / "report.md", markdown(rep).encode("utf-8"))]
    power = pd.DataFrame([{k: v for k, v in rep["power"].items()}])
    sheets = {"provenance": pd.DataFrame(list(rep["provenance"].items()), columns=["item", "value"]),
              "scores": rep["scores"], "comparison": rep["comparison"], "length": rep["length"],
              "length_correlations": rep["correlations"], "count_models": rep["count_models"], "power": power}
    if rep["classification"] is not None:
        sheets["classification"] = pd.DataFrame([rep["classification"]])
    if rep["reliability"] is not None:
        sheets["reliability"] = rep["reliability"]["summary"]
        sheets["reliability_per_code"] = rep["reliability"]["per_code"]
    if rep.get("discovery") is not None:
        from .discover import terms_frame, themes_frame

        sheets["discover_terms"] = terms_frame(rep["discovery"])
        sheets["discover_themes"] = themes_frame(rep["discovery"])
    written.append(write_atomically(out / "report.xlsx", _deterministic_xlsx(xlsx_bytes(sheets))))
    fig = _figure(rep)
    plt.rcParams["svg.hashsalt"] = "beicoder"
    png, svg = out / "comparison.png", out / "comparison.svg"
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=120, metadata={"Software": None})
    write_atomically(png, buf.getvalue())
    buf = io.BytesIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    write_atomically(svg, buf.getvalue())
    plt.close(fig)
    written += [png, svg]
    return written
