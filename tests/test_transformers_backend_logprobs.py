"""Raw-text requests and log-probabilities from the transformers backend, checked against plain
forward passes of the real fixture model (CPU, no mocks)."""

from __future__ import annotations

import math
from collections.abc import Iterator

import pytest
import torch

from vt_eval.backends.base import Request, require_capabilities
from vt_eval.backends.transformers_backend import TransformersBackend
from vt_eval.config import SamplingParams, TransformersConfig
from vt_eval.models import resolve_model

pytestmark = pytest.mark.slow

PASSAGE = "The quick brown fox jumps over the lazy dog. It was a sunny day in the small village."
GREEDY = SamplingParams(temperature=0.0, top_p=1.0, top_k=-1, max_tokens=8)
PROBE = SamplingParams(temperature=1.0, top_p=0.95, top_k=-1, max_tokens=1)


@pytest.fixture(scope="module")
def backend() -> Iterator[TransformersBackend]:
    loaded = TransformersBackend(resolve_model("smollm2-135m"),
                                 TransformersConfig(threads=1, batch_size=4))
    yield loaded
    loaded.close()


def log_softmax_of(backend: TransformersBackend, ids: list[int]) -> torch.Tensor:
    with torch.inference_mode():
        logits = backend.model(input_ids=torch.tensor([ids])).logits[0].float()
    return torch.log_softmax(logits, dim=-1)


def test_raw_text_skips_the_chat_template(backend: TransformersBackend) -> None:
    text = "The capital of France is"
    (done,) = backend.generate([Request(("r", "1", 0), [], seed=0, text=text)], GREEDY)
    ids = backend.tokenizer(text, add_special_tokens=True)["input_ids"]
    assert done.prompt_tokens == len(ids)  # no template tokens around the text
    with torch.inference_mode():
        out = backend.model.generate(torch.tensor([ids]), do_sample=False, max_new_tokens=8,
                                     pad_token_id=backend.tokenizer.eos_token_id)
    assert done.text == backend.tokenizer.decode(out[0, len(ids):], skip_special_tokens=True)


def test_completion_logprobs_match_a_plain_forward(backend: TransformersBackend) -> None:
    request = Request(("r", "2", 0), [{"role": "user", "content": "Count to five."}], seed=3, logprobs=True)
    sampled = SamplingParams(temperature=1.0, top_p=0.95, top_k=-1, max_tokens=8)
    (done,) = backend.generate([request], sampled)
    assert done.token_logprobs is not None and len(done.token_logprobs) == done.completion_tokens
    prompt = backend.tokenizer.apply_chat_template(request.messages, add_generation_prompt=True,
                                                   tokenize=False)
    prompt_ids = backend.tokenizer(prompt, add_special_tokens=False)["input_ids"]
    new_ids = backend.tokenizer(done.text, add_special_tokens=False)["input_ids"]
    assert len(new_ids) == done.completion_tokens  # ended by length: no EOS to re-add
    logp = log_softmax_of(backend, prompt_ids + new_ids)
    expected = [logp[len(prompt_ids) - 1 + i, token].item() for i, token in enumerate(new_ids)]
    assert done.token_logprobs == pytest.approx(expected, abs=1e-3)
    assert done.prompt_logprobs is None  # not asked for


def test_prompt_logprobs_sum_to_the_forward_loss(backend: TransformersBackend) -> None:
    request = Request(("p", "1", 0), [], seed=0, text=PASSAGE, prompt_logprobs=True)
    (done,) = backend.generate([request], PROBE)
    ids = backend.tokenizer(PASSAGE, add_special_tokens=True)["input_ids"]
    assert done.prompt_tokens == len(ids) and done.completion_tokens == 1
    assert done.finish_reason in ("length", "stop")
    logprobs = done.prompt_logprobs
    assert logprobs is not None and len(logprobs) == len(ids) and logprobs[0] is None
    with torch.inference_mode():
        loss = backend.model(input_ids=torch.tensor([ids]), labels=torch.tensor([ids])).loss.item()
    assert sum(v for v in logprobs[1:] if v is not None) == pytest.approx(-loss * (len(ids) - 1), rel=1e-4)
    assert done.prompt_token_strings is not None
    assert "".join(done.prompt_token_strings) == PASSAGE


def test_prompt_logprob_moments_are_min_k_plus_plus(backend: TransformersBackend) -> None:
    request = Request(("p", "2", 0), [], seed=0, text=PASSAGE, prompt_logprobs=True)
    (done,) = backend.generate([request], PROBE)
    moments = done.prompt_logprob_moments
    assert moments is not None and len(moments) == done.prompt_tokens and moments[0] is None
    ids = backend.tokenizer(PASSAGE, add_special_tokens=True)["input_ids"]
    logp = log_softmax_of(backend, ids)
    for position in (1, 5, len(ids) - 1):
        row = logp[position - 1]
        mean = (row.exp() * row).sum().item()
        std = math.sqrt((row.exp() * (row - mean) ** 2).sum().item())
        assert moments[position] == pytest.approx((mean, std), rel=1e-4, abs=1e-5)
        assert done.prompt_logprobs[position] == pytest.approx(row[ids[position]].item(), abs=1e-4)


def test_probes_and_chat_requests_share_one_generate_call(backend: TransformersBackend) -> None:
    """Likelihood probes (prefilled alone, full logits) mixed into a batch of chat samples."""
    chat = [Request(("c", "1", j), [{"role": "user", "content": "Name a fruit."}], seed=j) for j in range(3)]
    probes = [Request(("p", str(i), 0), [], seed=0, text=PASSAGE[: 20 + 10 * i], prompt_logprobs=True)
              for i in range(2)]
    params = SamplingParams(temperature=1.0, top_p=0.95, top_k=-1, max_tokens=6)
    require_capabilities(backend, chat + probes)
    done = {c.key: c for c in backend.generate(chat + probes, params)}
    alone = {c.key: c for c in backend.generate(probes, params)}
    assert len(done) == 5
    for probe in probes:
        assert done[probe.key].prompt_logprobs == pytest.approx(alone[probe.key].prompt_logprobs)
    assert all(done[r.key].prompt_logprobs is None for r in chat)
