"""Sliding windows over a time series: Keras's `TimeseriesGenerator` and
`timeseries_dataset_from_array`.

Both index from 0, as Keras's Python API does (R keras's `timeseries_dataset_from_array`
shifts its `start_index` to 1-based; kerasr is Python and stays 0-based).

The Jena chapter (Deep Learning with R, section 6.3) samples, for a "current" row `r`, the
`lookback` previous steps every `step` steps and predicts the temperature `delay` steps ahead.
With Keras's generator that is::

    gen = timeseries_generator(data[:-delay], data[delay:, 1], length=lookback,
                               sampling_rate=step, start_index=min_index,
                               end_index=max_index, shuffle=True, batch_size=128)

which yields samples `data[r - lookback : r : step]` (lookback / step rows each) with target
`data[r + delay, 1]`, for `r` in [min_index + lookback, max_index]. The book's hand-written
R generator differs in one detail: it picks its `lookback / step` rows with
`seq(r - lookback, r - 1, length.out = lookback / step)`, a stride of (lookback - 1) /
(lookback / step - 1) steps (6.02 for 1440 / 6) truncated to integers, so its windows end at
`r - 1` where Keras's end at `r - step`; both see the same span of history.
The Keras 3 version (`timeseries_dataset_from_array`) is::

    timeseries_dataset_from_array(data[:-delay], targets=data[delay:, 1],
                                  sequence_length=lookback // step, sampling_rate=step, ...)

where sample `k` is `data[k : k + lookback : step]` and its target `data[k + delay, 1]`.
"""

import numpy as np

from .. import random as _random
from .sequence import check_positive_int, unwrap


def as_rectangular(value, name, function):
    """A numpy array from `value`; ragged nested lists raise a clear ValueError."""
    value = unwrap(value)
    try:
        array = np.asarray(value)
    except ValueError as error:
        raise ValueError(f"{function}(): `{name}` must be a rectangular array; got ragged input "
                         f"({error}).") from None
    if array.dtype == object:
        raise ValueError(f"{function}(): `{name}` must be a rectangular numeric array; got ragged or "
                         f"mixed-type input (object dtype).")
    if array.ndim == 0:
        raise ValueError(f"{function}(): `{name}` must have a time axis first, got a scalar.")
    return array


def _check_non_negative_int(value, name, function):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{function}(): `{name}` must be a non-negative integer, got {value!r}.")
    return int(value)


class _Batches:
    """What both window makers share: a Sequence of batches (`len`, `[i]`), one epoch per
    `for` loop, and an endless cursor (`next(gen)`, or `gen()` as the book's generator
    closures are called) that wraps round from the last batch to the first."""

    _cursor = 0

    def __iter__(self):
        for index in range(len(self)):
            yield self[index]
        self._epoch_end()

    def __next__(self):
        if self._cursor >= len(self):
            self._cursor = 0
            self._epoch_end()
        batch = self[self._cursor]
        self._cursor += 1
        return batch

    def __call__(self):
        return next(self)

    def _epoch_end(self):
        pass

    def on_epoch_end(self):
        """Keras Sequence's hook: a shuffled dataset draws its next window order."""
        self._epoch_end()

    def _check_index(self, index):
        if isinstance(index, (bool, np.bool_)) or not isinstance(index, (int, np.integer)):
            raise TypeError(f"Batch index must be an integer, got {index!r}.")
        n = len(self)
        if index < 0:
            index += n
        if not 0 <= index < n:
            raise IndexError(f"Batch index out of range: {index} (there are {n} batches).")
        return int(index)


class TimeseriesGenerator(_Batches):
    """Keras's TimeseriesGenerator: batches of `(samples, targets)`.

    Rows `r` run from `start_index + length` to `end_index` (inclusive; default the last row),
    every `stride`; a sample is `data[r - length : r : sampling_rate]` (reversed in time when
    `reverse`), its target `targets[r]`. Batches hold `batch_size` rows (the last maybe fewer).
    With `shuffle=True` each batch is `batch_size` rows drawn at random with replacement from
    the whole range (stride ignored), from kerasr's shared generator (`set_random_seed`).
    """

    def __init__(self, data, targets, length, sampling_rate=1, stride=1, start_index=0,
                 end_index=None, shuffle=False, reverse=False, batch_size=128):
        function = "timeseries_generator"
        self.data = as_rectangular(data, "data", function)
        self.targets = as_rectangular(targets, "targets", function)
        if len(self.data) != len(self.targets):
            raise ValueError(f"{function}(): data and targets must have the same length, got "
                             f"{len(self.data)} and {len(self.targets)}.")
        self.length = check_positive_int(length, "length", function)
        self.sampling_rate = check_positive_int(sampling_rate, "sampling_rate", function)
        self.stride = check_positive_int(stride, "stride", function)
        self.batch_size = check_positive_int(batch_size, "batch_size", function)
        start_index = _check_non_negative_int(start_index, "start_index", function)
        self.start_index = start_index + self.length
        if end_index is None:
            end_index = len(self.data) - 1
        self.end_index = _check_non_negative_int(end_index, "end_index", function)
        if self.end_index >= len(self.data):
            raise ValueError(f"{function}(): end_index={self.end_index} is past the last row "
                             f"({len(self.data) - 1}).")
        if self.start_index > self.end_index:
            raise ValueError(f"{function}(): start_index + length = {self.start_index} > "
                             f"end_index = {self.end_index}: no row is left to be a current step.")
        self.shuffle = bool(shuffle)
        self.reverse = bool(reverse)

    def __len__(self):
        span = self.batch_size * self.stride
        return (self.end_index - self.start_index + span) // span

    def __getitem__(self, index):
        index = self._check_index(index)
        if self.shuffle:
            rows = _random.generator().integers(self.start_index, self.end_index + 1,
                                                size=self.batch_size)
        else:
            first = self.start_index + self.batch_size * self.stride * index
            rows = np.arange(first, min(first + self.batch_size * self.stride, self.end_index + 1),
                             self.stride)
        samples = np.stack([self.data[r - self.length:r:self.sampling_rate] for r in rows])
        targets = self.targets[rows]
        if self.reverse:
            samples = samples[:, ::-1, ...]
        return samples, targets

    def __repr__(self):
        return (f"<kerasr timeseries_generator: {len(self)} batches of {self.batch_size}, "
                f"rows {self.start_index}..{self.end_index}>")


class TimeseriesDataset(_Batches):
    """Keras's timeseries_dataset_from_array, as an in-memory Sequence of batches.

    Window `k` (k = 0, sequence_stride, 2 * sequence_stride, ...) covers
    `data[start_index + k + i * sampling_rate]` for i < sequence_length; its target is
    `targets[start_index + k]`. Yields `(x, y)` batches, or `x` alone when `targets` is None;
    `batch_size=None` yields single windows.

    `shuffle=True`: the window order is a permutation drawn from `numpy.random.default_rng(seed)`
    (seed None: a seed drawn from kerasr's shared generator, so `set_random_seed` fixes it);
    every completed pass draws a new order from that generator, as tf.data reshuffles each
    epoch. The windows are Keras's; the orders are not Keras's RandomState draws.
    """

    def __init__(self, data, targets, sequence_length, sequence_stride=1, sampling_rate=1,
                 batch_size=128, shuffle=False, seed=None, start_index=None, end_index=None):
        function = "timeseries_dataset_from_array"
        self.data = as_rectangular(data, "data", function)
        self.targets = None if targets is None else as_rectangular(targets, "targets", function)
        n = len(self.data)
        self.sequence_length = check_positive_int(sequence_length, "sequence_length", function)
        self.sampling_rate = check_positive_int(sampling_rate, "sampling_rate", function)
        self.sequence_stride = check_positive_int(sequence_stride, "sequence_stride", function)
        self.batch_size = check_positive_int(batch_size, "batch_size", function, allow_none=True)
        start = 0 if start_index is None else _check_non_negative_int(start_index, "start_index",
                                                                      function)
        end = n if end_index is None else _check_non_negative_int(end_index, "end_index", function)
        # Keras's checks (it skips them for a 0 start/end; kerasr checks every given value).
        if start_index is not None and start >= n:
            raise ValueError(f"{function}(): start_index={start} must be lower than the length of "
                             f"the data ({n}).")
        if end_index is not None:
            if end <= start:
                raise ValueError(f"{function}(): end_index={end} must be higher than "
                                 f"start_index={start}.")
            if end >= n:
                raise ValueError(f"{function}(): end_index={end} must be lower than the length of "
                                 f"the data ({n}); leave it None to use every row.")
        if self.sampling_rate >= n:
            raise ValueError(f"{function}(): sampling_rate={self.sampling_rate} must be lower than "
                             f"the length of the data ({n}).")
        if self.sequence_stride >= n:
            raise ValueError(f"{function}(): sequence_stride={self.sequence_stride} must be lower "
                             f"than the length of the data ({n}).")
        self.start_index, self.end_index = start, end
        count = end - start - (self.sequence_length - 1) * self.sampling_rate
        if self.targets is not None:
            count = min(count, len(self.targets) - start)
        if count <= 0:
            raise ValueError(f"{function}(): no complete window fits: rows {start}..{end - 1} hold "
                             f"fewer than (sequence_length - 1) * sampling_rate + 1 = "
                             f"{(self.sequence_length - 1) * self.sampling_rate + 1} steps.")
        self.start_positions = np.arange(0, count, self.sequence_stride)
        self.shuffle = bool(shuffle)
        if self.shuffle:
            if seed is None:
                seed = int(_random.generator().integers(0, 2**31 - 1))
            self._rng = np.random.default_rng(seed)
            self._order = self._rng.permutation(len(self.start_positions))
        else:
            self._order = np.arange(len(self.start_positions))
        self.seed = seed
        self._offsets = np.arange(self.sequence_length) * self.sampling_rate

    @property
    def num_windows(self):
        return len(self.start_positions)

    def __len__(self):
        if self.batch_size is None:
            return self.num_windows
        return -(-self.num_windows // self.batch_size)

    def __getitem__(self, index):
        index = self._check_index(index)
        if self.batch_size is None:
            chosen = self._order[index:index + 1]
        else:
            chosen = self._order[index * self.batch_size:(index + 1) * self.batch_size]
        positions = self.start_index + self.start_positions[chosen]
        x = self.data[positions[:, None] + self._offsets]
        y = None if self.targets is None else self.targets[positions]
        if self.batch_size is None:
            x = x[0]
            y = None if y is None else y[0]
        return x if y is None else (x, y)

    def _epoch_end(self):
        if self.shuffle:
            self._order = self._rng.permutation(len(self.start_positions))

    def __repr__(self):
        return (f"<kerasr timeseries dataset: {self.num_windows} windows of "
                f"{self.sequence_length}, {len(self)} batches>")


def timeseries_dataset_from_array(data, targets, sequence_length, sequence_stride=1,
                                  sampling_rate=1, batch_size=128, shuffle=False, seed=None,
                                  start_index=None, end_index=None):
    """Sliding windows over `data` (time on axis 0) in batches: see `TimeseriesDataset`."""
    return TimeseriesDataset(data, targets, sequence_length, sequence_stride=sequence_stride,
                             sampling_rate=sampling_rate, batch_size=batch_size, shuffle=shuffle,
                             seed=seed, start_index=start_index, end_index=end_index)
