"""One block instance seen open: its body, inferred for that placement, laid out in a frame.

``open_body`` infers the block's body under the instance's own input shapes and argument
values (not the first placement's, which the block's tab shows), so every frame's edges carry
the shapes of the place it is drawn in. The body keeps the block tab's positions (the ones a
user edits there), without its io.Input and io.Output nodes: their edges start and end on the
frame's border, at the very points where the outer edges meet it (``port_position`` of the
instance's own glyph stretched to the frame), so a tensor's path reads straight through.
Nested instances that are open too become frames inside the frame, room made for them with
graph_schema/inline_layout.py, and the edges are routed round the boxes by
graph_schema/routing.py. A body reads the way the project's drawings do (``Project.flow``):
in a rightward one the border ports are on the frame's left and right sides, the room for
edges to turn is on the left, and the body is centred top to bottom. The result is plain
data; builder/gui/inline_frame.py draws it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from PySide6.QtCore import QPointF
from PySide6.QtGui import QFontMetricsF

from builder.gui.glyphs import BAND, NodeLook, node_size, port_position
from builder.gui.items import EDGE_FONT, GRID
from builder.gui.looks import node_look
from builder.gui.theme import ui_font
from graph_schema.dims import format_shape_compact
from graph_schema.document import Block, Node, Project
from graph_schema.inference import Inference, NodeState
from graph_schema.inline_layout import Path, make_room
from graph_schema.layout import lacks_positions, layout_network
from graph_schema.routing import route_edges

IO_TYPES = ("io.Input", "io.Output")
TITLE_FONT = ui_font(8.5, bold=True)
PAD = 20.0  # between the frame and its body
PAD_TOP = 48.0  # room for the title, and below it for edges from the input ports to turn
PAD_IN = 36.0  # in a rightward body: room left of it for edges from the input ports to turn
MIN_WIDTH = 180.0
ROOM_MARGIN = 8.0  # a frame keeps this much more room around it than the node had
Point = tuple[float, float]


@dataclass
class InnerEdge:
    source: str  # the block's node ids (an io.Input or io.Output one: the frame's border)
    target: str
    points: list[Point]  # an orthogonal route in frame coordinates (or two ends, unrouted)
    label: str  # the tensor's shape; empty where the outer edge already shows it
    label_box: tuple[float, float, float, float] | None
    error: str | None  # the target's complaint about this input
    onward: bool = False  # ends on the frame's border, where the outer edge takes it on


@dataclass
class Body:
    """An open block instance, in its frame's own coordinates (0, 0 is the frame's corner)."""

    path: Path  # node ids from the drawn graph down to this instance
    instance: Node
    block: Block
    look: NodeLook  # the instance's collapsed glyph: its port counts place the border ports
    inference: Inference  # the body under this placement's shapes and arguments
    flow: str = "down"  # the project's: which sides the border ports are on
    width: float = 0.0
    height: float = 0.0
    title: str = ""
    looks: dict[str, NodeLook] = field(default_factory=dict)  # drawn nodes (not io)
    positions: dict[str, Point] = field(default_factory=dict)  # nodes and inner frames
    children: dict[str, Body] = field(default_factory=dict)  # open nested instances
    edges: list[InnerEdge] = field(default_factory=list)

    @property
    def size(self) -> tuple[float, float]:
        return self.width, self.height

    @property
    def key(self) -> tuple[str, str]:
        """The graph key of the block whose body this is (its tab's key)."""
        return ("block", self.block.name)

    def port(self, kind: str, index: int) -> Point:
        """A port on the border, where glyphs.port_position puts a glyph's: after the
        glyph's coloured band, so a frame's port is where its collapsed node's was."""
        point = port_position(self.look, self.size, kind, index, self.flow)
        return point.x(), point.y()

    def title_box(self) -> tuple[float, float, float, float]:
        """Where the title is written: top left, ending before the first input port (in a
        rightward body no port is on the top side: the whole width)."""
        height = QFontMetricsF(TITLE_FONT).height()
        if self.flow == "right":
            return PAD - 8, 8.0, max(20.0, self.width - 2 * PAD + 16), height
        first_port = self.port("in", 0)[0] if self.look.inputs else self.width
        return PAD - 8, 8.0, max(20.0, first_port - 2 * PAD + 8), height


def openable(project: Project, node: Node) -> Block | None:
    """The block ``node`` places when it has a body to show (not kept as source)."""
    block = project.block(node.block_name) if node.block_name else None
    return block if block is not None and block.opaque is None else None


def open_body(project: Project, path: Path, instance: Node, state: NodeState | None,
              look: NodeLook, opened: set[Path], inside: tuple[str, ...] = ()) -> Body | None:
    """The body of ``instance`` (whose inferred state in its graph is ``state``), with the
    nested instances whose paths are in ``opened`` open too. None: nothing to open."""
    block = openable(project, instance)
    if block is None or block.name in inside:
        return None
    body = Body(path, instance, block, look, _placed_inference(project, block, instance, state),
                flow=project.flow, title=f"{instance.name} · {block.name}")
    drawn = [n for n in block.nodes if n.type not in IO_TYPES]
    for node in drawn:
        body.looks[node.id] = _inner_look(project, body.inference, node)
    for node in drawn:
        child_path = (*path, node.id)
        if child_path in opened:
            child = open_body(project, child_path, node, body.inference.states.get(node.id),
                              body.looks[node.id], opened, (*inside, block.name))
            if child is not None:
                body.children[node.id] = child
    _place(body, drawn)
    body.edges = _inner_edges(body)
    return body


def _placed_inference(project: Project, block: Block, instance: Node,
                      state: NodeState | None) -> Inference:
    """The body as it runs in this placement: its input shapes and resolved arguments."""
    inputs = state.inputs if state is not None else []
    shapes = {port.id: shape for port, shape in zip(block.inputs(), inputs) if shape is not None}
    arguments = dict(state.params) if state is not None and state.params else \
        {**block.arguments, **instance.params}
    return Inference(block, project, input_shapes=shapes, arguments=arguments)


def _inner_look(project: Project, inference: Inference, node: Node) -> NodeLook:
    state = inference.states.get(node.id)
    ports = {e.port for e in inference.incoming.get(node.id, [])}
    return node_look(project, node, state, state.diagnostics if state else [], ports)


def _box_size(body: Body, node_id: str) -> tuple[float, float]:
    child = body.children.get(node_id)
    return child.size if child is not None else node_size(body.looks[node_id], body.flow)


def _place(body: Body, drawn: list[Node]) -> None:
    """Positions inside the frame, and the frame's size: the block tab's layout with room
    made for the open nested instances, centred."""
    sizes = {n.id: node_size(body.looks[n.id], body.flow) for n in drawn}
    if lacks_positions(body.block):
        laid = layout_network(body.block, sizes, flow=body.flow).positions
        corners = {n.id: (laid[n.id].x, laid[n.id].y) for n in drawn}
    else:
        corners = {n.id: (n.position.x, n.position.y) for n in drawn}
    boxes = {n: (*corners[n], *sizes[n]) for n in corners}
    grown = {n: child.size for n, child in body.children.items()}
    room = make_room(boxes, grown, flow=body.flow, step=GRID, margin=ROOM_MARGIN)
    placed = {n: room.frames.get(n) or (x + room.offsets[n][0], y + room.offsets[n][1], w, h)
              for n, (x, y, w, h) in boxes.items()}
    left = min((b[0] for b in placed.values()), default=0.0)
    top = min((b[1] for b in placed.values()), default=0.0)
    right = max((b[0] + b[2] for b in placed.values()), default=0.0)
    bottom = max((b[1] + b[3] for b in placed.values()), default=0.0)
    shift = _size_frame(body, right - left, bottom - top)
    body.positions = {n: (b[0] + shift[0] - left, b[1] + shift[1] - top)
                      for n, b in placed.items()}


def _size_frame(body: Body, content_width: float, content_height: float) -> Point:
    """The frame's size round a body of the given extent, and where the body's corner goes.
    The body is centred across the flow as a glyph is on its column, so a node in the middle
    has its input port in line with the frame's."""
    title = QFontMetricsF(TITLE_FONT).horizontalAdvance(body.title)
    if body.flow == "right":
        title_height = QFontMetricsF(TITLE_FONT).height()
        pad_top = 8.0 + title_height + PAD
        body.width = max(MIN_WIDTH, content_width + PAD_IN + PAD, title + 2 * PAD)
        # As much room below as above: the middle row's ports meet the frame's, and an edge
        # round the body (a skip connection) has room to pass under it.
        body.height = content_height + 2 * pad_top
        return PAD_IN + (body.width - PAD_IN - PAD - content_width) / 2, pad_top
    inputs = max(1, body.look.inputs)
    # Wide enough that the title ends before the first input port (the title sits left of it).
    body.width = max(MIN_WIDTH, content_width + 2 * PAD,
                     min(BAND + (inputs + 1) * (title + 2 * PAD - BAND),
                         content_width + 2 * PAD + 400))
    body.height = content_height + PAD_TOP + PAD
    return body.width / 2 - content_width / 2, PAD_TOP


def _inner_edges(body: Body) -> list[InnerEdge]:
    inputs = {n.id: i for i, n in enumerate(body.block.inputs())}
    outputs = {n.id: i for i, n in enumerate(body.block.outputs())}
    boxes = {n: (*body.positions[n], *_box_size(body, n)) for n in body.positions}
    boxes["<title>"] = body.title_box()  # edges from the input ports keep off the title
    requests, labels, errors, sizes, ends = [], {}, {}, {}, {}
    metrics = QFontMetricsF(EDGE_FONT)
    for index, edge in enumerate(body.block.edges):
        start = _end(body, edge.source, edge.source_port, "out", inputs, boxes)
        end = _end(body, edge.target, edge.target_port, "in", outputs, boxes)
        if start is None or end is None:
            continue  # a dangling edge inside the block (its tab lists it)
        requests.append((index, start[0], start[1], end[0], end[1]))
        ends[index] = (edge.source, edge.target)
        border = edge.source in inputs or edge.target in outputs
        shape = body.inference.output_shape(edge.source, edge.source_port)
        labels[index] = "" if border else format_shape_compact(shape) if shape else ""
        if labels[index]:
            sizes[index] = (metrics.horizontalAdvance(labels[index]) + 10,
                            metrics.height() + 4)
        errors[index] = _error_at(body, edge.target, edge.target_port)
    try:
        routes = route_edges(boxes, requests, flow=body.flow, label_sizes=sizes).routes
    except ValueError:  # numbers the router refuses: draw straight lines rather than fail
        routes = {}
    edges = []
    for key, _source, start, drawn_target, end in requests:
        route = routes.get(key)
        edges.append(InnerEdge(*ends[key], list(route.points) if route else [start, end],
                               labels[key], route.label if route else None, errors[key],
                               onward=drawn_target not in body.positions))
    return edges


def _end(body: Body, node_id: str, port: int, kind: str, border: dict[str, int],
         boxes: dict) -> tuple[str, Point] | None:
    """Where an inner edge starts or ends: an io node's end is on the frame's border (with a
    sliver of a box just outside it, for the router); any other on the node's port."""
    if node_id in border:
        x, y = body.port("in" if kind == "out" else "out", border[node_id])
        sliver = f"<{kind} port {border[node_id]}>"  # never a node id: ids have no spaces
        boxes[sliver] = _sliver(body.flow, kind, x, y)
        return sliver, (x, y)
    if node_id not in body.positions:
        return None
    child = body.children.get(node_id)
    if child is not None:
        x, y = child.port(kind, port)
    else:
        look = body.looks[node_id]
        point: QPointF = port_position(look, node_size(look, body.flow), kind, port, body.flow)
        x, y = point.x(), point.y()
    left, top = body.positions[node_id]
    return node_id, (left + x, top + y)


def _sliver(flow: str, kind: str, x: float, y: float) -> tuple[float, float, float, float]:
    """A 2-unit box just outside the border at a port: before it for the edges that start
    there (``kind`` "out"), after it for those that end there."""
    before = kind == "out"
    if flow == "right":
        return (x - 2.0 if before else x, y - 1.0, 2.0, 2.0)
    return (x - 1.0, y - 2.0 if before else y, 2.0, 2.0)


def _error_at(body: Body, node_id: str, port: int) -> str | None:
    state = body.inference.states.get(node_id)
    if state is None:
        return None
    return next((d.message for d in state.diagnostics if d.is_error and d.port == port), None)
