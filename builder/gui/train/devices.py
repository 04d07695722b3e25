"""The device a run uses: auto, the CPU, or one CUDA GPU, each shown with its name and memory.

What this machine has comes from `torchcanvas devices --json` in a child process (the app never
imports torch), asked once when the panel is first shown and again on ↻. Until it answers, and
when it fails, the choices are auto and cpu, plus the project's own choice (a GPU this machine
may not have is kept and marked, never silently changed).
"""

from __future__ import annotations

from PySide6.QtCore import QSignalBlocker, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QToolButton, QVBoxLayout, QWidget

from builder.gui.panels.fields import DERIVED_COLOR
from builder.gui.train.child import JsonCommand

AUTO_TEXT = "Auto (a GPU when there is one)"


def device_label(device: dict) -> str:
    memory = device.get("memory_gb")
    if device["id"] == "cpu":
        return str(device.get("name") or "CPU")
    size = f", {memory:g} GB" if isinstance(memory, (int, float)) else ""
    return f"{device['id']}: {device.get('name', 'GPU')}{size}"


class DeviceField(QWidget):
    """``chosen`` carries the id the user picked ("auto", "cpu", "cuda:0")."""

    chosen = Signal(str)
    listed = Signal()  # the machine's devices arrived (or could not be listed)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.combo = QComboBox()
        # A GPU's long name must not widen the panel: the popup shows it whole.
        self.combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.combo.setMinimumContentsLength(12)
        self.refresh_button = QToolButton()
        self.refresh_button.setText("↻")
        self.refresh_button.setToolTip("Look for devices again")
        self.refresh_button.clicked.connect(self.list_devices)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setStyleSheet(f"color: {DERIVED_COLOR};")
        self.command = JsonCommand(self)
        self.command.answered.connect(self._on_command_answered)
        self.command.failed.connect(self._on_command_failed)
        self.devices: list[dict] = []
        self.default = ""
        self.asked = False
        self._value = "auto"
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.combo, 1)
        row.addWidget(self.refresh_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(1)
        layout.addLayout(row)
        layout.addWidget(self.note)
        self.combo.activated.connect(self._on_combo_activated)
        self._fill()

    # -- what the machine has --------------------------------------------------------------
    def list_devices(self) -> None:
        self.asked = True
        self.note.setText("Looking for GPUs…")
        self.command.request(["devices", "--json"])

    def names(self) -> dict[str, str]:
        """id -> name, for the status line."""
        return {d["id"]: str(d.get("name", d["id"])) for d in self.devices}

    def _on_command_answered(self, answer: dict) -> None:
        devices = [d for d in answer.get("devices", []) if isinstance(d, dict) and "id" in d]
        self.devices, self.default = devices, str(answer.get("default", ""))
        gpus = sum(d["id"] != "cpu" for d in devices)
        self.note.setText(
            f"{gpus} GPU{'s' * (gpus != 1)} here; auto uses {self.default}"
            if gpus
            else "No GPU here: runs use the CPU"
        )
        self._fill()
        self.listed.emit()

    def _on_command_failed(self, message: str) -> None:
        self.note.setText(f"Could not list the devices: {message}")
        self.listed.emit()

    # -- the project's choice --------------------------------------------------------------
    def show_value(self, device: str) -> None:
        self._value = device
        self._fill()

    def value(self) -> str:
        return self._value

    def _fill(self) -> None:
        with QSignalBlocker(self.combo):
            self.combo.clear()
            self.combo.addItem(AUTO_TEXT, "auto")
            known = self.devices or [{"id": "cpu", "name": "CPU"}]
            for device in known:
                self.combo.addItem(device_label(device), device["id"])
            if self.combo.findData(self._value) < 0:
                where = "not on this machine" if self.devices else "not checked yet"
                self.combo.addItem(f"{self._value} ({where})", self._value)
            self.combo.setCurrentIndex(self.combo.findData(self._value))

    def _on_combo_activated(self, index: int) -> None:
        device = self.combo.itemData(index)
        if device and device != self._value:
            self.chosen.emit(device)
