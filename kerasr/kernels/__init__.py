"""Numba kernels: numpy arrays in, arrays out, forward and backward per op.

Each public function picks a serial or a parallel compilation of the same
source: for the convolutions, pooling and recurrent layers the parallel one
unless the work is small (their products run on the kernels' BLAS, held to one
thread: ``_blas.py``); for the others only when it is very large
(``_jit.PARALLEL_MIN_ELEMENTS``), as they run beside numpy's two-thread BLAS.
Compilation is lazy: importing this package compiles nothing.

Numba's on-disk cache checks only the file a kernel is defined in: after editing a helper
that kernels in other files call (``_jit.flush_subnormal``, ``activations.sigmoid_scalar``,
...), delete the cache (``find kerasr -name '*.nb[ic]' -delete``) or the old code runs on.
"""

from .activations import (  # noqa: F401
    ACTIVATION_CODES,
    ELU,
    EXPONENTIAL,
    GELU,
    HARD_SIGMOID,
    HARD_SIGMOID_KERAS2,
    LEAKY_RELU,
    LINEAR,
    RELU,
    RELU_MAX,
    SELU,
    SIGMOID,
    SOFTPLUS,
    SOFTSIGN,
    SWISH,
    TANH,
    THRESHOLDED_RELU,
    activation_backward,
    activation_forward,
    bias_activation_backward,
    bias_activation_forward,
    needs_preactivation,
)
from .dropout import dropout_backward, dropout_forward  # noqa: F401
from .embedding import embedding_backward, embedding_forward  # noqa: F401
from .losses import (  # noqa: F401
    sigmoid_cross_entropy_backward,
    sigmoid_cross_entropy_forward,
    softmax_cross_entropy_backward,
    softmax_cross_entropy_forward,
    sparse_softmax_cross_entropy_backward,
    sparse_softmax_cross_entropy_forward,
)
from .optimizers import (  # noqa: F401
    adadelta_update,
    adagrad_update,
    adam_amsgrad_update,
    adam_update,
    adamax_update,
    ftrl_update,
    moving_average_update,
    nadam_update,
    rmsprop_momentum_update,
    rmsprop_update,
    sgd_momentum_update,
    sgd_update,
    weight_decay,
)
from .metrics import threshold_compare, threshold_histogram  # noqa: F401
from .reductions import column_sum  # noqa: F401
from .softmax import softmax_backward, softmax_forward  # noqa: F401

from ._blas import hold_kernel_blas as _hold_kernel_blas  # noqa: E402
from ._memory import keep_freed_memory as _keep_freed_memory  # noqa: E402

_keep_freed_memory()  # see _memory.py: page faults on every batch's fresh arrays
_hold_kernel_blas()  # see _blas.py: one BLAS thread per chunk inside parallel kernels
