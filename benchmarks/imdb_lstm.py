"""IMDB LSTM speed benchmark: kerasr, and PyTorch / Keras 3 on JAX if installed.

The model of Deep Learning with R §6.2: embedding (10,000 words, 32) on reviews of 500 words
-> LSTM 32 -> dense 1 sigmoid, rmsprop, binary crossentropy, batch 128, on synthetic word
indices. Prints training and predict samples/s, peak memory and start-up times.

    python benchmarks/imdb_lstm.py
    python benchmarks/imdb_lstm.py --samples 1280 --epochs 1 --skip-peers
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common as C  # noqa: E402

MAX_FEATURES, MAX_LEN, UNITS, BATCH = 10000, 500, 32, 128
SEED = 42


def make_data(n, seed=SEED):
    import numpy as np

    rng = np.random.default_rng(seed)
    x = rng.integers(1, MAX_FEATURES, (n, MAX_LEN)).astype(np.int32)
    y = rng.integers(0, 2, n).astype(np.float32)
    return x, y


def build_kerasr():
    import kerasr as k

    k.set_random_seed(SEED)
    model = k.keras_model_sequential()
    (model
     | k.layer_embedding(input_dim=MAX_FEATURES, output_dim=32, input_length=MAX_LEN)
     | k.layer_lstm(units=UNITS)
     | k.layer_dense(units=1, activation="sigmoid"))
    model | k.compile(optimizer="rmsprop", loss="binary_crossentropy")
    return k, model


def worker_torch(args):
    torch = C.torch_worker_setup(SEED)
    from torch import nn

    xn, yn = make_data(args.samples)
    x, y = torch.from_numpy(xn.astype("int64")), torch.from_numpy(yn)

    class TextLSTM(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(MAX_FEATURES, 32)
            self.lstm = nn.LSTM(32, UNITS, batch_first=True)
            self.head = nn.Linear(UNITS, 1)

        def forward(self, words):
            _, (h, _) = self.lstm(self.embedding(words))
            return self.head(h[-1]).squeeze(1)

    C.emit_torch(TextLSTM(), nn.BCEWithLogitsLoss(), x, y, args, BATCH, BATCH,
                 finish=torch.sigmoid)


def worker_keras_jax(args):
    keras = C.keras_worker_setup(SEED)
    from keras import layers

    x, y = make_data(args.samples)
    model = keras.Sequential([
        keras.Input(shape=(MAX_LEN,), dtype="int32"),
        layers.Embedding(MAX_FEATURES, 32), layers.LSTM(UNITS),
        layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="rmsprop", loss="binary_crossentropy")
    C.emit_keras(model, x, y, args, BATCH, BATCH)


WORKERS = {**C.kerasr_workers(build_kerasr, make_data, BATCH, BATCH),
           "torch": worker_torch, "keras-jax": worker_keras_jax}

if __name__ == "__main__":
    sys.exit(C.main(os.path.abspath(__file__),
                    f"IMDB LSTM {UNITS} (book §6.2), {MAX_LEN} words, rmsprop, batch {BATCH}",
                    WORKERS, default_samples=2560))
