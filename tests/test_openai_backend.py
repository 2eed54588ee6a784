"""The openai backend against a real server (`transformers serve`), a server that dies, and a
small real HTTP server replaying recorded vLLM/llama.cpp-shaped log-probability answers."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

from vt_eval.backends.base import Request, SamplingParams
from vt_eval.backends.openai_backend import OpenAIBackend
from vt_eval.config import OpenAIConfig
from vt_eval.errors import BackendError

from helpers import ScriptedServerHandler

pytestmark = pytest.mark.slow


def test_real_server_completions_with_usage_and_finish_reason(openai_server: object) -> None:
    backend = OpenAIBackend(openai_server.base_url, openai_server.model, OpenAIConfig(concurrency=2))
    requests = [Request(("b", "1", i), [{"role": "user", "content": "Say hi"}], seed=i) for i in range(2)]
    done = list(backend.generate(requests, SamplingParams(temperature=1.0, top_p=0.95, top_k=-1, max_tokens=6)))
    assert sorted(c.key for c in done) == [("b", "1", 0), ("b", "1", 1)]
    for completion in done:
        assert completion.text
        assert completion.finish_reason in ("length", "stop")
        assert completion.completion_tokens is not None and completion.completion_tokens <= 6
    assert backend.provenance()["model"] == openai_server.model


def test_cli_run_through_the_real_server(openai_server: object, tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "vt_eval.cli", "run", "--backend", "openai", "--base-url",
         openai_server.base_url, "--model", openai_server.model, "--benchmarks", "brumo_2025",
         "--limit", "1", "-k", "2", "--max-tokens", "12", "--out", "runs", "--run-id", "served"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    samples = (tmp_path / "runs" / "served" / "samples.jsonl").read_text().splitlines()
    assert len(samples) == 2
    results = json.loads((tmp_path / "runs" / "served" / "results.json").read_text())
    assert results["benchmarks"][0]["samples_done"] == 2


class _Dying(ScriptedServerHandler):
    """Answers `good` chat requests, then 503s forever (a server falling over mid-run)."""

    good = 2
    served = 0
    lock = threading.Lock()

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        with _Dying.lock:
            _Dying.served += 1
            alive = _Dying.served <= _Dying.good
        if not alive:
            self._reply(503, {"error": "overloaded"})
            return
        self._reply(200, {"choices": [{"message": {"content": "\\boxed{3}"}, "finish_reason": "stop"}]})


@pytest.fixture
def dying_server() -> Iterator[str]:
    _Dying.served = 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Dying)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()


def test_dying_server_stops_clearly_and_keeps_finished_samples(dying_server: str, tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "vt_eval.cli", "run", "--backend", "openai", "--base-url", dying_server,
         "--model", "m", "--benchmarks", "aime_2025", "--limit", "3", "-k", "2", "--concurrency", "1",
         "--out", "runs", "--run-id", "dying"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
        env={"PATH": "/usr/bin:/bin", "VT_EVAL_TEST": "1"})
    assert result.returncode == 3, result.stdout + result.stderr
    assert "HTTP 503" in result.stdout and "resume" in result.stdout
    kept = (tmp_path / "runs" / "dying" / "samples.jsonl").read_text().splitlines()
    assert len(kept) == 2  # both answers that arrived before the server fell over


def test_missing_usage_is_unknown_not_zero(dying_server: str) -> None:
    backend = OpenAIBackend(dying_server, "m", OpenAIConfig(max_retries=0))
    (completion,) = backend.generate([Request(("a", "1", 0), [{"role": "user", "content": "q"}], 1)],
                                     SamplingParams(temperature=1.0, top_p=0.95, top_k=-1, max_tokens=8))
    assert completion.completion_tokens is None and completion.prompt_tokens is None


def test_nothing_listening_is_a_clear_error() -> None:
    with pytest.raises(BackendError, match="no OpenAI-compatible server answers"):
        OpenAIBackend("http://127.0.0.1:9/v1", "m", OpenAIConfig())


# -- raw text and log-probabilities ------------------------------------------------------------

SHORT = SamplingParams(temperature=1.0, top_p=0.95, top_k=-1, max_tokens=4)
PROBE = SamplingParams(temperature=1.0, top_p=0.95, top_k=-1, max_tokens=1)


def test_real_server_raw_text_goes_to_completions(openai_server: object) -> None:
    backend = OpenAIBackend(openai_server.base_url, openai_server.model, OpenAIConfig())
    (done,) = backend.generate([Request(("r", "1", 0), [], seed=1, text="The capital of France is")], SHORT)
    assert done.text and done.finish_reason in ("length", "stop")
    assert done.prompt_tokens == 5  # the bare text: no chat template around it


@pytest.mark.parametrize(("request_", "capability"), [
    (Request(("c", "1", 0), [{"role": "user", "content": "hi"}], seed=1, logprobs=True), "logprobs"),
    (Request(("p", "1", 0), [], seed=1, text="The capital of France is", prompt_logprobs=True),
     "prompt_logprobs"),
], ids=["chat-logprobs", "prompt-logprobs"])
def test_real_server_ignoring_logprobs_is_an_error_not_silence(openai_server: object, request_: Request,
                                                               capability: str) -> None:
    """`transformers serve` accepts `logprobs`/`echo` but ignores them."""
    backend = OpenAIBackend(openai_server.base_url, openai_server.model, OpenAIConfig(max_retries=0))
    with pytest.raises(BackendError, match=f"does not support {capability}"):
        list(backend.generate([request_], PROBE))


# Recorded from vLLM (/v1/completions, echo=true, logprobs=1, max_tokens=1), trimmed to one choice.
VLLM_ECHO = {
    "id": "cmpl-5f1d", "object": "text_completion", "model": "m",
    "choices": [{"index": 0, "text": "The capital of France is Paris", "finish_reason": "length",
                 "stop_reason": None, "prompt_logprobs": None,
                 "logprobs": {"text_offset": [0, 3, 11, 14, 21, 24],
                              "token_logprobs": [None, -9.1875, -1.625, -4.0, -0.5, -1.3125],
                              "tokens": ["The", " capital", " of", " France", " is", " Paris"],
                              "top_logprobs": [None, {" capital": -9.1875}, {" of": -1.625},
                                               {" France": -4.0}, {" is": -0.5}, {" Paris": -1.3125}]}}],
    "usage": {"prompt_tokens": 5, "total_tokens": 6, "completion_tokens": 1},
}
# llama.cpp's /v1/completions answers without usage; the prompt's part is found by text_offset.
LLAMA_CPP_ECHO = {
    "object": "text_completion", "model": "m",
    "choices": [{"index": 0, "text": "The capital of France is Paris", "finish_reason": "length",
                 "logprobs": {"text_offset": [0, 3, 11, 14, 21, 24],
                              "token_logprobs": [-11.5, -9.1875, -1.625, -4.0, -0.5, -1.3125],
                              "tokens": ["The", " capital", " of", " France", " is", " Paris"]}}],
}
CHAT_LOGPROBS = {
    "choices": [{"message": {"role": "assistant", "content": "Hi there"}, "finish_reason": "stop",
                 "logprobs": {"content": [{"token": "Hi", "logprob": -0.25, "bytes": [72, 105]},
                                          {"token": " there", "logprob": -1.5, "bytes": None}]}}],
    "usage": {"prompt_tokens": 9, "completion_tokens": 2},
}


class _Recorded(ScriptedServerHandler):
    """Replays `answer` to every POST and keeps the bodies it was sent."""

    answer: dict[str, object] = {}
    bodies: list[tuple[str, dict[str, object]]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        _Recorded.bodies.append((self.path, body))
        self._reply(200, _Recorded.answer)


@pytest.fixture
def recorded_server() -> Iterator[str]:
    _Recorded.bodies = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorded)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()


@pytest.mark.parametrize("answer", [VLLM_ECHO, LLAMA_CPP_ECHO], ids=["vllm", "llama.cpp"])
def test_prompt_logprobs_from_an_echoing_server(recorded_server: str, answer: dict[str, object]) -> None:
    _Recorded.answer = answer
    backend = OpenAIBackend(recorded_server, "m", OpenAIConfig(max_retries=0))
    request = Request(("p", "1", 0), [], seed=4, text="The capital of France is", prompt_logprobs=True,
                      logprobs=True)
    (done,) = backend.generate([request], PROBE)
    path, body = _Recorded.bodies[0]
    assert path == "/v1/completions"
    assert body["prompt"] == request.text and body["echo"] is True and body["logprobs"] == 1
    assert body["max_tokens"] == 1 and body["seed"] == 4 and "messages" not in body
    assert done.prompt_logprobs == (None, -9.1875, -1.625, -4.0, -0.5)
    assert done.prompt_token_strings == ("The", " capital", " of", " France", " is")
    assert done.prompt_logprob_moments is None  # servers give only top log-probabilities
    assert done.token_logprobs == (-1.3125,) and done.text == " Paris"
    assert done.finish_reason == "length"


def test_chat_logprobs(recorded_server: str) -> None:
    _Recorded.answer = CHAT_LOGPROBS
    backend = OpenAIBackend(recorded_server, "m", OpenAIConfig(max_retries=0))
    request = Request(("c", "1", 0), [{"role": "user", "content": "hi"}], seed=2, logprobs=True)
    (done,) = backend.generate([request], SHORT)
    path, body = _Recorded.bodies[0]
    assert path == "/v1/chat/completions" and body["logprobs"] is True and body["messages"]
    assert done.text == "Hi there" and done.token_logprobs == (-0.25, -1.5)
    assert done.prompt_logprobs is None and done.completion_tokens == 2


def test_echo_ignored_is_a_clear_error(recorded_server: str) -> None:
    """A server that answers the completion but not the echoed prompt (OpenAI's own API style)."""
    _Recorded.answer = {"choices": [{"text": " Paris", "finish_reason": "length",
                                     "logprobs": {"tokens": [" Paris"], "token_logprobs": [-1.3],
                                                  "text_offset": [24]}}],
                        "usage": {"prompt_tokens": 5, "completion_tokens": 1}}
    backend = OpenAIBackend(recorded_server, "m", OpenAIConfig(max_retries=0))
    request = Request(("p", "1", 0), [], seed=4, text="The capital of France is", prompt_logprobs=True)
    with pytest.raises(BackendError, match="does not support prompt_logprobs"):
        list(backend.generate([request], PROBE))


def test_capabilities_and_effective_params(recorded_server: str) -> None:
    backend = OpenAIBackend(recorded_server, "m", OpenAIConfig())
    assert backend.capabilities == {"chat", "raw_text", "logprobs", "prompt_logprobs"}
    effective = backend.effective_params(SamplingParams(temperature=0.6, top_p=0.9, top_k=20, max_tokens=7))
    assert effective["chat"] == {"endpoint": "/v1/chat/completions", "n": 1, "temperature": 0.6,
                                 "top_p": 0.9, "max_tokens": 7, "seed": "Request.seed", "top_k": 20}
    assert effective["prompt_logprobs"] == {"echo": True, "logprobs": 1}
