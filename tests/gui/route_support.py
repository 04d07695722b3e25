"""What a canvas scene draws for its edges, checked with graph_schema.route_check: the painted
paths (Qt's own flattening of each EdgeItem's QPainterPath, rounded corners and all), the
label boxes as painted, and the node glyphs as painted (a merge's circle and its name)."""

from __future__ import annotations

from graph_schema.route_check import label_overlaps, route_crossings


def node_boxes(scene) -> dict[str, tuple[float, float, float, float]]:
    return {node_id: (item.pos().x(), item.pos().y(), float(item.size[0]), float(item.size[1]))
            for node_id, item in scene.nodes.items()}


def drawn_path(item) -> list[tuple[float, float]]:
    polygons = item.path().toSubpathPolygons()
    return [(p.x(), p.y()) for polygon in polygons for p in polygon]


def drawn_labels(scene) -> dict:
    labels = {}
    for key, item in scene.edges.items():
        rect = item.label_rect()
        if not rect.isEmpty():
            labels[key] = (rect.x(), rect.y(), rect.width(), rect.height())
    return labels


def drawn_problems(scene) -> list[str]:
    """Every painted edge through a node it does not join, every label on a node or on
    another label, and every edge not drawn along its route."""
    boxes = node_boxes(scene)
    ends = {key: (key[0], key[2]) for key in scene.edges}
    paths = {key: drawn_path(item) for key, item in scene.edges.items()}
    found = [str(p) for p in route_crossings(boxes, ends, paths)
             + label_overlaps(boxes, drawn_labels(scene))]
    found += [f"edge {key!r} is not drawn along a route" for key, item in scene.edges.items()
              if not item.routed]
    return found
