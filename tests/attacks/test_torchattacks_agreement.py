"""Agreement with an independent implementation: torchattacks on the same weights.

On the torch backend a Keras model is a `torch.nn.Module`, so torchattacks
attacks the very weights ours do. Runs only with KERAS_BACKEND=torch.
"""

import keras
import numpy as np
import pytest

from hdl_keras import data
from hdl_keras.attacks import FGSM
from hdl_keras.attacks import PGD
from hdl_keras.models import small_cnn

pytestmark = [
    pytest.mark.backend_suite,
    pytest.mark.skipif(keras.backend.backend() != "torch", reason="torchattacks needs torch"),
]

NUM_EVAL = 300


@pytest.fixture(scope="module")
def trained_model_and_data():
    pytest.importorskip("torchattacks")
    try:
        (x_train, y_train), (x_test, y_test) = data.load("mnist")
    except data.DatasetNotFoundError as error:
        pytest.skip(f"MNIST not available: {error}")
    keras.utils.set_random_seed(0)
    model = small_cnn(filters=(8, 16, 32), dense_units=32)
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x_train[:3000], y_train[:3000], epochs=2, batch_size=64, verbose=0)
    return model, x_test[:NUM_EVAL], y_test[:NUM_EVAL]


def sampling_tolerance(p, n=NUM_EVAL):
    """Three binomial standard deviations of an accuracy, plus 1 %."""
    return 3 * np.sqrt(max(p * (1 - p), 0.01) / n) + 0.01


def test_fgsm_matches_torchattacks_exactly(trained_model_and_data):
    from hdl_keras.testing.torchattacks_reference import reference_attack

    model, x, y = trained_model_and_data
    ours = keras.ops.convert_to_numpy(FGSM(model, eps=0.1)(x, y))
    reference = reference_attack("FGSM", model, eps=0.1)(x, y)
    np.testing.assert_allclose(ours, reference, atol=1e-6)


@pytest.mark.parametrize("eps", [0.1, 0.2])
def test_pgd_accuracy_agrees_with_torchattacks(trained_model_and_data, eps):
    from hdl_keras.testing.torchattacks_reference import accuracy
    from hdl_keras.testing.torchattacks_reference import reference_attack

    model, x, y = trained_model_and_data
    ours = keras.ops.convert_to_numpy(PGD(model, eps=eps, step_size=eps / 4, steps=10, seed=0)(x, y))
    reference = reference_attack("PGD", model, eps=eps, alpha=eps / 4, steps=10)(x, y)
    ours_accuracy, reference_accuracy = accuracy(model, ours, y), accuracy(model, reference, y)
    assert ours_accuracy < accuracy(model, x, y)
    assert abs(ours_accuracy - reference_accuracy) <= sampling_tolerance(reference_accuracy)
