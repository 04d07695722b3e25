"""Shape inference over one network: full, and incremental after an edit.

Every node gets its resolved parameters (defaults, then values inferred from upstream, then
what the user set), its output shapes and its diagnostics. After an edit, ``update`` re-infers
only the edited nodes and whatever downstream actually sees a different shape: a node whose
outputs come out unchanged stops the wave, so unchanged nodes keep their state and report
nothing.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from graph_schema.catalog import ParamError, ShapeError
from graph_schema.catalog.spec import LayerSpec
from graph_schema.diagnostics import Diagnostic, scope_of
from graph_schema.dims import Shape, format_shape
from graph_schema.document import Block, Network, Node, Project
from graph_schema.specs import spec_for


@dataclass
class NodeState:
    outputs: list[Shape] | None = None  # None: unknown (an error here or upstream)
    inputs: list[Shape | None] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)  # resolved, ready for codegen
    inferred: frozenset[str] = frozenset()  # params filled from upstream, not set by the user
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def same_result(self, other: NodeState) -> bool:
        return (self.outputs == other.outputs and self.params == other.params
                and self.diagnostics == other.diagnostics)


@dataclass(frozen=True)
class Incoming:
    port: int
    source: str
    source_port: int


class Inference:
    """Inferred state of one network, kept current by ``update`` after each edit."""

    def __init__(self, network: Network, project: Project | None = None,
                 input_shapes: dict[str, Shape] | None = None,
                 arguments: dict[str, Any] | None = None):
        self.network = network
        self.project = project
        # Inside a block instance the block's inputs take the instance's shapes, and
        # {"arg": name} parameters take the instance's argument values.
        self.input_shapes = input_shapes or {}
        self.arguments = dict(network.arguments) if arguments is None else arguments
        self.states: dict[str, NodeState] = {}
        self.cycle_nodes: set[str] = set()
        self._param_cache: dict[str, tuple[dict, str, dict, list, dict]] = {}
        self._rebuild_topology()
        self._infer(self._order)

    # -- topology ----------------------------------------------------------------------
    def _rebuild_topology(self) -> None:
        self.nodes: dict[str, Node] = self.network.node_map()
        self.incoming: dict[str, list[Incoming]] = {node_id: [] for node_id in self.nodes}
        self.outgoing: dict[str, set[str]] = {node_id: set() for node_id in self.nodes}
        self.dangling: list[Any] = []
        for edge in self.network.edges:
            if edge.source not in self.nodes or edge.target not in self.nodes:
                self.dangling.append(edge)
                continue
            self.incoming[edge.target].append(
                Incoming(edge.target_port, edge.source, edge.source_port))
            self.outgoing[edge.source].add(edge.target)
        for edges in self.incoming.values():
            edges.sort(key=lambda e: e.port)
        self._graph: nx.MultiDiGraph | None = None
        # node id -> the nodes that call its module again (Node.reuses; set on import, and a
        # change of it is a structure change).
        self._reused_by: dict[str, set[str]] = {}
        for node in self.nodes.values():
            if node.reuses:
                self._reused_by.setdefault(node.reuses, set()).add(node.id)
        self.cycle_nodes = set()
        self._order = self._topological_order()
        if len(self._order) < len(self.nodes):
            # Only a cycle stops the sort; find exactly which nodes are on one.
            for component in nx.strongly_connected_components(self.graph):
                if len(component) > 1 or any(self.graph.has_edge(n, n) for n in component):
                    self.cycle_nodes |= component
            self._order = self._topological_order(skip=self.cycle_nodes)
        self._rank = {node_id: i for i, node_id in enumerate(self._order)}

    def _topological_order(self, skip: set[str] = frozenset()) -> list[str]:
        """Kahn's algorithm, ties broken by document order so results (and messages) are
        deterministic. Nodes on a cycle, and edges from them, are left out when skipped;
        without ``skip``, a cycle leaves its nodes (and what follows them) out."""
        position = {node_id: i for i, node_id in enumerate(self.nodes)}
        waiting = {node_id: sum(1 for e in edges if e.source not in skip)
                   for node_id, edges in self.incoming.items() if node_id not in skip}
        ready = [(position[n], n) for n, count in waiting.items() if count == 0]
        heapq.heapify(ready)
        order: list[str] = []
        while ready:
            _, node_id = heapq.heappop(ready)
            order.append(node_id)
            for edge_target in self._edge_targets(node_id):
                if edge_target in waiting:
                    waiting[edge_target] -= 1
                    if waiting[edge_target] == 0:
                        heapq.heappush(ready, (position[edge_target], edge_target))
        return order

    def _edge_targets(self, node_id: str):
        """One entry per edge out of ``node_id`` (two edges to one node count twice)."""
        for target in self.outgoing[node_id]:
            for edge in self.incoming[target]:
                if edge.source == node_id:
                    yield target

    @property
    def graph(self) -> nx.MultiDiGraph:
        """The topology as a networkx graph, built when first asked for (reachability,
        cycles); inference itself does not need it."""
        if self._graph is None:
            self._graph = self.network.graph()
        return self._graph

    # -- public API --------------------------------------------------------------------
    def update(self, dirty: set[str] | None = None, structure_changed: bool = False) -> set[str]:
        """Re-infer after an edit; return the ids whose state changed.

        ``dirty``: nodes whose type or params changed, or whose incoming edges changed.
        ``structure_changed``: nodes or edges were added or removed.
        """
        dirty = set(dirty or ())
        # Nodes that reuse an edited node's module take its params: they change with it.
        dirty |= {user for node_id in dirty for user in self._reused_by.get(node_id, ())}
        if structure_changed:
            old_ids = set(self.states)
            self._rebuild_topology()
            removed = old_ids - set(self.nodes)
            for node_id in removed:
                self.states.pop(node_id, None)
                self._param_cache.pop(node_id, None)
            dirty |= set(self.nodes) - old_ids
            dirty |= self.cycle_nodes
            changed = set(removed)
            for node_id in self.cycle_nodes:
                changed |= self._set_cycle_state(node_id)
        else:
            changed = set()
        return changed | self._propagate(dirty & set(self.nodes))

    @property
    def order(self) -> list[str]:
        """Node ids in topological order (nodes on cycles left out)."""
        return self._order

    def input_shapes_of(self, node_id: str) -> list[Shape | None]:
        return self.states[node_id].inputs

    def output_shape(self, node_id: str, port: int = 0) -> Shape | None:
        outputs = self.states.get(node_id, NodeState()).outputs
        if outputs is None or port >= len(outputs):
            return None
        return outputs[port]

    def diagnostics(self) -> list[Diagnostic]:
        found: list[Diagnostic] = []
        for node_id in self.nodes:
            found.extend(self.states[node_id].diagnostics)
        return found

    # -- the work ----------------------------------------------------------------------
    def _infer(self, order: list[str]) -> None:
        for node_id in self.cycle_nodes:
            self._set_cycle_state(node_id)
        for node_id in order:
            self.states[node_id] = self._compute(self.nodes[node_id])

    def _propagate(self, dirty: set[str]) -> set[str]:
        changed: set[str] = set()
        queue = [(self._rank[n], n) for n in dirty if n in self._rank]
        heapq.heapify(queue)
        queued = {n for _, n in queue}
        while queue:
            _, node_id = heapq.heappop(queue)
            new = self._compute(self.nodes[node_id])
            old = self.states.get(node_id)
            self.states[node_id] = new
            if old is not None and old.same_result(new) and node_id not in dirty:
                continue
            changed.add(node_id)
            if old is not None and old.outputs == new.outputs:
                continue
            for target in self.outgoing[node_id]:
                if target not in queued and target in self._rank:
                    queued.add(target)
                    heapq.heappush(queue, (self._rank[target], target))
        return changed

    def _set_cycle_state(self, node_id: str) -> set[str]:
        node = self.nodes[node_id]
        state = NodeState(diagnostics=[self._diag(
            node, None, "error", "cycle",
            "is part of a cycle: data would flow back into itself; remove one of the "
            "connections that close the loop")])
        old = self.states.get(node_id)
        self.states[node_id] = state
        return set() if old is not None and old.same_result(state) else {node_id}

    def _compute(self, node: Node) -> NodeState:
        spec = self._spec_for(node)
        if isinstance(spec, Diagnostic):
            return NodeState(diagnostics=[spec])
        state = NodeState()
        # A node that reuses another's module is built with that node's params.
        shared = self.nodes.get(node.reuses) if node.reuses else None
        explicit, problems = self._checked_params(shared or node, spec)
        state.diagnostics.extend(problems)
        if not node.called:
            return self._uncalled(node, spec, explicit, state)
        inputs = self._gather_inputs(node, spec, state)
        state.inputs = inputs
        resolved = dict(spec.defaults)
        resolved.update(explicit)
        state.params = resolved
        if problems:
            return state
        # A parameter only the user can give (out_channels) is asked for at once, before
        # anything is connected; inferable ones (in_channels) wait for their input.
        if self._missing_params(node, spec, resolved, state, inferable=False):
            return state
        if any(shape is None for i, shape in enumerate(inputs) if self._required(spec, i)):
            return state
        try:
            if node.type == "io.Input" and node.id in self.input_shapes:
                state.outputs = [self.input_shapes[node.id]]
                return state
            # A size the user set is not read from the input (which may be symbolic).
            if spec.infer is not None and not set(spec.inferable) <= set(explicit):
                inferred = {k: v for k, v in spec.infer(resolved, inputs).items()
                            if k not in explicit}
                resolved.update(inferred)
                state.inferred = frozenset(inferred)
            if self._missing_params(node, spec, resolved, state, inferable=True):
                return state
            state.outputs = spec.rule(resolved, inputs)
        except ShapeError as err:
            state.diagnostics.append(self._diag(node, err.port, "error", err.code,
                                                err.message, err.fix))
        except (ArithmeticError, ValueError, TypeError, IndexError, KeyError) as err:
            # A rule that trips over an input it did not foresee must not take the editor
            # down; report it on the node instead.
            state.diagnostics.append(self._diag(
                node, None, "error", "shape-rule-failed",
                f"cannot infer the output shape from inputs "
                f"{', '.join(format_shape(s) for s in inputs)} ({type(err).__name__}: {err})"))
        return state

    def _missing_params(self, node: Node, spec: LayerSpec, resolved: dict, state: NodeState,
                        inferable: bool) -> bool:
        """Report required parameters still unset (with ``inferable``: those too)."""
        missing = [p.name for p in spec.params if p.required and resolved.get(p.name) is None
                   and (inferable or not p.inferable)]
        if missing:
            state.diagnostics.append(self._diag(node, None, "error", "missing-param",
                                                f"{', '.join(missing)} must be set"))
        return bool(missing)

    def _uncalled(self, node: Node, spec: LayerSpec, explicit: dict,
                  state: NodeState) -> NodeState:
        """A module built but never called: its params, no inputs, no outputs."""
        state.params = {**spec.defaults, **explicit}
        missing = [p.name for p in spec.params
                   if (p.required or p.inferable) and state.params.get(p.name) is None]
        if missing:
            state.diagnostics.append(self._diag(
                node, None, "error", "missing-param",
                f"{', '.join(missing)} must be set: a layer that is never called cannot take "
                f"them from its input"))
        elif not state.diagnostics:
            state.outputs = []
        return state

    def _required(self, spec: LayerSpec, port: int) -> bool:
        port_spec = spec.port_spec(port)
        return port_spec is not None and not port_spec.optional

    def _spec_for(self, node: Node) -> LayerSpec | Diagnostic:
        spec = spec_for(node.type, self.project)
        if spec is None:
            return self._diag(node, None, "error", "unknown-type",
                              f"unknown layer type {node.type!r}")
        return spec

    def _checked_params(self, node: Node, spec: LayerSpec) -> tuple[dict, list[Diagnostic]]:
        """The user's params, normalised; cached while the node's params dict is unchanged."""
        cached = self._param_cache.get(node.id)
        if cached is not None and cached[1] == node.type and cached[0] == node.params \
                and cached[4] == self.arguments:
            return cached[2], cached[3]
        explicit: dict[str, Any] = {}
        problems: list[Diagnostic] = []
        param_specs = spec.param_map
        for key, value in node.params.items():
            param = param_specs.get(key)
            if param is None:
                problems.append(self._diag(node, None, "error", "unknown-param",
                                           f"{spec.type} has no parameter {key!r}"))
                continue
            try:
                value = self._argument_value(key, value)
                explicit[key] = param.check_value(value)
            except ParamError as err:
                problems.append(self._diag(node, None, "error", "bad-param", str(err)))
        self._param_cache[node.id] = (dict(node.params), node.type, explicit, problems,
                                      dict(self.arguments))
        return explicit, problems

    def _argument_value(self, key: str, value: Any) -> Any:
        if isinstance(value, dict) and set(value) == {"arg"}:
            name = value["arg"]
            if not isinstance(name, str) or name not in self.arguments:
                where = "block" if isinstance(self.network, Block) else "network"
                raise ParamError(f"{key} refers to argument {name!r}, which the {where} does not "
                                 f"define")
            return self.arguments[name]
        return value

    def _gather_inputs(self, node: Node, spec: LayerSpec, state: NodeState) -> list:
        incoming = self.incoming[node.id]
        count = max([spec.min_inputs] + [e.port + 1 for e in incoming])
        limit = spec.max_inputs
        shapes: list[Shape | None] = [None] * count
        seen: set[int] = set()
        for edge in incoming:
            if limit is not None and edge.port >= limit:
                state.diagnostics.append(self._diag(
                    node, edge.port, "error", "no-such-port",
                    f"{spec.type} has {limit} input{'s' if limit != 1 else ''}; "
                    f"nothing can connect to input {edge.port}"))
                continue
            if edge.port in seen:
                state.diagnostics.append(self._diag(
                    node, edge.port, "error", "port-taken",
                    "is connected twice; an input takes one connection"))
                continue
            seen.add(edge.port)
            shapes[edge.port] = self._source_shape(node, edge, state)
        for port in range(count):
            if port not in seen and self._required(spec, port):
                state.diagnostics.append(self._diag(
                    node, port, "error", "unconnected-input",
                    f"{spec.port_name(port)} is not connected"))
        return shapes[:limit] if limit is not None else shapes

    def _source_shape(self, node: Node, edge: Incoming, state: NodeState) -> Shape | None:
        source_state = self.states.get(edge.source)
        if source_state is None or source_state.outputs is None:
            return None
        if edge.source_port >= len(source_state.outputs):
            source = self.nodes[edge.source]
            state.diagnostics.append(self._diag(
                node, edge.port, "error", "no-such-port",
                f"is connected to output {edge.source_port} of '{source.name}', which has "
                f"{len(source_state.outputs)} output(s)"))
            return None
        return source_state.outputs[edge.source_port]

    def _diag(self, node: Node, port, severity, code, message, fix=None) -> Diagnostic:
        return Diagnostic(node.id, port, severity, code, message, fix,
                          network=self.network.name, node_name=node.name, node_type=node.type,
                          scope=self.scope)

    @property
    def scope(self) -> str:
        return scope_of(self.network)
