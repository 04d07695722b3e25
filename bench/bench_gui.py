"""The desktop app with a 1,000-node project: time to first paint, and pan/zoom frame times.

The project is bench_inference's residual network (Conv1d/BatchNorm1d/ReLU units joined by
op.add), laid out by graph_schema.layout and saved to a temporary file.

- open: load the file, build the document (shape inference and diagnostics), the main window
  and its canvas, show it, fit the view and paint the canvas once (a synchronous grab of the
  viewport, so the paint is really done). Baseline in the same run: ``load_project`` alone,
  the cost of reading and validating the file. Target: under 1 s.
- start: a fresh ``torchcanvas app`` process on a small example, to its first paint, against
  a process that only imports Qt (``bench/startup.py``). Target: the app's import, excluding
  Qt's own, under 1 s, and no torch.
- routes: in the opened window, routing every edge round the boxes (``reroute_all``: what a
  rebuild or a new flow costs, gathering the boxes, ports and labels from the items
  included); the reroute after one node in the middle moved sideways, as the drop of a drag
  does it (``flush_routes`` after the item moved: exact routes; the labels the move
  displaced are placed again around the others, which stay); and one drag step, a real
  mouse move of the view with the node under it (Qt moves the item, the scene reroutes its
  edges live, placing only their labels). Baseline: the full routing, in
  the same run. Target: the reroute and the drag step under 16 ms (one frame at 60 Hz).
- frames: render the canvas viewport to an image after each pan step (40 px) and each zoom
  step (x1.1 in, then out), at "fit" (the whole network visible) and at 100 %, with the
  edges drawn along their routes. Baselines in the same run: the same frames of an empty
  canvas (background and grid only), and of the same canvas with every edge an S-curve (the
  drawing before routes). Target: every kind of frame under 16 ms on average.

    QT_QPA_PLATFORM=offscreen python bench/bench_gui.py [--json PATH] [--nodes 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QPoint, QPointF, Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from bench import startup  # noqa: E402
from bench.bench_inference import residual  # noqa: E402
from bench.timing import best_of, timed  # noqa: E402
from builder.gui.app import Windows  # noqa: E402
from builder.gui.glyphs import node_size  # noqa: E402
from builder.gui.looks import node_look  # noqa: E402
from builder.gui.mainwindow import MainWindow  # noqa: E402
from builder.gui.project_document import ProjectDocument  # noqa: E402
from graph_schema import load_project, save_project  # noqa: E402
from graph_schema.inference import Inference  # noqa: E402
from graph_schema.layout import layout_network  # noqa: E402

TARGET_OPEN_S, TARGET_FRAME_MS, TARGET_REROUTE_MS = 1.0, 16.0, 16.0
FRAMES = 40
DRAG_STEPS = 20


def laid_out_project(size: int, path: Path) -> str:
    """The residual network with positions from the auto-layout; returns the engine used."""
    project, _, _ = residual(size)
    network = project.networks[0]
    inference = Inference(network, project)
    sizes = {}
    for node in network.nodes:
        incoming = {e.port for e in inference.incoming[node.id]}
        look = node_look(project, node, inference.states[node.id], [], incoming)
        sizes[node.id] = node_size(look)
    result = layout_network(network, sizes, engine="builtin")
    for node in network.nodes:
        node.position = result.positions[node.id]
    save_project(project, path)
    return result.engine


def best(times: list[float]) -> float:
    return min(times)


def time_open(app: QApplication, path: Path) -> tuple[float, MainWindow]:
    start = time.perf_counter()
    doc = ProjectDocument(load_project(path), path)
    window = Windows().new_window(doc)
    window.resize(1400, 900)
    window.show()
    view = window.current_view()
    view.fit()
    app.processEvents()
    view.viewport().grab()
    return time.perf_counter() - start, window


def frame_times(app: QApplication, window: MainWindow, zoom: float) -> dict[str, list[float]]:
    view = window.current_view()
    view.zoom_by(zoom / view.zoom())
    view.centerOn(view.canvas.itemsBoundingRect().center())
    app.processEvents()
    view.viewport().grab()  # warm caches: the first frame is not what panning feels like
    pans, zooms = [], []
    bar = view.verticalScrollBar()
    for i in range(FRAMES):
        start = time.perf_counter()
        bar.setValue(bar.value() + (40 if i % 20 < 10 else -40))
        view.viewport().grab()
        pans.append(time.perf_counter() - start)
    for i in range(FRAMES):
        start = time.perf_counter()
        view.zoom_by(1.1 if i % 2 == 0 else 1 / 1.1)
        view.viewport().grab()
        zooms.append(time.perf_counter() - start)
    return {"pan": pans, "zoom": zooms}


def route_times(app: QApplication, window: MainWindow) -> dict[str, float]:
    """Seconds: a full routing, the exact reroute after a one-node move, a live drag step."""
    view = window.current_view()
    scene = view.canvas
    full = best_of(scene.reroute_all, 3)
    node_id = list(scene.nodes)[len(scene.nodes) // 2]
    item = scene.nodes[node_id]
    home = item.pos()
    steps = []
    for i in range(10):
        item.setPos(home + QPointF(80.0 if i % 2 == 0 else 0.0, 0.0))
        steps.append(timed(scene.flush_routes))
    view.zoom_by(1.0 / view.zoom())
    view.centerOn(item)
    app.processEvents()
    viewport = view.viewport()
    start = view.mapFromScene(item.sceneBoundingRect().center())
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    drags = []
    for i in range(1, DRAG_STEPS + 1):
        point = start + QPoint(8 * i, 0)
        drags.append(timed(lambda point=point: QTest.mouseMove(viewport, point)))
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                       start + QPoint(8 * DRAG_STEPS, 0))
    live = not scene.edge_routes.drag_too_slow
    window.controller.undo_stack.undo()  # the node goes home, the routes with it
    return {"full": full, "reroute": statistics.median(steps),
            "drag": statistics.median(drags), "drag_live": live}


def print_routes(app: QApplication, window: MainWindow, rows: dict) -> None:
    times = route_times(app, window)
    full, step, drag = times["full"], times["reroute"], times["drag"]
    print(f"\n{'routes':<24} {'ms':>8} {'vs full':>8}")
    print(f"{'full routing (baseline)':<24} {full * 1e3:8.2f}")
    for label, name, seconds in (("reroute after a move", "reroute", step),
                                 ("drag step (live)", "drag", drag)):
        verdict = "PASS" if seconds * 1e3 < TARGET_REROUTE_MS else "MISS"
        print(f"{label:<24} {seconds * 1e3:8.2f} {seconds / full:7.2f}x  "
              f"(target < {TARGET_REROUTE_MS:g} ms)  {verdict}")
        rows[f"{name}_ms"] = seconds * 1e3
        rows["targets"][name] = verdict
    if not times["drag_live"]:
        print("  (the drag gave up routing live: its edges were S-curves until the drop)")
    rows["route_ms"] = full * 1e3


def without_routes(window: MainWindow):
    """Every edge of the window's canvas drawn as an S-curve; returns how to route again."""
    scene = window.current_view().canvas
    for item in scene.edges.values():
        item.set_route(None)
    scene.overview.dirty = True
    return scene.reroute_all


def summary(times: list[float]) -> tuple[float, float]:
    ordered = sorted(times)
    return statistics.mean(times) * 1e3, ordered[int(len(ordered) * 0.95) - 1] * 1e3


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", metavar="PATH", help="also write the figures here")
    parser.add_argument("--nodes", type=int, default=1_000)
    parser.add_argument("--shot", metavar="PNG", help="save a screenshot of the opened window")
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])
    start = startup.measure()
    start_verdict = startup.print_report(start)
    print()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.json"
        engine = laid_out_project(args.nodes, path)
        empty_path = Path(tmp) / "empty.json"
        empty = load_project(path)
        empty.networks[0].nodes, empty.networks[0].edges = [], []
        save_project(empty, empty_path)
        nodes = len(load_project(path).networks[0].nodes)
        load = best([timed(lambda: load_project(path)) for _ in range(3)])
        opens, window = [], None
        for _ in range(3):
            if window is not None:
                window.close()
                window.deleteLater()
                app.processEvents()
            seconds, window = time_open(app, path)
            opens.append(seconds)
        open_s = best(opens)
        print(f"{nodes} nodes (laid out by the {engine} layout)\n")
        if args.shot:
            _, shot_window = time_open(app, path)
            shot_window.grab().save(args.shot)
            shot_window.close()
        print(f"load_project (baseline)   {load * 1e3:8.1f} ms")
        verdict = "PASS" if open_s < TARGET_OPEN_S else "MISS"
        print(f"open to first paint       {open_s * 1e3:8.1f} ms  {open_s / load:6.1f}x "
              f"baseline  (target < {TARGET_OPEN_S * 1e3:.0f} ms)  {verdict}")
        _, empty_window = time_open(app, empty_path)
        rows = {"nodes": nodes, "load_ms": load * 1e3, "open_ms": open_s * 1e3,
                "start": start, "targets": {"open": verdict, "start": start_verdict}}
        print_routes(app, window, rows)
        print(f"\n{'frame':<12} {'mean ms':>8} {'p95 ms':>8} {'empty ms':>9} {'ratio':>7} "
              f"{'S-curve ms':>11}")
        window.current_view().fit()
        fit_zoom = window.current_view().zoom()
        for zoom, zoom_label in ((fit_zoom, "fit"), (1.0, "100%")):
            frames = frame_times(app, window, zoom)
            baseline = frame_times(app, empty_window, zoom)
            route_again = without_routes(window)
            curves = frame_times(app, window, zoom)
            route_again()
            for kind in ("pan", "zoom"):
                mean, p95 = summary(frames[kind])
                base, _ = summary(baseline[kind])
                curve, _ = summary(curves[kind])
                verdict = "PASS" if mean < TARGET_FRAME_MS else "MISS"
                label = f"{kind} @{zoom_label}"
                print(f"{label:<12} {mean:8.2f} {p95:8.2f} {base:9.2f} {mean / base:6.1f}x "
                      f"{curve:11.2f}  (target < {TARGET_FRAME_MS:g} ms)  {verdict}")
                rows[f"{kind}_{zoom_label}_mean_ms"] = mean
                rows[f"{kind}_{zoom_label}_p95_ms"] = p95
                rows[f"{kind}_{zoom_label}_empty_ms"] = base
                rows[f"{kind}_{zoom_label}_s_curve_ms"] = curve
                rows["targets"][f"{kind}_{zoom_label}"] = verdict
        window.close()
        empty_window.close()
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
