"""Thresholding, prox and projection operators against hand-computed values (Dinh et al. 2020, sec. 4)."""

import math
import re

import numpy as np
import pytest
from keras import ops

from hdl_keras.backend import input_grad
from hdl_keras.pruning import channel_norms
from hdl_keras.pruning import channel_sparsity_projection
from hdl_keras.pruning import group_hard_threshold
from hdl_keras.pruning import group_soft_threshold
from hdl_keras.pruning import hard_threshold
from hdl_keras.pruning import rgsm_prox
from hdl_keras.pruning import soft_threshold
from hdl_keras.pruning import sparsity_projection

pytestmark = pytest.mark.backend_suite

W = np.array([0.5, -0.2, 0.3, -0.9, 0.0], "float32")
# Columns (output channels) of norm 5, sqrt(0.02) ~ 0.141 and 0; rows (input channels) of
# norm sqrt(9.01) and sqrt(16.01).
M = np.array([[3.0, 0.1, 0.0], [4.0, -0.1, 0.0]], "float32")


def to_numpy(value):
    return ops.convert_to_numpy(value)


def assert_exact(actual, expected):
    actual = to_numpy(actual)
    np.testing.assert_allclose(actual, expected, rtol=1e-6, atol=0)
    # Pruned entries are exact zeros, not tiny numbers.
    assert np.array_equal(actual == 0, np.asarray(expected) == 0)


def test_hard_threshold_keeps_entries_strictly_above_the_threshold():
    assert_exact(hard_threshold(W, 0.3), [0.5, 0.0, 0.0, -0.9, 0.0])
    assert_exact(hard_threshold(W, 0.0), [0.5, -0.2, 0.3, -0.9, 0.0])
    # RVSM's threshold sqrt(2 lam / beta): lam = 0.02, beta = 1 gives 0.2.
    assert_exact(hard_threshold(W, math.sqrt(2 * 0.02 / 1.0)), [0.5, 0.0, 0.3, -0.9, 0.0])


def test_soft_threshold_shrinks_by_the_threshold():
    assert_exact(soft_threshold(W, 0.3), [0.2, 0.0, 0.0, -0.6, 0.0])
    assert_exact(soft_threshold(W, 0.1), [0.4, -0.1, 0.2, -0.8, 0.0])


def test_channel_norms_along_either_axis_and_a_zero_gradient_at_a_zero_channel():
    np.testing.assert_allclose(to_numpy(channel_norms(M)), [5.0, math.sqrt(0.02), 0.0], rtol=1e-6)
    np.testing.assert_allclose(to_numpy(channel_norms(M, axis=0)), [math.sqrt(9.01), math.sqrt(16.01)], rtol=1e-6)
    gradient = to_numpy(input_grad(lambda w: channel_norms(w), ops.convert_to_tensor(M)))
    # d||w_g||/dw_g = w_g / ||w_g||; 0 (not NaN) on the all-zero channel.
    expected = np.stack([M[:, 0] / 5.0, M[:, 1] / math.sqrt(0.02), [0.0, 0.0]], axis=1)
    np.testing.assert_allclose(gradient, expected, rtol=1e-5)


def test_group_soft_threshold_is_the_group_lasso_prox():
    # Column 0: 5 -> 4, scale 0.8; column 1 (0.141 <= 1) and column 2 become exact zeros.
    assert_exact(group_soft_threshold(M, 1.0), [[2.4, 0.0, 0.0], [3.2, 0.0, 0.0]])
    assert_exact(group_soft_threshold(M, 0.1), M * np.array([0.98, 1 - 0.1 / math.sqrt(0.02), 0.0]))


def test_group_hard_threshold_is_the_group_l0_prox():
    assert_exact(group_hard_threshold(M, 1.0), [[3.0, 0.0, 0.0], [4.0, 0.0, 0.0]])
    assert_exact(group_hard_threshold(M, 0.1), M)
    # Input channels (rows): norms 3.003 and 4.001; only the second passes 3.5.
    assert_exact(group_hard_threshold(M, 3.5, axis=0), [[0.0, 0.0, 0.0], [4.0, -0.1, 0.0]])


def test_group_operators_on_a_conv_kernel_zero_whole_filters():
    kernel = np.zeros((3, 3, 2, 4), "float32")
    kernel[..., 0] = 1.0  # norm sqrt(18)
    kernel[..., 1] = 0.01  # norm 0.0424
    kernel[0, 0, 0, 2] = -2.0  # norm 2
    kernel[..., 3] = 0.2  # norm 0.849
    expected = kernel.copy()
    expected[..., 1] = 0.0
    expected[..., 3] = 0.0
    assert_exact(group_hard_threshold(kernel, 1.0), expected)
    scales = np.array([1 - 1 / math.sqrt(18), 0.0, 0.5, 0.0], "float32")
    assert_exact(group_soft_threshold(kernel, 1.0), kernel * scales)


def test_rgsm_prox_uses_the_relaxed_lagrangian_thresholds():
    # group l0: threshold sqrt(2 * lam1 / beta) = sqrt(2 * 0.5 / 2) = 0.707.
    assert_exact(rgsm_prox(M, lam1=0.5, beta=2.0), [[3.0, 0.0, 0.0], [4.0, 0.0, 0.0]])
    assert_exact(rgsm_prox(M, lam1=0.005, beta=2.0), M)
    # group lasso: threshold lam1 / beta = 0.5 / 0.5 = 1.
    assert_exact(rgsm_prox(M, lam1=0.5, beta=0.5, penalty="group_lasso"), [[2.4, 0.0, 0.0], [3.2, 0.0, 0.0]])


def test_sparsity_projection_keeps_the_largest_magnitudes():
    w = np.array([0.5, -0.2, 0.3, -0.9], "float32")
    assert_exact(sparsity_projection(w, 0.5), [0.5, 0.0, 0.0, -0.9])
    assert_exact(sparsity_projection(w, 0.25), [0.5, 0.0, 0.3, -0.9])
    assert_exact(sparsity_projection(w, 0.0), w)
    assert_exact(sparsity_projection(w, 1.0), [0.0, 0.0, 0.0, 0.0])
    # floor(0.6 * 4) = 2 pruned; ties with the smallest kept magnitude are kept.
    ties = np.array([1.0, -1.0, 1.0, 0.5], "float32")
    assert_exact(sparsity_projection(ties, 0.6), [1.0, -1.0, 1.0, 0.0])
    matrix = np.arange(1, 7, dtype="float32").reshape(2, 3)
    assert_exact(sparsity_projection(matrix, 0.5), [[0, 0, 0], [4, 5, 6]])


def test_channel_sparsity_projection_keeps_the_channels_of_largest_norm():
    assert_exact(channel_sparsity_projection(M, 1 / 3), [[3.0, 0.1, 0.0], [4.0, -0.1, 0.0]])
    assert_exact(channel_sparsity_projection(M, 2 / 3), [[3.0, 0.0, 0.0], [4.0, 0.0, 0.0]])
    assert_exact(channel_sparsity_projection(M, 0.5, axis=0), [[0.0, 0.0, 0.0], [4.0, -0.1, 0.0]])


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: hard_threshold(W, -0.1), "threshold=-0.1"),
        (lambda: soft_threshold(W, float("nan")), "threshold=nan"),
        (lambda: group_soft_threshold(M, 1.0, axis=2), "axis=2"),
        (lambda: channel_norms(np.float32(1.0)), "axis=-1"),
        (lambda: rgsm_prox(M, 0.1, 0.0), "beta=0.0"),
        (lambda: rgsm_prox(M, 0.1, 1.0, penalty="l1"), "penalty='l1'"),
        (lambda: sparsity_projection(W, 1.5), "sparsity=1.5"),
        (lambda: channel_sparsity_projection(M, True), "sparsity=True"),
    ],
)
def test_invalid_arguments_are_reported(call, message):
    with pytest.raises(ValueError, match=re.escape("Received: " + message)):
        call()
