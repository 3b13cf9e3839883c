"""A model's weights as one `.npz` (kerasr's weights format; HDF5 comes with issue 8).

The header lists the variables' names and, for each of the model's layers, its name and how
many of the arrays (in `get_weights()` order) are its own: what
`load_model_weights(by_name = TRUE)` matches layers by.
"""

import os
import warnings

import numpy as np

from ._atomic import atomic_write
from ._npz import read_npz, write_npz

FORMAT = "kerasr.weights"


def _check_not_hdf5(filepath, verb):
    if str(filepath).lower().endswith((".h5", ".hdf5")):
        raise ValueError(f"{verb}(): {str(filepath)!r} names an HDF5 file, which kerasr cannot "
                         "write or read yet; use kerasr's own format, e.g. "
                         "'model.weights.npz' (or a '.keras' file for the whole model).")


def weight_variables(model):
    """The model's variables in `get_weights()` order."""
    return list(model._ordered_weights())


def weight_arrays(model):
    """({member name: array}, [variable paths]) for the weights of `model`."""
    variables = weight_variables(model)
    arrays = {f"weight_{i:05d}": v.data for i, v in enumerate(variables)}
    return arrays, [getattr(v, "path", v.name) for v in variables]


def layer_groups(model):
    """[[layer name, number of arrays], ...]: the model's weights grouped by the layer that
    owns them, in `get_weights()` order (a shared variable counts for its first layer); None
    when the model's weights are not the concatenation of its layers' (e.g. a subclassed
    model holding variables itself)."""
    layers = getattr(model, "layers", None)
    if layers is None:
        return None
    seen, groups, order = set(), [], []
    for layer in layers:
        own = [v for v in layer._ordered_weights() if id(v) not in seen]
        seen.update(id(v) for v in own)
        order.extend(own)
        groups.append([layer.name, len(own)])
    if [id(v) for v in order] != [id(v) for v in weight_variables(model)]:
        return None
    return groups


def _check_value(variable, value, index, what, exact_dtype):
    if value.shape != variable.shape:
        raise ValueError(f"{what}: weight {index} ({variable.name!r}) has shape {value.shape} "
                         f"in the file, the model expects {variable.shape}.")
    if exact_dtype and value.dtype != variable.dtype:
        raise ValueError(f"{what}: weight {index} ({variable.name!r}) has dtype {value.dtype} in "
                         f"the file, the model expects {variable.dtype}.")
    kind = np.dtype(variable.dtype).kind
    compatible = (value.dtype.kind == "f") if kind == "f" else (value.dtype.kind in "iub")
    if not compatible:
        raise ValueError(f"{what}: weight {index} ({variable.name!r}) has dtype {value.dtype} in "
                         f"the file, the model expects {variable.dtype}.")


def set_weight_arrays(model, arrays, what, exact_dtype=False):
    """Assigns the `weight_#####` members of `arrays` to the model, after checking them all
    (count, shapes, dtypes: the same dtype when `exact_dtype`, else the same kind)."""
    variables = weight_variables(model)
    names = sorted(n for n in arrays if n.startswith("weight_"))
    if len(names) != len(variables):
        raise ValueError(f"{what} holds {len(names)} weight arrays but model {model.name} has "
                         f"{len(variables)}: it was saved from a different architecture.")
    values = [arrays[f"weight_{i:05d}"] if f"weight_{i:05d}" in arrays else None
              for i in range(len(variables))]
    for i, (variable, value) in enumerate(zip(variables, values)):
        if value is None:
            raise ValueError(f"{what} is missing weight array {i}.")
        _check_value(variable, value, i, what, exact_dtype)
    for variable, value in zip(variables, values):
        variable.data[...] = value


def _set_by_name(model, header, arrays, what, skip_mismatch):
    """Loads the arrays of each layer of the file into the model's layer of the same name;
    the model's other layers keep their weights."""
    groups = header.get("layers")
    if not isinstance(groups, list) or not all(
            isinstance(g, list) and len(g) == 2 and isinstance(g[0], str)
            and isinstance(g[1], int) and not isinstance(g[1], bool) and g[1] >= 0
            for g in groups):
        raise ValueError(f"{what} does not list its layers (saved by an older kerasr, or "
                         "damaged): load it with by_name=FALSE.")
    total = sum(n for _, n in groups)
    if total != sum(1 for n in arrays if n.startswith("weight_")):
        raise ValueError(f"{what}: its layer list accounts for {total} arrays, the file holds "
                         f"{len(arrays)}.")
    offsets, start = {}, 0
    for name, count in groups:
        if name in offsets:
            raise ValueError(f"{what} lists layer {name!r} twice.")
        offsets[name] = (start, count)
        start += count
    mine = layer_groups(model)
    if mine is None:
        raise ValueError(f"load_model_weights(by_name=TRUE): model {model.name}'s weights are "
                         "not grouped by layer.")
    variables = weight_variables(model)
    assignments, position = [], 0
    for name, count in mine:
        own = variables[position:position + count]
        position += count
        if name not in offsets or count == 0:
            continue
        start, saved = offsets[name]
        values = [arrays.get(f"weight_{start + i:05d}") for i in range(saved)]
        problem = None
        if saved != count:
            problem = f"layer {name!r} has {count} weight arrays, the file holds {saved}"
        else:
            for i, (variable, value) in enumerate(zip(own, values)):
                if value is None:
                    problem = f"weight array {start + i} of layer {name!r} is missing"
                    break
                try:
                    _check_value(variable, value, start + i, what, exact_dtype=False)
                except ValueError as error:
                    problem = str(error)
                    break
        if problem is not None:
            if not skip_mismatch:
                raise ValueError(f"{what}: {problem}. Pass skip_mismatch=TRUE to skip such "
                                 "layers.")
            warnings.warn(f"load_model_weights(): skipping layer {name!r}: {problem}.",
                          UserWarning, stacklevel=3)
            continue
        assignments.extend(zip(own, values))
    for variable, value in assignments:
        variable.data[...] = value


def save_weights(model, filepath, overwrite=True):
    """Writes the model's weights to `filepath` (a numpy `.npz`, atomically)."""
    filepath = os.fspath(filepath)
    _check_not_hdf5(filepath, "save_weights")
    if not overwrite and os.path.exists(filepath):
        raise FileExistsError(f"save_weights(): {filepath!r} exists and overwrite=False.")
    arrays, names = weight_arrays(model)
    header = {"format": FORMAT, "version": 1, "model": model.name, "names": names,
              "layers": layer_groups(model)}
    with atomic_write(filepath) as handle:
        write_npz(handle, arrays, header)
    return model


def load_weights(model, filepath, by_name=False, skip_mismatch=False):
    """Loads weights written by `save_weights` into `model`.

    By default the model must have the architecture the weights were saved from (same
    number, order, shapes and dtypes of arrays). `by_name=True` loads each saved layer's
    weights into the model's layer of the same name and leaves the others alone (transfer
    learning); with it, `skip_mismatch=True` skips (with a warning) layers whose weights
    differ in number or shape instead of refusing the file, as Keras 2 did.
    """
    if not isinstance(by_name, bool) or not isinstance(skip_mismatch, bool):
        raise ValueError("by_name and skip_mismatch must be TRUE or FALSE.")
    if skip_mismatch and not by_name:
        raise ValueError("load_model_weights(): skip_mismatch=TRUE needs by_name=TRUE (without "
                         "names, a mismatch cannot be skipped safely).")
    filepath = os.fspath(filepath)
    _check_not_hdf5(filepath, "load_weights")
    what = f"Weights file {filepath!r}"
    header, arrays = read_npz(filepath, what, FORMAT)
    if by_name:
        _set_by_name(model, header, arrays, what, skip_mismatch)
    else:
        set_weight_arrays(model, arrays, what)
    return model


__all__ = ["save_weights", "load_weights"]
