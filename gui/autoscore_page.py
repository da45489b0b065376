"""The "Auto-score" page: score a folder of forced swim videos and look at the results.

Pick videos or a folder and a protocol (a shipped one or a YAML file; "Edit…" shows
every key with its meaning), check each video's arenas ("Check arenas…", saved as the
video's sidecar), then "Start". Scoring runs in a :class:`~behavior_gui.batch_worker.
BatchWorker` thread through the core's :func:`behavior.fst.score_batch` — the same
call as ``behavior fst score`` — so the window stays responsive and "Cancel" stops
between two frames, keeping the finished videos.

The results table fills in as videos finish: the core's values (an empty value is an
empty cell with its reason on hover, never 0), and each row's notices as an icon with
their text on hover. Double-click a row to inspect the animal
(:class:`~behavior_gui.inspect_view.InspectView`). "Re-score all" scores every animal
again from its trace with another threshold or minimum bout (no decoding). "Export"
writes the table as CSV or Excel through the core's :func:`behavior.fst.write_table`.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path

from behavior_gui.batch_worker import BatchWorker, FinishedVideo, preload_scoring
from behavior_gui.protocol_editor import ProtocolEditor, shipped_fst_protocols
from behavior_gui.settings import Settings
from PyQt5.QtCore import Qt, pyqtSignal
from PyQt5.QtGui import QBrush, QColor
from PyQt5.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QSplitter,
    QStyle,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from behavior.errors import BehaviorError
from behavior.fst.immobility import AUTO_FALLBACK
from behavior.parallel import usable_cores

VIDEO_SUFFIXES = {".mp4", ".mov", ".avi", ".mkv", ".wmv", ".asf", ".m4v", ".mpg", ".mpeg"}
VIDEO_FILTER = "Videos (*.mp4 *.mov *.avi *.mkv *.wmv *.asf *.m4v *.mpg *.mpeg);;All files (*)"

#: the columns shown (results-table column, heading, decimals); the export has them all
SHOWN = (("video", "Video", None), ("arena", "Arena", 0), ("notices", "Notices", None),
         ("immobility_s", "Immobility (s)", 1), ("immobility_pct", "Immobility (%)", 1),
         ("latency_s", "Latency (s)", 1), ("bouts", "Bouts", 0),
         ("swimming_s", "Swimming (s)", 1), ("climbing_s", "Climbing (s)", 1),
         ("tracked_pct", "Tracked (%)", 1), ("separation", "Separation", 2),
         ("threshold", "Threshold", 4), ("min_bout_s", "Min. bout (s)", 2),
         ("note", "Why a value is empty", None))
SEVERITY_RANK = {"info": 0, "warning": 1, "error": 2}
#: where in the window the settings a notice names are changed (the command line's
#: flags are never shown here)
GUI_HINTS = (
    ({"arena_rects", "n_arenas"}, "the arenas: Check arenas… (move, resize, add or "
                                  "remove them; saved beside the video)"),
    ({"start_s", "end_s", "background"}, "the test's start and end, or an image of the empty "
                                         "apparatus: start_s, end_s, background in the "
                                         "video's .arenas.yaml (Check arenas… keeps them)"),
    ({"threshold", "min_bout_s"}, "the threshold: double-click the row to inspect the "
                                  "animal and try others, or Re-score all"),
    ({"shake_px", "window_s", "animal", "test"}, "the protocol: Edit…"),
)


def notice_hints(notice) -> list[str]:
    """Where the window changes what the notice names."""
    named = set(notice.settings)
    return [hint for keys, hint in GUI_HINTS if keys & named]


def is_missing(value) -> bool:
    if value is None:
        return True
    try:
        return bool(value != value)  # NaN and pandas' NA
    except (TypeError, ValueError):
        return True


def cell_text(value, decimals: int | None) -> str:
    """A value as shown: empty when missing (never 0), else rounded."""
    if is_missing(value):
        return ""
    if decimals is None:
        return str(value)
    if decimals == 0:
        return str(int(round(float(value))))
    return f"{float(value):.{decimals}f}"


def duration_text(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "—"
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    m, s = divmod(seconds, 60)
    if m < 60:
        return f"{m} min {s:02d} s"
    h, m = divmod(m, 60)
    return f"{h} h {m:02d} min"


@dataclass
class Row:
    """One row of the results table: an animal (with its trace) or a video not scored."""

    video: str
    arena: int | None
    values: dict
    notices: list = field(default_factory=list)
    trace: object | None = None

    def row(self) -> dict:
        """As the core writes it (information in ``note``, the rest in ``warnings``)."""
        from behavior.fst.scoring import AnimalResult

        return AnimalResult(self.video, self.arena or 0, self.values, self.notices).row()


class AutoScorePage(QWidget):
    """Auto-score a batch of videos; results, inspection, re-scoring and export.

    Signals
    -------
    message(text)        for the status bar
    batch_finished(obj)  the core's BatchResult (finished or cancelled)
    """

    message = pyqtSignal(str)
    batch_finished = pyqtSignal(object)

    def __init__(self, settings: Settings, parent: QWidget | None = None):
        super().__init__(parent)
        from behavior.protocols import load_fst_protocol

        self.settings = settings
        self.videos: list[str] = []
        self.rows: list[Row] = []
        self.protocol = load_fst_protocol("mouse_fst")
        self.scored_protocol = self.protocol  # the protocol the table was scored with
        self.worker: BatchWorker | None = None
        self.inspectors: list = []
        self.arena_editor = None
        self.expected: list[float] = []
        self.started_at = 0.0
        self.last_batch = None
        self.rescored_since_batch = False
        self._build()
        self._restore()
        # OpenCV and PyAV loaded now, not by the batch thread at Start (a frozen window)
        preload_scoring()

    # -- layout ------------------------------------------------------------------------
    def _build(self) -> None:
        st = self.style()
        # videos
        self.video_list = QListWidget()
        self.video_list.setSelectionMode(QAbstractItemView.ExtendedSelection)
        self.add_videos_button = QPushButton("Add videos…")
        self.add_folder_button = QPushButton("Add folder…")
        self.remove_button = QPushButton("Remove")
        self.add_videos_button.clicked.connect(lambda: self.add_videos(None))
        self.add_folder_button.clicked.connect(lambda: self.add_folder(None))
        self.remove_button.clicked.connect(self.remove_selected)
        vb = QVBoxLayout()
        row = QHBoxLayout()
        for b in (self.add_videos_button, self.add_folder_button, self.remove_button):
            row.addWidget(b)
        vb.addLayout(row)
        vb.addWidget(self.video_list)
        videos_box = QGroupBox("1. Videos")
        videos_box.setLayout(vb)
        # protocol
        self.protocol_box = QComboBox()
        for stem, name in shipped_fst_protocols():
            self.protocol_box.addItem(name, stem)
        self.protocol_box.addItem("Protocol file…", "")
        self.protocol_box.activated.connect(self._protocol_chosen)
        self.edit_protocol_button = QPushButton("Edit…")
        self.edit_protocol_button.setToolTip("Every key of the protocol with its meaning")
        self.edit_protocol_button.clicked.connect(self.edit_protocol)
        self.protocol_label = QLabel("")
        self.protocol_label.setWordWrap(True)
        self.protocol_label.setStyleSheet("color: #555")
        pb = QVBoxLayout()
        row = QHBoxLayout()
        row.addWidget(self.protocol_box, 1)
        row.addWidget(self.edit_protocol_button)
        pb.addLayout(row)
        pb.addWidget(self.protocol_label)
        protocol_box = QGroupBox("2. Protocol")
        protocol_box.setLayout(pb)
        # arenas
        self.arenas_button = QPushButton("Check arenas…")
        self.arenas_button.setToolTip("Each video's arenas over a frame and the background; "
                                      "move, resize, add or remove them and save")
        self.arenas_button.clicked.connect(self.check_arenas)
        ab = QVBoxLayout()
        ab.addWidget(self.arenas_button)
        arenas_box = QGroupBox("3. Arenas (optional)")
        arenas_box.setLayout(ab)
        # run
        self.out_edit = QLineEdit()
        self.out_edit.setToolTip("The results table (.csv or .xlsx); the traces go in a "
                                 "folder beside it, '<name>_traces'")
        out_button = QToolButton()
        out_button.setText("…")
        out_button.clicked.connect(self._choose_out)
        self.jobs_spin = QSpinBox()
        self.jobs_spin.setRange(1, usable_cores())
        self.jobs_spin.setToolTip("How many videos are scored at once, each on a core of "
                                  "its own (as 'behavior fst score --jobs N')")
        self.resume_box = QCheckBox("Re-use the traces of an earlier run")
        self.resume_box.setToolTip("Videos already tracked with the same settings are "
                                   "scored from their traces, without decoding")
        self.start_button = QPushButton("Start")
        self.start_button.setIcon(st.standardIcon(QStyle.SP_MediaPlay))
        self.start_button.setMinimumHeight(36)
        self.start_button.clicked.connect(self.start)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setIcon(st.standardIcon(QStyle.SP_MediaStop))
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        self.video_label = QLabel("")
        self.video_bar = QProgressBar()
        self.video_bar.setRange(0, 1000)
        self.video_bar.setFormat("this video %p%")
        self.total_bar = QProgressBar()
        self.total_bar.setRange(0, 1000)
        self.total_bar.setFormat("all videos %p%")
        self.time_label = QLabel("")
        rb = QVBoxLayout()
        row = QHBoxLayout()
        row.addWidget(QLabel("Results:"))
        row.addWidget(self.out_edit, 1)
        row.addWidget(out_button)
        rb.addLayout(row)
        row = QHBoxLayout()
        row.addWidget(QLabel("Videos at a time:"))
        row.addWidget(self.jobs_spin)
        row.addStretch(1)
        rb.addLayout(row)
        rb.addWidget(self.resume_box)
        row = QHBoxLayout()
        row.addWidget(self.start_button, 1)
        row.addWidget(self.cancel_button)
        rb.addLayout(row)
        for w in (self.video_label, self.video_bar, self.total_bar, self.time_label):
            rb.addWidget(w)
        run_box = QGroupBox("4. Score")
        run_box.setLayout(rb)

        for label in (self.video_label, self.time_label):
            label.setWordWrap(True)
        left = QWidget()
        left.setMaximumWidth(430)
        lv = QVBoxLayout(left)
        lv.setContentsMargins(0, 0, 0, 0)
        lv.addWidget(videos_box, 1)
        lv.addWidget(protocol_box)
        lv.addWidget(arenas_box)
        lv.addWidget(run_box)

        # results
        self.table_widget = QTableWidget(0, len(SHOWN))
        self.table_widget.setHorizontalHeaderLabels([h for _, h, _ in SHOWN])
        self.table_widget.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table_widget.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table_widget.setAlternatingRowColors(True)
        self.table_widget.verticalHeader().setVisible(False)
        header = self.table_widget.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeToContents)
        header.setStretchLastSection(True)
        self.table_widget.cellDoubleClicked.connect(lambda r, _c: self.inspect(r))
        self.auto_box = QCheckBox("auto")
        self.auto_box.setChecked(True)
        self.auto_box.setToolTip("Each animal's threshold chosen from its own trace")
        self.threshold_spin = QDoubleSpinBox()
        self.threshold_spin.setDecimals(4)
        self.threshold_spin.setRange(0.0, 1.0)
        self.threshold_spin.setSingleStep(0.005)
        # a starting point only: the value a lab calibrated (fst calibrate) goes here
        self.threshold_spin.setValue(AUTO_FALLBACK)
        self.threshold_spin.setEnabled(False)
        self.auto_box.toggled.connect(lambda on: self.threshold_spin.setEnabled(not on))
        self.min_bout_spin = QDoubleSpinBox()
        self.min_bout_spin.setDecimals(2)
        self.min_bout_spin.setRange(0.0, 60.0)
        self.min_bout_spin.setSingleStep(0.25)
        self.min_bout_spin.setSuffix(" s")
        self.rescore_button = QPushButton("Re-score all")
        self.rescore_button.setToolTip("Score every animal again from its trace with this "
                                       "threshold and minimum bout (no video is decoded)")
        self.rescore_button.clicked.connect(self.rescore_all_clicked)
        self.export_csv_button = QPushButton("Export CSV…")
        self.export_xlsx_button = QPushButton("Export Excel…")
        self.export_csv_button.clicked.connect(lambda: self.export(None, ".csv"))
        self.export_xlsx_button.clicked.connect(lambda: self.export(None, ".xlsx"))
        tools = QHBoxLayout()
        tools.addWidget(QLabel("Threshold:"))
        tools.addWidget(self.threshold_spin)
        tools.addWidget(self.auto_box)
        tools.addWidget(QLabel("Minimum bout:"))
        tools.addWidget(self.min_bout_spin)
        tools.addWidget(self.rescore_button)
        tools.addStretch(1)
        self.results_label = QLabel("No results yet. Double-click a row to inspect the "
                                    "animal.")
        self.results_label.setStyleSheet("color: #555")
        self.results_label.setWordWrap(True)
        heading = QHBoxLayout()
        heading.addWidget(self.results_label, 1)
        heading.addWidget(self.export_csv_button)
        heading.addWidget(self.export_xlsx_button)
        right = QWidget()
        rv = QVBoxLayout(right)
        rv.setContentsMargins(0, 0, 0, 0)
        rv.addLayout(heading)
        rv.addWidget(self.table_widget, 1)
        rv.addLayout(tools)

        splitter = QSplitter(Qt.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([360, 900])
        outer = QVBoxLayout(self)
        outer.addWidget(splitter)
        self._set_running(False)

    # -- remembered choices ------------------------------------------------------------
    def _restore(self) -> None:
        from behavior.protocols import load_fst_protocol

        s = self.settings
        videos = s.value("autoscore/videos", [])
        videos = [videos] if isinstance(videos, str) else list(videos or [])
        self.add_videos([v for v in videos if Path(v).is_file()], remember=False)
        self.out_edit.setText(str(s.value("autoscore/out", "") or ""))
        self.jobs_spin.setValue(int(s.value("autoscore/jobs", 1) or 1))
        source = str(s.value("autoscore/protocol", "mouse_fst") or "mouse_fst")
        try:
            self.set_protocol(load_fst_protocol(source), remember=False)
        except BehaviorError:
            self.set_protocol(load_fst_protocol("mouse_fst"), remember=False)

    def _remember(self) -> None:
        s = self.settings
        s.set_value("autoscore/videos", list(self.videos))
        s.set_value("autoscore/out", self.out_edit.text())
        s.set_value("autoscore/jobs", self.jobs_spin.value())
        s.set_value("autoscore/protocol", str(self.protocol.source or "mouse_fst"))

    @property
    def last_folder(self) -> str:
        return str(self.settings.value("autoscore/folder", "") or "")

    # -- videos ------------------------------------------------------------------------
    def ask_videos(self) -> list[str]:
        paths, _ = QFileDialog.getOpenFileNames(self, "Videos to score", self.last_folder,
                                                VIDEO_FILTER)
        return paths

    def ask_folder(self) -> str | None:
        return QFileDialog.getExistingDirectory(self, "A folder of videos",
                                                self.last_folder) or None

    def add_videos(self, paths: list[str] | None, remember: bool = True) -> None:
        """Add video files (asked for if None) to the batch, each once."""
        paths = self.ask_videos() if paths is None else paths
        for p in map(str, paths):
            if p not in self.videos:
                self.videos.append(p)
                item = QListWidgetItem(Path(p).name)
                item.setToolTip(p)
                self.video_list.addItem(item)
        if paths and remember:
            self.settings.set_value("autoscore/folder", str(Path(paths[0]).parent))
            if not self.out_edit.text():
                self.out_edit.setText(str(Path(paths[0]).parent / "results.csv"))
            self._remember()

    def add_folder(self, folder: str | Path | None) -> None:
        """Add every video in a folder (not its sub-folders), sorted by name."""
        folder = folder or self.ask_folder()
        if not folder:
            return
        found = sorted(str(p) for p in Path(folder).iterdir()
                       if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES)
        if not found:
            self.message.emit(f"{folder}: no videos in this folder")
            return
        self.add_videos(found)
        self.settings.set_value("autoscore/folder", str(folder))

    def remove_selected(self) -> None:
        for item in self.video_list.selectedItems():
            self.videos.remove(item.toolTip())
            self.video_list.takeItem(self.video_list.row(item))
        self._remember()

    def _choose_out(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Results table", self.out_edit.text() or
                                              self.last_folder,
                                              "CSV (*.csv);;Excel (*.xlsx)")
        if path:
            self.out_edit.setText(path)
            self._remember()

    # -- protocol ----------------------------------------------------------------------
    def set_protocol(self, protocol, remember: bool = True) -> None:
        from behavior.protocols import load_fst_protocol

        self.protocol = protocol
        source = str(protocol.source)
        index = next((i for i in range(self.protocol_box.count())
                      if self.protocol_box.itemData(i) and
                      Path(source).stem == self.protocol_box.itemData(i) and
                      Path(source).parent.resolve() ==
                      Path(shipped_dir()).resolve()), -1)
        if index < 0 and source and Path(source).is_file():
            index = self.protocol_box.findData(source)
            if index < 0:
                self.protocol_box.insertItem(self.protocol_box.count() - 1,
                                             Path(source).name, source)
                index = self.protocol_box.count() - 2
        if index >= 0:
            self.protocol_box.setCurrentIndex(index)
        t = protocol.threshold
        edited = " (edited, not saved)"
        try:
            if source and Path(source).is_file() and load_fst_protocol(source) == protocol:
                edited = ""
        except BehaviorError:
            pass
        self.protocol_label.setText(
            f"{protocol.name}{edited}: scored {protocol.window_s[0]:g}–{protocol.window_s[1]:g} s "
            f"of {protocol.duration_s:g} s, bins of {protocol.bin_s:g} s; threshold "
            f"{t if isinstance(t, str) else f'{t:g}'}, minimum bout {protocol.min_bout_s:g} s")
        self.min_bout_spin.setValue(float(protocol.min_bout_s))
        self.auto_box.setChecked(isinstance(t, str))
        if not isinstance(t, str):
            self.threshold_spin.setValue(float(t))
        if remember:
            self._remember()

    def ask_protocol_file(self) -> str | None:
        path, _ = QFileDialog.getOpenFileName(self, "Protocol file", self.last_folder,
                                              "Protocol (*.yaml *.yml);;All files (*)")
        return path or None

    def _protocol_chosen(self, index: int) -> None:

        data = self.protocol_box.itemData(index)
        path = data or self.ask_protocol_file()
        if not path:
            self.set_protocol(self.protocol, remember=False)  # back to the one in use
            return
        self.load_protocol(path)

    def load_protocol(self, path: str) -> bool:
        """Use a shipped protocol (by name) or a file; a bad file is said in words."""
        from behavior.protocols import load_fst_protocol

        try:
            self.set_protocol(load_fst_protocol(path))
        except BehaviorError as exc:
            self.show_error(str(exc))
            self.set_protocol(self.protocol, remember=False)
            return False
        return True

    def edit_protocol(self) -> None:
        editor = ProtocolEditor(self.protocol, self)
        self.protocol_editor = editor
        if editor.exec_() and editor.protocol() is not None:
            self.set_protocol(editor.protocol())

    # -- arenas ------------------------------------------------------------------------
    def check_arenas(self) -> None:
        from behavior_gui.arena_editor import ArenaEditor

        chosen = [i.toolTip() for i in self.video_list.selectedItems()]
        videos = chosen + [v for v in self.videos if v not in chosen]
        if not videos:
            self.message.emit("Add videos first")
            return
        self.arena_editor = ArenaEditor(videos, self.protocol, self)
        self.arena_editor.setModal(True)
        self.arena_editor.show()

    # -- scoring -----------------------------------------------------------------------
    def show_error(self, text: str) -> None:
        QMessageBox.warning(self, "behavior", text)

    def out_path(self) -> Path | None:
        text = self.out_edit.text().strip()
        if not text and self.videos:
            text = str(Path(self.videos[0]).parent / "results.csv")
            self.out_edit.setText(text)
        return Path(text) if text else None

    def start(self) -> bool:
        """Score the videos in a worker thread (through the core's score_batch)."""
        if self.worker is not None:
            return False
        out = self.out_path()
        if not self.videos or out is None:
            self.show_error("Add the videos to score and name the results file first.")
            return False
        if out.suffix.lower() not in (".csv", ".xlsx"):
            self.show_error(f"{out}: the results file must end in .csv or .xlsx")
            return False
        self._remember()
        self.rows = []
        self.rescored_since_batch = False
        self.scored_protocol = self.protocol
        self._fill_table()
        self.expected = []
        self.started_at = time.monotonic()
        self.tracked: dict[int, float] = {}
        self.worker = BatchWorker(self.videos, self.protocol, out,
                                  resume=self.resume_box.isChecked(),
                                  processes=self.jobs_spin.value(), parent=self)
        self.worker.planned.connect(self._planned)
        self.worker.step.connect(self._step)
        self.worker.video_done.connect(self._video_done)
        self.worker.batch_done.connect(self._batch_done)
        self.worker.failed.connect(self._failed)
        self.worker.finished.connect(self._worker_finished)
        self._set_running(True)
        self.video_label.setText(f"Starting: {len(self.videos)} videos…")
        self.worker.start()
        return True

    def cancel(self) -> None:
        if self.worker is not None:
            self.worker.cancel()
            self.cancel_button.setEnabled(False)
            self.video_label.setText("Cancelling: stopping after this frame…")

    def _set_running(self, running: bool) -> None:
        self.start_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        for w in (self.add_videos_button, self.add_folder_button, self.remove_button,
                  self.protocol_box, self.edit_protocol_button, self.arenas_button,
                  self.out_edit, self.resume_box, self.rescore_button, self.jobs_spin):
            w.setEnabled(not running)

    def _planned(self, seconds: list) -> None:
        self.expected = [max(float(s), 1e-6) for s in seconds]

    def _total_fraction(self) -> float:
        """The share of the batch's video time tracked (finished videos whole)."""
        if not self.expected:
            return 0.0
        finished = self._finished_indices
        seconds = sum(self.expected[i] if i in finished else
                      min(self.tracked.get(i, 0.0), self.expected[i])
                      for i in range(len(self.expected)))
        return min(1.0, seconds / sum(self.expected))

    @property
    def _finished_indices(self) -> set[int]:
        if self.worker is None:
            return set()
        index = {p: i for i, p in enumerate(self.worker.paths)}
        return {index[r.video] for r in self.rows if r.video in index}

    def _step(self, index: int, done: int, time_s: float) -> None:
        if self.worker is None or index in self._finished_indices:
            return
        self.tracked[index] = time_s
        running = sorted(i for i in self.tracked if i not in self._finished_indices)
        n = len(self.worker.paths)
        name = Path(self.worker.paths[index]).name
        others = f" and {len(running) - 1} more" if len(running) > 1 else ""
        self.video_label.setText(f"Scoring {name}{others} ({index + 1} of {n}): "
                                 f"{time_s:.0f} s of the test tracked")
        expected = self.expected[index] if index < len(self.expected) else 0.0
        self.video_bar.setValue(int(1000 * min(1.0, time_s / expected)) if expected else 0)
        self._show_total(self._total_fraction())

    def _show_total(self, total: float) -> None:
        self.total_bar.setValue(int(1000 * total))
        elapsed = time.monotonic() - self.started_at
        if total > 0.01:
            left = elapsed * (1 - total) / total
            self.time_label.setText(f"Elapsed {duration_text(elapsed)}; about "
                                    f"{duration_text(left)} left")
        else:
            self.time_label.setText(f"Elapsed {duration_text(elapsed)}")

    def _video_done(self, finished: FinishedVideo) -> None:
        self.add_result(finished.result, finished.traces)
        what = "could not be scored" if finished.result.error is not None else "scored"
        self.video_label.setText(f"{Path(finished.result.path).name} {what} "
                                 f"({finished.done} of {finished.total} videos done)")
        self._show_total(self._total_fraction())
        self.video_bar.setValue(1000)

    def add_result(self, result, traces) -> None:
        """Rows of one finished video (the core's VideoResult) into the table."""
        by_arena = {t.arena: t for t in traces}
        if result.error is not None:
            values = result.rows()[0]
            values.pop("warnings", None)
            self.rows.append(Row(result.path, None, values, [result.error]))
        else:
            for animal in result.animals:
                self.rows.append(Row(result.path, animal.arena, dict(animal.values),
                                     list(animal.notices), by_arena.get(animal.arena)))
        # the batch's order (as the core's table), whatever order videos finish in
        order = {p: i for i, p in enumerate(self.worker.paths)} if self.worker else {}
        self.rows.sort(key=lambda r: (order.get(r.video, len(order)), r.arena or 0))
        self._fill_table()

    def _batch_done(self, batch) -> None:
        self.last_batch = batch
        n = len(batch.results)
        total = len(batch.results) + len(batch.unfinished)
        failed = len(batch.failed)
        if batch.cancelled:
            text = (f"Cancelled: {n} of {total} videos scored (kept in the table and in "
                    f"{batch.out.name}); not scored: "
                    + ", ".join(Path(v).name for v in batch.unfinished))
        else:
            text = f"Finished: {n - failed} of {total} videos scored"
            text += f", {failed} could not be scored (see the table)" if failed else ""
            if batch.n_warned:
                text += (f"; {batch.n_warned} of {batch.n_animals} animals with warnings "
                         "(see Notices)")
            text += f". Results in {batch.out}"
            self.video_bar.setValue(1000)
            self.total_bar.setValue(1000)
        self.video_label.setText(text)
        self.message.emit(text)
        self.batch_finished.emit(batch)

    def _failed(self, message: str) -> None:
        self.video_label.setText(message)
        self.show_error(message)

    def _worker_finished(self) -> None:
        worker, self.worker = self.worker, None
        if worker is not None:
            worker.deleteLater()
        self._set_running(False)
        self.time_label.setText(f"Took {duration_text(time.monotonic() - self.started_at)}")

    # -- the table ---------------------------------------------------------------------
    def table(self):
        """The results table (pandas) of the rows shown, as the core builds it."""
        from behavior.fst import rows_to_table

        return rows_to_table([r.row() for r in self.rows], self.scored_protocol)

    def _fill_table(self) -> None:
        t = self.table_widget
        t.setSortingEnabled(False)
        t.setRowCount(len(self.rows))
        for i, row in enumerate(self.rows):
            self._fill_row(i, row)
        self._say_counts()

    def _say_counts(self) -> None:
        n_animals = sum(r.arena is not None for r in self.rows)
        if self.rows:
            n_videos = len({r.video for r in self.rows})
            self.results_label.setText(f"{n_animals} animal{'' if n_animals == 1 else 's'} "
                                       f"from {n_videos} video{'' if n_videos == 1 else 's'}. "
                                       "Double-click a row to inspect the animal."
                                       + (" Re-scored since the batch: the results file "
                                          "holds the batch's values; export to keep these."
                                          if self.rescored_since_batch else ""))

    def _fill_row(self, i: int, row: Row) -> None:
        t = self.table_widget
        note = str(row.values.get("note") or "")
        for c, (key, _, decimals) in enumerate(SHOWN):
            if key == "notices":
                item = self._notice_item(row.notices)
            elif key == "video":
                item = QTableWidgetItem(Path(row.video).name)
                item.setToolTip(row.video)
            else:
                value = row.values.get(key)
                item = QTableWidgetItem(cell_text(value, decimals))
                if key != "note" and is_missing(value):
                    item.setToolTip(f"empty: {note}" if note else
                                    "empty: not observed for this animal")
                    item.setBackground(QBrush(QColor(235, 235, 235)))
                elif key == "note":
                    item.setToolTip(note)
                if decimals is not None:
                    item.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
            t.setItem(i, c, item)

    def _notice_item(self, found: list) -> QTableWidgetItem:
        item = QTableWidgetItem("")
        if not found:
            return item
        worst = max(found, key=lambda n: SEVERITY_RANK.get(n.severity, 0)).severity
        icon = {"error": QStyle.SP_MessageBoxCritical, "warning": QStyle.SP_MessageBoxWarning
                }.get(worst, QStyle.SP_MessageBoxInformation)
        item.setIcon(self.style().standardIcon(icon))
        item.setText(str(len(found)))
        lines = []
        for n in found:
            lines.append(f"• {n.message}")
            lines += [f"   → change {hint}" for hint in notice_hints(n)]
        item.setToolTip("\n".join(lines))
        return item

    def row_index(self, video: str, arena: int) -> int:
        return next((i for i, r in enumerate(self.rows)
                     if r.video == video and r.arena == arena), -1)

    # -- re-scoring --------------------------------------------------------------------
    def rescore_protocol(self):
        threshold = "auto" if self.auto_box.isChecked() else round(self.threshold_spin.value(),
                                                                   6)
        return self.scored_protocol.with_overrides(threshold=threshold,
                                                   min_bout_s=self.min_bout_spin.value())

    def rescore_all_clicked(self) -> None:
        try:
            protocol = self.rescore_protocol()
        except BehaviorError as exc:
            self.show_error(str(exc))
            return
        n = self.rescore_all(protocol)
        t = protocol.threshold
        self.message.emit(f"Re-scored {n} animals from their traces (threshold "
                          f"{t if isinstance(t, str) else f'{t:g}'}, minimum bout "
                          f"{protocol.min_bout_s:g} s)")

    def rescore_all(self, protocol) -> int:
        """Score every animal again from its trace with ``protocol`` (no decoding);
        returns how many were re-scored."""
        from behavior.fst import score_traces

        rows = [row for row in self.rows if row.trace is not None]
        # scored together: the animals of one video share their still level
        for row, result in zip(rows, score_traces([r.trace for r in rows], protocol),
                               strict=True):
            row.values, row.notices = dict(result.values), list(result.notices)
        n = len(rows)
        self.scored_protocol = protocol
        self.rescored_since_batch = True
        self._fill_table()
        return n

    def update_row(self, result) -> None:
        """One animal re-scored (from the inspect view): its row follows."""
        i = self.row_index(result.video, result.arena)
        if i < 0:
            return
        row = self.rows[i]
        row.values, row.notices = dict(result.values), list(result.notices)
        self.rescored_since_batch = True
        self._fill_row(i, row)
        self._say_counts()

    # -- inspecting --------------------------------------------------------------------
    def inspect(self, index: int):
        """Open the animal of row ``index`` in the inspect view (its trace, no decoding
        but the player's)."""
        from behavior_gui.inspect_view import InspectView

        if not 0 <= index < len(self.rows):
            return None
        row = self.rows[index]
        if row.trace is None:
            self.message.emit(f"{Path(row.video).name}: no trace to inspect (not scored)")
            return None
        view = InspectView(row.trace, self.scored_protocol, video=row.video)
        view.rescored.connect(self.update_row)
        view.setAttribute(Qt.WA_DeleteOnClose, True)
        view.destroyed.connect(lambda _=None, v=view: self.inspectors.remove(v)
                               if v in self.inspectors else None)
        self.inspectors.append(view)
        view.show()
        return view

    # -- export ------------------------------------------------------------------------
    def ask_export_path(self, suffix: str) -> str | None:
        kind = "Excel (*.xlsx)" if suffix == ".xlsx" else "CSV (*.csv)"
        start = str(Path(self.out_edit.text()).with_suffix(suffix)) if self.out_edit.text() \
            else self.last_folder
        path, _ = QFileDialog.getSaveFileName(self, "Export the results", start, kind)
        return path or None

    def export(self, path: str | Path | None, suffix: str = ".csv") -> Path | None:
        """Write the table shown (with every column) as CSV or Excel, atomically."""
        from behavior.fst import write_table

        path = path or self.ask_export_path(suffix)
        if not path:
            return None
        path = Path(path)
        if path.suffix.lower() not in (".csv", ".xlsx"):
            path = path.with_suffix(suffix)
        try:
            written = write_table(self.table(), path)
        except BehaviorError as exc:
            self.show_error(str(exc))
            return None
        self.message.emit(f"Exported {len(self.rows)} rows to {written}")
        return written

    def shutdown(self) -> None:
        """Stop a running batch (cancelled cleanly) and close the inspect windows."""
        if self.worker is not None:
            self.worker.cancel()
            self.worker.wait(30000)
        for view in list(self.inspectors):
            view.close()


def shipped_dir() -> Path:
    from behavior.protocols import SHIPPED_DIR

    return SHIPPED_DIR
