"""Shrink speed: batch-64 inference of a channel-pruned CNN before and after `shrink`.

Usage: python benchmarks/shrink_speed.py [--quick]

A VGG-like CNN sized to be compute-bound on a CPU: 32x32x3 inputs, six 3x3
"same" convolutions of 128, 128 | 256, 256 | 512, 512 filters, each
followed by batch normalization and a ReLU, 2x2 max-pooling
after each pair, global average pooling and a Dense layer of 10 logits.
Half of every convolution's filters (chosen at random, seeded) are zeroed
together with the matching batch-normalization `gamma` and `beta`, as filter
pruning of the convolution and its normalization leaves them;
`hdl_keras.pruning.shrink` then removes them.

Timing: `model.predict_on_batch` on one batch of 64 images, on the default
backend, two warm-up calls per model, then medians of alternating runs of
the original and the shrunk model (`interleaved_medians`): 15 pairs, 5 with
`--quick` (about a minute on 2 CPU cores).

The last line is one JSON object:
- `flop_ratio` f: multiply-adds of the original / of the shrunk model
  (`hdl_keras.measure.count_flops`);
- `latency_speedup` s: latency of the original / of the shrunk model;
- `speedup_over_flop_ratio`: s / f (target >= 0.8);
- `max_pred_diff`: largest absolute difference of their logits (target
  <= 1e-5);
plus the backend, the latencies and the multiply-adds.
"""

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import interleaved_medians  # noqa: E402

BATCH = 64
FILTERS = (128, 256, 512)
PRUNED_FRACTION = 0.5


def _model(filters):
    import keras
    from keras import layers

    inputs = keras.Input((32, 32, 3), name="inputs")
    x = inputs
    for stage, width in enumerate(filters, start=1):
        for index in (1, 2):
            name = f"block{stage}_conv{index}"
            x = layers.Conv2D(width, 3, padding="same", use_bias=False, name=name)(x)
            x = layers.BatchNormalization(name=f"{name}_bn")(x)
            x = layers.Activation("relu", name=f"{name}_relu")(x)
        x = layers.MaxPooling2D(2, name=f"block{stage}_pool")(x)
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    outputs = layers.Dense(10, name="logits")(x)
    return keras.Model(inputs, outputs, name="vgg_like")


def _prune_filters(model, fraction, rng):
    """Zeroes `fraction` of each convolution's filters and their BN gamma, beta."""
    import keras

    for layer in model.layers:
        if not isinstance(layer, keras.layers.Conv2D):
            continue
        (kernel,) = layer.get_weights()
        pruned = rng.choice(kernel.shape[-1], int(kernel.shape[-1] * fraction), replace=False)
        kernel[..., pruned] = 0.0
        layer.set_weights([kernel])
        bn = model.get_layer(f"{layer.name}_bn")
        gamma, beta, mean, variance = bn.get_weights()
        gamma[pruned], beta[pruned] = 0.0, 0.0
        bn.set_weights([gamma, beta, mean, variance])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5 timed repeats instead of 15")
    args = parser.parse_args()

    import keras
    import numpy as np

    from hdl_keras.measure import count_flops
    from hdl_keras.pruning import shrink

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    model = _model(FILTERS)
    _prune_filters(model, PRUNED_FRACTION, rng)
    shrunk = shrink(model)
    x = rng.uniform(size=(BATCH, 32, 32, 3)).astype("float32")

    for _ in range(2):  # Warm-up: tracing / compilation.
        expected = keras.ops.convert_to_numpy(model.predict_on_batch(x))
        actual = keras.ops.convert_to_numpy(shrunk.predict_on_batch(x))
    original_s, shrunk_s = interleaved_medians(
        [lambda: model.predict_on_batch(x), lambda: shrunk.predict_on_batch(x)],
        repeats=5 if args.quick else 15,
    )
    flop_ratio = count_flops(model) / count_flops(shrunk)
    speedup = original_s / shrunk_s
    print(f"filters {FILTERS}, batch {BATCH}, backend {keras.backend.backend()}")
    print(f"original {original_s * 1e3:.1f} ms, shrunk {shrunk_s * 1e3:.1f} ms")
    print(
        json.dumps(
            {
                "flop_ratio": round(flop_ratio, 4),
                "latency_speedup": round(speedup, 4),
                "speedup_over_flop_ratio": round(speedup / flop_ratio, 4),
                "max_pred_diff": float(np.abs(expected - actual).max()),
                "backend": keras.backend.backend(),
                "original_ms": round(original_s * 1e3, 2),
                "shrunk_ms": round(shrunk_s * 1e3, 2),
                "original_macs": count_flops(model),
                "shrunk_macs": count_flops(shrunk),
            }
        )
    )


if __name__ == "__main__":
    main()
