"""hdl_keras.utils.validation on numpy arrays and on tensors of the active backend."""

import keras
import numpy as np
import pytest

from hdl_keras.attacks import FGSM
from hdl_keras.attacks import PGD
from hdl_keras.testing.toy_models import small_mlp
from hdl_keras.utils import validation

X = np.linspace(0.0, 1.0, 24, dtype="float32").reshape(2, 12)
Y = np.array([0, 4])


def _tensor(x, dtype="float32"):
    return keras.ops.convert_to_tensor(np.asarray(x, dtype=dtype))


@pytest.mark.backend_suite
@pytest.mark.parametrize(
    "x, message",
    [
        (X * 255, r"expects inputs in bounds=\(0.0, 1.0\); received values in \[0, 255\]"),
        (np.where(X > 0.5, np.nan, X), "finite inputs `x`; received 12 NaN or inf values of 24"),
        (X[:0], "non-empty batch"),
    ],
)
def test_backend_tensors_are_checked_like_numpy_arrays(x, message):
    for value in (x, _tensor(x)):
        with pytest.raises(ValueError, match=message):
            validation.check_images(value, (0.0, 1.0), "PGD")


@pytest.mark.backend_suite
def test_an_attack_refuses_a_scaled_backend_tensor_instead_of_clipping_it():
    with pytest.raises(ValueError, match="PGD expects inputs in bounds"):
        PGD(small_mlp(), steps=1)(_tensor(X * 255), _tensor(Y, "int32"))


@pytest.mark.backend_suite
@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_an_attack_returns_the_dtype_it_was_given(dtype):
    x = _tensor(X, dtype)
    given = keras.backend.standardize_dtype(x.dtype)  # JAX without x64 makes float64 float32
    x_adv = FGSM(small_mlp(), eps=0.1)(x, Y)
    assert keras.backend.standardize_dtype(x_adv.dtype) == given
    delta = keras.ops.convert_to_numpy(x_adv).astype("float64") - X
    assert np.max(np.abs(delta)) <= 0.1 + (1e-3 if dtype == "float16" else 1e-6)


@pytest.mark.backend_suite
def test_labels_are_checked_against_the_model_output():
    with pytest.raises(ValueError, match=r"labels `y` in \[0, 5\).*Received: labels in \[0, 7\]"):
        FGSM(small_mlp())(X, _tensor([0, 7], "int32"))


def test_large_linf_eps_warns_and_eps_beyond_the_range_is_an_error():
    with pytest.warns(UserWarning, match="almost surely a mistake"):
        assert validation.check_eps(0.5) == 0.5
    with pytest.raises(ValueError, match="at most the input range 1"):
        validation.check_eps(2.0)
    assert validation.check_eps(2.0, norm="l2") == 2.0
    assert validation.check_eps(float("inf"), norm="l2") == float("inf")
    with pytest.raises(ValueError, match="finite number"):
        validation.check_eps(float("nan"), norm="l2")


@pytest.mark.parametrize(
    "value, kwargs, message",
    [
        (True, {}, "real number"),
        (float("inf"), {}, "finite number"),
        (-1.0, {"low": 0.0}, r"in \[0.0, inf\]"),
        (0.0, {"low": 0.0, "low_inclusive": False}, r"in \(0.0, inf\]"),
        (1.5, {"high": 1.0}, r"in \[-inf, 1.0\]"),
    ],
)
def test_check_number(value, kwargs, message):
    with pytest.raises(ValueError, match=message):
        validation.check_number(value, "x", **kwargs)


def test_models_with_several_or_non_2d_outputs_are_refused():
    inputs = keras.Input((3,))
    two = keras.Model(inputs, [keras.layers.Dense(2)(inputs), keras.layers.Dense(2)(inputs)])
    with pytest.raises(ValueError, match="with 2 outputs"):
        validation.logits_width(two)
    images = keras.Input((4, 4, 1))
    with pytest.raises(ValueError, match=r"output shape \(None, 4, 4, 2\)"):
        validation.logits_width(keras.Model(images, keras.layers.Dense(2)(images)))
    assert validation.logits_width(small_mlp(num_classes=7)) == 7


def test_input_shape_mismatch_is_named():
    with pytest.raises(ValueError, match=r"shape \(batch, 12\).*Received: x.shape=\(2, 3\)"):
        FGSM(small_mlp())(np.zeros((2, 3), "float32"), np.zeros(2, int))
