"""The routes of one canvas scene's edges: round the node boxes, each label where it is seen.

graph_schema.routing does the geometry (Qt-free); this module feeds it what the scene draws
and hands each EdgeItem its ``Route``:

* boxes: every node's glyph, its position and size (a merge's box holds its circle and the
  name beside it, so no edge runs through the name);
* ends: the ports as the glyph places them (``NodeItem.port_scene_pos``), so the ports may
  sit on any side (a rightward flow) and the routes still start and end on them;
* label sizes: each shape label's text in the edge font (``items.label_size``);
* flow: the project's ``flow`` ("down" or "right").

``route_all`` routes every edge; ``refresh`` brings the routes up to date after anything
changed (``reroute``: only the routes near what moved are done again, and they come out as a
full routing would give them; when the scene says only nodes moved, only those nodes and
their edges are measured again, and only the edges whose route or label changed are told);
``drag_step`` is the same for a node being dragged, before the document hears of the move,
and gives up for the rest of a drag that makes it too slow (the dragged edges are then drawn
as S-curves until the drop). When the router refuses the data (a number that is not finite),
the edges are drawn as S-curves: never a crash.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable

from builder.gui.items import label_size
from graph_schema.routing import Routing, reroute, route_edges

Box = tuple[float, float, float, float]
DRAG_BUDGET_S = 0.012  # a drag step slower than this would make the drag stutter (60 Hz)


def _finite(*numbers: float) -> bool:
    return math.isfinite(sum(numbers))


class EdgeRoutes:
    def __init__(self, scene):
        self.scene = scene
        self.routing: Routing | None = None  # None: nothing routed (or the router refused)
        self.problem: str | None = None  # why the router refused the last data
        self.seconds = 0.0  # how long the last routing took, gathering included
        self.drag_too_slow = False  # this drag draws its edges as S-curves until the drop
        self._boxes: dict[str, Box] = {}
        self._requests: dict[tuple, tuple] = {}  # edge key -> (its item, its request)
        self._edges_of: dict[str, list[tuple]] = {}  # node id -> keys of its edges
        self._seen: dict[str, tuple] = {}  # node id -> (x, y, size, look) last measured

    # -- what the router is given -------------------------------------------------------
    def flow(self) -> str:
        return getattr(self.scene.doc.project, "flow", "down")

    def _box(self, node_id: str) -> Box | None:
        item = self.scene.nodes[node_id]
        pos, (width, height) = item.pos(), item.size
        box = (pos.x(), pos.y(), float(width), float(height))
        return box if _finite(*box) else None

    def _request(self, key: tuple, item) -> tuple | None:
        start, end = item.ports()
        if not _finite(start.x(), start.y(), end.x(), end.y()):
            return None
        return key, key[0], (start.x(), start.y()), key[2], (end.x(), end.y())

    def inputs(self, fresh: bool = True
               ) -> tuple[dict[str, Box], list[tuple], dict[tuple, tuple[float, float]]]:
        """Boxes, edges and label sizes as the scene shows them now (what a full routing is
        made of; the tests compare a reroute with one). Not ``fresh``: only the nodes whose
        place, size or look changed since the last call are measured again, and only their
        edges' ports (a thousand nodes cost a few milliseconds to measure)."""
        if fresh:
            self._seen, self._requests = {}, {}
        changed = set()
        boxes = {}
        for node_id, item in self.scene.nodes.items():
            pos = item.pos()
            seen = (pos.x(), pos.y(), item.size, item.look)
            if self._seen.get(node_id) != seen:
                self._seen[node_id] = seen
                changed.add(node_id)
            box = (seen[0], seen[1], float(item.size[0]), float(item.size[1]))
            if _finite(*box):
                boxes[node_id] = box
        if len(self._seen) > len(boxes):
            self._seen = {n: self._seen[n] for n in self.scene.nodes if n in self._seen}
        requests = {}
        for key, item in self.scene.edges.items():
            if key[0] not in boxes or key[2] not in boxes:
                continue
            known = self._requests.get(key)
            if known is None or known[0] is not item or key[0] in changed \
                    or key[2] in changed:
                known = (item, self._request(key, item))
            if known[1] is not None:
                requests[key] = known
        self._boxes, self._requests = boxes, requests
        self._edges_of = {}
        for key in requests:
            self._edges_of.setdefault(key[0], []).append(key)
            self._edges_of.setdefault(key[2], []).append(key)
        return boxes, [request for _, request in requests.values()], self._label_sizes()

    def _moved_inputs(self, moved: set[str]) -> list[tuple] | None:
        """The edges to route when only the nodes in ``moved`` moved: their boxes and their
        edges' ends measured again, everything else as last measured. None when a box or a
        port is not a finite number (a full ``inputs`` then says which)."""
        for node_id in moved:
            item = self.scene.nodes.get(node_id)
            box = self._box(node_id) if item is not None else None
            if box is None:
                return None
            self._boxes[node_id] = box
            self._seen[node_id] = (box[0], box[1], item.size, item.look)
            for key in self._edges_of.get(node_id, ()):
                edge = self._requests[key][0]
                request = self._request(key, edge)
                if request is None:
                    return None
                self._requests[key] = (edge, request)
        return [request for _, request in self._requests.values()]

    def _label_sizes(self) -> dict[tuple, tuple[float, float]]:
        edges = self.scene.edges
        return {key: label_size(edges[key].label) for key in self._requests
                if edges[key].label}

    # -- routing --------------------------------------------------------------------------
    def route_all(self) -> None:
        started = time.perf_counter()
        boxes, edges, labels = self.inputs()
        try:
            routing = route_edges(boxes, edges, flow=self.flow(), label_sizes=labels)
        except ValueError as err:
            routing, self.problem = None, str(err)
        self._apply(routing)
        self.seconds = time.perf_counter() - started

    def refresh(self, moved: Iterable[str] = (), only_moved: bool = False) -> None:
        """Routes up to date with the scene: ``moved`` nodes moved (any node whose box
        changed counts too), edges or labels may have come, gone or changed; with
        ``only_moved`` the scene says nothing but those moves happened."""
        if self.routing is None or self.routing.flow != self.flow():
            self.route_all()
            return
        started = time.perf_counter()
        moved = set(moved)
        edges = self._moved_inputs(moved) if only_moved else None
        if edges is None:
            boxes, edges, labels = self.inputs(fresh=False)
        else:
            boxes, labels = self._boxes, None  # None: the labels' sizes are as they were
        try:
            routing = reroute(self.routing, boxes, edges, moved, label_sizes=labels)
        except ValueError as err:
            routing, self.problem = None, str(err)
        self._apply(routing, _changed(routing) if only_moved and labels is None else None)
        self.seconds = time.perf_counter() - started

    def drag_step(self, moved: set[str]) -> None:
        """The nodes in ``moved`` are being dragged: route their edges, and those they now
        pass or no longer block, again, and place the labels that must move."""
        if self.routing is None or self.drag_too_slow or not moved:
            return
        started = time.perf_counter()
        edges = self._moved_inputs({n for n in moved if n in self.scene.nodes})
        if edges is None:
            return  # the drop's refresh says why
        try:
            routing = reroute(self.routing, self._boxes, edges, moved)
        except ValueError:
            return
        self._apply(routing, _changed(routing))
        self.seconds = time.perf_counter() - started
        self.drag_too_slow = self.seconds > DRAG_BUDGET_S

    def _apply(self, routing: Routing | None, keys: Iterable | None = None) -> None:
        self.routing = routing
        if routing is not None:
            self.problem = None
        routes = {} if routing is None else routing.routes
        edges = self.scene.edges
        for key in (edges if keys is None else keys):
            item = edges.get(key)
            if item is not None:
                item.set_route(routes.get(key))


def _changed(routing: Routing | None) -> frozenset:
    """The edges whose route or label a reroute made anew: the others kept theirs."""
    return frozenset() if routing is None else routing.recomputed | routing.relabelled
