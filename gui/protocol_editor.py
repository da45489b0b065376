"""The protocol: choosing a shipped one or a file, and editing every key.

The editor shows each key of a forced swim / tail suspension protocol with its meaning
(the core's own description, from :class:`behavior.protocols.FstProtocol`) and checks
the values exactly as the core does (:func:`behavior.protocols.parse_fst_protocol`):
the first problem is said in words beside its key. A protocol is saved as a YAML file
the command line reads (``--protocol FILE``).
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from PyQt5.QtCore import Qt
from PyQt5.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QGridLayout,
    QLabel,
    QLineEdit,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from behavior.errors import BehaviorError, ProtocolError
from behavior.protocols import (
    SHIPPED_DIR,
    FstProtocol,
    load_fst_protocol,
    parse_fst_protocol,
)


def key_meanings() -> dict[str, str]:
    """Each protocol key's meaning, read from :class:`FstProtocol`'s description (the
    core's own words; one entry may name two keys, e.g. ``species, test``)."""
    doc = FstProtocol.__doc__ or ""
    text = doc.split("Attributes", 1)[-1]
    meanings: dict[str, str] = {}
    names: list[str] = []
    for line in text.splitlines():
        if not line.strip() or set(line.strip()) == {"-"}:
            continue
        indent = len(line) - len(line.lstrip())
        if indent <= 4:
            names = [n.strip() for n in line.split(",")]
            for n in names:
                meanings[n] = ""
        else:
            for n in names:
                meanings[n] = (meanings[n] + " " + line.strip()).strip()
    # the docstring's markup, as plain words
    return {k: re.sub(r":\w+:`~?[\w.]*?(\w+)`|``(.*?)``", lambda m: m.group(1) or m.group(2),
                      v) for k, v in meanings.items()}


def shipped_fst_protocols() -> list[tuple[str, str]]:
    """The shipped forced swim / tail suspension protocols: (file stem, its name)."""
    found = []
    for path in sorted(SHIPPED_DIR.glob("*.yaml")):
        try:
            found.append((path.stem, load_fst_protocol(path).name))
        except BehaviorError:
            continue  # another assay's protocol (prepulse inhibition)
    return found


def as_text(value) -> str:
    """A value as it is written in a protocol file."""
    return yaml.safe_dump(value, default_flow_style=True).strip().removesuffix("...").strip()


class ProtocolEditor(QDialog):
    """Every key of a protocol, its value and its meaning; validated as the core does.

    ``protocol()`` is the checked protocol after :meth:`validate` (None while a value
    is wrong); ``saved_path`` is where it was saved, if it was.
    """

    def __init__(self, protocol: FstProtocol, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(f"Protocol — {protocol.name}")
        self.source = str(protocol.source or protocol.name)
        self.saved_path: Path | None = None
        self._protocol: FstProtocol | None = protocol
        self.fields: dict[str, QLineEdit] = {}
        meanings = key_meanings()
        grid_host = QWidget()
        grid = QGridLayout(grid_host)
        grid.setColumnStretch(2, 1)
        for row, (key, value) in enumerate(protocol.to_dict().items()):
            name = QLabel(f"<b>{key}</b>")
            edit = QLineEdit(as_text(value))
            edit.setMinimumWidth(160)
            edit.textChanged.connect(self.validate)
            meaning = QLabel(meanings.get(key, ""))
            meaning.setWordWrap(True)
            meaning.setStyleSheet("color: #555")
            grid.addWidget(name, row, 0, Qt.AlignTop)
            grid.addWidget(edit, row, 1, Qt.AlignTop)
            grid.addWidget(meaning, row, 2)
            self.fields[key] = edit
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(grid_host)
        self.error = QLabel("")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #b00020")
        self.buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        self.save_button = self.buttons.addButton("Save as…", QDialogButtonBox.ActionRole)
        self.buttons.button(QDialogButtonBox.Ok).setText("Use")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.save_button.clicked.connect(lambda: self.save_as(None))
        layout = QVBoxLayout(self)
        source = QLabel(f"From: {self.source}")
        source.setStyleSheet("color: #555")
        layout.addWidget(source)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.resize(900, 640)

    def data(self) -> dict:
        """The keys and values as typed (YAML values)."""
        data = {}
        for key, edit in self.fields.items():
            try:
                data[key] = yaml.safe_load(edit.text())
            except yaml.YAMLError:
                data[key] = edit.text()
        return data

    def validate(self) -> bool:
        """Check the values as the core does; the problem is shown in words."""
        for edit in self.fields.values():
            edit.setStyleSheet("")
        try:
            self._protocol = parse_fst_protocol(self.data(), self.source)
        except ProtocolError as exc:
            self._protocol = None
            key = str(exc.key).split(".")[0]
            if key in self.fields:
                self.fields[key].setStyleSheet("border: 2px solid #b00020")
            self.error.setText(f"{exc.key}: {exc.problem}")
        else:
            self.error.setText("")
        ok = self._protocol is not None
        self.buttons.button(QDialogButtonBox.Ok).setEnabled(ok)
        self.save_button.setEnabled(ok)
        return ok

    def protocol(self) -> FstProtocol | None:
        return self._protocol

    def ask_save_path(self) -> str | None:
        path, _ = QFileDialog.getSaveFileName(self, "Save the protocol", "",
                                              "Protocol (*.yaml *.yml)")
        return path or None

    def save_as(self, path: str | Path | None) -> Path | None:
        """Write the protocol as a YAML file (atomically); it then comes from there."""
        from behavior.io.atomic import write_text

        if not self.validate():
            return None
        path = path or self.ask_save_path()
        if not path:
            return None
        path = Path(path)
        if path.suffix.lower() not in (".yaml", ".yml"):
            path = path.with_suffix(".yaml")
        try:
            write_text(path, self._protocol.to_yaml())
            self._protocol = load_fst_protocol(path)  # as the command line will read it
        except BehaviorError as exc:
            self.error.setText(str(exc))
            return None
        self.source = str(path)
        self.saved_path = path
        return path

    def accept(self) -> None:
        if self.validate():
            super().accept()
