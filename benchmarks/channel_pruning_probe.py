"""RGSM's threshold against ADMM's projection for channel pruning: a short MNIST probe.

Usage: python benchmarks/channel_pruning_probe.py

The small CNN trains 3 epochs on 12,000 MNIST images (stratified, seed 0) by the trade-off
loss at FGSM-RS examples (16/255, Adam one-cycle 5e-3, batch 100) with channel pruning on
its hidden layers (all Dense/Conv2D but the first and the last): RGSM (Dinh et al. 2020,
beta 1, lam2 1e-5) at lam1 0.15, 0.3 and 0.5, and ADMM's channel projection at 50 %
(`admm_channel_pruning`). It prints the fraction of hidden channels each keeps and the clean
accuracy on the first 2,000 test images; last line: one JSON object.
"""

import json
import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")


def probe(pruning):
    import keras
    import numpy as np

    from hdl_keras import models
    from hdl_keras.data import prepare_data
    from hdl_keras.data import stratified_subset
    from hdl_keras.objectives import TradeOff
    from hdl_keras.objectives import fast_at_settings
    from hdl_keras.pruning import apply_rgsm
    from hdl_keras.pruning import remove_splitting
    from hdl_keras.recipes.deployable import admm_channel_pruning
    from hdl_keras.recipes.schedules import OneCycle

    keras.utils.set_random_seed(0)
    (x, y), (x_test, y_test) = prepare_data("mnist")
    rows = stratified_subset(y, 12000, 0)
    x, y = x[rows], y[rows]
    base = models.get("small_cnn", input_shape=x.shape[1:], num_classes=10)
    kernels = [layer for layer in base.layers if isinstance(layer, (keras.layers.Dense, keras.layers.Conv2D))]
    hidden = kernels[1:-1]
    if pruning == "admm":
        callback = admm_channel_pruning(base, 0.5)
    else:
        callback = apply_rgsm(base, beta=1.0, lam1=pruning, lam2=1e-5, layers=[layer.name for layer in hidden])
    model = TradeOff.from_model(base, alpha=1.0, beta=8.0, seed=0, **fast_at_settings(16 / 255))
    model.compile(optimizer=keras.optimizers.Adam(OneCycle(5e-3, total_steps=3 * 120)))
    model.fit(x, y, batch_size=100, epochs=3, callbacks=[callback], verbose=0)
    remove_splitting(base)
    kept = {}
    for layer in hidden:
        kernel = keras.ops.convert_to_numpy(layer.kernel)
        norms = np.sqrt((kernel.reshape(-1, kernel.shape[-1]) ** 2).sum(0))
        kept[layer.name] = round(float(np.mean(norms > 0)), 3)
    logits = keras.Model(base.input, base.output).predict(x_test[:2000], verbose=0)
    return {"kept": kept, "clean_accuracy": float(np.mean(logits.argmax(1) == y_test[:2000]))}


def main():
    results = {f"rgsm_lam1_{lam1}": probe(lam1) for lam1 in (0.15, 0.3, 0.5)}
    results["admm_50"] = probe("admm")
    for name, result in results.items():
        print(name, result, flush=True)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
