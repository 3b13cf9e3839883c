"""`plot(history)` and `as_data_frame(history)`: R keras's views of a training History.

`plot` draws what R keras's ggplot2 method draws: one panel per metric (stacked, sharing the
epoch axis), training and validation points in two colours, and loess curves through them
once the fit ran 10 epochs or more. It needs matplotlib (the `plot` extra). `as_data_frame`
gives R's long table (epoch, value, metric, data), a pandas DataFrame when pandas is
installed and a list of row dicts otherwise.
"""

import math
import os

import numpy as np

# ggplot2's default hues for two groups: training, validation.
_COLOURS = {"training": "#F8766D", "validation": "#00BFC4"}
# R keras smooths (geom_smooth, loess) only from this many epochs on.
SMOOTH_MIN_EPOCHS = 10


def _epochs_axis(history):
    """The 0-based epochs of the table: those run, padded (as R does) up to the planned
    number of epochs when training stopped early."""
    if not history.epoch:
        return []
    first, last = history.epoch[0], history.epoch[-1]
    planned = (history.params or {}).get("epochs")
    end = max(last + 1, planned) if isinstance(planned, int) else last + 1
    return list(range(first, end))


def _series(history):
    """[(key, metric, data, values aligned on the epochs axis)] in the history's key order."""
    epochs = _epochs_axis(history)
    position = {e: i for i, e in enumerate(epochs)}
    epochs_of = getattr(history, "epochs_of", None) or {}
    out = []
    for key, recorded in history.history.items():
        # Keys logged on fewer epochs (validation_freq > 1) sit at the epochs they were logged.
        at = epochs_of.get(key) or history.epoch[:len(recorded)]
        validation = key.startswith("val_")
        metric = key[4:] if validation else key
        width = max((np.size(v) for v in recorded), default=1)
        # A metric with several thresholds gives one series per threshold: precision_1, ...
        for column in range(width):
            values = [math.nan] * len(epochs)
            for epoch, value in zip(at, recorded):
                values[position[epoch]] = float(np.ravel(value)[column])
            suffix = f"_{column + 1}" if width > 1 else ""
            out.append((key + suffix, metric + suffix,
                        "validation" if validation else "training", values))
    return epochs, out


def history_data_frame(history):
    """R's `as.data.frame(history)`: columns epoch (1-based), value, metric, data, one row per
    epoch of each recorded metric (NaN where a value is missing)."""
    epochs, series = _series(history)
    rows = [{"epoch": e + 1, "value": v, "metric": metric, "data": data}
            for _, metric, data, values in series for e, v in zip(epochs, values)]
    try:
        import pandas as pd
    except ImportError:
        return rows
    levels = list(dict.fromkeys(metric for _, metric, _, _ in series))
    frame = pd.DataFrame(rows, columns=["epoch", "value", "metric", "data"])
    frame["metric"] = pd.Categorical(frame["metric"], categories=levels)
    frame["data"] = pd.Categorical(frame["data"], categories=["training", "validation"])
    return frame


def loess(x, y, at, span=0.75):
    """R's loess(y ~ x, span=0.75, degree=2) evaluated directly at `at`: at each point, a
    quadratic least-squares fit to the nearest `floor(span * n)` points with tricube weights."""
    x, y, at = (np.asarray(a, dtype=np.float64) for a in (x, y, at))
    n = len(x)
    q = min(max(int(math.floor(span * n)), 3), n)
    scale = max(np.ptp(x), 1.0)
    fitted = np.empty(len(at))
    for i, x0 in enumerate(at):
        distance = np.abs(x - x0)
        reach = np.sort(distance)[q - 1]
        if span > 1:
            reach *= span
        reach = max(reach, 1e-12 * scale)
        weights = np.clip(1 - (distance / reach) ** 3, 0, None) ** 3
        u = (x - x0) / scale
        design = np.stack([np.ones(n), u, u * u], axis=1) * np.sqrt(weights)[:, None]
        coef = np.linalg.lstsq(design, y * np.sqrt(weights), rcond=None)[0]
        fitted[i] = coef[0]
    return fitted


def _metric_names(history, metrics):
    records = history.history
    available = [k for k in records if not k.startswith("val_")]
    if metrics is None:
        return available
    names = [metrics] if isinstance(metrics, str) else list(metrics)
    resolved = []
    for name in names:
        key = name[4:] if name.startswith("val_") else name
        if key not in records:
            try:  # acc <-> accuracy, as history$metrics$acc answers
                records[key]
            except KeyError:
                raise ValueError(f"plot(history): no metric {name!r} was recorded; available: "
                                 f"{', '.join(available)}.") from None
            key = next(k for k in available if records[k] is records[key])
        resolved.append(key)
    return list(dict.fromkeys(resolved))


def plot_history(history, metrics=None, smooth=None, file=None, filename=None):
    """One panel per metric with training (and validation) points and, from 10 epochs on
    (unless `smooth=False`), their loess curves. Returns the matplotlib figure; saves it
    (PNG unless the name says otherwise) to `file` when given.
    """
    file = file if file is not None else filename
    try:
        import matplotlib
        if not os.environ.get("DISPLAY") and "MPLBACKEND" not in os.environ:
            matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.lines import Line2D
        from matplotlib.ticker import MaxNLocator
    except ImportError:
        raise ImportError("plot(history) needs matplotlib: pip install 'kerasr[plot]'") from None
    if smooth not in (None, True, False):
        raise ValueError(f"smooth must be True, False or None, got {smooth!r}.")
    names = _metric_names(history, metrics)
    if not names or not history.epoch:
        raise ValueError("The history holds no metrics to plot (did fit run any epoch?).")
    epochs, series = _series(history)
    x = np.array(epochs, dtype=np.float64) + 1
    planned = (history.params or {}).get("epochs") or len(epochs)
    do_smooth = smooth is not False and planned >= SMOOTH_MIN_EPOCHS
    validated = any(data == "validation" for _, _, data, _ in series)
    figure, axes = plt.subplots(len(names), 1, sharex=True, squeeze=False,
                                figsize=(7, 1.2 + 2.2 * len(names)))
    for axis, name in zip(axes[:, 0], names):
        for key, metric, data, values in series:
            if metric != name:
                continue
            y = np.array(values)
            keep = np.isfinite(y)
            colour = _COLOURS[data] if validated else "#595959"
            if do_smooth and keep.sum() >= 4:
                grid = np.linspace(x[keep].min(), x[keep].max(), 80)  # geom_smooth's n = 80
                axis.plot(grid, loess(x[keep], y[keep], grid), color=colour, linewidth=1.2)
            axis.scatter(x[keep], y[keep], s=22, facecolor=colour if validated else "white",
                         edgecolor="black", linewidth=0.6, zorder=3, label=data)
        axis.set_ylabel(name)
        axis.grid(color="#EBEBEB")
        axis.set_facecolor("#F7F7F7")
        axis.set_axisbelow(True)
    axes[-1, 0].set_xlabel("epoch")
    axes[-1, 0].xaxis.set_major_locator(MaxNLocator(integer=True))
    if validated:
        handles = [Line2D([], [], marker="o", linestyle="-" if do_smooth else "", color=c,
                          markerfacecolor=c, markeredgecolor="black", label=label)
                   for label, c in _COLOURS.items()]
        figure.legend(handles=handles, title="data", loc="center right", frameon=False)
        figure.tight_layout(rect=(0, 0, 0.84, 1))
    else:
        figure.tight_layout()
    if file is not None:
        figure.savefig(os.fspath(file), format=None if os.path.splitext(os.fspath(file))[1]
                       else "png", dpi=100)
    return figure
