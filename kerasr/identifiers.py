"""Names and identifiers: Keras's snake_case names, and turning what users pass for an initializer, regularizer, constraint, loss or optimizer
(a name, a config dict, a class, an instance or a function) into the object itself."""

import re


def snake_case(name):
    """Keras's default names: `Dense` -> `dense`, `KLDivergence` -> `kl_divergence`."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def resolve(identifier, kind, base, table, valid_names=None, accepts_functions=True,
            normalize=None):
    """The object `identifier` stands for.

    `table` maps names (and Keras class names) to classes or factories; `base` is the family's
    base class; a plain function is returned as is when `accepts_functions`. Unknown names
    raise a ValueError listing `valid_names` (default: the table's names).
    """
    if identifier is None or isinstance(identifier, base):
        return identifier
    if isinstance(identifier, str):
        return lookup(identifier, kind, table, valid_names, normalize)()
    if isinstance(identifier, dict):
        if not isinstance(identifier.get("class_name"), str) or \
                not isinstance(identifier.get("config", {}), dict):  # e.g. a hostile file
            raise ValueError(f"A {kind} config needs a class_name and a config dict, got "
                             f"{identifier!r:.200}.")
        factory = lookup(identifier["class_name"], kind, table, valid_names, normalize)
        config = identifier.get("config", {})
        return factory.from_config(config) if hasattr(factory, "from_config") else factory(**config)
    if isinstance(identifier, type) and issubclass(identifier, base):
        return identifier()
    if accepts_functions and callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret {kind} identifier: {identifier!r}.")


def lookup(name, kind, table, valid_names=None, normalize=None):
    key = normalize(name) if normalize else name
    if key not in table:
        names = valid_names if valid_names is not None else sorted(table)
        raise ValueError(f"Unknown {kind} {name!r}. Valid names: {', '.join(names)}.")
    return table[key]


def serialize(obj):
    """A config entry for an initializer, regularizer or constraint: `{"class_name", "config"}`
    for objects with a config, the value itself otherwise (None, numbers, names, functions)."""
    if hasattr(obj, "get_config") and not isinstance(obj, type):
        return {"class_name": type(obj).__name__, "config": obj.get_config()}
    return obj
