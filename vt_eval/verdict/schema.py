"""The JSON Schema of `vt-eval verdict --format json`, generated from `model.Verdict`; the copy
shipped as verdict.schema.json is checked against it by the tests."""

from __future__ import annotations

import json
from pathlib import Path

from vt_eval.verdict.model import Verdict

SCHEMA_FILE = Path(__file__).with_name("verdict.schema.json")
SCHEMA_ID = "https://vt-eval.invalid/schemas/verdict-1.json"


def schema() -> dict[str, object]:
    generated = Verdict.model_json_schema(mode="serialization")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID,
            **generated}


def schema_text() -> str:
    return json.dumps(schema(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":  # python -m vt_eval.verdict.schema: rewrite the shipped file
    SCHEMA_FILE.write_text(schema_text(), encoding="utf-8")
