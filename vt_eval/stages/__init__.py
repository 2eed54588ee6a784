"""Pipeline stages. Each is one module; stages never import each other and meet only through the
run directory's typed files (see docs/architecture.md)."""
