"""The records of a protocol run: `ProtocolResult` (`results.json`) and the resumable `runs.jsonl` log."""

import dataclasses
import json
from pathlib import Path

from hdl_keras.experiments import report
from hdl_keras.experiments import selection

# Settings a resumed run must share with the runs already in `runs.jsonl`.
RESUME_KEYS = (
    "dataset",
    "num_splits",
    "train_subset",
    "test_subset",
    "epochs",
    "batch_size",
    "rounds",
    "attack_eps",
    "attack_steps",
    "seed",
    "network",
    "backend",
    "scaling",
)
# The value of a resume key in settings saved before the key existed.
_RESUME_DEFAULTS = {"scaling": "minmax"}


@dataclasses.dataclass
class ProtocolResult:
    """The settings and per-split records of a protocol run, and its selections.

    Attributes:
        settings: dict of the run's settings (dataset, methods, grid, splits,
            epochs, rounds, batch size, attack, seed, whether and how the run
            is reduced, command line, backend).
        runs: list of records, one per (method, configuration, split):
            `method`, `config`, `config_id`, `split`, `val_accuracy`,
            `val_adv_accuracy`, `test_accuracy`, `test_adv_accuracy`,
            `sparsity` (all %), `train_seconds`, `eval_seconds`.
    """

    settings: dict
    runs: list

    @property
    def selections(self):
        """`{"per_metric": {method: {metric: summary}}, "rank": {method: summary}}`."""
        return selection.selections(self.runs)

    def to_markdown(self):
        """The markdown report (see `hdl_keras.experiments.markdown_report`)."""
        return report.markdown_report(self)

    def save(self, output_dir):
        """Writes `results.json` (settings, runs, selections) and `results.md` into `output_dir`."""
        output_dir = Path(output_dir)
        output_dir.mkdir(parents=True, exist_ok=True)
        content = {"settings": self.settings, "runs": self.runs, "selections": self.selections}
        (output_dir / "results.json").write_text(json.dumps(content, indent=1) + "\n")
        (output_dir / "results.md").write_text(self.to_markdown())

    @classmethod
    def load(cls, path):
        """Reads a `results.json` (or the folder holding it)."""
        path = Path(path)
        if path.is_dir():
            path = path / "results.json"
        content = json.loads(path.read_text())
        return cls(settings=content["settings"], runs=content["runs"])


class RunLog:
    """The records of `output_dir/runs.jsonl` by (method, config_id, split); appends new ones."""

    def __init__(self, output_dir, settings):
        self.done = {}
        self.path = None
        if output_dir is None:
            return
        output_dir = Path(output_dir)
        output_dir.mkdir(parents=True, exist_ok=True)
        settings_path = output_dir / "settings.json"
        if settings_path.exists():
            saved = json.loads(settings_path.read_text())
            changed = [key for key in RESUME_KEYS if saved.get(key, _RESUME_DEFAULTS.get(key)) != settings[key]]
            if changed:
                raise ValueError(
                    f"{output_dir} holds runs made with other settings: "
                    + ", ".join(f"{key}={saved.get(key)!r} (now {settings[key]!r})" for key in changed)
                    + ". Use another output_dir or the same settings."
                )
        settings_path.write_text(json.dumps(settings, indent=1) + "\n")
        self.path = output_dir / "runs.jsonl"
        if self.path.exists():
            lines = self.path.read_text().splitlines()
            records = []
            for line in lines:
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError:
                    continue  # a record cut short by an interruption: it is run again
            if len(records) != len(lines):
                self.path.write_text("".join(json.dumps(record) + "\n" for record in records))
            for record in records:
                self.done[(record["method"], record["config_id"], record["split"])] = record

    def append(self, record):
        self.done[(record["method"], record["config_id"], record["split"])] = record
        if self.path is not None:
            with self.path.open("a") as stream:
                stream.write(json.dumps(record) + "\n")
