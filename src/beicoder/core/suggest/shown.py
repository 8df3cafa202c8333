"""What the coding screen shows of a passage's suggestions: the blend (see
:func:`~beicoder.core.suggest.learned.blended_suggestions`) and, once the coder has a model,
the keyword matches the model scored too low to suggest, kept as evidence.

After retraining, the blend drops a code whose keyword matched but which the coder's model
scores low (``0.3 * 0.55 + 0.7 * 0.11 < 0.2``). The keyword is still in the passage and the
coder should still see it: :func:`shown_suggestions` keeps such matches, marked ``muted``,
with the model's score, so the screen can show them dimmed (``[lexicon; model 0.11]``). A
muted match is evidence, not a suggestion: accepting the suggestions leaves it out, and so
does the "suggested" filter of :mod:`beicoder.core.retrieval`.
"""

from __future__ import annotations


def shown_suggestions(rows: list[dict], coder: str, has_model: bool, length: int | None = None,
                      blend_threshold: float | None = None, model_threshold: float | None = None) -> list[dict]:
    """The suggestions of a passage as the coder sees them: the dicts of
    :func:`~beicoder.core.suggest.learned.blended_suggestions` (each with ``muted`` False),
    then, when ``has_model``, one dict per lexicon code the blend left out, in the same form
    with ``muted`` True, its blended ``score``, ``model_score`` and the lexicon's evidence.
    ``rows``: the passage's stored suggestion rows (``Store.suggestions_for``); ``length``:
    the passage's characters; ``blend_threshold`` and ``model_threshold``: the coder's model's
    own (see :class:`~beicoder.core.suggest.learned.ModelInfo`), as in ``blended_suggestions``."""
    from .learned import blend, blended_suggestions, model_source

    shown = [{**s, "muted": False} for s in blended_suggestions(rows, coder, has_model, length,
                                                                   blend_threshold, model_threshold)]
    if not has_model:
        return shown
    present = {s["code"] for s in shown}
    model = {r["code"]: r["score"] for r in rows if r["source"] == model_source(coder)}
    muted = []
    for r in rows:
        if r["source"] != "lexicon" or r["code"] in present or r["score"] <= 0:
            continue
        ms = model.get(r["code"], 0.0)
        score = blend({r["code"]: r["score"]}, {r["code"]: ms}, length=length)[r["code"]]
        muted.append({"code": r["code"], "score": score,
                      "sources": ["lexicon"], "lexicon_score": r["score"], "model_score": ms, "level": r.get("level"),
                      "level_cue": r.get("level_cue"), "evidence": r.get("evidence") or [], "model_evidence": [],
                      "muted": True})
    muted.sort(key=lambda s: -s["score"])
    return shown + muted
