"""Whole models as one `.keras` zip, in a file (`save_model` / `load_model`) or in memory
(`serialize_model` / `unserialize_model`), and architectures as JSON (`model_to_json` /
`model_from_json`).

The zip holds `metadata.json` (kerasr version, date), `config.json` (Keras 3's layout: the
model's entry `{"module", "class_name", "config", "registered_name", "build_config"}` plus
`compile_config`: the optimizer's config, learning-rate schedule included, the losses and
metrics by name or config, the loss weights), `model.weights.npz` (the weights, read back with
pickle disallowed) and, for a compiled model, `optimizer.npz` (its iteration count, learning
rate and slot arrays, so training resumes exactly where it stopped).

Loading trusts nothing in the file: classes are found only among kerasr's own, the registered
ones and `custom_objects`; functions only by registered name, in `custom_objects` or among
kerasr's own functions; unknown or wrong-typed fields, unknown zip members, and weights whose
shapes or dtypes differ from the rebuilt architecture are refused with a ValueError naming
the problem. kerasr never stores nor runs code: a Lambda layer's function is saved by name
(register it, or pass it in `custom_objects` when loading) and a file holding a function's
code (Keras's `__lambda__` entries) is refused whatever `safe_mode` says.
"""

import datetime
import io
import json
import os
import re
import warnings
import zipfile


from .. import random
from ..layers.base import Layer
from ._archive import open_archive
from ._atomic import atomic_write
from ._npz import read_npz, write_npz
from .serialization import (FUNCTION, LAMBDA, deserialize_function, deserialize_layer,
                            get_registered_object, resolve_objects, serialize_layer,
                            serialize_object, to_json_ready, weight_budget)
from .state import load_optimizer_state, optimizer_state
from .weights import FORMAT as WEIGHTS_FORMAT
from .weights import (_check_not_hdf5, layer_groups, set_weight_arrays, weight_arrays,
                      weight_variables)

OPTIMIZER_FORMAT = "kerasr.optimizer"
SAVING_FORMAT = "kerasr.keras/1"
CONFIG, METADATA, WEIGHTS, OPTIMIZER = ("config.json", "metadata.json", "model.weights.npz",
                                        "optimizer.npz")
MEMBERS = (METADATA, CONFIG, WEIGHTS, OPTIMIZER)
REQUIRED = (METADATA, CONFIG, WEIGHTS)
# A `.keras` file written by Keras 3 (Python, or R keras3's save_model()) holds its weights as
# HDF5 instead of kerasr's npz.
KERAS_WEIGHTS = "model.weights.h5"
KERAS_MEMBERS = (METADATA, CONFIG, KERAS_WEIGHTS)
_MAX_KERAS_WEIGHTS_BYTES = 4 << 30   # read into memory: the weights of a large model fit
# Keras 3 compile settings that only choose how training runs, not what it computes.
_KERAS_COMPILE_DROPS = ("run_eagerly", "steps_per_execution", "jit_compile", "auto_scale_loss")
_MODEL_KEYS = {"module": str, "class_name": str, "config": dict,
               "registered_name": (str, type(None)), "build_config": (dict, type(None)),
               "compile_config": (dict, type(None))}
_COMPILE_KEYS = {"optimizer": (dict, str, type(None)), "loss": (dict, str, list, type(None)),
                 "metrics": (dict, list, str, type(None)),
                 "weighted_metrics": (dict, list, str, type(None)),
                 "loss_weights": (list, dict, int, float, type(None))}
_MAX_JSON_BYTES = 64 << 20   # config.json and metadata.json: real ones are far smaller


# ---- writing --------------------------------------------------------------------------------
def model_entry(model):
    """The model's Keras 3 entry, JSON-ready (functions by name; never code)."""
    entry = serialize_layer(model)
    entry["module"] = "keras"
    return to_json_ready(entry, f"model {model.name}")


def compile_config(model):
    """What `compile` was given, JSON-ready: the optimizer's entry, the losses and metrics per
    output (names as given, objects by config, functions by name), the loss weights. None
    for a model that is not compiled."""
    if not getattr(model, "compiled", False) or getattr(model, "optimizer", None) is None:
        return None
    names = list(model.output_names)
    where = f"the compile settings of model {model.name}"

    def per_output(values, convert):
        values = [convert(v) for v in values]
        return values[0] if len(names) == 1 else dict(zip(names, values))

    def loss(fn):
        return None if fn is None else serialize_object(fn, f"{where} (loss)")

    def metrics(groups):
        return [[_metric_entry(m, f"{where} (metric {m!r:.40})") for m in group]
                for group in groups]

    return {"optimizer": serialize_object(model.optimizer, f"{where} (optimizer)"),
            "loss": per_output(model._loss_fns, loss),
            "metrics": per_output(metrics(model._metric_spec), lambda e: e),
            "weighted_metrics": per_output(metrics(getattr(model, "_weighted_metric_spec", None)
                                                   or [[] for _ in names]), lambda e: e),
            "loss_weights": [float(w) for w in model._loss_weights]}


def _metric_entry(metric, where):
    if isinstance(metric, str):
        return metric
    if isinstance(metric, type):
        from .. import metrics
        if getattr(metrics, metric.__name__, None) is metric:
            return metric.__name__
        raise ValueError(f"Cannot save {where}: pass a metric instance, not the class.")
    return serialize_object(metric, where)


def model_to_bytes(model, include_optimizer=True):
    """The `.keras` zip of `model`, as bytes."""
    from .. import __version__
    config = model_entry(model)
    try:
        config["compile_config"] = compile_config(model)
    except ValueError as error:
        # An unsaveable loss or metric (an anonymous function) must not stop a checkpoint:
        # the architecture and weights are saved, the compile settings are not (Keras 2 did
        # the same, with a warning).
        warnings.warn(f"{error} The model is saved without its compile settings and optimizer "
                      f"state: load it with compile=False and compile it again.", stacklevel=3)
        config["compile_config"] = None
    config_text = json.dumps(config, indent=2)
    metadata = {"keras_version": "kerasr " + __version__, "saving_format": SAVING_FORMAT,
                "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S")}
    arrays, names = weight_arrays(model)
    weights = io.BytesIO()
    write_npz(weights, arrays, {"format": WEIGHTS_FORMAT, "version": 1, "model": model.name,
                                "names": names, "layers": layer_groups(model)})
    optimizer = None
    if include_optimizer and config["compile_config"] is not None:
        header, opt_arrays = optimizer_state(model.optimizer, weight_variables(model))
        optimizer = io.BytesIO()
        write_npz(optimizer, opt_arrays, {"format": OPTIMIZER_FORMAT, "version": 1, **header})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr(METADATA, json.dumps(metadata, indent=2))
        archive.writestr(CONFIG, config_text)
        archive.writestr(WEIGHTS, weights.getvalue())
        if optimizer is not None:
            archive.writestr(OPTIMIZER, optimizer.getvalue())
    return buffer.getvalue()


def save_model(model, filepath, overwrite=True, include_optimizer=True):
    """Saves architecture, compile settings, weights and (for a compiled model) the
    optimizer's state to one `.keras` file, atomically: a crash mid-write leaves the previous
    file intact. `overwrite=False` refuses an existing file."""
    _check_model(model, "save_model")
    filepath = os.fspath(filepath)
    _check_not_hdf5(filepath, "save_model")
    if not filepath.endswith(".keras"):
        raise ValueError(f"save_model(): the file name must end in '.keras', got {filepath!r}.")
    if not overwrite and os.path.exists(filepath):
        raise FileExistsError(f"save_model(): {filepath!r} exists and overwrite=False; pass "
                              "overwrite=True to replace it.")
    data = model_to_bytes(model, include_optimizer=include_optimizer)
    with atomic_write(filepath) as handle:
        handle.write(data)
    return model


def serialize_model(model, include_optimizer=True):
    """The model as bytes in memory (the same zip as a `.keras` file): R keras's
    `serialize_model()`; `unserialize_model()` reads it back."""
    _check_model(model, "serialize_model")
    return model_to_bytes(model, include_optimizer=include_optimizer)


def model_to_json(model):
    """The model's architecture (no weights, no compile settings) as a JSON string in Keras
    3's layout; `model_from_json()` rebuilds it."""
    _check_model(model, "model_to_json")
    return json.dumps(model_entry(model))


def _check_model(model, verb):
    from ..models import Model
    if not isinstance(model, Model):
        raise ValueError(f"{verb}() expects a model, got {type(model).__name__}.")


# ---- reading --------------------------------------------------------------------------------
def read_members(source, what):
    """{member name: bytes} of a `.keras` zip (a path, or bytes), read through
    `_archive.open_archive` (hostile names, zip bombs, truncation and CRC errors refused):
    only kerasr's members (or Keras 3's: a `model.weights.h5` instead of the npz), none
    missing, the JSON ones at most 64 MiB, Keras's weights at most 4 GiB."""
    with open_archive(source, what=what, max_members=64) as archive:
        names = archive.names()
        keras = KERAS_WEIGHTS in names and WEIGHTS not in names
        allowed, required = (KERAS_MEMBERS, KERAS_MEMBERS) if keras else (MEMBERS, REQUIRED)
        kind = "a Keras 3 .keras file kerasr reads" if keras else "a kerasr .keras file"
        for name in names:
            if name not in allowed:
                raise ValueError(f"{what} holds an unexpected member {name[:100]!r}; {kind} "
                                 f"holds only {', '.join(allowed)}.")
        missing = [name for name in required if name not in names]
        if missing:
            raise ValueError(f"{what} lacks {', '.join(missing)}: not a kerasr .keras file, or a "
                             "damaged one.")
        caps = {KERAS_WEIGHTS: _MAX_KERAS_WEIGHTS_BYTES}
        return {name: archive.read(name, max_bytes=_MAX_JSON_BYTES if name.endswith(".json")
                                   else caps.get(name))
                for name in names}


def _json_member(members, name, what):
    try:
        value = json.loads(members[name].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise ValueError(f"{what}: {name} is not valid JSON ({error}).") from None
    if not isinstance(value, dict):
        raise ValueError(f"{what}: {name} must hold a JSON object, got "
                         f"{type(value).__name__}.")
    return value


def _check_fields(config, spec, what):
    unknown = sorted(set(config) - set(spec))
    if unknown:
        raise ValueError(f"{what} has unknown field(s) {', '.join(map(repr, unknown))}; "
                         f"known: {', '.join(spec)}.")
    for key, types in spec.items():
        if key in config and not isinstance(config[key], types):
            raise ValueError(f"{what}: field {key!r} has the wrong type "
                             f"({type(config[key]).__name__}).")


MAX_JSON_MODEL_BYTES = 4 << 30   # model_from_json: the weights a config may allocate


def model_from_entry(entry, custom_objects, what, max_weight_bytes=MAX_JSON_MODEL_BYTES):
    """The model a Keras 3 model entry describes (classes only from kerasr, the registry and
    `custom_objects`). The global random generator is left as it was: the initial weights
    drawn while rebuilding do not shift later shuffles and dropout masks."""
    from ..models import Model
    if not isinstance(entry, dict):
        raise ValueError(f"{what}: the model entry must be a JSON object.")
    _check_fields(entry, _MODEL_KEYS, f"{what} (model entry)")
    for key in ("class_name", "config"):
        if key not in entry:
            raise ValueError(f"{what}: the model entry lacks {key!r}.")
    if custom_objects is not None and not isinstance(custom_objects, dict):
        raise ValueError("custom_objects must be a dict (a named list in R) of name: object.")
    generator = random.generator()
    state = generator.bit_generator.state
    try:
        with weight_budget(max_weight_bytes, what):
            model = deserialize_layer({k: v for k, v in entry.items() if k != "compile_config"},
                                      custom_objects)
    except RecursionError:
        raise ValueError(f"{what}: the model config is nested too deeply.") from None
    except MemoryError:
        raise ValueError(f"{what}: rebuilding the model from its config needs more memory "
                         "than there is (a shape bomb?).") from None
    finally:
        generator.bit_generator.state = state
    if not isinstance(model, Model):
        raise ValueError(f"{what} describes a {type(model).__name__}, not a model.")
    return model


def _check_safe_mode(safe_mode, compile):
    if not isinstance(safe_mode, bool):
        raise ValueError(f"safe_mode must be TRUE or FALSE, got {safe_mode!r}.")
    if not isinstance(compile, bool):
        raise ValueError(f"compile must be TRUE or FALSE, got {compile!r}.")


def model_from_bytes(source, custom_objects=None, compile=True, safe_mode=True, what="Model"):
    """The model in a `.keras` zip (a path or bytes). See `load_model`."""
    _check_safe_mode(safe_mode, compile)
    members = read_members(source, what)
    if KERAS_WEIGHTS in members:
        return _model_from_keras_members(members, custom_objects, compile, what)
    metadata = _json_member(members, METADATA, what)
    if not isinstance(metadata.get("saving_format", SAVING_FORMAT), str):
        raise ValueError(f"{what}: metadata.json has a wrong-typed saving_format.")
    config = _json_member(members, CONFIG, what)
    _, arrays = read_npz(members[WEIGHTS], f"{what} ({WEIGHTS})", WEIGHTS_FORMAT)
    # The rebuilt model may allocate no more than the file's weights (a little slack for
    # layers that make temporary weights while building).
    budget = sum(a.nbytes for n, a in arrays.items() if n.startswith("weight_")) + (1 << 20)
    model = model_from_entry(config, custom_objects, what, max_weight_bytes=budget)
    set_weight_arrays(model, arrays, f"{what} ({WEIGHTS})", exact_dtype=True)
    compile_settings = config.get("compile_config")
    if compile and compile_settings is not None:
        compile_from_config(model, compile_settings, custom_objects, what)
        if OPTIMIZER in members:
            header, opt_arrays = read_npz(members[OPTIMIZER], f"{what} ({OPTIMIZER})",
                                          OPTIMIZER_FORMAT)
            load_optimizer_state(model.optimizer, weight_variables(model), header, opt_arrays,
                                 f"{what} ({OPTIMIZER})")
    return model


# ---- .keras files written by Keras 3 -----------------------------------------------------------
def _model_from_keras_members(members, custom_objects, compile, what):
    """The model in a Keras-written `.keras` zip's members: the architecture from config.json
    (translated as Keras 3's HDF5 model configs are), the weights from `model.weights.h5`
    (opened from memory, its link tree and datasets checked as for any HDF5 file), compiled
    from `compile_config` when it resolves (else loaded uncompiled, with a warning). Keras's
    optimizer state is not read: training restarts with fresh optimizer slots."""
    from . import hdf5
    h5py = hdf5._h5py("load_model")
    metadata = _json_member(members, METADATA, what)
    version = metadata.get("keras_version")
    # .keras zips come from Keras >= 2.13; without a version, Keras 3's meanings apply.
    version = version if isinstance(version, str) else "3"
    config = _json_member(members, CONFIG, what)
    compile_settings = config.pop("compile_config", None)
    where = f"{what} ({KERAS_WEIGHTS})"
    with hdf5.open_checked(h5py, io.BytesIO(members[KERAS_WEIGHTS]), where) as f:
        datasets = {}
        f.visititems(lambda name, obj: datasets.__setitem__(name, obj)
                     if isinstance(obj, h5py.Dataset) else None)
        budget = sum(d.size * d.dtype.itemsize for d in datasets.values()) + (1 << 20)
        try:
            entry = hdf5.translate_model_config(config, custom_objects, what,
                                                keras_version=version)
        except RecursionError:
            raise ValueError(f"{what}: the model config is nested too deeply.") from None
        model = model_from_entry(entry, custom_objects, what, max_weight_bytes=budget)
        _load_keras_weights(h5py, hdf5, f, model, config, datasets, where)
    if compile and compile_settings is not None:
        try:
            if not isinstance(compile_settings, dict):
                raise ValueError("compile_config is not a JSON object")
            compile_from_config(model, {k: v for k, v in compile_settings.items()
                                        if k not in _KERAS_COMPILE_DROPS},
                                custom_objects, what)
        except (ValueError, TypeError, KeyError) as error:
            warnings.warn(f"{what}: the model was loaded but not compiled ({error}); compile "
                          "it yourself.", stacklevel=4)
    return model


def _snake_case(class_name):
    """Keras's group name for an object of this class: "Conv2D" -> "conv2d",
    "BatchNormalization" -> "batch_normalization"."""
    name = re.sub(r"\W+", "", class_name)
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def _entry_config(entry):
    config = entry.get("config") if isinstance(entry, dict) else None
    return config if isinstance(config, dict) else {}


def _keras_children(items, prefix):
    """[(item, its class name)] -> [(prefix/snake_name[_k], item)]: the names Keras gives
    the members of a list it saves (the class name in snake case, numbered from the second
    of a name on, in order)."""
    used, named = {}, []
    for item, class_name in items:
        name = _snake_case(class_name)
        if name in used:
            used[name] += 1
            name = f"{name}_{used[name]}"
        else:
            used[name] = 0
        named.append((f"{prefix}/{name}", item))
    return named


def _keras_plan(layer, entry, path, plan, seen):
    """Appends (layer, its own variables, the Keras group holding them) for `layer` saved at
    `path` and everything inside it: a model's layers under `path/layers/<snake name>` (in
    its config's order), a recurrent layer's variables under `path/cell/vars` (Keras keeps
    them in its cell), other variables under `path/vars`, nested layers under
    `path/<attribute>` (attributes in sorted order, each layer once, as Keras walks them)."""
    from ..layers.recurrent import Recurrent
    from ..models import Model
    if isinstance(layer, Model):
        config = _entry_config(entry)
        entries = config.get("layers") if isinstance(config.get("layers"), list) else []
        by_name = {}
        for item in entries:
            if isinstance(item, dict):
                name = _entry_config(item).get("name", item.get("name"))
                if isinstance(name, str):
                    by_name.setdefault(name, item)
        ordered = [item for item in entries if isinstance(item, dict)
                   and _entry_config(item).get("name", item.get("name")) in by_name]
        layers = {sub.name: sub for sub in layer.layers}
        items = []
        for item in ordered:
            sub = layers.pop(_entry_config(item).get("name", item.get("name")), None)
            if sub is not None and isinstance(item.get("class_name"), str):
                items.append(((sub, item), item["class_name"]))
        items += [((sub, None), type(sub).__name__) for sub in layers.values()]
        for sub_path, (sub, sub_entry) in _keras_children(items, f"{path}/layers"):
            _keras_plan(sub, sub_entry, sub_path, plan, seen)
        return
    own = list(layer._variables)
    if own:
        plan.append((layer, own, f"{path}/cell/vars" if isinstance(layer, Recurrent)
                     else f"{path}/vars"))
    config = _entry_config(entry)
    for attribute in sorted(layer.__dict__.get("_layer_attributes") or ()):
        value = layer.__dict__.get(attribute)
        if isinstance(value, Layer):
            children = [(f"{path}/{attribute}", value)]
        elif isinstance(value, (list, tuple)):
            children = _keras_children([(v, type(v).__name__) for v in value
                                        if isinstance(v, Layer)], f"{path}/{attribute}")
        else:
            continue
        for child_path, child in children:
            if child is layer or id(child) in seen:
                continue
            seen.add(id(child))
            sub_entry = config.get(attribute) if isinstance(config.get(attribute), dict) \
                else None
            _keras_plan(child, sub_entry, child_path, plan, seen)


def _load_keras_weights(h5py, hdf5, f, model, config, datasets, where):
    """Assigns `model.weights.h5`'s variables, group by group as Keras saved them, after
    checking every group's count and shapes, and that no layer weight in the file is left
    over."""
    plan = []
    _keras_plan(model, config, "", plan, set())
    pending, used = [], set()
    for layer, variables, group_path in plan:
        key = group_path.lstrip("/")
        group = f.get(key)
        if not isinstance(group, h5py.Group):
            raise ValueError(f"{where} has no weights for layer {layer.name!r} (group {key!r} "
                             "is missing): the file's weights do not match its config.")
        names = list(group)
        expected = [str(i) for i in range(len(variables))]
        if sorted(names) != sorted(expected) or not all(
                isinstance(group[n], h5py.Dataset) for n in names):
            raise ValueError(f"{where}: layer {layer.name!r} has {len(names)} weight(s) in "
                             f"{key!r} ({', '.join(sorted(names)[:10]) or 'none'}); the layer "
                             f"expects {len(variables)} ({', '.join(expected)}).")
        found = [(f"{key}/{n}", group[n]) for n in expected]
        used.update(name for name, _ in found)
        hdf5._match(variables, found, f"layer {layer.name!r}", where, False, pending)
    left = sorted(name for name in datasets if name not in used
                  and (name.startswith("layers/") or name.startswith("vars/")))
    if left:
        raise ValueError(f"{where} holds weights the model has no place for: "
                         f"{', '.join(left[:5])}{' ...' if len(left) > 5 else ''}.")
    hdf5._read_into(pending, where)


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """A model saved by `save_model`: rebuilt from its config, its weights set, and (when
    `compile`) compiled as it was with its optimizer's state restored, so `fit` continues
    exactly where it stopped.

    A `.keras` file written by Keras 3 (Python's `model.save()`, R keras3's `save_model()`)
    loads too: its architecture, weights and compile settings; not its optimizer's state.

    `custom_objects`: {name: class or function} for custom layers, losses, metrics and Lambda
    functions that are not registered with `register_keras_serializable()`.

    `safe_mode`: accepted for R keras's signature. In Keras, `safe_mode=FALSE` lets a file run
    the bytecode of a lambda stored in it. kerasr never stores code and never runs code from a
    file, so files with stored code are refused either way (the error says how to register
    the function instead) and `safe_mode=FALSE` unlocks nothing.
    """
    filepath = os.fspath(filepath)
    _check_not_hdf5(filepath, "load_model")
    return model_from_bytes(filepath, custom_objects, compile, safe_mode,
                            what=f"Model file {filepath!r}")


def unserialize_model(object, custom_objects=None, compile=True, safe_mode=True):
    """The model in bytes made by `serialize_model()`."""
    if not isinstance(object, (bytes, bytearray, memoryview)):
        raise ValueError(f"unserialize_model() expects the bytes serialize_model() made, got "
                         f"{type(object).__name__}.")
    return model_from_bytes(bytes(object), custom_objects, compile, safe_mode,
                            what="The serialized model")


def model_from_json(json_string, custom_objects=None):
    """A new (uncompiled, freshly initialized) model from `model_to_json()`'s string."""
    if not isinstance(json_string, str):
        raise ValueError(f"model_from_json() expects a JSON string, got "
                         f"{type(json_string).__name__}.")
    try:
        entry = json.loads(json_string)
    except (json.JSONDecodeError, RecursionError) as error:
        raise ValueError(f"model_from_json(): not valid JSON ({error}).") from None
    return model_from_entry(entry, custom_objects, "model_from_json()")


# ---- compile settings -----------------------------------------------------------------------
def _custom_class(entry, custom_objects):
    key = entry.get("registered_name")
    found = get_registered_object(key, custom_objects) if isinstance(key, str) else None
    return found or (custom_objects or {}).get(entry["class_name"])


def _from_entry(entry, custom_objects, where, builtin):
    """A function or object from its entry: custom classes through the registry and
    `custom_objects`, kerasr's own through `builtin(entry)`."""
    if not isinstance(entry, dict) or not isinstance(entry.get("class_name"), str):
        raise ValueError(f"{where}: expected a name or an entry with class_name, got "
                         f"{entry!r:.200}.")
    if entry["class_name"] in (FUNCTION, LAMBDA):
        return deserialize_function(entry, custom_objects, where)
    config = entry.get("config", {})
    if not isinstance(config, dict):
        raise ValueError(f"{where}: the config of {entry['class_name']} must be an object.")
    config = resolve_objects(config, custom_objects, where)
    cls = _custom_class(entry, custom_objects)
    try:
        if cls is not None:
            return cls.from_config(config) if hasattr(cls, "from_config") else cls(**config)
        return builtin({"class_name": entry["class_name"], "config": config})
    except (TypeError, KeyError) as error:
        raise ValueError(f"{where}: could not rebuild {entry['class_name']} from its config "
                         f"({error}).") from None


def _optimizer(entry, custom_objects, where):
    from .. import optimizers
    if isinstance(entry, str):
        return optimizers.get(entry)
    return _from_entry(entry, custom_objects, where, optimizers.get)


def _loss(entry, custom_objects, where):
    from .. import losses
    if entry is None or isinstance(entry, str):
        return entry

    def builtin(e):
        if e["class_name"] == "LossFunctionWrapper":
            return losses.LossFunctionWrapper.from_config(e["config"])
        return losses.get(e)
    return _from_entry(entry, custom_objects, where, builtin)


def _metric(entry, custom_objects, where):
    from .. import metrics
    if isinstance(entry, str):
        return entry

    def builtin(e):
        if e["class_name"] == "MeanMetricWrapper":
            return metrics.MeanMetricWrapper.from_config(e["config"])
        return metrics.get(e)
    found = _from_entry(entry, custom_objects, where, builtin)
    if (entry.get("class_name") == FUNCTION and callable(found)
            and getattr(found, "__name__", None) != entry.get("config")):
        # A custom_metric() is logged under its name: keep that name.
        found = metrics.custom_metric(entry["config"], found)
    return found


def compile_from_config(model, config, custom_objects, what):
    """Compiles `model` as `compile_config` says."""
    _check_fields(config, _COMPILE_KEYS, f"{what} (compile_config)")
    if config.get("optimizer") is None:
        return
    names = list(model.output_names)
    where = f"{what} (compile_config)"

    def per_output(value, convert, key):
        if isinstance(value, dict) and len(names) > 1 and "class_name" not in value:
            unknown = set(value) - set(names)
            if unknown:
                raise ValueError(f"{where}: {key} names unknown outputs {sorted(unknown)}.")
            return {n: convert(value.get(n)) for n in names}
        return convert(value)

    def metric_list(value):
        if value is None:
            return []
        if not isinstance(value, list):
            raise ValueError(f"{where}: metrics must be lists, got {value!r:.100}.")
        return [_metric(m, custom_objects, f"{where} (metric)") for m in value]

    loss_weights = config.get("loss_weights")
    if loss_weights is not None and (not isinstance(loss_weights, list) or not all(
            isinstance(w, (int, float)) and not isinstance(w, bool) for w in loss_weights)):
        raise ValueError(f"{where}: loss_weights must be a list of numbers.")
    model.compile(
        optimizer=_optimizer(config["optimizer"], custom_objects, f"{where} (optimizer)"),
        loss=per_output(config.get("loss"), lambda e: _loss(e, custom_objects,
                                                             f"{where} (loss)"), "loss"),
        metrics=per_output(config.get("metrics"), metric_list, "metrics"),
        weighted_metrics=per_output(config.get("weighted_metrics"), metric_list,
                                    "weighted_metrics"),
        loss_weights=loss_weights)


__all__ = ["save_model", "load_model", "serialize_model", "unserialize_model", "model_to_json",
           "model_from_json"]
