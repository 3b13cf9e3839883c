"""`summary()`: Keras's table of a model's layers, output shapes and parameter counts."""

from ..layers.base import format_shape
from ..layers.core import InputLayer


def print_summary(model, line_length=None, positions=None, print_fn=None, expand_nested=False,
                  show_trainable=False):
    print_fn = print_fn or print
    sequential = hasattr(model, "add")
    rows = _rows(model, connected=not sequential)
    headers = ["Layer (type)", "Output Shape", "Param #"] + ([] if sequential else ["Connected to"])
    if show_trainable:
        headers.append("Trainable")
    widths = _widths(rows, headers, line_length, positions)
    aligns = ["<", "<", ">", "<", "<"]

    def line(cells, left, mid, right):
        texts = [f" {c:{a}{w - 2}} " for c, w, a in zip(cells, widths, aligns)]
        return left + mid.join(texts) + right

    def rule(left, mid, right, fill):
        return left + mid.join(fill * w for w in widths) + right

    out = [f'Model: "{model.name}"', rule("┏", "┳", "┓", "━"), line(headers, "┃", "┃", "┃"),
           rule("┡", "╇", "┩", "━")]
    for i, row in enumerate(rows):
        cells = row[:len(headers) - (1 if show_trainable else 0)]
        if show_trainable:
            cells = cells + [row[-1]]
        for j, sub in enumerate(_split_lines(cells)):
            out.append(line(sub, "│", "│", "│"))
        if i < len(rows) - 1:
            out.append(rule("├", "┼", "┤", "─"))
    out.append(rule("└", "┴", "┘", "─"))
    trainable, non_trainable = _count(model.trainable_weights), _count(model.non_trainable_weights)
    itemsize = _itemsize(model)
    out.append(f" Total params: {trainable + non_trainable:,} ({_bytes((trainable + non_trainable) * itemsize)})")
    out.append(f" Trainable params: {trainable:,} ({_bytes(trainable * itemsize)})")
    out.append(f" Non-trainable params: {non_trainable:,} ({_bytes(non_trainable * itemsize)})")
    for text in out:
        print_fn(text)


def _rows(model, connected):
    rows = []
    layers = model.layers
    if connected and getattr(model, "inputs", None):
        layers = [t._keras_history[0] for t in model.inputs] + [
            layer for layer in layers if not isinstance(layer, InputLayer)]
    for layer in layers:
        shape = _output_shape(layer)
        params = f"{sum(v.size for v in layer.weights):,}" if layer.built else "0 (unbuilt)"
        row = [f"{layer.name} ({type(layer).__name__})", shape, params]
        if connected:
            row.append(_connections(layer, model))
        row.append("Y" if layer.trainable else "N")
        rows.append(row)
    return rows


def _output_shape(layer):
    try:
        shape = layer.output_shape
    except AttributeError:
        return "?"
    if isinstance(shape, list):
        return "\n".join(format_shape(s) for s in shape)
    return format_shape(shape)


def _connections(layer, model):
    if isinstance(layer, InputLayer):
        return "-"
    nodes = [n for n in getattr(model, "_nodes", []) if n.layer is layer]
    names = []
    for node in nodes:
        for tensor in node.input_tensors:
            source, node_index, tensor_index = tensor._keras_history
            names.append(f"{source.name}[{node_index}][{tensor_index}]")
    return "\n".join(names) or "-"


def _split_lines(cells):
    parts = [str(c).split("\n") for c in cells]
    height = max(len(p) for p in parts)
    return [[p[i] if i < len(p) else "" for p in parts] for i in range(height)]


def _widths(rows, headers, line_length, positions):
    natural = [max([len(h)] + [len(line) for r in rows for line in str(r[i]).split("\n")]) + 2
               for i, h in enumerate(headers)]
    minimum = [33, 24, 15, 24, 11][:len(headers)]
    widths = [max(n, m) for n, m in zip(natural, minimum)]
    if positions is not None:
        total = line_length or sum(widths)
        bounds = [int(p * total) if p <= 1 else int(p) for p in positions]
        widths = [max(b - a, 4) for a, b in zip([0] + bounds[:-1], bounds)] + widths[len(bounds):]
    return widths


def _count(variables):
    return int(sum(v.size for v in variables))


def _itemsize(model):
    weights = model.weights
    return weights[0].data.itemsize if weights else 4


def _bytes(n):
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.2f} {unit}"
        n /= 1024
