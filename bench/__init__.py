"""The confid benchmark: confid against a bare-Starlette ceiling on the same store (not shipped)."""
