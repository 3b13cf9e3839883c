"""Locally connected (unshared-weights) convolution: forward, input gradient, weight gradient.

Arrays: x channels-last (batch, H, W, C) with 2 spatial axes (1-D is H = KH = 1), the kernel
in Keras 2's layout for implementation 1, (P, J, F) with P = OH*OW output positions (row-major)
and J = KH*KW*C patch entries, and the output (batch, P, F). Only "valid" padding (Keras's
only mode for this layout). The patch entry order follows the layer's data format in Keras:
(kh, kw, c) for channels-last, (c, kh, kw) for channels-first (`cin_major`).

Each position is a small dense layer: out[:, p] = patches[p] @ kernel[p]. Numba gathers the
patches (im2col, parallel over positions) and scatters their gradient back (col2im, parallel
over the batch: overlapping patches add into dx[n], owned by one thread), and numpy's stacked
matmul runs the P small products on BLAS. Measured on the 2-core box (batch 32; 32x32x3 to 64
filters 3x3, 16x16x32 to 32 filters 3x3, 1-D 100x64 to 64 filters k5): forward + both
gradients took 13-17 ms as direct Numba loops, 6-12 ms as serial gathers + BLAS; parallel
gathers gained nothing at these sizes and lost 2-3x next to multi-threaded BLAS.
"""

import numpy as np

from ._jit import njit_pair, pick, prange


def _im2col(x, k_h, k_w, sh, sw, out_w, cin_major, patches):
    # patches (P, N, J): patches[p, n] is the input patch of position p, flattened.
    n_batch, channels = x.shape[0], x.shape[3]
    for p in prange(patches.shape[0]):  # each thread fills its own positions
        oh = p // out_w
        ow = p - oh * out_w
        for n in range(n_batch):
            for kh in range(k_h):
                ih = oh * sh + kh
                for kw in range(k_w):
                    iw = ow * sw + kw
                    if cin_major:
                        for c in range(channels):
                            patches[p, n, (c * k_h + kh) * k_w + kw] = x[n, ih, iw, c]
                    else:
                        base = (kh * k_w + kw) * channels
                        for c in range(channels):
                            patches[p, n, base + c] = x[n, ih, iw, c]
    return patches


def _col2im(dpatches, k_h, k_w, sh, sw, out_w, cin_major, dx):
    # dx (N, H, W, C) = sum over positions of dpatches (P, N, J) put back where they were read.
    n_batch, height, width, channels = dx.shape
    for n in prange(n_batch):  # each thread adds into its own samples only
        for ih in range(height):
            for iw in range(width):
                for c in range(channels):
                    dx[n, ih, iw, c] = 0
        for p in range(dpatches.shape[0]):
            oh = p // out_w
            ow = p - oh * out_w
            for kh in range(k_h):
                ih = oh * sh + kh
                for kw in range(k_w):
                    iw = ow * sw + kw
                    if cin_major:
                        for c in range(channels):
                            dx[n, ih, iw, c] += dpatches[p, n, (c * k_h + kh) * k_w + kw]
                    else:
                        base = (kh * k_w + kw) * channels
                        for c in range(channels):
                            dx[n, ih, iw, c] += dpatches[p, n, base + c]
    return dx


_im2col_serial, _im2col_parallel = njit_pair(_im2col)
_col2im_serial, _col2im_parallel = njit_pair(_col2im)


# ------------------------------------------------------------ entry points


def _geometry(kernel_size, strides, out_w, cin_major):
    (k_h, k_w), (sh, sw) = kernel_size, strides
    return int(k_h), int(k_w), int(sh), int(sw), int(out_w), bool(cin_major)


def local_patches(x, kernel_size, strides, out_shape, cin_major):
    """The patches (P, batch, J) of x (batch, H, W, C) read by each of the P = OH*OW output
    positions of `out_shape` (OH, OW), flattened in the `cin_major` order."""
    (k_h, k_w), (out_h, out_w) = kernel_size, out_shape
    patches = np.empty((out_h * out_w, x.shape[0], k_h * k_w * x.shape[3]), dtype=x.dtype)
    fn = pick((_im2col_serial, _im2col_parallel), patches.size)
    return fn(np.ascontiguousarray(x), *_geometry(kernel_size, strides, out_w, cin_major), patches)


def local_forward(patches, kernel, out):
    """out (batch, P, F) = patches[p] @ kernel[p] for every position p."""
    np.copyto(out, np.swapaxes(np.matmul(patches, kernel), 0, 1))
    return out


def local_backward_weight(patches, g):
    """Gradient of the kernel (P, J, F) from the patches and the output gradient g (batch, P, F)."""
    return np.matmul(np.swapaxes(patches, 1, 2), np.ascontiguousarray(np.swapaxes(g, 0, 1)))


def local_backward_input(g, kernel, kernel_size, strides, out_w, cin_major, dx):
    """dx (batch, H, W, C) from the output gradient g (batch, P, F)."""
    dpatches = np.matmul(np.ascontiguousarray(np.swapaxes(g, 0, 1)), np.swapaxes(kernel, 1, 2))
    fn = pick((_col2im_serial, _col2im_parallel), dpatches.size)
    return fn(dpatches, *_geometry(kernel_size, strides, out_w, cin_major), dx)
