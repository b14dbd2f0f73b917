"""Iterative pruning with matched fine-tuning and the train-from-scratch baseline (Sehwag et al. 2019)."""

import keras
import numpy as np
import pytest
from keras import ops

from hdl_keras.pruning import magnitude_masks
from hdl_keras.pruning import masks_from_zeros
from hdl_keras.pruning import prune_and_finetune
from hdl_keras.pruning import train_from_scratch
from hdl_keras.testing.toy_models import small_mlp

pytestmark = pytest.mark.backend_suite

ATTACK = {"eps": 0.05, "step_size": 0.02, "steps": 2, "seed": 0}


def data(shape=(4,), num_classes=3, n=32):
    rng = np.random.default_rng(0)
    return rng.random((n,) + shape, dtype=np.float32), rng.integers(0, num_classes, n)


def tiny_cnn():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((4, 4, 1))
    x = keras.layers.Conv2D(4, 3, activation="relu", name="conv1")(inputs)
    x = keras.layers.Conv2D(4, 1, activation="relu", name="conv2")(x)
    x = keras.layers.Flatten()(x)
    return keras.Model(inputs, keras.layers.Dense(3, name="logits")(x))


def kernels(model):
    return {layer.name: ops.convert_to_numpy(layer.kernel) for layer in model.layers if hasattr(layer, "kernel")}


def test_unstructured_schedule_reaches_the_target_and_keeps_it_in_later_training():
    model = small_mlp(num_classes=3, num_features=4)
    x, y = data()
    history = prune_and_finetune(
        model,
        0.8,
        x,
        y,
        steps=2,
        epochs_per_step=1,
        objective="adversarial",
        objective_kwargs=ATTACK,
        batch_size=16,
    )
    assert [record["sparsity"] for record in history] == pytest.approx([0.4, 0.8])
    assert all(np.isfinite(record["adversarial_accuracy"]) for record in history)
    # round(0.8 * 64) = 51 of the 4x16 kernel, round(0.8 * 48) = 38 of the 16x3 one.
    zeros = {name: int((kernel == 0).sum()) for name, kernel in kernels(model).items()}
    assert sorted(zeros.values()) == [38, 51]
    model.compile(
        optimizer=keras.optimizers.SGD(0.1),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    assert sorted(int((k == 0).sum()) for k in kernels(model).values()) == [38, 51]


def test_structured_schedule_prunes_half_the_filters_of_each_layer():
    model = tiny_cnn()
    x, y = data(shape=(4, 4, 1))
    history = prune_and_finetune(
        model,
        0.5,
        x,
        y,
        structured=True,
        steps=2,
        epochs_per_step=1,
        objective="natural",
        batch_size=16,
    )
    assert [record["sparsity"] for record in history] == [0.25, 0.5]
    for name in ("conv1", "conv2"):
        layer = model.get_layer(name)
        kernel = ops.convert_to_numpy(layer.kernel)
        dead = np.all(kernel.reshape(-1, 4) == 0, axis=0)
        assert dead.sum() == 2, name
        assert np.all(ops.convert_to_numpy(layer.bias)[dead] == 0.0), name
    assert not np.any(ops.convert_to_numpy(model.get_layer("logits").kernel) == 0)


def test_pruning_without_fine_tuning_is_one_shot_pruning():
    model = small_mlp(num_classes=3, num_features=4)
    expected = magnitude_masks(model, 0.7)
    history = prune_and_finetune(model, 0.7, steps=5, objective=None)
    assert history[-1] == {"step": 5, "sparsity": 0.7}
    for path, mask in masks_from_zeros(model).items():
        np.testing.assert_array_equal(mask, expected[path])


class RecordIBPStep(keras.callbacks.Callback):
    """Records the training model's IBP step counter at the end of each epoch."""

    def __init__(self):
        super().__init__()
        self.steps = []

    def on_epoch_end(self, epoch, logs=None):
        self.steps.append(int(ops.convert_to_numpy(self.model.ibp_step)))


def test_verified_fine_tuning_continues_its_schedule_across_steps():
    model = small_mlp(num_classes=3, num_features=4)
    x, y = data()
    record = RecordIBPStep()
    history = prune_and_finetune(
        model,
        0.5,
        x,
        y,
        steps=2,
        epochs_per_step=2,
        objective="verified",
        objective_kwargs={"eps": 0.05, "eps_ramp_steps": 8},
        optimizer=keras.optimizers.Adam(0.01),
        batch_size=16,
        callbacks=[record],
    )
    # 2 batches per epoch: one schedule over both pruning steps.
    assert record.steps == [2, 4, 6, 8]
    assert [len(logs) for logs in history] == [5, 5]  # step, sparsity, 3 logs
    assert 0.0 <= history[-1]["verified_accuracy"] <= history[-1]["accuracy"]
    assert sorted(int((k == 0).sum()) for k in kernels(model).values()) == [24, 32]


@pytest.mark.parametrize("structured", [False, True])
def test_scratch_baseline_has_the_same_mask_and_fresh_weights(structured):
    pruned = tiny_cnn()
    x, y = data(shape=(4, 4, 1))
    prune_and_finetune(pruned, 0.5, structured=structured, steps=1, objective=None)
    scratch = train_from_scratch(
        pruned,
        x,
        y,
        epochs=2,
        objective="natural",
        structured=structured,
        optimizer=keras.optimizers.SGD(0.1),
        batch_size=16,
    )
    assert scratch is not pruned
    for layer in pruned.layers:
        if not hasattr(layer, "kernel"):
            continue
        old = ops.convert_to_numpy(layer.kernel)
        new = ops.convert_to_numpy(scratch.get_layer(layer.name).kernel)
        np.testing.assert_array_equal(new == 0, old == 0)
        assert not np.allclose(new[old != 0], old[old != 0])
        if structured and layer.name != "logits":
            dead = np.all(old.reshape(-1, old.shape[-1]) == 0, axis=0)
            assert np.all(ops.convert_to_numpy(scratch.get_layer(layer.name).bias)[dead] == 0)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"objective": "robust"}, "objective='robust'"),
        ({"objective": "natural", "objective_kwargs": {"eps": 0.1}}, "objective_kwargs"),
        ({"objective": "natural", "x": None}, "pass the training data"),
        ({"objective": None, "steps": 0}, "steps=0"),
        ({"objective": None, "epochs_per_step": 0}, "epochs_per_step=0"),
        ({"objective": None, "target_sparsity": 2.0}, "amount=2.0"),
    ],
)
def test_invalid_schedules_are_reported(kwargs, message):
    x, y = data()
    arguments = {"target_sparsity": 0.5, "x": x, "y": y, **kwargs}
    with pytest.raises(ValueError, match=message):
        prune_and_finetune(small_mlp(num_classes=3, num_features=4), **arguments)


def test_scratch_training_needs_an_objective():
    x, y = data()
    with pytest.raises(ValueError, match="objective=None"):
        train_from_scratch(small_mlp(num_classes=3, num_features=4), x, y, epochs=1, objective=None)
