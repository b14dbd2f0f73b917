"""One error style in every command: `<program>: error: <what and what to do>`, one line, exit code 2."""

import os
import subprocess
import sys

import pytest
from hdl_keras.testing.cli import invoke
from hdl_keras_cli import protocol
from hdl_keras_cli import train
from hdl_keras_cli.app import main as hdl


def run(*args):
    return invoke(hdl, args, env={"COLUMNS": "100"})


@pytest.mark.parametrize(
    "args, expected",
    [
        (["--bogus"], "hdl: error: the following arguments are required: COMMAND. Run 'hdl --help' for the options."),
        (
            ["zoo", "list", "--bogus"],
            "hdl zoo: error: unrecognized arguments: --bogus. Run 'hdl zoo --help' for the options.",
        ),
        (
            ["zoo", "eval", "mnist-small_cnn-dl", "--n", "many"],
            "hdl zoo: error: argument --n: invalid int value: 'many'. Run 'hdl zoo eval --help' for the options.",
        ),
        (
            ["zoo", "eval", "mnist-small_cnn-dl", "--attacks", "strong"],
            "hdl zoo: error: --attacks must be one of standard, bertsimas2023, full, autoattack. Received: 'strong'",
        ),
        (["zoo", "eval", "mnist-small_cnn-dl", "--n", "0"], "hdl zoo: error: --n must be an integer >= 1. Received: 0"),
        (
            ["train", "paper", "--out", "runs", "--objective", "pgx"],
            (
                "hdl train: error: unknown objective 'pgx'; known: pgd, trades, tradeoff. "
                "Run 'hdl train --help' for the options."
            ),
        ),
        (
            ["train", "paper"],
            "hdl train: error: the following arguments are required: --out. Run 'hdl train --help' for the options.",
        ),
        (
            ["protocol", "--dataset", "imagenet"],
            (
                "hdl protocol: error: unknown dataset 'imagenet'; known datasets: mnist, fashion_mnist, cifar10, iris, "
                "wine, breast_cancer, digits. Run 'hdl protocol --help' for the options."
            ),
        ),
    ],
)
def test_bad_usage_is_one_line_and_exit_code_2(args, expected):
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert result.stderr.strip() == expected
    assert result.stdout == ""


@pytest.mark.parametrize(
    "args, start, end",
    [
        (
            ["protocol", "--dataset", "iris", "--grid", "huge"],
            "hdl protocol: error: argument --grid: invalid choice: 'huge' (choose from ",
            "hdl protocol --help",
        ),
        (["bogus"], "hdl: error: argument COMMAND: invalid choice: 'bogus' (choose from ", "hdl --help"),
        (["zoo", "evl"], "hdl zoo: error: argument COMMAND: invalid choice: 'evl' (choose from ", "hdl zoo --help"),
    ],
)
def test_unknown_choice_names_the_choices(args, start, end):
    # The quoting of the choices differs between Python versions.
    result = run(*args)
    assert result.exit_code == 2
    message = result.stderr.strip()
    assert message.startswith(start) and message.endswith(f"). Run '{end}' for the options.")
    assert "\n" not in message


@pytest.mark.parametrize("main, program", [(train.main, "hdl-train"), (protocol.main, "hdl-protocol")])
def test_console_scripts_name_themselves(main, program, capsys):
    with pytest.raises(SystemExit) as info:
        main(["--bogus"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"{program}: error: ") and err.rstrip().endswith(f"Run '{program} --help' for the options.")
    assert len(err.strip().splitlines()) == 1


def test_unknown_entry_fails_with_code_1():
    result = run("zoo", "card", "mnist-small_cnn-dll")
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "hdl zoo: error: Unknown zoo entry 'mnist-small_cnn-dll'. Did you mean 'mnist-small_cnn-dl'"
    )
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("args", [[], ["zoo"]])
def test_no_command_prints_the_help(args):
    result = run(*args)
    assert result.exit_code == 2
    assert all(
        command in result.stdout
        for command in (["list", "card", "compare", "eval", "train"] if args else ["zoo", "train", "protocol"])
    )


@pytest.mark.parametrize(
    "program, module, args",
    [
        ("hdl", "hdl_keras_cli.app", ["zoo", "eval", "iris-mlp-dl"]),
        ("hdl-zoo", "hdl_keras_cli.zoo", ["eval", "iris-mlp-dl"]),
        ("hdl-train", "hdl_keras_cli.train", ["paper", "--out", "runs"]),
    ],
)
def test_unknown_backend_is_one_line_where_a_command_needs_it_and_help_still_answers(program, module, args):
    env = dict(os.environ, KERAS_BACKEND="numpy")
    code = f"import sys; sys.argv[0] = {program!r}; from {module} import main; sys.exit(main())"
    completed = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )
    assert completed.returncode == 2
    command = "hdl zoo" if program == "hdl" else program
    assert completed.stderr.startswith(f"{command}: error: KERAS_BACKEND='numpy' is not a backend hdl_keras runs on")
    assert len(completed.stderr.strip().splitlines()) == 1
    completed = subprocess.run(
        [sys.executable, "-m", "hdl_keras_cli", "zoo", "--help"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0 and "compare" in completed.stdout
