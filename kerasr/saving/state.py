"""Training state: the optimizer's state, and everything `callback_backup_and_restore` needs to
resume an interrupted fit (weights, optimizer state, epoch, random generator state)."""

import os

from .. import random
from ._atomic import atomic_write
from ._npz import read_npz, write_npz
from .weights import set_weight_arrays, weight_arrays, weight_variables

FORMAT = "kerasr.training_state"


def optimizer_state(optimizer, variables):
    """(header, arrays) for the state of `optimizer` over `variables` (a model's variables in
    `get_weights()` order): its iteration count, its learning rate when it is a number (a
    callback such as reduce-lr-on-plateau may have changed it) and its slot arrays, named
    `opt_<variable index>_<slot>`."""
    header = {"class_name": type(optimizer).__name__, "iterations": int(optimizer.iterations)}
    rate = getattr(optimizer, "_learning_rate", None)
    if isinstance(rate, (int, float)):
        header["learning_rate"] = float(rate)
    arrays = {}
    slots = getattr(optimizer, "_slots", {})
    for index, variable in enumerate(variables):
        for name, array in (slots.get(variable) or {}).items():
            arrays[f"opt_{index:05d}_{name}"] = array
    return header, arrays


def load_optimizer_state(optimizer, variables, header, arrays, what):
    """Restores what `optimizer_state` wrote, after checking it fits `optimizer`."""
    if header.get("class_name") != type(optimizer).__name__:
        raise ValueError(f"{what} holds the state of a {header.get('class_name')} optimizer; the "
                         f"model is compiled with {type(optimizer).__name__}.")
    pending = []
    for key, array in arrays.items():
        if not key.startswith("opt_"):
            continue
        _, index, name = key.split("_", 2)
        index = int(index)
        if index >= len(variables):
            raise ValueError(f"{what}: optimizer slot {key!r} names variable {index}; the model "
                             f"has {len(variables)}.")
        variable = variables[index]
        if name not in optimizer._slot_names():
            raise ValueError(f"{what}: {type(optimizer).__name__} has no slot {name!r}.")
        if array.shape != (variable.size,):
            raise ValueError(f"{what}: optimizer slot {key!r} has shape {array.shape}, "
                             f"expected ({variable.size},).")
        pending.append((variable, name, array))
    for variable, name, array in sorted(pending, key=lambda p: variables.index(p[0])):
        optimizer._slots_of(variable)[name][...] = array
    optimizer.iterations = int(header.get("iterations", 0))
    if "learning_rate" in header and not callable(optimizer._learning_rate):
        optimizer.learning_rate = float(header["learning_rate"])


def _generator_state():
    return random.generator().bit_generator.state


def _set_generator_state(state, what):
    bit_generator = random.generator().bit_generator
    if not isinstance(state, dict) or state.get("bit_generator") != type(bit_generator).__name__:
        raise ValueError(f"{what}: the saved random generator state does not fit this "
                         f"generator ({type(bit_generator).__name__}).")
    bit_generator.state = state


def save_training_state(model, filepath, epoch, rng_state=None, extra=None):
    """Writes, atomically and as one file, the model's weights, its optimizer's state, the
    next epoch to run and the random generator's state (`rng_state`, by default now's)."""
    arrays, names = weight_arrays(model)
    header = {"format": FORMAT, "version": 1, "model": model.name, "names": names,
              "epoch": int(epoch),
              "rng_state": _generator_state() if rng_state is None else rng_state}
    if extra:
        header["extra"] = extra
    if getattr(model, "optimizer", None) is not None:
        opt_header, opt_arrays = optimizer_state(model.optimizer, weight_variables(model))
        header["optimizer"] = opt_header
        arrays.update(opt_arrays)
    with atomic_write(filepath) as handle:
        write_npz(handle, arrays, header)


def load_training_state(model, filepath, restore_rng=True):
    """Restores what `save_training_state` wrote; returns its header (with `epoch`)."""
    filepath = os.fspath(filepath)
    what = f"Training state {filepath!r}"
    header, arrays = read_npz(filepath, what, FORMAT)
    opt_header = header.get("optimizer")
    if opt_header is not None and getattr(model, "optimizer", None) is None:
        raise ValueError(f"{what} holds optimizer state but model {model.name} is not compiled.")
    set_weight_arrays(model, arrays, what)
    if opt_header is not None:
        load_optimizer_state(model.optimizer, weight_variables(model), opt_header, arrays, what)
    if restore_rng and header.get("rng_state") is not None:
        _set_generator_state(header["rng_state"], what)
    if not isinstance(header.get("epoch"), int) or header["epoch"] < 0:
        raise ValueError(f"{what} has no valid epoch.")
    return header


# Names used by kerasr.saving's __init__.
training_state = save_training_state
restore_training_state = load_training_state
