import keras
import numpy as np
import pytest

from hdl_keras import models
from hdl_keras.attacks import PGD
from hdl_keras.models import ClusterLabelScores
from hdl_keras.testing import assert_config_round_trip
from hdl_keras.testing import assert_saved_model_round_trip

sklearn = pytest.importorskip("sklearn")
from sklearn.decomposition import PCA  # noqa: E402
from sklearn.mixture import GaussianMixture  # noqa: E402

SHAPE = (6, 6, 1)


def fitted_mixture(num_examples=600, num_components=5, dims=6):
    """Three noisy image classes, a 6-dim PCA and a 5-component GMM fitted on them."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, num_examples)
    x = 0.5 * rng.random((num_examples, *SHAPE)).astype("float32")
    x[y == 1, :3] += 0.4
    x[y == 2, :, :3] += 0.4
    flat = x.reshape(num_examples, -1).astype("float64")
    pca = PCA(dims, random_state=0).fit(flat)
    gmm = GaussianMixture(num_components, random_state=0).fit(pca.transform(flat))
    labels = models.cluster_mode_labels(gmm.predict(pca.transform(flat)), y, num_components)
    return x, y, pca, gmm, labels


def sklearn_labels(pca, gmm, labels, x):
    return np.asarray(labels)[gmm.predict(pca.transform(x.reshape(len(x), -1).astype("float64")))]


def test_argmax_equals_sklearn_prediction_exactly():
    x, _, pca, gmm, labels = fitted_mixture()
    model = models.from_sklearn(pca, gmm, labels, input_shape=SHAPE, num_classes=3)
    predicted = np.argmax(keras.ops.convert_to_numpy(model(x)), axis=-1)
    np.testing.assert_array_equal(predicted, sklearn_labels(pca, gmm, labels, x))


def test_component_scores_are_sklearn_weighted_log_probabilities_up_to_a_shift():
    x, _, pca, gmm, labels = fitted_mixture()
    model = models.from_sklearn(pca, gmm, labels, input_shape=SHAPE, num_classes=3)
    scores_model = keras.Model(model.input, model.get_layer("mixture").output)
    scores = keras.ops.convert_to_numpy(scores_model(x))
    projected = pca.transform(x.reshape(len(x), -1).astype("float64"))
    expected = gmm._estimate_weighted_log_prob(projected)
    expected -= expected.max(axis=1, keepdims=True)
    np.testing.assert_allclose(scores, expected, rtol=1e-6, atol=1e-4)


def test_cluster_mode_labels():
    labels = models.cluster_mode_labels([0, 0, 1, 1, 1, 2], [3, 3, 1, 2, 2, 0], 4)
    # Cluster 3 is empty: the most frequent label overall (3 and 2 tie: 2 is first).
    assert labels == [3, 2, 0, 2]


def test_labels_without_component_never_win_and_logsumexp_sums_components():
    scores = np.log(np.array([[0.4, 0.4, 0.2]], dtype="float32"))
    by_max = ClusterLabelScores([1, 1, 2], num_classes=4)(scores)
    by_sum = ClusterLabelScores([1, 1, 2], num_classes=4, reduction="logsumexp")(scores)
    by_max, by_sum = keras.ops.convert_to_numpy(by_max), keras.ops.convert_to_numpy(by_sum)
    floor = np.log(0.2) - 1.0  # classes 0 and 3 have no component
    np.testing.assert_allclose(by_max[0], [floor, np.log(0.4), np.log(0.2), floor], rtol=1e-6)
    np.testing.assert_allclose(by_sum[0, 1:3], np.log([0.8, 0.2]), rtol=1e-6)


def test_attacks_get_gradients():
    x, y, pca, gmm, labels = fitted_mixture()
    model = models.from_sklearn(pca, gmm, labels, input_shape=SHAPE, num_classes=3)
    clean = np.argmax(keras.ops.convert_to_numpy(model(x[:64])), axis=-1) == y[:64]
    attack = PGD(model, eps=0.3, step_size=0.05, steps=10, seed=0)
    x_adv = keras.ops.convert_to_numpy(attack(x[:64], y[:64]))
    attacked = np.argmax(keras.ops.convert_to_numpy(model(x_adv)), axis=-1) == y[:64]
    assert attacked.mean() < clean.mean()


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"cluster_labels": [0, 5], "num_classes": 3}, "cluster_labels"),
        ({"cluster_labels": [0, 1], "num_classes": 3, "reduction": "mean"}, "reduction"),
    ],
)
def test_bad_label_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ClusterLabelScores(**kwargs)


def test_from_sklearn_needs_full_covariances():
    x, _, pca, _, _ = fitted_mixture()
    gmm = GaussianMixture(2, covariance_type="diag", random_state=0).fit(pca.transform(x.reshape(len(x), -1)))
    with pytest.raises(ValueError, match="covariance_type='full'"):
        models.from_sklearn(pca, gmm, [0, 1], input_shape=SHAPE, num_classes=3)


@pytest.mark.backend_suite
def test_keras_round_trip(tmp_path):
    x, _, pca, gmm, labels = fitted_mixture()
    model = models.from_sklearn(pca, gmm, labels, input_shape=SHAPE, num_classes=3)
    loaded = assert_saved_model_round_trip(model, x[:32], tmp_path, atol=1e-5)
    np.testing.assert_array_equal(
        np.argmax(keras.ops.convert_to_numpy(loaded(x)), axis=-1),
        sklearn_labels(pca, gmm, labels, x),
    )
    assert_config_round_trip(model.get_layer("mixture"))
    assert_config_round_trip(model.get_layer("labels"))
