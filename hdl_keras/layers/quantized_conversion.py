"""`to_quantized`: a copy of a model whose Keras `Dense`/`Conv2D` layers are `QuantDense`/`QuantConv2D`.

The conversion rewrites the serialized model (`hdl_keras.utils.surgery`) and
copies the float weights into the quantized layers' float kernels;
`first_and_last_layers` finds the stem and classifier layers that
`skip_first_last=True` keeps float.
"""

import keras

from hdl_keras import quantizers
from hdl_keras.layers.quantized import QuantizedKernelMixin
from hdl_keras.utils.surgery import replace_layers
from hdl_keras.utils.surgery import serialized_model


_FLOAT_CLASSES = ("Dense", "Conv2D")


def _tensor_sources(value):
    """The layer names of the `keras_history` entries inside a serialized call."""
    if isinstance(value, dict):
        if value.get("class_name") == "__keras_tensor__":
            return [value["config"]["keras_history"][0]]
        value = list(value.values())
    if isinstance(value, (list, tuple)):
        return [name for item in value for name in _tensor_sources(item)]
    return []


def _endpoint_names(value):
    """The layer names of a functional config's `input_layers`/`output_layers`."""
    if isinstance(value, list) and len(value) == 3 and isinstance(value[0], str):
        return [value[0]]
    if isinstance(value, (list, tuple)):
        return [name for item in value for name in _endpoint_names(item)]
    if isinstance(value, dict):
        return [name for item in value.values() for name in _endpoint_names(item)]
    return []


def _is_float_layer(layer_config):
    """Whether a serialized layer is a Keras `Dense` or `Conv2D`."""
    return layer_config.get("module") == "keras.layers" and layer_config.get("class_name") in _FLOAT_CLASSES


def _frontier(start, neighbours, candidates):
    """Candidates reached from `start` through non-candidate layers only."""
    reached, seen, stack = set(), set(), list(start)
    while stack:
        name = stack.pop()
        if name in seen:
            continue
        seen.add(name)
        if name in candidates:
            reached.add(name)
            continue
        stack.extend(neighbours.get(name, ()))
    return reached


def first_and_last_layers(model_config):
    """Names of the Dense/Conv2D layers next to the inputs and to the outputs.

    A layer is "first" if a path from a model input reaches it through no
    other Dense/Conv2D layer, "last" if a path from it to a model output
    crosses no other one: the stem convolution and the classifier of every
    member of an ensemble. Works on the top-level graph of a serialized
    Sequential or functional model (`serialize_keras_object(model)`).
    """
    config = model_config["config"]
    layers = config["layers"]
    candidates = {layer["config"]["name"] for layer in layers if _is_float_layer(layer)}
    if model_config["class_name"] == "Sequential":
        ordered = [layer["config"]["name"] for layer in layers if _is_float_layer(layer)]
        return set(ordered[:1] + ordered[-1:])
    successors, predecessors = {}, {}
    for layer in layers:
        name = layer["config"]["name"]
        for source in _tensor_sources(layer.get("inbound_nodes", [])):
            successors.setdefault(source, []).append(name)
            predecessors.setdefault(name, []).append(source)
    first = _frontier(_endpoint_names(config["input_layers"]), successors, candidates)
    last = _frontier(_endpoint_names(config["output_layers"]), predecessors, candidates)
    return first | last


def _quantize_config(rewritten, quantizer, skipped):
    """A serialized Keras `Dense`/`Conv2D` not in `skipped` rewritten to its quantized layer."""
    if _is_float_layer(rewritten) and rewritten["config"].get("name") not in skipped:
        class_name = rewritten["class_name"]
        rewritten["module"] = "hdl_keras.layers"
        rewritten["class_name"] = f"Quant{class_name}"
        rewritten["registered_name"] = f"hdl_keras>Quant{class_name}"
        rewritten["config"] = {**rewritten["config"], "kernel_quantizer": quantizer}
    return rewritten


def check_float_layers(model, float_layers):
    """`float_layers` as a set, each name a Dense/Conv2D layer of `model`'s top-level graph; ValueError otherwise.

    `to_quantized` checks its `float_layers` with it; a recipe that quantizes
    after a long float phase calls it first, so a misspelt name fails at once.
    """
    return _checked_float_layers(serialized_model(model), float_layers)


def _checked_float_layers(model_config, float_layers):
    """`float_layers` as a set, each name a Dense/Conv2D layer of the top-level graph; ValueError otherwise."""
    if isinstance(float_layers, str) or not all(isinstance(name, str) for name in float_layers):
        raise ValueError(
            f"Expected `float_layers` to be a list of layer names. Received: float_layers={float_layers!r}"
        )
    known = [layer["config"]["name"] for layer in model_config["config"]["layers"] if _is_float_layer(layer)]
    unknown = sorted(set(float_layers) - set(known))
    if unknown:
        raise ValueError(
            f"`float_layers` names layers that are not Dense/Conv2D layers of the model: {unknown}. "
            f"Its Dense/Conv2D layers: {known}."
        )
    return set(float_layers)


def _copy_into_quantized(source, target):
    """A quantized target gets the source's kernel (as its float kernel) and bias."""
    if not isinstance(target, QuantizedKernelMixin):
        return False
    target.float_kernel.assign(source.kernel)
    if source.bias is not None:
        target.bias.assign(source.bias)
    return True


def to_quantized(model, kernel_quantizer="binary", skip_first_last=False, float_layers=()):
    """Returns a copy of `model` whose Keras `Dense`/`Conv2D` layers are quantized.

    Every `keras.layers.Dense` and `Conv2D` becomes a `QuantDense`/
    `QuantConv2D` with the same configuration, `kernel_quantizer`, its
    weights as the float kernel and bias, and `relax_lambda = inf`
    (BinaryConnect); other layers (batch normalization, `ResidualNoise`,
    `Ensemble`, ...) are copied. Use it on a zoo model (e.g.
    `hdl_keras.models.get("en2_resnet20")`) to train its quantized twin,
    from scratch or from the float weights.

    Args:
        model: a built `keras.Sequential` or functional `keras.Model`
            (nested models are converted throughout).
        kernel_quantizer: the quantizer of every converted layer, as
            `hdl_keras.quantizers.get` accepts. Defaults to `"binary"`.
        skip_first_last: keep the first and last Dense/Conv2D layers float
            (common practice for binary nets; Li et al. (2020) do not say): those
            a model input reaches, or that reach a model output, through no
            other Dense/Conv2D layer of the top-level graph, e.g. the stem
            convolution and the classifier of each ensemble member. Defaults
            to `False` (all quantized).
        float_layers: names of further Dense/Conv2D layers of the top-level
            graph kept float (e.g. `("conv1",)`: the stem convolution of
            `small_cnn`, whose 9 weights per filter a 1-bit kernel reduces
            to signs). Defaults to `()`.

    Returns:
        A new, uncompiled model of the same structure and layer names; with
        `lambda = inf` its outputs are those of `model` with every converted
        kernel `w` replaced by `q(w)`.

    Examples:
        >>> from hdl_keras.models import mlp
        >>> quantized = to_quantized(mlp(input_shape=(4,), num_classes=3), "ternary")
        >>> type(quantized.layers[-1]).__name__
        'QuantDense'
    """
    if not isinstance(model, keras.Model) or not model.built:
        raise ValueError(f"Expected a built keras.Model. Received: model={model!r}")
    if not isinstance(skip_first_last, bool):
        raise ValueError(f"Expected `skip_first_last` to be a bool. Received: skip_first_last={skip_first_last!r}")
    quantizer = quantizers.get(kernel_quantizer)
    if quantizer is None:
        raise ValueError(
            "Expected a kernel quantizer ('binary', 'ternary', '4bit', ...). "
            f"Received: kernel_quantizer={kernel_quantizer!r}"
        )
    serialized = serialized_model(model)
    skipped = first_and_last_layers(serialized) if skip_first_last else set()
    skipped |= _checked_float_layers(serialized, float_layers)
    config = quantizers.serialize(quantizer)
    return replace_layers(model, lambda entry: _quantize_config(entry, config, skipped), _copy_into_quantized)
