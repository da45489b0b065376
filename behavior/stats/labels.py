"""Axis labels in words with units, as a paper writes them.

One mapping from the project's column names (units in the names: ``immobility_s``,
``ppi_pct``, ``prepulse_db``, ``dose_mg_kg``) to what a figure's axis says
("Immobility (s)", "PPI (%)", "Prepulse (dB)", "Dose (mg/kg)"). Every figure of the
core (statistics, agreement) labels its axes through :func:`axis_label`, so the
command line's reports and the GUI show the same words. A column with no known
label is shown as it is: a lab's own column name is better than a wrong guess.
"""

from __future__ import annotations

#: Column name -> axis label. Startle amplitudes are in the sensor's own units
#: (arbitrary units: mV of a piezo, or a system's counts).
LABELS: dict[str, str] = {
    # forced swim / tail suspension summaries (behavior.fst.summary)
    "immobility_s": "Immobility (s)",
    "immobility_pct": "Immobility (%)",
    "swimming_s": "Swimming (s)",
    "swimming_pct": "Swimming (%)",
    "climbing_s": "Climbing (s)",
    "climbing_pct": "Climbing (%)",
    "latency_s": "Latency to immobility (s)",
    "bouts": "Immobility bouts (n)",
    "mean_bout_s": "Mean bout (s)",
    "longest_bout_s": "Longest bout (s)",
    "immobile_bins": "Immobile bins (n)",
    "scored_s": "Time scored (s)",
    "time_s": "Time (s)",
    # prepulse inhibition (behavior.startle.ppi)
    "ppi_pct": "PPI (%)",
    "startle": "Startle (a.u.)",
    "prepulse_pulse": "Prepulse + pulse startle (a.u.)",
    "prepulse_alone": "Prepulse-alone response (a.u.)",
    "nostim": "No-stimulus response (a.u.)",
    "habituation": "Habituation (a.u.)",
    "latency_ms": "Latency to peak (ms)",
    "startle_latency_ms": "Startle latency (ms)",
    "prepulse_db": "Prepulse (dB)",
    "pulse_db": "Pulse (dB)",
    "prepulse_above_bg_db": "Prepulse above background (dB)",
    "background_db": "Background (dB)",
    # factors
    "dose_mg_kg": "Dose (mg/kg)",
    "dose": "Dose",
    "group": "Group",
    "treatment": "Treatment",
    "genotype": "Genotype",
    "sex": "Sex",
    "drug": "Drug",
    "strain": "Strain",
    "cohort": "Cohort",
    "day": "Day",
}


def axis_label(column: str) -> str:
    """The axis label of ``column``: in words with its unit, or the name itself.

    Examples
    --------
    >>> axis_label("immobility_s")
    'Immobility (s)'
    >>> axis_label("dose_mg_kg")
    'Dose (mg/kg)'
    >>> axis_label("my_score")
    'my_score'
    """
    return LABELS.get(str(column).strip(), str(column))


def lower_first(label: str) -> str:
    """``"Immobility (s)"`` -> ``"immobility (s)"``, to follow a word ("Mean …");
    an abbreviation (``"PPI (%)"``) is kept."""
    word = label.split(" ", 1)[0]
    if len(word) > 1 and word[:2].isupper():
        return label
    return label[:1].lower() + label[1:]
