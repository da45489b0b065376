"""Blinded observer sessions: coding, scoring database, locking, unblinding, reliability.

Data flow::

    videos + groups.csv --create--> SESSION_DIR (coded copies, session.sqlite) + KEY_FILE
    observers --ScoringSession / import--> events (one transaction each)
    lock (SHA-256 of the events) --unblind + key--> scores.csv (subject, group, summaries)
    sessions, interval CSVs, traces --raters--> agreement table, Bland–Altman plot
    manual scores + traces --calibrate--> threshold and minimum bout -> protocol file

Modules: :mod:`~behavior.blinding.codes` (random codes and orders),
:mod:`~behavior.blinding.remux` (metadata-free copies), :mod:`~behavior.blinding.database`
(schema), :mod:`~behavior.blinding.session` (the scoring API, Qt-free),
:mod:`~behavior.blinding.create`, :mod:`~behavior.blinding.lock` (import, lock,
unblind), :mod:`~behavior.blinding.key`, :mod:`~behavior.blinding.tables` (CSV
readers), :mod:`~behavior.blinding.raters`, :mod:`~behavior.blinding.reliability`
(statistics), :mod:`~behavior.blinding.agreement`, :mod:`~behavior.blinding.calibrate`,
:mod:`~behavior.blinding.plots`.
"""
