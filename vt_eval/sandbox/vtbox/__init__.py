"""Modules of the in-sandbox fork-server (standard library only; mounted read-only)."""
