"""The bad-input cases, by area of the package: attacks, evaluate, objectives, data, zoo, CLI, layers, export.

`cases()` returns them all, a list of `Case`.
"""

import pathlib

import keras
import numpy as np

from hdl_keras.testing.bad_inputs.case import Case
from hdl_keras.testing.bad_inputs.case import CliError
from hdl_keras.testing.bad_inputs.case import CliWarning
from hdl_keras.testing.bad_inputs.fixtures import backend_tensor
from hdl_keras.testing.bad_inputs.fixtures import cnn
from hdl_keras.testing.bad_inputs.fixtures import fgsm_call
from hdl_keras.testing.bad_inputs.fixtures import holistic_model
from hdl_keras.testing.bad_inputs.fixtures import image_batch
from hdl_keras.testing.bad_inputs.fixtures import make_attack
from hdl_keras.testing.bad_inputs.fixtures import mlp
from hdl_keras.testing.bad_inputs.fixtures import run_cli
from hdl_keras.testing.bad_inputs.fixtures import run_subprocess_cli
from hdl_keras.testing.bad_inputs.fixtures import scratch_zoo
from hdl_keras.testing.bad_inputs.fixtures import silent_server
from hdl_keras.testing.bad_inputs.fixtures import table_batch
from hdl_keras.testing.bad_inputs.fixtures import two_output_model
from hdl_keras.testing.bad_inputs.fixtures import with_env
from hdl_keras.testing.bad_inputs.fixtures import write_csv


def _attack_cases():
    x, y = table_batch()
    images, labels = image_batch()
    cases = [
        ("fgsm_eps_nan", lambda f: make_attack("FGSM", eps=float("nan")), ValueError, "finite number"),
        ("pgd_eps_nan", lambda f: make_attack("PGD", eps=float("nan")), ValueError, "finite number"),
        ("fgsm_eps_2_on_unit_images", lambda f: make_attack("FGSM", eps=2.0), ValueError, "at most the input range"),
        ("pgd_eps_negative", lambda f: make_attack("PGD", eps=-0.1), ValueError, "Expected `eps` in [0.0"),
        ("pgd_eps_8_meant_as_8_255", lambda f: make_attack("PGD", eps=0.6), UserWarning, "almost surely a mistake"),
        ("pgd_eps_string", lambda f: make_attack("PGD", eps="8/255"), ValueError, "real number"),
        (
            "pgd_step_size_nan",
            lambda f: make_attack("PGD", step_size=float("nan")),
            ValueError,
            "`step_size` to be a finite",
        ),
        ("pgd_zero_steps", lambda f: make_attack("PGD", steps=0), ValueError, "steps and restarts must be >= 1"),
        ("pgd_unknown_norm", lambda f: make_attack("PGD", norm="l3"), ValueError, "supports norm"),
        ("attack_reversed_bounds", lambda f: make_attack("PGD", bounds=(1.0, 0.0)), ValueError, "low < high"),
        (
            "attack_nan_bound",
            lambda f: make_attack("PGD", bounds=(0.0, float("nan"))),
            ValueError,
            "`bounds[1]` to be a finite",
        ),
        (
            "pgd_tensor_x_times_255",
            lambda f: make_attack("PGD")(backend_tensor(x * 255), y),
            ValueError,
            "expects inputs in bounds",
        ),
        ("fgsm_numpy_x_times_255", lambda f: fgsm_call(x * 255, y), ValueError, "expects inputs in bounds"),
        ("fgsm_all_nan_images", lambda f: fgsm_call(np.full_like(x, np.nan), y), ValueError, "finite inputs"),
        (
            "pgd_tensor_with_inf",
            lambda f: make_attack("PGD")(backend_tensor(np.where(x > 0.5, np.inf, x)), y),
            ValueError,
            "finite inputs",
        ),
        ("fgsm_empty_batch_cnn", lambda f: fgsm_call(images[:0], labels[:0], cnn()), ValueError, "non-empty batch"),
        ("fgsm_uint8_images", lambda f: fgsm_call((x * 255).astype("uint8"), y), ValueError, "floating-point inputs"),
        ("fgsm_labels_column", lambda f: fgsm_call(x, y[:, None]), ValueError, "shape (batch,)"),
        ("fgsm_labels_too_few", lambda f: fgsm_call(x, y[:-1]), ValueError, "shape (batch,)"),
        ("pgd_labels_out_of_range", lambda f: make_attack("PGD")(x, y + 3), ValueError, "in [0, 3)"),
        ("fgsm_negative_labels", lambda f: fgsm_call(x, y - 1), ValueError, "in [0, 3)"),
        ("fgsm_fractional_labels", lambda f: fgsm_call(x, y + 0.5), ValueError, "integer class labels"),
        ("fgsm_two_output_model", lambda f: fgsm_call(x, y, two_output_model()), ValueError, "one logits output"),
        ("square_eps_nan", lambda f: make_attack("Square", cnn(), eps=float("nan")), ValueError, "finite number"),
        ("apgd_nan_images", lambda f: make_attack("APGD")(np.full_like(x, np.nan), y), ValueError, "finite inputs"),
        (
            "cw_out_of_bounds",
            lambda f: make_attack("CarliniWagner")(x - 1.0, y),
            ValueError,
            "expects inputs in bounds",
        ),
    ]
    return [Case(name, "attacks", run, error, phrase) for name, run, error, phrase in cases]


def _evaluate_cases():
    from hdl_keras.attacks import PGD
    from hdl_keras.attacks import evaluate

    x, y = table_batch()

    def run_evaluate(x_, y_, model=None, **kwargs):
        model = model or mlp()
        return evaluate(model, x_, y_, attacks={"pgd": PGD(model, steps=2)}, verbose=0, **kwargs)

    cases = [
        ("evaluate_all_nan_images", lambda f: run_evaluate(np.full_like(x, np.nan), y), ValueError, "finite inputs"),
        ("evaluate_labels_out_of_range", lambda f: run_evaluate(x, y + 5), ValueError, "labels must be in [0, 3)"),
        ("evaluate_empty_test_set", lambda f: run_evaluate(x[:0], y[:0]), ValueError, "received no examples"),
        (
            "evaluate_two_output_model",
            lambda f: evaluate(two_output_model(), x, y, attacks=[], verbose=0),
            ValueError,
            "one logits output",
        ),
        (
            "evaluate_eps_sweep_nan",
            lambda f: run_evaluate(x, y, eps_sweep=[0.01, float("nan")]),
            ValueError,
            "finite eps",
        ),
    ]
    return [Case(name, "attacks", run, error, phrase) for name, run, error, phrase in cases]


def _objective_cases():
    from hdl_keras.objectives import PGDAdversarialTraining
    from hdl_keras.objectives.robust import robust_cross_entropy
    from hdl_keras.objectives.stable import worst_subset_loss

    x, y = table_batch(8)

    def fit(model, x_=x, y_=y, batch_size=8):
        model.compile(optimizer="adam")
        return model.fit(x_, y_, batch_size=batch_size, epochs=1, verbose=0)

    def adversarial(**kwargs):
        base = mlp()
        return PGDAdversarialTraining.from_model(base, **kwargs)

    cases = [
        ("holistic_rho_nan", lambda f: holistic_model(rho=float("nan")), ValueError, "`rho` to be a finite"),
        ("holistic_rho_inf", lambda f: holistic_model(rho=float("inf")), ValueError, "`rho` to be a finite"),
        ("holistic_rho_negative", lambda f: holistic_model(rho=-1e-3), ValueError, "Expected `rho` in [0.0"),
        (
            "holistic_lambda_nan",
            lambda f: holistic_model(sparsity_lambda=float("nan")),
            ValueError,
            "`sparsity_lambda` to be a finite",
        ),
        (
            "holistic_alpha_zero",
            lambda f: holistic_model(stability_alpha=0.0),
            ValueError,
            "`stability_alpha` in (0.0, 1.0]",
        ),
        (
            "holistic_alpha_above_one",
            lambda f: holistic_model(stability_alpha=1.5),
            ValueError,
            "`stability_alpha` in (0.0, 1.0]",
        ),
        (
            "holistic_alpha_times_batch_below_one",
            lambda f: fit(holistic_model(method="Stable", stability_alpha=0.1), batch_size=4),
            ValueError,
            "fewer than one",
        ),
        ("holistic_unknown_method", lambda f: holistic_model(method="Robustest"), ValueError, "method must be one of"),
        ("holistic_unknown_norm", lambda f: holistic_model(norm="l3"), ValueError, "norm must be one of"),
        (
            "holistic_fit_labels_out_of_range",
            lambda f: fit(holistic_model(method="DL"), y_=y + 3),
            ValueError,
            "in [0, 3)",
        ),
        (
            "holistic_fit_nan_inputs",
            lambda f: fit(holistic_model(method="DL"), x_=np.full_like(x, np.nan)),
            ValueError,
            "finite inputs",
        ),
        ("adversarial_eps_nan", lambda f: adversarial(eps=float("nan")), ValueError, "finite number"),
        (
            "adversarial_fit_labels_out_of_range",
            lambda f: fit(adversarial(eps=0.1, steps=1), y_=y + 7),
            ValueError,
            "in [0, 3)",
        ),
        (
            "robust_loss_rho_nan",
            lambda f: robust_cross_entropy(mlp(), x, y, float("nan")),
            ValueError,
            "`rho` to be a finite",
        ),
        (
            "worst_subset_alpha_nan",
            lambda f: worst_subset_loss(keras.ops.ones((4,)), 0.0, float("nan")),
            ValueError,
            "`alpha` to be a finite",
        ),
    ]
    return [Case(name, "objectives", run, error, phrase) for name, run, error, phrase in cases]


def _data_cases():
    from hdl_keras import data
    from hdl_keras.data import load_csv

    rows = "\n".join(f"{i * 0.1:.2f},{(i * 7) % 5 * 0.13:.3f}" for i in range(10))
    cases = [
        ("csv_without_label_column", lambda f: load_csv(write_csv(f, rows)), ValueError, "non-integer numbers"),
        (
            "csv_one_class",
            lambda f: load_csv(write_csv(f, "\n".join(f"{i},{i + 1},0" for i in range(10)))),
            ValueError,
            "single class",
        ),
        (
            "csv_one_row_per_class",
            lambda f: load_csv(write_csv(f, "\n".join(f"{i * 0.5},{i}" for i in range(10)))),
            ValueError,
            "empty test set",
        ),
        (
            "csv_missing_file",
            lambda f: load_csv(pathlib.Path(f) / "absent.csv"),
            FileNotFoundError,
            "CSV file not found",
        ),
        (
            "csv_nan_feature",
            lambda f: load_csv(write_csv(f, "1,nan,0\n2,3,1\n3,4,0\n4,5,1")),
            ValueError,
            "is not numeric",
        ),
        (
            "csv_unknown_label_name",
            lambda f: load_csv(write_csv(f, "a,b\n1,0\n2,1"), label_column="label"),
            ValueError,
            "no column named 'label'",
        ),
        ("unknown_dataset", lambda f: data.load("imagenet"), ValueError, "imagenet"),
    ]
    return [Case(name, "data", run, error, phrase) for name, run, error, phrase in cases]


def _zoo_cases():
    from hdl_keras import zoo
    from hdl_keras.zoo import ZooError
    from hdl_keras.zoo.errors import UnknownEntryError
    from hdl_keras.recipes.zoo_cards import update_card
    from hdl_keras.recipes.zoo_entries import ZooRecipe

    def zoo_cli(folder, *args, broken=False):
        scratch_zoo(folder, broken=broken)
        return run_cli("hdl_keras_cli.zoo", *args)

    def bad_card_update(folder):
        scratch_zoo(folder)
        result = {"clean_accuracy": float("nan"), "attacks": {}}
        return update_card("iris-mlp-dl", result, command="hdl-zoo eval iris-mlp-dl")

    def download_from_silent_server(folder):
        root = scratch_zoo(folder)
        (root / "iris-mlp-dl" / "model.keras").unlink()  # the entry must now be downloaded
        url, close = silent_server()
        env = {
            "HDL_KERAS_ZOO_URL": url,
            "HDL_KERAS_DOWNLOAD_TIMEOUT": "1",
            "HDL_KERAS_DOWNLOAD_RETRIES": "0",
            "HDL_KERAS_ZOO_CACHE": str(pathlib.Path(folder) / "cache"),
            "HDL_KERAS_OFFLINE": "0",
        }
        try:
            return with_env(env, lambda: zoo.entry_path("iris-mlp-dl"))
        finally:
            close()

    def recipe_without_lr(folder):
        return ZooRecipe(
            name="iris-mlp-dl",
            dataset="iris",
            architecture="mlp",
            method="DL",
            hyperparameters={},
            epochs=1,
            batch_size=8,
            train_examples=None,
            threat_model={"norm": "linf", "eps": 0.1},
            reference={},
            reduced=None,
        )

    cases = [
        (
            "zoo_unknown_entry",
            lambda f: (scratch_zoo(f), zoo.card("iris-mlp-d"))[1],
            UnknownEntryError,
            "Did you mean 'iris-mlp-dl'",
        ),
        (
            "zoo_list_broken_card",
            lambda f: zoo_cli(f, "list", broken=True),
            CliWarning,
            "Skipped the broken zoo entry 'wine-mlp-dl'",
        ),
        (
            "zoo_list_entries_broken_card",
            lambda f: (scratch_zoo(f, broken=True), zoo.list_entries())[1],
            ZooError,
            "is not valid JSON",
        ),
        ("zoo_card_update_with_nan", bad_card_update, ZooError, "invalid zoo card"),
        ("zoo_download_never_answers", download_from_silent_server, ZooError, "did not answer within 1 s"),
        ("zoo_recipe_without_lr", recipe_without_lr, ValueError, "lacks the hyperparameters ['lr']"),
    ]
    return [Case(name, "zoo", run, error, phrase, timeout=60.0) for name, run, error, phrase in cases]


def _cli_cases():
    def zoo_cli(folder, *args):
        scratch_zoo(folder)
        return run_cli("hdl_keras_cli.zoo", *args)

    cases = [
        (
            "cli_unknown_backend_help",
            lambda f: run_subprocess_cli({"KERAS_BACKEND": "tensorfow"}, "-m", "hdl_keras.zoo", "--help"),
            CliError,
            "KERAS_BACKEND='tensorfow' is not a backend hdl_keras runs on",
        ),
        (
            "cli_unknown_backend_train",
            lambda f: run_subprocess_cli({"KERAS_BACKEND": "numpy"}, "-m", "hdl_keras.recipes.cli", "seed"),
            CliError,
            "hdl_keras does not",
        ),
        ("cli_eval_unknown_entry", lambda f: zoo_cli(f, "eval", "iris-mlp-xx"), CliError, "Unknown zoo entry"),
        ("cli_eval_zero_examples", lambda f: zoo_cli(f, "eval", "iris-mlp-dl", "--n", "0"), CliError, "n"),
        (
            "cli_eval_unknown_preset",
            lambda f: zoo_cli(f, "eval", "iris-mlp-dl", "--attacks", "strong"),
            CliError,
            "strong",
        ),
        (
            "cli_list_unknown_dataset",
            lambda f: zoo_cli(f, "list", "--dataset", "imagenet"),
            CliError,
            "Unknown dataset",
        ),
        ("train_unknown_recipe", lambda f: _train_recipe("fastest"), ValueError, "Unknown recipe"),
    ]
    return [Case(name, "cli", run, error, phrase) for name, run, error, phrase in cases]


def _train_recipe(name):
    from hdl_keras.recipes import train_recipe

    return train_recipe(name, "small_cnn", "mnist", epochs=1)


def _layer_and_model_cases():
    from hdl_keras import layers
    from hdl_keras import models

    cases = [
        (
            "small_cnn_grayscale_shape",
            lambda f: models.get("small_cnn", input_shape=(28, 28)),
            ValueError,
            "channels-last image shape",
        ),
        ("mlp_zero_classes", lambda f: models.get("mlp", input_shape=(4,), num_classes=0), ValueError, "num_classes"),
        ("unknown_model", lambda f: models.get("resnet1000"), ValueError, "resnet1000"),
        (
            "quant_dense_unknown_quantizer",
            lambda f: layers.QuantDense(4, kernel_quantizer="septenary"),
            ValueError,
            "septenary",
        ),
    ]
    return [Case(name, "layers", run, error, phrase) for name, run, error, phrase in cases]


def _quantization_and_pruning_cases():
    from hdl_keras import callbacks
    from hdl_keras import layers
    from hdl_keras import pruning
    from hdl_keras import quantizers
    from hdl_keras import saving

    def relax_fit(folder):
        base = layers.to_quantized(mlp(), "binary")
        base.compile(optimizer="sgd", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        x, y = table_batch(8)
        return base.fit(x, y, epochs=1, verbose=0, callbacks=[callbacks.BinaryRelax(rho=2.0, switch_epoch=3)])

    def export_relaxed(folder):
        model = layers.to_quantized(mlp(), "binary")
        quantizers.set_relax_lambda(model, 1.0)
        return saving.export_packed(model, pathlib.Path(folder) / "model.hdlpack")

    cases = [
        (
            "binary_relax_rho_below_one",
            lambda f: callbacks.BinaryRelax(rho=0.5, switch_epoch=2),
            ValueError,
            "`rho` to be finite and >= 1",
        ),
        (
            "binary_relax_switch_epoch_zero",
            lambda f: callbacks.BinaryRelax(rho=2.0, switch_epoch=0),
            ValueError,
            "switch_epoch",
        ),
        ("binary_relax_ends_relaxed", relax_fit, UserWarning, "will end with relaxed float weights"),
        (
            "relax_lambda_nan",
            lambda f: quantizers.set_relax_lambda(layers.to_quantized(mlp(), "binary"), float("nan")),
            ValueError,
            "number >= 0",
        ),
        ("export_packed_relaxed_model", export_relaxed, ValueError, "relax"),
        (
            "load_packed_garbage",
            lambda f: saving.load_packed(write_csv(f, "not a pack", "x.hdlpack")),
            ValueError,
            "hdlpack",
        ),
        ("magnitude_masks_amount_above_one", lambda f: pruning.magnitude_masks(mlp(), 1.5), ValueError, "amount"),
        ("shrink_negative_tol", lambda f: pruning.shrink(mlp(), tol=-1.0), ValueError, "tol"),
    ]
    return [Case(name, "quantization_pruning_export", run, error, phrase) for name, run, error, phrase in cases]


def cases():
    """The whole corpus, a list of `Case`."""
    return [
        *_attack_cases(),
        *_evaluate_cases(),
        *_objective_cases(),
        *_data_cases(),
        *_zoo_cases(),
        *_cli_cases(),
        *_layer_and_model_cases(),
        *_quantization_and_pruning_cases(),
    ]
