"""Layers and models as JSON-ready configs in Keras 3's layout, and back.

A layer entry is `{"module", "class_name", "config", "registered_name", "build_config"}`; a
graph model lists its layers with their `inbound_nodes`, whose arguments refer to tensors as
`[layer name, node index, tensor index]`, and names its `input_layers` and `output_layers`
the same way. Nothing named in a config is imported or evaluated: classes are found only among
kerasr's own layers and models, the classes registered with `register_keras_serializable`, and
the caller's `custom_objects`.

Functions inside configs (a Lambda layer's, a custom loss's or metric's) are stored as Keras 3's
`{"class_name": "function", "config": name, "registered_name": "package>name"}` and found again
only by that key, in `custom_objects` or among kerasr's own functions. kerasr never stores a
function's code, and refuses Keras's `__lambda__` entries (bytecode) whatever `safe_mode` says.
While a model is rebuilt from a file, `weight_budget` bounds what its layers may allocate.
"""

import contextlib
import inspect
import threading

from ..engine.graph import KerasTensor, flatten, map_structure

KERAS_TENSOR = "__keras_tensor__"
_registered = {}   # "package>Name" -> class


def register_keras_serializable(object=None, name=None, package=None):
    """Makes a custom class (layer, loss, metric, regularizer, ...) or function loadable by
    name, under the key "package>name" (package "Custom", name the object's own by default).

    R keras's form registers and returns `object`: `register_keras_serializable(MyLayer,
    package = "mine")`; Keras's decorator form works too: `@register_keras_serializable()`,
    `@register_keras_serializable("mine")` or `@register_keras_serializable(package="mine")`.
    A registered function (e.g. a `layer_lambda` function) is saved by that key, never as code.
    """
    if isinstance(object, str):          # Keras's positional form: the package
        object, package = None, object

    def register(obj):
        if not callable(obj):
            raise ValueError(f"register_keras_serializable() registers a class or a function, "
                             f"got {obj!r:.100}.")
        key_name = name or getattr(obj, "__name__", None)
        if not key_name or key_name == "<lambda>":
            raise ValueError("register_keras_serializable(): an anonymous function needs "
                             "name=; better, define it with `def` and register that.")
        key = f"{package or 'Custom'}>{key_name}"
        if key in _registered and _registered[key] is not obj:
            raise ValueError(f"{key!r} is already registered to {_registered[key]!r}.")
        _registered[key] = obj
        obj._registered_name = key
        return obj

    return register if object is None else register(object)


def registered_name(obj):
    """"package>Name" for a registered class (or its instance) or function, else None."""
    if inspect.isclass(obj):
        return obj.__dict__.get("_registered_name")
    if inspect.isfunction(obj) or inspect.isbuiltin(obj):
        return getattr(obj, "_registered_name", None)
    return type(obj).__dict__.get("_registered_name")


get_registered_name = registered_name


def get_registered_object(name, custom_objects=None):
    """The object registered (or given in `custom_objects`) under `name`, else None."""
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    return _registered.get(name)


def _builtin_classes():
    from .. import layers, models
    found = {}
    for module in (layers, models):
        for name, value in vars(module).items():
            if inspect.isclass(value) and issubclass(value, layers.Layer):
                found.setdefault(name, value)
    found.setdefault("Model", models.Model)
    return found


def find_class(class_name, registered=None, custom_objects=None):
    """The class a config names, from custom_objects, the registry or kerasr's own."""
    custom_objects = custom_objects or {}
    for key in (registered, class_name):
        if key and key in custom_objects:
            return custom_objects[key]
    if registered and registered in _registered:
        return _registered[registered]
    builtins = _builtin_classes()
    if class_name in builtins:
        return builtins[class_name]
    raise ValueError(
        f"Unknown layer class {class_name!r}"
        + (f" (registered as {registered!r})" if registered else "")
        + ": pass it in custom_objects={" + repr(class_name) + ": TheClass} or register it with "
        "@register_keras_serializable().")


# ---- functions and objects inside configs ---------------------------------------------------
FUNCTION = "function"      # Keras 3's entry for a function stored by name
LAMBDA = "__lambda__"      # Keras 3's entry for a function stored as bytecode: always refused
_FUNCTION_MODULES = ("kerasr.activations", "kerasr.backend", "kerasr.losses", "kerasr.metrics")
_ACTIVATION_KEYS = ("activation", "recurrent_activation")


def _builtin_functions():
    """{(module, name): function} for kerasr's own public functions a config may name."""
    import importlib
    found = {}
    for module_name in _FUNCTION_MODULES:
        module = importlib.import_module(module_name)   # a fixed list, never a config's text
        for name, value in vars(module).items():
            if inspect.isfunction(value) and not name.startswith("_"):
                found.setdefault((value.__module__, value.__name__), value)
    return found


def serialize_function(fn, where="a config"):
    """Keras 3's entry for a function: by its registered key, or by name for kerasr's own
    functions and for named functions the loader must get through `custom_objects`.
    kerasr never stores a function's code: an anonymous function is refused."""
    key = registered_name(fn)
    name = getattr(fn, "__name__", None)
    module = getattr(fn, "__module__", None) or ""
    if key is None and (name is None or name == "<lambda>"):
        raise ValueError(
            f"Cannot save {where}: it holds an anonymous function ({fn!r:.80}). kerasr never "
            "stores code in a file (Keras would store its bytecode; loading that runs code "
            "from the file). Define the function with `def`, register it with "
            "register_keras_serializable(my_function, package = 'mine') (or pass "
            "custom_objects = list(my_function = my_function) to load_model()), and use it "
            "in place of the lambda.")
    if key is None and (module, name) not in _builtin_functions() and not inspect.isroutine(fn):
        raise ValueError(f"Cannot save {where}: {fn!r:.80} is neither a function nor an "
                         "object with get_config().")
    return {"module": module if module.startswith("kerasr") else "custom",
            "class_name": FUNCTION, "config": name, "registered_name": key}


def deserialize_function(entry, custom_objects=None, where="a config"):
    """The function an entry of `serialize_function` names, found only in `custom_objects`,
    the registry or kerasr's own functions (nothing is imported or run)."""
    if not isinstance(entry, dict):
        raise ValueError(f"{where}: a function entry must be a dict, got {entry!r:.100}.")
    if entry.get("class_name") == LAMBDA:
        raise ValueError(
            f"{where} holds a function stored as code (a Keras lambda). kerasr never runs code "
            "from a file, whatever safe_mode says. Define the function in your own code, "
            "register it with register_keras_serializable() (or pass it in custom_objects), "
            "and save the model again with a function rather than a lambda.")
    name, key = entry.get("config"), entry.get("registered_name")
    if not isinstance(name, str) or (key is not None and not isinstance(key, str)):
        raise ValueError(f"{where}: a function entry needs a name (str), got {entry!r:.200}.")
    custom_objects = custom_objects or {}
    for candidate in (key, name):
        if candidate and candidate in custom_objects:
            return custom_objects[candidate]
    if key and key in _registered:
        return _registered[key]
    module = entry.get("module")
    found = _builtin_functions().get((module, name)) if isinstance(module, str) else None
    if found is not None:
        return found
    raise ValueError(f"{where} names the function {key or name!r}, which is neither "
                     f"registered nor in custom_objects: pass custom_objects = "
                     f"list({name} = {name}) or register it with "
                     f"register_keras_serializable().")


def serialize_object(obj, where="a config"):
    """A JSON-ready entry for a non-layer object with a config (loss, metric, optimizer,
    schedule, regularizer, ...) or a function."""
    if inspect.isroutine(obj) or (callable(obj) and not hasattr(obj, "get_config")
                                  and not inspect.isclass(obj)):
        return serialize_function(obj, where)
    if inspect.isclass(obj):
        raise ValueError(f"Cannot save {where}: it holds the class {obj.__name__}; pass an "
                         "instance or a name.")
    if not hasattr(obj, "get_config"):
        raise ValueError(f"Cannot save {where}: {type(obj).__name__} has no get_config().")
    return {"module": type(obj).__module__ if type(obj).__module__.startswith("kerasr")
            else "custom", "class_name": type(obj).__name__,
            "config": to_json_ready(obj.get_config(), f"{where} ({type(obj).__name__})"),
            "registered_name": registered_name(obj)}


def to_json_ready(value, where="a config"):
    """`value` with numpy scalars and small arrays made plain, functions replaced by their
    entries and objects by their configs: what `json.dumps` can write. Anything else is a
    ValueError naming where it is."""
    import numpy as np
    from ..engine.tensor import Variable
    from ..layers.base import Layer
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        if value.size > 4096 or value.dtype.hasobject:
            raise ValueError(f"Cannot save {where}: it holds an array of shape {value.shape}; "
                             "arrays belong in weights, not in configs.")
        return value.tolist()
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise ValueError(f"Cannot save {where}: a key {k!r:.50} is not a string.")
            out[k] = to_json_ready(v, f"{where}.{k}" if where != "a config" else k)
        return out
    if isinstance(value, (list, tuple)):
        return [to_json_ready(v, where) for v in value]
    if isinstance(value, (Layer, Variable)):
        raise ValueError(f"Cannot save {where}: it holds {type(value).__name__} {value!r:.80} "
                         "in its config.")
    return serialize_object(value, where)


def _is_object_entry(value):
    return (isinstance(value, dict) and isinstance(value.get("class_name"), str)
            and "config" in value)


def resolve_objects(value, custom_objects=None, where="a config"):
    """The inverse of `to_json_ready` for what only the caller can supply: function entries
    become functions, entries of custom (registered or `custom_objects`) non-layer classes
    become instances, and activation names found in `custom_objects` become functions.
    Entries of kerasr's own classes are left for the layer's constructor to read."""
    from ..layers.base import Layer
    if isinstance(value, list):
        return [resolve_objects(v, custom_objects, where) for v in value]
    if not isinstance(value, dict):
        return value
    if value.get("class_name") in (FUNCTION, LAMBDA):
        return deserialize_function(value, custom_objects, where)
    if _is_object_entry(value) and isinstance(value["config"], dict):
        cls = get_registered_object(value["registered_name"], custom_objects) \
            if isinstance(value.get("registered_name"), str) else None
        cls = cls or (custom_objects or {}).get(value["class_name"])
        if cls is not None and inspect.isclass(cls) and not issubclass(cls, Layer):
            config = resolve_objects(value["config"], custom_objects, where)
            try:
                return cls.from_config(config) if hasattr(cls, "from_config") else cls(**config)
            except TypeError as error:
                raise ValueError(f"{where}: could not rebuild a {value['class_name']} from its "
                                 f"config: {error}.") from None
    out = {}
    for k, v in value.items():
        function = _custom_activation(v, custom_objects) if k in _ACTIVATION_KEYS else None
        out[k] = function if function is not None else resolve_objects(v, custom_objects, where)
    return out


def _custom_activation(name, custom_objects):
    """A custom activation a layer config names (activations.serialize stores a function's
    name): from custom_objects, or the one registered function of that name."""
    from ..activations import ACTIVATIONS
    if not isinstance(name, str) or name.lower() in ACTIVATIONS:
        return None
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    found = [obj for key, obj in _registered.items()
             if key.split(">", 1)[1] == name and not inspect.isclass(obj)]
    return found[0] if len(found) == 1 else None


# ---- memory bounds while rebuilding from an untrusted config -----------------------------------
_budget = threading.local()
MAX_SAMPLE_ELEMENTS = 1 << 28     # one sample of an input or build shape: 1 GiB of float32


@contextlib.contextmanager
def weight_budget(max_bytes, what):
    """While rebuilding a model from a file, `Layer.add_weight` refuses (ValueError) weights
    beyond `max_bytes` in all: a config cannot make kerasr allocate more than the file's own
    weights (a "shape bomb" such as units = 2^31)."""
    previous = getattr(_budget, "state", None)
    _budget.state = [int(max_bytes), what]
    try:
        yield
    finally:
        _budget.state = previous


def check_weight_budget(shape, dtype, layer):
    """Called by `Layer.add_weight` before allocating; a no-op outside `weight_budget`."""
    state = getattr(_budget, "state", None)
    if state is None:
        return
    import numpy as np
    try:
        dims = [int(d) for d in shape]
        itemsize = np.dtype(dtype).itemsize
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"{state[1]}: layer {layer.name} asks for a weight of shape "
                         f"{shape!r:.100}.") from None
    if any(d < 0 for d in dims):
        raise ValueError(f"{state[1]}: layer {layer.name} asks for a weight of negative shape "
                         f"{tuple(dims)}.")
    size = itemsize
    for d in dims:
        size *= d
    state[0] -= size
    if state[0] < 0:
        raise ValueError(f"{state[1]}: layer {layer.name} asks for a weight of shape "
                         f"{tuple(dims)}, beyond the weights the file holds: its config does "
                         "not match its weights (or is a shape bomb).")


def check_shape(shape, what):
    """A shape from a config: a list of None or non-negative ints, one sample of it at most
    MAX_SAMPLE_ELEMENTS elements (or a list of such shapes)."""
    if isinstance(shape, (list, tuple)) and shape and all(
            isinstance(s, (list, tuple)) for s in shape):
        for s in shape:
            check_shape(s, what)
        return
    if not isinstance(shape, (list, tuple)) or not all(
            d is None or (isinstance(d, int) and not isinstance(d, bool) and d >= 0)
            for d in shape):
        raise ValueError(f"{what}: a shape must be a list of non-negative integers or nulls, "
                         f"got {shape!r:.200}.")
    elements = 1
    for d in shape[1:]:
        elements *= 1 if d is None else d
    if elements > MAX_SAMPLE_ELEMENTS:
        raise ValueError(f"{what}: shape {shape!r:.200} has {elements} elements per sample; "
                         "refused (a shape bomb?).")


# ---- layers -----------------------------------------------------------------------------------
def serialize_layer(layer):
    """A layer's entry: its class, its config and the shape it was built for."""
    entry = {"module": "keras.layers", "class_name": type(layer).__name__,
             "config": layer.get_config(), "registered_name": registered_name(layer)}
    build_shape = getattr(layer, "_build_input_shape", None)
    if build_shape is not None:
        entry["build_config"] = {"input_shape": _jsonable_shape(build_shape)}
    return entry


def deserialize_layer(entry, custom_objects=None):
    """A new layer (or model) from its entry."""
    if not isinstance(entry, dict) or "class_name" not in entry:
        raise ValueError(f"A layer entry needs 'class_name' and 'config', got {entry!r:.200}.")
    config = entry.get("config", {})
    if not isinstance(config, dict):
        raise ValueError(f"The config of a {entry['class_name']} must be a dict, got "
                         f"{type(config).__name__}.")
    if not isinstance(entry["class_name"], str):
        raise ValueError(f"A layer entry's class_name must be a string, got "
                         f"{entry['class_name']!r:.100}.")
    what = f"the config of a {entry['class_name']}"
    for key in ("batch_shape", "batch_input_shape"):
        if config.get(key) is not None:
            check_shape(config[key], f"{what} ({key})")
    build = entry.get("build_config")
    if build is not None and not isinstance(build, dict):
        raise ValueError(f"The build_config of a {entry['class_name']} must be a dict, got "
                         f"{type(build).__name__}.")
    build_shape = build.get("input_shape") if build else None
    if build_shape is not None:
        check_shape(build_shape, f"the build_config of a {entry['class_name']}")
    cls = find_class(entry["class_name"], entry.get("registered_name"), custom_objects)
    config = resolve_objects(config, custom_objects, what)
    try:
        if "custom_objects" in inspect.signature(cls.from_config).parameters:
            layer = cls.from_config(dict(config), custom_objects=custom_objects)
        else:
            layer = cls.from_config(dict(config))
    except (TypeError, KeyError, AttributeError, IndexError, OverflowError) as error:
        raise ValueError(f"Could not rebuild a {entry['class_name']} from its config: "
                         f"{type(error).__name__}: {error}.") from None
    if build_shape is not None and not layer.built:
        try:
            layer._maybe_build(_shape_from_json(build_shape))
        except (TypeError, KeyError, AttributeError, IndexError, OverflowError) as error:
            raise ValueError(f"Could not build a {entry['class_name']} for the input shape "
                             f"{build_shape!r:.100} of its build_config: "
                             f"{type(error).__name__}: {error}.") from None
    return layer


def _jsonable_shape(shape):
    if isinstance(shape, (list, tuple)) and shape and isinstance(shape[0], (list, tuple)):
        return [_jsonable_shape(s) for s in shape]
    return [None if d is None else int(d) for d in shape]


def _shape_from_json(shape):
    if shape and isinstance(shape[0], list):
        return [_shape_from_json(s) for s in shape]
    return tuple(shape)


# ---- graph models -----------------------------------------------------------------------------
def functional_config(model):
    """The config of a graph model: its layers with their inbound nodes, and its ends."""
    own_nodes = {id(node) for node in model._nodes}

    def node_indices(layer):
        # Node indices count only this model's calls of a layer (a shared layer may have
        # nodes in other models too).
        return {id(n): i for i, n in enumerate(n for n in layer._inbound_nodes
                                                  if id(n) in own_nodes)}

    indices = {id(layer): node_indices(layer) for layer in model.layers}

    def tensor_ref(tensor):
        layer, node_index, tensor_index = tensor._keras_history
        node = layer._inbound_nodes[node_index]
        return [layer.name, indices[id(layer)][id(node)], tensor_index]

    def argument(value):
        if isinstance(value, KerasTensor):
            return {"class_name": KERAS_TENSOR,
                    "config": {"shape": _jsonable_shape(value.shape), "dtype": value.dtype,
                               "keras_history": tensor_ref(value)}}
        return value

    layer_entries = []
    from ..layers.core import InputLayer
    for layer in model.layers:
        entry = serialize_layer(layer)
        entry["name"] = layer.name
        nodes = [n for n in layer._inbound_nodes if id(n) in own_nodes]
        entry["inbound_nodes"] = [] if isinstance(layer, InputLayer) else [
            {"args": [map_structure(argument, node.inputs)]
                + [map_structure(argument, a) for a in node.call_kwargs.get("_args", ())],
             "kwargs": {k: map_structure(argument, v) for k, v in node.call_kwargs.items()
                        if k != "_args"}}
            for node in nodes]
        layer_entries.append(entry)
    return {"name": model.name, "trainable": model.trainable, "layers": layer_entries,
            "input_layers": _ends(model._nested_inputs, tensor_ref),
            "output_layers": _ends(model._nested_outputs, tensor_ref)}


def _ends(structure, tensor_ref):
    if isinstance(structure, (list, tuple)):
        return [tensor_ref(t) for t in flatten(structure)]
    return tensor_ref(structure)


def functional_from_config(cls, config, custom_objects=None):
    """Rebuilds a graph model: makes each layer, then calls it on its inbound nodes' inputs
    once they exist (a node may wait for tensors that later layers make)."""
    _require(config, ("layers", "input_layers", "output_layers"), "model config")
    layers, pending = {}, []
    for entry in config["layers"]:
        if not isinstance(entry, dict):
            raise ValueError(f"A model's layer entry must be a dict, got {entry!r:.200}.")
        layer = deserialize_layer(entry, custom_objects)
        name = entry.get("name", layer.name)
        if name in layers:
            raise ValueError(f"The model config names two layers {name!r}.")
        layers[name] = layer
        nodes = entry.get("inbound_nodes", [])
        if not isinstance(nodes, list):
            raise ValueError(f"inbound_nodes of {name!r} must be a list.")
        pending.extend((name, i, node) for i, node in enumerate(nodes))
    tensors = {}
    for name, layer in layers.items():
        if not entry_has_nodes(name, pending) and hasattr(layer, "output_tensor"):
            tensors[(name, 0, 0)] = layer.output_tensor
    while pending:
        progressed = False
        for item in list(pending):
            name, index, node = item
            if not _node_ready(node, tensors):
                continue
            args, kwargs = node.get("args", []), node.get("kwargs", {})
            if not isinstance(args, list) or not isinstance(kwargs, dict):
                raise ValueError(f"Node {index} of layer {name!r}: args must be a list and "
                                 f"kwargs a dict.")
            args = [_resolve(a, tensors) for a in args]
            kwargs = {k: _resolve(v, tensors) for k, v in kwargs.items()}
            if not args:
                raise ValueError(f"Node {index} of layer {name!r} has no inputs.")
            _check_call_arguments(layers[name], args, kwargs, f"Node {index} of layer {name!r}")
            try:
                outputs = layers[name](*args, **kwargs)
            except (TypeError, KeyError, AttributeError, IndexError, OverflowError) as error:
                raise ValueError(f"Node {index} of layer {name!r} cannot be rebuilt: "
                                 f"{type(error).__name__}: {error}.") from None
            for i, tensor in enumerate(flatten(outputs)):
                tensors[(name, index, i)] = tensor
            pending.remove(item)
            progressed = True
        if not progressed:
            missing = ", ".join(f"{n}[{i}]" for n, i, _ in pending)
            raise ValueError(f"The model config's graph cannot be rebuilt: the inputs of "
                             f"{missing} are never made (a cycle or a missing layer).")
    inputs = _resolve_ends(config["input_layers"], tensors)
    outputs = _resolve_ends(config["output_layers"], tensors)
    return cls(inputs=inputs, outputs=outputs, name=config.get("name"),
               trainable=config.get("trainable", True))


def _check_call_arguments(layer, args, kwargs, what):
    """Refuses arguments the layer's `call` does not take (a config cannot smuggle them in)."""
    try:
        parameters = list(inspect.signature(layer.call).parameters.values())
    except (TypeError, ValueError):
        return
    if any(p.kind == p.VAR_POSITIONAL for p in parameters):
        positional_ok = True
    else:
        positional_ok = len(args) <= sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
                                         for p in parameters)
    if not positional_ok:
        raise ValueError(f"{what} passes {len(args)} positional arguments; "
                         f"{type(layer).__name__}.call takes fewer.")
    if not any(p.kind == p.VAR_KEYWORD for p in parameters):
        names = {p.name for p in parameters} | {"training", "mask"}
        unknown = sorted(set(kwargs) - names)
        if unknown:
            raise ValueError(f"{what} passes argument(s) {unknown} that "
                             f"{type(layer).__name__}.call does not take.")


def entry_has_nodes(name, pending):
    return any(n == name for n, _, _ in pending)


def _require(config, keys, what):
    if not isinstance(config, dict):
        raise ValueError(f"A {what} must be a dict, got {type(config).__name__}.")
    missing = [k for k in keys if k not in config]
    if missing:
        raise ValueError(f"The {what} lacks {', '.join(missing)}.")


def _is_ref(value):
    return isinstance(value, dict) and value.get("class_name") == KERAS_TENSOR


def _history(value):
    history = value.get("config", {}).get("keras_history")
    if (not isinstance(history, list) or len(history) != 3 or not isinstance(history[0], str)
            or not all(isinstance(i, int) and i >= 0 for i in history[1:])):
        raise ValueError(f"A tensor reference needs keras_history [layer, node, tensor], got "
                         f"{history!r:.200}.")
    return tuple(history)


def _refs(value):
    if _is_ref(value):
        return [_history(value)]
    if isinstance(value, (list, tuple)):
        return [r for v in value for r in _refs(v)]
    if isinstance(value, dict):
        return [r for v in value.values() for r in _refs(v)]
    return []


def _node_ready(node, tensors):
    if not isinstance(node, dict):
        raise ValueError(f"An inbound node must be a dict with args and kwargs, got {node!r:.200}.")
    return all(ref in tensors for ref in _refs([node.get("args", []), node.get("kwargs", {})]))


def _resolve(value, tensors):
    if _is_ref(value):
        return tensors[_history(value)]
    if isinstance(value, list):
        return [_resolve(v, tensors) for v in value]
    if isinstance(value, dict):
        return {k: _resolve(v, tensors) for k, v in value.items()}
    return value


def _resolve_ends(ends, tensors):
    def one(ref):
        key = tuple(ref) if isinstance(ref, list) else None
        if key is None or len(key) != 3 or key not in tensors:
            raise ValueError(f"The model config's input/output {ref!r:.200} names no tensor "
                             f"of the graph.")
        return tensors[key]
    if isinstance(ends, list) and ends and isinstance(ends[0], list):
        return [one(r) for r in ends]
    return one(ends)


# ---- sequential models ------------------------------------------------------------------------
def sequential_config(model):
    entries = []
    if model._input_layer is not None:
        entries.append(serialize_layer(model._input_layer))
    entries.extend(serialize_layer(layer) for layer in model.layers)
    return {"name": model.name, "trainable": model.trainable, "layers": entries}


def sequential_from_config(cls, config, custom_objects=None):
    _require(config, ("layers",), "Sequential config")
    if not isinstance(config["layers"], list):
        raise ValueError("A Sequential config's layers must be a list.")
    model = cls(name=config.get("name"), trainable=config.get("trainable", True))
    for entry in config["layers"]:
        model.add(deserialize_layer(entry, custom_objects))
    return model
