"""Two sessions of one coder on one study, one of them a real subprocess: the second is warned
when it opens, a toggle acts on the passage as stored, and each screen shows the other's
change without a key being pressed. And other coders' progress arrives the same way."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
import time

from beicoder.core.store import Store
from beicoder.tui.app import BeicoderApp

SIZE = (160, 45)

# A TUI driven through stdin: "keys K..." presses keys, "mine" prints the decision line
# after taking in the study's changes (what the screen's one-second poll does).
SCRIPT = textwrap.dedent("""
    import asyncio, sys
    from beicoder.tui.app import BeicoderApp

    async def main(db, coder):
        app = BeicoderApp(db, coder)
        async with app.run_test(size=(160, 45)) as pilot:
            await pilot.pause()
            await app.workers.wait_for_complete()
            await pilot.pause()
            print("ready", flush=True)
            loop = asyncio.get_running_loop()
            while True:
                line = (await loop.run_in_executor(None, sys.stdin.readline)).split()
                if not line:
                    return
                if line[0] == "keys":
                    for key in line[1:]:
                        await pilot.press(key)
                elif line[0] == "mine":
                    app.screen._poll()
                    await pilot.pause()
                print("mine:", str(app.screen.query_one("#mine").content).replace("\\n", " "), flush=True)

    asyncio.run(main(sys.argv[1], sys.argv[2]))
""")


class Session:
    """The other session: a subprocess running the TUI for ``coder``."""

    def __init__(self, db, coder):
        self.proc = subprocess.Popen([sys.executable, "-c", SCRIPT, str(db), coder], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        assert line.strip() == "ready", self.proc.stderr.read()

    def send(self, command: str) -> str:
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        assert line.startswith("mine:"), self.proc.stderr.read()
        return line[len("mine:"):].strip()

    def close(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def info_on_first(db) -> bool:
    with Store(db) as store:
        first = store.passages()[0].id
        return any(c["code"] == "INFO" for c in store.codings_for(first, "amy"))


async def test_two_sessions_of_one_coder(tiny_study):
    a = Session(tiny_study, "amy")
    try:
        app = BeicoderApp(str(tiny_study), "amy")
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await app.workers.wait_for_complete()
            await pilot.pause()
            b = app.screen
            # B is told that A is open
            warned = [n for n in app._notifications if n.title == "Second session"]
            assert warned and "another session of coder amy is open" in warned[0].message
            assert "not decided" in str(b.query_one("#mine").content)
            # A adds INFO; B's screen shows it without a key (its poll takes the change in)
            assert "INFO" in a.send("keys 2")
            assert info_on_first(tiny_study)
            b._poll()
            await pilot.pause()
            assert "INFO" in str(b.query_one("#mine").content)
            assert any("another session of yours changed this passage" in n.message for n in app._notifications)
            # B removes it: the toggle acts on the stored state; A's screen follows
            await pilot.press("2")
            assert not info_on_first(tiny_study)
            assert "not decided" in str(b.query_one("#mine").content)
            deadline = time.monotonic() + 20
            while "not decided" not in a.send("mine") and time.monotonic() < deadline:
                await asyncio.sleep(0.2)
            assert "not decided" in a.send("mine")
            # B's screen goes stale on purpose (its poll paused): A adds INFO again, B toggles.
            # B's key acts on what is stored (INFO there: removed) and says so.
            b.poll_timer.pause()
            a.send("keys 2")
            await pilot.press("2")
            assert not info_on_first(tiny_study)
            assert any("removed INFO (another session had added it)" in n.message for n in app._notifications)
            assert "not decided" in str(b.query_one("#mine").content)
    finally:
        a.close()
    # A ended: a third session is not warned
    app = BeicoderApp(str(tiny_study), "amy")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert not [n for n in app._notifications if n.title == "Second session"]


async def test_other_coders_progress_arrives_without_a_key(tiny_study):
    app = BeicoderApp(str(tiny_study), "amy")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        other = Store(tiny_study)  # bob codes in another program
        pids = [p.id for p in other.passages()]
        other.toggle_code(pids[0], "bob", "ACH")
        screen._poll()
        await pilot.pause()
        table = screen.query_one("#transcripts")
        tid = other.transcript_of(pids[0])
        assert table.get_cell(str(tid), "coder:bob") == "1"
        other.mark_no_code(pids[1], "bob")
        other.undo_action("bob")
        other.undo_action("bob")
        other.redo_action("bob")
        screen._poll()
        await pilot.pause()
        assert table.get_cell(str(tid), "coder:bob") == "1"
        other.close()


async def test_a_transcript_imported_while_the_screen_is_open_is_listed(tiny_study, tmp_path):
    from beicoder.core.study import import_parsed, parse_files

    app = BeicoderApp(str(tiny_study), "amy")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        before = [t["interviewee"] for t in screen.transcripts]
        new = tmp_path / "C01.txt"
        new.write_text("访谈者：讲一件事。\n被访者：我去他店里看了账本。\n", encoding="utf-8")
        with Store(tiny_study) as other:  # `beicoder import` in another terminal
            import_parsed(other, parse_files([new]))
        screen._poll()
        await pilot.pause()
        assert [t["interviewee"] for t in screen.transcripts] == before + ["C01"]
        assert "C01" in {str(screen.query_one("#transcripts").get_cell(str(t["id"]), "interviewee"))
                         for t in screen.transcripts}
