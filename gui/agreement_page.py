"""The Agreement page: observers and the auto-scorer side by side, and calibration.

Raters come from :func:`behavior.blinding.raters.load_raters` (session folders,
interval tables, auto-score traces folders or results tables — what ``behavior
agreement`` takes); the numbers from :func:`behavior.blinding.agreement.agreement`;
the Bland–Altman plot from :func:`behavior.blinding.plots.bland_altman_figure`.
"Calibrate" runs :func:`behavior.blinding.calibrate.calibrate` on the observers' scores
and the traces, as ``behavior fst calibrate`` does, and offers to save the protocol
(:func:`~behavior.blinding.calibrate.calibrated_protocol_text`, written atomically).
"""

from __future__ import annotations

import html
import math
from pathlib import Path

from behavior_gui.figure_view import FigureView, FrameTable, Task, one_line
from behavior_gui.settings import Settings
from behavior_gui.timeline import Bout, Timeline
from PyQt5.QtCore import QPointF, QRectF, Qt, pyqtSignal
from PyQt5.QtGui import QColor, QPainter
from PyQt5.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from behavior.errors import BehaviorError

#: shipped protocols the traces can be scored with
PROTOCOLS = ("mouse_fst", "rat_modified_fst", "mouse_tst")
#: the pairwise columns shown, with their headers
PAIR_HEADERS = {"rater1": "Rater 1", "rater2": "Rater 2", "n_videos": "Videos",
                "n_bins": "Bins", "pearson_r": "r", "icc": "ICC", "icc_ci_low": "ICC 95 % low",
                "icc_ci_high": "ICC 95 % high", "kappa": "κ", "pct_agreement": "% agreement",
                "bias_s": "Bias (s)", "loa_low_s": "LoA low (s)", "loa_high_s": "LoA high (s)",
                "mean_abs_diff_s": "Mean |diff| (s)", "note": "Note"}
OVERALL_HEADERS = {"raters": "Raters", "n_raters": "n", "n_videos": "Videos", "n_bins": "Bins",
                   "icc": "ICC", "icc_ci_low": "ICC 95 % low", "icc_ci_high": "ICC 95 % high",
                   "fleiss_kappa": "Fleiss κ", "pct_all_agree": "% all agree", "note": "Note"}
#: lane colours (Okabe & Ito): observers in blues and greens, the auto-scorer in orange
MANUAL_COLOURS = (QColor(0, 114, 178), QColor(0, 158, 115), QColor(86, 180, 233),
                  QColor(204, 121, 167), QColor(0, 0, 0))
AUTO_COLOURS = (QColor(213, 94, 0), QColor(230, 159, 0))


class RaterLanes(Timeline):
    """The timeline with one lane per rater (the lane's name is the rater's), each
    rater's bouts of one video in its own colour; nothing is editable."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.colours: dict[str, QColor] = {}
        self.LABEL_W = 150
        self.playhead_s = -1e9  # no playhead: nothing plays here

    def mousePressEvent(self, event) -> None:  # read-only
        event.ignore()

    def mouseMoveEvent(self, event) -> None:
        bout, _ = self.bout_at(QPointF(event.pos()))
        self.setToolTip(f"{bout.behaviour}: {bout.start_s:.2f}–{bout.end_s:.2f} s "
                        f"({bout.end_s - bout.start_s:.2f} s)" if bout else "")

    def paintEvent(self, event) -> None:
        super().paintEvent(event)
        painter = QPainter(self)
        for bout in self.bouts:
            row = self._row(bout.behaviour)
            r = QRectF(QPointF(self.x_of(bout.start_s), row.top()),
                       QPointF(max(self.x_of(bout.end_s), self.x_of(bout.start_s) + 1),
                               row.bottom()))
            painter.fillRect(r, self.colours.get(bout.behaviour, QColor(120, 120, 120)))
        painter.end()


class AgreementPage(QWidget):
    """Signals ``message(text)`` for the status bar."""

    message = pyqtSignal(str)

    def __init__(self, settings: Settings, parent: QWidget | None = None):
        super().__init__(parent)
        self.settings = settings
        self.raters: list = []
        self._loaded: tuple = ()
        self.result = None  # the last Agreement
        self.calibration = None
        self.task: Task | None = None
        self._build()
        self._restore()

    # -- layout ------------------------------------------------------------------------
    def _build(self) -> None:
        inputs = QGroupBox("Raters")
        iv = QVBoxLayout(inputs)
        self.input_list = QListWidget()
        self.input_list.setToolTip("Session folders (one rater per observer), auto-score "
                                   "traces folders (the auto-scorer), interval or results "
                                   "tables")
        self.input_list.setMaximumHeight(64)
        iv.addWidget(self.input_list)
        row = QHBoxLayout()
        for text, slot in (("Session…", self.browse_session), ("Traces…", self.browse_traces),
                           ("Table…", self.browse_table), ("Remove", self.remove_input)):
            b = QPushButton(text)
            b.clicked.connect(slot)
            row.addWidget(b)
        iv.addLayout(row)
        form = QFormLayout()
        self.protocol_combo = QComboBox()
        self.protocol_combo.setEditable(True)
        self.protocol_combo.addItems(PROTOCOLS)
        self.protocol_combo.setToolTip("The protocol the traces are scored with (threshold, "
                                       "smoothing, minimum bout): a shipped name or a YAML file")
        form.addRow("Protocol", self.protocol_combo)
        self.window_edit = QLineEdit()
        self.window_edit.setPlaceholderText("the session's (e.g. 120 360)")
        self.window_edit.setToolTip("Window compared, start and end in s; empty: the "
                                    "session's, else the protocol's")
        form.addRow("Window (s)", self.window_edit)
        self.bin_spin = QDoubleSpinBox()
        self.bin_spin.setRange(0.1, 60)
        self.bin_spin.setValue(1.0)
        self.bin_spin.setSuffix(" s")
        self.bin_spin.setToolTip("Bins of κ and % agreement: a bin is immobile when more "
                                 "than half of it is")
        form.addRow("Bin", self.bin_spin)
        iv.addLayout(form)
        self.load_button = QPushButton("Load")
        self.load_button.clicked.connect(self.load)
        iv.addWidget(self.load_button)
        self.rater_list = QListWidget()
        self.rater_list.setToolTip("Tick the raters to compare")
        self.rater_list.setMaximumHeight(80)
        iv.addWidget(QLabel("Compare:"))
        iv.addWidget(self.rater_list)
        self.compare_button = QPushButton("Compare")
        self.compare_button.setDefault(True)
        self.compare_button.clicked.connect(self.compare)
        iv.addWidget(self.compare_button)

        calib = QGroupBox("Calibrate the auto-scorer on the observers")
        cform = QFormLayout(calib)
        self.criterion_combo = QComboBox()
        self.criterion_combo.addItems(("kappa", "icc", "pct_agreement"))
        cform.addRow("Criterion", self.criterion_combo)
        self.calibrate_button = QPushButton("Calibrate")
        self.calibrate_button.setToolTip("Re-score the traces for many thresholds and minimum "
                                         "bouts and keep the pair that agrees best with the "
                                         "observers (behavior fst calibrate)")
        self.calibrate_button.clicked.connect(self.calibrate)
        self.save_button = QPushButton("Save protocol…")
        self.save_button.setEnabled(False)
        self.save_button.clicked.connect(lambda: self.save_protocol(None))
        brow = QHBoxLayout()
        brow.addWidget(self.calibrate_button)
        brow.addWidget(self.save_button)
        cform.addRow(brow)
        self.calibration_label = QLabel("")
        self.calibration_label.setWordWrap(True)
        cform.addRow(self.calibration_label)

        left = QWidget()
        lv = QVBoxLayout(left)
        lv.setContentsMargins(0, 0, 0, 0)
        lv.addWidget(inputs)
        lv.addWidget(calib)
        lv.addStretch(1)
        left.setMinimumWidth(340)
        left.setMaximumWidth(440)

        self.notes_label = QLabel("Add a session and the auto-scorer's traces, Load, then "
                                  "Compare.")
        self.notes_label.setWordWrap(True)
        self.pair_table = FrameTable()
        self.overall_table = FrameTable()
        self.overall_table.hide()
        self.video_combo = QComboBox()
        self.video_combo.currentTextChanged.connect(self.show_video)
        self.lanes = RaterLanes()
        self.video_seconds = QLabel("")
        self.figure = FigureView("The Bland–Altman plot appears here after Compare.")
        vrow = QHBoxLayout()
        vrow.addWidget(QLabel("Video:"))
        vrow.addWidget(self.video_combo, 1)
        video_box = QWidget()
        vv = QVBoxLayout(video_box)
        vv.setContentsMargins(0, 0, 0, 0)
        vv.addLayout(vrow)
        vv.addWidget(self.lanes)
        vv.addWidget(self.video_seconds)
        tables = QWidget()
        tv = QVBoxLayout(tables)
        tv.setContentsMargins(0, 0, 0, 0)
        tv.addWidget(self.notes_label)
        tv.addWidget(self.pair_table)
        tv.addWidget(self.overall_table)
        tv.addWidget(video_box)
        self.figure.setMinimumHeight(260)
        right = QSplitter(Qt.Vertical)
        right.addWidget(tables)
        right.addWidget(self.figure)
        right.setStretchFactor(0, 0)
        right.setStretchFactor(1, 1)
        right.setChildrenCollapsible(False)
        split = QSplitter(Qt.Horizontal)
        split.addWidget(left)
        split.addWidget(right)
        split.setStretchFactor(1, 1)
        QVBoxLayout(self).addWidget(split)

    # -- asking (tests replace these) --------------------------------------------------
    def ask_folder(self, title: str) -> str | None:
        return QFileDialog.getExistingDirectory(self, title) or None

    def ask_open(self, title: str, filters: str) -> str | None:
        path, _ = QFileDialog.getOpenFileName(self, title, "", filters)
        return path or None

    def ask_save(self, title: str, filters: str) -> str | None:
        path, _ = QFileDialog.getSaveFileName(self, title, "calibrated.yaml", filters)
        return path or None

    def browse_session(self) -> None:
        path = self.ask_folder("A session folder (its observers are raters)")
        if path:
            self.add_input(path)

    def browse_traces(self) -> None:
        path = self.ask_folder("The auto-scorer's traces folder (behavior fst score --traces)")
        if path:
            self.add_input(path)

    def browse_table(self) -> None:
        path = self.ask_open("An interval table or an auto-score results table",
                             "Tables (*.csv *.tsv *.txt);;All files (*)")
        if path:
            self.add_input(path)

    def add_input(self, path: str | Path) -> None:
        self.input_list.addItem(str(path))

    def remove_input(self) -> None:
        for item in self.input_list.selectedItems():
            self.input_list.takeItem(self.input_list.row(item))

    def inputs(self) -> list[str]:
        return [self.input_list.item(i).text() for i in range(self.input_list.count())]

    # -- loading and comparing ---------------------------------------------------------
    def protocol(self):
        from behavior.protocols import load_fst_protocol

        return load_fst_protocol(self.protocol_combo.currentText().strip() or "mouse_fst")

    def window(self) -> tuple[float, float] | None:
        text = self.window_edit.text().replace(",", " ").replace("–", " ").split()
        if not text:
            return None
        try:
            a, b = (float(t) for t in text)
        except ValueError:
            raise BehaviorError(f"window: expected two numbers, start and end in s, got "
                                f"{self.window_edit.text()!r}") from None
        return a, b

    def load(self) -> bool:
        """Read every input as raters (the core's ``load_raters``); all ticked."""
        from behavior.blinding.raters import load_raters

        if not self.inputs():
            self._error("Add a session, a traces folder or a table first.")
            return False
        try:
            raters = load_raters(self.inputs(), self.protocol())
        except BehaviorError as exc:
            self._error(one_line(exc))
            return False
        unticked = {self.rater_list.item(i).data(Qt.UserRole) for i in
                    range(self.rater_list.count())
                    if self.rater_list.item(i).checkState() != Qt.Checked}
        self.raters = raters
        self._loaded = self._load_key()
        self.rater_list.clear()
        for r in raters:
            item = QListWidgetItem(f"{r.name}  ({r.kind}, {len(r.videos)} video(s)"
                                   + (", totals only" if not r.bouts else "") + ")")
            item.setData(Qt.UserRole, r.name)
            item.setFlags(item.flags() | Qt.ItemIsUserCheckable)
            item.setCheckState(Qt.Unchecked if r.name in unticked else Qt.Checked)
            item.setToolTip(r.source)
            self.rater_list.addItem(item)
        self.settings.set_value("agreement/inputs", self.inputs())
        self.settings.set_value("agreement/protocol", self.protocol_combo.currentText())
        notes = [n for r in raters for n in r.notes]
        self.notes_label.setText(f"{len(raters)} rater(s) loaded." + (
            " " + " ".join(notes) if notes else ""))
        return True

    def _load_key(self) -> tuple:
        return (tuple(self.inputs()), self.protocol_combo.currentText().strip())

    def selected(self) -> list:
        names = {self.rater_list.item(i).data(Qt.UserRole) for i in range(self.rater_list.count())
                 if self.rater_list.item(i).checkState() == Qt.Checked}
        return [r for r in self.raters if r.name in names]

    def compare(self) -> bool:
        """The core's agreement on the ticked raters: the table, lanes and Bland–Altman."""
        from behavior.blinding.agreement import agreement
        from behavior.blinding.plots import bland_altman_figure

        if (not self.raters or self._loaded != self._load_key()) and not self.load():
            return False  # the inputs or the protocol changed since: read them again
        try:
            protocol = self.protocol()
            result = agreement(self.selected(), self.window(), self.bin_spin.value(),
                               protocol.window_s)
        except BehaviorError as exc:
            self._error(one_line(exc))
            return False
        self.result = result
        self.settings.set_value("agreement/window", self.window_edit.text())
        self.settings.set_value("agreement/bin_s", self.bin_spin.value())
        self.pair_table.set_frame(result.pairs[[c for c in PAIR_HEADERS if c in
                                                result.pairs.columns]], PAIR_HEADERS)
        self.pair_table.fit_rows(4)
        if result.overall is not None:
            self.overall_table.set_frame(result.overall[list(OVERALL_HEADERS)], OVERALL_HEADERS)
            self.overall_table.fit_rows(1)
            self.overall_table.show()
        else:
            self.overall_table.hide()
        w = result.window_s
        notes = [f"Window {w[0]:g}–{w[1]:g} s, bins of {result.bin_s:g} s."]
        notes += list(result.notes)
        notes += [f"{r['rater1']} vs {r['rater2']}: {r['note']}" for _, r in
                  result.pairs.iterrows() if r["note"]]
        self.notes_label.setText(" ".join(notes))
        self.notes_label.setStyleSheet("color: #b00020" if result.empty else "")
        self.figure.set_figure(bland_altman_figure(result.tables))
        self._fill_videos()
        self.message.emit(f"agreement of {len(self.selected())} raters on "
                          f"{int(result.pairs['n_videos'].max())} video(s)")
        return True

    def _fill_videos(self) -> None:
        raters = self.selected()
        videos = sorted(set().union(*(r.videos for r in raters))) if raters else []
        current = self.video_combo.currentText()
        self.video_combo.blockSignals(True)
        self.video_combo.clear()
        self.video_combo.addItems(videos)
        if current in videos:
            self.video_combo.setCurrentText(current)
        self.video_combo.blockSignals(False)
        self.show_video(self.video_combo.currentText())

    def show_video(self, video: str) -> None:
        """Each rater's bouts of ``video``, one lane each, the window shaded."""
        raters = self.selected()
        if not video or self.result is None:
            return
        names = tuple(r.name for r in raters)
        ends = [r.end(video) for r in raters if math.isfinite(r.end(video))]
        bouts = []
        self.lanes.colours = {}
        manual = auto = 0
        for r in raters:
            if r.kind == "auto":
                self.lanes.colours[r.name] = AUTO_COLOURS[auto % len(AUTO_COLOURS)]
                auto += 1
            else:
                self.lanes.colours[r.name] = MANUAL_COLOURS[manual % len(MANUAL_COLOURS)]
                manual += 1
            for k, (a, b) in enumerate(r.bouts.get(video, [])):
                bouts.append(Bout(k, r.name, float(a), float(b)))
        last = max([b.end_s for b in bouts] + ends + [self.result.window_s[1]])
        self.lanes.set_layout(names, max(ends) if ends else last, self.result.window_s,
                              self.result.bin_s if self.result.bin_s >= 5 else 0.0)
        self.lanes.set_bouts(bouts, None)
        self.video_seconds.setText(_seconds_text(self.result.tables, video, names))

    # -- calibration -------------------------------------------------------------------
    def calibrate(self) -> Task | None:
        """Run the core's calibration in a worker: the ticked observers against the
        traces folder(s) among the inputs."""
        if self.task is not None and self.task.isRunning():
            return None
        if (not self.raters or self._loaded != self._load_key()) and not self.load():
            return None
        manual = [r for r in self.selected() if r.kind == "manual"]
        folders = [p for p in self.inputs() if Path(p).is_dir() and not
                   (Path(p) / "session.sqlite").exists()]
        if not manual or not folders:
            self._say_calibration("Calibration needs observers' scores and the auto-scorer's "
                                  "traces folder among the raters.", error=True)
            return None
        try:
            protocol, window, bin_s = self.protocol(), self.window(), self.bin_spin.value()
        except BehaviorError as exc:
            self._say_calibration(one_line(exc), error=True)
            return None
        criterion = self.criterion_combo.currentText()

        def work():
            from behavior.blinding.calibrate import calibrate
            from behavior.fst.traces import find_traces, read_trace

            traces = [read_trace(p) for f in folders for p in find_traces(f)]
            return calibrate(manual, traces, protocol, window_s=window, bin_s=bin_s,
                             criterion=criterion), protocol, [r.source for r in manual]

        self.task = Task(work, self)
        self.task.finished_ok.connect(self._calibrated)
        self.task.failed.connect(lambda text: self._say_calibration(text, error=True))
        self.calibrate_button.setEnabled(False)
        self.task.finished.connect(lambda: self.calibrate_button.setEnabled(True))
        self._say_calibration("Calibrating: re-scoring the traces for every threshold and "
                              "minimum bout…")
        self.task.start()
        return self.task

    def _calibrated(self, out) -> None:
        result, protocol, sources = out
        self.calibration = (result, protocol, list(dict.fromkeys(sources)))
        b = result.best
        text = (f"On {len(result.videos)} video(s): threshold {result.threshold:g}, minimum "
                f"bout {result.min_bout_s:g} s — κ {b['kappa']:.3f}, {b['pct_agreement']:.1f} % "
                f"agreement, ICC {b['icc']:.3f}, bias {b['bias_s']:.2f} s, mean |difference| "
                f"{b['mean_abs_diff_s']:.2f} s per video.")
        for line in (result.versus_automatic, result.automatic_scores):
            if line:
                text += " " + line[:1].upper() + line[1:] + "."
        text += "".join(f" {n}" for n in result.notes)
        self._say_calibration(text)
        self.save_button.setEnabled(True)
        self.message.emit(f"calibrated: threshold {result.threshold:g}, minimum bout "
                          f"{result.min_bout_s:g} s")

    def save_protocol(self, path: str | None) -> Path | None:
        """Write the calibrated protocol (atomically), as ``fst calibrate --out`` does."""
        from behavior.blinding.calibrate import calibrated_protocol_text
        from behavior.io.atomic import write_text

        if self.calibration is None:
            return None
        path = path or self.ask_save("Save the calibrated protocol", "Protocol (*.yaml *.yml)")
        if not path:
            return None
        result, protocol, sources = self.calibration
        try:
            written = write_text(path, calibrated_protocol_text(protocol, result, sources))
        except BehaviorError as exc:
            self._say_calibration(one_line(exc), error=True)
            return None
        self.message.emit(f"protocol written to {path}")
        return Path(written)

    # -- helpers -----------------------------------------------------------------------
    def _say_calibration(self, text: str, error: bool = False) -> None:
        self.calibration_label.setText(html.escape(text))
        self.calibration_label.setStyleSheet("color: #b00020" if error else "")

    def _error(self, text: str) -> None:
        self.notes_label.setText(text)
        self.notes_label.setStyleSheet("color: #b00020")
        self.message.emit(text)

    def _restore(self) -> None:
        s = self.settings
        value = s.value("agreement/inputs", [])
        for p in ([value] if isinstance(value, str) else list(value or [])):
            if p and Path(p).exists():
                self.add_input(p)
        self.protocol_combo.setCurrentText(str(s.value("agreement/protocol", "mouse_fst")))
        self.window_edit.setText(str(s.value("agreement/window", "") or ""))
        self.bin_spin.setValue(float(s.value("agreement/bin_s", 1.0)))


def _seconds_text(tables, video: str, names: tuple[str, ...]) -> str:
    """Each rater's immobility seconds in the window for ``video``, as the core's pair
    tables hold them (a rater with nothing observed there: "—")."""
    seconds: dict[str, float] = {}
    for name1, name2, table in tables:
        row = table[table["video"] == video]
        if len(row):
            seconds.setdefault(name1, float(row["x_s"].iloc[0]))
            seconds.setdefault(name2, float(row["y_s"].iloc[0]))
    if not seconds:
        return "Not compared: this video is not scored by two of the raters."
    return "Immobility in the window: " + " · ".join(
        f"{n} {seconds[n]:.1f} s" if n in seconds else f"{n} —" for n in names)

