"""LiteRT (`.tflite`) export: TensorFlow's converter, then integer weights by the AI Edge Quantizer.

Steps, for a deployable model (`hdl_keras.deploy.deployable`):

1. `float_twin`: every `QuantDense`/`QuantConv2D` becomes the Keras layer
   with its quantized kernel `q(w)` as float weights;
2. TensorFlow's `TFLiteConverter` converts the inference function (builtin
   operators only, dynamic batch);
3. for a quantized model, the AI Edge Quantizer's *weight-only* recipe
   rewrites each quantized layer's kernel as an INT4 (levels in `-7..7`:
   binary, ternary, 2..4-bit) or INT8 tensor with the quantizer's scale
   granularity (per tensor, or per output channel), followed by a
   `DEQUANTIZE` operator; the operators compute in float. The quantizer
   recomputes the scale as `max|q(w)| / 7` (or `/ 127`): binary and ternary
   levels are represented exactly, k-bit levels exactly when the top level
   `L` is reached (it is, by `KBitQuantizer`'s max scaling) and `L` divides
   7 or 127 evenly; otherwise to the INT4/INT8 rounding.
   LiteRT has no 1- or 2-bit weight type for builtin operators, so binary
   and ternary kernels leave as INT4 (half a byte per weight).

The converter runs on the TensorFlow backend only (it traces the Keras model
as a `tf.function`); on jax or torch the export raises with that reason.
"""

import functools
import re
import tempfile

import keras

from hdl_keras.deploy.plain import integer_kernel
from hdl_keras.deploy.plain import level_bits
from hdl_keras.layers.quantized import QuantizedKernelMixin
from hdl_keras.evaluation.quantized import float_twin
from hdl_keras.utils.graph import flatten_layers


def _check_backend():
    if keras.backend.backend() != "tensorflow":
        raise RuntimeError(
            "LiteRT export converts the model with TensorFlow's TFLiteConverter, which "
            "traces it on the tensorflow backend. Received: KERAS_BACKEND="
            f"{keras.backend.backend()!r}; set KERAS_BACKEND=tensorflow (the .keras "
            "file loads there unchanged)."
        )


def _convert_float(model):
    """Keras' own LiteRT route (ExportArchive, SavedModel, TFLiteConverter), builtin operators only."""
    import tensorflow as tf

    (model_input,) = model.inputs
    signature = tf.TensorSpec([None, *model_input.shape[1:]], tf.float32, name="inputs")
    with tempfile.TemporaryDirectory() as saved_model_dir:
        archive = keras.export.ExportArchive()
        archive.track(model)
        archive.add_endpoint("serve", functools.partial(model.__call__, training=False), input_signature=[signature])
        archive.write_out(saved_model_dir, verbose=False)
        converter = tf.lite.TFLiteConverter.from_saved_model(saved_model_dir)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
        return converter.convert()


def _weight_only_configs(model, quantized_layers):
    """`(regex, operation, bits, granularity)` of the AI Edge Quantizer's weight-only configs.

    When every `Dense`/`Conv2D` of the model is quantized (the library's
    default), one config per operator type covers them all (`regex=".*"`),
    at the widest level width. The scale granularity is the quantizer's (one
    per tensor, or per output channel), so the integer grid is the
    quantizer's own: `max|levels| * scale / 7` (or `/ 127`) is its step
    whenever the top level is reached. Otherwise each quantized layer is matched by
    its name in the converted operators' names (`{model}/{layer}_N/...`); a
    layer whose operator lost its name in conversion (the last one, named
    after the function's output) keeps float weights.
    """
    from ai_edge_quantizer import qtyping

    def operation(layer):
        if isinstance(layer, keras.layers.Conv2D):
            return qtyping.TFLOperationName.CONV_2D
        return qtyping.TFLOperationName.FULLY_CONNECTED

    kernels = [layer for layer in flatten_layers(model) if isinstance(layer, (keras.layers.Dense, keras.layers.Conv2D))]

    def granularity(layer):
        if layer.kernel_quantizer.per_channel:
            return qtyping.QuantGranularity.CHANNELWISE
        return qtyping.QuantGranularity.TENSORWISE

    granularities = {granularity(layer) for layer in quantized_layers}
    if len(kernels) == len(quantized_layers) and len(granularities) == 1:
        bits = max(level_bits(integer_kernel(layer)[0]) for layer in quantized_layers)
        return [
            (".*", name, bits, granularity(quantized_layers[0]))
            for name in sorted({operation(layer) for layer in kernels})
        ]
    return [
        (
            f"(^|.*/){re.escape(layer.name)}(_[0-9]+)?/.*",
            operation(layer),
            level_bits(integer_kernel(layer)[0]),
            granularity(layer),
        )
        for layer in quantized_layers
    ]


def _quantize_weights(flatbuffer, model, quantized_layers):
    try:
        from ai_edge_quantizer import quantizer
    except ImportError as exc:
        raise ImportError(
            "LiteRT export of quantized models needs ai-edge-quantizer: pip install 'hdl_keras[export]'."
        ) from exc
    tool = quantizer.Quantizer(bytearray(flatbuffer))
    for regex, operation, bits, granularity in _weight_only_configs(model, quantized_layers):
        tool.add_weight_only_config(regex=regex, operation_name=operation, num_bits=bits, granularity=granularity)
    result = tool.quantize(enable_progress_report=False)
    return bytes(result.quantized_model)


def to_litert(model):
    """Returns the LiteRT flatbuffer (`bytes`) of a deployable model.

    Args:
        model: a built functional or Sequential model with one input,
            masked layers already hard-pruned (`hdl_keras.deploy.deployable`).

    Returns:
        The `.tflite` file's bytes: builtin operators only, dynamic batch;
        quantized kernels as INT4/INT8 weights with `DEQUANTIZE`.
    """
    _check_backend()
    quantized_layers = [layer for layer in flatten_layers(model) if isinstance(layer, QuantizedKernelMixin)]
    plain = float_twin(model) if quantized_layers else model
    flatbuffer = _convert_float(plain)
    if quantized_layers:
        flatbuffer = _quantize_weights(flatbuffer, model, quantized_layers)
    return flatbuffer
