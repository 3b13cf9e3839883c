"""Keras's HDF5 layout (the `.h5` files of Keras 2, tf.keras and R keras), through h5py.

A whole-model file holds, at its root, the attributes `keras_version`, `backend`,
`model_config` (JSON: `{"class_name": "Sequential" | "Functional" | "Model", "config": ...}` with
Keras 2's layer configs and, for graph models, inbound nodes written as
`[[["dense_1", 0, 0, {}]]]`) and, for a compiled model, `training_config` (JSON: the optimizer's
config, the loss and the metrics); and a group `model_weights` whose attribute `layer_names`
lists the model's layers, with one group per layer whose attribute `weight_names` lists that
layer's weights (e.g. `"dense/kernel:0"`), each stored as a dataset at that path inside the
layer's group, in Keras's legacy order (trainable weights, then non-trainable ones). A
weights-only file has the same layer groups and `layer_names` at its root. Keras splits a
string-list attribute too long for one HDF5 object header into `layer_names0`,
`layer_names1`, ...

A file is untrusted input. Before anything in it is followed, the whole link tree is walked:
external links (which would open other files), soft links and user-defined links, external
and virtual datasets, datasets that are not plain numbers and absurd shapes are refused; of the
attributes only the few above are read, and only as strings. Classes named in a config are
found only among kerasr's layers, the registry and `custom_objects`; nothing is unpickled,
imported or evaluated, and Lambda layers (whose code Keras 2 stores as marshalled bytecode) are
refused unless their function is given in `custom_objects`. Writes are atomic.

"hard_sigmoid" changed meaning: Keras 2 (tf.keras 2, R keras 2) computed clip(0.2 x + 0.5, 0, 1),
Keras 3 (and kerasr's `hard_sigmoid`) clip(x / 6 + 0.5, 0, 1). The file's `keras_version` says
which: missing or "2.*" (Keras 2 and tf.keras 2, "2.2.4-tf" included) reads "hard_sigmoid" in
`activation` / `recurrent_activation` as kerasr's "hard_sigmoid_keras2"; anything else (Keras
3's legacy h5 writer puts its own "3.*" version, kerasr "kerasr <version>") as Keras 3's. kerasr
writes a model whose hard sigmoids are all Keras 2's with "hard_sigmoid" and the version
"2.x (kerasr <version>)", so that Keras 2 readers and kerasr both compute what the model computed; a
model mixing both kinds keeps the name "hard_sigmoid_keras2" (kerasr reads it back exactly;
other readers refuse the unknown name rather than compute something else).
"""

import inspect
import json
import math
import os
import warnings

import numpy as np

from ._atomic import atomic_write

INSTALL_HINT = 'pip install "kerasr[hdf5]"'
# Keras's own bound on one attribute (an HDF5 object header holds about 64 KiB).
HDF5_OBJECT_HEADER_LIMIT = 64512
_MAX_ATTRIBUTE_BYTES = 64 << 20     # model_config of a very large model stays far below
_MAX_ATTRIBUTE_ITEMS = 1 << 20
_MAX_ARRAY_BYTES = 16 << 30         # "absurd shape": no weight of a real model comes near
_MAX_NDIM = 32                      # HDF5's own limit
_MAX_LINKS = 1 << 20
_MAX_JSON_DEPTH = 200
_BACKEND = "tensorflow"             # Keras's weight layouts (not theano's flipped kernels)
_MODEL_CLASSES = ("Sequential", "Functional", "Model")
# deflate, shuffle, fletcher32, szip, nbit, scaleoffset, and h5py's bundled lzf.
_BUILTIN_FILTERS = (1, 2, 3, 4, 5, 6, 32000)


def _h5py(verb):
    try:
        import h5py
    except ImportError:
        raise ImportError(f"{verb}() reads and writes HDF5 files through h5py, which is not "
                          f"installed: {INSTALL_HINT}") from None
    return h5py


def _keras_version(keras2_activations=False):
    from .. import __version__
    # "2." first: a file whose "hard_sigmoid" means Keras 2's, by the rule load_model_hdf5
    # applies (Keras 2 readers compare the version only with "1").
    return f"2.x (kerasr {__version__})" if keras2_activations else f"kerasr {__version__}"


# Keras 2's hard sigmoid under its kerasr name, and the layer arguments that hold activations.
_KERAS2_HARD_SIGMOID = "hard_sigmoid_keras2"
_ACTIVATION_ARGUMENTS = ("activation", "recurrent_activation")


def _keras2_semantics(version):
    """Whether a file with this keras_version attribute (None: missing) is Keras 2's."""
    return version is None or (isinstance(version, str) and version.startswith("2."))


# ---- reading safely ---------------------------------------------------------------------------
def _open(h5py, filepath, verb):
    filepath = os.fspath(filepath)
    what = f"HDF5 file {filepath!r}"
    if not os.path.exists(filepath):
        raise FileNotFoundError(f"{verb}(): no file {filepath!r}.")
    return open_checked(h5py, filepath, what), what


def open_checked(h5py, source, what):
    """`source` (a path or a binary file object, e.g. `io.BytesIO` of a zip member) opened
    read-only, after `_check_tree` has walked and accepted its whole link tree."""
    try:
        handle = h5py.File(source, "r")
    except OSError as error:
        raise ValueError(f"{what} is not a readable HDF5 file ({error}).") from None
    try:
        _check_tree(h5py, handle, what)
    except BaseException:
        handle.close()
        raise
    return handle


def _check_tree(h5py, root, what):
    """Walks every link of the file without following any but hard links; refuses external,
    soft and user-defined links, objects linked twice (cycles), and datasets `_check_dataset`
    refuses."""
    seen = {_object_key(root)}
    stack = [("", root)]
    count = 0
    while stack:
        path, group = stack.pop()
        try:
            names = list(group)
        except (OSError, RuntimeError, ValueError) as error:
            raise ValueError(f"{what}: cannot list group {path or '/'!r} ({error}).") from None
        for name in names:
            count += 1
            if count > _MAX_LINKS:
                raise ValueError(f"{what} holds more than {_MAX_LINKS} objects; refused.")
            full = f"{path}/{name}"
            link = group.get(name, getlink=True)
            if isinstance(link, h5py.ExternalLink):
                raise ValueError(f"{what}: {full!r} is an HDF5 external link (to "
                                 f"{link.filename!r}); external links are refused.")
            if isinstance(link, h5py.SoftLink):
                raise ValueError(f"{what}: {full!r} is an HDF5 soft link (to {link.path!r}); "
                                 "links other than plain hard links are refused.")
            if not isinstance(link, h5py.HardLink):
                raise ValueError(f"{what}: {full!r} is an HDF5 link of an unsupported kind; "
                                 "refused.")
            try:
                obj = group[name]
            except (KeyError, OSError, RuntimeError, ValueError) as error:
                raise ValueError(f"{what}: cannot open {full!r} ({error}).") from None
            key = _object_key(obj)
            if key in seen:
                raise ValueError(f"{what}: {full!r} links to an object already seen (a cycle "
                                 "or an alias); refused.")
            seen.add(key)
            if isinstance(obj, h5py.Group):
                stack.append((full, obj))
            elif isinstance(obj, h5py.Dataset):
                _check_dataset(h5py, obj, full, what)
            else:
                raise ValueError(f"{what}: {full!r} is a {type(obj).__name__}, not a group or "
                                 "a dataset; refused.")


def _object_key(obj):
    return (obj.id.fileno, hash(obj.id))


def _check_dataset(h5py, dataset, path, what):
    if getattr(dataset, "is_virtual", False):
        raise ValueError(f"{what}: dataset {path!r} is a virtual dataset (its data lives in "
                         "other files); refused.")
    if dataset.external:
        raise ValueError(f"{what}: dataset {path!r} stores its data in external files "
                         f"({', '.join(str(e[0]) for e in dataset.external)}); refused.")
    plist = dataset.id.get_create_plist()
    filters = [plist.get_filter(i)[0] for i in range(plist.get_nfilters())]
    unknown = [f for f in filters if f not in _BUILTIN_FILTERS]
    if unknown:
        # A filter HDF5 does not build in would be looked up among dynamically loaded plugins.
        raise ValueError(f"{what}: dataset {path!r} uses HDF5 filter(s) {unknown} that are not "
                         "built into HDF5; refused.")
    dtype = dataset.dtype
    if dtype.kind not in "fiub" or dtype.fields is not None or dtype.subdtype is not None \
            or dtype.hasobject:
        raise ValueError(f"{what}: dataset {path!r} has dtype {dtype}; weights must be plain "
                         "numbers.")
    shape = dataset.shape
    if shape is None:
        raise ValueError(f"{what}: dataset {path!r} has no data space; refused.")
    if len(shape) > _MAX_NDIM or any(d < 0 for d in shape) \
            or math.prod(shape) * dtype.itemsize > _MAX_ARRAY_BYTES:
        raise ValueError(f"{what}: dataset {path!r} declares shape {shape}; refused as absurd.")


def _attribute(h5py, obj, name, what, where):
    """A string attribute (bytes, str, or a 1-D list of them), checked before it is read."""
    try:
        attr_id = obj.attrs.get_id(name)
    except KeyError:
        return None
    except (OSError, RuntimeError, ValueError) as error:
        raise ValueError(f"{what}: cannot read attribute {name!r} of {where} ({error}).") \
            from None
    dtype, shape = attr_id.dtype, attr_id.shape
    is_string = dtype.kind in "SU" or h5py.check_string_dtype(dtype) is not None
    if not is_string and dtype.kind == "f" and shape == (0,):
        return []  # Keras 3 writes an empty list of names as an empty float array
    if not is_string:
        raise ValueError(f"{what}: attribute {name!r} of {where} has dtype {dtype}; Keras's "
                         "attributes are strings.")
    if shape is None or len(shape) > 1 or (shape and shape[0] > _MAX_ATTRIBUTE_ITEMS) \
            or math.prod(shape) * dtype.itemsize > _MAX_ATTRIBUTE_BYTES:
        raise ValueError(f"{what}: attribute {name!r} of {where} is too large; refused.")
    try:
        value = obj.attrs[name]
    except (OSError, RuntimeError, ValueError, UnicodeDecodeError) as error:
        raise ValueError(f"{what}: cannot read attribute {name!r} of {where} ({error}).") \
            from None
    if isinstance(value, np.ndarray):
        if value.ndim == 0:
            return _text(value.item(), what, name, where)
        return [_text(v, what, name, where) for v in value.tolist()]
    return _text(value, what, name, where)


def _text(value, what, name, where):
    if isinstance(value, (bytes, np.bytes_)):
        try:
            return bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError(f"{what}: attribute {name!r} of {where} is not UTF-8 text.") \
                from None
    if isinstance(value, str):
        return value
    raise ValueError(f"{what}: attribute {name!r} of {where} holds a {type(value).__name__}, "
                     "not text.")


def _string_list(h5py, group, name, what, where):
    """A list attribute as Keras writes it: whole, or split into name0, name1, ..."""
    value = _attribute(h5py, group, name, what, where)
    if value is None:
        value, chunk = [], 0
        while name + str(chunk) in group.attrs:
            part = _attribute(h5py, group, name + str(chunk), what, where)
            value.extend(part if isinstance(part, list) else [part])
            chunk += 1
            if len(value) > _MAX_ATTRIBUTE_ITEMS:
                raise ValueError(f"{what}: attribute {name!r} of {where} is too large.")
        if chunk == 0:
            return None
    return value if isinstance(value, list) else [value]


def _json_attribute(h5py, f, name, what):
    text = _attribute(h5py, f, name, what, "the file")
    if text is None:
        return None
    if isinstance(text, list):
        raise ValueError(f"{what}: attribute {name!r} must be one JSON text.")
    try:
        value = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as error:
        raise ValueError(f"{what}: attribute {name!r} is not valid JSON ({error}).") from None
    _check_depth(value, what, name)
    return value


def _check_depth(value, what, name):
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > _MAX_JSON_DEPTH:
            raise ValueError(f"{what}: attribute {name!r} nests deeper than {_MAX_JSON_DEPTH} "
                             "levels; refused.")
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)


def _member(h5py, group, name, what, kind):
    """`group[name]` for a name read from the file (already link-checked), of the given kind."""
    if not isinstance(name, str) or not name or name.startswith("/") \
            or any(part in ("", ".", "..") for part in name.split("/")):
        raise ValueError(f"{what}: invalid {kind} name {name!r} in {group.name!r}.")
    try:
        obj = group[name]
    except (KeyError, OSError, RuntimeError, ValueError):
        raise ValueError(f"{what}: {group.name!r} lists {kind} {name!r}, which is missing "
                         "(a truncated or damaged file).") from None
    expected = h5py.Group if kind == "layer" else h5py.Dataset
    if not isinstance(obj, expected):
        raise ValueError(f"{what}: {kind} {name!r} in {group.name!r} is not a "
                         f"{'group' if kind == 'layer' else 'dataset'}.")
    return obj


def _check_origin(h5py, group, what):
    backend = _attribute(h5py, group, "backend", what, "the file")
    version = _attribute(h5py, group, "keras_version", what, "the file")
    if backend == "theano":
        raise ValueError(f"{what} was written with the theano backend, whose convolution "
                         "kernels are flipped; kerasr reads only TensorFlow-layout files.")
    if isinstance(version, str) and (version == "1" or version.startswith("1.")):
        raise ValueError(f"{what} was written by Keras {version}, whose weight layouts differ; "
                         "kerasr reads files from Keras 2 and later.")
    return version


# ---- weights ----------------------------------------------------------------------------------
def _saved_layers(h5py, group, what):
    """[(layer name, [weight datasets])] in the file's order (datasets not read yet)."""
    names = _string_list(h5py, group, "layer_names", what, group.name)
    if names is None:
        raise ValueError(f"{what} has no 'layer_names' attribute in {group.name!r}: not a "
                         "Keras HDF5 weights file.")
    saved = []
    for name in names:
        layer_group = _member(h5py, group, name, what, "layer")
        weight_names = _string_list(h5py, layer_group, "weight_names", what,
                                    layer_group.name) or []
        saved.append((name, [(w, _member(h5py, layer_group, w, what, "weight"))
                             for w in weight_names]))
    return saved


def _match(variables, datasets, where, what, skip_mismatch, pending, reshape=False):
    for variable, (name, dataset) in zip(variables, datasets):
        if reshape and math.prod(dataset.shape) == math.prod(variable.shape):
            pending.append((variable, dataset))     # read, then reshaped to the variable's
            continue
        if tuple(dataset.shape) != tuple(variable.shape):
            message = (f"{what}: {where}, weight {name!r} has shape {tuple(dataset.shape)} in "
                       f"the file; the model's {variable.path!r} has shape "
                       f"{tuple(variable.shape)}.")
            if skip_mismatch:
                warnings.warn(message + " Skipped (skip_mismatch=True).", stacklevel=4)
                continue
            raise ValueError(message)
        pending.append((variable, dataset))


def _read_into(pending, what):
    """Reads every matched dataset, then assigns them all (a bad read leaves the model as it
    was)."""
    values = []
    for variable, dataset in pending:
        try:
            values.append(np.asarray(dataset[()]))
        except (OSError, RuntimeError, ValueError, TypeError) as error:
            raise ValueError(f"{what}: cannot read {dataset.name!r} ({error}); the file is "
                             "truncated or damaged.") from None
    for (variable, _), value in zip(pending, values):
        variable.data[...] = value.reshape(variable.shape)


def _top_level(h5py, group, what, skip_mismatch):
    if "top_level_model_weights" not in group:
        return
    top = _member(h5py, group, "top_level_model_weights", what, "layer")
    names = _string_list(h5py, top, "weight_names", what, top.name) or []
    if names:
        message = (f"{what} holds {len(names)} top-level model weight(s); kerasr models have "
                   "none.")
        if not skip_mismatch:
            raise ValueError(message)
        warnings.warn(message + " Skipped (skip_mismatch=True).", stacklevel=3)


def _load_weights_group(h5py, group, model, what, by_name=False, skip_mismatch=False,
                        reshape=False):
    saved = _saved_layers(h5py, group, what)
    pending = []
    if by_name:
        index = {}
        for layer in model.layers:
            index.setdefault(layer.name, []).append(layer)
        for k, (name, datasets) in enumerate(saved):
            for layer in index.get(name, []):
                variables = layer.weights
                where = f"layer #{k} ({name!r})"
                if len(variables) != len(datasets):
                    message = (f"{what}: {where} holds {len(datasets)} weight(s); the model's "
                               f"layer {layer.name!r} has {len(variables)}.")
                    if skip_mismatch:
                        warnings.warn(message + " Skipped (skip_mismatch=True).", stacklevel=3)
                        continue
                    raise ValueError(message)
                _match(variables, datasets, where, what, skip_mismatch, pending, reshape)
    else:
        layers = [layer for layer in model.layers if layer.weights]
        saved = [(name, datasets) for name, datasets in saved if datasets]
        if len(layers) != len(saved):
            raise ValueError(
                f"{what} holds weights for {len(saved)} layer(s) "
                f"({', '.join(n for n, _ in saved) or 'none'}); model {model.name} has "
                f"{len(layers)} layer(s) with weights "
                f"({', '.join(layer.name for layer in layers) or 'none'}). Use by_name=TRUE to "
                "load matching layers only.")
        for k, (layer, (name, datasets)) in enumerate(zip(layers, saved)):
            variables = layer.weights
            where = f"layer #{k} ({layer.name!r} in the model, {name!r} in the file)"
            if len(variables) != len(datasets):
                raise ValueError(f"{what}: {where} has {len(datasets)} weight(s) in the file; "
                                 f"the layer expects {len(variables)}.")
            _match(variables, datasets, where, what, skip_mismatch, pending, reshape)
    _top_level(h5py, group, what, skip_mismatch)
    _read_into(pending, what)


# ---- writing ----------------------------------------------------------------------------------
def _save_string_list(group, name, items):
    """Keras's `save_attributes_to_hdf5_group`: one attribute, split into name0, name1, ...
    when it would not fit in an object header."""
    data = [item.encode("utf-8") for item in items]
    too_long = [d for d in data if len(d) > HDF5_OBJECT_HEADER_LIMIT]
    if too_long:
        raise ValueError(f"Cannot store {name}: {too_long[0][:80]!r}... is longer than "
                         f"{HDF5_OBJECT_HEADER_LIMIT} bytes.")
    array = np.array(data, dtype=bytes) if data else np.array([], dtype="S1")
    chunks = 1
    parts = np.array_split(array, chunks)
    while any(p.nbytes > HDF5_OBJECT_HEADER_LIMIT for p in parts):
        chunks += 1
        parts = np.array_split(array, chunks)
    if chunks > 1:
        for i, part in enumerate(parts):
            group.attrs[f"{name}{i}"] = part
    else:
        group.attrs[name] = array


def _weight_names(layer):
    """Keras 2's weight names ("dense/kernel:0"), unique within the layer's group and none a
    group prefix of another."""
    variables = layer.weights
    names = [f"{getattr(v, 'path', None) or v.name}:0" for v in variables]
    prefixes = {"/".join(n.split("/")[:i]) for n in names for i in range(1, n.count("/") + 1)}
    if len(set(names)) != len(names) or prefixes & set(names) \
            or any(part in ("", ".", "..") for n in names for part in n.split("/")):
        names = [f"{layer.name}/{i}_{v.name}:0" for i, v in enumerate(variables)]
    return names


def _save_weights_group(group, model, keras_version=None):
    layers = list(model.layers)
    names = [layer.name for layer in layers]
    if len(set(names)) != len(names):
        raise ValueError(f"Model {model.name} has two layers with the same name; HDF5 files "
                         "name layer groups by layer name.")
    _save_string_list(group, "layer_names", names)
    group.attrs["backend"] = _BACKEND.encode("utf-8")
    group.attrs["keras_version"] = (keras_version or _keras_version()).encode("utf-8")
    # Created in name order, as Keras does (group names then grow strictly).
    for layer in sorted(layers, key=lambda layer: layer.name):
        layer_group = group.create_group(layer.name)
        weight_names = _weight_names(layer)
        _save_string_list(layer_group, "weight_names", weight_names)
        for name, variable in zip(weight_names, layer.weights):
            layer_group.create_dataset(name, data=np.asarray(variable.data))


def _write_h5(h5py, filepath, overwrite, verb, fill):
    filepath = os.fspath(filepath)
    if not overwrite and os.path.exists(filepath):
        raise FileExistsError(f"{verb}(): {filepath!r} exists and overwrite=False.")
    with atomic_write(filepath, mode="w+b") as handle, h5py.File(handle, "w") as f:
        fill(f)


# ---- Keras 2 configs -> kerasr ----------------------------------------------------------------
# Keras 2 argument names kerasr spells differently, by class.
_RENAMES = {"LeakyReLU": {"alpha": "negative_slope"}, "InputLayer": {"batch_input_shape":
                                                                      "batch_shape"}}
# Keras 2 (tf.keras) arguments kerasr does not have, dropped when they hold the value that
# means "no effect" (any value for pure performance switches); any other value is an error.
_ANY = object()
_RECURRENT_DROPS = {"implementation": _ANY, "time_major": False, "use_cudnn": _ANY}
# Keras 3 options (its legacy HDF5 writer stores Keras 3 configs) that change nothing at these
# values, for any layer.
_KERAS3_DROPS = {"optional": False, "lora_rank": None, "lora_alpha": None,
                 "quantization_config": None}
_DROPS = {
    "InputLayer": {"sparse": (False, None), "ragged": (False, None)},
    "LSTM": _RECURRENT_DROPS, "GRU": _RECURRENT_DROPS, "SimpleRNN": _RECURRENT_DROPS,
    "ConvLSTM2D": _RECURRENT_DROPS,
    "BatchNormalization": {"renorm": False, "renorm_clipping": (None, {}),
                           "renorm_momentum": _ANY, "fused": _ANY,
                           "virtual_batch_size": None, "adjustment": None},
    "SpatialDropout1D": {"noise_shape": None}, "SpatialDropout2D": {"noise_shape": None},
    "SpatialDropout3D": {"noise_shape": None},
    "GaussianDropout": {"noise_shape": None},
    "Embedding": {"sparse": False},
}
_LAMBDA = "Lambda"


def _droppable(rule, value):
    if rule is _ANY:
        return True
    options = rule if isinstance(rule, tuple) else (rule,)
    return any(value == option and type(value) is type(option) or value is option
               for option in options)


def _accepted(cls):
    """The constructor arguments `cls` accepts (walking up while __init__ passes **kwargs on),
    or None when any name goes."""
    names = set()
    for klass in cls.__mro__:
        if "__init__" not in klass.__dict__:
            continue
        params = inspect.signature(klass.__dict__["__init__"]).parameters
        names.update(n for n, p in params.items() if n != "self" and p.kind not in
                     (p.VAR_KEYWORD, p.VAR_POSITIONAL))
        # kerasr's Layer takes **kwargs only to reject them by name.
        if not any(p.kind == p.VAR_KEYWORD for p in params.values()) \
                or klass.__module__ == "kerasr.layers.base":
            return names
    return None


class _Translator:
    """Turns a Keras 2 model config into kerasr's (Keras 3 layout) config, collecting every
    layer class kerasr does not know so that one error names them all."""

    def __init__(self, custom_objects, what, keras2_activations=True):
        self.custom_objects = custom_objects or {}
        self.what = what
        self.unknown = []
        self.keras2_activations = keras2_activations

    def find(self, class_name, layer_name):
        from .serialization import find_class
        try:
            return find_class(class_name, None, self.custom_objects)
        except ValueError:
            self.unknown.append(f"{class_name} (layer {layer_name!r})")
            return None

    def model(self, entry):
        if not isinstance(entry, dict) or not isinstance(entry.get("class_name"), str):
            raise ValueError(f"{self.what}: model_config needs a class_name and a config.")
        class_name, config = entry["class_name"], entry.get("config")
        if class_name == "Sequential":
            if isinstance(config, list):            # Keras <= 2.2.2: the list of layers
                config = {"layers": config}
            if not isinstance(config, dict) or not isinstance(config.get("layers"), list):
                raise ValueError(f"{self.what}: a Sequential config needs a list of layers.")
            layers = [self.layer(e) for e in config["layers"]]
            return {"class_name": "Sequential",
                    "config": {"name": config.get("name"), "trainable":
                               config.get("trainable", True), "layers": layers}}
        if class_name in ("Functional", "Model"):
            if not isinstance(config, dict) or not isinstance(config.get("layers"), list):
                raise ValueError(f"{self.what}: a {class_name} config needs a list of layers.")
            layers = []
            for layer_entry in config["layers"]:
                translated = self.layer(layer_entry)
                translated["name"] = layer_entry.get("name", translated["config"].get("name"))
                nodes = layer_entry.get("inbound_nodes", [])
                if not isinstance(nodes, list):
                    raise ValueError(f"{self.what}: inbound_nodes of layer "
                                     f"{translated['name']!r} must be a list.")
                translated["inbound_nodes"] = [self.node(n, translated["name"]) for n in nodes]
                layers.append(translated)
            return {"class_name": "Functional",
                    "config": {"name": config.get("name"),
                               "trainable": config.get("trainable", True), "layers": layers,
                               "input_layers": self.ends(config.get("input_layers")),
                               "output_layers": self.ends(config.get("output_layers"))}}
        raise ValueError(f"{self.what}: model class {class_name!r} is not a Keras model class "
                         f"kerasr reads ({', '.join(_MODEL_CLASSES)}).")

    def ref(self, item):
        if (not isinstance(item, list) or len(item) not in (3, 4) or not isinstance(item[0], str)
                or not all(isinstance(i, int) and not isinstance(i, bool) and i >= 0
                           for i in item[1:3])):
            raise ValueError(f"{self.what}: a tensor reference must be [layer, node, tensor"
                             f"(, kwargs)], got {item!r:.200}.")
        return {"class_name": "__keras_tensor__",
                "config": {"keras_history": [item[0], item[1], item[2]]}}

    def node(self, node, layer_name):
        if isinstance(node, dict):      # already Keras 3's {"args", "kwargs"}
            return node
        if not isinstance(node, list) or not node:
            raise ValueError(f"{self.what}: an inbound node of {layer_name!r} must be a "
                             f"non-empty list, got {node!r:.200}.")
        refs = [self.ref(item) for item in node]
        kwargs = node[0][3] if len(node[0]) == 4 else {}
        if not isinstance(kwargs, dict):
            raise ValueError(f"{self.what}: the call arguments of {layer_name!r} must be a "
                             "dict.")
        if any(isinstance(v, (list, dict)) for v in kwargs.values()):
            raise ValueError(f"{self.what}: layer {layer_name!r} is called with tensor "
                             f"arguments ({', '.join(kwargs)}), which kerasr cannot read from "
                             "a Keras 2 file.")
        return {"args": [refs[0] if len(refs) == 1 else refs], "kwargs": dict(kwargs)}

    def ends(self, ends):
        if not isinstance(ends, list) or not ends:
            raise ValueError(f"{self.what}: input_layers/output_layers must be non-empty lists.")
        if isinstance(ends[0], str):    # a single [name, node, tensor]
            ends = [ends]
        refs = []
        for item in ends:
            self.ref(item)
            refs.append([item[0], item[1], item[2]])
        return refs[0] if len(refs) == 1 else refs

    def layer(self, entry):
        if not isinstance(entry, dict) or not isinstance(entry.get("class_name"), str) \
                or not isinstance(entry.get("config", {}), dict):
            raise ValueError(f"{self.what}: a layer entry needs a class_name and a config dict, "
                             f"got {entry!r:.200}.")
        class_name = entry["class_name"]
        config = dict(entry.get("config", {}))
        name = config.get("name", entry.get("name"))
        if class_name in _MODEL_CLASSES:
            return self.model(entry)
        if class_name == _LAMBDA:
            return self.lambda_layer(config, name)
        cls = self.find(class_name, name)
        if "dtype" in config:
            config["dtype"] = self.dtype(config["dtype"], name)
        for old, new in _RENAMES.get(class_name, {}).items():
            if old in config and new not in config:
                config[new] = config.pop(old)
        for key, rule in {**_KERAS3_DROPS, **_DROPS.get(class_name, {})}.items():
            if key in config:
                if not _droppable(rule, config[key]):
                    raise ValueError(f"{self.what}: layer {name!r} ({class_name}) sets "
                                     f"{key}={config[key]!r}, which kerasr does not support.")
                del config[key]
        if class_name == "BatchNormalization" and isinstance(config.get("axis"), list) \
                and len(config["axis"]) == 1:
            config["axis"] = config["axis"][0]
        if class_name == "GRU" and "reset_after" not in config:
            config["reset_after"] = False       # GRUs older than the option had this layout
        for key in ("layer", "backward_layer"):
            if isinstance(config.get(key), dict) and "class_name" in config[key]:
                config[key] = self.layer(config[key])
        if self.keras2_activations:
            for key in _ACTIVATION_ARGUMENTS:
                if _is_hard_sigmoid(config.get(key)):
                    config[key] = _KERAS2_HARD_SIGMOID
        if cls is not None and cls.__module__.startswith("kerasr."):
            accepted = _accepted(cls)
            extra = sorted(set(config) - accepted) if accepted is not None else []
            if extra:
                raise ValueError(f"{self.what}: layer {name!r} ({class_name}) has Keras "
                                 f"argument(s) kerasr does not support: {', '.join(extra)}.")
        return {"class_name": class_name, "config": config, "registered_name": None}

    def dtype(self, dtype, name):
        if isinstance(dtype, dict):             # a mixed-precision policy
            policy = dtype.get("config", {}).get("name") if isinstance(dtype.get("config"),
                                                                        dict) else None
            if policy in ("float32", "float64", "float16"):
                return policy
            raise ValueError(f"{self.what}: layer {name!r} uses dtype policy {policy!r}; "
                             "kerasr computes in float32 or float64.")
        return dtype

    def lambda_layer(self, config, name):
        function = config.get("function")
        if config.get("function_type") == "function" and isinstance(function, str) \
                and callable(self.custom_objects.get(function)):
            return {"class_name": _LAMBDA, "registered_name": None,
                    "config": {"name": name, "function": self.custom_objects[function],
                               "arguments": config.get("arguments") or None}}
        raise ValueError(
            f"{self.what}: layer {name!r} is a Lambda layer, whose Python code a Keras 2 file "
            "stores as marshalled bytecode; kerasr never runs code from a file. Rebuild the "
            "model in code and load only its weights (load_model_weights_hdf5), or, for a "
            "named function, pass it in custom_objects={'its_name': fn}.")

    def finish(self):
        if self.unknown:
            raise ValueError(
                f"{self.what} uses layer class(es) kerasr does not have: "
                f"{', '.join(self.unknown)}. Pass custom_objects={{'ClassName': TheClass}} or "
                "register them with @register_keras_serializable().")


def _is_hard_sigmoid(value):
    """"hard_sigmoid" as an activation argument: the name, or Keras's {"class_name":
    "function", "config": "hard_sigmoid"} form of it."""
    if isinstance(value, dict):
        return value.get("class_name") == "function" and value.get("config") == "hard_sigmoid"
    return value == "hard_sigmoid"


def translate_model_config(model_config, custom_objects=None, what="model_config",
                           keras_version=None):
    """A Keras 2 or Keras 3 model config as the Keras 3 entry kerasr rebuilds: Keras 2's
    spellings translated, Keras 3's no-effect options dropped, unsupported ones refused
    (every unknown class named in one error)."""
    translator = _Translator(custom_objects, what, _keras2_semantics(keras_version))
    entry = translator.model(model_config)
    translator.finish()
    return entry


def model_from_keras2_config(model_config, custom_objects=None, what="model_config",
                             keras_version=None):
    """A kerasr model (unbuilt weights initialized) from a Keras 2 `model_config` dict;
    `keras_version`, the file's attribute (None: missing), decides what "hard_sigmoid" means
    (see the module's notes)."""
    from .serialization import find_class
    entry = translate_model_config(model_config, custom_objects, what, keras_version)
    cls = find_class(entry["class_name"], None, custom_objects)
    try:
        return cls.from_config(entry["config"], custom_objects=custom_objects)
    except TypeError as error:
        raise ValueError(f"{what}: cannot rebuild the model ({error}).") from None


# ---- kerasr configs -> Keras 2 ----------------------------------------------------------------
# Keras 3 arguments older Keras rejects, dropped when they hold their no-effect value.
_KERAS3_ONLY = {
    "BatchNormalization": {"synchronized": False},
    "LSTM": {"seed": None, "zero_output_for_mask": False},
    "GRU": {"seed": None, "zero_output_for_mask": False},
    "SimpleRNN": {"seed": None, "zero_output_for_mask": False},
    "ConvLSTM2D": {"seed": None},
    "Conv1D": {"groups": 1}, "Conv2D": {"groups": 1}, "Conv3D": {"groups": 1},
    "GlobalAveragePooling1D": {"keepdims": False}, "GlobalAveragePooling2D": {"keepdims": False},
    "GlobalAveragePooling3D": {"keepdims": False}, "GlobalMaxPooling1D": {"keepdims": False},
    "GlobalMaxPooling2D": {"keepdims": False}, "GlobalMaxPooling3D": {"keepdims": False},
    "LayerNormalization": {"rms_scaling": False},
}


def _keras2_layer(entry):
    """A kerasr layer entry ({"module", "class_name", "config", ...}) in Keras 2's form."""
    class_name = entry["class_name"]
    if class_name in ("Sequential", "Functional"):
        return _keras2_model(class_name, entry["config"])
    if class_name == _LAMBDA:
        raise ValueError("Lambda layers cannot be written to an HDF5 model file (Keras 2 would "
                         "store their code); save the weights with save_model_weights_hdf5 "
                         "and rebuild the model in code.")
    config = dict(entry["config"])
    if class_name == "InputLayer":
        config = {"batch_input_shape": config.get("batch_shape"), "dtype": config.get("dtype"),
                  "sparse": False, "ragged": False, "name": config.get("name")}
    if class_name == "LeakyReLU" and "negative_slope" in config:
        config["alpha"] = config.pop("negative_slope")
    for key, value in _KERAS3_ONLY.get(class_name, {}).items():
        if key in config and config[key] == value:
            del config[key]
    for key in ("layer", "backward_layer"):
        if isinstance(config.get(key), dict) and "class_name" in config[key]:
            config[key] = _keras2_layer(config[key])
    return {"class_name": class_name, "config": config}


def _keras2_ref(value):
    history = value["config"]["keras_history"]
    return [history[0], history[1], history[2]]


def _keras2_node(node, layer_name):
    from .serialization import _is_ref
    args, kwargs = node.get("args", []), node.get("kwargs", {})
    if len(args) != 1 or any(_refs_in(v) for v in kwargs.values()):
        raise ValueError(f"Layer {layer_name!r} is called with more than one positional "
                         "argument or with tensor keyword arguments, which the Keras 2 HDF5 "
                         "layout cannot describe.")
    inputs = args[0]
    items = inputs if isinstance(inputs, list) else [inputs]
    if not all(_is_ref(item) for item in items):
        raise ValueError(f"Layer {layer_name!r} is called on a structure the Keras 2 HDF5 "
                         "layout cannot describe.")
    return [_keras2_ref(item) + [dict(kwargs)] for item in items]


def _refs_in(value):
    from .serialization import _refs
    return bool(_refs(value))


def _keras2_model(class_name, config):
    if class_name == "Sequential":
        return {"class_name": "Sequential",
                "config": {"name": config["name"],
                           "layers": [_keras2_layer(e) for e in config["layers"]]}}
    layers = []
    for entry in config["layers"]:
        converted = _keras2_layer(entry)
        layers.append({"name": entry["name"], "class_name": converted["class_name"],
                       "config": converted["config"],
                       "inbound_nodes": [_keras2_node(n, entry["name"])
                                         for n in entry["inbound_nodes"]]})

    def ends(value):
        return [list(r) for r in value] if value and isinstance(value[0], list) \
            else [list(value)]
    return {"class_name": "Functional",
            "config": {"name": config["name"], "layers": layers,
                       "input_layers": ends(config["input_layers"]),
                       "output_layers": ends(config["output_layers"])}}


def keras2_model_config(model):
    """`model`'s architecture as Keras 2's `model_config` dict (activations by kerasr's names;
    `save_model_hdf5` writes Keras 2's hard sigmoid as "hard_sigmoid" when it can)."""
    class_name = "Sequential" if type(model).__name__ == "Sequential" else "Functional"
    if class_name == "Functional" and not hasattr(model, "_nodes"):
        raise ValueError(f"Model {model.name} is a subclassed model; the HDF5 layout holds only "
                         "Sequential and functional models (save its weights instead).")
    return _keras2_model(class_name, model.get_config())


def _activation_slots(value, found):
    """Every (layer config, argument) holding an activation, in nested layers and models too."""
    if isinstance(value, dict):
        for key in _ACTIVATION_ARGUMENTS:
            if isinstance(value.get(key), str):
                found.append((value, key))
        for item in value.values():
            _activation_slots(item, found)
    elif isinstance(value, list):
        for item in value:
            _activation_slots(item, found)
    return found


def _keras2_hard_sigmoids(model_config):
    """Renames Keras 2's hard sigmoid to "hard_sigmoid" in place when the model has no Keras 3
    "hard_sigmoid" (the file is then marked as Keras 2's); True if it did."""
    slots = _activation_slots(model_config, [])
    names = {config[key] for config, key in slots}
    if _KERAS2_HARD_SIGMOID not in names or "hard_sigmoid" in names:
        return False
    for config, key in slots:
        if config[key] == _KERAS2_HARD_SIGMOID:
            config[key] = "hard_sigmoid"
    return True


_OPTIMIZER_KERAS3_ONLY = {"weight_decay": None, "clipnorm": None, "global_clipnorm": None,
                          "clipvalue": None, "use_ema": False, "ema_momentum": 0.99,
                          "ema_overwrite_frequency": None}


def _keras2_object(entry):
    """A Keras 3 entry ({"module", "class_name", "config", "registered_name"}) as Keras 2's
    {"class_name", "config"}; a function stored by name as its name."""
    if isinstance(entry, list):
        return [_keras2_object(e) for e in entry]
    if not isinstance(entry, dict) or "class_name" not in entry:
        if isinstance(entry, dict):
            return {k: _keras2_object(v) for k, v in entry.items()}
        return entry
    from .serialization import FUNCTION
    if entry["class_name"] == FUNCTION and isinstance(entry.get("config"), str):
        return entry["config"]
    return {"class_name": entry["class_name"], "config": entry.get("config")}


def _keras2_loss(entry):
    """A built-in loss left at its defaults by its name ("categorical_crossentropy"), as
    Keras 2 writes what the user passed; anything else as {"class_name", "config"}."""
    entry = _keras2_object(entry)
    if isinstance(entry, dict) and "class_name" in entry:
        from .. import losses
        config = entry.get("config") or {}
        name = config.get("name") if isinstance(config, dict) else None
        cls = getattr(losses, entry["class_name"], None)
        try:
            default = cls().get_config() if isinstance(cls, type) else None
        except TypeError:
            default = None
        if isinstance(name, str) and default == config:
            return name
    elif isinstance(entry, dict):
        return {k: _keras2_loss(v) for k, v in entry.items()}
    return entry


def _training_config(model):
    """Keras 2's training_config for a compiled model (None when not compiled, or when its
    compile settings cannot be written as plain configs: a warning says so)."""
    from .model_file import compile_config
    try:
        compiled = compile_config(model)
    except (ValueError, TypeError) as error:
        warnings.warn(f"Model {model.name}'s compile settings cannot be written as a config "
                      f"({error}); the HDF5 file holds no training_config (compile after "
                      "loading).", stacklevel=3)
        return None
    if compiled is None or compiled.get("optimizer") is None:
        return None
    optimizer = _keras2_object(compiled["optimizer"])
    if not isinstance(optimizer, dict) or not isinstance(optimizer.get("config"), dict):
        return None
    config = dict(optimizer["config"])
    for key, value in _OPTIMIZER_KERAS3_ONLY.items():
        if key in config and config[key] == value:
            del config[key]
    config["decay"] = float(getattr(model.optimizer, "decay", 0.0) or 0.0)
    weighted = _keras2_object(compiled.get("weighted_metrics"))
    return {"optimizer_config": {"class_name": optimizer["class_name"], "config": config},
            "loss": _keras2_loss(compiled.get("loss")),
            "metrics": _keras2_object(compiled.get("metrics")),
            "weighted_metrics": weighted or None,
            "loss_weights": compiled.get("loss_weights"),
            "sample_weight_mode": None}


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray) and value.size <= 1024:
        return value.tolist()
    raise TypeError(f"{type(value).__name__} {value!r:.80} is not JSON")


def _json_bytes(value, what):
    try:
        return json.dumps(value, default=_json_default).encode("utf-8")
    except (TypeError, ValueError) as error:
        raise ValueError(f"The {what} cannot be stored as JSON ({error}).") from None


# ---- compile from a training_config -----------------------------------------------------------
_OPTIMIZER_DROPS = ("is_legacy_optimizer", "jit_compile")


def _compile(model, training_config, custom_objects, what):
    from .. import losses, optimizers
    try:
        if not isinstance(training_config, dict):
            raise ValueError("training_config is not a dict")
        spec = training_config.get("optimizer_config")
        if not isinstance(spec, dict) or not isinstance(spec.get("config", {}), dict):
            raise ValueError("no optimizer_config")
        config = dict(spec.get("config", {}))
        if "lr" in config and "learning_rate" not in config:
            config["learning_rate"] = config.pop("lr")
        for key in _OPTIMIZER_DROPS:
            config.pop(key, None)
        if not config.get("decay"):
            config.pop("decay", None)
        name = spec.get("class_name")
        optimizer = (custom_objects[name](**config) if custom_objects and name in custom_objects
                     else optimizers.get({"class_name": name, "config": config}))
        loss = _loss(training_config.get("loss"), custom_objects, losses)
        metrics = _metrics(training_config.get("metrics"))
        loss_weights = training_config.get("loss_weights")
        model.compile(optimizer=optimizer, loss=loss, metrics=metrics,
                      loss_weights=loss_weights or None)
    except (ValueError, TypeError, KeyError) as error:
        warnings.warn(f"{what}: the model was loaded but not compiled ({error}); compile it "
                      "yourself.", stacklevel=3)


def _loss(loss, custom_objects, losses):
    if isinstance(loss, str):
        return custom_objects[loss] if custom_objects and loss in custom_objects else loss
    if isinstance(loss, dict) and "class_name" in loss:
        config = dict(loss.get("config") or {})
        if config.get("reduction") == "auto":
            config["reduction"] = "sum_over_batch_size"
        return losses.get({"class_name": loss["class_name"], "config": config})
    if isinstance(loss, list):
        return [_loss(item, custom_objects, losses) for item in loss]
    if isinstance(loss, dict):
        return {k: _loss(v, custom_objects, losses) for k, v in loss.items()}
    raise ValueError(f"cannot read loss {loss!r:.100}")


def _metrics(metrics):
    def one(metric):
        if isinstance(metric, str):
            return metric
        if isinstance(metric, dict) and isinstance(metric.get("config"), dict):
            config = metric["config"]
            if metric.get("class_name") == "MeanMetricWrapper" and isinstance(config.get("fn"),
                                                                              str):
                return config["fn"]
            if isinstance(config.get("name"), str):
                return config["name"]
        raise ValueError(f"cannot read metric {metric!r:.100}")
    if metrics is None:
        return None
    if isinstance(metrics, dict):
        return {k: _metrics(v) for k, v in metrics.items()}
    if isinstance(metrics, list):
        if len(metrics) == 1 and isinstance(metrics[0], list):
            metrics = metrics[0]
        return [_metrics(m) if isinstance(m, list) else one(m) for m in metrics]
    return [one(metrics)]


# ---- the R keras verbs' implementations -------------------------------------------------------
def save_model_hdf5(model, filepath, overwrite=True, include_optimizer=True):
    """Writes `model` (Sequential or functional) in Keras's HDF5 layout, atomically."""
    h5py = _h5py("save_model_hdf5")
    config = keras2_model_config(model)
    version = _keras_version(keras2_activations=_keras2_hard_sigmoids(config))
    model_config = _json_bytes(config, "model config")
    training = _training_config(model) if include_optimizer else None
    training_bytes = _json_bytes(training, "training config") if training else None

    def fill(f):
        f.attrs["keras_version"] = version.encode("utf-8")
        f.attrs["backend"] = _BACKEND.encode("utf-8")
        f.attrs["model_config"] = model_config
        if training_bytes is not None:
            f.attrs["training_config"] = training_bytes
        _save_weights_group(f.create_group("model_weights"), model, version)
    _write_h5(h5py, filepath, overwrite, "save_model_hdf5", fill)


def load_model_hdf5(filepath, custom_objects=None, compile=True):
    """A model from a Keras HDF5 file (`model.h5` from Keras 2, tf.keras, R keras or kerasr)."""
    h5py = _h5py("load_model_hdf5")
    f, what = _open(h5py, filepath, "load_model_hdf5")
    with f:
        model_config = _json_attribute(h5py, f, "model_config", what)
        if model_config is None:
            raise ValueError(f"{what} has no model_config attribute: it holds only weights "
                             "(use load_model_weights_hdf5 on a model built in code).")
        if "model_weights" not in f:
            raise ValueError(f"{what} has no model_weights group.")
        weights = _member(h5py, f, "model_weights", what, "layer")
        version = _check_origin(h5py, f, what)
        weights_version = _check_origin(h5py, weights, what)
        model = model_from_keras2_config(
            model_config, custom_objects, what,
            keras_version=version if version is not None else weights_version)
        _load_weights_group(h5py, weights, model, what)
        training_config = _json_attribute(h5py, f, "training_config", what) if compile \
            else None
    if compile and training_config is not None:
        _compile(model, training_config, custom_objects, what)
    return model


def save_model_weights_hdf5(model, filepath, overwrite=True):
    """Writes `model`'s weights in Keras's HDF5 weights layout, atomically."""
    h5py = _h5py("save_model_weights_hdf5")
    _write_h5(h5py, filepath, overwrite, "save_model_weights_hdf5",
              lambda f: _save_weights_group(f, model))


def load_model_weights_hdf5(model, filepath, by_name=False, skip_mismatch=False, reshape=False):
    """Loads weights from a Keras HDF5 file (weights-only, or a whole-model file's
    `model_weights`) into `model`: layer by layer in order, or by layer name when `by_name`;
    `skip_mismatch` skips (with a warning) the weights whose shape (or, by name, whose count)
    differs instead of failing; `reshape` (Keras 2's option) reshapes a saved weight with the
    right number of values to the layer's shape. Returns the model."""
    h5py = _h5py("load_model_weights_hdf5")
    f, what = _open(h5py, filepath, "load_model_weights_hdf5")
    with f:
        group = f
        if "layer_names" not in f.attrs and "layer_names0" not in f.attrs \
                and "model_weights" in f:
            group = _member(h5py, f, "model_weights", what, "layer")
        _check_origin(h5py, f, what)
        _check_origin(h5py, group, what)
        _load_weights_group(h5py, group, model, what, by_name=bool(by_name),
                            skip_mismatch=bool(skip_mismatch), reshape=bool(reshape))
    return model


__all__ = ["save_model_hdf5", "load_model_hdf5", "save_model_weights_hdf5",
           "load_model_weights_hdf5", "model_from_keras2_config", "keras2_model_config"]
