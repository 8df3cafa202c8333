"""What the local-LLM suggester keeps in the study: its suggestions (with the endpoint host, the
prompt hash and the model's reason), the reply cache, each passage's last request, and the
hosts already told what is sent to them (see :mod:`beicoder.core.suggest.llm`)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

from .base import StoreBase, normalize_coder, now


class LlmMixin(StoreBase):
    """The LLM suggester's rows: ``suggestions`` under source ``llm:<model>``, ``llm_runs`` (one
    per passage and source: ok or failed), ``llm_cache`` and ``llm_hosts``."""

    # -- the reply cache ------------------------------------------------------------------------
    def llm_cached(self, key: str) -> dict | None:
        """The cached reply under ``key`` (see ``llm.cache_key``) as a dict with reply (the
        model's JSON text), prompt_sha256 and endpoint, or None."""
        rows = self._all("SELECT reply, prompt_sha256, endpoint FROM llm_cache WHERE key = ?", [key])
        return rows[0] if rows else None

    def put_llm_cache(self, key: str, model: str, prompt_version: str, dictionary_sha256: str, passage_text: str,
                      reply: str, prompt_sha256: str, endpoint: str) -> None:
        """Keep a well-formed reply of ``model`` for ``passage_text`` under ``key`` (replacing an
        older one). One transaction."""
        digest = hashlib.sha256(passage_text.encode("utf-8")).hexdigest()
        with self.write():
            self._run(
                """INSERT OR REPLACE INTO llm_cache(key, model, prompt_version, dictionary_sha256, passage_sha256,
                   reply, prompt_sha256, endpoint, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                [key, model, prompt_version, dictionary_sha256, digest, reply, prompt_sha256, endpoint, now()])

    # -- hosts told what is sent --------------------------------------------------------------------
    def llm_host_known(self, host: str) -> bool:
        """True when this study has already sent passages to ``host`` (``name:port``)."""
        return self._one("SELECT 1 FROM llm_hosts WHERE host = ?", [host]) is not None

    def record_llm_host(self, host: str, url: str) -> None:
        """Remember that the study sends passages to ``host`` (at ``url``); a host already known
        keeps its first date."""
        with self.write():
            self._run("INSERT OR IGNORE INTO llm_hosts(host, url, first_used_at) VALUES (?, ?, ?)", [host, url, now()])

    # -- results per passage ------------------------------------------------------------------------
    def store_llm_result(self, source: str, passage_id: int, dictionary_sha256: str, status: str,
                         rows: Sequence[dict] = (), endpoint: str = "", prompt_sha256: str = "", cached: bool = False,
                         attempts: int = 0, dropped: dict | None = None, error: str = "") -> None:
        """Record what the LLM ``source`` (``llm:<model>``) made of one passage, in one transaction.

        ``status`` "ok": the passage's suggestions of ``source`` become ``rows`` (dicts with code,
        score, level, evidence (list of span dicts, stored as JSON) and reason), each stored with
        ``endpoint`` and ``prompt_sha256``, and the passage counts as suggested with this
        dictionary version. "failed": its old suggestions of ``source`` (from another dictionary
        version, since it needed suggesting) are deleted and it stays unsuggested, so a rerun
        asks again. Either way its ``llm_runs`` row says so, with the ``attempts`` made, the
        counts ``dropped`` by verification and the ``error``."""
        if status not in ("ok", "failed"):
            raise ValueError(f"status must be 'ok' or 'failed', not {status!r}")
        stamp = now()
        with self.write():
            self._run("DELETE FROM suggestions WHERE source = ? AND passage_id = ?", [source, passage_id])
            if status == "ok":
                self._run_many(
                    """INSERT INTO suggestions(passage_id, code, score, evidence, source, created_at, level, level_cue,
                       endpoint, prompt_sha256, reason) VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?)""",
                    [(passage_id, r["code"], float(r["score"]), json.dumps(r["evidence"], ensure_ascii=False), source,
                      stamp, r.get("level"), endpoint, prompt_sha256, r.get("reason") or None) for r in rows])
                self._run("INSERT OR REPLACE INTO suggested(passage_id, source, dictionary_sha256, at) "
                          "VALUES (?, ?, ?, ?)", [passage_id, source, dictionary_sha256, stamp])
            else:
                self._run("DELETE FROM suggested WHERE source = ? AND passage_id = ?", [source, passage_id])
            self._run(
                """INSERT OR REPLACE INTO llm_runs(passage_id, source, status, endpoint, prompt_sha256, cached,
                   attempts, dropped, error, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                [passage_id, source, status, endpoint, prompt_sha256, int(bool(cached)), attempts,
                 json.dumps(dropped or {}, sort_keys=True), error or None, stamp])

    def llm_suggestions_for(self, passage_id: int, source: str) -> list[dict]:
        """The passage's suggestions from ``source``, best first: dicts with code, score, level,
        evidence (span dicts relative to the passage), reason, endpoint and prompt_sha256."""
        rows = self._all(
            """SELECT s.code, s.score, s.level, s.evidence, s.reason, s.endpoint, s.prompt_sha256 FROM suggestions s
               JOIN codes c ON c.code = s.code WHERE s.passage_id = ? AND s.source = ?
               ORDER BY s.score DESC, c.position""", [passage_id, source])
        for r in rows:
            r["evidence"] = json.loads(r["evidence"])
        return rows

    def llm_run_for(self, passage_id: int, source: str) -> dict | None:
        """The last request of ``source`` for the passage: dict with status, endpoint,
        prompt_sha256, cached, attempts, dropped (dict), error, at; None when never asked."""
        rows = self._all("SELECT status, endpoint, prompt_sha256, cached, attempts, dropped, error, at FROM llm_runs "
                         "WHERE passage_id = ? AND source = ?", [passage_id, source])
        if not rows:
            return None
        rows[0]["dropped"] = json.loads(rows[0]["dropped"] or "{}")
        return rows[0]

    def llm_run_counts(self, source: str) -> dict[str, int]:
        """Passages per status ("ok", "failed") of ``source``'s last requests."""
        return {r["status"]: r["n"] for r in self._all(
            "SELECT status, count(*) AS n FROM llm_runs WHERE source = ? GROUP BY status", [source])}

    # -- provenance for the report ------------------------------------------------------------------
    def accepted_llm_models(self, coder: str) -> list[dict]:
        """The LLM sources whose suggestions ``coder`` accepted: codings made by accepting
        suggestions (origin ``suggestion``) of a code that source suggested on that passage.
        Dicts with source (``llm:<model>``), model, endpoints (the hosts, comma-separated) and
        accepted (number of such codings), most accepted first."""
        rows = self._all(
            """SELECT s.source, group_concat(DISTINCT s.endpoint) AS endpoints, count(*) AS accepted
               FROM codings c JOIN suggestions s ON s.passage_id = c.passage_id AND s.code = c.code
               WHERE c.coder = ? AND c.origin = 'suggestion' AND s.source LIKE 'llm:%'
               GROUP BY s.source ORDER BY accepted DESC, s.source""", [normalize_coder(coder)])
        for r in rows:
            r["model"] = r["source"][len("llm:"):]
            r["endpoints"] = r["endpoints"] or ""
        return rows
