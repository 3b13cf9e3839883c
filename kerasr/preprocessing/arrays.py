"""R keras's (reticulate's) `array_reshape`: reshaping with row-major (C) semantics."""

import numpy as np

from .sequence import unwrap
from .timeseries import as_rectangular


def array_reshape(x, dim, order="C"):
    """`x` reshaped to `dim`, filled in row-major order (the last index changing fastest) by
    default, as numpy and Keras do; `order="F"` reads and fills column-major, as R's `dim<-`.

    `dim` is an int or a sequence of ints; one entry may be -1 (inferred). Whole floats are
    accepted (R's numeric vectors). Returns a numpy array (a view of `x` when numpy can).
    """
    array = as_rectangular(x, "x", "array_reshape") if not np.isscalar(x) else np.asarray(x)
    if order not in ("C", "F"):
        raise ValueError(f'array_reshape(): `order` must be "C" or "F", got {order!r}.')
    dims = np.atleast_1d(np.asarray(unwrap(dim)))
    if dims.ndim != 1 or dims.dtype.kind not in "iuf" or not np.all(dims == np.round(dims)):
        raise ValueError(f"array_reshape(): `dim` must be integers, got {dim!r}.")
    dims = tuple(int(d) for d in dims)
    if any(d < -1 for d in dims) or dims.count(-1) > 1:
        raise ValueError(f"array_reshape(): `dim` entries must be >= 0, with at most one -1, "
                         f"got {dims}.")
    try:
        return np.reshape(array, dims, order=order)
    except ValueError:
        raise ValueError(f"array_reshape(): cannot reshape an array of {array.size} elements "
                         f"(shape {array.shape}) into {dims}.") from None
