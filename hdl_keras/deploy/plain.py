"""The deployable form of a model: hard-pruned masks, quantized kernels as integer levels.

Both exporters (`hdl_keras.deploy.onnx`, `hdl_keras.deploy.litert`) start
from `deployable(model)`: a plain functional model whose masked layers are
hard-pruned Keras layers (`hdl_keras.layers.export_pruned`, kernel `W *
1[s > 0]`) and whose training wrappers are dropped. Quantized layers
(`QuantDense`, `QuantConv2D`) are kept: `integer_kernel(layer)` gives their
kernel as integer levels times a scale, `q(w) = levels * scale` (Li, Wang,
Xin: binary levels `+-1`, ternary `-1, 0, +1`, k-bit `-L..L`).
"""

import math

import keras
import numpy as np

from hdl_keras.layers.export import export_pruned
from hdl_keras.layers.masking import MaskedKernelMixin
from hdl_keras.layers.quantized import QuantizedKernelMixin
from hdl_keras.utils.graph import flatten_layers


def _has_masked_layers(model):
    return any(isinstance(layer, MaskedKernelMixin) for layer in flatten_layers(model))


def deployable(model):
    """Returns the plain functional model the exporters write.

    Args:
        model: a built functional or Sequential `keras.Model`, or one of the
            training wrappers (`HolisticModel`, `AdversarialModel` and
            subclasses) built on a functional graph.

    Returns:
        `model` itself when it has no masked layer and is a plain functional
        model; otherwise a new model of the same layers with every
        `MaskedDense`/`MaskedConv2D` hard-pruned to `Dense`/`Conv2D`.

    Raises:
        ValueError: for a model that is not built, or a quantized layer whose
            kernel is relaxed (BinaryRelax before its switch).
    """
    if not isinstance(model, keras.Model):
        raise ValueError(f"Expected a keras.Model. Received: model={type(model).__name__}")
    if not model.built:
        raise ValueError(f"Model '{model.name}' must be built before it is exported.")
    if type(model) not in (keras.Model, keras.Sequential):
        model = keras.Model(model.inputs, model.outputs, name=model.name)
    if _has_masked_layers(model):
        model = export_pruned(model)
    for layer in flatten_layers(model):
        if isinstance(layer, QuantizedKernelMixin):
            relax = float(keras.ops.convert_to_numpy(layer.relax_lambda))
            if not math.isinf(relax):
                raise ValueError(
                    f"Layer '{layer.name}' computes with a relaxed kernel "
                    f"(relax_lambda={relax}), not a quantized one: train past "
                    "BinaryRelax's switch_epoch or call "
                    "hdl_keras.quantizers.set_relax_lambda(model, None) before export."
                )
    return model


def integer_kernel(layer):
    """Returns `(levels, scale)` with `layer.quantized_kernel() == levels * scale`.

    Args:
        layer: a built `QuantDense` or `QuantConv2D` (kernel not relaxed).

    Returns:
        `levels`: int8 numpy array of the kernel's Keras shape (`(in, out)`
        or `(kh, kw, in, out)`); `scale`: float32 numpy array of shape `()`
        (one scale per layer) or `(out,)` (`per_channel=True`).
    """
    quantizer = layer.kernel_quantizer
    levels, scale = quantizer.levels_and_scale(keras.ops.convert_to_tensor(layer.float_kernel, "float32"))
    levels = np.rint(keras.ops.convert_to_numpy(levels)).astype(np.int8)
    scale = np.asarray(keras.ops.convert_to_numpy(scale), dtype=np.float32)
    scale = scale.reshape(scale.shape[-1:] if quantizer.per_channel else ())
    return levels, scale


def level_bits(levels):
    """The smallest signed integer width of `levels`: 4 (|level| <= 7) or 8."""
    return 4 if int(np.abs(levels).max(initial=0)) <= 7 else 8
