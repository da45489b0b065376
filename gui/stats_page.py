"""The Statistics page: a results table and its groups → the test, post hoc, figure, report.

Everything is the core's: tables are read by :func:`behavior.stats.read_table` (or a
session's key by :func:`behavior.blinding.key.key_groups`), analysed by
:func:`behavior.stats.analyze`, drawn by :func:`behavior.stats.plots.figures` and
written by :func:`behavior.stats.write_report` — what ``behavior stats`` runs. The
page only asks, shows and remembers the choices (QSettings, ``stats/…``).
"""

from __future__ import annotations

import html
import warnings
from pathlib import Path

import pandas as pd
from behavior_gui.figure_view import FigureView, FrameTable, one_line
from behavior_gui.settings import Settings
from PyQt5.QtCore import Qt, pyqtSignal
from PyQt5.QtWidgets import (
    QApplication,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from behavior.errors import BehaviorError
from behavior.stats.formatting import stars
from behavior.stats.labels import axis_label

NONE = "(none)"
AUTO = "automatic"
TESTS = (AUTO, "welch", "mannwhitney", "anova", "kruskal", "mixed")
POSTHOCS = (AUTO, "dunnett", "tukey", "dunn", "sidak", "none")
#: columns that are keys or bookkeeping, never a value or a factor to offer
_NOT_VALUES = {"subject", "video", "arena", "code", "observer", "note", "file", "excluded",
               "exclusion_reason", "source_file", "ppi_method", "notices", "window_start_s",
               "window_end_s", "n_observers", "n_events"}
POSTHOC_HEADERS = {"group1": "Group 1", "group2": "Group 2", "diff": "Difference",
                   "ci_low": "95 % CI low", "ci_high": "95 % CI high", "p_adj": "p (adjusted)",
                   "stars": "",
                   "method": "Method", "factor": "Factor", "at": "Within", "statistic":
                   "Statistic", "p": "p (unadjusted)"}
TABLE_FILTER = "Tables (*.csv *.tsv *.txt *.xlsx);;All files (*)"


def numeric_columns(table: pd.DataFrame) -> list[str]:
    """Columns of a text table whose filled cells mostly read as numbers (offered as
    values); the core checks every cell again and names those it drops."""
    out = []
    for c in table.columns:
        if c in _NOT_VALUES:
            continue
        cells = table[c].astype(str).str.strip()
        filled = cells[cells != ""]
        if len(filled) and pd.to_numeric(filled, errors="coerce").notna().mean() >= 0.8:
            out.append(c)
    return out


class StatsPage(QWidget):
    """Signals ``message(text)`` for the status bar."""

    message = pyqtSignal(str)

    def __init__(self, settings: Settings, parent: QWidget | None = None):
        super().__init__(parent)
        self.settings = settings
        self.results: pd.DataFrame | None = None
        self.groups: pd.DataFrame | None = None
        self.result = None  # the last StatsResult
        self._build()
        self._restore()

    # -- layout ------------------------------------------------------------------------
    def _build(self) -> None:
        self.results_edit, results_row = self._file_row("Results table (auto-scored, "
                                                        "unblinded or PPI)", self.browse_results)
        self.groups_edit, groups_row = self._file_row(
            "Groups table, or a session's key (.json / key .csv); empty when the results "
            "carry the groups", self.browse_groups)
        self.load_button = QPushButton("Load tables")
        self.load_button.clicked.connect(self.load)
        self.value_combo = QComboBox()
        self.factor1 = QComboBox()
        self.factor2 = QComboBox()
        self.within_combo = QComboBox()
        self.control_combo = QComboBox()
        self.where_column = QComboBox()
        self.where_value = QComboBox()
        self.test_combo = QComboBox()
        self.test_combo.addItems(TESTS)
        self.posthoc_combo = QComboBox()
        self.posthoc_combo.addItems(POSTHOCS)
        self.factor1.currentTextChanged.connect(self._fill_control)
        self.where_column.currentTextChanged.connect(self._fill_where_values)
        self.value_combo.setToolTip("The column analysed (numbers)")
        self.within_combo.setToolTip("A factor measured in every animal (long layout), e.g. "
                                     "prepulse_db: repeated-measures or mixed ANOVA")
        self.where_column.setToolTip("Keep only the rows with this value (e.g. one pulse level "
                                     "of a PPI table)")
        self.analyze_button = QPushButton("Analyse")
        self.analyze_button.setDefault(True)
        self.analyze_button.clicked.connect(self.analyze)
        self.export_button = QPushButton("Export report and figures…")
        self.export_button.setToolTip("report.html, the tables as CSV and the figure as PNG, "
                                      "SVG and PDF, as `behavior stats --out` writes them")
        self.export_button.clicked.connect(lambda: self.export(None))
        self.export_button.setEnabled(False)

        inputs = QGroupBox("Tables")
        iform = QVBoxLayout(inputs)
        iform.addLayout(results_row)
        iform.addLayout(groups_row)
        iform.addWidget(self.load_button)
        choices = QGroupBox("Analysis")
        form = QFormLayout(choices)
        form.addRow("Value", self.value_combo)
        form.addRow("Factor", self.factor1)
        form.addRow("Second factor", self.factor2)
        form.addRow("Within-animal factor", self.within_combo)
        form.addRow("Control group", self.control_combo)
        where = QHBoxLayout()
        where.addWidget(self.where_column, 1)
        where.addWidget(QLabel("="))
        where.addWidget(self.where_value, 1)
        form.addRow("Only rows where", where)
        form.addRow("Test", self.test_combo)
        form.addRow("Post hoc", self.posthoc_combo)
        buttons = QHBoxLayout()
        buttons.addWidget(self.analyze_button)
        buttons.addWidget(self.export_button)
        form.addRow(buttons)
        left = QWidget()
        lv = QVBoxLayout(left)
        lv.setContentsMargins(0, 0, 0, 0)
        lv.addWidget(inputs)
        lv.addWidget(choices)
        lv.addStretch(1)
        left.setMinimumWidth(360)
        left.setMaximumWidth(480)

        self.summary = QTextBrowser()
        self.summary.setOpenLinks(False)
        self.summary.setMinimumHeight(150)
        self.summary.setHtml("<p style='color:gray'>Load a results table, choose the value and "
                             "the factor, then Analyse.</p>")
        self.figure = FigureView("The figure appears here after Analyse.")
        self.posthoc_table = FrameTable()
        self.tests_table = FrameTable()
        self.descriptives_table = FrameTable()
        self.assumptions_table = FrameTable()
        self.data_table = FrameTable()
        self.tabs = QTabWidget()
        self.tabs.addTab(self.figure, "Figure")
        self.tabs.addTab(self.posthoc_table, "Post hoc")
        self.tabs.addTab(self.tests_table, "Tests")
        self.tabs.addTab(self.descriptives_table, "Descriptives")
        self.tabs.addTab(self.assumptions_table, "Assumption checks")
        self.tabs.addTab(self.data_table, "Data analysed")
        right = QSplitter(Qt.Vertical)
        right.addWidget(self.summary)
        right.addWidget(self.tabs)
        right.setStretchFactor(0, 2)
        right.setStretchFactor(1, 5)
        right.setSizes([250, 500])
        split = QSplitter(Qt.Horizontal)
        split.addWidget(left)
        split.addWidget(right)
        split.setStretchFactor(1, 1)
        outer = QVBoxLayout(self)
        outer.addWidget(split)

    def _file_row(self, tip: str, browse) -> tuple[QLineEdit, QHBoxLayout]:
        edit = QLineEdit()
        edit.setPlaceholderText(tip.split(" (")[0].split(",")[0])
        edit.setToolTip(tip)
        button = QPushButton("…")
        button.setFixedWidth(32)
        button.setToolTip(tip)
        button.clicked.connect(browse)
        row = QHBoxLayout()
        row.addWidget(edit, 1)
        row.addWidget(button)
        return edit, row

    # -- asking (tests replace these) --------------------------------------------------
    def ask_open(self, title: str, filters: str) -> str | None:
        path, _ = QFileDialog.getOpenFileName(self, title, self._folder(), filters)
        return path or None

    def ask_folder(self) -> str | None:
        path = QFileDialog.getExistingDirectory(self, "Export the report into a folder",
                                                self.settings.value("stats/export", "") or "")
        return path or None

    def _folder(self) -> str:
        return str(Path(self.results_edit.text()).parent) if self.results_edit.text() else ""

    def browse_results(self) -> None:
        path = self.ask_open("Results table", TABLE_FILTER)
        if path:
            self.results_edit.setText(path)
            self.load()

    def browse_groups(self) -> None:
        path = self.ask_open("Groups table or session key",
                             "Groups or key (*.csv *.tsv *.txt *.xlsx *.json);;All files (*)")
        if path:
            self.groups_edit.setText(path)
            self.load()

    # -- loading -----------------------------------------------------------------------
    def load(self) -> bool:
        """Read both tables (the core's readers) and offer their columns."""
        from behavior.blinding.key import key_groups
        from behavior.stats import read_table

        path = self.results_edit.text().strip()
        gpath = self.groups_edit.text().strip()
        if not path:
            self._error("Choose a results table first.")
            return False
        try:
            results = read_table(path)
            groups = None
            if gpath:
                groups = (key_groups(gpath, list(results.columns)) if _is_key(gpath)
                          else read_table(gpath))
        except BehaviorError as exc:
            self._error(one_line(exc))
            return False
        self.results, self.groups = results, groups
        self._fill_choices()
        self.settings.set_value("stats/results", path)
        self.settings.set_value("stats/groups", gpath)
        self.message.emit(f"read {len(results)} row(s) from {Path(path).name}"
                          + (f" and {len(groups)} from {Path(gpath).name}" if groups is not None
                             else ""))
        return True

    def _fill_choices(self) -> None:
        res, grp = self.results, self.groups
        assert res is not None
        values = numeric_columns(res)
        factor_source = [c for c in (grp.columns if grp is not None else res.columns)
                         if c not in _NOT_VALUES or c == "group"]
        if grp is None:
            factor_source = [c for c in factor_source if c not in values or c.endswith("_db")
                             or c.startswith("dose")]
        within = [c for c in res.columns if c not in _NOT_VALUES and c not in values
                  or c.endswith("_db")]
        remember = {k: self.settings.value(f"stats/{k}", "") for k in
                    ("value", "factor1", "factor2", "within", "control", "where_column",
                     "where_value")}
        _set_items(self.value_combo, values, remember["value"] or _first(values, (
            "immobility_s", "ppi_pct", "immobility_pct")))
        default_factor = _first(factor_source, ("group", "dose_mg_kg", "treatment"))
        _set_items(self.factor1, factor_source, remember["factor1"] or default_factor)
        _set_items(self.factor2, [NONE, *factor_source], remember["factor2"] or NONE)
        _set_items(self.within_combo, [NONE, *dict.fromkeys(within)],
                   remember["within"] or NONE)
        _set_items(self.where_column, [NONE, *[c for c in res.columns if c not in ("subject",)]],
                   remember["where_column"] or NONE)
        self._fill_where_values(self.where_column.currentText())
        if remember["where_value"]:
            self.where_value.setCurrentText(str(remember["where_value"]))
        self._fill_control(self.factor1.currentText())
        if remember["control"]:
            self.control_combo.setCurrentText(str(remember["control"]))

    def _fill_control(self, factor: str) -> None:
        levels: list[str] = []
        for table in (self.groups, self.results):
            if table is not None and factor in table.columns:
                levels = list(dict.fromkeys(v for v in table[factor].astype(str) if v.strip()))
                break
        current = self.control_combo.currentText()
        _set_items(self.control_combo, [NONE, *levels], current if current in levels else
                   (levels[0] if levels else NONE))

    def _fill_where_values(self, column: str) -> None:
        values = []
        if self.results is not None and column in self.results.columns:
            values = list(dict.fromkeys(self.results[column].astype(str)))
        _set_items(self.where_value, values, self.where_value.currentText())

    # -- the analysis ------------------------------------------------------------------
    def choices(self) -> dict:
        """The arguments given to :func:`behavior.stats.analyze`."""
        f1, f2 = self.factor1.currentText(), self.factor2.currentText()
        between = [f for f in (f1, f2) if f and f != NONE]
        within = self.within_combo.currentText()
        control = self.control_combo.currentText()
        test, posthoc = self.test_combo.currentText(), self.posthoc_combo.currentText()
        where_col = self.where_column.currentText()
        return {
            "value": self.value_combo.currentText(),
            "between": between or None,
            "within": within if within and within != NONE else None,
            "control": control if control and control != NONE else None,
            "test": None if test == AUTO else test,
            "posthoc": None if posthoc == AUTO else posthoc,
            "where": ({where_col: self.where_value.currentText()}
                      if where_col and where_col != NONE else None),
        }

    def analyze(self) -> bool:
        """Run the core's analysis on the tables with the choices made; show it."""
        from behavior.stats import DataWarning, analyze

        if self.results is None and not self.load():
            return False
        args = self.choices()
        if not args["value"]:
            self._error("The results table has no column of numbers to analyse.")
            return False
        QApplication.setOverrideCursor(Qt.WaitCursor)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DataWarning)
                result = analyze(self.results, self.groups, **args)
            from behavior.stats.plots import figures

            figs = figures(result)
        except BehaviorError as exc:
            self._error(one_line(exc))
            return False
        finally:
            QApplication.restoreOverrideCursor()
        self.result = result
        self._remember(args)
        self.show_result(result, figs)
        self.export_button.setEnabled(True)
        self.message.emit(f"{result.primary}: {len(result.design.data)} row(s) analysed")
        return True

    def show_result(self, result, figs: dict) -> None:
        d = result.design
        e = html.escape
        factors = " × ".join(axis_label(f) for f in [*d.between, *([d.within] if d.within
                                                                   else [])])
        n = d.data["subject"].nunique()
        parts = [f"<h3>{e(axis_label(d.value))} by {e(factors)}</h3>",
                 f"<p><b>Test:</b> {e(result.primary)} — {e(_design_words(d))}; {n} animals "
                 "analysed.</p>"]
        if result.warnings:
            parts.append("<div style='background:#fff6dd; padding:4px'><b>Left out or worth a "
                          "look:</b><ul>" + "".join(f"<li>{e(w)}</li>" for w in result.warnings)
                          + "</ul></div>")
        parts.append("<p><b>Result</b></p><ul>" + "".join(f"<li>{e(m)}</li>"
                                                          for m in result.methods) + "</ul>")
        if result.advice:
            parts.append("<p><b>Why this test (assumption checks)</b></p><ul>"
                         + "".join(f"<li>{e(a)}</li>" for a in result.advice) + "</ul>")
        self.summary.setHtml("".join(parts))
        post = result.posthoc
        if not post.empty:  # the figure's marks beside the adjusted p (the core's stars)
            post = post.assign(stars=[stars(p) for p in post["p_adj"]])
            post = post[[*post.columns[:6], "stars", *post.columns[6:-1]]]
        self.posthoc_table.set_frame(post, POSTHOC_HEADERS)
        self.tests_table.set_frame(result.tests, digits=4)
        self.descriptives_table.set_frame(result.descriptives)
        self.assumptions_table.set_frame(result.assumptions)
        self.data_table.set_frame(d.data)
        self.figure.set_figure(next(iter(figs.values())) if figs else None)

    def export(self, folder: str | None) -> dict | None:
        """Write the report, tables and figures through the core's ``write_report``."""
        from behavior.stats import write_report

        if self.result is None:
            return None
        folder = folder or self.ask_folder()
        if not folder:
            return None
        QApplication.setOverrideCursor(Qt.WaitCursor)
        try:
            written = write_report(self.result, folder)
        except BehaviorError as exc:
            self._error(one_line(exc))
            return None
        finally:
            QApplication.restoreOverrideCursor()
        self.settings.set_value("stats/export", folder)
        self.message.emit(f"wrote {len(written)} files to {folder} (open report.html)")
        return written

    # -- helpers -----------------------------------------------------------------------
    def _remember(self, args: dict) -> None:
        s = self.settings
        s.set_value("stats/value", args["value"])
        s.set_value("stats/factor1", self.factor1.currentText())
        s.set_value("stats/factor2", self.factor2.currentText())
        s.set_value("stats/within", self.within_combo.currentText())
        s.set_value("stats/control", self.control_combo.currentText())
        s.set_value("stats/where_column", self.where_column.currentText())
        s.set_value("stats/where_value", self.where_value.currentText())

    def _restore(self) -> None:
        self.results_edit.setText(str(self.settings.value("stats/results", "") or ""))
        self.groups_edit.setText(str(self.settings.value("stats/groups", "") or ""))

    def _error(self, text: str) -> None:
        self.summary.setHtml(f"<p style='color:#b00020'>{html.escape(text)}</p>")
        self.message.emit(text)


def _is_key(path: str) -> bool:
    """A session's key: JSON, or a CSV starting with the key's marker line."""
    p = Path(path)
    if p.suffix.lower() == ".json":
        return True
    try:
        with open(p, "rb") as fh:
            return fh.read(64).lstrip(b"\xef\xbb\xbf").startswith(b"# behavior-blinding-key")
    except OSError:
        return False


def _design_words(d) -> str:
    between = [f"{axis_label(f)}: {len(d.levels[f])} levels" for f in d.between]
    text = " and ".join(between) + (" between animals" if between else "")
    if d.within:
        text += ("; " if text else "") + f"{axis_label(d.within)}: " \
                f"{len(d.levels[d.within])} levels within each animal"
    return text


def _first(items: list[str], preferred: tuple[str, ...]) -> str:
    return next((p for p in preferred if p in items), items[0] if items else "")


def _set_items(combo: QComboBox, items: list[str], current: str) -> None:
    combo.blockSignals(True)
    combo.clear()
    combo.addItems([str(i) for i in items])
    if current in items:
        combo.setCurrentText(current)
    combo.blockSignals(False)
