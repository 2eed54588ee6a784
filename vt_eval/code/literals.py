"""Literal Python expressions (test arguments, expected values) as JSON-able values, read from
the syntax tree: nothing is ever evaluated."""

from __future__ import annotations

import ast
from typing import Any

_NAMES = {"null": None, "None": None, "true": True, "True": True, "false": False, "False": False,
          "inf": float("inf")}


def literal(node: ast.AST) -> Any:
    """A JSON-able value from a literal expression (null/true/false accepted)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float, str, bool, type(None))):
        return node.value
    if isinstance(node, ast.Name) and node.id in _NAMES:
        return _NAMES[node.id]
    if isinstance(node, (ast.List, ast.Tuple)):
        return [literal(e) for e in node.elts]
    if isinstance(node, ast.Dict) and all(k is not None for k in node.keys):
        return {str(literal(k)): literal(v) for k, v in zip(node.keys, node.values)}  # type: ignore[arg-type]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = literal(node.operand)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return -value if isinstance(node.op, ast.USub) else value
    raise ValueError(f"not a literal: {ast.dump(node)[:80]}")
