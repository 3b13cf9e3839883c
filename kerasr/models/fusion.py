"""Inference plans: a Functional model's layer plan with each convolution whose output only a
pooling layer reads run with that pooling as one step (`ops.convolution.conv_pool`), used
when no gradient tape is active (predict, evaluate, calling the model outside training).

The pair's values are those of the two layers run one after the other, bit for bit, except
where the fused kernel multiplies by Winograd's F(2x2, 3x3) (3x3 convolutions with stride 1
and enough channels: the same to rounding; see kernels/conv_pool.py). A pair is fused only
when nothing else could observe the convolution's output: it is not a model output, no other
layer reads it, neither layer has an activity regularizer, and both are the stock classes (a
subclass may change `call`). Conditions that a user can change on a built model (activation,
activity regularizers) are checked at every call.
"""

from ..activations import fused_kernel
from ..engine.graph import KerasTensor
from ..layers.convolution import BaseConv
from ..layers.pooling import BasePooling
from ..ops import convolution as conv_ops


class ConvPoolStep:
    """A plan step running `conv` and then `pool` as one kernel when it can, else the two
    layers as usual; called as the plan calls a layer."""

    def __init__(self, conv, pool):
        self.conv = conv
        self.pool = pool

    @property
    def name(self):
        return f"{self.conv.name}+{self.pool.name}"

    def _fusable_now(self):
        conv = self.conv
        return (conv.activity_regularizer is None
                and getattr(self.pool, "activity_regularizer", None) is None
                and fused_kernel(conv.activation) is not None)

    def __call__(self, inputs, training=None):
        conv, pool = self.conv, self.pool
        if not self._fusable_now():
            return pool(conv(inputs, training=training), training=training)
        x = conv._to_tensor(inputs)
        conv._check_input(x.shape)
        pool.compute_output_shape(conv.compute_output_shape(x.shape))  # the layers' errors
        activation, alpha = fused_kernel(conv.activation)
        return conv_ops.conv_pool(
            x, conv.kernel, conv.bias, strides=conv.strides, padding=conv.padding,
            dilation_rate=conv.dilation_rate, activation=activation, alpha=alpha,
            data_format=conv.data_format, pool_mode=pool.pool_mode, pool_size=pool.pool_size,
            pool_strides=pool.strides, pool_padding=pool.padding)


def _fusable_pair(conv, pool):
    """What cannot change once the model is built: stock classes, one group, one rank, data
    format and float type."""
    return (type(conv).call is BaseConv.call and type(pool).call is BasePooling.call
            and conv.built and conv.groups == 1 and conv.rank == pool.rank
            and conv.data_format == pool.data_format and conv.dtype == pool.dtype)


def inference_plan(plan, outputs):
    """``plan`` (Functional's list of steps) with each fusable convolution + pooling pair of
    consecutive steps replaced by one ConvPoolStep."""
    readers = {}
    for _, symbolic_inputs, args, kwargs, _, _ in plan:
        for tensor in _tensors(symbolic_inputs, args, kwargs):
            readers[id(tensor)] = readers.get(id(tensor), 0) + 1
    model_outputs = {id(t) for t in outputs}
    fused, i = [], 0
    while i < len(plan):
        step = plan[i]
        if i + 1 < len(plan) and _fuses(step, plan[i + 1], readers, model_outputs):
            layer, inputs, args, kwargs, built_training, _ = step
            pool_step = plan[i + 1]
            fused.append((ConvPoolStep(layer, pool_step[0]), inputs, args, kwargs,
                          built_training, pool_step[5]))
            i += 2
        else:
            fused.append(step)
            i += 1
    return fused


def _fuses(step, next_step, readers, model_outputs):
    layer, _, args, kwargs, _, output_ids = step
    pool, pool_inputs, pool_args, pool_kwargs, _, _ = next_step
    return (isinstance(layer, BaseConv) and isinstance(pool, BasePooling)
            and not args and not kwargs and not pool_args and not pool_kwargs
            and len(output_ids) == 1 and isinstance(pool_inputs, KerasTensor)
            and id(pool_inputs) == output_ids[0] and readers.get(output_ids[0]) == 1
            and output_ids[0] not in model_outputs and _fusable_pair(layer, pool))


def _tensors(*structures):
    for structure in structures:
        if isinstance(structure, KerasTensor):
            yield structure
        elif isinstance(structure, (list, tuple)):
            yield from _tensors(*structure)
        elif isinstance(structure, dict):
            yield from _tensors(*structure.values())
