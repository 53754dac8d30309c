"""Option values shared by several commands."""

from __future__ import annotations


def split_names(value: str | None) -> list[str | int] | None:
    """``--channels a,b`` -> ``["a", "b"]``; whole numbers become channel indices."""
    if value is None:
        return None
    items = [v.strip() for v in value.split(",") if v.strip()]
    return [int(v) if v.isdigit() else v for v in items]


def split_classes(value: str | None) -> list[str] | None:
    """``--classes a,b,c`` -> ``["a", "b", "c"]`` (class names stay strings, digits too)."""
    if value is None:
        return None
    return [v.strip() for v in value.split(",") if v.strip()] or None
