"""Crash safety: kill the scoring process mid-session; nothing committed is lost."""

import json
import os
import signal
import subprocess
import sys
import textwrap

from blinding_helpers import make_session

from behavior.blinding.session import ScoringSession

CHILD = textwrap.dedent("""
    import os, sys
    from behavior.blinding.session import ScoringSession
    s = ScoringSession(sys.argv[1], "A")
    first, second = s.videos[0].code, s.videos[1].code
    s.select(second)
    s.start("immobility", 1.25)        # held when the process dies: not an event
    print("HELD", flush=True)
    mode = sys.argv[2]
    i = 0
    while True:
        t = 0.008 * i
        e = s.add("immobility", t, t + 0.004, video=first)
        print(e.id, flush=True)          # printed only after the commit returned
        i += 1
        if mode == "exit" and i == 5:
            os._exit(1)                   # no close, no cleanup
""")


def _run_child(session_dir, mode):
    return subprocess.Popen([sys.executable, "-c", CHILD, str(session_dir), mode],
                            stdout=subprocess.PIPE, text=True, env={**os.environ})


def _check(session_dir, committed):
    with ScoringSession(session_dir, "A", create_observer=False) as s:
        ids = {e.id for e in s.events()}
        assert set(committed) <= ids  # every committed event survived
        assert len(ids) <= len(committed) + 1  # at most the one in flight besides
        held = [e for e in s.events() if e.start_s == 1.25]
        assert held == []  # the held bout was never an event ...
        starts = s._conn.execute(
            "SELECT detail FROM audit WHERE action = 'start'").fetchall()
        assert json.loads(starts[-1]["detail"])["t_s"] == 1.25  # ... but its start is audited
        assert s.interrupted_hold() == (s.videos[1].code, "immobility", 1.25)
        # the database is usable after the crash
        s.add("immobility", 1.9, 1.95, video=s.videos[0].code)


def test_sigkill_mid_session_loses_nothing_committed(tmp_path):
    made, _, _ = make_session(tmp_path, n=2, observers=("A",))
    child = _run_child(made.session_dir, "loop")
    assert child.stdout.readline().strip() == "HELD"
    committed = [int(child.stdout.readline()) for _ in range(40)]
    child.send_signal(signal.SIGKILL)
    rest = child.stdout.read().split()
    child.wait()
    _check(made.session_dir, committed + [int(x) for x in rest])


def test_os_exit_without_close(tmp_path):
    made, _, _ = make_session(tmp_path, n=2, observers=("A",))
    child = _run_child(made.session_dir, "exit")
    out = child.communicate()[0].split()
    assert child.returncode == 1 and out[0] == "HELD"
    committed = [int(x) for x in out[1:]]
    assert len(committed) == 5
    _check(made.session_dir, committed)
    with ScoringSession(made.session_dir, "A", create_observer=False) as s:
        assert len(s.events(s.videos[0].code)) == 5 + 1
