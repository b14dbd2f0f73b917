"""Recipe schedules (paper step decay, one-cycle), augmentation, batches and weight decay."""

import keras
import numpy as np
import pytest
from keras import ops

from hdl_keras import experiments
from hdl_keras import recipes
from hdl_keras.models import small_cnn
from hdl_keras.recipes import RECIPES
from hdl_keras.recipes import Recipe
from hdl_keras.recipes import AugmentedBatches
from hdl_keras.recipes import OneCycle
from hdl_keras.recipes import add_weight_decay
from hdl_keras.recipes import augmentation
from hdl_keras.recipes import paper_schedule
from hdl_keras.recipes.recipes import resolve_recipe_name

pytestmark = pytest.mark.backend_suite


def lr(schedule, step):
    return float(ops.convert_to_numpy(schedule(step)))


def test_paper_schedule_gives_the_paper_rates_at_the_epoch_boundaries():
    schedule = paper_schedule(steps_per_epoch=5)
    expected = {0: 0.1, 399: 0.1, 400: 0.01, 599: 0.01, 600: 1e-3, 799: 1e-3, 800: 1e-4, 999: 1e-4}
    for step, value in expected.items():
        assert lr(schedule, step) == pytest.approx(value), step


def test_paper_schedule_rejects_bad_arguments():
    with pytest.raises(ValueError, match="steps_per_epoch"):
        paper_schedule(0)
    with pytest.raises(ValueError, match="decay_epochs"):
        paper_schedule(5, decay_epochs=(120, 80))


def test_paper_recipe_scales_its_decay_epochs_to_shorter_runs():
    recipe = RECIPES["paper"]
    assert recipe.scaled_decay_epochs(200) == (80, 120, 160)
    assert recipe.scaled_decay_epochs(5) == (2, 3, 4)


def test_seed_names_are_deprecated_aliases_of_the_paper_names():
    with pytest.warns(DeprecationWarning, match="paper_schedule"):
        schedule = recipes.seed_schedule(steps_per_epoch=5)
    assert lr(schedule, 400) == pytest.approx(lr(paper_schedule(steps_per_epoch=5), 400))
    with pytest.warns(DeprecationWarning, match='schedule="paper"'):
        recipe = Recipe("old", 10, 8, schedule="seed", learning_rate=0.1, momentum=0.9, weight_decay=0.0)
    assert recipe.schedule == "paper"
    with pytest.warns(DeprecationWarning, match="'paper'"):
        assert resolve_recipe_name("seed") == "paper"
    assert resolve_recipe_name("fast") == "fast"
    assert recipes.SEED_THREAT_MODEL is recipes.PAPER_THREAT_MODEL
    assert recipes.SEED_EVALUATION is recipes.PAPER_EVALUATION
    assert recipes.SEED_TARGETS is recipes.PAPER_TARGETS
    assert experiments.SEED_GRIDS is experiments.PAPER_GRIDS
    with pytest.warns(DeprecationWarning, match="evaluate_like_paper"), pytest.raises(ValueError, match="dataset"):
        recipes.evaluate_like_seed(None, None, None, "imagenet")
    result = {
        "dataset": "mnist",
        "accuracy": {"natural": 0.5, "worst_case": 0.25},
        "num_examples": 4,
        "nattack_examples": 0,
        "settings": {"eps": 8 / 255},
        "flags": {},
    }
    with pytest.warns(DeprecationWarning, match="paper_table_markdown"):
        assert recipes.seed_table_markdown(result, "t") == recipes.paper_table_markdown(result, "t")


def test_recipe_attack_settings():
    paper = RECIPES["paper"].attack_settings()
    assert paper == pytest.approx({"eps": 8 / 255, "step_size": 2 / 255, "steps": 10, "random_start": True})
    fast = RECIPES["fast"].attack_settings(eps=0.1)
    assert fast == pytest.approx({"eps": 0.1, "step_size": 0.125, "steps": 1, "random_start": True})
    assert RECIPES["paper"].attack_settings(eps=16 / 255, steps=3)["step_size"] == pytest.approx(4 / 255)


def test_one_cycle_rises_to_its_peak_then_falls_to_the_end():
    schedule = OneCycle(0.2, total_steps=100, warmup_fraction=0.4)
    values = np.array([lr(schedule, t) for t in range(0, 121)])
    assert values[0] == pytest.approx(0.0)
    assert values[40] == pytest.approx(0.2)
    assert values.max() == pytest.approx(0.2)
    assert np.all(np.diff(values[:41]) > 0) and np.all(np.diff(values[40:101]) < 0)
    assert values[20] == pytest.approx(0.1) and values[70] == pytest.approx(0.1)
    assert np.allclose(values[100:], 0.0, atol=1e-7)


def test_one_cycle_serializes_inside_an_optimizer():
    schedule = OneCycle(0.3, total_steps=50, warmup_fraction=0.2, final_learning_rate=0.01)
    config = keras.optimizers.schedules.serialize(schedule)
    restored = keras.optimizers.schedules.deserialize(config)
    assert restored.get_config() == schedule.get_config()
    optimizer = keras.optimizers.SGD(schedule)
    restored_optimizer = keras.optimizers.deserialize(keras.optimizers.serialize(optimizer))
    assert restored_optimizer.get_config()["learning_rate"] == optimizer.get_config()["learning_rate"]
    with pytest.raises(ValueError, match="warmup_fraction"):
        OneCycle(0.2, total_steps=10, warmup_fraction=1.0)


@pytest.mark.parametrize("flip", [True, False])
def test_augmentation_keeps_shape_and_range_and_is_off_at_inference(flip):
    x = np.random.default_rng(0).random((8, 32, 32, 3)).astype("float32")
    augment = augmentation((32, 32, 3), flip=flip, seed=0)
    out = ops.convert_to_numpy(augment(x, training=True))
    assert out.shape == x.shape
    assert out.min() >= 0.0 and out.max() <= 1.0
    assert not np.allclose(out, x)
    np.testing.assert_array_equal(ops.convert_to_numpy(augment(x, training=False)), x)


def test_augmentation_moves_pixels_by_at_most_the_padding():
    x = np.zeros((16, 28, 28, 1), "float32")
    x[:, 12:16, 12:16] = 1.0  # a square 12 pixels from every border
    out = ops.convert_to_numpy(augmentation((28, 28, 1), flip=False, seed=1)(x, training=True))
    assert np.all(out.sum(axis=(1, 2, 3)) == 16)  # the square is never cut: shifts <= 4
    rows = np.argmax(out.max(axis=(2, 3)), axis=1)
    assert np.all(np.abs(rows - 12) <= 4)
    with pytest.raises(ValueError, match="padding"):
        augmentation((28, 28, 1), padding=28)


def test_augmented_batches_cover_the_data_every_epoch():
    x = np.random.default_rng(0).random((10, 8, 8, 1)).astype("float32")
    y = np.arange(10)
    batches = AugmentedBatches(x, y, batch_size=4, augment=augmentation((8, 8, 1), padding=2, seed=0), seed=0)
    assert len(batches) == 3
    for _ in range(2):
        parts = [batches[i] for i in range(len(batches))]
        assert [len(p[1]) for p in parts] == [4, 4, 2]
        assert sorted(np.concatenate([p[1] for p in parts])) == list(range(10))
        assert all(p[0].shape[1:] == (8, 8, 1) for p in parts)
        batches.on_epoch_end()


def test_add_weight_decay_is_the_l2_penalty_of_every_trainable_variable():
    model = small_cnn((8, 8, 1), filters=(2,), dense_units=4)
    add_weight_decay(model, 5e-4)
    expected = sum(2.5e-4 * float(np.sum(ops.convert_to_numpy(v) ** 2)) for v in model.trainable_variables)
    total = sum(float(ops.convert_to_numpy(loss)) for loss in model.losses)
    assert total == pytest.approx(expected, rel=1e-5)
    with pytest.raises(ValueError, match="weight_decay"):
        add_weight_decay(model, -1.0)
