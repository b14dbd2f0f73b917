"""Presets: the JSON data equal the Python literals they replaced; unknown names are clear errors."""

import pytest

from hdl_keras import presets

# The literals the package held before the presets (copied here once, to pin the data).
OLD_UCI_ROWS = {
    "iris": ("iris", (100.00, 12.00, 100.00, 0.0), (99.33, 32.67, 96.67, 77.79)),
    "wine": ("wine", (98.89, 1.67, 94.44, 0.0), (98.33, 31.67, 97.22, 80.59)),
    "breast_cancer": ("brst-cancer-ws-diag", (97.37, 25.44, 95.61, 0.0), (96.67, 58.77, 95.61, 70.69)),
    "digits": (
        "optical-recog-digits (3822 rows; not our data: scikit-learn's 1797-row digits)",
        (97.83, 1.36, 97.39, 0.0),
        (97.93, 10.27, 97.65, 69.22),
    ),
}
OLD_IMAGE_TABLES = {
    "mnist": (
        "Table 3",
        0.1,
        {"DL": (99.2, 49.6, 99.1, 0.0), "Robust": (99.3, 78.4, 99.2, 0.0), "HDL": (99.3, 76.0, 99.2, 28.0)},
    ),
    "fashion_mnist": (
        "Table 2",
        0.01,
        {"DL": (91.8, 78.7, 91.5, 0.0), "Robust": (92.0, 81.1, 91.7, 0.0), "HDL": (92.1, 87.1, 91.8, 26.8)},
    ),
}
OLD_PAPER_TARGETS = {
    "mnist": {"natural": 99.21, "fgsm": 99.02, "ifgsm20": 98.91, "cw": 99.14},
    "fashion_mnist": {"natural": 92.74, "fgsm": 89.35, "ifgsm20": 88.68, "cw": 91.72},
}
OLD_TABLE_VIII_BR = {"fashion_mnist": (91.69, 87.85, 87.22, 90.44), "mnist": (99.22, 98.90, 98.90, 99.12)}
COLUMNS = ("natural", "adversarial", "stability", "sparsity")


def test_threat_models_equal_the_old_dicts_bit_for_bit():
    pgd10 = {"eps": 8 / 255, "step_size": 2 / 255, "steps": 10}
    assert presets.pgd_settings("dinh2020enresnet-pgd10") == pgd10  # PAPER_THREAT_MODEL, ATTACK_PRESETS cifar10
    assert presets.pgd_settings("techniques_report-mnist-pgd20") == {"eps": 16 / 255, "step_size": 2 / 255, "steps": 20}
    assert presets.pgd_settings("li2020binaryrelax-ifgsm20") == {"eps": 8 / 255, "step_size": 2 / 255, "steps": 20}
    assert presets.threat_model("bertsimas2023-tables") == {"norm": "linf", "eps": 0.1, "scaling": "minmax"}
    radii = {d: presets.threat_model(f"bertsimas2023-{d}")["eps"] for d in ("mnist", "fashion_mnist", "cifar10")}
    assert radii == {"mnist": 0.1, "fashion_mnist": 0.01, "cifar10": 0.01}  # PAPER_ATTACK_EPS


def test_the_code_reads_its_threat_models_from_the_presets():
    from hdl_keras.experiments.protocol import PAPER_ATTACK_EPS
    from hdl_keras.objectives import ATTACK_PRESETS
    from hdl_keras.recipes import PAPER_EVALUATION
    from hdl_keras.recipes import PAPER_THREAT_MODEL

    assert PAPER_THREAT_MODEL == ATTACK_PRESETS["cifar10"] == presets.pgd_settings("dinh2020enresnet-pgd10")
    assert ATTACK_PRESETS["mnist"] == presets.pgd_settings("techniques_report-mnist-pgd20")
    assert all(v == presets.pgd_settings("li2020binaryrelax-ifgsm20") for v in PAPER_EVALUATION.values())
    assert PAPER_ATTACK_EPS == {"mnist": 0.1, "fashion_mnist": 0.01, "cifar10": 0.01}


def test_paper_values_equal_the_old_literals():
    for dataset, (row, dl, hdl) in OLD_UCI_ROWS.items():
        values = presets.paper_values("bertsimas2023", "tables_8_11", dataset)
        assert values["row"] == row
        assert tuple(values["DL"][c] for c in COLUMNS) == dl
        assert tuple(values["HDL"][c] for c in COLUMNS) == hdl
    for dataset, (table, rho, rows) in OLD_IMAGE_TABLES.items():
        values = presets.paper_values("bertsimas2023", table.lower().replace(" ", "_"))
        assert values["dataset"] == dataset and values["rho"] == rho
        assert {m: tuple(v[c] for c in COLUMNS) for m, v in values["rows"].items()} == rows
    assert presets.paper_values("li2020binaryrelax", "table_8_float")["rows"] == OLD_PAPER_TARGETS
    for dataset, numbers in OLD_TABLE_VIII_BR.items():
        values = presets.paper_values("li2020binaryrelax", "table_8_binaryrelax", dataset)
        assert tuple(values[c] for c in ("natural", "fgsm", "ifgsm20", "cw")) == numbers
    assert presets.paper_values("techniques_report", "mnist_pgd_at", "FFF") == {
        "clean_accuracy": 0.989,
        "square": 0.9755,
        "eps": 16 / 255,
    }


def test_citations_keep_the_cards_reference_text():
    assert presets.citation("bertsimas2023") == "Bertsimas et al. (2023), Holistic Deep Learning"
    assert presets.citation("li2020binaryrelax") == (
        "Li, Wang and Xin (2020), An Integrated Approach to Produce Robust Models with High Efficiency"
    )
    for key in presets.papers():
        record = presets.paper(key)
        assert record["title"] in record["citation"]
    for name in presets.threat_models():
        assert presets.threat_model_source(name)[0] in presets.papers()


def test_attack_suites_list_the_zoo_presets_in_order():
    assert presets.attack_suites() == ["standard", "bertsimas2023", "full", "autoattack"]
    assert list(presets.attack_suite("full")["attacks"]) == ["fgsm", "pgd20", "apgd", "cw", "square"]
    assert presets.attack_suite("autoattack")["autoattack"] is True


def test_returned_values_are_copies():
    presets.threat_model("bertsimas2023-tables")["eps"] = 5.0
    presets.paper_values("bertsimas2023", "table_3", "HDL")["natural"] = 0.0
    assert presets.threat_model("bertsimas2023-tables")["eps"] == 0.1
    assert presets.paper_values("bertsimas2023", "table_3", "HDL")["natural"] == 99.3


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: presets.threat_model("bertsimas2023-mnsit"), "Did you mean 'bertsimas2023-mnist'"),
        (lambda: presets.paper_values("bertsimas2024"), "Unknown paper with reported values"),
        (lambda: presets.paper_values("bertsimas2023", "table_9"), "Unknown table of bertsimas2023"),
        (lambda: presets.paper_values("bertsimas2023", "table_3", "SDL"), "Unknown row"),
        (lambda: presets.attack_suite("strong"), "Expected one of"),
        (lambda: presets.citation("madry2017"), "Did you mean 'madry2018'"),
        (lambda: presets.pgd_settings("bertsimas2023-tables"), "fixes no PGD step_size, steps"),
    ],
)
def test_unknown_names_are_clear_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_zoo_attack_sets_are_built_as_before():
    import keras

    from hdl_keras.zoo.evaluation import PRESETS
    from hdl_keras.zoo.evaluation import attack_set

    assert PRESETS == ("standard", "bertsimas2023", "full", "autoattack")
    model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten(), keras.layers.Dense(2)])
    eps = 16 / 255
    full = attack_set(model, eps, "full", seed=7, images=True)
    assert [type(a).__name__ for a in full.values()] == ["FGSM", "PGD", "APGD", "PGD", "Square"]
    assert full["pgd20"].step_size == eps / 4 and full["pgd20"].steps == 20 and full["pgd20"].random_start
    assert full["pgd20"].seed == full["apgd"].seed == full["square"].seed == 7
    assert full["apgd"].steps == 100 and full["square"].n_queries == 1000
    assert full["cw"].step_size == eps / 4 and full["cw"].steps == 20 and not full["cw"].random_start
    assert list(attack_set(model, eps, "full", images=False)) == ["fgsm", "pgd20", "apgd", "cw"]
    assert list(attack_set(model, eps, "autoattack")) == list(attack_set(model, eps, "standard")) == ["fgsm", "pgd20"]
