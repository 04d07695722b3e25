"""View > Flow: whether the project's drawings read top to bottom or left to right.

The flow is the project's (``Project.flow``, saved in the file): every network and block is
drawn the same way. Choosing the other one turns the drawings: the ports move to the other
sides (ProjectDocument.flow_changed tells every canvas) and every graph is laid out again in
the new direction, all in one undo step. Only moving the ports would leave a left-to-right
graph whose edges all run into the sides of the boxes below them; a student who switches
direction expects the drawing to turn, and one undo puts back both the flow and every
position.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QStatusBar, QWidget

from builder.gui import arrange
from builder.gui.actions import MenuEntry
from builder.gui.commands import SetProjectField, Step
from builder.gui.controller import EditController
from builder.gui.graph_tabs import GraphTabs
from graph_schema.document import FLOWS

FLOW_LABELS = {"down": "Flow: &Top to Bottom", "right": "Flow: &Left to Right"}
FLOW_NAMES = {"down": "top to bottom", "right": "left to right"}


def flow_steps(controller: EditController, flow: str) -> tuple[list[Step], set[str]]:
    """The steps that set the project's flow and lay every graph out in it, and the layout
    engines that ran; no steps when the flow is already ``flow``."""
    doc = controller.doc
    if flow == doc.project.flow:
        return [], set()
    steps: list[Step] = [SetProjectField(doc, "flow", flow)]
    engines = set()
    for key in doc.graph_keys():
        graph = doc.graph(key)
        if not graph.nodes:
            continue
        # The glyphs' sizes in the new flow: a merge's name goes below its circle there.
        positions, engine = arrange.laid_out(graph, arrange.node_sizes(doc, key, flow),
                                             flow=flow)
        steps += arrange.move_steps(doc, key, positions)
        engines.add(engine)
    return steps, engines


def set_flow(controller: EditController, flow: str) -> str | None:
    """Turn every drawing of the project to ``flow`` as one undo step; returns what the
    status bar says, or None when nothing changed."""
    if flow not in FLOWS:
        controller.refused.emit(f"Unknown flow {flow!r}; choose one of {', '.join(FLOWS)}")
        return None
    steps, engines = flow_steps(controller, flow)
    if not steps:
        return None
    controller.push(FLOW_LABELS[flow].replace("&", ""), steps)
    by = " and ".join(sorted(arrange.engine_label(e) for e in engines))
    return f"Drawn {FLOW_NAMES[flow]}" + (f", laid out by {by}" if by else "")


class FlowActions(QObject):
    """The two checkable actions; they follow the document (undo, another file)."""

    def __init__(self, host: QWidget, controller: EditController, tabs: GraphTabs,
                 status_bar: QStatusBar):
        super().__init__(host)
        self.controller = controller
        self.tabs = tabs
        self.status_bar = status_bar
        self.group = QActionGroup(self)
        self.group.setExclusive(True)
        self.actions: dict[str, QAction] = {}
        for flow in FLOWS:
            action = QAction(FLOW_LABELS[flow], self.group)
            action.setCheckable(True)
            action.setObjectName(f"flow_{flow}")
            action.triggered.connect(lambda _checked=False, f=flow: self.choose(f))
            self.actions[flow] = action
        doc = controller.doc
        doc.flow_changed.connect(self._on_doc_flow_changed)
        doc.project_replaced.connect(self._on_doc_project_replaced)
        self._show(doc.project.flow)

    def entries(self) -> list[MenuEntry]:
        return [self.actions[flow] for flow in FLOWS]

    def choose(self, flow: str) -> None:
        message = set_flow(self.controller, flow)
        if message:
            self.status_bar.showMessage(message, 6000)
            view = self.tabs.current_view()
            if view is not None:
                # The drawing turned: show all of it, once the view has grown its scrollable
                # area to the new drawing (it does so on the scene's next change report).
                QTimer.singleShot(0, view, view.fit)
        self._show(self.controller.doc.project.flow)

    def _show(self, flow: str) -> None:
        self.actions[flow].setChecked(True)

    def _on_doc_flow_changed(self, flow: str) -> None:
        self._show(flow)

    def _on_doc_project_replaced(self) -> None:
        self._show(self.controller.doc.project.flow)
