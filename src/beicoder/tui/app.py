"""The beicoder App: it opens the coding screen on a study file (and, when asked, the
consensus screen above it) and gives the command palette each screen's own commands."""

from __future__ import annotations

from collections.abc import Iterable

from textual.app import App, SystemCommand
from textual.screen import Screen

from .commands import screen_commands
from .screens.coding import CodingScreen
from .screens.consensus import CONSENSUS_CODER

__all__ = ["BeicoderApp", "CodingScreen"]


class BeicoderApp(App):
    """``BeicoderApp(db_path, coder).run()`` opens the coding screen on a study file.

    ``blind``: hide the interviewees' groups and the other coders' progress (and refuse the
    consensus screen). ``consensus``: coders whose disagreements to reconcile; the app then
    opens on the consensus screen (Esc goes to coding), and ``c`` reopens it for them.
    ``consensus_coder``: the name the consensus coding is recorded under.
    """

    CSS_PATH = "app.tcss"
    TITLE = "beicoder"

    def __init__(self, db_path: str, coder: str, blind: bool = False, consensus: Iterable[str] | None = None,
                 consensus_coder: str = CONSENSUS_CODER):
        super().__init__()
        self.db_path = db_path
        self.coder = coder
        self.blind = blind
        self.consensus = list(consensus or [])
        self.consensus_coder = consensus_coder
        self.english_study = False  # every transcript English: codes named in English (set by the coding screen)

    async def on_mount(self) -> None:
        await self.push_screen(CodingScreen(self.db_path, self.coder, self.blind))
        if self.consensus:
            self.coding.action_consensus()

    @property
    def coding(self) -> CodingScreen:
        """The coding screen (at the bottom of the screen stack)."""
        return next(s for s in self.screen_stack if isinstance(s, CodingScreen))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """Textual's own commands (theme, keys, screenshot, quit...), then ``screen``'s, built
        from its bindings (see :mod:`beicoder.tui.commands`); a title already listed once is
        not listed again."""
        titles = set()
        for command in (*super().get_system_commands(screen), *screen_commands(screen)):
            if command.title not in titles:
                titles.add(command.title)
                yield command
