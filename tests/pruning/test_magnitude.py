"""Magnitude pruning masks (Sehwag et al. 2019): hand-computed masks, zeros kept in training, saving."""

import keras
import numpy as np
import pytest
from keras import ops

from hdl_keras.layers import MaskedDense
from hdl_keras.pruning import MaskConstraint
from hdl_keras.pruning import apply_masks
from hdl_keras.pruning import magnitude_masks
from hdl_keras.pruning import masks_from_zeros
from hdl_keras.testing import assert_config_round_trip
from hdl_keras.testing import assert_saved_model_round_trip

pytestmark = pytest.mark.backend_suite

# XLA on jax and tensorflow (where Keras' "auto" runs a plain tf.function);
# torch runs eagerly (torch.compile takes ~10 s per model here).
JIT = keras.backend.backend() != "torch"


def two_dense_layers():
    """`2 -> 2 -> 3` dense logits with hand-set kernels (biases 0.5)."""
    inputs = keras.Input((2,))
    hidden = keras.layers.Dense(2, activation="relu", name="hidden")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(3, name="logits")(hidden))
    model.set_weights(
        [
            np.array([[1.0, -4.0], [3.0, 0.5]]),
            np.full(2, 0.5),
            np.array([[0.2, -2.0, 1.0], [-0.1, 5.0, -0.3]]),
            np.full(3, 0.5),
        ]
    )
    return model


def small_cnn():
    """Conv2D(3 filters, 1x1) -> Flatten -> Dense(2), filter l1 norms 3, 1, 2."""
    inputs = keras.Input((2, 2, 2))
    conv = keras.layers.Conv2D(3, 1, activation="relu", name="conv")(inputs)
    outputs = keras.layers.Dense(2, name="logits")(keras.layers.Flatten()(conv))
    model = keras.Model(inputs, outputs)
    kernel = np.array([[2.0, 0.5, -1.0], [-1.0, -0.5, 1.0]]).reshape(1, 1, 2, 3)
    model.get_layer("conv").set_weights([kernel, np.array([0.1, 0.2, 0.3])])
    return model


def variables(model):
    return {variable.path: variable for variable in model.weights}


def mask_of(masks, variable):
    return masks[variable.path].tolist()


def test_unstructured_layer_masks_prune_the_smallest_magnitudes_of_each_layer():
    model = two_dense_layers()
    hidden, logits = model.get_layer("hidden"), model.get_layer("logits")
    masks = magnitude_masks(model, 0.5)
    assert set(masks) == {hidden.kernel.path, logits.kernel.path}
    # |w| = 1, 4, 3, 0.5: round(0.5 * 4) = 2 go, 0.5 and 1.
    assert mask_of(masks, hidden.kernel) == [[False, True], [True, False]]
    # |w| = 0.2, 2, 1, 0.1, 5, 0.3: 3 go, 0.1, 0.2 and 0.3.
    assert mask_of(masks, logits.kernel) == [[False, True, True], [False, True, False]]


def test_unstructured_global_masks_use_one_threshold_over_all_layers():
    model = two_dense_layers()
    hidden, logits = model.get_layer("hidden"), model.get_layer("logits")
    # All 10 magnitudes: 1, 4, 3, 0.5 | 0.2, 2, 1, 0.1, 5, 0.3; 5 go: 0.1, 0.2, 0.3,
    # 0.5 and the first 1 (hidden, the earlier layer) of the tie 1 = 1.
    masks = magnitude_masks(model, 0.5, scope="global")
    assert mask_of(masks, hidden.kernel) == [[False, True], [True, False]]
    assert mask_of(masks, logits.kernel) == [[False, True, True], [False, True, False]]
    masks = magnitude_masks(model, 0.4, scope="global")
    assert mask_of(masks, hidden.kernel) == [[True, True], [True, False]]


def test_ties_prune_the_earlier_entry_in_row_major_order():
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2)])
    model.set_weights([np.array([[-1.0, 1.0], [1.0, 2.0]]), np.zeros(2)])
    masks = magnitude_masks(model, 0.5)
    assert mask_of(masks, model.layers[0].kernel) == [[False, False], [True, True]]


def test_amounts_zero_and_one_and_rounding():
    model = two_dense_layers()
    logits = model.get_layer("logits")
    assert np.all(magnitude_masks(model, 0.0)[logits.kernel.path])
    assert not np.any(magnitude_masks(model, 1.0)[logits.kernel.path])
    # round(0.25 * 6) = round(1.5) = 2: halves round up.
    assert (~magnitude_masks(model, 0.25)[logits.kernel.path]).sum() == 2


def test_structured_masks_prune_the_filters_of_smallest_l1_norm_and_keep_the_classifier():
    model = small_cnn()
    conv = model.get_layer("conv")
    masks = magnitude_masks(model, 1 / 3, structured=True)
    # The classifier's units are classes: never pruned by filter pruning.
    assert set(masks) == {conv.kernel.path, conv.bias.path}
    assert masks[conv.bias.path].tolist() == [True, False, True]
    assert masks[conv.kernel.path].reshape(2, 3).tolist() == [[True, False, True]] * 2
    # 0.9 * 3 rounds to 3, but a layer keeps its strongest filter below amount 1.
    assert magnitude_masks(model, 0.9, structured=True)[conv.bias.path].tolist() == [
        True,
        False,
        False,
    ]
    assert not np.any(magnitude_masks(model, 1.0, structured=True)[conv.bias.path])


def test_raising_the_amount_keeps_earlier_pruned_weights_pruned():
    model = two_dense_layers()
    previous = None
    for amount in (0.2, 0.4, 0.6, 0.8):
        masks = magnitude_masks(model, amount)
        apply_masks(model, masks)
        if previous is not None:
            for path, mask in masks.items():
                assert not np.any(mask & ~previous[path]), path
        previous = masks


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"amount": 1.5}, "amount=1.5"),
        ({"amount": True}, "amount=True"),
        ({"amount": 0.5, "scope": "network"}, "scope='network'"),
        ({"amount": 0.5, "structured": True, "scope": "global"}, "scope='global'"),
    ],
)
def test_invalid_arguments_are_reported(kwargs, message):
    with pytest.raises(ValueError, match=message):
        magnitude_masks(two_dense_layers(), **kwargs)


def test_models_with_learned_masks_are_refused():
    model = keras.Sequential([keras.Input((2,)), MaskedDense(2)])
    with pytest.raises(ValueError, match="export_pruned"):
        magnitude_masks(model, 0.5)


def test_apply_masks_rejects_unknown_paths_and_wrong_shapes():
    model = two_dense_layers()
    kernel = model.get_layer("hidden").kernel
    with pytest.raises(ValueError, match="not a variable"):
        apply_masks(model, {"nowhere/kernel": np.ones((2, 2), bool)})
    with pytest.raises(ValueError, match=r"shape=\(3,\)"):
        apply_masks(model, {kernel.path: np.ones(3, bool)})


def fit_briefly(model, epochs=3, jit_compile="auto", **compile_kwargs):
    rng = np.random.default_rng(0)
    x = rng.random((32,) + tuple(model.input_shape[1:]), dtype=np.float32)
    y = rng.integers(0, model.output_shape[-1], 32)
    model.compile(
        optimizer=keras.optimizers.SGD(0.1, momentum=0.9),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        jit_compile=jit_compile,
        **compile_kwargs,
    )
    model.fit(x, y, epochs=epochs, batch_size=8, verbose=0)
    return x, y


@pytest.mark.parametrize(
    "steps_per_execution",
    [
        1,
        pytest.param(
            2,
            marks=pytest.mark.skipif(
                keras.backend.backend() == "torch",
                reason="torch supports steps_per_execution=1 only",
            ),
        ),
    ],
)
def test_pruned_weights_stay_exactly_zero_during_fit(steps_per_execution):
    model = two_dense_layers()
    fit_briefly(model, epochs=1, jit_compile=JIT)  # compiled before pruning
    masks = magnitude_masks(model, 0.5)
    apply_masks(model, masks)
    before = {path: ops.convert_to_numpy(v) for path, v in variables(model).items()}
    fit_briefly(model, jit_compile=JIT, steps_per_execution=steps_per_execution)
    for path, mask in masks.items():
        after = ops.convert_to_numpy(variables(model)[path])
        assert np.all(after[~mask] == 0.0), path
        # The kept weights trained.
        assert not np.allclose(after[mask], before[path][mask]), path


def test_structured_pruning_keeps_the_bias_of_pruned_filters_zero():
    model = small_cnn()
    conv = model.get_layer("conv")
    apply_masks(model, magnitude_masks(model, 1 / 3, structured=True))
    fit_briefly(model)
    bias = ops.convert_to_numpy(conv.bias)
    assert bias[1] == 0.0 and np.all(bias[[0, 2]] != 0.0)
    assert np.all(ops.convert_to_numpy(conv.kernel)[..., 1] == 0.0)


def test_a_previous_constraint_still_applies_to_the_kept_weights():
    inputs = keras.Input((4,))
    layer = keras.layers.Dense(3, kernel_constraint=keras.constraints.NonNeg())
    model = keras.Model(inputs, layer(inputs))
    masks = magnitude_masks(model, 0.5)
    apply_masks(model, masks)
    apply_masks(model, masks)  # re-applying replaces the mask, not nests it
    assert isinstance(layer.kernel.constraint.constraint, keras.constraints.NonNeg)
    fit_briefly(model)
    kernel = ops.convert_to_numpy(layer.kernel)
    assert np.all(kernel >= 0.0)
    assert np.all(kernel[~masks[layer.kernel.path]] == 0.0)


def test_saved_pruned_model_is_plain_and_masks_come_back_from_its_zeros(tmp_path):
    model = small_cnn()
    masks = magnitude_masks(model, 1 / 3, structured=True)
    apply_masks(model, masks)
    x = np.random.default_rng(0).random((4, 2, 2, 2), dtype=np.float32)
    loaded = assert_saved_model_round_trip(model, x, tmp_path)
    assert type(loaded.get_layer("conv")) is keras.layers.Conv2D
    assert loaded.get_layer("conv").kernel.constraint is None
    recovered = masks_from_zeros(loaded, structured=True)
    assert recovered.keys() == masks.keys()
    for path, mask in masks.items():
        np.testing.assert_array_equal(recovered[path], mask)
    apply_masks(loaded, recovered)
    fit_briefly(loaded)
    assert np.all(ops.convert_to_numpy(loaded.get_layer("conv").kernel)[..., 1] == 0.0)


def test_unstructured_masks_from_zeros_are_the_nonzero_entries():
    model = two_dense_layers()
    masks = magnitude_masks(model, 0.5)
    apply_masks(model, masks)
    recovered = masks_from_zeros(model)
    for path, mask in masks.items():
        np.testing.assert_array_equal(recovered[path], mask)


def test_mask_constraint_zeroes_pruned_entries_and_round_trips():
    constraint = MaskConstraint(np.array([[True, False], [False, True]]), "non_neg")
    values = ops.convert_to_numpy(constraint(np.array([[-1.0, 2.0], [3.0, 4.0]], "float32")))
    np.testing.assert_array_equal(values, [[0.0, 0.0], [0.0, 4.0]])
    rebuilt = assert_config_round_trip(constraint)
    np.testing.assert_array_equal(rebuilt.mask, constraint.mask)
