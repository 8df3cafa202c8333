"""The report a thesis chapter needs, rerun after every coding session (``beicoder report``).

Writes into a folder:

- ``report.md``: provenance, a method paragraph stating the rule, the tests and the
  correction, tables of scores and of the comparison, length control, and reliability when
  several coders coded;
- ``report.xlsx``: one sheet per table (pandas + openpyxl);
- ``comparison.png`` and ``comparison.svg``: mean score per code for each group with 95%
  confidence intervals (t distribution), differentiating codes marked with an asterisk.

Same inputs give byte-identical files apart from the date line of the provenance: figures
carry no creation date, and the workbook's timestamps are fixed.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path

from .analysis import SCORE_LABELS, SCORES, Rule, compare_groups, compute_scores, length_control, study_frames
from .fmt import num, p_value

FIXED_TIME = (2000, 1, 1, 0, 0, 0)


def codings_hash(store, coder: str) -> str:
    """sha256 of the coder's decisions in a canonical form (interviewee, transcript hash,
    passage ordinal, code, level; "no code" marks included), independent of row order and
    edit times."""
    from .store import normalize_coder

    coder = normalize_coder(coder)
    rows = store.decision_rows(coder)
    canon = sorted(json.dumps([r["interviewee"], r["sha256"], r["ordinal"], r["code"], r["level"]]) for r in rows)
    return hashlib.sha256("\n".join(canon).encode("utf-8")).hexdigest()


def _md_table(headers: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(c).replace("|", "/") for c in r) + " |" for r in rows]
    return "\n".join(lines)


def build_report(store, coder: str, rule: Rule = Rule(), normalize: bool = False) -> dict:
    """Compute everything the report shows. Returns a dict with frames (scores,
    comparison, length, correlations, reliability or None), names, counts and provenance."""
    from . import __name__ as _  # noqa: F401
    from .. import __version__
    from .reliability import ReliabilityError, coding_table, reliability_report

    codings, interviewees, codes = study_frames(store, coder)
    names = {c["code"]: c["name_zh"] or c["name_en"] for c in store.codes()}
    scores = compute_scores(codings, interviewees, codes)
    score_names = tuple(s for s in SCORES if s != "frequency") if normalize else SCORES
    comparison = compare_groups(scores, codes, rule, score_names)
    length, correlations = length_control(scores, interviewees)
    others = [c for c in store.coders() if c != "consensus"]
    reliability = None
    if len(others) >= 2:
        try:
            reliability = reliability_report(coding_table(store, others), codes)
        except ReliabilityError:
            reliability = None
    dictionary = store.dictionary()
    provenance = {
        "tool": f"beicoder {__version__}",
        "dictionary": f"{Path(dictionary.source).name} (sha256 {dictionary.sha256[:16]}…)",
        "study": f"{store.path.name} (sha256 of {coder}'s codings {codings_hash(store, coder)[:16]}…)",
        "coder": coder,
        "parameters": json.dumps({**asdict(rule), "normalize": normalize}, sort_keys=True),
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }
    return {"scores": scores, "comparison": comparison, "length": length, "correlations": correlations,
            "reliability": reliability, "names": names, "codes": codes, "interviewees": interviewees,
            "provenance": provenance, "rule": rule, "normalize": normalize, "coder": coder}


def markdown(rep: dict) -> str:
    """The report as Markdown (a methods-and-results section)."""
    iv = rep["interviewees"]
    from .analysis import normalize_group

    groups = [normalize_group(g) for g in iv["group"]]
    n_o, n_a = groups.count("outstanding"), groups.count("average")
    rule: Rule = rep["rule"]
    comp = rep["comparison"]
    names = rep["names"]
    prov = rep["provenance"]
    out = ["# BEI analysis report", "", "## Provenance", ""]
    out += [f"- {k}: {v}" for k, v in prov.items()]
    decided, total = int(iv["decided"].sum()), int(iv["passages"].sum())
    freq_word = "rate per 1,000 characters of the interviewee's speech" if rep["normalize"] else "frequency (coded passages)"
    out += ["", "## Method", "",
            f"The transcripts of {n_o} outstanding and {n_a} average interviewees were coded by {rep['coder']} "
            f"against the competency dictionary ({decided} of {total} passages decided). The unit of coding is a passage; "
            f"for each interviewee and competency we computed the {freq_word}, the mean level and the maximum level "
            "(a competency never shown scores 0)" + ("" if rep["normalize"] else ", and the rate per 1,000 characters") + ". "
            "Groups were compared with Welch's t-test (Student's t reported alongside), the Mann-Whitney U test, "
            "Cohen's d and Hedges' g with 95% confidence intervals (large-sample standard error, Hedges & Olkin 1985) "
            "and the rank-biserial correlation; "
            + ("p values of Welch's test were adjusted across the competencies of each score with the "
               "Benjamini-Hochberg procedure. " if rule.corrected else
               "verdicts use Welch's p without correction for multiple tests (Benjamini-Hochberg q is shown for "
               "reference). ")
            + f"Verdict rule: {rule.describe()}.", ""]
    out += ["## Scores (group means)", ""]
    rows = []
    for code in rep["codes"]:
        sub = comp[comp["code"] == code].set_index("score")
        rows.append([code, names.get(code, "")] + [f"{num(sub.loc[s, 'mean_outstanding'])} / {num(sub.loc[s, 'mean_average'])}"
                                                   for s in sub.index])
    out += [_md_table(["code", "competency"] + [f"{SCORE_LABELS[s]} (O / A)" for s in comp["score"].unique()], rows), ""]
    out += ["## Outstanding vs average", ""]
    rows = []
    for r in comp.to_dict("records"):
        rows.append([r["code"], SCORE_LABELS[r["score"]], f"{num(r['mean_outstanding'])} ({num(r['sd_outstanding'])})",
                     f"{num(r['mean_average'])} ({num(r['sd_average'])})",
                     f"{num(r['welch_t'])} ({num(r['welch_df'], 1)})", p_value(r["welch_p"]), num(r["student_t"]),
                     num(r["mw_u"], 1), p_value(r["mw_p"]),
                     f"{num(r['hedges_g'])} [{num(r['hedges_g_low'])}, {num(r['hedges_g_high'])}]",
                     num(r["rank_biserial"]), p_value(r["q_bh"]), r["verdict"]])
    out += [_md_table(["code", "score", "outstanding M (SD)", "average M (SD)", "Welch t (df)", "p", "Student t", "U",
                       "p(U)", "Hedges g [95% CI]", "r_rb", "q (BH)", "verdict"], rows), ""]
    diff = comp[comp["verdict"] == "differentiating"]
    if len(diff):
        parts = [f"{c} {names.get(c, '')} (on {', '.join(SCORE_LABELS[s] for s in diff.loc[diff['code'] == c, 'score'])})"
                 for c in dict.fromkeys(diff["code"])]
        out.append("Differentiating competencies: " + "; ".join(parts) + ".")
    else:
        out.append("No competency differentiates the groups by this rule.")
    marg = comp[comp["verdict"] == "marginal"]
    if len(marg):
        out.append("Marginal: " + "; ".join(f"{r['code']} ({SCORE_LABELS[r['score']]})" for r in marg.to_dict("records")) + ".")
    warns = sorted(set(w for w in comp["warning"] if w))
    if warns:
        out.append("Warnings: " + "; ".join(warns) + ".")
    out += ["", "## Length control", ""]
    lt = rep["length"].set_index("group")
    out.append(f"Interviewee speech (Han characters): outstanding M = {num(lt.loc['outstanding', 'mean'], 0)} "
               f"(SD {num(lt.loc['outstanding', 'sd'], 0)}), average M = {num(lt.loc['average', 'mean'], 0)} "
               f"(SD {num(lt.loc['average', 'sd'], 0)}); Welch t = {num(lt.loc['welch', 't'])}, "
               f"df = {num(lt.loc['welch', 'df'], 1)}, p = {p_value(lt.loc['welch', 'p'])}.")
    out.append("")
    corr = rep["correlations"]
    rows = [[r["code"], SCORE_LABELS[r["score"]], num(r["pearson_r"]), p_value(r["pearson_p"]), num(r["spearman_rho"]),
             p_value(r["spearman_p"]), r["advice"] or ("" if not r["length_driven"] else "length-driven")]
            for r in corr.to_dict("records")]
    out += [_md_table(["code", "score", "Pearson r", "p", "Spearman ρ", "p", "note"], rows), ""]
    driven = corr[corr["length_driven"]]
    out.append(f"{len(driven)} of {len(corr)} scores correlate with length at p < .05"
               + (": " + ", ".join(f"{r['code']} {SCORE_LABELS[r['score']]}" for r in driven.to_dict("records")) if len(driven) else "")
               + ".")
    if rep["reliability"] is not None:
        rel = rep["reliability"]["summary"]
        out += ["", "## Reliability", ""]
        out += [_md_table(["measure", "value", "units", "flag"],
                          [[r["measure"], num(r["value"], 3), str(r["units"]), r["flag"]] for r in rel.to_dict("records")]), ""]
    out += ["", "![Outstanding vs average](comparison.png)", ""]
    return "\n".join(out)


def _figure(rep: dict):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    from scipy import stats

    from .analysis import normalize_group

    scores = rep["scores"].copy()
    scores["group"] = [normalize_group(g) for g in scores["group"]]
    comp = rep["comparison"]
    names = list(dict.fromkeys(comp["score"]))
    fig, axes = plt.subplots(len(names), 1, figsize=(10, 2.6 * len(names)), squeeze=False)
    codes = rep["codes"]
    xs = np.arange(len(codes))
    for ax, score in zip(axes[:, 0], names):
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
        top = ax.get_ylim()[1] * 1.15
        ax.set_ylim(top=top)
        for i, code in enumerate(codes):
            row = comp[(comp["code"] == code) & (comp["score"] == score)]
            if len(row) and row.iloc[0]["verdict"] == "differentiating":
                ax.text(i, top * 0.94, "*", ha="center", va="center", fontsize=16, fontweight="bold")
        ax.set_xticks(xs, codes)
        ax.set_ylabel(SCORE_LABELS[score])
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)
    axes[0, 0].set_title("Mean score per competency, outstanding vs average (95% CI, cut at 0; * differentiating)")
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

    from .export import OutputError, neutralize

    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{out}: cannot create the folder ({exc.strerror})") from None
    written = []
    md = out / "report.md"
    md.write_text(markdown(rep), encoding="utf-8")
    written.append(md)
    sheets = {"provenance": pd.DataFrame(list(rep["provenance"].items()), columns=["item", "value"]),
              "scores": rep["scores"], "comparison": rep["comparison"], "length": rep["length"],
              "length_correlations": rep["correlations"]}
    if rep["reliability"] is not None:
        sheets["reliability"] = rep["reliability"]["summary"]
        sheets["reliability_per_code"] = rep["reliability"]["per_code"]
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            safe = frame.copy()
            for col in safe.columns:
                if safe[col].dtype == object:
                    safe[col] = safe[col].map(neutralize)
            safe.to_excel(writer, sheet_name=name[:31], index=False)
    xlsx = out / "report.xlsx"
    xlsx.write_bytes(_deterministic_xlsx(buf.getvalue()))
    written.append(xlsx)
    fig = _figure(rep)
    plt.rcParams["svg.hashsalt"] = "beicoder"
    png, svg = out / "comparison.png", out / "comparison.svg"
    fig.savefig(png, dpi=120, metadata={"Software": None})
    fig.savefig(svg, metadata={"Date": None, "Creator": None})
    plt.close(fig)
    written += [png, svg]
    return written
