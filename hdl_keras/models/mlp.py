"""Multilayer perceptron, the network of the HDL paper on tabular (UCI) data."""

import keras
from keras import layers

from hdl_keras.models._validation import check_int_tuple
from hdl_keras.models._validation import check_positive_int


def mlp(
    input_shape,
    num_classes=10,
    hidden_units=(128, 128),
    activation="relu",
    name="mlp",
):
    """Builds a fully-connected network: Flatten, hidden Dense layers, logits.

    The default, two hidden layers of 128 ReLU units with Glorot-uniform
    weights (the Keras default), is the architecture the Holistic Deep
    Learning paper trains on its UCI tabular data sets.

    Args:
        input_shape: shape of one example, without the batch axis, e.g.
            `(num_features,)`; inputs of higher rank are flattened.
        num_classes: number of output logits. Defaults to `10`.
        hidden_units: width of each hidden Dense layer, in order. An empty
            tuple gives a linear (multinomial logistic) model. Defaults to
            `(128, 128)`.
        activation: activation of the hidden layers, any identifier accepted
            by `keras.activations.get`. Defaults to `"relu"`.
        name: name of the model. Defaults to `"mlp"`.

    Returns:
        A functional `keras.Model` mapping `(batch, *input_shape)` inputs to
        `(batch, num_classes)` logits (no softmax).

    Examples:
        >>> model = mlp(input_shape=(20,), num_classes=2)
        >>> model.output_shape
        (None, 2)

    Reference:
        - [Bertsimas et al., Holistic Deep Learning, Machine Learning 113,
          2024](https://arxiv.org/abs/2110.15829)
    """
    input_shape = check_int_tuple(input_shape, "input_shape")
    num_classes = check_positive_int(num_classes, "num_classes")
    hidden_units = check_int_tuple(hidden_units, "hidden_units", allow_empty=True)
    keras.activations.get(activation)  # Raises a ValueError when unknown.

    inputs = keras.Input(shape=input_shape, name="inputs")
    x = layers.Flatten(name="flatten")(inputs)
    for index, units in enumerate(hidden_units, start=1):
        x = layers.Dense(units, activation=activation, name=f"dense{index}")(x)
    outputs = layers.Dense(num_classes, name="logits")(x)
    return keras.Model(inputs, outputs, name=name)
