"""The probes through each kind of backend (vLLM's real engine: tests/test_vllm_calls.py): an
OpenAI-compatible server that echoes
prompt log-probabilities (a recorded vLLM answer), and servers or backends that cannot: a clear
error naming the missing capability, before or instead of any silent result."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Sequence
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from helpers import ScriptedServerHandler
from vt_eval.backends.base import Capability, Completion, Request, SamplingParams
from vt_eval.cli import main
from vt_eval.config import OpenAIConfig
from vt_eval.errors import BackendError
from vt_eval.probes.likelihood import likelihood_probe
from vt_eval.probes.run import probe_records
from vt_eval.probes.settings import ProbeSettings
from vt_eval.probes.texts import ProbeItem

SETTINGS = ProbeSettings(perturbations=1, bootstrap=200, permutations=200)
ITEMS = [ProbeItem("b", "1", "Let x be 12. Then y is 3. Find x+y.", "15")]


# -- OpenAI-compatible servers ----------------------------------------------------------------

class _Replay(ScriptedServerHandler):
    answer: ClassVar[dict[str, Any]] = {}
    bodies: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        _Replay.bodies.append(body)
        try:
            self._reply(200, _Replay.answer)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client stopped at the first error and dropped its other requests


@pytest.fixture
def replay_server() -> Iterator[str]:
    _Replay.bodies = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Replay)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()


ECHO = {"choices": [{"index": 0, "text": "Let x be 12 15", "finish_reason": "length",
                     "logprobs": {"text_offset": [0, 3, 5, 8, 11],
                                  "token_logprobs": [None, -2.0, -0.5, -4.0, -1.0],
                                  "tokens": ["Let", " x", " be", " 12", " 15"]}}],
        "usage": {"prompt_tokens": 4, "completion_tokens": 1}}
NO_ECHO = {"choices": [{"text": " 15", "finish_reason": "length",
                        "logprobs": {"tokens": [" 15"], "token_logprobs": [-1.0], "text_offset": [11]}}],
           "usage": {"prompt_tokens": 4, "completion_tokens": 1}}


def test_likelihood_through_an_echoing_server(replay_server: str) -> None:
    from vt_eval.backends.openai_backend import OpenAIBackend
    _Replay.answer = ECHO
    backend = OpenAIBackend(replay_server, "m", OpenAIConfig(max_retries=0))
    result = likelihood_probe(backend, ITEMS, SETTINGS)[("b", "1")]
    assert result["mean_logprob"] == pytest.approx(-6.5 / 3) and result["min_k"] == -4.0
    assert result["min_k_pp"] is None
    assert all(b["echo"] is True and b["temperature"] == 0.0 for b in _Replay.bodies)


def test_server_without_prompt_logprobs_is_a_clear_error(replay_server: str, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    _Replay.answer = NO_ECHO
    code = main(["probe", "--model", "m", "--backend", "openai", "--base-url", replay_server,
                 "--benchmarks", "aime_2026", "--controls", "aime_2026", "--limit", "1",
                 "--probes", "likelihood", "--out", str(tmp_path), "--run-id", "p"])
    out = capsys.readouterr().out
    assert code == 3 and "prompt_logprobs" in out
    assert not (tmp_path / "p" / "benchmarks.json").exists()


class _ChatOnly:
    """A backend that declares only chat (what a chat-only server adapter would)."""

    name: ClassVar[str] = "chat-only"
    capabilities: ClassVar[frozenset[Capability]] = frozenset({"chat"})
    calls = 0

    def generate(self, requests: Sequence[Request], params: SamplingParams) -> Iterator[Completion]:
        _ChatOnly.calls += 1
        return iter(())


@pytest.mark.parametrize("probes", [("likelihood",), ("completion",)])
def test_missing_capability_is_named_before_any_call(probes: tuple[str, ...]) -> None:
    with pytest.raises(BackendError, match="does not support .*raw_text") as error:
        probe_records(_ChatOnly(), ITEMS, SETTINGS, probes)  # type: ignore[arg-type]
    assert ("prompt_logprobs" in str(error.value)) == (probes == ("likelihood",))
    assert _ChatOnly.calls == 0


def test_cli_writes_items_benchmarks_and_table(replay_server: str, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    _Replay.answer = ECHO
    config = tmp_path / "probe.toml"
    config.write_text("[probe]\nbootstrap = 200\npermutations = 200\nmin_k = 0.5\n")
    out = tmp_path / "p"
    code = main(["probe", "--model", "m", "--backend", "openai", "--base-url", replay_server,
                 "--benchmarks", "aime_2025,aime_2026", "--cutoff", "2025-06-30", "--limit", "2",
                 "--probes", "likelihood", "--config", str(config), "--out", str(tmp_path), "--run-id", "p"])
    printed = capsys.readouterr().out
    assert code == 0, printed
    report = json.loads((out / "benchmarks.json").read_text())
    assert report["controls"] == ["aime_2026"] and report["cutoff"] == "2025-06-30"
    assert report["settings"]["min_k"] == 0.5 and "min_k_pp" in report["meaning"]
    assert report["benchmarks"]["aime_2025"]["role"] == "suspect"
    assert report["benchmarks"]["aime_2026"]["role"] == "control"
    assert "vs_controls" in report["benchmarks"]["aime_2025"] and "Evidence, not proof" in report["caveat"]
    items = [json.loads(line) for line in (out / "items.jsonl").read_text().splitlines()]
    assert [(i["benchmark"], i["item_id"]) for i in items] == [
        ("aime_2025", "1"), ("aime_2025", "2"), ("aime_2026", "1"), ("aime_2026", "2")]
    assert "| statistic |" in (out / "table.md").read_text()
    assert "aime_2025 stands out against the controls on:" in printed


def test_cli_refuses_controls_that_are_not_after_the_cutoff(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["probe", "--model", "m", "--benchmarks", "aime_2025", "--controls", "hmmt_feb_2025",
                 "--cutoff", "2025-06-30", "--out", str(tmp_path), "--run-id", "p"])
    assert code == 2 and "cannot stand for unseen text" in capsys.readouterr().out
    code = main(["probe", "--model", "m", "--benchmarks", "aime_2025", "--cutoff", "2025-06-30",
                 "--out", str(tmp_path), "--run-id", "p"])
    assert code == 2 and "no benchmark given was released after" in capsys.readouterr().out
    code = main(["probe", "--model", "m", "--benchmarks", "aime_2025", "--out", str(tmp_path), "--run-id", "p"])
    assert code == 2 and "--cutoff" in capsys.readouterr().out
