"""HDL objectives' cost: one training step of each method over the nominal "DL" step.

Usage: python benchmarks/hdl_cost.py [--quick]

Times training steps on the default backend (medians of runs alternating between the
methods of a model, after a warm-up) for:
- the paper's MLP (2 x 128 ReLU) with 2 classes, batch 32 (`robust_step_ratio_c2`);
- the MLP on 784 inputs with 10 classes, batch 64 (`robust_step_ratio_mlp_c10`);
- the paper's image network (`hdl_keras.models.alexnet` on 28x28x1), batch 64
  (`robust_step_ratio_cnn_c10`, `robust_topk2_ratio_cnn_c10` with `robust_top_k=2`,
  `hdl_step_ratio_cnn_c10`), timed over 2 `train_on_batch` steps (8 without --quick);
- the stable and sparse terms on the MLP c10 (`stable_step_ratio`, `sparse_step_ratio`).
MLP fits run 100 steps (400 without --quick) so that the fixed cost of a `fit` call
(about 30 ms) does not dilute the ratios.
Models are built with masked layers for the sparse methods. Synthetic inputs
(timings do not depend on the values). Last line: one JSON object.
"""

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import interleaved_medians  # noqa: E402


def build(kind, method, masked, top_k=None):
    import keras

    from hdl_keras.layers import to_masked
    from hdl_keras.models import alexnet
    from hdl_keras.models import mlp
    from hdl_keras.objectives import HolisticModel

    keras.utils.set_random_seed(0)
    if kind == "mlp_c2":
        base = mlp((20,), num_classes=2)
    elif kind == "mlp_c10":
        base = mlp((784,), num_classes=10)
    else:
        base = alexnet(input_shape=(28, 28, 1), num_classes=10)
    if masked:
        base = to_masked(base)
    model = HolisticModel(base.input, base.output, method=method, rho=1e-3, robust_top_k=top_k)
    model.compile(optimizer=keras.optimizers.SGD(0.01))
    return model


def step_seconds(kind, methods, batch, steps, repeats):
    """Seconds per step of each method on `kind`, timed in alternation after warm-up.

    MLPs: `model.fit` over `steps` batches. The image network: `steps` calls of
    `train_on_batch` (the same train step, without the `tf.data` loop of `fit`, whose
    delay on the tensorflow CPU backend varies from call to call for this large graph).
    """
    import numpy as np

    shape = {"mlp_c2": (20,), "mlp_c10": (784,), "cnn_c10": (28, 28, 1)}[kind]
    classes = 2 if kind == "mlp_c2" else 10
    rng = np.random.default_rng(0)
    x = rng.random((batch * steps,) + shape, dtype=np.float32)
    y = rng.integers(0, classes, batch * steps)
    fits = []
    for method in methods:
        name, top_k = (method.split("-top")[0], int(method.split("-top")[1])) if "-top" in method else (method, None)
        model = build(kind, name, "Sparse" in name or name == "HDL", top_k)
        if kind == "cnn_c10":

            def fit(model=model):
                for step in range(steps):
                    rows = slice(step * batch, (step + 1) * batch)
                    model.train_on_batch(x[rows], y[rows])
        else:

            def fit(model=model):
                model.fit(x, y, batch_size=batch, epochs=1, verbose=0)

        fit()  # traces the train step
        fits.append(fit)
    return {m: t / steps for m, t in zip(methods, interleaved_medians(fits, repeats))}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps (under 3 minutes)")
    args = parser.parse_args()
    mlp_steps, cnn_steps = (100, 2) if args.quick else (400, 8)
    start = time.perf_counter()
    timings = {}
    for kind, batch, methods in [
        ("mlp_c2", 32, ["DL", "Robust"]),
        ("mlp_c10", 64, ["DL", "Robust", "Stable", "Sparse"]),
        ("cnn_c10", 64, ["DL", "Robust", "Robust-top2", "HDL"]),
    ]:
        cnn = kind == "cnn_c10"
        measured = step_seconds(kind, methods, batch, cnn_steps if cnn else mlp_steps, 3 if cnn else 7)
        for method, seconds in measured.items():
            timings[(kind, method)] = seconds
            print(f"{kind} {method}: {1000 * seconds:.2f} ms/step", flush=True)

    def ratio(kind, method):
        return round(timings[(kind, method)] / timings[(kind, "DL")], 2)

    result = {
        "robust_step_ratio_c2": ratio("mlp_c2", "Robust"),
        "robust_step_ratio_mlp_c10": ratio("mlp_c10", "Robust"),
        "robust_step_ratio_cnn_c10": ratio("cnn_c10", "Robust"),
        "robust_topk2_ratio_cnn_c10": ratio("cnn_c10", "Robust-top2"),
        "stable_step_ratio": ratio("mlp_c10", "Stable"),
        "sparse_step_ratio": ratio("mlp_c10", "Sparse"),
        "hdl_step_ratio_cnn_c10": ratio("cnn_c10", "HDL"),
        "seconds": round(time.perf_counter() - start, 1),
    }
    import keras

    result["backend"] = keras.backend.backend()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
