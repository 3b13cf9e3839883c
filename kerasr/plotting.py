"""`plot(history)`: the training curves R keras draws after `fit` (needs the `plot` extra)."""

import os


def plot_history(history, metrics=None, filename=None):
    """One panel per metric with its validation curve; returns the matplotlib figure.

    Saves to `filename` when given; without a display (no DISPLAY, or a script), the figure
    is returned for `fig.savefig(...)`.
    """
    try:
        import matplotlib
        if not os.environ.get("DISPLAY") and "MPLBACKEND" not in os.environ:
            matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError("plot(history) needs matplotlib: pip install 'kerasr[plot]'") from None
    records = history.history
    names = [k for k in records if not k.startswith("val_")] if metrics is None else list(metrics)
    if not names:
        raise ValueError("The history holds no metrics to plot (did fit run any epoch?).")
    epochs = [e + 1 for e in history.epoch]
    figure, axes = plt.subplots(len(names), 1, sharex=True, figsize=(6, 2.4 * len(names)),
                                squeeze=False)
    for axis, name in zip(axes[:, 0], names):
        axis.plot(epochs, records[name], "o-", markersize=3, label="training")
        if "val_" + name in records:
            axis.plot(epochs, records["val_" + name], "o-", markersize=3, label="validation")
        axis.set_ylabel(name)
        axis.grid(alpha=0.3)
        axis.legend(loc="best", fontsize="small")
    axes[-1, 0].set_xlabel("epoch")
    figure.tight_layout()
    if filename is not None:
        figure.savefig(filename)
    return figure
