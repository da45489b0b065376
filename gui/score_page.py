"""The "Score" page: the observer's videos, the player, the timeline and the summary.

Everything the page does goes through :class:`~behavior_gui.document.ScoringDocument`
(the scores) and :class:`~behavior_gui.player.Player` (the video); the page only wires
them to widgets. In a blinded session nothing here shows more than a video's code.
"""

from __future__ import annotations

import math

import numpy as np
from behavior_gui.document import ScoringDocument
from behavior_gui.player import SPEEDS, Player, index_at
from behavior_gui.scoring import HoldKeys
from behavior_gui.settings import Settings, key_code
from behavior_gui.timeline import Bout, Timeline
from behavior_gui.video_view import VideoView
from PyQt5.QtCore import QRect, Qt, QTimer, pyqtSignal
from PyQt5.QtGui import QFont
from PyQt5.QtWidgets import (
    QComboBox,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProxyStyle,
    QPushButton,
    QSlider,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

#: how often the position is saved while playing (ms)
SAVE_EVERY_MS = 5000


class _JumpStyle(QProxyStyle):
    """A slider that jumps to where it is clicked (not by a page)."""

    def styleHint(self, hint, option=None, widget=None, data=None):
        if hint == QStyle.SH_Slider_AbsoluteSetButtons:
            return int(Qt.LeftButton)
        return super().styleHint(hint, option, widget, data)


def fmt_time(t_s: float) -> str:
    if not math.isfinite(t_s):
        return "–"
    m, s = divmod(t_s, 60.0)
    return f"{int(m)}:{s:06.3f}"


def fmt_value(value, unit: str = "", digits: int = 1) -> str:
    """A summary value; empty (NaN) shows as a dash, never as 0."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    if isinstance(value, float):
        return f"{value:.{digits}f}{unit}"
    return f"{value}{unit}"


class ScorePage(QWidget):
    """Hold-to-score one observer's videos."""

    state_changed = pyqtSignal()  # what the menus enable may have changed
    message = pyqtSignal(str)

    def __init__(self, settings: Settings, parent: QWidget | None = None):
        super().__init__(parent)
        self.settings = settings
        self.doc: ScoringDocument | None = None
        self.view = VideoView()
        self.player = Player(self.view, parent=self)
        self.keys = HoldKeys(self.player.time, settings.release_grace_ms, parent=self)
        self.timeline = Timeline()
        self.selected_id = -1
        self._opening: str | None = None
        self._build()
        self._connect()
        self._save_timer = QTimer(self)
        self._save_timer.setInterval(SAVE_EVERY_MS)
        self._save_timer.timeout.connect(self.save_position)
        self._seek_save = QTimer(self)
        self._seek_save.setSingleShot(True)
        self._seek_save.setInterval(1000)
        self._seek_save.timeout.connect(self.save_position)

    # -- layout ------------------------------------------------------------------------
    def _build(self) -> None:
        left = QWidget()
        left.setFixedWidth(190)
        lv = QVBoxLayout(left)
        lv.setContentsMargins(0, 0, 0, 0)
        heading = QLabel("Videos")
        heading.setStyleSheet("font-weight: bold")
        self.progress = QLabel("")
        self.video_list = QListWidget()
        self.video_list.setFocusPolicy(Qt.NoFocus)
        self.video_list.setToolTip("Your videos, in your own random order")
        self.finish_button = QPushButton("Mark finished ▸ next")
        self.finish_button.setFocusPolicy(Qt.NoFocus)
        self.finish_button.setToolTip("Mark this video completely scored and open the next")
        for w in (heading, self.progress, self.video_list, self.finish_button):
            lv.addWidget(w)

        self.time_label = QLabel("–")
        self.time_label.setFont(QFont("monospace"))
        self.time_label.setTextInteractionFlags(Qt.NoTextInteraction)
        self.speed_box = QComboBox()
        self.speed_box.setFocusPolicy(Qt.NoFocus)
        for s in SPEEDS:
            self.speed_box.addItem(f"{s:g}×", s)
        self.speed_box.setCurrentIndex(SPEEDS.index(1.0))
        self.speed_box.setToolTip("Playback speed")
        st = self.style()
        self.buttons = {}
        transport = QHBoxLayout()
        for name, icon, tip in (
            ("window_start", QStyle.SP_MediaSkipBackward, "Go to the scoring window's start"),
            ("back_5s", QStyle.SP_MediaSeekBackward, "Back 5 s"),
            ("frame_back", QStyle.SP_ArrowLeft, "Previous frame"),
            ("play", QStyle.SP_MediaPlay, "Play / pause"),
            ("frame_forward", QStyle.SP_ArrowRight, "Next frame"),
            ("forward_5s", QStyle.SP_MediaSeekForward, "Forward 5 s"),
        ):
            b = QToolButton()
            b.setIcon(st.standardIcon(icon))
            b.setToolTip(tip)
            b.setFocusPolicy(Qt.NoFocus)
            b.setAutoRaise(True)
            self.buttons[name] = b
            transport.addWidget(b)
        transport.addWidget(self.speed_box)
        transport.addSpacing(12)
        transport.addWidget(self.time_label, 1)
        self.slider = QSlider(Qt.Horizontal)
        # (a proxy of its own: wrapping the application's style would take it over)
        self._jump_style = _JumpStyle()
        self._jump_style.setParent(self)
        self.slider.setStyle(self._jump_style)
        self.slider.setFocusPolicy(Qt.NoFocus)
        self.slider.setToolTip("Drag to scrub (key frames); release for the exact frame")
        centre = QWidget()
        cv = QVBoxLayout(centre)
        cv.setContentsMargins(0, 0, 0, 0)
        cv.addWidget(self.view, 1)
        cv.addWidget(self.slider)
        cv.addLayout(transport)

        right = QWidget()
        right.setFixedWidth(260)
        rv = QVBoxLayout(right)
        rv.setContentsMargins(0, 0, 0, 0)
        self.summary_box = QGroupBox("Scoring window")
        self.summary_form = QFormLayout(self.summary_box)
        self.summary_labels: dict[str, QLabel] = {}
        rv.addWidget(self.summary_box)
        self.held_label = QLabel("")
        self.held_label.setWordWrap(True)
        self.selected_label = QLabel("No bout selected")
        self.selected_label.setWordWrap(True)
        box = QGroupBox("Bout")
        bv = QVBoxLayout(box)
        bv.addWidget(self.held_label)
        bv.addWidget(self.selected_label)
        rv.addWidget(box)
        self.keys_label = QLabel("")
        self.keys_label.setWordWrap(True)
        self.keys_label.setFrameShape(QFrame.StyledPanel)
        rv.addWidget(self.keys_label)
        rv.addStretch(1)

        top = QHBoxLayout()
        top.addWidget(left)
        top.addWidget(centre, 1)
        top.addWidget(right)
        outer = QVBoxLayout(self)
        outer.addLayout(top, 1)
        outer.addWidget(self.timeline)

    def _connect(self) -> None:
        p = self.player
        p.opened.connect(self._on_opened)
        p.frame_shown.connect(self._on_frame)
        p.position_changed.connect(self._on_position)
        p.state_changed.connect(self._on_state)
        p.paused.connect(self._on_paused)
        p.ended.connect(self._on_ended)
        p.failed.connect(self._on_failed)
        self.keys.hold_started.connect(self._hold_started)
        self.keys.hold_ended.connect(self._hold_ended)
        self.timeline.selected.connect(self.select_bout)
        self.timeline.edge_moved.connect(self._edge_dragged)
        self.timeline.seek_requested.connect(self.player.seek_time)
        self.view.crop_chosen.connect(self._crop_chosen)
        self.video_list.itemClicked.connect(lambda item: self.open_code(item.data(Qt.UserRole)))
        self.finish_button.clicked.connect(self.finish)
        self.speed_box.activated.connect(
            lambda i: self.player.set_speed(self.speed_box.itemData(i)))
        self.slider.sliderMoved.connect(self._scrub)
        self.slider.sliderReleased.connect(lambda: self.player.seek_index(self.slider.value()))
        b = self.buttons
        b["window_start"].clicked.connect(self.go_window_start)
        b["back_5s"].clicked.connect(lambda: self.player.jump(-5))
        b["frame_back"].clicked.connect(lambda: self.player.step(-1))
        b["play"].clicked.connect(self.player.toggle)
        b["frame_forward"].clicked.connect(lambda: self.player.step(1))
        b["forward_5s"].clicked.connect(lambda: self.player.jump(5))

    # -- the document ------------------------------------------------------------------
    def set_document(self, doc: ScoringDocument | None) -> None:
        """Score ``doc`` (None: nothing open). Opens nothing yet: see :meth:`open_code`."""
        if self.doc is not None:
            self.doc.changed.disconnect(self.refresh)
            self.doc.message.disconnect(self.message)
        self.doc = doc
        self.player.close()
        self.view.clear("No video open")
        self.selected_id = -1
        if doc is None:
            self.video_list.clear()
            self.keys.bind({})
            self.refresh()
            return
        doc.changed.connect(self.refresh)
        doc.message.connect(self.message)
        self.rebind_keys()
        w0, w1 = doc.protocol.window_s
        self.summary_box.setTitle(f"Scoring window {w0:g}–{w1:g} s")
        self._fill_summary_rows()
        self.refresh()

    def rebind_keys(self) -> None:
        """Take the hold keys and the release grace from the settings."""
        if self.doc is None:
            return
        self.keys.grace_ms = self.settings.release_grace_ms
        names = {b: self.settings.hold_key(b) for b in self.doc.behaviours}
        marks = {p: self.settings.mark_key(p, i) for i, p in enumerate(self.doc.points)}
        # a mark key goes through the hold logic too, so a key held down (auto-repeat)
        # marks once, at its press
        self.keys.bind({key_code(k): b for b, k in {**names, **marks}.items() if k})
        lines = [f"<b>Hold {k}</b>: {b}" for b, k in names.items() if k]
        text = "Press and hold while the state lasts:<br>" + "<br>".join(lines)
        if marks:
            text += "<br><br>Press once when it happens:<br>" + "<br>".join(
                f"<b>{k}</b>: {p.replace('_', ' ')}" for p, k in marks.items() if k)
        self.keys_label.setText(text + "<br><br>F1: all keys")
        self.timeline.keys = {**names, **marks}
        self.timeline.update()

    def open_code(self, code: str, start_s: float | None = None) -> None:
        """Open video ``code`` (a held state is closed first) at ``start_s`` (default: where
        the observer last was in it, else its start)."""
        doc = self.doc
        if doc is None or code is None:
            return
        if doc.current is not None:
            # a key still held stays down: its auto-repeat must not start a new hold
            doc.close_hold(self.player.time(), "video changed")
            if self.player.ready:
                self.save_position()
        if not doc.select(code):
            return
        start = doc.last_time(code) if start_s is None else start_s
        self._opening = code
        self.selected_id = -1
        self.view.clear("Opening…")
        self.player.open(doc.video_path(code), end_s=doc.duration(code), start_s=start)
        self.timeline.set_layout(doc.behaviours, doc.duration(code), doc.protocol.window_s,
                                 doc.protocol.bin_s, self.timeline.keys, points=doc.points)
        crop = self.settings.value(f"crop/{code}")
        self.view.set_crop(QRect(*[int(v) for v in crop]) if crop else None)
        self.refresh()

    def _on_opened(self, times: np.ndarray, info) -> None:
        if self.doc is None or self._opening is None:
            return
        self.doc.select(self._opening, times)
        self.slider.setRange(0, int(times.size) - 1)
        self._opening = None
        self.state_changed.emit()

    def _on_failed(self, problem: str) -> None:
        if self.doc is not None and self.doc.blinded and self.doc.current:
            problem = problem.replace(str(self.doc.video_path(self.doc.current)),
                                      f"video {self.doc.current}")
        self.view.clear("This video cannot be played")
        self.message.emit(problem)

    # -- updating the widgets ----------------------------------------------------------
    def _fill_summary_rows(self) -> None:
        while self.summary_form.rowCount():
            self.summary_form.removeRow(0)
        self.summary_labels.clear()
        rows = [("immobility_s", "Immobility"), ("immobility_pct", "Immobile"),
                ("bouts", "Bouts"), ("latency_s", "Latency"), ("scored_s", "Window seen")]
        for b in self.doc.behaviours if self.doc else ():
            if b != "immobility":
                rows.append((f"{b}_s", b.capitalize()))
        for point in self.doc.points if self.doc else ():
            rows.append((f"{point}_n", point.replace("_", " ").capitalize()))
        for key, text in rows:
            label = QLabel("—")
            label.setAlignment(Qt.AlignRight)
            self.summary_labels[key] = label
            self.summary_form.addRow(text, label)

    def refresh(self) -> None:
        """Bring every widget up to date with the document."""
        doc = self.doc
        if doc is None:
            self.progress.setText("")
            self.timeline.set_bouts([], None)
            self.state_changed.emit()
            return
        done = doc.finished()
        self.progress.setText(doc.progress())
        self.video_list.blockSignals(True)
        self.video_list.clear()
        for n, code in enumerate(doc.codes, start=1):
            mark = "✓" if code in done else "  "
            item = QListWidgetItem(f"{mark} {n:>2}. {doc.title(code)}")
            item.setData(Qt.UserRole, code)
            if code == doc.current:
                f = item.font()
                f.setBold(True)
                item.setFont(f)
                item.setSelected(True)
            self.video_list.addItem(item)
        self.video_list.blockSignals(False)
        self.finish_button.setEnabled(not doc.read_only and doc.current is not None)
        events = doc.events()
        self.timeline.set_bouts([Bout(e.id, e.behaviour, e.start_s, e.end_s) for e in events],
                                doc.held)
        if self.selected_id not in {e.id for e in events}:
            self.selected_id = -1
        self.timeline.select(self.selected_id)
        summary = doc.summary()
        for key, label in self.summary_labels.items():
            value = summary.get(key)
            if key == "immobility_pct":
                label.setText(fmt_value(value, " %"))
            elif key == "bouts" or key.endswith("_n"):
                label.setText(fmt_value(int(value) if isinstance(value, (int, float)) and
                                        math.isfinite(value) else value))
            else:
                label.setText(fmt_value(value, " s"))
        note = summary.get("note", "")
        self.summary_box.setToolTip(note or "The auto-scorer's definitions "
                                    "(behavior.fst.summary)")
        self._show_selected(events)
        self._show_held()
        self.state_changed.emit()

    def _show_selected(self, events) -> None:
        chosen = [e for e in events if e.id == self.selected_id]
        if chosen:
            e = chosen[0]
            if e.start_s == e.end_s:  # a point event
                self.selected_label.setText(
                    f"Selected: {e.behaviour.replace('_', ' ')} at {e.start_s:.3f} s. Drag it "
                    "or use Alt+←/→; Del deletes.")
                return
            self.selected_label.setText(
                f"Selected: {e.behaviour} {e.start_s:.3f}–{e.end_s:.3f} s "
                f"({e.end_s - e.start_s:.3f} s). Drag its edges or use Alt+←/→ "
                "(start), Alt+Shift+←/→ (end); Del deletes.")
        else:
            self.selected_label.setText("No bout selected (click one on the timeline)")

    def _show_held(self) -> None:
        held = self.doc.held if self.doc else None
        if held is None:
            self.held_label.setText("Nothing held")
            self.view.set_overlay("")
            return
        behaviour, start = held
        length = max(0.0, self.player.time() - start)
        self.held_label.setText(f"<b>Holding {behaviour}</b> since {start:.3f} s ({length:.1f} s)")
        self.view.set_overlay(f"● {behaviour}")

    def _on_frame(self, index: int, t_s: float, exact: bool) -> None:
        n = self.player.times.size
        mark = "" if exact else "  (key frame preview)"
        self.time_label.setText(f"{fmt_time(t_s)}  ({t_s:.3f} s)  frame {index + 1} of {n}"
                                f"  {self.player.speed:g}×{mark}")
        if not self.slider.isSliderDown():
            self.slider.blockSignals(True)
            self.slider.setValue(index)
            self.slider.blockSignals(False)

    def _on_position(self, t_s: float) -> None:
        self.timeline.set_playhead(t_s)
        if self.doc is not None and self.doc.held is not None:
            self._show_held()
        if not self.player.playing:
            self._seek_save.start()

    def _on_state(self, playing: bool) -> None:
        icon = QStyle.SP_MediaPause if playing else QStyle.SP_MediaPlay
        self.buttons["play"].setIcon(self.style().standardIcon(icon))
        i = SPEEDS.index(self.player.speed) if self.player.speed in SPEEDS else -1
        if i >= 0:
            self.speed_box.setCurrentIndex(i)
        if playing:
            self._save_timer.start()
        else:
            self._save_timer.stop()
        self.state_changed.emit()

    def _on_paused(self, t_s: float) -> None:
        if self.doc is not None:
            self.doc.close_hold(t_s, "playback paused")
            self.save_position()

    def _on_ended(self, t_s: float) -> None:
        if self.doc is not None:
            self.doc.close_hold(t_s, "end of the video")
            self.message.emit("End of the video")

    def _scrub(self, index: int) -> None:
        if self.player.ready:
            self.player.preview_time(float(self.player.times[index]))

    # -- hold-to-score -----------------------------------------------------------------
    def _hold_started(self, behaviour: str, t_s: float) -> None:
        if self.doc is not None and self.player.ready:
            if behaviour in self.doc.points:
                self.doc.mark(behaviour, t_s)
            else:
                self.doc.hold_start(behaviour, t_s)

    def _hold_ended(self, behaviour: str, t_s: float) -> None:
        if self.doc is not None:
            self.doc.hold_end(behaviour, t_s)

    # -- commands (the main window's actions call these) -------------------------------
    def go_window_start(self) -> None:
        if self.doc is not None:
            self.player.seek_time(self.doc.protocol.window_s[0])

    def change_speed(self, step: int) -> None:
        speeds = list(SPEEDS)
        here = min(range(len(speeds)), key=lambda i: abs(speeds[i] - self.player.speed))
        self.player.set_speed(speeds[min(max(here + step, 0), len(speeds) - 1)])
        self.message.emit(f"Speed {self.player.speed:g}×")

    def select_bout(self, event_id: int) -> None:
        self.selected_id = event_id
        self.timeline.select(event_id)
        if self.doc is not None:
            self._show_selected(self.doc.events())
        self.state_changed.emit()

    def select_neighbour(self, step: int) -> None:
        """Select the bout before/after the selected one (or the playhead) and go to it."""
        if self.doc is None:
            return
        events = sorted(self.doc.events(), key=lambda e: (e.start_s, e.id))
        if not events:
            return
        ids = [e.id for e in events]
        if self.selected_id in ids:
            k = ids.index(self.selected_id) + step
        else:
            t = self.player.time()
            later = [i for i, e in enumerate(events) if e.start_s > t + 1e-9]
            k = (later[0] if later else len(events)) if step > 0 else \
                (later[0] - 1 if later else len(events) - 1)
        k = min(max(k, 0), len(events) - 1)
        self.select_bout(events[k].id)
        self.player.seek_time(events[k].start_s)

    def nudge(self, edge: str, frames: int) -> None:
        if self.doc is not None and self.selected_id >= 0:
            moved = self.doc.nudge(self.selected_id, edge, frames)
            if moved is not None:
                self.player.seek_time(moved.start_s if edge == "start" else
                                      self.doc.frame_step(moved.end_s, -1))

    def _edge_dragged(self, event_id: int, edge: str, t_s: float) -> None:
        if self.doc is None:
            return
        times = self.player.times
        if times.size:  # an edge lands on a frame's start (the end may be the video's end)
            k = index_at(times, t_s)
            nearer = k + 1 if k + 1 < times.size and times[k + 1] - t_s < t_s - times[k] else k
            t_s = float(times[nearer]) if not (edge == "end" and t_s >= times[-1]) else \
                self.doc.duration()
        self.doc.move_edge(event_id, edge, t_s)

    def delete_selected(self) -> None:
        if self.doc is not None and self.selected_id >= 0:
            if self.doc.delete(self.selected_id):
                self.message.emit("Bout deleted (Ctrl+Z undoes)")
                self.selected_id = -1
                self.refresh()

    def undo(self) -> None:
        if self.doc is not None:
            self.doc.undo()

    def redo(self) -> None:
        if self.doc is not None:
            self.doc.redo()

    def finish(self) -> None:
        """Mark the current video finished and open the next unfinished one."""
        if self.doc is None or self.doc.current is None:
            return
        if self.player.playing:
            self.player.pause()
        self.doc.close_hold(self.player.time(), "video finished")
        nxt = self.doc.mark_finished()
        if nxt is not None and nxt != self.doc.current:
            self.open_code(nxt)
        elif nxt is None and self.doc.current in self.doc.finished():
            self.message.emit(f"All videos finished ({self.doc.progress()})")

    def go_video(self, step: int) -> None:
        if self.doc is not None:
            code = self.doc.next_code(step)
            if code is not None and code != self.doc.current:
                self.open_code(code)

    def choose_crop(self) -> None:
        self.view.choose_crop()
        self.message.emit("Drag a rectangle around the arena")

    def _crop_chosen(self, rect: QRect) -> None:
        self.view.set_crop(rect)
        if self.doc is not None and self.doc.current:
            self.settings.set_value(f"crop/{self.doc.current}",
                                    [rect.x(), rect.y(), rect.width(), rect.height()])

    def uncrop(self) -> None:
        self.view.set_crop(None)
        if self.doc is not None and self.doc.current:
            self.settings.q.remove(f"crop/{self.doc.current}")

    def save_position(self) -> None:
        if self.doc is not None and self.player.ready and self._opening is None:
            self.doc.save_position(self.player.time())

    def shutdown(self) -> None:
        """Close the hold (at the current time), save the position, stop the decoder."""
        if self.doc is not None:
            t = self.player.time()
            self.keys.release_all()
            self.doc.close_hold(t, "window closed")
            self.save_position()
        self._save_timer.stop()
        self._seek_save.stop()
        self.player.close()
