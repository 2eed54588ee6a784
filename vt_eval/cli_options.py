"""Options that several commands take, defined once: the same flag means and defaults the same
in every command that has it.

Defaults that come from the configuration are `None` here and resolved by the command (a flag
left out never overrides eval.toml / the run's config.toml).
"""

from __future__ import annotations

import argparse
from pathlib import Path

BACKENDS = ("auto", "vllm", "openai", "transformers")


def comma_list(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1 (got {value}); leave it out for "
                                         f"the default")
    return value


def add_model(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", help="alias, checkpoint directory, or a served model's name "
                                   "(default: [model] name of the config, the embedded "
                                   "smollm2-135m)")


def add_backend(p: argparse.ArgumentParser, scope: str = "") -> None:
    p.add_argument("--backend", choices=BACKENDS,
                   help=f"model backend (default: [model] backend of the config{scope}; auto: "
                        f"vllm when installed with a GPU, else transformers)")


def add_base_url(p: argparse.ArgumentParser) -> None:
    p.add_argument("--base-url", help="OpenAI-compatible server of the model, "
                                      "e.g. http://127.0.0.1:8000/v1 (backend openai)")


def add_out(p: argparse.ArgumentParser, writes: str) -> None:
    p.add_argument("--out", help=f"parent folder of output directories (default: [run] out of "
                                 f"the config, runs); this command writes {writes}")


def add_run_id(p: argparse.ArgumentParser, default: str) -> None:
    p.add_argument("--run-id", help=f"output directory name under --out (default: {default})")


def add_samples(p: argparse.ArgumentParser, default: str) -> None:
    p.add_argument("-k", "--samples", type=positive_int, help=f"samples per problem "
                                                               f"(default: {default})")


def add_seed(p: argparse.ArgumentParser, used_for: str, default: str) -> None:
    p.add_argument("--seed", type=int, help=f"seed of {used_for} (default: {default})")


def add_benchmarks(p: argparse.ArgumentParser, required: bool = False) -> None:
    p.add_argument("--benchmarks", type=comma_list, required=required,
                   help="comma-separated, e.g. aime_2025,hmmt_feb_2025"
                        + ("" if required else " (default: every benchmark of --suite)"))


def add_limit(p: argparse.ArgumentParser) -> None:
    p.add_argument("--limit", type=int, help="items per benchmark (default: [run] limit of the "
                                             "config; 0 = all)")


def add_config(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument("--config", type=Path, help=what)


def add_data_dir(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-dir", type=Path,
                   help="folder with benchmark files (looked in before the shipped snapshot)")
