"""Packed quantized models: file size against float32 weights, and prediction agreement.

Usage: python benchmarks/quant_size.py [--quick]

For one architecture, the float32 weights file (`model.save_weights(".weights.h5")` of
the float model) is compared with the packed file (`hdl_keras.saving.export_packed`)
of its quantized twin (`hdl_keras.layers.to_quantized`, every Dense/Conv2D quantized)
with binary, ternary and 4-bit kernels; the packed file is loaded back
(`load_packed`) and its predictions compared with the quantized model's.

- `hdl_keras.models.small_cnn` on 28x28x1 (the top-level keys): 241,184 kernel
  weights against 362 biases, a network whose parameters are nearly all kernels, so
  the ratios show the bit packing (the limits are 32, 16 and 8) rather than the float
  tensors a packed file keeps as they are.
- `resnet20` on 28x28x1 (`resnet20_*` keys, printed on an earlier line): batch
  normalization keeps 2,762 float parameters beside 268,048 kernel weights, which
  cost it a few points of ratio.
- without --quick also `en2_resnet20` (Li, Wang and Xin's (2020) network, `en2_resnet20_*` keys).
- Keras' own post-training `model.quantize("int4")` on the float small CNN, for
  comparison (`keras_int4_*` keys, an earlier line): it converts the Dense layers only
  (Conv2D stays float in Keras 3.15) and quantizes activations at run time, so it is
  compared with the float model.

Earlier lines also give `<q>_raw_size_ratio`: the bare float32 parameters (4 bytes
each) over the packed file, without the HDF5 file's own overhead (about 3% of the
small CNN's weights file, 15% of ResNet-20's with its 97 datasets).

Weights are the seeded initial ones (file sizes do not depend on the values);
predictions on 64 uniform random images (256 without --quick). Runs on `KERAS_BACKEND`
(default tensorflow). Last line: one JSON object with `binary_size_ratio`,
`ternary_size_ratio`, `int4_size_ratio` and `max_pred_diff` (the largest absolute
difference of logits over the three; targets: ratios at least 28, 14 and 7.5, the
difference at most 1e-5).
"""

import argparse
import json
import os
import tempfile
import warnings

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

QUANTIZERS = {"binary": "binary", "ternary": "ternary", "int4": "4bit"}


def build(name):
    import keras

    from hdl_keras import models

    keras.utils.set_random_seed(0)
    return models.get(name, input_shape=(28, 28, 1), num_classes=10)


def logits(model, x):
    import keras

    return keras.ops.convert_to_numpy(model(x, training=False))


def size_ratios(name, x, directory):
    """Float32 and packed bytes of network `name`, their ratios and prediction differences.

    `<q>_size_ratio` divides the `.weights.h5` file's size, `<q>_raw_size_ratio` the
    bare float32 parameters (4 bytes each, no HDF5 overhead), by the packed file's.
    """
    import numpy as np

    from hdl_keras.layers import to_quantized
    from hdl_keras.saving import export_packed
    from hdl_keras.saving import load_packed

    model = build(name)
    float_path = os.path.join(directory, f"{name}.weights.h5")
    model.save_weights(float_path)
    float_bytes = os.path.getsize(float_path)
    raw_bytes = 4 * model.count_params()
    result = {"float32_bytes": float_bytes, "float32_raw_bytes": raw_bytes}
    for key, quantizer in QUANTIZERS.items():
        quantized = to_quantized(model, quantizer)
        path = os.path.join(directory, f"{name}_{key}.hdlpack")
        packed_bytes = export_packed(quantized, path)
        loaded = load_packed(path)
        difference = np.abs(logits(loaded, x) - logits(quantized, x)).max()
        result[f"{key}_bytes"] = packed_bytes
        result[f"{key}_size_ratio"] = round(float_bytes / packed_bytes, 3)
        result[f"{key}_raw_size_ratio"] = round(raw_bytes / packed_bytes, 3)
        result[f"{key}_pred_diff"] = float(difference)
    return result


def keras_int4(x, directory):
    """Keras' post-training int4 quantization of the float small CNN, for comparison."""
    import keras
    import numpy as np

    model = build("small_cnn")
    float_path = os.path.join(directory, "keras_float.weights.h5")
    model.save_weights(float_path)
    quantized = keras.models.clone_model(model)
    quantized.set_weights(model.get_weights())
    with warnings.catch_warnings():
        # Keras warns about every layer without a `quantize` method.
        warnings.simplefilter("ignore")
        quantized.quantize("int4")
    path = os.path.join(directory, "keras_int4.weights.h5")
    quantized.save_weights(path)
    return {
        "keras_int4_size_ratio": round(os.path.getsize(float_path) / os.path.getsize(path), 3),
        "keras_int4_quantized_layers": [layer.name for layer in quantized.layers if layer.quantization_mode == "int4"],
        "keras_int4_pred_diff_vs_float": float(np.abs(logits(quantized, x) - logits(model, x)).max()),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small CNN and ResNet-20 only (under 2 minutes)")
    args = parser.parse_args()

    import keras
    import numpy as np

    count = 64 if args.quick else 256
    x = np.random.default_rng(0).random((count, 28, 28, 1)).astype("float32")
    networks = ["resnet20"] if args.quick else ["resnet20", "en2_resnet20"]
    with tempfile.TemporaryDirectory() as directory:
        for name in networks:
            result = size_ratios(name, x, directory)
            print(json.dumps({f"{name}_{key}": value for key, value in result.items()}))
        print(json.dumps(keras_int4(x, directory)))
        result = size_ratios("small_cnn", x, directory)
    print(json.dumps({"backend": keras.backend.backend(), "network": "small_cnn", **result}))
    print(
        json.dumps(
            {
                "binary_size_ratio": result["binary_size_ratio"],
                "ternary_size_ratio": result["ternary_size_ratio"],
                "int4_size_ratio": result["int4_size_ratio"],
                "max_pred_diff": max(result[f"{key}_pred_diff"] for key in QUANTIZERS),
            }
        )
    )


if __name__ == "__main__":
    main()
