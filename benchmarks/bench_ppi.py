"""Startle / PPI benchmarks (targets, not tests): print times and ratios to a baseline.

1. Lab table, 1,000 animals x 62 trials: ``behavior ppi analyze`` core
   (read + measure + classify + %PPI) vs. reading the same file with
   ``pandas.read_csv`` plus a plain ``groupby().mean()`` of the melted trials.
   Target < 2 s.
2. Kinder per-sample CSV, 500 samples x 62 trials x 4 enclosures: read +
   amplitudes + %PPI vs. ``pandas.read_csv`` of the same file. Target < 2 s.

Run: ``python benchmarks/bench_ppi.py``
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import pandas as pd

from behavior.io.startle_registry import read_startle_file
from behavior.startle.pipeline import analyze_recordings
from behavior.startle.protocol import load_startle_protocol
from behavior.testing import startle as sy


def best_of(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    protocol = load_startle_protocol("ppi_srlab")
    with tempfile.TemporaryDirectory() as tmp:
        wide = sy.write_wide(Path(tmp) / "wide.csv", sy.simulate_trials(1000, seed=0, names="lab"))
        lab = sy.simulate_trials(4, seed=1)
        kinder = sy.write_kinder(Path(tmp) / "kinder.csv", lab, n_samples=500)

        def analyze(path):
            return analyze_recordings([read_startle_file(path)], protocol)

        def pandas_wide():
            frame = pd.read_csv(wide)
            long = frame.melt(id_vars=["subject", "chamber", "group"])
            long["type"] = long["variable"].str.split(".").str[0]
            return long.groupby(["subject", "type"])["value"].mean()

        result = analyze(wide)
        assert result.summary["subject"].nunique() == 1000
        ours, base = best_of(lambda: analyze(wide)), best_of(pandas_wide)
        print(
            f"lab table 1000 animals x 62 trials: {ours:.3f} s (target < 2 s); "
            f"pandas read_csv+melt+groupby mean {base:.3f} s; ratio {ours / base:.1f}x"
        )

        result = analyze(kinder)
        assert len(result.trials) == 4 * 62
        ours, base = best_of(lambda: analyze(kinder)), best_of(lambda: pd.read_csv(kinder))
        size = kinder.stat().st_size / 1e6
        print(
            f"Kinder 500 samples x 62 trials x 4 enclosures ({size:.1f} MB): "
            f"{ours:.3f} s (target < 2 s); "
            f"pandas read_csv {base:.3f} s; ratio {ours / base:.1f}x"
        )


if __name__ == "__main__":
    main()
