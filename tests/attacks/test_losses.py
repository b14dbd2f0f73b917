"""Attack losses: numpy references, the `get` resolver, and `Attack(loss=...)`."""

import keras
import numpy as np
import pytest
from keras import ops

from hdl_keras.attacks import PGD
from hdl_keras.attacks import losses
from hdl_keras.testing.toy_models import small_mlp

pytestmark = pytest.mark.backend_suite

NUM_FEATURES = 12


def random_logits(batch=16, num_classes=6, seed=0):
    rng = np.random.default_rng(seed)
    logits = (3.0 * rng.standard_normal((batch, num_classes))).astype("float32")
    labels = rng.integers(0, num_classes, batch)
    targets = (labels + rng.integers(1, num_classes, batch)) % num_classes
    return logits, labels, targets


def max_other(z, y):
    masked = z.copy()
    masked[np.arange(len(z)), y] = -np.inf
    return masked.max(axis=1)


def at(z, y):
    return z[np.arange(len(z)), y]


def numpy(fn, *args, **kwargs):
    return ops.convert_to_numpy(fn(*[ops.convert_to_tensor(a) for a in args], **kwargs))


def test_cross_entropy_matches_numpy():
    z, y, _ = random_logits()
    shifted = z - z.max(axis=1, keepdims=True)
    expected = -(at(shifted, y) - np.log(np.exp(shifted).sum(axis=1)))
    np.testing.assert_allclose(numpy(losses.cross_entropy, z, y), expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kappa", [0.0, 0.5, float("inf")])
def test_margins_match_numpy(kappa):
    z, y, t = random_logits(seed=1)
    np.testing.assert_allclose(
        numpy(losses.margin, z, y, kappa=kappa),
        np.minimum(max_other(z, y) - at(z, y), kappa),
        rtol=1e-6,
    )
    np.testing.assert_allclose(
        numpy(losses.targeted_margin, z, t, kappa=kappa),
        np.minimum(at(z, t) - max_other(z, t), kappa),
        rtol=1e-6,
    )


def test_dlr_and_targeted_dlr_match_numpy():
    z, y, t = random_logits(seed=2)
    top = -np.sort(-z, axis=1)
    dlr = -(at(z, y) - max_other(z, y)) / (top[:, 0] - top[:, 2] + 1e-12)
    targeted = -(at(z, y) - at(z, t)) / (top[:, 0] - 0.5 * (top[:, 2] + top[:, 3]) + 1e-12)
    np.testing.assert_allclose(numpy(losses.dlr, z, y), dlr, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(numpy(losses.targeted_dlr, z, y, t), targeted, rtol=1e-5, atol=1e-6)


def test_dlr_is_shift_and_scale_invariant_and_positive_iff_misclassified():
    z, y, _ = random_logits(seed=3)
    base = numpy(losses.dlr, z, y)
    np.testing.assert_allclose(numpy(losses.dlr, 7.0 * z - 3.0, y), base, rtol=1e-4, atol=1e-6)
    np.testing.assert_array_equal(base > 0, np.argmax(z, axis=1) != y)


def test_margin_is_positive_iff_misclassified():
    z, y, t = random_logits(seed=4)
    raw = numpy(losses.margin, z, y, kappa=float("inf"))
    np.testing.assert_array_equal(raw > 0, np.argmax(z, axis=1) != y)
    targeted = numpy(losses.targeted_margin, z, t, kappa=float("inf"))
    np.testing.assert_array_equal(targeted > 0, np.argmax(z, axis=1) == t)


def test_dlr_needs_enough_classes():
    z, y, t = random_logits(num_classes=3)
    with pytest.raises(ValueError, match="at least 3"):
        numpy(losses.dlr, z[:, :2], y % 2)
    with pytest.raises(ValueError, match="at least 4"):
        numpy(losses.targeted_dlr, z, y, t)


@pytest.mark.parametrize(
    "names, untargeted, targeted",
    [
        (("ce", "cross_entropy"), losses.cross_entropy, None),
        (("cw", "margin"), losses.margin, losses.targeted_margin),
        (("dlr",), losses.dlr, None),
    ],
)
def test_get_resolves_names_and_targeted_forms(names, untargeted, targeted):
    z, y, t = random_logits(seed=5)
    for name in names:
        assert losses.get(name) is untargeted
        resolved = numpy(losses.get(name, targeted=True), z, t)
        expected = numpy(targeted, z, t) if targeted else -numpy(untargeted, z, t)
        np.testing.assert_allclose(resolved, expected, rtol=1e-6)


def test_get_takes_callables_and_rejects_unknown_names():
    def custom(logits, labels):
        return ops.sum(logits, axis=-1)

    assert losses.get(custom) is custom
    z, y, _ = random_logits()
    negated = numpy(losses.get(custom, targeted=True), z, y)
    np.testing.assert_allclose(negated, -z.sum(axis=1), rtol=1e-5)
    with pytest.raises(ValueError, match="'ce'.*'dlr'"):
        losses.get("hinge")
    with pytest.raises(ValueError, match="loss"):
        PGD(lambda x, training=False: x, loss="hinge")


@pytest.mark.parametrize("targeted", [False, True])
def test_attack_loss_defaults_to_cross_entropy_and_takes_cw(targeted):
    model = small_mlp()
    z, y, _ = random_logits(num_classes=5)
    sign = -1.0 if targeted else 1.0
    np.testing.assert_allclose(
        numpy(PGD(model, targeted=targeted).loss, z, y),
        sign * numpy(losses.cross_entropy, z, y),
        rtol=1e-6,
    )
    cw = numpy(PGD(model, targeted=targeted, loss="cw").loss, z, y)
    fn = losses.targeted_margin if targeted else losses.margin
    np.testing.assert_allclose(cw, numpy(fn, z, y), rtol=1e-6)


def test_pgd_on_the_margin_fools_exactly_the_foolable_examples_of_a_linear_model():
    # Logits [0, v.x + c]: an l_inf step of eps moves the margin by at most
    # eps * ||v||_1, so exactly the examples with |v.x + c| < eps * ||v||_1 can be fooled.
    rng = np.random.default_rng(6)
    v = rng.standard_normal(NUM_FEATURES).astype("float32")
    inputs = keras.Input((NUM_FEATURES,))
    model = keras.Model(inputs, keras.layers.Dense(2)(inputs))
    bias = -0.5 * v.sum()
    model.set_weights([np.stack([np.zeros_like(v), v], axis=1), np.array([0.0, bias], "float32")])
    eps = 0.05
    reach = eps * np.abs(v).sum()
    x = rng.uniform(0.3, 0.7, (64, NUM_FEATURES)).astype("float32")
    scores = x @ v + bias
    keep = np.abs(np.abs(scores) - reach) > 0.05 * reach  # no borderline example
    x, scores = x[keep], scores[keep]
    y = (scores > 0).astype(int)
    foolable = np.abs(scores) < reach
    assert 0 < foolable.sum() < len(x)
    attack = PGD(model, eps=eps, step_size=eps / 4, steps=10, random_start=False, loss="cw")
    x_adv = ops.convert_to_numpy(attack(x, y))
    fooled = np.argmax(ops.convert_to_numpy(model(x_adv)), axis=1) != y
    np.testing.assert_array_equal(fooled, foolable)
    assert np.abs(x_adv - x).max() <= eps + 1e-6
