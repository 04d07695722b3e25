"""How much of a project is drawn: classes drawn as graphs, classes kept as their source, and the
tensor ops the drawn graphs hold. `torchcanvas import` ends with this line so that the user knows
how editable the diagram is before opening it."""

from __future__ import annotations

from dataclasses import dataclass

from graph_schema.document import Project


@dataclass(frozen=True)
class Drawn:
    classes: int  # networks and blocks drawn as graphs
    kept: tuple[str, ...]  # the class names kept as source, in project order
    ops: int  # op.* nodes in the drawn graphs

    def line(self) -> str:
        kept = f"{len(self.kept)} kept as source"
        if self.kept:
            kept += f" ({', '.join(self.kept)})"
        return f"{self.classes} {_plural(self.classes, 'class', 'classes')} drawn, {kept}, " \
               f"{self.ops} {_plural(self.ops, 'op', 'ops')}"

    @property
    def drawn_share(self) -> float:
        total = self.classes + len(self.kept)
        return self.classes / total if total else 1.0


def drawn(project: Project) -> Drawn:
    graphs = [*project.networks, *(b for b in project.blocks if b.opaque is None)]
    kept = tuple(b.opaque.class_name for b in project.blocks if b.opaque is not None)
    ops = sum(1 for g in graphs for n in g.nodes if n.type.startswith("op."))
    return Drawn(len(graphs), kept, ops)


def _plural(count: int, one: str, many: str) -> str:
    return one if count == 1 else many
