"""Gaussian-mixture classifier as a Keras model: PCA projection, mixture, cluster labels."""

import math

import keras
import numpy as np
from keras import ops

from hdl_keras.models._validation import check_positive_int


@keras.saving.register_keras_serializable(package="hdl_keras")
class GaussianMixtureScores(keras.layers.Layer):
    """Per-component log joint densities of a full-covariance Gaussian mixture.

    For inputs `x` `(batch, dim)` and components `k` with weight `pi_k`, mean
    `mu_k` and Cholesky factor `P_k` of the precision matrix (scikit-learn's
    `precisions_cholesky_`, `Sigma_k^-1 = P_k P_k^T`), computes as
    scikit-learn's `GaussianMixture._estimate_weighted_log_prob` does

        s_k(x) = log pi_k - 0.5 * (dim * log(2 pi) + ||x P_k - mu_k P_k||^2)
                 + sum_i log (P_k)_ii,

    minus `max_k s_k(x)` (shift-invariant for argmax and softmax; it keeps
    the scores near zero, so a float32 cast after a float64 layer loses no
    ordering). Run it with `dtype="float64"` (the default of
    `gaussian_mixture`) for an argmax equal to scikit-learn's.

    Args:
        num_components: K, the number of mixture components.
        **kwargs: those of `keras.layers.Layer` (`dtype`, `name`).

    Input shape: `(batch, dim)`. Output shape: `(batch, num_components)`.
    """

    def __init__(self, num_components, **kwargs):
        super().__init__(**kwargs)
        self.num_components = check_positive_int(num_components, "num_components")

    def build(self, input_shape):
        dim = int(input_shape[-1])
        k = self.num_components
        self.log_weights = self.add_weight(
            shape=(k,),
            initializer=keras.initializers.Constant(-math.log(k)),
            trainable=False,
            name="log_weights",
        )
        self.means = self.add_weight(shape=(k, dim), initializer="zeros", trainable=False, name="means")
        self.precisions_cholesky = self.add_weight(
            shape=(k, dim, dim),
            initializer=_identities(k, dim),
            trainable=False,
            name="precisions_cholesky",
        )

    def call(self, x):
        dim = ops.shape(x)[-1]
        whitened = ops.einsum("bd,kde->bke", x, self.precisions_cholesky)
        centres = ops.einsum("kd,kde->ke", self.means, self.precisions_cholesky)
        squared = ops.sum(ops.square(whitened - centres[None]), axis=-1)
        log_det = ops.sum(ops.log(ops.diagonal(self.precisions_cholesky, axis1=-2, axis2=-1)), axis=-1)
        constant = ops.cast(dim, x.dtype) * math.log(2.0 * math.pi)
        scores = self.log_weights + log_det - 0.5 * (constant + squared)
        return scores - ops.stop_gradient(ops.max(scores, axis=-1, keepdims=True))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.num_components)

    def get_config(self):
        return {**super().get_config(), "num_components": self.num_components}


@keras.saving.register_keras_serializable(package="hdl_keras")
class ClusterLabelScores(keras.layers.Layer):
    """Class logits from component scores: each component votes for its cluster's label.

    `cluster_labels[k]` is the label of component `k` (the report: the mode
    training label of the cluster). With `reduction="max"` the logit of
    class `c` is `max_{k: label k = c} s_k`, so the argmax over classes is
    the label of the most likely component, scikit-learn's
    `cluster_labels[gmm.predict(x)]`; with `"logsumexp"` it is
    `log sum_{k: label k = c} exp(s_k)`, the log of the class posterior
    (up to a constant). A class with no component gets the smallest logit
    of the other classes minus 1 (finite, never the argmax).

    Args:
        cluster_labels: list of K ints in `[0, num_classes)`.
        num_classes: number of classes.
        reduction: `"max"` (default) or `"logsumexp"`.
        **kwargs: those of `keras.layers.Layer`.

    Input shape: `(batch, K)`. Output shape: `(batch, num_classes)`.
    """

    def __init__(self, cluster_labels, num_classes, reduction="max", **kwargs):
        super().__init__(**kwargs)
        self.num_classes = check_positive_int(num_classes, "num_classes")
        labels = [int(label) for label in np.ravel(cluster_labels)]
        if not labels or min(labels) < 0 or max(labels) >= self.num_classes:
            raise ValueError(
                f"cluster_labels must be a non-empty list of ints in [0, {self.num_classes}). "
                f"Received: cluster_labels={cluster_labels!r}"
            )
        if reduction not in ("max", "logsumexp"):
            raise ValueError(f"reduction must be 'max' or 'logsumexp'. Received: reduction={reduction!r}")
        self.cluster_labels = labels
        self.reduction = reduction

    def call(self, scores):
        columns = []
        present = sorted(set(self.cluster_labels))
        for label in present:
            members = [k for k, owner in enumerate(self.cluster_labels) if owner == label]
            chosen = ops.take(scores, members, axis=-1)
            if self.reduction == "max":
                columns.append(ops.max(chosen, axis=-1))
            else:
                columns.append(ops.logsumexp(chosen, axis=-1))
        stacked = ops.stack(columns, axis=-1)
        floor = ops.min(stacked, axis=-1) - 1.0
        by_label = dict(zip(present, columns))
        return ops.stack([by_label.get(label, floor) for label in range(self.num_classes)], axis=-1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.num_classes)

    def get_config(self):
        return {
            **super().get_config(),
            "cluster_labels": list(self.cluster_labels),
            "num_classes": self.num_classes,
            "reduction": self.reduction,
        }


def gaussian_mixture(
    input_shape=(28, 28, 1),
    num_classes=10,
    num_components=10,
    pca_dims=50,
    cluster_labels=None,
    reduction="max",
    dtype="float64",
    name="gaussian_mixture",
):
    """Builds the Gaussian-mixture classifier: flatten, PCA projection, mixture, labels.

    The training-techniques report's unsupervised classifier: images are
    projected on `pca_dims` principal components, a `num_components`
    full-covariance Gaussian mixture scores each component, and each
    component predicts its cluster's label. Built untrained (identity
    precisions, zero means, projection on the first coordinates); fill it
    from fitted scikit-learn estimators with `from_sklearn`.

    Args:
        input_shape: shape of one input, default `(28, 28, 1)`.
        num_classes: number of classes, default 10.
        num_components: mixture components K, default 10.
        pca_dims: projection dimension, default 50.
        cluster_labels: K labels, default `k mod num_classes`.
        reduction: see `ClusterLabelScores`, default `"max"`.
        dtype: dtype of the projection and mixture layers, default
            `"float64"` (logits are float32).
        name: model name, default `"gaussian_mixture"`.

    Returns:
        A functional `keras.Model` mapping `(batch, *input_shape)` to
        `(batch, num_classes)` float32 logits.

    Reference:
        Li, Narey, Gauher, Appachi Senthilkumar, "Investigating the Effects of
        Training Techniques on Classification Robustness" (course report):
        PCA to 50 dimensions, 10-component GMM, mode label per cluster.
    """
    num_classes = check_positive_int(num_classes, "num_classes")
    num_components = check_positive_int(num_components, "num_components")
    pca_dims = check_positive_int(pca_dims, "pca_dims")
    input_dim = int(np.prod(input_shape))
    if pca_dims > input_dim:
        raise ValueError(f"pca_dims must be at most the input size {input_dim}. Received: pca_dims={pca_dims}")
    if cluster_labels is None:
        cluster_labels = [k % num_classes for k in range(num_components)]
    if len(cluster_labels) != num_components:
        raise ValueError(
            f"cluster_labels must hold one label per component ({num_components}). "
            f"Received: {len(cluster_labels)} labels"
        )
    inputs = keras.Input(shape=tuple(input_shape), name="inputs")
    x = keras.layers.Flatten(name="flatten")(inputs)
    x = keras.layers.Dense(
        pca_dims,
        trainable=False,
        dtype=dtype,
        name="pca",
        kernel_initializer=keras.initializers.Identity(),
    )(x)
    x = GaussianMixtureScores(num_components, dtype=dtype, name="mixture")(x)
    outputs = ClusterLabelScores(cluster_labels, num_classes, reduction=reduction, dtype="float32", name="labels")(x)
    return keras.Model(inputs, outputs, name=name)


def from_sklearn(pca, gmm, cluster_labels, input_shape=(28, 28, 1), num_classes=10, **kwargs):
    """The Keras model of fitted scikit-learn `PCA` and `GaussianMixture` estimators.

    The projection is `Dense` with kernel `pca.components_.T` and bias
    `-pca.mean_ @ pca.components_.T` (`pca.transform` without whitening),
    the mixture takes `gmm.weights_`, `gmm.means_` and
    `gmm.precisions_cholesky_` (`covariance_type="full"`).

    Args:
        pca: fitted `sklearn.decomposition.PCA` (`whiten=False`) on inputs
            flattened to `(N, prod(input_shape))`.
        gmm: fitted `sklearn.mixture.GaussianMixture`, `covariance_type="full"`.
        cluster_labels: K ints, the label of each component.
        input_shape: shape of one input, default `(28, 28, 1)`.
        num_classes: default 10.
        **kwargs: `reduction`, `dtype`, `name` of `gaussian_mixture`.

    Returns:
        The `keras.Model`; with the default `reduction="max"` and float64
        layers its argmax is `cluster_labels[gmm.predict(pca.transform(x))]`.

    Examples:
        >>> pca = PCA(50).fit(x.reshape(len(x), -1))
        >>> gmm = GaussianMixture(10).fit(pca.transform(x.reshape(len(x), -1)))
        >>> labels = cluster_mode_labels(gmm.predict(pca.transform(...)), y, 10)
        >>> model = from_sklearn(pca, gmm, labels)
    """
    if getattr(gmm, "covariance_type", None) != "full":
        raise ValueError(
            "from_sklearn needs a GaussianMixture with covariance_type='full'. "
            f"Received: covariance_type={getattr(gmm, 'covariance_type', None)!r}"
        )
    if getattr(pca, "whiten", False):
        raise ValueError("from_sklearn needs a PCA with whiten=False. Received: whiten=True")
    components = np.asarray(pca.components_, dtype="float64")
    model = gaussian_mixture(
        input_shape=input_shape,
        num_classes=num_classes,
        num_components=gmm.n_components,
        pca_dims=components.shape[0],
        cluster_labels=list(cluster_labels),
        **kwargs,
    )
    model.get_layer("pca").set_weights([components.T, -np.asarray(pca.mean_) @ components.T])
    model.get_layer("mixture").set_weights(
        [
            np.log(gmm.weights_),
            gmm.means_,
            gmm.precisions_cholesky_,
        ]
    )
    return model


def cluster_mode_labels(assignments, labels, num_components):
    """The most frequent label of each cluster (the report's cluster labelling).

    Args:
        assignments: int array `(N,)` of component indices (`gmm.predict`).
        labels: int array `(N,)` of true labels.
        num_components: K.

    Returns:
        List of K ints; an empty cluster gets the most frequent label overall.
    """
    assignments, labels = np.asarray(assignments), np.asarray(labels)
    overall = int(np.bincount(labels).argmax())
    result = []
    for k in range(num_components):
        members = labels[assignments == k]
        result.append(int(np.bincount(members).argmax()) if len(members) else overall)
    return result


def _identities(k, dim):
    def initializer(shape, dtype=None):
        return ops.cast(ops.tile(ops.eye(dim)[None], (k, 1, 1)), dtype)

    return initializer
