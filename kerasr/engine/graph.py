"""The layer graph: symbolic tensors and the nodes that connect layers.

Calling a layer on a `KerasTensor` runs no math: it records a `Node` (the layer, its input
tensors, its output tensors) and returns symbolic outputs of the inferred shape. A model is
the graph between some input tensors and some output tensors; `topological_nodes` orders it
for execution.
"""

import numpy as np


class KerasTensor:
    """A placeholder for a batch of data: a shape (None for the batch axis) and a dtype."""

    __array_ufunc__ = None

    def __init__(self, shape, dtype="float32", name=None, history=None):
        self.shape = tuple(None if d is None else int(d) for d in shape)
        self.dtype = str(np.dtype(dtype))
        self.name = name
        self._keras_history = history  # (layer, node_index, tensor_index)

    @property
    def ndim(self):
        return len(self.shape)

    def __repr__(self):
        name = f", name={self.name}" if self.name else ""
        return f"<KerasTensor shape={self.shape}, dtype={self.dtype}{name}>"

    def __hash__(self):
        return id(self)


class Node:
    """One application of a layer to symbolic inputs."""

    def __init__(self, layer, inputs, outputs, call_kwargs):
        self.layer = layer
        self.inputs = inputs          # the structure the layer was called with
        self.outputs = outputs        # a KerasTensor or a list of them
        self.call_kwargs = call_kwargs
        self.input_tensors = flatten(inputs)
        self.output_tensors = flatten(outputs)

    @property
    def parent_nodes(self):
        return [t._keras_history[0]._inbound_nodes[t._keras_history[1]]
                for t in self.input_tensors if t._keras_history is not None]


def flatten(structure):
    """The leaves of nested lists/tuples/dicts, in order."""
    if isinstance(structure, (list, tuple)):
        return [leaf for item in structure for leaf in flatten(item)]
    if isinstance(structure, dict):
        return [leaf for key in structure for leaf in flatten(structure[key])]
    return [structure]


def map_structure(fn, structure):
    if isinstance(structure, (list, tuple)):
        return type(structure)(map_structure(fn, s) for s in structure)
    if isinstance(structure, dict):
        return {k: map_structure(fn, v) for k, v in structure.items()}
    return fn(structure)


def is_symbolic(structure):
    return any(isinstance(t, KerasTensor) for t in flatten(structure))


def topological_nodes(outputs):
    """The nodes that compute `outputs`, each after the nodes it depends on.

    A node reached again while its own inputs are still being visited closes a cycle.
    """
    ordered, done, in_progress = [], set(), set()

    def visit(node):
        stack = [(node, False)]
        while stack:
            current, expanded = stack.pop()
            if id(current) in done:
                continue
            if expanded:
                in_progress.discard(id(current))
                done.add(id(current))
                ordered.append(current)
                continue
            in_progress.add(id(current))
            stack.append((current, True))
            # Reversed, so that the first input's branch comes first in the order.
            for parent in reversed(current.parent_nodes):
                if id(parent) in in_progress:
                    raise ValueError(f"The layer graph has a cycle through layer "
                                     f"{parent.layer.name}: a model must be acyclic.")
                if id(parent) not in done:
                    stack.append((parent, False))

    for tensor in outputs:
        layer, node_index, _ = tensor._keras_history
        visit(layer._inbound_nodes[node_index])
    return ordered
