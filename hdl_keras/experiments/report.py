"""Markdown report of a protocol run, in the layout of the paper's tables.

Two tables of test values (%, one decimal, the best of each row in bold):
the configuration chosen on validation separately for each metric, and the
one chosen by average validation rank (paper Tables 2-4). Above them: the
dataset, the settings, a REDUCED label listing what differs from the paper
protocol, and the command that produced the run.
"""

from hdl_keras.experiments import selection

# Column labels of paper Tables 2-4.
SHORT_NAMES = {
    "DL": "DL",
    "Robust": "Rob.",
    "Stable": "Stab.",
    "Sparse": "Sparse",
    "Robust+Sparse": "Rob. + Sparse",
    "Stable+Sparse": "Stab. + Sparse",
    "Stable+Robust": "Stab. + Rob.",
    "HDL": "HDL",
}


def markdown_report(result):
    """Renders a protocol run as markdown.

    Args:
        result: a `ProtocolResult` (anything with `settings` and `runs`).

    Returns:
        The report as a str: header (dataset, REDUCED label, command,
        settings), the "selected per metric" table (rows: the four metrics,
        columns: the methods, cells: the test value of the configuration
        chosen on validation for that row's metric), the "average-rank
        selection" table (rows Avg. accuracy, Adv. acc., Stability,
        Sparsity; columns DL ... HDL) and the chosen configurations.
    """
    settings, runs = result.settings, result.runs
    per_metric = selection.select_per_metric(runs)
    by_rank = selection.select_by_rank(runs)
    methods = [method for method in settings["methods"] if method in per_metric]
    eps = f"{settings['attack_eps']:g}"
    lines = [f"# HDL protocol: {settings['dataset']}", ""]
    if settings["reduced"]:
        lines += ["**REDUCED**: this run differs from the paper's protocol (Bertsimas et al. 2023, sec. 4) in", ""]
        lines += [f"- {difference}" for difference in settings["differences"]]
    else:
        lines.append("The paper's protocol (Bertsimas et al. 2023, sec. 4): its grid, splits and settings.")
    command = settings.get("command")
    lines += ["", f"Command: `{command}`" if command else "Command: `run_protocol` called from Python.", ""]
    lines += _settings_lines(settings, runs) + [""]

    lines += [
        "## Selected per metric",
        "",
        "Each cell: the test value of the configuration chosen on validation for that row's metric.",
        "",
    ]
    labels = {
        "natural": "Natural accuracy",
        "adversarial": f"Adversarial accuracy (rho = {eps})",
        "stability": "Stability (worst split)",
        "sparsity": "Sparsity",
    }
    rows = [
        (labels[metric], [per_metric[method][metric]["test"][metric] for method in methods])
        for metric in selection.METRICS
    ]
    lines += _table("Metric", methods, rows) + [""]

    lines += [
        "## Average-rank selection",
        "",
        "Per method, the configuration with the best average rank over the four validation metrics "
        "(layout of paper Tables 2-4); test values.",
        "",
    ]
    row_labels = {
        "natural": "Avg. accuracy",
        "adversarial": f"Adv. acc. rho = {eps}",
        "stability": "Stability",
        "sparsity": "Sparsity",
    }
    rows = [
        (row_labels[metric], [by_rank[method]["test"][metric] for method in methods]) for metric in selection.METRICS
    ]
    lines += _table("Method", [SHORT_NAMES[method] for method in methods], rows) + [""]

    lines += ["## Chosen configurations", "", "| Method | " + " | ".join([*selection.METRICS, "rank"]) + " |"]
    lines.append("| --- " * (len(selection.METRICS) + 2) + "|")
    for method in methods:
        chosen = [per_metric[method][metric]["config_id"] for metric in selection.METRICS]
        chosen.append(by_rank[method]["config_id"])
        lines.append(f"| {method} | " + " | ".join(f"`{config}`" for config in chosen) + " |")
    return "\n".join(lines) + "\n"


def _settings_lines(settings, runs):
    train_minutes = sum(run["train_seconds"] for run in runs) / 60
    rows = [
        f"data: {settings['n_train_pool']} train+validation rows, {settings['n_test']} test rows, "
        f"{settings['num_classes']} classes, input {tuple(settings['input_shape'])}, "
        f"scaling mode `{settings.get('scaling', 'minmax')}`: {settings['input_scaling']}",
        f"network: {settings['network']}; methods: {', '.join(settings['methods'])}",
        f"splits: {settings['num_splits']} train/validation splits "
        f"({100 * settings['val_fraction']:.0f} % validation), seed {settings['seed']}",
        f"training: Adam, {settings['epochs']} epochs, batch {settings['batch_size']}; "
        f"sparse methods: rounds {settings['rounds']}",
        "grid: "
        + "; ".join(
            f"{key} {tuple(settings['grid'][key])}"
            for key in ("lr", "rho", "sparsity_lambda", "beta_bar", "stability_alpha")
        ),
        f"attack: {settings['attack']}, eps {settings['attack_eps']:g}, {settings['attack_steps']} steps "
        f"of {settings['attack_step_size']:.3g}; robust = correct clean and attacked",
        f"runs: {len(runs)}, training time {train_minutes:.1f} min, backend {settings['backend']}",
    ]
    return [f"- {row}" for row in rows]


def _table(corner, columns, rows):
    lines = [f"| {corner} | " + " | ".join(columns) + " |", "| --- " * (len(columns) + 1) + "|"]
    for label, values in rows:
        best = f"{max(values):.1f}"
        cells = [f"**{value:.1f}**" if f"{value:.1f}" == best else f"{value:.1f}" for value in values]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return lines
