"""Fast adversarial training: the FGSM-with-random-start settings and the RobustValidation callback."""

import keras
import numpy as np
import pytest

from hdl_keras.attacks import PGD
from hdl_keras.objectives import FAST_STEP_RATIO
from hdl_keras.objectives import PGDAdversarialTraining
from hdl_keras.objectives import RobustValidation
from hdl_keras.objectives import fast_at_settings
from hdl_keras.recipes import OneCycle
from hdl_keras.testing import assert_saved_model_round_trip
from hdl_keras.testing.toy_models import small_mlp

EPS = 0.15


def toy_data(n, seed=0):
    """2-D inputs in [0, 1]; the label is which side of 0.5 the first feature lies, 0.3 away."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    x0 = 0.5 + 0.3 * (2.0 * y - 1.0) + rng.normal(0.0, 0.03, n)
    x1 = rng.random(n)
    return np.clip(np.stack([x0, x1], axis=1), 0.0, 1.0).astype("float32"), y


def fast_model(seed=0):
    base = small_mlp(num_classes=2, num_features=2, seed=seed)
    return PGDAdversarialTraining.from_model(base, seed=seed, **fast_at_settings(EPS))


def test_fast_at_settings_are_one_fgsm_step_of_one_and_a_quarter_eps_from_a_random_start():
    settings = fast_at_settings(16 / 255)
    assert settings == {"eps": 16 / 255, "step_size": pytest.approx(1.25 * 16 / 255), "steps": 1, "random_start": True}
    assert FAST_STEP_RATIO == 1.25
    assert fast_at_settings(0.2, step_ratio=1.0)["step_size"] == pytest.approx(0.2)
    with pytest.raises(ValueError, match="eps and step_ratio must be > 0"):
        fast_at_settings(0.0)


def test_fast_training_in_fit_on_a_one_cycle_rate_makes_the_model_pgd_robust():
    x, y = toy_data(256)
    x_test, y_test = toy_data(256, seed=1)
    model = fast_model()
    assert (model.steps, model.random_start) == (1, True)
    model.compile(optimizer=keras.optimizers.Adam(OneCycle(0.05, total_steps=8 * 8)), metrics=["accuracy"])
    selection = RobustValidation((x_test[:128], y_test[:128]), eps=EPS, verbose=0)
    history = model.fit(x, y, epochs=8, batch_size=32, callbacks=[selection], verbose=0)
    logged = history.history["val_pgd_accuracy"]
    assert len(logged) == 8 and logged == [row["val_pgd_accuracy"] for row in selection.history]
    assert selection.best == max(logged) and logged[selection.best_epoch] == selection.best
    # The best epoch's weights are restored: re-measuring gives the best value (same seeded attack).
    selection._attack = None
    assert selection.robust_accuracy() == pytest.approx(selection.best)
    x_adv = PGD(model, eps=EPS, step_size=EPS / 4, steps=10, seed=0)(x_test, y_test)
    robust = np.mean(np.argmax(keras.ops.convert_to_numpy(model(x_adv)), axis=1) == y_test)
    assert robust > 0.9  # x0 is 0.3 from the boundary, so a robust classifier exists at eps 0.15
    assert selection.collapse_epoch is None


def drive(selection, accuracies, training_accuracies, model):
    """Runs the callback's epoch hooks with scripted validation and training accuracies.

    Before each epoch the weights are set to the constant `epoch + 1`, so the restored
    weights tell which epoch they come from. Returns the epochs run before a stop.
    """
    scripted = iter(accuracies)
    selection.robust_accuracy = lambda: next(scripted)
    selection.set_model(model)
    model.stop_training = False
    selection.on_train_begin()
    epochs = 0
    for epoch, training_accuracy in enumerate(training_accuracies):
        model.set_weights([np.full_like(w, epoch + 1.0) for w in model.get_weights()])
        logs = {"adversarial_accuracy": training_accuracy}
        selection.on_epoch_end(epoch, logs)
        epochs += 1
        if model.stop_training:
            break
    selection.on_train_end()
    return epochs, logs


def test_catastrophic_overfitting_is_flagged_training_stops_and_the_best_epoch_is_restored():
    model = fast_model()
    selection = RobustValidation(toy_data(8), eps=EPS, collapse_drop=0.2, verbose=0)
    with pytest.warns(UserWarning, match="Catastrophic overfitting at epoch 3"):
        epochs, logs = drive(selection, [0.6, 0.8, 0.1, 0.9], [0.5, 0.7, 0.95, 0.99], model)
    assert epochs == 3 and selection.collapse_epoch == 2
    assert logs["catastrophic_overfitting"] == 1.0 and logs["val_pgd_accuracy"] == 0.1
    assert (selection.best, selection.best_epoch) == (0.8, 1)
    assert all(np.all(w == 2.0) for w in model.get_weights())  # epoch 2's weights


def test_a_drop_without_rising_training_accuracy_is_no_collapse_and_patience_stops():
    model = fast_model()
    selection = RobustValidation(toy_data(8), eps=EPS, patience=2, verbose=0)
    epochs, logs = drive(selection, [0.8, 0.3, 0.3, 0.9], [0.7, 0.6, 0.5, 0.9], model)
    assert selection.collapse_epoch is None and logs["catastrophic_overfitting"] == 0.0
    assert epochs == 3  # two epochs without improvement after epoch 1
    assert all(np.all(w == 1.0) for w in model.get_weights())


def test_epochs_before_start_epoch_are_not_evaluated_nor_selected():
    model = fast_model()
    selection = RobustValidation(toy_data(8), eps=EPS, start_epoch=2, verbose=0)
    # Only epochs 3 and 4 are scored (0.4, 0.6): the higher scripted values are never read.
    epochs, logs = drive(selection, [0.4, 0.6, 0.99, 0.99], [0.5, 0.6, 0.7, 0.8], model)
    assert epochs == 4 and [row["epoch"] for row in selection.history] == [2, 3]
    assert (selection.best, selection.best_epoch) == (0.6, 3)
    assert all(np.all(w == 4.0) for w in model.get_weights())  # epoch 4's weights


def test_state_path_keeps_the_selection_across_a_resumed_run(tmp_path):
    model = fast_model()
    path = str(tmp_path / "best.weights.h5")
    first = RobustValidation(toy_data(8), eps=EPS, state_path=path, restore_best_weights=False, verbose=0)
    drive(first, [0.7, 0.4], [0.5, 0.5], model)
    resumed = RobustValidation(toy_data(8), eps=EPS, state_path=path, verbose=0)
    epochs, _ = drive(resumed, [0.5], [0.6], model)  # the resumed session's epoch (index 0 again)
    assert (resumed.best, resumed.best_epoch) == (0.7, 0)
    assert [row["val_pgd_accuracy"] for row in resumed.history] == [0.7, 0.4, 0.5]
    assert all(np.all(w == 1.0) for w in model.get_weights())  # the first session's best epoch


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"validation_data": (np.zeros((3, 2)), np.zeros(2))}, "as many labels as images"),
        ({"eps": 0.0}, "eps must be > 0"),
        ({"collapse_drop": 1.5}, "collapse_drop must be in"),
        ({"patience": 0}, "patience must be None or an int >= 1"),
        ({"start_epoch": -1}, "start_epoch must be an int >= 0"),
        ({"state_path": "best.h5"}, "must end with '.weights.h5'"),
    ],
)
def test_invalid_arguments_are_reported(kwargs, message):
    arguments = {"validation_data": toy_data(4), "eps": EPS, **kwargs}
    with pytest.raises(ValueError, match=message):
        RobustValidation(**arguments)


@pytest.mark.backend_suite
def test_robust_validation_config_round_trip():
    selection = RobustValidation(toy_data(4), eps=EPS, steps=5, patience=3, start_epoch=1, collapse_drop=0.3, verbose=0)
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(selection))
    assert isinstance(restored, RobustValidation)
    assert restored.get_config() == selection.get_config()
    np.testing.assert_array_equal(restored.x_val, selection.x_val)


@pytest.mark.backend_suite
def test_fast_at_model_saves_and_loads_with_its_attack_settings(tmp_path):
    x, y = toy_data(64)
    model = fast_model()
    model.compile(optimizer=keras.optimizers.Adam(OneCycle(0.01, total_steps=4)))
    model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    loaded = assert_saved_model_round_trip(model, x[:8], tmp_path)
    assert (loaded.steps, loaded.step_size, loaded.random_start) == (1, pytest.approx(1.25 * EPS), True)
