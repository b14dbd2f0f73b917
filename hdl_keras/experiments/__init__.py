"""The experimental protocol of Holistic Deep Learning (Bertsimas et al. 2023, sec. 4).

- `grids`: `PAPER_GRIDS` (the paper's hyper-parameter grids for UCI tables and
  images), `reduced_grid`, `method_configs` (the configurations a method
  searches).
- `protocol`: `run_protocol` (every method x configuration x split, the four
  metrics on validation and test, resumable), `ProtocolResult`,
  `prepare_data`.
- `selection`: per-metric and average-rank selection on validation, and
  `recommend`, the validation winner across methods as a trainable
  `Recommendation`.
- `report`: `markdown_report`, the tables of the paper (Tables 2-4 layout).
- `training`: `build_model`, `train`, `harden_gates` (one configuration as
  the protocol builds and trains it).

Command line: `hdl-protocol --dataset iris --methods DL HDL --epochs 20 --out runs/iris`
(or `python -m hdl_keras.experiments ...`).

Examples:

    ```python
    from hdl_keras.experiments import recommend, reduced_grid, run_protocol

    result = run_protocol("iris", grid=reduced_grid("uci", epochs=20), num_splits=3,
                          output_dir="runs/iris")
    best = recommend(result, "rank")
    model = best.fit(x_train, y_train)
    ```
"""

from hdl_keras.experiments.grids import PAPER_GRIDS
from hdl_keras.experiments.grids import SEED_GRIDS as SEED_GRIDS  # deprecated alias, one release
from hdl_keras.experiments.grids import config_id
from hdl_keras.experiments.grids import method_configs
from hdl_keras.experiments.grids import reduced_grid
from hdl_keras.experiments.protocol import SCALINGS
from hdl_keras.experiments.protocol import ProtocolResult
from hdl_keras.experiments.protocol import prepare_data
from hdl_keras.experiments.protocol import run_protocol
from hdl_keras.experiments.protocol import threat_model
from hdl_keras.experiments.report import markdown_report
from hdl_keras.experiments.selection import METRICS
from hdl_keras.experiments.selection import Recommendation
from hdl_keras.experiments.selection import average_ranks
from hdl_keras.experiments.selection import recommend
from hdl_keras.experiments.selection import select_by_rank
from hdl_keras.experiments.selection import select_per_metric
from hdl_keras.experiments.selection import summarize
from hdl_keras.experiments.training import build_model
from hdl_keras.experiments.training import harden_gates
from hdl_keras.experiments.training import train

__all__ = [
    "METRICS",
    "PAPER_GRIDS",
    "SCALINGS",
    "ProtocolResult",
    "Recommendation",
    "average_ranks",
    "build_model",
    "config_id",
    "harden_gates",
    "markdown_report",
    "method_configs",
    "prepare_data",
    "recommend",
    "reduced_grid",
    "run_protocol",
    "select_by_rank",
    "select_per_metric",
    "summarize",
    "threat_model",
    "train",
]
