"""FAB and AutoAttack: closed-form minimal perturbations, bounds, worst case, report."""

import functools

import keras
import numpy as np
import pytest
from keras import ops

from hdl_keras.attacks import FAB
from hdl_keras.attacks import AutoAttack
from hdl_keras.attacks import RobustnessReport
from hdl_keras.attacks import evaluate
from hdl_keras.attacks.fab_projections import projection_l2
from hdl_keras.attacks.fab_projections import projection_linf
from hdl_keras.testing.toy_models import small_mlp

# On jax and torch (the backend suites) a subset runs: the l_inf closed form, the projections,
# the argument checks and the l_inf AutoAttack bounds; the rest compiles too many step functions
# for the CI budget there and runs on the default backend.
backend_suite = pytest.mark.backend_suite

NUM_FEATURES = 12
NUM_CLASSES = 4


def linear_model(seed=0):
    """A 4-class affine model `W x + c` whose boundaries pass near the centre of the box.

    Returns `(model, x, y, W, logits)`: 16 inputs within 0.03 of 0.5 (so the
    minimal perturbations stay inside [0, 1]), labelled with the model's
    own predictions.
    """
    rng = np.random.default_rng(seed)
    inputs = keras.Input((NUM_FEATURES,))
    model = keras.Model(inputs, keras.layers.Dense(NUM_CLASSES)(inputs))
    weights = rng.standard_normal((NUM_FEATURES, NUM_CLASSES)).astype("float32")
    bias = -(0.5 * np.ones(NUM_FEATURES, "float32")) @ weights
    model.set_weights([weights, bias])
    x = (0.5 + rng.uniform(-0.03, 0.03, (16, NUM_FEATURES))).astype("float32")
    logits = x @ weights + bias
    return model, x, logits.argmax(axis=1), weights, logits


def minimal_distance(weights, logits, y, order):
    """Closed form: `min_k |f_k| / ||w_k - w_y||_q`, q the dual of the attack's norm."""
    rows = np.arange(len(y))
    distances = []
    for k in range(weights.shape[1]):
        gaps = np.abs(logits[:, k] - logits[rows, y])
        normals = np.linalg.norm(weights[:, [k]].T - weights[:, y].T, ord=order, axis=1)
        distances.append(np.where(k == y, np.inf, gaps / np.where(k == y, 1.0, normals)))
    return np.min(distances, axis=0)


@pytest.mark.parametrize(
    "norm, order, targets",
    [
        pytest.param("linf", 1, None, marks=backend_suite),
        ("l2", 2, None),
        ("linf", 1, NUM_CLASSES - 1),
        ("l2", 2, NUM_CLASSES - 1),
    ],
)
def test_fab_finds_the_closed_form_minimal_perturbation_of_a_linear_model(norm, order, targets):
    model, x, y, weights, logits = linear_model()
    expected = minimal_distance(weights, logits, y, order)
    attack = FAB(model, eps=1.0, norm=norm, steps=20, n_target_classes=targets)
    x_adv = ops.convert_to_numpy(attack(x, y))
    # FAB overshoots the boundary by eta = 1.05 and pulls back by beta: within 5 %.
    assert np.all(attack.norms >= expected * (1 - 1e-4))
    assert np.all(attack.norms <= expected * 1.05)
    assert np.all(np.argmax(ops.convert_to_numpy(model(x_adv)), axis=1) != y)


def test_fab_returns_the_input_where_the_minimal_perturbation_exceeds_eps():
    model, x, y, weights, logits = linear_model()
    eps = float(np.median(minimal_distance(weights, logits, y, 1)))
    attack = FAB(model, eps=eps, norm="linf", steps=20)
    x_adv = ops.convert_to_numpy(attack(x, y))
    outside = attack.norms > eps
    assert outside.any() and (~outside).any()
    np.testing.assert_array_equal(x_adv[outside], x[outside])
    assert np.all(np.abs(x_adv - x).max(axis=1) <= eps + 1e-6)


@backend_suite
def test_projections_satisfy_the_hyperplane_and_the_box():
    rng = np.random.default_rng(1)
    t = rng.uniform(0, 1, (20, 30)).astype("float32")
    w = rng.standard_normal((20, 30)).astype("float32")
    b = (t * w).sum(axis=1) + rng.uniform(-0.5, 0.5, 20).astype("float32")
    for project in (projection_linf, projection_l2):
        d = ops.convert_to_numpy(project(*map(ops.convert_to_tensor, (t, w, b))))
        assert np.all(t + d >= -1e-5) and np.all(t + d <= 1 + 1e-5)
        np.testing.assert_allclose(((t + d) * w).sum(axis=1), b, atol=1e-3)


@backend_suite
def test_fab_rejects_bad_settings():
    model = small_mlp(NUM_CLASSES)
    with pytest.raises(ValueError, match="n_target_classes"):
        FAB(model, eps=0.1, targeted=True)
    with pytest.raises(ValueError, match="alpha_max"):
        FAB(model, eps=0.1, alpha_max=2.0)


def blobs(num_classes=NUM_CLASSES, size=48, seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.uniform(0.3, 0.7, (num_classes, NUM_FEATURES))
    y = rng.integers(0, num_classes, size)
    x = np.clip(centers[y] + 0.05 * rng.standard_normal((size, NUM_FEATURES)), 0, 1)
    return x.astype("float32"), y


@functools.lru_cache(maxsize=1)
def fitted_mlp():
    x, y = blobs()
    model = small_mlp(NUM_CLASSES, seed=0)
    model.compile(
        optimizer=keras.optimizers.Adam(0.02),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    model.fit(x, y, epochs=20, batch_size=16, verbose=0)
    return model, x, y


@pytest.mark.parametrize("norm, eps", [pytest.param("linf", 0.05, marks=backend_suite), ("l2", 0.15)])
def test_autoattack_stays_in_the_ball_and_is_the_worst_case(norm, eps):
    model, x, y = fitted_mlp()
    attacks = ["apgd-ce", "apgd-t", "fab-t"]
    auto = AutoAttack(
        model, norm=norm, eps=eps, version="custom", attacks=attacks, batch_size=64, steps=5, n_target_classes=2
    )
    report = auto.run(x, y)
    x_adv = auto.adversarial
    delta = (x_adv - x).reshape(len(x), -1)
    size = np.abs(delta).max(axis=1) if norm == "linf" else np.linalg.norm(delta, axis=1)
    assert np.all(size <= eps + 1e-5)
    assert x_adv.min() >= 0.0 and x_adv.max() <= 1.0
    assert report.worst_case_accuracy <= report.clean_accuracy
    accuracies = [report.attacks[name].accuracy for name in attacks]
    assert accuracies == sorted(accuracies, reverse=True)
    assert report.worst_case_accuracy == accuracies[-1]
    # The worst-case examples fool the model exactly on the points reported broken.
    correct = np.argmax(ops.convert_to_numpy(model(x_adv)), axis=1) == y
    np.testing.assert_array_equal(correct, report.robust)
    broken_by = report.autoattack["broken_by"]
    for index, name in enumerate(broken_by):
        assert (name is None) == (report.robust[index] or not report.clean_correct[index])
        if name is not None:
            assert report.attacks[name].success[index]
    assert RobustnessReport.from_json(report.to_json()) == report


def test_standard_autoattack_through_evaluate_runs_square_last():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((6, 6, 1))
    hidden = keras.layers.Flatten()(inputs)
    model = keras.Model(inputs, keras.layers.Dense(NUM_CLASSES)(hidden))
    x = np.random.default_rng(0).uniform(0, 1, (20, 6, 6, 1)).astype("float32")
    y = np.argmax(ops.convert_to_numpy(model(x)), axis=1)
    auto = AutoAttack(model, eps=0.02, steps=5, n_queries=50, n_target_classes=2)
    report = evaluate(model, x, y, attacks=auto, verbose=0)
    assert list(report.attacks) == ["apgd-ce", "apgd-t", "fab-t", "square"]
    assert report.autoattack["version"] == "standard"
    assert report.autoattack["number_forward_passes"] == 1
    assert report.autoattack["forward_passes"] > report.autoattack["backward_passes"] > 0
    assert report.worst_case_accuracy <= report.clean_accuracy


@backend_suite
def test_autoattack_rejects_bad_configurations():
    model = small_mlp(NUM_CLASSES)
    with pytest.raises(ValueError, match="version"):
        AutoAttack(model, version="fast")
    with pytest.raises(ValueError, match="custom"):
        AutoAttack(model, version="standard", attacks=["apgd-ce"])
    with pytest.raises(ValueError, match="Unknown"):
        AutoAttack(model, version="custom", attacks=["pgd"])
    with pytest.raises(ValueError, match="linf"):
        AutoAttack(model, norm="l2", version="standard")
    with pytest.raises(ValueError, match="eps"):
        evaluate(model, np.zeros((2, NUM_FEATURES), "float32"), np.zeros(2, int), attacks="autoattack")
