"""The local LLM as a third source of suggestions on the coding screen, beside the lexicon and
the coder's model: a mixin of :class:`~beicoder.tui.screens.coding.CodingScreen`.

With an ``[llm]`` table in the config file (see :func:`beicoder.core.suggest.llm.config_path`)
a thread worker asks the model about every passage it has not coded yet, those of the open
transcript first, and posts the messages of :mod:`beicoder.tui.messages` (LlmNotice,
LlmProgress, LlmReady, LlmFailed); only their handlers touch the screen. Coding goes on
meanwhile; closing the app stops the worker (requests in flight are abandoned). Without a
config nothing here runs and the screen is as before. How its suggestions join the others:
:data:`beicoder.core.suggest.llm.BLEND_RULE`.
"""

from __future__ import annotations

from textual import work
from textual.worker import get_current_worker

from ...core.store import Store
from ..messages import LlmFailed, LlmNotice, LlmProgress, LlmReady


class LlmSource:
    """What the coding screen gains: ``llm_config`` (None: no LLM configured), ``llm_state``
    (for the title line), :meth:`start_llm` and :meth:`with_llm_suggestions`. The screen
    provides db_path, coder, dictionary, store, passage, notify and refresh_passage."""

    llm_config = None
    llm_state = ""

    def start_llm(self, first: set[int]) -> None:
        """Read the config file and, when it names an endpoint, start the LLM worker on the
        passages not coded by it yet (``first`` first). A broken config is reported once;
        coding goes on without the LLM."""
        from ...core.suggest.llm import BLEND_RULE, LlmError, load_config

        try:
            config = load_config()
        except LlmError as exc:
            self.notify(f"local LLM not used: {exc}", severity="warning", timeout=10)
            return
        if config is None:
            return
        self.llm_config = config
        self.llm_state = f"{config.source}: starting…"
        self.notify(f"{config.source} suggests in the background; {BLEND_RULE}", timeout=8)
        self.llm_suggest(first)

    @work(thread=True, exclusive=True, group="llm", exit_on_error=False)
    def llm_suggest(self, first: set[int]) -> None:
        """Ask the configured model about every passage it has not coded with this dictionary
        version (failed ones again), with its own database connection; posts LlmNotice before
        the first request to a new host, LlmProgress after each passage, then LlmReady or
        LlmFailed. Stops between replies when the worker is cancelled (the app closing)."""
        from ...core.suggest.llm import suggest_study_llm

        worker = get_current_worker()
        store = Store(self.db_path, create=False)
        try:
            run = suggest_study_llm(
                store, self.llm_config, self.coder, first=first,
                progress=lambda done, total, r: self.post_message(LlmProgress(done, total, r.failed, r.last)),
                should_stop=lambda: worker.is_cancelled,
                notice=lambda text: self.post_message(LlmNotice(text)))
        except Exception as exc:  # noqa: BLE001 - the LLM is optional: report, keep coding
            if not worker.is_cancelled:
                self.post_message(LlmFailed(str(exc)))
            return
        finally:
            store.close()
        if not worker.is_cancelled:
            self.post_message(LlmReady(run.summary(), run.failed))

    def with_llm_suggestions(self, shown: list[dict], passage_id: int) -> list[dict]:
        """``shown`` (the lexicon's and model's suggestions of the passage) with the LLM's
        added by BLEND_RULE; unchanged without an LLM configured."""
        if self.llm_config is None:
            return shown
        from ...core.suggest.llm import with_llm

        source = self.llm_config.source
        if not self.store.has_suggestions_from(passage_id, source, self.dictionary.sha256):
            return shown
        return with_llm(shown, self.store.llm_suggestions_for(passage_id, source), source)

    def on_llm_notice(self, message: LlmNotice) -> None:
        """The first request to a host: say what is sent and where."""
        self.notify(message.text, title="local LLM", timeout=20)

    def on_llm_progress(self, message: LlmProgress) -> None:
        """Show how far the LLM is; redraw when the passage on screen was just coded."""
        failed = f", {message.failed} failed" if message.failed else ""
        self.llm_state = f"{self.llm_config.source} {message.done}/{message.total}{failed}"
        self.refresh_passage()

    def on_llm_ready(self, message: LlmReady) -> None:
        """Every passage has the LLM's suggestions (or failed): say so on the title line."""
        failed = f" ({message.failed} failed: reopen to retry)" if message.failed else ""
        self.llm_state = f"{self.llm_config.source} ready{failed}"
        self.refresh_passage()

    def on_llm_failed(self, message: LlmFailed) -> None:
        """The LLM cannot be used: say why; the suggestions stored before stay shown."""
        self.llm_state = f"{self.llm_config.source} unavailable"
        self.notify(f"local LLM: {message.error}", severity="error", timeout=12)
        self.refresh_passage()
