"""LeetCode's serialisations of linked lists and binary trees (level order, None for gaps).

Runs in the candidate's process, so its output is as untrusted as the program's own.
"""

from __future__ import annotations

from typing import Any

MAX_NODES = 10**6


def to_kind(glb: dict[str, Any], kind: str, value: Any) -> Any:
    if kind == "list_node":
        node_cls = glb["ListNode"]
        head = None
        for v in reversed(value or []):
            head = node_cls(v, head)
        return head
    if kind == "tree_node":
        return _tree(glb["TreeNode"], value)
    return value


def _tree(node_cls: Any, value: Any) -> Any:
    if not value:
        return None
    nodes = [None if v is None else node_cls(v) for v in value]
    kids = nodes[::-1]
    root = kids.pop()
    queue = [root]
    while queue and kids:
        node = queue.pop(0)
        for side in ("left", "right"):
            if kids:
                child = kids.pop()
                setattr(node, side, child)
                if child is not None:
                    queue.append(child)
    return root


def from_kind(value: Any, kind: str) -> Any:
    if kind == "list_node":
        out = []
        while value is not None and len(out) < MAX_NODES:
            out.append(value.val)
            value = value.next
        return out
    if kind == "tree_node":
        out, queue = [], [value]
        while queue and len(out) < MAX_NODES:
            node = queue.pop(0)
            out.append(None if node is None else node.val)
            if node is not None:
                queue.extend([node.left, node.right])
        while out and out[-1] is None:
            out.pop()
        return out
    if isinstance(value, tuple):
        return list(value)
    return value
