"""Accumulation kernels of the confusion-matrix metrics (AUC, precision, recall,
true/false positives/negatives).

Inputs are (n, labels) arrays: predictions (float32 or float64), targets and weights
(float64); the accumulators are float64 (thresholds, labels) arrays the kernels add to, so
a metric's state sums exactly the same way however an epoch is cut into batches.

Threading: the work per batch is a few thousand elements (a batch of 32-256 predictions),
far below what pays for a parallel region on the 2-core box (see ``_jit.PARALLEL_MIN_ELEMENTS``),
and every element adds into one shared histogram column. The parallel variant splits over
label columns only (multi-label AUC), each thread owning its column, so both variants add in
the same order and give bit-identical results.
"""

import math

import numpy as np

from ._jit import njit_pair, pick, prange


def _threshold_histogram(y_pred, y_true, weights, num_thresholds, with_epsilon, tp, fp, tn, fn):
    # Thresholds evenly spaced over [0, 1]: t_i = i / (num_thresholds - 1). A prediction p
    # exceeds t_i exactly when i <= ceil(p * (num_thresholds - 1)) - 1, its bucket, so one
    # histogram of buckets and a cumulative sum from the top give every threshold's counts
    # in O(n + num_thresholds) instead of O(n * num_thresholds). With the AUC's end
    # thresholds -epsilon and 1 + epsilon, a prediction of 0 still exceeds the first.
    n, labels = y_pred.shape
    scale = num_thresholds - 1
    for label in prange(labels):
        pos_hist = np.empty(num_thresholds, dtype=np.float64)
        neg_hist = np.empty(num_thresholds, dtype=np.float64)
        for i in range(num_thresholds):
            pos_hist[i] = 0.0
            neg_hist[i] = 0.0
        pos_total = 0.0
        neg_total = 0.0
        for k in range(n):
            w = weights[k, label]
            positive = y_true[k, label] * w
            negative = (1.0 - y_true[k, label]) * w
            pos_total += positive
            neg_total += negative
            bucket = int(math.ceil(float(y_pred[k, label]) * scale)) - 1
            if bucket < 0:
                if not with_epsilon:
                    continue  # p = 0 exceeds no threshold of [0, ..., 1]
                bucket = 0
            if bucket > num_thresholds - 1:
                bucket = num_thresholds - 1
            pos_hist[bucket] += positive
            neg_hist[bucket] += negative
        above_pos = 0.0
        above_neg = 0.0
        for i in range(num_thresholds - 1, -1, -1):
            above_pos += pos_hist[i]
            above_neg += neg_hist[i]
            tp[i, label] += above_pos
            fp[i, label] += above_neg
            fn[i, label] += pos_total - above_pos
            tn[i, label] += neg_total - above_neg
    return tp


def _threshold_compare(y_pred, y_true, weights, thresholds, tp, fp, tn, fn):
    # Any thresholds (uneven, unsorted, one or a few): compare each prediction with each.
    n, labels = y_pred.shape
    for label in prange(labels):
        for i in range(thresholds.shape[0]):
            t = thresholds[i]
            tp_i = 0.0
            fp_i = 0.0
            tn_i = 0.0
            fn_i = 0.0
            for k in range(n):
                w = weights[k, label]
                positive = y_true[k, label] * w
                negative = (1.0 - y_true[k, label]) * w
                if float(y_pred[k, label]) > t:
                    tp_i += positive
                    fp_i += negative
                else:
                    fn_i += positive
                    tn_i += negative
            tp[i, label] += tp_i
            fp[i, label] += fp_i
            tn[i, label] += tn_i
            fn[i, label] += fn_i
    return tp


_histogram_pair = njit_pair(_threshold_histogram)
_compare_pair = njit_pair(_threshold_compare)


def threshold_histogram(y_pred, y_true, weights, num_thresholds, with_epsilon, tp, fp, tn, fn):
    """Adds the weighted confusion counts at `num_thresholds` evenly spaced thresholds of
    [0, 1] (with_epsilon: the first and last moved to -epsilon and 1 + epsilon) to the
    (num_thresholds, labels) float64 accumulators tp, fp, tn, fn."""
    kernel = pick(_histogram_pair, y_pred.size)
    kernel(y_pred, y_true, weights, int(num_thresholds), bool(with_epsilon), tp, fp, tn, fn)


def threshold_compare(y_pred, y_true, weights, thresholds, tp, fp, tn, fn):
    """Adds the weighted confusion counts at each of `thresholds` (prediction > threshold
    is a predicted positive) to the (len(thresholds), labels) float64 accumulators."""
    kernel = pick(_compare_pair, y_pred.size * thresholds.shape[0])
    kernel(y_pred, y_true, weights, thresholds, tp, fp, tn, fn)
