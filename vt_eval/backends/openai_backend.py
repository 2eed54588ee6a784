"""Any OpenAI-compatible server (vLLM, SGLang, llama.cpp, `transformers serve`).

Async with bounded concurrency; retries with exponential backoff on 429, 5xx, timeouts and
connection errors; then a clear stop. One request per sample with its own seed: servers differ in
whether they honour `n`, so it is never relied on. Missing `usage` is recorded as unknown, not 0.

Chat requests go to /v1/chat/completions (`logprobs: true` for completion log-probabilities, read
from choices[0].logprobs.content). Raw `text` requests go to /v1/completions with `prompt`
(`logprobs: 1`); prompt log-probabilities use `echo: true` there and are read, vLLM and llama.cpp
style, from choices[0].logprobs.token_logprobs / tokens, the prompt's part counted by
usage.prompt_tokens (else by text_offset). Servers that ignore these fields (OpenAI's own API,
`transformers serve`) answer without them: that is a BackendError naming the capability, never a
completion silently missing its log-probabilities. Servers return only top log-probabilities, so
`prompt_logprob_moments` is None.
"""

from __future__ import annotations

import asyncio
import os
import queue
import random
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any, ClassVar

import httpx

from vt_eval.backends.base import Capability, Completion, Request, SamplingParams
from vt_eval.backends.openai_logprobs import parse_chat_choice, parse_text_choice
from vt_eval.config import OpenAIConfig
from vt_eval.errors import BackendError

RETRYABLE_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}
_DONE = object()


class OpenAIBackend:
    name: ClassVar[str] = "openai"
    batch_invariant: ClassVar[bool | None] = None  # the server batches as it likes
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {"chat", "raw_text", "logprobs", "prompt_logprobs"})

    def __init__(self, base_url: str, model: str, config: OpenAIConfig) -> None:
        if not base_url:
            raise BackendError("the openai backend needs --base-url (e.g. http://127.0.0.1:8000/v1)")
        self.base_url = base_url.rstrip("/")
        if not self.base_url.endswith("/v1"):
            self.base_url += "/v1"
        self.model = model
        self.config = config
        key = os.environ.get(config.api_key_env, "")
        self.headers = {"Authorization": f"Bearer {key}"} if key else {}
        self._server_models = self._probe()

    def _probe(self) -> list[str]:
        """Fail fast (and clearly) when nothing answers at base_url."""
        try:
            response = httpx.get(f"{self.base_url}/models", headers=self.headers, timeout=30)
        except httpx.HTTPError as exc:
            raise BackendError(f"no OpenAI-compatible server answers at {self.base_url}: {exc}") from exc
        if response.status_code != 200:
            return []
        try:
            return [m.get("id", "") for m in response.json().get("data", [])]
        except (ValueError, AttributeError):
            return []

    def effective_params(self, params: SamplingParams) -> dict[str, Any]:
        body: dict[str, Any] = {"n": 1, "temperature": params.temperature, "top_p": params.top_p,
                                "max_tokens": params.max_tokens, "seed": "Request.seed"}
        if params.top_k > 0:
            body["top_k"] = params.top_k  # a vLLM/SGLang extension; off by default (SPEC)
        return {"chat": {"endpoint": "/v1/chat/completions", **body},
                "raw_text": {"endpoint": "/v1/completions", **body},
                "logprobs": {"chat": {"logprobs": True}, "raw_text": {"logprobs": 1}},
                "prompt_logprobs": {"echo": True, "logprobs": 1}}

    def _endpoint(self, request: Request) -> str:
        return "completions" if request.text is not None else "chat/completions"

    def _body(self, request: Request, params: SamplingParams) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.model, "n": 1, "temperature": params.temperature, "top_p": params.top_p,
            "max_tokens": params.max_tokens, "seed": request.seed,
        }
        if params.top_k > 0:
            body["top_k"] = params.top_k  # a vLLM/SGLang extension; off by default (SPEC)
        if request.text is None:
            body["messages"] = request.messages
            if request.logprobs:
                body["logprobs"] = True
            return body
        body["prompt"] = request.text
        if request.logprobs or request.prompt_logprobs:
            body["logprobs"] = 1
        if request.prompt_logprobs:
            body["echo"] = True
        return body

    async def _post(self, client: httpx.AsyncClient, request: Request,
                    params: SamplingParams) -> Completion:
        last_error = ""
        for attempt in range(self.config.max_retries + 1):
            if attempt:
                await asyncio.sleep(min(30.0, 0.5 * 2 ** (attempt - 1)) * (1 + random.random() / 4))
            started = time.perf_counter()
            try:
                response = await client.post(f"{self.base_url}/{self._endpoint(request)}",
                                             json=self._body(request, params))
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                last_error = f"{type(exc).__name__}: {exc}"
                continue
            if response.status_code in RETRYABLE_STATUS:
                last_error = f"HTTP {response.status_code}: {response.text[:200]}"
                continue
            if response.status_code != 200:
                raise BackendError(f"server refused the request (HTTP {response.status_code}): "
                                   f"{response.text[:500]}")
            return self._parse(request, response, time.perf_counter() - started)
        raise BackendError(f"server at {self.base_url} failed {self.config.max_retries + 1} times "
                           f"for {request.key}; last error: {last_error}")

    def _parse(self, request: Request, response: httpx.Response, latency: float) -> Completion:
        try:
            data = response.json()
            choice = data["choices"][0]
            parsed = (parse_text_choice(request, choice, data.get("usage") or {})
                      if request.text is not None else parse_chat_choice(request, choice))
        except (ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
            raise BackendError(f"unparsable response from the server: {response.text[:300]!r}") from exc
        usage = data.get("usage") or {}
        finish = choice.get("finish_reason")
        return Completion(
            key=request.key, text=parsed.text,
            finish_reason="length" if finish == "length" else "stop" if finish else "unknown",
            prompt_tokens=usage.get("prompt_tokens"), completion_tokens=usage.get("completion_tokens"),
            latency_s=latency, token_logprobs=parsed.token_logprobs,
            prompt_logprobs=parsed.prompt_logprobs, prompt_token_strings=parsed.prompt_tokens,
        )

    async def _run(self, requests: Sequence[Request], params: SamplingParams,
                   out: queue.Queue[Any]) -> None:
        limit = asyncio.Semaphore(self.config.concurrency)
        timeout = httpx.Timeout(self.config.request_timeout_s, connect=30.0)
        async with httpx.AsyncClient(timeout=timeout, headers=self.headers) as client:
            async def one(request: Request) -> None:
                async with limit:
                    out.put(await self._post(client, request, params))

            tasks = [asyncio.create_task(one(r)) for r in requests]
            try:
                for finished in asyncio.as_completed(tasks):
                    await finished
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)

    def generate(self, requests: Sequence[Request], params: SamplingParams) -> Iterator[Completion]:
        out: queue.Queue[Any] = queue.Queue()

        def worker() -> None:
            try:
                asyncio.run(self._run(requests, params, out))
            except BaseException as exc:  # handed to the consumer thread, which re-raises it
                out.put(exc)
            out.put(_DONE)

        thread = threading.Thread(target=worker, daemon=True)
        thread.start()
        while (item := out.get()) is not _DONE:
            if isinstance(item, BaseException):
                thread.join()
                raise item if isinstance(item, BackendError) else BackendError(str(item))
            yield item
        thread.join()

    def provenance(self) -> dict[str, Any]:
        return {"backend": self.name, "base_url": self.base_url, "model": self.model,
                "server_models": self._server_models}

    def close(self) -> None:
        pass
