"""MNIST MLP speed benchmark: kerasr, and PyTorch / Keras 3 on JAX if installed.

The network of Deep Learning with R §2.1: 784 -> 512 relu -> 10 softmax,
rmsprop, categorical crossentropy, batch 128, on synthetic float32 data of
MNIST's shapes (60,000 samples by default). Reports:

* training samples/s: one warm-up epoch, then the median of --epochs timed
  epochs, each ``fit(..., epochs=1, verbose=0)``;
* predict samples/s (batch 128), after a warm-up predict;
* peak memory (ru_maxrss) of the process that ran the framework;
* seconds from ``import kerasr`` to the first finished ``train_on_batch``,
  with a cold Numba cache (a fresh NUMBA_CACHE_DIR) and a warm one (the same
  directory again);
* which OpenBLAS kernel numpy (and scipy, whose BLAS Numba calls) use.

Every framework runs in its own subprocess. PyTorch (CPU, 2 threads) and
Keras 3 (KERAS_BACKEND=jax) are measured only when importable; kerasr never
depends on them.

    python benchmarks/mnist_mlp.py
    python benchmarks/mnist_mlp.py --samples 6000 --epochs 1 --skip-peers
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common as C  # noqa: E402

BATCH = 128
N_IN, N_HIDDEN, N_OUT = 784, 512, 10
SEED = 42


def make_data(n, seed=SEED):
    import numpy as np

    rng = np.random.default_rng(seed)
    x = rng.random((n, N_IN), dtype=np.float32)
    y = np.zeros((n, N_OUT), dtype=np.float32)
    y[np.arange(n), rng.integers(0, N_OUT, n)] = 1.0
    return x, y


# --- workers: each runs in its own process and emits one result -------------

def build_kerasr():
    import kerasr as k

    k.set_random_seed(SEED)
    model = k.keras_model_sequential()
    (model
     | k.layer_dense(units=N_HIDDEN, activation="relu", input_shape=N_IN)
     | k.layer_dense(units=N_OUT, activation="softmax"))
    model | k.compile(optimizer="rmsprop", loss="categorical_crossentropy")
    return k, model


def worker_torch(args):
    torch = C.torch_worker_setup(SEED)
    xn, yn = make_data(args.samples)
    x, labels = torch.from_numpy(xn), torch.from_numpy(yn.argmax(axis=1))
    model = torch.nn.Sequential(
        torch.nn.Linear(N_IN, N_HIDDEN), torch.nn.ReLU(), torch.nn.Linear(N_HIDDEN, N_OUT)
    )
    loss_fn = torch.nn.CrossEntropyLoss()  # softmax + categorical crossentropy
    C.emit_torch(model, loss_fn, x, labels, args, BATCH, BATCH,
                 finish=lambda out: torch.softmax(out, dim=1))


def worker_keras_jax(args):
    keras = C.keras_worker_setup(SEED)
    x, y = make_data(args.samples)
    model = keras.Sequential([
        keras.Input(shape=(N_IN,)),
        keras.layers.Dense(N_HIDDEN, activation="relu"),
        keras.layers.Dense(N_OUT, activation="softmax"),
    ])
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy")
    C.emit_keras(model, x, y, args, BATCH, BATCH)


WORKERS = {**C.kerasr_workers(build_kerasr, make_data, BATCH, BATCH),
           "torch": worker_torch, "keras-jax": worker_keras_jax}


if __name__ == "__main__":
    sys.exit(C.main(os.path.abspath(__file__),
                    f"MNIST MLP {N_IN}-{N_HIDDEN}-{N_OUT}, rmsprop, batch {BATCH}",
                    WORKERS, default_samples=60000))
