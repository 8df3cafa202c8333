"""The consensus screen: reconcile independent coders' disagreements into one coding.

The coders' decisions come from :func:`beicoder.core.reliability.coding_table` (the passages
every coder has decided). A passage is a *disagreement* when the coders' code sets or levels
differ; the others are *agreements*, which ``g`` copies to the consensus coder in one go.
Every consensus decision is recorded under the consensus coder's name (``consensus`` by
default) with ``by=`` the person at the keyboard (the TUI's ``--coder``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from rich.text import Text
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Header

from ...core.reliability import CodingTable, ReliabilityError, coding_table
from ...core.store import Store, StoreError, normalize_coder
from ..commands import PaletteBinding, code_commands
from ..text import cut_end, question_line
from ..widgets.comparison_table import ComparisonTable, level_cell
from ..widgets.consensus_pane import ConsensusPane
from .dialogs import CONSENSUS_KEYS, HelpScreen, LevelScreen
from .footer import NarrowFooter

CONSENSUS_CODER = "consensus"  # the default name the consensus coding is recorded under
TAKE_KEYS = "abcdef"  # a takes the first coder's coding, b the second's, ...


def split_units(table: CodingTable) -> tuple[list[int], list[int]]:
    """Indices (into ``table.units``) of the agreements and of the disagreements: units where
    every coder has the same codes with the same levels, and the rest."""
    agreements, disagreements = [], []
    for i in range(len(table.units)):
        first = table.levels[0][i]
        (agreements if all(lv[i] == first for lv in table.levels) else disagreements).append(i)
    return agreements, disagreements


def describe(coding: dict[str, int | None], no_code: bool = False) -> str:
    """``ACH L3, INFO L?`` for a coding, ``no code`` for an empty one."""
    if not coding:
        return "no code" if no_code else "not decided"
    return ", ".join(f"{c} L{'?' if lv is None else lv}" for c, lv in coding.items())


class ConsensusScreen(NarrowFooter, Screen):
    """Walk the disagreements of ``coders`` and decide each one for ``target`` (by ``by``).

    Raises ReliabilityError (from :func:`coding_table`) when the coders cannot be compared:
    fewer than two, one without decisions, or no passage decided by all.
    """

    BINDINGS = [
        Binding("a", "take(0)", "Take A"),
        Binding("b", "take(1)", "Take B"),
    ] + [Binding(k, f"take({i})", f"Take coder {k.upper()}", show=False)
         for i, k in enumerate(TAKE_KEYS[2:], start=2)] + [
        Binding("1", "toggle(1)", "Toggle", key_display="1–9"),
    ] + [Binding(str(i), f"toggle({i})", f"Toggle code {i}", show=False) for i in range(2, 10)] + [
        PaletteBinding("p", "pick_code", "Pick", title="Pick a code (consensus)",
                       tooltip="Add, remove or level any code for the consensus: type part of its key or name"),
        PaletteBinding("x", "no_code", "No code", title="No code (consensus)",
                       tooltip="The consensus: this passage shows no competency"),
        PaletteBinding("l", "level", "Level", title="Set level (consensus)",
                       tooltip="Set the level of a consensus code"),
        PaletteBinding("j", "next", "Next", key_display="j/↓", title="Next disagreement",
                       tooltip="Move to the next disagreement"),
        PaletteBinding("k", "prev", "Prev", key_display="k/↑", title="Previous disagreement",
                       tooltip="Move to the previous disagreement"),
        PaletteBinding("n", "next_open", "Undecided", title="Next undecided disagreement",
                       tooltip="Next disagreement without a consensus decision"),
        PaletteBinding("g", "accept_agreements", "Agreements", title="Accept all agreements",
                       tooltip="Copy every passage the coders agree on to the consensus"),
        PaletteBinding("u", "undo", "Undo", title="Undo (consensus)", tooltip="Undo the last consensus action"),
        PaletteBinding("escape", "back", "Coding", title="Back to coding", tooltip="Leave the consensus screen"),
        PaletteBinding("question_mark", "help", "Help", key_display="?", title="Keys and codes",
                       tooltip="Show the keys and the dictionary"),
        Binding("q", "quit", "Quit", show=False),
    ]

    # Footer order on a narrow terminal, where the footer cannot show every key.
    NARROW_FOOTER_FIRST = ["help", "back", "take(0)", "take(1)", "toggle(1)", "pick_code", "no_code", "level",
                           "next_open"]

    AUTO_FOCUS = "#consensus-pane"

    def __init__(self, store: Store, coders: Sequence[str], target: str, by: str, dictionary):
        super().__init__()
        self.store = store
        self.target = normalize_coder(target)
        self.by = normalize_coder(by)
        self.coders = list(dict.fromkeys(normalize_coder(c) for c in coders))
        if self.target in self.coders:
            raise ReliabilityError(f"the consensus coder {self.target!r} cannot also be one of the coders reconciled")
        self.dictionary = dictionary
        self.competencies = {c.code: c for c in dictionary.competencies}
        self.code_order = dictionary.codes
        self.table = coding_table(store, self.coders)
        self.agreements, self.disagreements = split_units(self.table)
        wanted = {self.table.units[i] for i in self.disagreements}
        self.passages = {p.id: p for p in store.passages() if p.id in wanted}
        decided_by_some = set().union(*(store.decided_passages(c) for c in self.coders))
        self.left_out = len(decided_by_some) - len(self.table.units)  # decided by some coders only
        self.pos = 0
        self.last_code: str | None = None

    # -- layout -------------------------------------------------------------------------------
    def on_resize(self) -> None:
        self.refresh_bindings()

    def compose(self) -> ComposeResult:
        yield Header()
        yield ConsensusPane(id="consensus-pane")
        yield Footer()

    # -- the palette --------------------------------------------------------------------------
    def palette_items(self) -> Iterable[SystemCommand]:
        """One palette command per coder to take the coding of, and one per dictionary code."""
        for k, coder in enumerate(self.coders[:len(TAKE_KEYS)]):
            yield SystemCommand(f"Take {coder}'s coding",
                                f"The consensus takes {coder}'s codes and levels ({TAKE_KEYS[k]})",
                                lambda k=k: self.action_take(k))
        yield from code_commands(self.code_order, self.competencies, self.action_toggle, " (consensus)",
                                 " for the consensus")

    def _sub_title(self) -> str:
        return f"{self.store.path.name} · consensus of {', '.join(self.coders)} as {self.target} · by {self.by}"

    def on_mount(self) -> None:
        self.app.sub_title = self._sub_title()
        decided = self.store.decided_passages(self.target)
        self.pos = next((k for k, i in enumerate(self.disagreements) if self.table.units[i] not in decided), 0)
        self.refresh_view()

    def on_screen_resume(self) -> None:
        self.app.sub_title = self._sub_title()  # back from a dialog

    @property
    def unit(self) -> int | None:
        """Index into ``table.units`` of the disagreement shown, or None when there is none."""
        return self.disagreements[self.pos] if self.disagreements else None

    @property
    def passage_id(self) -> int | None:
        """The id of the passage shown, or None when there is no disagreement."""
        return None if self.unit is None else self.table.units[self.unit]

    def consensus_coding(self, passage_id: int) -> dict[str, int | None]:
        """The consensus coder's codes on ``passage_id``: code -> level (None: no level)."""
        return {c["code"]: c["level"] for c in self.store.codings_for(passage_id, self.target)}

    # -- drawing ------------------------------------------------------------------------------
    def progress_text(self) -> str:
        """The progress line: which disagreement, how many decided, agreements copied."""
        decided = self.store.decided_passages(self.target)
        n_decided = sum(self.table.units[i] in decided for i in self.disagreements)
        copied = sum(self.table.units[i] in decided for i in self.agreements)
        if self.disagreements:
            head = f"disagreement {self.pos + 1}/{len(self.disagreements)} · {n_decided} decided"
        else:
            head = "no disagreements"
        parts = [head, f"agreements {copied}/{len(self.agreements)} in {self.target}"
                 + (" (g copies the rest)" if copied < len(self.agreements) else "")]
        if self.left_out:
            parts.append(f"{self.left_out} passages not decided by every coder left out")
        return " · ".join(parts)

    def refresh_view(self) -> None:
        """Redraw the pane: progress, the disagreement shown, the coders' table, the decision."""
        pane = self.query_one(ConsensusPane)
        i = self.unit
        if i is None:
            pane.show(c_progress=self.progress_text(), c_where=(
                f"{', '.join(self.coders)} agree on all {len(self.table.units)} passages they all decided; "
                "press g to copy them to the consensus."))
            return
        pid = self.table.units[i]
        passage = self.passages.get(pid)
        mine = self.consensus_coding(pid)
        mark = self.store.mark_for(pid, self.target) or {}
        decision = Text("Consensus: " if self.target == "consensus" else f"Consensus ({self.target}): ", style="bold")
        if mine or mark.get("no_code"):
            decision.append(describe(mine, True))
            missing = [c for c, lv in mine.items() if lv is None]
            if missing:
                decision.append(f"   (no level yet: {', '.join(missing)} — press l)", style="yellow")
        else:
            decision.append("not decided", style="yellow")
        memos = Text()
        for c in self.coders:
            memo = (self.store.mark_for(pid, c) or {}).get("memo")
            if memo:
                memos.append(f"{c}'s memo: ", style="bold italic")
                memos.append(f"{memo}\n", style="italic")
        pane.show(c_progress=self.progress_text(),
                  c_where=Text.assemble((self.table.transcript_of[pid], "bold"),
                                        f"  ·  passage {self.table.ordinal_of[pid]}"),
                  c_question=question_line(self.store.question_turn_for(passage) if passage else None),
                  c_passage=Text(self.table.text_of[pid]), c_table=self._comparison(i, mine, bool(mark.get("no_code"))),
                  c_decision=decision, c_memos=memos)

    def _comparison(self, i: int, mine: dict, mine_no_code: bool) -> ComparisonTable:
        levels = [lv[i] for lv in self.table.levels]
        headers = [f"{TAKE_KEYS[k]}: {cut_end(c, 12)}" if k < len(TAKE_KEYS) else cut_end(c, 12)
                   for k, c in enumerate(self.coders)] + [cut_end(self.target, 12)]
        rows = []
        for n, code in enumerate(self.code_order, start=1):
            comp = self.competencies[code]
            cells = [level_cell(lv, code) for lv in levels]
            differ = len({(code in lv, lv.get(code)) for lv in levels}) > 1
            used = any(code in lv for lv in levels) or code in mine
            style = "bold yellow" if differ else ("bold" if used else "dim")
            rows.append((str(n) if n <= 9 else "", code, comp.name_zh or comp.name_en,
                         cells + [level_cell(mine, code)], style))
        no_codes = ["✓" if not lv else "·" for lv in levels] + ["✓" if mine_no_code and not mine else "·"]
        differ = len({not lv for lv in levels}) > 1
        rows.append(("x", "—", "no code", no_codes, "bold yellow" if differ else "dim"))
        return ComparisonTable(headers, rows)

    # -- navigation ---------------------------------------------------------------------------
    def action_next(self) -> None:
        """j/↓: the next disagreement."""
        if self.disagreements and self.pos < len(self.disagreements) - 1:
            self.pos += 1
            self.refresh_view()

    def action_prev(self) -> None:
        """k/↑: the previous disagreement."""
        if self.disagreements and self.pos > 0:
            self.pos -= 1
            self.refresh_view()

    def action_next_open(self) -> None:
        """n: the next disagreement without a consensus decision, wrapping around."""
        decided = self.store.decided_passages(self.target)
        n = len(self.disagreements)
        for step in range(1, n + 1):
            k = (self.pos + step) % n
            if self.table.units[self.disagreements[k]] not in decided:
                self.pos = k
                self.refresh_view()
                return
        self.notify("every disagreement has a consensus decision")

    def action_back(self) -> None:
        """Esc: back to coding."""
        self.app.pop_screen()

    def action_help(self) -> None:
        """?: the consensus screen's keys and the dictionary's codes."""
        self.app.push_screen(HelpScreen(list(self.dictionary.competencies), CONSENSUS_KEYS))

    async def action_quit(self) -> None:
        """q: quit."""
        self.app.exit()

    # -- deciding -----------------------------------------------------------------------------
    def _act(self, what: str, fn: Callable[[], int]) -> Any:
        """Run ``fn`` (store writes for the consensus coder, returning how many changes it
        made) as ONE audited action of the consensus coder (origin ``consensus``, made by this
        screen's user), so that one ``u`` takes it back, also after a restart; on failure say
        so and go on."""
        try:
            with self.store.action(self.target, "consensus", what, by=self.by):
                n = fn()
        except StoreError as exc:
            self.notify(f"NOT saved ({what}): {exc}", severity="error", timeout=10)
            return None
        self.refresh_view()
        return n

    def action_toggle(self, n: int) -> None:
        """1–9: add or remove the ``n``-th dictionary code in the consensus coding."""
        pid = self.passage_id
        if pid is None:
            return
        if n > len(self.code_order):
            self.notify(f"no code {n} in this dictionary ({len(self.code_order)} codes)", severity="warning")
            return
        self._toggle_code(self.code_order[n - 1])

    def _toggle_code(self, code: str) -> None:
        pid = self.passage_id
        added: list[bool] = []

        def run() -> int:
            added.append(self.store.toggle_code(pid, self.target, code, origin="consensus", by=self.by))
            return 1

        if self._act(code, run) is not None:
            if added[0]:
                self.last_code = code
            self.notify(f"consensus: {'added' if added[0] else 'removed'} {code} · saved", timeout=2)

    def action_pick_code(self) -> None:
        """p: the code picker for the consensus coding: any code by key or name; Enter adds or
        removes it, ``CODE LEVEL`` + Enter gives it that level."""
        from .picker import CodePickerScreen, Pick

        pid = self.passage_id
        if pid is None:
            return
        codings = {c["code"]: c for c in self.store.codings_for(pid, self.target)}

        def done(pick: Pick | None) -> None:
            if pick is None or self.passage_id != pid:
                return
            if pick.op == "toggle":
                self._toggle_code(pick.code)
                return

            def run() -> int:
                self.store.put_code(pid, self.target, pick.code, pick.level, by=self.by)
                return 1

            if self._act(f"{pick.code} level {pick.level}", run) is not None:
                self.last_code = pick.code
                self.notify(f"consensus: {pick.code} level {pick.level} · saved", timeout=2)

        self.app.push_screen(CodePickerScreen(self.code_order, self.competencies, codings, {}, self.last_code), done)

    def set_coding(self, pid: int, wanted: dict[str, int | None], origin: str = "consensus") -> int:
        """Make the consensus coding of ``pid`` exactly ``wanted`` (code -> level; empty: no
        code); returns the number of store actions it took (0: already so)."""
        current = self.consensus_coding(pid)
        if not wanted:
            if not current and (self.store.mark_for(pid, self.target) or {}).get("no_code"):
                return 0
            self.store.mark_no_code(pid, self.target, by=self.by)
            return 1
        n = 0
        for code in current:
            if code not in wanted:
                self.store.toggle_code(pid, self.target, code, by=self.by)
                n += 1
        missing = {c: lv for c, lv in wanted.items() if c not in current}
        if missing and self.store.add_codes(pid, self.target, missing, origin=origin,
                                            description=f"take {describe(wanted)}", by=self.by):
            n += 1
        for code, level in wanted.items():
            if code in current and current[code] != level:
                self.store.set_level(pid, self.target, code, level, by=self.by)
                n += 1
        return n

    def action_take(self, k: int) -> None:
        """a, b, ...: the consensus takes coder number ``k``'s (0 = A) codes and levels."""
        pid = self.passage_id
        if pid is None:
            return
        if k >= len(self.coders):
            self.notify(f"no coder {TAKE_KEYS[k].upper()}: {len(self.coders)} coders", severity="warning")
            return
        coder = self.coders[k]
        wanted = dict(self.table.levels[k][self.unit])
        n = self._act(f"take {coder}'s coding", lambda: self.set_coding(pid, wanted))
        if n is None:
            return
        if n == 0:
            self.notify(f"the consensus already has {coder}'s coding", timeout=2)
        else:
            self.notify(f"consensus: took {coder}'s coding ({describe(wanted, True)}) · saved", timeout=2)

    def action_no_code(self) -> None:
        """x: the consensus: this passage shows no competency."""
        pid = self.passage_id
        if pid is None:
            return
        if self._act("no code", lambda: self.set_coding(pid, {})) is not None:
            self.notify("consensus: no code · saved", timeout=2)

    def action_level(self) -> None:
        """l: the level dialog for one of the consensus codes."""
        pid = self.passage_id
        if pid is None:
            return
        codings = self.store.codings_for(pid, self.target)
        if not codings:
            self.notify("add a code first (1–9, or take a coder's coding with a/b)", severity="warning")
            return

        def done(result) -> None:
            if result is None:
                return
            code, level = result

            def run() -> int:
                self.store.set_level(pid, self.target, code, level, by=self.by)
                return 1

            if self._act("level", run) is not None:
                self.last_code = code
                self.notify(f"consensus: {code} level {level if level is not None else 'cleared'} · saved", timeout=2)

        self.app.push_screen(LevelScreen(codings, self.competencies, self.last_code), done)

    def action_accept_agreements(self) -> None:
        """g: copy every agreement not yet decided by the consensus coder (codes with their
        levels, or "no code"); one undo step."""
        decided = self.store.decided_passages(self.target)
        todo = [self.table.units[i] for i in self.agreements if self.table.units[i] not in decided]
        kept = len(self.agreements) - len(todo)
        if not todo:
            self.notify(f"nothing to copy: all {len(self.agreements)} agreements are already in {self.target}"
                        if self.agreements else "the coders agree on no passage", timeout=4)
            return
        index = {u: i for i, u in enumerate(self.table.units)}

        def run() -> int:
            for pid in todo:
                wanted = self.table.levels[0][index[pid]]
                if wanted:
                    self.store.add_codes(pid, self.target, dict(wanted), origin="agreement",
                                         description="accept agreement", by=self.by)
                else:
                    self.store.mark_no_code(pid, self.target, by=self.by)
            return len(todo)

        if self._act(f"accept {len(todo)} agreements", run) is not None:
            self.notify(f"copied {len(todo)} agreements to {self.target}"
                        + (f" ({kept} already decided there, kept)" if kept else ""), timeout=5)

    def action_undo(self) -> None:
        """u: undo the consensus coder's last action (a whole ``g`` or a taken coding is one)."""
        try:
            done = self.store.undo(self.target)
        except StoreError as exc:
            self.notify(f"NOT undone: {exc}", severity="error", timeout=10)
            return
        if done is None:
            self.notify("nothing to undo", severity="warning")
            return
        self.refresh_view()
        self.notify(f"undone: {done}", timeout=2)
