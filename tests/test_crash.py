"""No lost work: a TUI killed with SIGKILL right after a decision keeps it, and two coders'
TUIs on one study at once both save (WAL, busy timeout)."""

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent("""
    import asyncio, sys
    from beicoder.tui.app import BeicoderApp

    async def main(db, coder, keys):
        app = BeicoderApp(db, coder)
        async with app.run_test(size=(160, 45)) as pilot:
            await pilot.pause()
            for key in keys:
                await pilot.press(key)
            print("saved", flush=True)
            await asyncio.sleep(120)

    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3:]))
""")


def start(db, coder, *keys):
    return subprocess.Popen([sys.executable, "-c", SCRIPT, str(db), coder, *keys],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_saved(proc):
    line = proc.stdout.readline()
    assert line.strip() == "saved", proc.stderr.read()


def test_sigkill_after_a_decision_loses_nothing(tiny_study):
    proc = start(tiny_study, "amy", "1", "j", "x")
    try:
        wait_saved(proc)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    con = sqlite3.connect(tiny_study)
    assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert con.execute("SELECT code FROM codings WHERE coder = 'amy'").fetchall() == [("ACH",)]
    assert con.execute("SELECT count(*) FROM passage_marks WHERE coder = 'amy' AND no_code = 1").fetchone() == (1,)
    con.close()


def test_two_coders_code_the_same_study_at_once(tiny_study):
    # the first transcript has two passages: amy codes ACH on the first and marks the second
    # "no code"; bob codes INFO on the first, then ACH and IU on the second
    procs = [start(tiny_study, "amy", "1", "j", "x"), start(tiny_study, "bob", "2", "j", "1", "3")]
    try:
        for proc in procs:
            wait_saved(proc)
    finally:
        for proc in procs:
            proc.kill()
            proc.wait(timeout=30)
    con = sqlite3.connect(tiny_study)
    rows = con.execute("SELECT coder, code FROM codings ORDER BY coder, passage_id, code").fetchall()
    assert rows == [("amy", "ACH"), ("bob", "INFO"), ("bob", "ACH"), ("bob", "IU")]
    assert con.execute("SELECT coder FROM passage_marks WHERE no_code = 1").fetchall() == [("amy",)]
    assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
