"""Startle / prepulse-inhibition protocol files (YAML) -> a frozen, validated object.

A protocol says which trial names are which trial type, how the session is cut
into blocks, how amplitudes are measured from raw samples, how %PPI is computed
and which animals and trials are excluded. See ``docs/startle.md`` for every key
and ``protocols/ppi_*.yaml`` for the shipped protocols.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from behavior.protocols import Section, load_yaml, shipped
from behavior.startle.choices import NEGATIVE_POLICIES, PPI_METHODS
from behavior.startle.table import (
    NO_STIMULUS,
    PREPULSE_ALONE,
    PREPULSE_PULSE,
    PULSE_ALONE,
    ROLES,
)

STARTLE_METHODS = ("mean_of_trials", "mean_of_block_means")
MEASURES = ("vmax", "vavg", "p2p")
OUTLIER_METHODS = ("none", "mad", "sd")
RECTIFY = ("auto", "yes", "no")

#: Trial names of the form ``Type_pulse_prepulse`` (SR-LAB convention), e.g.
#: ``PPI_120_70``, ``Startle_120_0``, ``NoStim_0_0``; separators ``_``, space or ``-``.
TRIAL_NAME_PATTERN = re.compile(
    r"^\s*(?P<kind>[a-z]+(?:[ _-]?[a-z]+)?)[ _-]+(?P<pulse>\d+(?:\.\d+)?)[ _-]+"
    r"(?P<prepulse>\d+(?:\.\d+)?)\s*$",
    re.IGNORECASE,
)
_KIND_PULSE = {"startle", "pulse", "pa", "p", "pulsealone", "pulse_alone"}
_KIND_PREPULSE = {"ppi", "pp", "prepulse", "pppulse", "prepulsepulse"}
_KIND_NOSTIM = {"nostim", "no_stim", "null", "nostimulus", "no_stimulus", "ns", "background"}


def normalise_name(name: str) -> str:
    """Key used to match trial names: case-folded, whitespace collapsed."""
    return " ".join(str(name).split()).casefold()


@dataclass(frozen=True)
class TrialType:
    """One trial type: its names in files, its role and its sound levels (dB SPL)."""

    name: str
    role: str
    pulse_db: float
    prepulse_db: float
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Block:
    """Consecutive trials, by trial number in session order (inclusive range).

    ``ppi``: the block's trials enter %PPI; ``startle``: its pulse-alone trials
    enter the startle magnitude.
    """

    name: str
    first_trial: int
    last_trial: int
    ppi: bool = True
    startle: bool = True


@dataclass(frozen=True)
class AmplitudeSettings:
    """How a per-trial amplitude is measured from raw samples.

    Attributes
    ----------
    measure
        Which measure is the trial amplitude: ``vmax``, ``vavg`` or ``p2p``.
    window_ms
        Response window [start, end) after pulse onset (ms).
    baseline_ms
        Pre-stimulus window [start, end) relative to pulse onset (ms); when the
        file has no sample there, the baseline is the value at onset (V start).
    onset_ms
        Time of pulse onset on the file's time axis (ms); 0 when the file's
        times are already relative to the pulse.
    rectify
        ``auto`` (rectify signed sensors such as accelerometers), ``yes`` or ``no``.
    subtract_baseline
        Subtract the baseline from vmax, vavg before they become the amplitude.
    """

    measure: str = "vmax"
    window_ms: tuple[float, float] = (0.0, 100.0)
    baseline_ms: tuple[float, float] = (-50.0, 0.0)
    onset_ms: float = 0.0
    rectify: str = "auto"
    subtract_baseline: bool = False


@dataclass(frozen=True)
class Exclusions:
    """Exclusion rules.

    Attributes
    ----------
    min_startle_minus_nostim
        An animal is a non-responder when startle - mean no-stimulus amplitude
        is at or below this value; ``None`` disables the rule.
    min_pulse_alone_trials
        Fewest usable pulse-alone trials for an animal to be analysed.
    outlier_method, outlier_threshold
        Trials whose amplitude lies more than ``threshold`` robust z (``mad``:
        median and 1.4826 x MAD) or z (``sd``) from the others of the same
        animal and trial type are left out; ``none`` keeps every trial.
    """

    min_startle_minus_nostim: float | None = None
    min_pulse_alone_trials: int = 1
    outlier_method: str = "none"
    outlier_threshold: float = 3.5


@dataclass(frozen=True)
class StartleProtocol:
    """A validated startle / PPI protocol (see ``docs/startle.md``).

    Notes
    -----
    %PPI = 100 x (pulse-alone - prepulse+pulse) / pulse-alone [1]_, computed as
    ``ppi_method`` says: ``average_first`` (means of all trials of the PPI
    blocks), ``per_block`` (each PPI block against its own pulse-alone mean,
    then averaged over blocks) or ``per_trial`` (each prepulse+pulse trial
    against the animal's pulse-alone mean, then averaged).

    References
    ----------
    .. [1] Swerdlow NR, Geyer MA (1998). Using an animal model of deficient
       sensorimotor gating to study the pathophysiology and new treatments of
       schizophrenia. Schizophr Bull 24:285-301.
    """

    name: str
    background_db: float
    trial_types: tuple[TrialType, ...]
    blocks: tuple[Block, ...] = ()
    ppi_method: str = "average_first"
    negative_ppi: str = "keep"
    startle_method: str = "mean_of_trials"
    habituation_blocks: tuple[str, str] | None = None
    parse_trial_names: bool = True
    session_trials: int | None = None
    amplitude: AmplitudeSettings = field(default_factory=AmplitudeSettings)
    exclusions: Exclusions = field(default_factory=Exclusions)
    source: str = ""

    def name_table(self) -> dict[str, TrialType]:
        """Every accepted name (normalised) -> its trial type."""
        table: dict[str, TrialType] = {}
        for t in self.trial_types:
            for n in (t.name, *t.aliases):
                table[normalise_name(n)] = t
        return table

    def lookup(self, name: str) -> TrialType | None:
        """Trial type of a trial name, or ``None`` when the protocol does not know it."""
        found = self.name_table().get(normalise_name(name))
        if found is None and self.parse_trial_names:
            found = parse_trial_name(name)
        return found


def parse_trial_name(name: str) -> TrialType | None:
    """Trial type from an SR-LAB style name ``Type_pulse_prepulse``, or ``None``.

    Examples
    --------
    >>> parse_trial_name("PPI_120_70").role
    'prepulse_pulse'
    >>> parse_trial_name("NoStim_0_0").role
    'no_stimulus'
    """
    m = TRIAL_NAME_PATTERN.match(str(name))
    if m is None:
        return None
    kind = re.sub(r"[ _-]", "", m["kind"].casefold())
    pulse, prepulse = float(m["pulse"]), float(m["prepulse"])
    if kind in _KIND_NOSTIM or (pulse == 0 and prepulse == 0):
        role = NO_STIMULUS
    elif kind in _KIND_PULSE and prepulse == 0:
        role = PULSE_ALONE
    elif kind in _KIND_PREPULSE | _KIND_PULSE:
        role = PREPULSE_ALONE if pulse == 0 else PREPULSE_PULSE
    else:
        return None
    return TrialType(name=str(name).strip(), role=role, pulse_db=pulse, prepulse_db=prepulse)


def _trial_types(s: Section) -> tuple[TrialType, ...]:
    raw = s.raw("trial_types")
    if not isinstance(raw, list) or not raw:
        raise s.fail(
            "trial_types", "expected a list of trial types (name, role, pulse_db, prepulse_db)"
        )
    out = []
    seen: dict[str, str] = {}
    for i, item in enumerate(raw):
        key = f"trial_types[{i}]"
        if not isinstance(item, Mapping):
            raise s.fail(key, f"expected a mapping, got {item!r}")
        t = Section(item, s.path, prefix=f"{key}.")
        t.reject_unknown({"name", "role", "pulse_db", "prepulse_db", "aliases"})
        role = t.string("role", choices=ROLES)
        pulse = t.number("pulse_db", 0.0, min=0)
        prepulse = t.number("prepulse_db", 0.0, min=0)
        if role in (PULSE_ALONE, PREPULSE_PULSE) and pulse <= 0:
            raise t.fail("pulse_db", f"a {role} trial needs a pulse level > 0 dB")
        if role in (PREPULSE_PULSE, PREPULSE_ALONE) and prepulse <= 0:
            raise t.fail("prepulse_db", f"a {role} trial needs a prepulse level > 0 dB")
        aliases = t.raw("aliases", [])
        if not isinstance(aliases, list) or not all(isinstance(a, (str, int)) for a in aliases):
            raise t.fail("aliases", f"expected a list of names, got {aliases!r}")
        tt = TrialType(t.string("name"), role, pulse, prepulse, tuple(str(a) for a in aliases))
        for n in (tt.name, *tt.aliases):
            k = normalise_name(n)
            if k in seen and seen[k] != tt.name:
                raise t.fail("name", f"name '{n}' is already used by trial type '{seen[k]}'")
            seen[k] = tt.name
        out.append(tt)
    return tuple(out)


def _blocks(s: Section) -> tuple[Block, ...]:
    raw = s.raw("blocks", [])
    if not isinstance(raw, list):
        raise s.fail("blocks", "expected a list of blocks (name, trials: [first, last])")
    blocks: list[Block] = []
    for i, item in enumerate(raw):
        key = f"blocks[{i}]"
        if not isinstance(item, Mapping):
            raise s.fail(key, f"expected a mapping, got {item!r}")
        b = Section(item, s.path, prefix=f"{key}.")
        b.reject_unknown({"name", "trials", "ppi", "startle"})
        trials = b.raw("trials")
        ok = (
            isinstance(trials, list)
            and len(trials) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) for v in trials)
            and 1 <= trials[0] <= trials[1]
        )
        if not ok:
            raise b.fail(
                "trials",
                f"expected [first, last] trial numbers with 1 <= first <= last, got {trials!r}",
            )
        block = Block(
            b.string("name"),
            trials[0],
            trials[1],
            b.boolean("ppi", True),
            b.boolean("startle", True),
        )
        for other in blocks:
            if other.name == block.name:
                raise b.fail("name", f"block name '{block.name}' is used twice")
            if block.first_trial <= other.last_trial and other.first_trial <= block.last_trial:
                raise b.fail("trials", f"trials {trials} overlap block '{other.name}'")
        blocks.append(block)
    return tuple(blocks)


def _amplitude(s: Section) -> AmplitudeSettings:
    if not s.has("amplitude"):
        return AmplitudeSettings()
    a = s.section("amplitude")
    a.reject_unknown(
        {"measure", "window_ms", "baseline_ms", "onset_ms", "rectify", "subtract_baseline"}
    )
    window = a.pair("window_ms", [0.0, 100.0])
    if window[0] < 0:
        raise a.fail(
            "window_ms",
            f"the response window starts at or after pulse onset (>= 0), got {list(window)}",
        )
    baseline = a.pair("baseline_ms", [-50.0, 0.0])
    if baseline[1] > 0:
        raise a.fail(
            "baseline_ms",
            f"the baseline ends at or before pulse onset (<= 0), got {list(baseline)}",
        )
    rectify = a.raw("rectify", "auto")
    if isinstance(rectify, bool):
        rectify = "yes" if rectify else "no"
    if rectify not in RECTIFY:
        raise a.fail("rectify", f"expected auto, true or false, got {rectify!r}")
    return AmplitudeSettings(
        measure=a.string("measure", "vmax", choices=MEASURES),
        window_ms=window,
        baseline_ms=baseline,
        onset_ms=a.number("onset_ms", 0.0),
        rectify=rectify,
        subtract_baseline=a.boolean("subtract_baseline", False),
    )


def _exclusions(s: Section) -> Exclusions:
    if not s.has("exclusions"):
        return Exclusions()
    e = s.section("exclusions")
    e.reject_unknown({"min_startle_minus_nostim", "min_pulse_alone_trials", "outlier_trials"})
    method, threshold = "none", 3.5
    if e.has("outlier_trials"):
        o = e.section("outlier_trials")
        o.reject_unknown({"method", "threshold"})
        method = o.string("method", choices=OUTLIER_METHODS)
        threshold = o.number("threshold", 3.5, min=0, min_exclusive=True)
    return Exclusions(
        min_startle_minus_nostim=(
            e.number("min_startle_minus_nostim") if e.has("min_startle_minus_nostim") else None
        ),
        min_pulse_alone_trials=e.integer("min_pulse_alone_trials", 1, min=1),
        outlier_method=method,
        outlier_threshold=threshold,
    )


_KEYS = {
    "name",
    "description",
    "background_db",
    "trial_types",
    "blocks",
    "ppi_method",
    "negative_ppi",
    "startle_method",
    "habituation",
    "parse_trial_names",
    "session_trials",
    "amplitude",
    "exclusions",
}


def parse_startle_protocol(data: Mapping[str, Any], path: str | Path) -> StartleProtocol:
    """Validate a mapping into a :class:`StartleProtocol` (``path`` is used in errors)."""
    s = Section(data, path)
    s.reject_unknown(_KEYS)
    s.string("description", "")
    blocks = _blocks(s)
    names = {b.name for b in blocks}
    habituation = None
    if s.has("habituation"):
        h = s.section("habituation")
        h.reject_unknown({"first", "last"})
        first, last = h.string("first"), h.string("last")
        for key, value in (("first", first), ("last", last)):
            if value not in names:
                raise h.fail(
                    key, f"no block named '{value}'; blocks: {', '.join(sorted(names)) or 'none'}"
                )
        habituation = (first, last)
    if blocks and not any(b.ppi for b in blocks):
        raise s.fail("blocks", "no block has ppi: true, so %PPI cannot be computed")
    if blocks and not any(b.startle for b in blocks):
        raise s.fail(
            "blocks", "no block has startle: true, so the startle magnitude cannot be computed"
        )
    ppi_method = s.string("ppi_method", "average_first", choices=PPI_METHODS)
    if ppi_method == "per_block" and not blocks:
        raise s.fail("ppi_method", "per_block needs blocks")
    return StartleProtocol(
        name=s.string("name"),
        background_db=s.number("background_db", min=0),
        trial_types=_trial_types(s),
        blocks=blocks,
        ppi_method=ppi_method,
        negative_ppi=s.string("negative_ppi", "keep", choices=NEGATIVE_POLICIES),
        startle_method=s.string("startle_method", "mean_of_trials", choices=STARTLE_METHODS),
        habituation_blocks=habituation,
        parse_trial_names=s.boolean("parse_trial_names", True),
        session_trials=s.integer("session_trials", min=1) if s.has("session_trials") else None,
        amplitude=_amplitude(s),
        exclusions=_exclusions(s),
        source=str(path),
    )


def load_startle_protocol(path: str | Path) -> StartleProtocol:
    """Read and validate a startle protocol file; a shipped name (``ppi_srlab``) also works."""
    p = Path(path)
    if not p.exists() and not p.suffix:
        p = shipped(str(path))  # FileSystemError naming the shipped protocols
    return parse_startle_protocol(load_yaml(p), p)
