"""Regression test of the HDL sparse collapse: HDL keeps DL's accuracy at >= 50 % zero weights.

Before the fix (gates `sigmoid(beta s)` halving every fresh kernel, no
fixed-mask round: `to_masked(..., gate_scale=1.0)` and
`fit_sparse_rounds(..., fixed_mask_round=False)`) the HDL MLP below ends
more than 2 points under DL; `fit_sparse_rounds` now ends with a round at the
fixed hard mask from rewound weights and `to_masked` gives gates
`2 sigmoid(beta s)` (docs/holistic.md, benchmarks/hdl_collapse.py).
The radius is Fashion-MNIST's of Bertsimas et al. (2023, Table 2),
rho = 0.01, so the robust term itself costs little clean accuracy.
"""

import keras
import numpy as np
import pytest

from hdl_keras import data
from hdl_keras.experiments import build_model
from hdl_keras.experiments import harden_gates
from hdl_keras.experiments import prepare_data
from hdl_keras.experiments import train
from hdl_keras.measure import count_zero_weights

CONFIG = {"lr": 1e-3, "sparsity_lambda": 1e-6, "beta_bar": 200.0, "rho": 0.01}
EPOCHS, ROUNDS = 2, 3


def _train(method, x, y, x_test, y_test):
    keras.utils.set_random_seed(0)
    model = build_model(method, CONFIG, (784,), 10, network="mlp")
    if method == "DL":
        model.fit(x, y, epochs=EPOCHS * ROUNDS, batch_size=64, verbose=0)
    else:
        train(model, CONFIG, x, y, epochs=EPOCHS, batch_size=64, rounds=ROUNDS, verbose=0)
    harden_gates(model)
    predictions = np.argmax(keras.ops.convert_to_numpy(model(x_test, training=False)), axis=-1)
    zeros, total = count_zero_weights(model)
    return float(np.mean(predictions == y_test)), zeros / total


def test_hdl_training_keeps_dl_accuracy_at_half_zero_weights():
    try:
        data.load("mnist")
    except data.DatasetNotFoundError:
        pytest.skip("MNIST files not found")
    (x, y), (x_test, y_test) = prepare_data("mnist", train_subset=4096, test_subset=2000, seed=0)
    x, x_test = x.reshape(len(x), -1), x_test.reshape(len(x_test), -1)
    dl_accuracy, dl_zeros = _train("DL", x, y, x_test, y_test)
    hdl_accuracy, hdl_zeros = _train("HDL", x, y, x_test, y_test)
    assert dl_zeros == 0.0 and dl_accuracy > 0.85
    assert hdl_zeros >= 0.5
    assert hdl_accuracy >= dl_accuracy - 0.02, (hdl_accuracy, dl_accuracy, hdl_zeros)
