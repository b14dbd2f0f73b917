"""Time to a robust model: our fast AT recipe against a plain PyTorch + torchattacks PGD loop.

Usage: python benchmarks/time_to_robust.py [--quick] [--target ACC] [--max-epochs E]
       [--train-examples N] [--peer-fast]

Both trainers train the same small CNN (`hdl_keras.models.small_cnn`: conv 32-64-128
3x3 "same" + ReLU + 2x2 max-pool, Dense 128, Dense 10; written layer for layer in
torch for the peer) on the same MNIST images, batch 100, at l_inf eps 16/255, one
epoch at a time, and after each epoch measure PGD-20 accuracy (step eps/4, random
start) on the same fixed validation images (held out from the training pool);
each stops when that accuracy reaches `--target`. Seconds count training only
(the first epoch includes tracing), not the validation attacks.

- ours: `PGDAdversarialTraining` with `fast_at_settings` (FGSM from a random start,
  step 1.25 eps; Wong, Rice, Kolter 2020), Adam on `OneCycle` (peak 5e-3 over
  `--max-epochs`), `model.fit` on `KERAS_BACKEND` (default tensorflow); validation
  PGD-20 by `hdl_keras.attacks.PGD`;
- peer: what RobustBench / torchattacks users write: a PyTorch loop of Madry et al.
  PGD training with `torchattacks.PGD(model, eps, alpha=eps/4, steps=10)`, Adam
  1e-3; validation PGD-20 by `torchattacks.PGD(..., steps=20)`. With `--peer-fast`
  the peer also trains with `torchattacks.FFGSM` (the same fast AT in torch, same
  one-cycle schedule), reported as `peer_fast_*`: the framework-only comparison.

Both run in this one process, one after the other, with 2 CPU threads each
(`torch.set_num_threads(2)`, TensorFlow's intra-op and inter-op pools). --quick:
10,000 training images, 500 validation images, target 0.80, at most 5 epochs
(a few minutes on 2 cores). Last line: one JSON object with `ours_seconds`,
`peer_seconds`, `speedup` (peer / ours; null when one side missed the target),
`ours_pgd`, `peer_pgd` (validation PGD-20 accuracy when stopping) and the epochs.
"""

import argparse
import json
import os
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

EPS = 16 / 255
BATCH_SIZE = 100
THREADS = 2
SEED = 0


def limit_threads():
    """Gives both frameworks `THREADS` CPU threads (before either runs an op)."""
    import torch

    torch.set_num_threads(THREADS)
    if os.environ["KERAS_BACKEND"] == "tensorflow":
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(THREADS)
        tf.config.threading.set_inter_op_parallelism_threads(THREADS)


def load(train_examples, validation_examples):
    """MNIST training images `(N, 28, 28, 1)` and a fixed held-out validation set, in [0, 1]."""
    from hdl_keras.experiments import prepare_data
    from hdl_keras.experiments.protocol import stratified_subset
    from hdl_keras.recipes.zoo_entries import validation_split

    (x_pool, y_pool), _ = prepare_data("mnist")
    (x_train, y_train), (x_val, y_val) = validation_split(x_pool, y_pool, validation_examples, SEED)
    rows = stratified_subset(y_train, train_examples, SEED)
    return (x_train[rows], y_train[rows].astype("int64")), (x_val, y_val.astype("int64"))


def train_ours(train, validation, target, max_epochs):
    """Fast AT with `model.fit`, epoch by epoch; returns (seconds, pgd accuracy, epochs)."""
    import keras
    import numpy as np

    from hdl_keras.attacks import PGD
    from hdl_keras.models import small_cnn
    from hdl_keras.objectives import PGDAdversarialTraining
    from hdl_keras.objectives import fast_at_settings
    from hdl_keras.recipes import OneCycle

    (x, y), (x_val, y_val) = train, validation
    keras.utils.set_random_seed(SEED)
    base = small_cnn()
    model = PGDAdversarialTraining.from_model(base, seed=SEED, **fast_at_settings(EPS))
    steps = max_epochs * -(-len(y) // BATCH_SIZE)
    model.compile(optimizer=keras.optimizers.Adam(OneCycle(5e-3, total_steps=steps)))
    attack = PGD(base, eps=EPS, step_size=EPS / 4, steps=20, random_start=True, seed=SEED)

    def robust_accuracy():
        x_adv = np.concatenate(
            [
                keras.ops.convert_to_numpy(attack(x_val[i : i + 250], y_val[i : i + 250]))
                for i in range(0, len(y_val), 250)
            ]
        )
        predictions = np.argmax(keras.ops.convert_to_numpy(base.predict(x_adv, verbose=0)), axis=-1)
        return float(np.mean(predictions == y_val))

    return _until_target(
        lambda epoch: model.fit(x, y, batch_size=BATCH_SIZE, initial_epoch=epoch, epochs=epoch + 1, verbose=0),
        robust_accuracy,
        target,
        max_epochs,
        "ours",
    )


class TorchSmallCNN:
    """Builds the small CNN in plain torch, layer for layer as `hdl_keras.models.small_cnn`."""

    @staticmethod
    def build():
        from torch import nn

        return nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(64, 128, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(128 * 3 * 3, 128),
            nn.ReLU(),
            nn.Linear(128, 10),
        )


def train_peer(train, validation, target, max_epochs, fast=False):
    """The peers' loop: torch + torchattacks PGD-10 (or FFGSM) training; returns (seconds, pgd, epochs)."""
    import numpy as np
    import torch
    import torchattacks

    torch.manual_seed(SEED)
    (x, y), (x_val, y_val) = train, validation
    x = torch.from_numpy(np.transpose(x, (0, 3, 1, 2)).copy())
    y = torch.from_numpy(y)
    x_val = torch.from_numpy(np.transpose(x_val, (0, 3, 1, 2)).copy())
    y_val = torch.from_numpy(y_val)
    model = TorchSmallCNN.build()
    if fast:
        attack = torchattacks.FFGSM(model, eps=EPS, alpha=1.25 * EPS)
        optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
        steps = max_epochs * -(-len(y) // BATCH_SIZE)
        scheduler = torch.optim.lr_scheduler.OneCycleLR(
            optimizer, max_lr=5e-3, total_steps=steps, pct_start=0.4, anneal_strategy="linear"
        )
    else:
        attack = torchattacks.PGD(model, eps=EPS, alpha=EPS / 4, steps=10, random_start=True)
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        scheduler = None
    evaluation = torchattacks.PGD(model, eps=EPS, alpha=EPS / 4, steps=20, random_start=True)
    loss_fn = torch.nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(SEED)

    def one_epoch(epoch):
        del epoch
        model.train()
        for rows in torch.randperm(len(y), generator=generator).split(BATCH_SIZE):
            x_adv = attack(x[rows], y[rows])  # torchattacks attacks in eval mode, then restores train mode
            optimizer.zero_grad()
            loss_fn(model(x_adv), y[rows]).backward()
            optimizer.step()
            if scheduler is not None:
                scheduler.step()

    def robust_accuracy():
        model.eval()
        correct = 0
        for start in range(0, len(y_val), 250):
            xb, yb = x_val[start : start + 250], y_val[start : start + 250]
            x_adv = evaluation(xb, yb)  # needs input gradients: outside no_grad
            with torch.no_grad():
                correct += int((model(x_adv).argmax(1) == yb).sum())
        return correct / len(y_val)

    return _until_target(one_epoch, robust_accuracy, target, max_epochs, "peer_fast" if fast else "peer")


def _until_target(one_epoch, robust_accuracy, target, max_epochs, label):
    """Trains epoch by epoch until validation PGD accuracy >= target; training seconds only."""
    seconds, accuracy = 0.0, 0.0
    for epoch in range(max_epochs):
        start = time.perf_counter()
        one_epoch(epoch)
        seconds += time.perf_counter() - start
        accuracy = robust_accuracy()
        print(
            f"{label}: epoch {epoch + 1}, {seconds:.1f} s of training, val PGD-20 {accuracy:.4f}",
            file=sys.stderr,
            flush=True,
        )
        if accuracy >= target:
            return seconds, accuracy, epoch + 1, True
    return seconds, accuracy, max_epochs, False


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10,000 images, target 0.80, at most 5 epochs")
    parser.add_argument("--target", type=float, default=None, help="validation PGD-20 accuracy to reach")
    parser.add_argument("--max-epochs", type=int, default=None, help="epochs before giving up")
    parser.add_argument("--train-examples", type=int, default=None, help="training images (quick: 10000)")
    parser.add_argument("--peer-fast", action="store_true", help="also train the peer with torchattacks FFGSM")
    args = parser.parse_args()
    train_examples, validation_examples = (10000, 500) if args.quick else (54000, 1000)
    train_examples = args.train_examples if args.train_examples is not None else train_examples
    target = args.target if args.target is not None else (0.80 if args.quick else 0.90)
    max_epochs = args.max_epochs if args.max_epochs is not None else (5 if args.quick else 15)
    if not 0 < target <= 1 or max_epochs < 1 or not 100 <= train_examples <= 54000:
        raise SystemExit(
            "--target must be in (0, 1], --max-epochs >= 1 and --train-examples in [100, 54000]. "
            f"Received: {target}, {max_epochs}, {train_examples}"
        )

    limit_threads()
    train, validation = load(train_examples, validation_examples)
    ours = train_ours(train, validation, target, max_epochs)
    peer = train_peer(train, validation, target, max_epochs)
    result = {
        "ours_seconds": round(ours[0], 1),
        "peer_seconds": round(peer[0], 1),
        "speedup": round(peer[0] / ours[0], 2) if ours[3] and peer[3] else None,
        "ours_pgd": ours[1],
        "peer_pgd": peer[1],
        "ours_epochs": ours[2],
        "peer_epochs": peer[2],
        "target": target,
        "train_examples": train_examples,
        "validation_examples": validation_examples,
        "threads": THREADS,
        "backend": os.environ["KERAS_BACKEND"],
    }
    if args.peer_fast:
        peer_fast = train_peer(train, validation, target, max_epochs, fast=True)
        result.update(
            peer_fast_seconds=round(peer_fast[0], 1),
            peer_fast_pgd=peer_fast[1],
            peer_fast_epochs=peer_fast[2],
            speedup_vs_peer_fast=round(peer_fast[0] / ours[0], 2) if ours[3] and peer_fast[3] else None,
        )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
