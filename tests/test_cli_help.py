"""A newcomer's first commands: `vt-eval`, `vt-eval --help` and `--help` of every command run as
real processes, exit with the documented code and print usage, never a traceback. The shared
options mean and default the same in every command that has them."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from vt_eval.cli import COMMANDS, build_parser


def vt_eval(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "vt_eval.cli", *args], capture_output=True,
                          text=True, timeout=120)


def assert_clean(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stdout + result.stderr, result.stderr[-2000:]


def test_root_help_lists_every_command() -> None:
    result = vt_eval("--help")
    assert_clean(result)
    assert result.returncode == 0
    for command in COMMANDS:
        assert command.NAME in result.stdout
    assert "95% CI" in result.stdout  # compare's help, shown as written (not %-formatted)


def test_no_arguments_prints_the_commands_and_exits_2() -> None:
    result = vt_eval()
    assert_clean(result)
    assert result.returncode == 2
    assert "usage: vt-eval" in result.stdout and "verdict" in result.stdout


@pytest.mark.parametrize("name", [c.NAME for c in COMMANDS] + ["decontam"])
def test_every_subcommand_help(name: str) -> None:
    result = vt_eval(name, "--help")
    assert_clean(result)
    assert result.returncode == 0, result.stderr
    assert f"usage: vt-eval {name}" in result.stdout or "usage:" in result.stdout


@pytest.mark.parametrize("name", ["audit", "check", "filter"])
def test_decontam_subcommand_help(name: str) -> None:
    result = vt_eval("decontam", name, "--help")
    assert_clean(result)
    assert result.returncode == 0 and "usage:" in result.stdout


def test_unknown_command_is_a_usage_error() -> None:
    result = vt_eval("nonsense")
    assert_clean(result)
    assert result.returncode == 2 and "invalid choice" in result.stderr


def _actions(name: str) -> dict[str, argparse.Action]:
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    parser = sub.choices[name]
    return {option: action for action in parser._actions for option in action.option_strings}


SHARED = ("--model", "--out", "--backend", "-k", "--seed")


@pytest.mark.parametrize("flag", SHARED)
def test_shared_flags_default_the_same_everywhere(flag: str) -> None:
    """Every command with the flag leaves it unset (None: the config or the run decides), takes
    the same type and choices, and no command requires it."""
    found = {c.NAME: _actions(c.NAME)[flag] for c in COMMANDS if flag in _actions(c.NAME)}
    assert found, flag
    for name, action in found.items():
        assert action.default is None, (name, flag, action.default)
        assert not action.required, (name, flag)
    assert len({(a.type, tuple(a.choices or ())) for a in found.values()}) == 1, flag


def test_model_is_shared_by_run_and_probe() -> None:
    assert {c.NAME for c in COMMANDS if "--model" in _actions(c.NAME)} >= {"run", "probe"}
    assert _actions("run")["--model"].help == _actions("probe")["--model"].help
