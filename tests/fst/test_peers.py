"""The animals of one video scored together: an animal that hardly floats gets its
cage-mates' still level (behavior.fst.peers), the same in every consumer of a trace."""

from __future__ import annotations

import pytest

from tests.fst.test_fst_summary import _auto_protocol, _trace_of

# a gentle swimmer: paddling at 0.044, floating (0.02) only in 1.2-s bouts (12 of
# 200 s), struggling (0.25) now and then; no 3-s window is mostly floating, so its
# own still level is its paddling's
RARE_FLOATER = [(0.044, 8.8), (0.02, 1.2), (0.044, 6.0), (0.25, 4.0)] * 10
# its cage-mate floats 100 s at 0.02 and swims at 0.2 for 100 s
FLOATER = [(0.02, 100), (0.2, 100)]


def cage(video: str = "v.mp4"):
    a, b = _trace_of(RARE_FLOATER), _trace_of(FLOATER)
    a.video = b.video = video
    b.arena = 2
    return a, b


def test_a_rare_floater_gets_its_cage_mates_still_level():
    from behavior.fst.immobility import PEER_RATIO
    from behavior.fst.scoring import score_trace, score_traces

    protocol = _auto_protocol()
    alone = score_trace(cage()[0], protocol).row()
    # alone, its paddling is its still level: nearly everything is "immobile"
    assert alone["immobility_s"] > 150
    a, b = cage()
    rows = [r.row() for r in score_traces([a, b], protocol)]
    # together: its still level is the cage-mate's 0.02 (0.044 is over 1.5 times it),
    # the paddling above the threshold is mobile, the 1.2-s floats immobile
    assert 0.044 > PEER_RATIO * 0.02
    assert float(a.meta["peer_still_level"]) == pytest.approx(0.02)
    assert rows[0]["threshold"] < 0.044
    assert rows[0]["immobility_s"] == pytest.approx(12.0, abs=0.5)
    assert "its quietest stretches move 0.044, 2.2 times those of the other " \
        "animals in this video (0.020)" in rows[0]["warnings"]
    # the cage-mate is not changed by it (its own level is the lower)
    assert rows[1]["immobility_s"] == pytest.approx(100.0, abs=0.15)
    assert rows[1] == score_trace(_trace_of(FLOATER), protocol).row() | {"arena": 2}
    assert "other animals" not in rows[1]["warnings"]


def test_only_animals_of_the_same_video_are_peers_and_a_fixed_threshold_ignores_them():
    from behavior.fst.scoring import score_traces

    protocol = _auto_protocol()
    a, _ = cage("one.mp4")
    _, b = cage("other.mp4")
    rows = [r.row() for r in score_traces([a, b], protocol)]
    assert "peer_still_level" not in a.meta
    assert rows[0]["immobility_s"] > 150
    # an arena where tracking found no animal is no one's peer
    a, b = cage()
    b.meta["animal_found"] = "false"
    rows = [r.row() for r in score_traces([a, b], protocol)]
    assert "peer_still_level" not in a.meta and rows[0]["immobility_s"] > 150
    fixed = _auto_protocol(threshold=0.03)
    a, b = cage()
    rows = [r.row() for r in score_traces([a, b], fixed)]
    assert rows[0]["threshold"] == 0.03 and "other animals" not in rows[0]["warnings"]


def test_every_consumer_of_the_trace_uses_the_peer_level(tmp_path):
    """Written traces carry the level: re-reading one trace, relabelling it, an
    observer comparison's automatic rater and re-scoring a folder all agree."""
    from behavior.blinding.raters import trace_bouts
    from behavior.fst.scoring import relabel_immobile, rescore_traces, score_trace, score_traces
    from behavior.fst.summary import overlap_s
    from behavior.fst.traces import read_trace, write_trace

    protocol = _auto_protocol()
    a, b = cage()
    together = score_traces([a, b], protocol)[0].row()
    paths = [write_trace(t, tmp_path) for t in (a, b)]
    again = read_trace(paths[0])
    assert score_trace(again, protocol).row()["immobility_s"] == together["immobility_s"]
    bouts = trace_bouts(again, protocol)
    assert overlap_s(bouts, 0, 200) == pytest.approx(together["immobility_s"])
    flags = relabel_immobile(again, protocol).table["immobile"].to_numpy()
    assert flags.sum() / 10.0 == pytest.approx(together["immobility_s"], abs=0.5)
    table, errors, _ = rescore_traces(paths, protocol)
    assert not errors
    assert table["immobility_s"].iloc[0] == together["immobility_s"]
    # another protocol: the peer level is measured again with it. From 100 s on the
    # cage-mate swims (its still level 0.2), so the rare floater's own level stands
    later = protocol.with_overrides(window_s=(100, 200))
    table, _, _ = rescore_traces(paths, later)
    alone = score_trace(cage()[0], later).row()
    assert table["immobility_s"].iloc[0] == alone["immobility_s"] > 50
    assert "other animals" not in table["warnings"].iloc[0]
