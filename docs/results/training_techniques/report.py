"""Writes index.md (and the confusion-matrix figures) from the run records in records/.

Usage, from the repository root: python docs/results/training_techniques/report.py
Also importable: `summary()` gives the numbers `benchmarks/training_techniques_check.py` prints.
"""

import json
import math
from pathlib import Path

HERE = Path(__file__).resolve().parent
RECORDS = HERE / "records"
IMAGES = HERE / "img"
RUN = "python docs/results/training_techniques/run.py"
CODES = ["FFF", "FFT", "FTF", "FTT", "TFF", "TFT", "TTF", "TTT"]

# The training-techniques report's tables (Li, Narey, Gauher, Appachi Senthilkumar),
# clean and Square accuracy in %, MNIST at eps 16/255.
REPORT_MNIST = {
    "standard": {
        "FFF": (98.90, 91.65), "FFT": (98.75, 91.90), "FTF": (99.20, 89.45),
        "FTT": (98.75, 91.05), "TFF": (99.05, 90.40), "TFT": (98.75, 86.40),
        "TTF": (98.75, 88.90), "TTT": (98.70, 79.20),
    },
    "adversarial": {
        "FFF": (98.90, 97.55), "FFT": (99.10, 97.60), "FTF": (98.65, 96.40),
        "FTT": (98.90, 96.70), "TFF": (99.25, 97.80), "TFT": (98.95, 95.85),
        "TTF": (99.05, 97.85), "TTT": (99.15, 95.60),
    },
}
# CIFAR-10 (eps 8/255; codes are augmentation, noise): not run here.
REPORT_CIFAR = {
    "standard": {"FF": (72.40, 0.20), "FT": (71.45, 0.80), "TF": (79.25, 0.90), "TT": (76.65, 0.95)},
    "adversarial": {"FF": (52.50, 28.85), "FT": (52.35, 28.50), "TF": (47.20, 27.25), "TT": (46.75, 26.30)},
}
REPORT_GMM = {"gmm-baseline": (65.60, 43.60), "gmm-at": (63.61, 57.90)}
REPORT_PCA = {10: 63.85, 50: 65.60, 100: 61.22, 200: 49.58}


def records():
    return {path.stem: json.loads(path.read_text()) for path in sorted(RECORDS.glob("*.json"))}


def adversarial_record(found, dataset, code):
    """The PGD-20 record of a configuration, else the FGSM-RS one, else None."""
    for method in ("pgd20", "fgsm_rs"):
        key = f"cnn-{dataset}-{method}-{code}"
        if key in found:
            return found[key]
    return None


def cnn_cells(found, dataset):
    """{(kind, code): record or None} of the 16 runs of a dataset."""
    cells = {}
    for code in CODES:
        cells[("standard", code)] = found.get(f"cnn-{dataset}-standard-{code}")
        cells[("adversarial", code)] = adversarial_record(found, dataset, code)
    return cells


def comparisons(found):
    """(ours %, report %) pairs of every report cell we have a number for."""
    pairs = []
    for (kind, code), record in cnn_cells(found, "mnist").items():
        if record is not None:
            clean, square = REPORT_MNIST[kind][code]
            pairs += [(100 * record["clean_all"], clean), (100 * record["square"], square)]
    for key, (clean, square) in REPORT_GMM.items():
        if key in found:
            record = found[key]
            pairs += [(100 * record["clean_all"], clean), (100 * record["square"], square)]
    return pairs


def summary(found=None):
    found = records() if found is None else found
    pairs = comparisons(found)
    gmm, gmm_at = found.get("gmm-baseline", {}), found.get("gmm-at", {})
    agreements = [r["sklearn_agreement"] for r in (gmm, gmm_at) if "sklearn_agreement" in r]
    return {
        "configs_mnist": sum(r is not None for r in cnn_cells(found, "mnist").values()),
        "configs_fashion_mnist": sum(
            r is not None for r in cnn_cells(found, "fashion_mnist").values()
        ),
        "gmm_sklearn_agreement": min(agreements) if agreements else None,
        "gmm_clean": gmm.get("clean_all"),
        "gmm_square": gmm.get("square"),
        "gmm_at_clean": gmm_at.get("clean_all"),
        "gmm_at_square": gmm_at.get("square"),
        "cells_at_or_above_report": sum(ours >= theirs for ours, theirs in pairs),
        "cells_total": len(pairs),
    }


def wilson(fraction, n, z=1.96):
    """95 % Wilson score interval of a binomial proportion, in %."""
    centre = (fraction + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(fraction * (1 - fraction) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return 100 * (centre - half), 100 * (centre + half)


def cell(fraction, n):
    low, high = wilson(fraction, n)
    return f"{100 * fraction:.2f} [{low:.1f}, {high:.1f}]"


def command(record):
    return f"`{record['command']}`" if "command" in record else "(command not recorded)"


def reduced_note(record):
    notes = []
    if record.get("epochs", 10) != 10:
        notes.append(f"{record['epochs']} epochs")
    if record.get("train_subset"):
        notes.append(f"{record['train_subset']} training images")
    if record.get("lr", 0.1) != 0.1:
        notes.append(f"lr {record['lr']:g}")
    if record.get("val_n", 8000) != 8000:
        notes.append(f"pocket on {record['val_n']} validation images")
    if record.get("n", 2000) != 2000:
        notes.append(f"Square on {record['n']} test images")
    if record.get("square_queries", 5000) != 5000:
        notes.append(f"{record['square_queries']} Square queries")
    if record.get("method") == "fgsm_rs":
        notes.append("FGSM-RS training")
    if record.get("same_as"):
        notes.append(f"balancing adds nothing (classes already equal): the run of {record['same_as']}")
    if record.get("same_as") and len(notes) == 1:
        return notes[0]
    return "REDUCED: " + ", ".join(notes) if notes else "full protocol"


def autoattack_cell(record):
    """The record's AutoAttack accuracy with its interval, or how to get it."""
    if "autoattack" not in record:
        return "not run"
    return cell(record["autoattack"], record["autoattack_n"])


def cnn_table(found, dataset, kind, reference):
    lines = [
        "| config | clean, report | clean, ours [95 % CI] | Square, report | Square, ours [95 % CI] "
        "| AutoAttack, ours [95 % CI] | best epoch | run |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    missing, commands = [], []
    for code in CODES:
        record = cnn_cells(found, dataset)[(kind, code)]
        ref_clean, ref_square = reference.get(code, ("-", "-")) if reference else ("-", "-")
        ref_clean = f"{ref_clean:.2f}" if reference else "-"
        ref_square = f"{ref_square:.2f}" if reference else "-"
        if record is None:
            lines.append(f"| {code} | {ref_clean} | not run | {ref_square} | not run | - | - | - |")
            missing.append(code)
            continue
        lines.append(
            f"| {code} | {ref_clean} | {cell(record['clean_all'], record['n_all'])} | {ref_square} | "
            f"{cell(record['square'], record['n'])} | {autoattack_cell(record)} | "
            f"{record['best_epoch']} | {reduced_note(record)} |"
        )
        if command(record) not in commands:
            commands.append(command(record))
    if commands:
        lines += ["", "Commands (each trains the configurations it lacks a record of): "
                  + ", ".join(commands) + "."]
    return lines, missing


def confusion_figures(found, draw=True):
    """The four TTF matrices (standard / adversarial x clean / Square): markdown lines.

    With `draw`, also writes their PNG files to img/ (matplotlib); without, only
    the lines (the staleness test compares the page without touching img/).
    """
    from hdl_keras.attacks import most_confused_pairs

    if draw:
        try:
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError:
            return ["(matplotlib is not installed: figures not drawn)"]
        from hdl_keras.attacks import plot_confusion_matrix

    lines = []
    for kind, record in (
        ("standard", found.get("cnn-mnist-standard-TTF")),
        ("adversarial", adversarial_record(found, "mnist", "TTF")),
    ):
        if record is None:
            lines.append(f"- TTF {kind}: not run yet.")
            continue
        label = "standard" if kind == "standard" else record["method"]
        for view in ("clean", "square"):
            matrix = record[f"confusion_{view}"]
            name = f"confusion-mnist-{label}-TTF-{view}.png"
            if draw:
                IMAGES.mkdir(exist_ok=True)
                ax = plot_confusion_matrix(matrix, title=f"MNIST TTF, {label}, {view}")
                ax.figure.tight_layout()
                ax.figure.savefig(IMAGES / name, dpi=90)
                plt.close(ax.figure)
            pairs = ", ".join(
                f"{true} as {predicted} ({count})"
                for true, predicted, count in most_confused_pairs(matrix, top=5)
            )
            lines += [
                f"**{label}, {view}** ({record['n']} test images): most confused "
                f"(true as predicted): {pairs or 'none'}",
                "",
                f"![{label} {view}](img/{name})",
                "",
            ]
    return lines


def gmm_section(found):
    lines = [
        "## Gaussian-mixture classifier (MNIST)",
        "",
        "PCA to `d` dimensions and a 10-component full-covariance GMM (scikit-learn, "
        "`random_state=0`) fitted on the training images (the 60,000, unless the run column "
        "names fewer: the first n); each cluster is labelled by its mode training label. Clean accuracy on the 2,000 test images (the report: "
        "10,000 test images).",
        "",
        "| PCA dims | clean, report | clean, ours [95 % CI] | cluster labels | run |",
        "| ---: | ---: | ---: | --- | --- |",
    ]
    for dims, reference in REPORT_PCA.items():
        record = found.get(f"gmm-pca{dims}")
        if record is None:
            lines.append(f"| {dims} | {reference:.2f} | not run | - | - |")
            continue
        lines.append(
            f"| {dims} | {reference:.2f} | {cell(record['clean'], record['n'])} | "
            f"{record['cluster_labels']} | {reduced_note(record)}; {command(record)} |"
        )
    lines += [
        "",
        "The Keras export (`hdl_keras.models.from_sklearn`: projection `Dense`, "
        "`GaussianMixtureScores`, `ClusterLabelScores`) is attacked directly: Square "
        "(l_inf 16/255, 1 restart) is black-box as in the report; APGD-CE and APGD-DLR (100 "
        "steps) are white-box, possible because the exported mixture is differentiable.",
        "",
        "| model | clean, report | clean, ours | Square, report | Square, ours | APGD-CE | "
        "APGD-DLR | agreement with scikit-learn | run |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for key, title in (("gmm-baseline", "GMM"), ("gmm-at", "GMM, adversarially trained")):
        record = found.get(key)
        ref_clean, ref_square = REPORT_GMM[key]
        if record is None:
            lines.append(f"| {title} | {ref_clean:.2f} | not run | {ref_square:.2f} | not run "
                         "| - | - | - | - |")
            continue
        n = record["n"]
        note = f"{reduced_note(record)}; {command(record)}"
        if record.get("adversarial"):
            note += f"; {record['perturbed_examples']} training images perturbed with " \
                    f"{record['train_queries']} Square queries"
        lines.append(
            f"| {title} | {ref_clean:.2f} | {cell(record['clean_all'], record['n_all'])} | "
            f"{ref_square:.2f} | "
            f"{cell(record['square'], n)} | {cell(record['apgd_ce'], n)} | "
            f"{cell(record['apgd_dlr'], n)} | {100 * record['sklearn_agreement']:.2f} % of "
            f"{record['n_all']} | {note} |"
        )
    for key in ("gmm-baseline", "gmm-at"):
        record = found.get(key)
        if record is None:
            continue
        white = min(record["apgd_ce"], record["apgd_dlr"])
        verdict = (
            f"Square overstated its robustness by {100 * (record['square'] - white):.2f} points"
            if white < record["square"]
            else "the white-box attacks do not go below Square"
        )
        lines.append(f"\n- {key}: {verdict} (flags: {', '.join(record['flags']) or 'none'}).")
    return lines


def measure_section(found):
    record = found.get("measure")
    if record is None:
        return ["Cost measurement not run yet: `" + RUN + " measure`."]
    return [
        f"Measured on this machine (tensorflow, 2-core CPU, no other job running, 20 training steps of 128 "
        f"MNIST images each, `{RUN} measure`): per epoch of 60,000 images, standard "
        f"{record['standard_seconds_per_epoch']:.0f} s, PGD-20 training "
        f"{record['pgd20_seconds_per_epoch']:.0f} s ({record['pgd20_ratio']:.1f} x), FGSM-RS "
        f"{record['fgsm_rs_seconds_per_epoch']:.0f} s ({record['fgsm_rs_ratio']:.1f} x); "
        f"Square on 500 images: {record['square_500_images_seconds_per_query']:.3f} s per query "
        "(5,000 queries at most per image)." + (f" Note: {record['note']}." if "note" in record else ""),
    ]


def distinct_cnn_runs(found):
    """The CNN records that trained a network (not a `same_as` reuse of another run), by key."""
    return {key: r for key, r in found.items() if r.get("kind") == "cnn" and not r.get("same_as")}


def full_protocol_hours(found):
    """Hours the report's protocol would take here for the CNN runs recorded, from `measure`.

    Each distinct run (a `same_as` record reuses one) trains 10 epochs of 60,000 images at
    its method's measured seconds per epoch, and is attacked by Square with 5,000 queries
    on 2,000 test images at the measured seconds per image and query.
    """
    measure = found.get("measure")
    runs = list(distinct_cnn_runs(found).values())
    if measure is None or not runs:
        return None
    training = sum(10 * measure[f"{r['method']}_seconds_per_epoch"] for r in runs)
    square = len(runs) * 2000 * 5000 * measure["square_500_images_seconds_per_query"] / 500
    return training / 3600, square / 3600


def scale_section(found):
    """One paragraph on what the report's protocol would cost here for the CNN runs recorded."""
    distinct = distinct_cnn_runs(found)
    hours = full_protocol_hours(found)
    if hours is None:
        return []
    return [
        f"Scale of the CNN runs: the report's protocol for the {len(distinct)} distinct runs "
        f"would take about {sum(hours):.0f} hours here ({hours[0]:.1f} h of training, "
        f"{hours[1]:.1f} h of Square, from the measurement above); each row states the scale "
        "it ran at instead, chosen to fit one 3-hour session on 2 CPU cores (`run.sh` gives "
        "the reasons and runs the report's protocol with `CNN_SCALE=\"\"`).",
        "",
    ]


def autoattack_rows(found):
    """(key, record) of the distinct CNN runs with an AutoAttack result, MNIST first."""
    rows = [(key, r) for key, r in distinct_cnn_runs(found).items() if "autoattack" in r]
    return sorted(rows, key=lambda row: (row[1]["dataset"] != "mnist", row[0]))


def square_overstatement(rows):
    """Mean of Square minus AutoAttack accuracy (points) over `rows`, and how many are above 0."""
    gaps = [100 * (r["autoattack_square"] - r["autoattack"]) for _, r in rows]
    return sum(gaps) / len(gaps), sum(gap > 0 for gap in gaps)


def autoattack_section(found):
    """Square (the report's only attack) against AutoAttack, paired on the same test images."""
    rows = autoattack_rows(found)
    if not rows:
        return ["Not run yet: `" + RUN + " autoattack --dataset mnist|fashion_mnist`."]
    n = min(r["autoattack_n"] for _, r in rows)
    seconds = sorted(r["autoattack_seconds"] for _, r in rows)
    lines = [
        "The report measures robustness with Square alone, a black-box attack that "
        "gradient masking cannot fool but that a white-box attack may beat. AutoAttack "
        "(Croce and Hein 2020, standard version: APGD-CE, APGD-T, FAB-T, Square with "
        "5,000 queries; eps 16/255) ran on the first test images of each trained CNN, and "
        "Square with the grid's settings ran again on the same images, so each pair below "
        "is on identical images. REDUCED: "
        f"{n} images per model (AutoAttack took {seconds[0]:.0f}-{seconds[-1]:.0f} s per "
        "model here, some of them beside other jobs on the 2 cores; the Square column of the "
        "tables above is on more images).",
        "",
        "| run | Square, same images [95 % CI] | after APGD-CE | AutoAttack [95 % CI] | "
        "Square - AutoAttack (points) | seconds |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for key, r in rows:
        count = r["autoattack_n"]
        lines.append(
            f"| {key} | {cell(r['autoattack_square'], count)} | "
            f"{100 * r['autoattack_by_attack']['apgd-ce']:.2f} | {cell(r['autoattack'], count)} | "
            f"{100 * (r['autoattack_square'] - r['autoattack']):+.2f} | "
            f"{r['autoattack_seconds']:.0f} |"
        )
    commands = sorted({r["autoattack_command"] for _, r in rows})
    lines += ["", "Commands: " + ", ".join(f"`{c}`" for c in commands) + ".", ""]
    for dataset, title in (("mnist", "MNIST"), ("fashion_mnist", "Fashion-MNIST")):
        for adversarial, label in ((False, "standard training"), (True, "adversarial training")):
            group = [(k, r) for k, r in rows if r["dataset"] == dataset
                     and (r["method"] != "standard") == adversarial]
            if group:
                mean, above = square_overstatement(group)
                lines.append(f"- {title}, {label}: Square overstates robustness by {mean:+.2f} "
                             f"points on average; AutoAttack is lower in {above} of "
                             f"{len(group)} runs.")
    return lines


def equivalence_section(found):
    """PGD-20 against FGSM-RS training on FFF (the sweep's stand-in for PGD-20)."""
    exact, fast = found.get("cnn-mnist-pgd20-FFF"), found.get("cnn-mnist-fgsm_rs-FFF")
    if exact is None or fast is None:
        return ["Not run yet: needs both `cnn-mnist-pgd20-FFF` and `cnn-mnist-fgsm_rs-FFF`."]
    lines = ["| training | clean [95 % CI] | Square [95 % CI] | best validation PGD-20 | best epoch |",
             "| --- | ---: | ---: | ---: | ---: |"]
    for name, record in (("PGD-20", exact), ("FGSM-RS", fast)):
        lines.append(f"| {name} | {cell(record['clean_all'], record['n_all'])} | "
                     f"{cell(record['square'], record['n'])} | "
                     f"{cell(record['best_val'], record['val_n'])} | {record['best_epoch']} |")
    measure = found.get("measure")
    if measure is not None:
        lines += ["", f"Cost per epoch on an idle machine (`{RUN} measure`): PGD-20 "
                  f"{measure['pgd20_ratio']:.1f} x standard training, FGSM-RS "
                  f"{measure['fgsm_rs_ratio']:.1f} x, so FGSM-RS is "
                  f"{measure['pgd20_ratio'] / measure['fgsm_rs_ratio']:.1f} times cheaper. (The "
                  "runs' own wall times are not comparable: they shared the cores with other runs.)"]
    overlap = all(
        _overlap(wilson(exact[k], exact[n]), wilson(fast[k], fast[n]))
        for k, n in (("clean_all", "n_all"), ("square", "n"))
    )
    lines += ["", "The 95 % intervals overlap on both metrics: FGSM-RS stands in for PGD-20."
              if overlap else "The intervals do not overlap on every metric: FGSM-RS is not "
              "equivalent here; read the sweep with that in mind."]
    return lines


def noise_section(found):
    """Each `-sigma` record beside the run of the same configuration at the default sigma."""
    sensitivity = {k: r for k, r in found.items() if "-sigma" in k}
    if not sensitivity:
        return ["Not run yet: `" + RUN + " cnn --codes FFT --noise 0.3`."]
    lines = [
        "The report does not give the noise's standard deviation. We use sigma 0.1 (a tenth of "
        "the pixel range: visible, yet every digit stays legible) and check one other value.",
        "",
        "| run | sigma | clean [95 % CI] | Square [95 % CI] | run |",
        "| --- | ---: | ---: | ---: | --- |",
    ]
    for key, record in sensitivity.items():
        default_key = key.split("-sigma")[0]
        for name, row in ((default_key, found.get(default_key)), (key, record)):
            if row is None:
                lines.append(f"| `{name}` | - | not run | not run | - |")
                continue
            lines.append(
                f"| `{name}` | {row['noise_stddev']:g} | {cell(row['clean_all'], row['n_all'])} | "
                f"{cell(row['square'], row['n'])} | {reduced_note(row)}; {command(row)} |"
            )
    return lines


def _overlap(first, second):
    return first[0] <= second[1] and second[0] <= first[1]


def letter_effect(cells, letter, kind, metric):
    """Mean change (points) of `metric` when code letter `letter` turns F -> T.

    Over the pairs of configurations run with the same training method.
    """
    changes = []
    for code in CODES:
        if code[letter] == "T":
            on = cells[(kind, code)]
            off = cells[(kind, code[:letter] + "F" + code[letter + 1 :])]
            if (on is not None and off is not None and not on.get("same_as")
                    and on["method"] == off["method"]):  # FFF's PGD-20 run pairs with nothing
                changes.append(100 * (on[metric] - off[metric]))
    return (sum(changes) / len(changes), len(changes)) if changes else (None, 0)


def off_diagonal(matrix):
    return sum(sum(row) for row in matrix) - sum(row[i] for i, row in enumerate(matrix))


def conclusions_section(found):
    """The report's conclusions (its "Analysis" sections), checked on the records that exist."""
    lines = []
    for dataset, title in (("mnist", "MNIST"), ("fashion_mnist", "Fashion-MNIST")):
        cells = cnn_cells(found, dataset)
        pairs = [(cells[("standard", code)], cells[("adversarial", code)]) for code in CODES]
        pairs = [(s, a) for s, a in pairs if s is not None and a is not None]
        if pairs:
            better = sum(a["square"] > s["square"] for s, a in pairs)
            clean = sum(100 * (a["clean_all"] - s["clean_all"]) for s, a in pairs) / len(pairs)
            lines.append(f"- *Adversarial training improves Square accuracy in every "
                         f"configuration* ({title}): in {better} of the {len(pairs)} "
                         f"configurations run; clean accuracy changes by {clean:+.2f} points on "
                         "average (the report: about the same on MNIST, lower on CIFAR-10).")
    cells = cnn_cells(found, "mnist")
    for letter, claim in ((0, "*Balancing has a negligible impact* (MNIST)"),
                          (2, "*Gaussian noise has a minimal impact on standard and robust "
                              "accuracy* (MNIST)")):
        effects = []
        for kind in ("standard", "adversarial"):
            for metric, label in (("clean_all", "clean"), ("square", "Square")):
                mean, count = letter_effect(cells, letter, kind, metric)
                if count:
                    effects.append(f"{label} {mean:+.2f} ({kind}, {count} pairs)")
        if effects:
            lines.append(f"- {claim}: mean change in points, {'; '.join(effects)}.")
    mean, count = letter_effect(cnn_cells(found, "fashion_mnist"), 1, "standard", "clean_all")
    if count:
        lines.append(f"- *Augmentation improves clean accuracy* (the report: CIFAR-10; here "
                     f"Fashion-MNIST, standard training): mean change {mean:+.2f} points over "
                     f"{count} pairs.")
    standard, adversarial = cells[("standard", "TTF")], cells[("adversarial", "TTF")]
    if standard is not None and adversarial is not None:
        lines.append(
            f"- *Adversarial training greatly reduces inter-class confusions under Square* "
            f"(MNIST, TTF): {off_diagonal(standard['confusion_square'])} misclassified of "
            f"{standard['n']} (standard) against {off_diagonal(adversarial['confusion_square'])} "
            f"of {adversarial['n']} ({adversarial['method']})."
        )
    attacked = [r["n"] for r in found.values() if r.get("kind") == "cnn"]
    if attacked:
        low, high = wilson(0.9, min(attacked))
        lines.append(f"- Noise level of these comparisons: a Square cell on {min(attacked)} images "
                     f"at 90 % has a 95 % interval of [{low:.1f}, {high:.1f}], so changes of a "
                     "few points between configurations are within it.")
    rows = autoattack_rows(found)
    if rows:
        mean, above = square_overstatement(rows)
        lines.append(f"- *Square accuracy measures robustness* (the report's protocol): AutoAttack "
                     f"is lower than Square on the same images in {above} of {len(rows)} CNN "
                     f"runs, by {mean:.2f} points on average (section above).")
    gmm, gmm_at = found.get("gmm-baseline"), found.get("gmm-at")
    if gmm and gmm_at:
        verdict = "holds" if gmm_at["square"] > gmm["square"] else "does not hold"
        lines.append(f"- *Square-based adversarial training improves the GMM's Square "
                     f"accuracy*: {verdict} ({100 * gmm['square']:.2f} -> "
                     f"{100 * gmm_at['square']:.2f} %).")
    return lines or ["No pair of records to check yet."]


def page(found, draw=True):
    """The markdown of index.md from the records `found`; `draw` writes the figures too."""
    lines = [
        "# Training techniques: preprocessing, Square evaluation, Gaussian mixtures",
        "",
        "Written by `python docs/results/training_techniques/report.py` from the run records "
        "in `records/` (one JSON file per finished run, written by `run.py`); rerun everything "
        "with `bash docs/results/training_techniques/run.sh` (resumable: finished records are "
        "skipped). Reference: Li, Narey, Gauher, Appachi Senthilkumar, *Investigating the "
        "Effects of Training Techniques on Classification Robustness* (course project report; "
        "\"the report\" below). Backend: tensorflow, CPU.",
        "",
        "Protocol: MNIST's 60,000 official training images train; its 10,000 official test "
        "images are permuted by `numpy.random.default_rng(0)`, the first 8,000 validate and "
        "the last 2,000 test (Fashion-MNIST likewise). Small CNN (`hdl_keras.models.small_cnn`), SGD lr 0.1, momentum "
        "0.9, coupled weight decay 5e-4, batch 128, pocket criterion (best validation "
        "accuracy; best validation PGD-20 accuracy for adversarial training). Preprocessing "
        "codes (balancing, augmentation, noise) from `hdl_keras.preprocessing`: balancing by "
        "shifted (up to 10 %) and rescaled (up to 10 %) copies, a random crop of up to 2 "
        "pixels per image, no flip for digits, Gaussian noise of standard deviation 0.1. "
        "Intervals: 95 % Wilson intervals over the test images; clean accuracy is over the "
        "2,000 test images, attacked accuracy over the images attacked (the run column says "
        "how many). A run with any setting below the report's is marked REDUCED in its row, "
        "beside the exact command that produced it.",
        "",
        *measure_section(found),
        "",
        *scale_section(found),
    ]
    missing_commands = []
    for dataset, title in (("mnist", "MNIST"), ("fashion_mnist", "Fashion-MNIST")):
        for kind, heading in (("standard", "standard training"),
                              ("adversarial", "adversarial training")):
            reference = REPORT_MNIST[kind] if dataset == "mnist" else None
            table, missing = cnn_table(found, dataset, kind, reference)
            lines += [f"## {title}, {heading}", ""]
            if dataset == "fashion_mnist":
                lines += ["Fashion-MNIST stands in for the report's CIFAR-10 columns (no "
                          "CIFAR-10 on this machine); the report has no Fashion-MNIST "
                          "numbers. Its classes are balanced (6,000 training images each), so "
                          "balancing adds nothing: a T.. configuration is the run of its F.. "
                          "twin (the report likewise skips balancing on CIFAR-10).", ""]
            if kind == "adversarial":
                lines += ["PGD-20 (eps 16/255, step 2/255) where run, else FGSM with a random "
                          "start (step 1.25 eps, Wong et al. 2020; run column).", ""]
            lines += table + [""]
            if missing:
                method = "standard" if kind == "standard" else "fgsm_rs"
                missing_commands.append(
                    f"`{RUN} cnn --dataset {dataset} --method {method} --codes "
                    f"{' '.join(missing)}`"
                )
    gmm_keys = ["gmm-baseline", "gmm-at"] + [f"gmm-pca{dims}" for dims in REPORT_PCA]
    if any(key not in found for key in gmm_keys):
        missing_commands.append(f"`{RUN} gmm` (Gaussian mixtures: the models, then the PCA table)")
    for dataset in ("mnist", "fashion_mnist"):
        lacking = [k for k, r in found.items()
                   if r.get("kind") == "cnn" and r["dataset"] == dataset and "autoattack" not in r]
        if lacking:
            missing_commands.append(
                f"`{RUN} autoattack --dataset {dataset} --autoattack-n 64` (AutoAttack on "
                f"{len(lacking)} records; "
                "it needs the trained models in runs/training_techniques/, which a fresh clone "
                "lacks: retrain them with `cnn ... --redo`)"
            )
    if not any("-sigma" in key for key in found):
        missing_commands.append(f"`{RUN} cnn --codes FFT --noise 0.3` (noise sensitivity)")
    if "cnn-mnist-pgd20-FFF" not in found:
        missing_commands.append(f"`{RUN} cnn --dataset mnist --method pgd20 --codes FFF` (the "
                                "report's exact PGD-20, for the FGSM-RS equivalence)")
    lines += ["## CIFAR-10 (the report's, not run here)", "",
              "| config (augmentation, noise) | standard clean | standard Square | PGD-10 clean "
              "| PGD-10 Square |", "| --- | ---: | ---: | ---: | ---: |"]
    for code in REPORT_CIFAR["standard"]:
        s, a = REPORT_CIFAR["standard"][code], REPORT_CIFAR["adversarial"][code]
        lines.append(f"| {code} | {s[0]:.2f} | {s[1]:.2f} | {a[0]:.2f} | {a[1]:.2f} |")
    lines += ["", "## Square against AutoAttack", ""] + autoattack_section(found)
    lines += ["", "## FGSM-RS against PGD-20 (MNIST, FFF)", ""] + equivalence_section(found)
    lines += ["", "## Noise sensitivity", ""] + noise_section(found)
    lines += ["", "## Confusion matrices (MNIST, TTF)", ""] + confusion_figures(found, draw)
    lines += [""] + gmm_section(found)
    lines += ["", "## The report's conclusions, on our runs", ""] + conclusions_section(found)
    numbers = summary(found)
    lines += [
        "", "## Summary", "",
        f"Cells of the report's MNIST tables and GMM rows with a number of ours: "
        f"{numbers['cells_total']}; at or above the report's value: "
        f"{numbers['cells_at_or_above_report']}.", "",
        "## Not run yet", "",
    ]
    lines += [f"- {command}" for command in missing_commands] or ["Everything ran."]
    return "\n".join(lines) + "\n"


def main():
    found = records()
    (HERE / "index.md").write_text(page(found))
    print(json.dumps(summary(found)))


if __name__ == "__main__":
    main()
