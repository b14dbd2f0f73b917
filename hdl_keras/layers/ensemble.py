"""Ensemble of classifiers: the average of their softmax outputs, as logits."""

import math

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="hdl_keras")
class Ensemble(keras.layers.Layer):
    """Averages the softmax outputs of `n` members and returns them as logits.

    The second step of the Feynman-Kac construction of the EnResNets (Wang,
    Yuan, Shi and Osher 2019; Dinh et al., section 2): "average the output
    of `n` jointly trained modified ResNets". By the Feynman-Kac formula the
    classifier `u(x, 0)` is the expectation of the output activation `g`
    (the softmax) over the noise paths, estimated by the mean of the
    members' probabilities,

        p(x) = (1 / n) * sum_i softmax(z_i(x)).

    The layer takes the members' logits `[z_1, ..., z_n]` and returns
    `log p(x)`, computed stably as
    `logsumexp_i(log_softmax(z_i)) - log(n)`: valid logits whose softmax is
    the ensemble average (`exp` of the output is `p` itself, it sums to 1),
    so cross-entropy losses `from_logits=True`, metrics and the attack suite
    apply unchanged.

    (The authors' code averages the members' logits instead; averaging
    probabilities is the construction of the Feynman-Kac formula, where `g`
    is the output activation.)

    The layer has no weights and takes only the base layer keyword
    arguments, such as `name`.

    Input shape:
        A list of `n >= 1` tensors of the same shape
        `(batch, ..., num_classes)`, the members' logits.

    Output shape:
        `(batch, ..., num_classes)`, the logits of the ensemble.

    Examples:
        >>> z1 = keras.ops.convert_to_tensor([[2.0, 0.0]])
        >>> z2 = keras.ops.convert_to_tensor([[0.0, 2.0]])
        >>> probs = keras.ops.exp(Ensemble()([z1, z2]))  # the mean of the softmaxes
        >>> keras.ops.convert_to_numpy(probs).round(3).tolist()
        [[0.5, 0.5]]

    Reference:
        - [Wang, Yuan, Shi, Osher, ResNets Ensemble via the Feynman-Kac
          Formalism to Improve Natural and Robust Accuracies, NeurIPS
          2019](https://arxiv.org/abs/1811.10745).
    """

    def build(self, input_shape):
        if (
            not isinstance(input_shape, (list, tuple))
            or not input_shape
            or not all(isinstance(shape, (list, tuple)) for shape in input_shape)
        ):
            raise ValueError(
                f"An `Ensemble` layer takes a list of the members' logits. Received: input_shape={input_shape!r}"
            )
        shapes = {tuple(shape[1:]) for shape in input_shape}
        if len(shapes) != 1:
            raise ValueError(
                f"An `Ensemble` layer takes members' logits of one shape. Received: input_shape={input_shape!r}"
            )

    def call(self, inputs):
        log_probs = ops.stack([ops.log_softmax(z, axis=-1) for z in inputs])
        return ops.logsumexp(log_probs, axis=0) - math.log(len(inputs))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0])
