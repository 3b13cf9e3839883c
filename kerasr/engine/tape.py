"""Reverse-mode differentiation: a tape that records ops while it is active.

Every differentiable op computes its forward result with kernels and hands `record` a
`backward(grad_output, needs)` closure holding exactly what the backward pass needs. Ops are
recorded in execution order, which is already a topological order of the graph, so
`gradient` walks the records backwards once; a tensor used twice (fan-out) gets its
gradients summed.
"""

import numpy as np

from .tensor import Tensor, Variable

_active_tapes = []


def active_tape():
    return _active_tapes[-1] if _active_tapes else None


class GradientTape:
    """Records differentiable ops run inside `with GradientTape() as tape:`.

    Trainable variables are watched automatically; other tensors with `tape.watch(x)`.
    """

    def __init__(self, persistent=False):
        self.persistent = persistent
        self._records = []
        self._used = False

    def __enter__(self):
        _active_tapes.append(self)
        return self

    def __exit__(self, *exc):
        _active_tapes.remove(self)
        return False

    def watch(self, tensor):
        for t in tensor if isinstance(tensor, (list, tuple)) else [tensor]:
            if not isinstance(t, Tensor):
                raise TypeError(f"GradientTape.watch expects kerasr tensors, got {type(t).__name__}.")
            t._tape = self

    def tracks(self, tensor):
        return tensor._tape is self or (type(tensor) is Variable and tensor.trainable)

    def gradient(self, target, sources, output_gradients=None):
        """Gradients of `target` (summed if not scalar) with respect to each of `sources`.

        Returns numpy arrays in the structure of `sources`; `None` for a source the target
        does not depend on.
        """
        if self._used and not self.persistent:
            raise RuntimeError("A non-persistent GradientTape can compute gradients only once.")
        self._used = True
        single_source = isinstance(sources, Tensor)
        source_list = [sources] if single_source else list(sources)
        keep = {id(s) for s in source_list}

        seed = np.ones_like(target.data) if output_gradients is None else np.asarray(
            output_gradients, dtype=target.dtype)
        grads = {id(target): seed}
        for inputs, outputs, backward, needs in reversed(self._records):
            if len(outputs) == 1:
                key = id(outputs[0])
                upstream = grads.get(key) if key in keep else grads.pop(key, None)
                if upstream is None:
                    continue
            else:
                upstream = [grads.get(id(o)) if id(o) in keep else grads.pop(id(o), None)
                            for o in outputs]
                if all(g is None for g in upstream):
                    continue
                upstream = [np.zeros_like(o.data) if g is None else g
                            for o, g in zip(outputs, upstream)]
            input_grads = backward(upstream, needs)
            for tensor, need, grad in zip(inputs, needs, input_grads):
                if not need or grad is None:
                    continue
                key = id(tensor)
                previous = grads.get(key)
                grads[key] = grad if previous is None else previous + grad
        if not self.persistent:
            self._records = []
        result = [grads.get(id(s)) for s in source_list]
        return result[0] if single_source else result


def recording_tape(inputs):
    """The tape that `record` would record an op with these inputs on (as record decides),
    or None: then no gradient will be asked of the op, and it may skip keeping what its
    backward needs."""
    if _active_tapes:
        tape = _active_tapes[-1]
        if any(tape.tracks(t) for t in inputs):
            return tape
    return None


def record(inputs, outputs, backward):
    """Wrap forward results as tensors and, while a tape tracks any input, record the op.

    `inputs` are the op's tensor inputs; `outputs` one array or a tuple of arrays;
    `backward(upstream, needs)` gets the output gradient (a list of them for several outputs)
    and a tuple saying which inputs need a gradient, and returns one gradient (or None) per input.
    """
    several = isinstance(outputs, tuple)
    wrapped = tuple(Tensor(o) for o in outputs) if several else (Tensor(outputs),)
    if _active_tapes:
        tape = _active_tapes[-1]
        needs = tuple(tape.tracks(t) for t in inputs)
        if any(needs):
            for w in wrapped:
                w._tape = tape
            tape._records.append((tuple(inputs), wrapped, backward, needs))
    return wrapped if several else wrapped[0]
