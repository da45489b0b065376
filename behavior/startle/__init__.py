"""Acoustic startle and prepulse inhibition.

Data flow (see ``docs/startle.md``)::

    file --(behavior.io.startle_registry.read_startle_file)--> StartleRecording
         --(amplitude.measure_recording)--> per-trial table (vmax, vavg, p2p, latency, baseline)
         --(subjects.merge_trials)--> one table, subject IDs normalised
         --(ppi.classify_trials, ppi.flag_outlier_trials)--> roles, blocks, outlier trials
         --(ppi.ppi_summary)--> %PPI, startle, habituation, no-stim per animal x prepulse

Modules
-------
table       canonical per-trial columns and :class:`~behavior.startle.table.StartleRecording`
protocol    protocol files -> :class:`~behavior.startle.protocol.StartleProtocol`
amplitude   waveform -> Vmax, Vavg, peak-to-peak, latency, baseline
subjects    merging files: subject IDs, near-duplicates, duplicated animals
ppi         %PPI methods, startle, habituation, exclusions
pipeline    the whole analysis on recordings (:func:`~behavior.startle.pipeline.analyze_recordings`)
synthetic   sessions with known amplitudes written in every file layout (tests, benchmarks)
commands    ``behavior ppi analyze|trials``
"""
