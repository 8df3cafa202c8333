"""The discovery screen: distinctive terms and candidate themes beyond the dictionary.

The top terms of each group (weighted log-odds with an informative Dirichlet prior,
permutation p over interviewees, BH q) and the candidate themes in the passages the coder
marked "no code" or has not decided (see :mod:`beicoder.core.discover`). Enter on a term or
a theme lists its passages; Enter on a passage goes back to the coding screen on it. The
last discovery saved beside the study is shown at once when it was made for this coder
(``r`` computes it again); otherwise it is computed in a worker, which posts DiscoveryReady
or DiscoveryFailed, and saved, so the theme numbers are those of ``beicoder dictionary
add-code --from-theme N``.
"""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, Header, Static
from textual.worker import get_current_worker

from ...core import BeicoderError
from ...core.store import Store
from ..commands import PaletteBinding
from ..messages import DiscoveryFailed, DiscoveryReady
from ..widgets.discovery_passages import DiscoveryPassages
from ..widgets.term_table import TermTable
from ..widgets.theme_table import ThemeTable

TOP = 15  # terms shown per group


class DiscoveryScreen(Screen):
    """Distinctive terms and candidate themes for ``coder``'s decisions in the study
    ``db_path``; ``escape`` returns to coding, Enter on a passage jumps to it there."""

    DEFAULT_CSS = """
    DiscoveryScreen #discovery-status { height: auto; padding: 0 1; }
    DiscoveryScreen .discovery-title { text-style: bold; color: $accent; padding: 0 1; }
    DiscoveryScreen #terms { height: 2fr; }
    DiscoveryScreen #themes { height: 1fr; }
    DiscoveryScreen #passages { height: 1fr; border-top: solid $primary-darken-2; }
    """

    BINDINGS = [
        PaletteBinding("escape", "app.pop_screen", "Back to coding", tooltip="Leave the discovery screen"),
        PaletteBinding("r", "recompute", "Recompute", title="Recompute the discovery",
                       tooltip="Find distinctive terms and themes again from the current codings"),
        PaletteBinding("p", "focus_passages", "Passages", title="Go to the passage list",
                       tooltip="Move to the passages of the term or theme chosen"),
    ]

    def __init__(self, db_path: str, coder: str):
        super().__init__()
        self.db_path = db_path
        self.coder = coder
        self.result = None
        self.info: dict[int, dict] = {}
        self.state = "computing…"

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="discovery-status")
        with Vertical():
            yield Static("Distinctive terms (Enter: their passages)", classes="discovery-title")
            yield TermTable(id="terms")
            yield Static("Candidate themes in what no code covers (Enter: their passages)", classes="discovery-title")
            yield ThemeTable(id="themes")
            yield DiscoveryPassages(id="passages")
        yield Footer()

    def on_mount(self) -> None:
        self._show_state("reading the last discovery…")
        self._discover(self.coder, fresh=False)
        self.query_one(TermTable).focus()

    def action_recompute(self) -> None:
        """r: find the terms and themes again (in a worker) and keep the result beside the study."""
        self._show_state(f"computing for {self.coder}… (jieba, permutations, NMF: a few seconds)")
        self._discover(self.coder, fresh=True)

    def action_focus_passages(self) -> None:
        """p: go to the passage list."""
        self.query_one(DiscoveryPassages).focus()

    @work(thread=True, exclusive=True, group="discovery")
    def _discover(self, coder: str, fresh: bool) -> None:
        """Read the last discovery saved for ``coder`` (unless ``fresh``), else compute one and
        save it, in a thread with its own connection; post DiscoveryReady or DiscoveryFailed
        (nothing when superseded by a newer run)."""
        from ...core.discover import discover, load_discovery, save_discovery

        worker = get_current_worker()
        store = Store(self.db_path, create=False)
        try:
            result = None
            if not fresh:
                try:
                    saved = load_discovery(self.db_path)
                    result = saved if saved.coder == coder else None
                except BeicoderError:
                    result = None
            computed = result is None
            if computed:
                result = discover(store, coder)
                save_discovery(result, self.db_path)
            message = DiscoveryReady(coder, result, store.passage_info(), computed)
        except BeicoderError as exc:
            message = DiscoveryFailed(coder, str(exc))
        finally:
            store.close()
        if not worker.is_cancelled:
            self.post_message(message)

    def on_discovery_ready(self, message: DiscoveryReady) -> None:
        """Show the terms and themes."""
        r = message.result
        self.result, self.info = r, message.info
        when = r.created[:16].replace("T", " ")
        how = "computed now and saved" if message.fresh else "the last one saved; r computes it again"
        self.state = (f"coder {message.coder}: {r.n_outstanding} outstanding vs {r.n_average} average interviewees; "
                      f"{len(r.terms)} terms tested, {len(r.themes)} themes · {when} UTC ({how})")
        self._show_state(self.state)
        self.query_one(TermTable).show(r, TOP)
        self.query_one(ThemeTable).show(r)
        self.query_one(DiscoveryPassages).clear_options()

    def on_discovery_failed(self, message: DiscoveryFailed) -> None:
        """Say why there is no discovery."""
        self.state = f"coder {message.coder}: {message.error}"
        self._show_state(self.state)

    def on_term_table_chosen(self, message: TermTable.Chosen) -> None:
        """List the passages that hold the term chosen, the term highlighted."""
        from ...core.suggest.lexicon import fold

        term = next((t for t in self.result.terms if t.key == message.key), None) if self.result else None
        if term is None:
            return
        n = self.query_one(DiscoveryPassages).show(term.passages, self.info, term.key, fold)
        self._show_state(f"{term.term}: {n} passages (Enter: go to one)")
        self.query_one(DiscoveryPassages).focus()

    def on_theme_table_chosen(self, message: ThemeTable.Chosen) -> None:
        """List the passages of the theme chosen."""
        if self.result is None:
            return
        theme = self.result.theme(message.number)
        n = self.query_one(DiscoveryPassages).show(theme.passages, self.info)
        self._show_state(f"theme {theme.number} ({' '.join(theme.top_terms[:5])}): {n} passages (Enter: go to one)"
                         f" · make it a code: beicoder dictionary add-code CODE --name-zh 名称 --from-theme "
                         f"{theme.number}")
        self.query_one(DiscoveryPassages).focus()

    def on_discovery_passages_chosen(self, message: DiscoveryPassages.Chosen) -> None:
        """Back to the coding screen, on the passage chosen."""
        coding = next((s for s in self.app.screen_stack if hasattr(s, "go_to_passage")), None)
        if coding is None:
            return
        self.app.pop_screen()
        coding.go_to_passage(message.passage_id)

    def _show_state(self, state: str) -> None:
        self.query_one("#discovery-status", Static).update(Text(state, style="bold"))
