"""Same weights, same logits and gradients on jax, tensorflow and torch."""

import pytest

from hdl_keras.testing.parity import compare_outputs
from hdl_keras.testing.parity import run_parity

import numpy as np


def test_compare_outputs_reports_the_largest_difference():
    base = {
        "logits": np.zeros((2, 3)),
        "loss_input_grad": np.zeros((2, 4)),
        "logit_difference_grads": np.zeros((2, 3, 4)),
        "double_backprop_rel_err": np.asarray(1e-3),
    }
    other = {**base, "logits": base["logits"] + 0.5}
    report = compare_outputs({"jax": base, "torch": other}, {"tensorflow": "boom"})
    assert report["backends_ok"] == ["jax", "torch"]
    assert report["max_logit_diff"] == 0.5
    assert report["max_grad_diff"] == 0.0
    assert report["errors"] == {"tensorflow": "boom"}


@pytest.mark.parity
def test_backends_agree_on_logits_input_gradients_and_double_backprop():
    report = run_parity()
    assert report["errors"] == {}
    assert report["backends_ok"] == ["jax", "tensorflow", "torch"]
    assert report["max_logit_diff"] <= 1e-4
    assert report["max_grad_diff"] <= 1e-4
    assert report["double_backprop_rel_err"] < 1e-2
