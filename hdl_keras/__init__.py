"""hdl_keras: robust, sparse and quantized deep learning for Keras 3.

Importing the package registers its serializable layers, so saved models load
with `keras.saving.load_model` without `custom_objects`.

Subpackages:
    backend: input gradients and per-class logit gradients (the only
        backend-specific code).
    callbacks: the training callbacks of the papers' schemes (beta
        annealing, BinaryRelax, RVSM/RGSM/ADMM steps).
    data: offline-first datasets and the HDL train/validation splits.
    evaluation: quantized-model checks (masking-aware attacks, float twin).
    deploy: export to ONNX and LiteRT (`hdl_keras.export_model`, an alias
        of `hdl_keras.deploy.export`) and the stock runtimes that run it.
    layers: masked (sigmoid-gated L0) and quantized Dense/Conv2D layers,
        noisy residuals, ensembles; pruned export and conversion.
    measure: zero weights, zero channels, bits per weight, FLOPs.
    models: architecture builders (mlp, small_cnn, alexnet, resnet, vgg16).
    objectives: training objectives for `model.fit` (HDL: robust, stable,
        sparse and their 8 combinations in `HolisticModel`).
    attacks: the attack suite.
    experiments: the HDL experimental protocol (grids, splits, the four
        metrics, selection, `recommend`, result tables; `hdl-protocol`).
    pruning: magnitude pruning, RVSM/RGSM/ADMM splitting, `shrink`.
    quantizers: binary, ternary and k-bit weight quantizers, the BinaryRelax
        relaxation.
    recipes: training recipes (schedules, fast adversarial training,
        `hdl-train`).
    preprocessing: class balancing, crop / flip / Gaussian-noise training
        pipelines named by the training-techniques report's letters (FFF..TTT).
    saving: the bit-packed file format of quantized models.
    verification: interval bound propagation.
    testing: shared test helpers (serialization, parity, gradient checks).
    zoo: pretrained entries (`hdl_keras.zoo.load`), imported on its own.

Every registered Keras object of these subpackages (layers, regularizers,
constraints, schedules, callbacks) is registered by `import hdl_keras` alone.
The subpackages are floors (the contract in pyproject.toml, `make lint`): a
module imports from its own floor and those below it only.
"""

from hdl_keras import _environment

_environment.prepare()  # before Keras loads: a clear error for an unknown KERAS_BACKEND

from hdl_keras import attacks  # noqa: E402
from hdl_keras import backend  # noqa: E402
from hdl_keras import callbacks  # noqa: E402
from hdl_keras import data  # noqa: E402
from hdl_keras import deploy  # noqa: E402
from hdl_keras import evaluation  # noqa: E402
from hdl_keras import experiments  # noqa: E402
from hdl_keras import layers  # noqa: E402
from hdl_keras import measure  # noqa: E402
from hdl_keras import models  # noqa: E402
from hdl_keras import objectives  # noqa: E402
from hdl_keras import preprocessing  # noqa: E402
from hdl_keras import pruning  # noqa: E402
from hdl_keras import quantizers  # noqa: E402
from hdl_keras import recipes  # noqa: E402
from hdl_keras import saving  # noqa: E402
from hdl_keras import verification  # noqa: E402
from hdl_keras.deploy import export as export_model  # noqa: E402

__version__ = "0.1.0"

__all__ = [
    "attacks",
    "backend",
    "callbacks",
    "data",
    "deploy",
    "evaluation",
    "export_model",
    "experiments",
    "layers",
    "measure",
    "models",
    "objectives",
    "preprocessing",
    "pruning",
    "quantizers",
    "recipes",
    "saving",
    "verification",
]
