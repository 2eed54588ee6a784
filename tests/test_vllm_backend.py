"""The vLLM backend's own code, with a stand-in for the engine (vLLM cannot run without a GPU).

What is tested is ours: chat template applied by the tokenizer, one request per sample with its
own seed, SPEC sampling params passed through, finish reasons and token counts mapped, raw text
prompts and log-probabilities passed through and read back. The stand-in answers in vLLM's shapes
(RequestOutput.prompt_logprobs / CompletionOutput.logprobs: per position {token id: Logprob}).
The real engine is exercised only where vLLM and CUDA exist."""

from __future__ import annotations

import sys
import types
from dataclasses import dataclass, field
from typing import Any

import pytest

from vt_eval.backends.base import Request, SamplingParams
from vt_eval.config import EvalConfig, VLLMConfig
from vt_eval.errors import BackendError
from vt_eval.models import ModelRef


@dataclass
class _Choice:
    text: str
    finish_reason: str
    token_ids: list[int]
    logprobs: list[dict[int, Any]] | None = None


@dataclass
class _Output:
    prompt_token_ids: list[int]
    outputs: list[_Choice]
    prompt_logprobs: list[dict[int, Any] | None] | None = None


BOS = 1


def _logprob(value: float) -> Any:
    return types.SimpleNamespace(logprob=value, rank=1, decoded_token="?")


class _Tokenizer:
    def apply_chat_template(self, messages: list[dict[str, str]], add_generation_prompt: bool,
                            tokenize: bool) -> str:
        assert add_generation_prompt and not tokenize
        return "|".join(m["content"] for m in messages) + "|assistant:"

    chat_template = "{{ fake }}"
    name_or_path = "fake"
    eos_token = "</s>"

    def __len__(self) -> int:
        return 10

    def __call__(self, text: str, add_special_tokens: bool) -> dict[str, list[int]]:
        return {"input_ids": ([BOS] if add_special_tokens else []) + [ord(c) for c in text]}

    def decode(self, ids: list[int]) -> str:
        return "".join(chr(i) for i in ids)


@dataclass
class _LLM:
    kwargs: dict[str, Any]
    calls: list[tuple[list[str], list[Any]]] = field(default_factory=list)

    def get_tokenizer(self) -> _Tokenizer:
        return _Tokenizer()

    def generate(self, prompts: list[Any], params: list[Any]) -> list[_Output]:
        self.calls.append((prompts, params))
        return [self._one(prompt, p) for prompt, p in zip(prompts, params, strict=True)]

    @staticmethod
    def _one(prompt: Any, p: Any) -> _Output:
        ids = prompt["prompt_token_ids"] if isinstance(prompt, dict) else _Tokenizer()(prompt, True)["input_ids"]
        choice = _Choice(f"seed={p.seed}", "length" if p.seed % 2 else "stop", [7] * 4)
        if getattr(p, "logprobs", None) is not None:
            choice.logprobs = [{7: _logprob(-0.5), 8: _logprob(-3.0)} for _ in choice.token_ids]
        output = _Output(ids, [choice])
        if getattr(p, "prompt_logprobs", None) is not None:
            output.prompt_logprobs = [None] + [{t: _logprob(-i / 4)} for i, t in enumerate(ids[1:], 1)]
        return output


@pytest.fixture
def fake_vllm(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    module = types.ModuleType("vllm")
    module.__version__ = "0.0-fake"
    engines: list[_LLM] = []
    module.LLM = lambda **kwargs: engines.append(_LLM(kwargs)) or engines[-1]  # type: ignore[attr-defined]
    module.SamplingParams = lambda **kwargs: types.SimpleNamespace(**kwargs)  # type: ignore[attr-defined]
    module.engines = engines  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "vllm", module)
    return module


def test_one_seeded_request_per_sample_in_one_call(fake_vllm: types.ModuleType, tmp_path: Any) -> None:
    from vt_eval.backends.vllm_backend import VLLMBackend

    (tmp_path / "config.json").write_text("{}")
    backend = VLLMBackend(ModelRef("m", tmp_path), VLLMConfig(tensor_parallel_size=2, max_model_len=4096), seed=5)
    engine = fake_vllm.engines[0]
    assert engine.kwargs["tensor_parallel_size"] == 2 and engine.kwargs["max_model_len"] == 4096
    requests = [Request(("b", "1", i), [{"role": "user", "content": "q1"}], seed=100 + i) for i in range(3)]
    done = list(backend.generate(requests, SamplingParams(temperature=1.0, top_p=0.95, top_k=-1, max_tokens=64)))
    assert len(engine.calls) == 1
    prompts, params = engine.calls[0]
    template_ids = [ord(c) for c in "q1|assistant:"]  # no second BOS on top of the template
    assert prompts == [{"prompt_token_ids": template_ids}] * 3
    assert [p.seed for p in params] == [100, 101, 102] and all(p.n == 1 for p in params)
    assert {(p.temperature, p.top_p, p.top_k, p.max_tokens) for p in params} == {(1.0, 0.95, -1, 64)}
    assert [c.finish_reason for c in done] == ["stop", "length", "stop"]
    assert [c.text for c in done] == ["seed=100", "seed=101", "seed=102"]
    assert done[0].completion_tokens == 4 and done[0].prompt_tokens == len(template_ids)
    assert all(not hasattr(p, "logprobs") and not hasattr(p, "prompt_logprobs") for p in params)
    assert done[0].token_logprobs is None and done[0].prompt_logprobs is None
    assert backend.provenance()["vllm_version"] == "0.0-fake"


def test_raw_text_and_logprobs_pass_through(fake_vllm: types.ModuleType, tmp_path: Any) -> None:
    from vt_eval.backends.vllm_backend import VLLMBackend

    (tmp_path / "config.json").write_text("{}")
    backend = VLLMBackend(ModelRef("m", tmp_path), VLLMConfig(), seed=5)
    assert backend.capabilities == {"chat", "raw_text", "logprobs", "prompt_logprobs"}
    probe = Request(("p", "1", 0), [], seed=3, text="abc", prompt_logprobs=True, logprobs=True)
    chat = Request(("c", "1", 0), [{"role": "user", "content": "q"}], seed=4, logprobs=True)
    params = SamplingParams(temperature=1.0, top_p=0.95, top_k=-1, max_tokens=1)
    done = {c.key: c for c in backend.generate([probe, chat], params)}
    prompts, sent = fake_vllm.engines[0].calls[0]
    assert prompts[0] == "abc"  # raw text: vLLM tokenizes it, special tokens included
    assert sent[0].prompt_logprobs == 0 and sent[0].logprobs == 0
    assert sent[1].logprobs == 0 and not hasattr(sent[1], "prompt_logprobs")
    got = done[probe.key]
    assert got.prompt_tokens == 4  # BOS + 3 characters
    assert got.prompt_logprobs == (None, -0.25, -0.5, -0.75)
    assert got.prompt_token_strings == (chr(BOS), "a", "b", "c")
    assert got.prompt_logprob_moments is None
    assert got.token_logprobs == (-0.5,) * 4  # the chosen token's, not the runner-up's
    assert done[chat.key].token_logprobs == (-0.5,) * 4 and done[chat.key].prompt_logprobs is None
    effective = backend.effective_params(params)
    assert effective["max_tokens"] == 1 and effective["seed"] == "Request.seed"


def test_missing_logprobs_from_the_engine_is_an_error(fake_vllm: types.ModuleType, tmp_path: Any) -> None:
    from vt_eval.backends.vllm_backend import VLLMBackend

    (tmp_path / "config.json").write_text("{}")
    backend = VLLMBackend(ModelRef("m", tmp_path), VLLMConfig(), seed=5)
    backend.llm._one = lambda prompt, p: _Output([1, 2], [_Choice("x", "stop", [7])])  # type: ignore[method-assign]
    request = Request(("p", "1", 0), [], seed=3, text="ab", prompt_logprobs=True)
    with pytest.raises(BackendError, match="no prompt_logprobs"):
        list(backend.generate([request], SamplingParams(temperature=1.0, max_tokens=1)))


@pytest.mark.skipif(__import__("vt_eval.backends.vllm_backend", fromlist=["x"]).vllm_available(),
                    reason="vLLM and a GPU are present here")
def test_vllm_backend_on_a_machine_without_gpu_is_a_clear_error() -> None:
    from vt_eval.backends import make_backend
    config = EvalConfig().with_overrides({"model.backend": "vllm"})
    with pytest.raises(BackendError, match="needs vLLM and a CUDA GPU"):
        make_backend(config, "vllm")
