"""Two processes scoring as the same observer into one session at the same moment.

Each process adds the same 100 bouts, both released together by a barrier before
each bout. With the overlap check outside the write transaction both saw no clash
and both inserted: 200 events, 100 of them exact duplicates. Now every check and
write happens in one BEGIN IMMEDIATE transaction: the second process is refused.
"""

from __future__ import annotations

import multiprocessing
import sqlite3

import pytest
from blinding_helpers import make_session

BOUTS = [(0.02 * i, 0.02 * i + 0.01) for i in range(100)]  # inside the 2-s clips


def _score(session_dir: str, observer: str, code: str, barrier, results) -> None:
    import threading

    from behavior.blinding.database import ScoringError
    from behavior.blinding.session import ScoringSession

    added = refused = 0
    try:
        barrier.wait(timeout=30)
        session = ScoringSession(session_dir, observer)  # both join as the same new observer
        for start, end in BOUTS:
            barrier.wait(timeout=30)
            try:
                session.add("immobility", start, end, video=code)
                added += 1
            except ScoringError:
                refused += 1
        session.close()
    except threading.BrokenBarrierError:
        results.put(("the other process stopped", added, refused))
        return
    except Exception as exc:  # reported to the test, which fails with it
        barrier.abort()
        results.put((f"{type(exc).__name__}: {exc}", added, refused))
        return
    results.put(("", added, refused))


@pytest.mark.slow
@pytest.mark.parametrize("known", [True, False], ids=["known-observer", "joining-observer"])
def test_two_processes_scoring_at_once_make_no_duplicate_and_no_overlap(tmp_path, known):
    # known: 'ann' was added at creation; joining: both processes add her at once
    made, _, _ = make_session(tmp_path, n=2, observers=("ann",) if known else ())
    code = sorted(made.codes)[0]
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(2), ctx.Queue()
    workers = [ctx.Process(target=_score, args=(str(made.session_dir), "ann", code, barrier,
                                                results), daemon=True) for _ in range(2)]
    for w in workers:
        w.start()
    try:
        outcome = [results.get(timeout=120) for _ in workers]
    finally:
        for w in workers:
            w.join(timeout=10)
            if w.is_alive():
                w.kill()
    assert [error for error, _, _ in outcome] == ["", ""]

    conn = sqlite3.connect(made.session_dir / "session.sqlite")
    observers = conn.execute("SELECT name FROM observers").fetchall()
    events = conn.execute("SELECT start_s, end_s FROM events ORDER BY start_s, id").fetchall()
    conn.close()
    assert observers == [("ann",)]  # joined once, not twice (nor a crash on the UNIQUE name)
    assert len(events) == len(set(events)) == len(BOUTS)  # no duplicate
    assert all(a[1] <= b[0] for a, b in zip(events, events[1:], strict=False))  # no overlap
    # every bout went in exactly once; the other process was told it overlapped
    assert sum(added for _, added, _ in outcome) == len(BOUTS)
    assert sum(refused for _, _, refused in outcome) == len(BOUTS)
