"""Confusion matrices of a `RobustnessReport`: most-confused pairs and a plot helper."""

import numpy as np


def most_confused_pairs(matrix, top=5):
    """The largest off-diagonal entries of a confusion matrix.

    Args:
        matrix: int array `(K, K)`, `[i, j]` = examples of label `i` predicted `j`
            (`RobustnessReport.confusion_matrix`).
        top: number of pairs returned, default 5.

    Returns:
        List of up to `top` tuples `(true_label, predicted, count)`, largest
        count first (ties by label order), zero counts left out.

    Examples:
        >>> most_confused_pairs(report.confusion_matrix("square"), top=3)
        [(9, 4, 31), (7, 9, 12), (5, 3, 11)]
    """
    matrix = np.asarray(matrix)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise ValueError(f"matrix must be square (K, K). Received: shape {matrix.shape}")
    off_diagonal = [
        (i, j, int(matrix[i, j])) for i in range(len(matrix)) for j in range(len(matrix)) if i != j and matrix[i, j] > 0
    ]
    off_diagonal.sort(key=lambda entry: -entry[2])
    return off_diagonal[:top]


def plot_confusion_matrix(matrix, ax=None, title=None, class_names=None):
    """Draws a confusion matrix with counts in the cells (needs matplotlib).

    Args:
        matrix: int array `(K, K)`, rows true labels, columns predictions.
        ax: a matplotlib `Axes`, default a new figure's.
        title: axes title, default None.
        class_names: K tick labels, default `0..K-1`.

    Returns:
        The matplotlib `Axes`.

    Examples:
        >>> ax = plot_confusion_matrix(report.confusion_matrix("square"), title="Square")
        >>> ax.figure.savefig("square.png")
    """
    try:
        import matplotlib.pyplot as plt
    except ImportError as error:
        raise ImportError("plot_confusion_matrix needs matplotlib: pip install 'hdl-keras[plots]'.") from error
    matrix = np.asarray(matrix)
    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 4))
    ax.imshow(matrix, cmap="Blues")
    size = len(matrix)
    names = [str(k) for k in range(size)] if class_names is None else list(class_names)
    ax.set_xticks(range(size), names)
    ax.set_yticks(range(size), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    threshold = matrix.max() / 2 if matrix.size else 0
    for i in range(size):
        for j in range(size):
            ax.text(
                j,
                i,
                str(int(matrix[i, j])),
                ha="center",
                va="center",
                fontsize=7,
                color="white" if matrix[i, j] > threshold else "black",
            )
    if title:
        ax.set_title(title)
    return ax
