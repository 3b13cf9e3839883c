"""Jena temperature GRU speed benchmark: kerasr, and PyTorch / Keras 3 on JAX if installed.

The first recurrent baseline of Deep Learning with R §6.3: GRU 32 over 120 steps of 14
weather features -> dense 1, rmsprop, mean absolute error, batch 128, on synthetic series.
Prints training and predict samples/s, peak memory and start-up times.

    python benchmarks/jena_gru.py
    python benchmarks/jena_gru.py --samples 2560 --epochs 1 --skip-peers
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common as C  # noqa: E402

STEPS, FEATURES, UNITS, BATCH = 120, 14, 32, 128
SEED = 42


def make_data(n, seed=SEED):
    import numpy as np

    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, STEPS, FEATURES)).astype(np.float32)
    y = (x[:, -1, 1] + 0.1 * rng.standard_normal(n)).astype(np.float32)
    return x, y


def build_kerasr():
    import kerasr as k

    k.set_random_seed(SEED)
    model = k.keras_model_sequential()
    model | k.layer_gru(units=UNITS, input_shape=(None, FEATURES)) | k.layer_dense(units=1)
    model | k.compile(optimizer="rmsprop", loss="mae")
    return k, model


def worker_torch(args):
    torch = C.torch_worker_setup(SEED)
    from torch import nn

    xn, yn = make_data(args.samples)
    x, y = torch.from_numpy(xn), torch.from_numpy(yn)

    class Baseline(nn.Module):
        def __init__(self):
            super().__init__()
            self.gru = nn.GRU(FEATURES, UNITS, batch_first=True)
            self.head = nn.Linear(UNITS, 1)

        def forward(self, series):
            _, h = self.gru(series)
            return self.head(h[-1]).squeeze(1)

    C.emit_torch(Baseline(), nn.L1Loss(), x, y, args, BATCH, BATCH)


def worker_keras_jax(args):
    keras = C.keras_worker_setup(SEED)
    from keras import layers

    x, y = make_data(args.samples)
    model = keras.Sequential([keras.Input(shape=(None, FEATURES)), layers.GRU(UNITS),
                              layers.Dense(1)])
    model.compile(optimizer="rmsprop", loss="mae")
    C.emit_keras(model, x, y, args, BATCH, BATCH)


WORKERS = {**C.kerasr_workers(build_kerasr, make_data, BATCH, BATCH),
           "torch": worker_torch, "keras-jax": worker_keras_jax}

if __name__ == "__main__":
    sys.exit(C.main(os.path.abspath(__file__),
                    f"Jena GRU {UNITS} (book §6.3), {STEPS} steps x {FEATURES} features, "
                    f"rmsprop, batch {BATCH}", WORKERS, default_samples=6400))
