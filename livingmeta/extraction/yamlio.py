"""Reading review YAML files with errors a reviewer can act on, and small field checkers shared by the
study-file, outcome, protocol and risk-of-bias validators."""

from __future__ import annotations

import math
import os
from typing import Any

import yaml

from livingmeta.yamlsafe import safe_load

from livingmeta.errors import ReviewInputError, ReviewInputErrors


def load_yaml(path: str | os.PathLike, *, what: str = "file") -> Any:
    """``yaml.safe_load`` of ``path``; unreadable files and invalid YAML raise ``ReviewInputError``
    naming the file and the line (field ``line N``)."""
    try:
        with open(path, encoding="utf-8") as handle:
            return safe_load(handle)
    except FileNotFoundError:
        raise ReviewInputError(f"{what} not found", file=path,
                               hint="Create it or fix the path (see docs/study-file.md).") from None
    except UnicodeDecodeError as err:
        raise ReviewInputError(f"not UTF-8 text ({err.reason} at byte {err.start})", file=path,
                               hint="Save the file as UTF-8.") from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        field = None
        if mark is not None:
            field = f"line {mark.line + 1}"
            problem = f"{problem} (line {mark.line + 1}, column {mark.column + 1})"
        raise ReviewInputError(f"invalid YAML: {problem}", file=path, field=field,
                               hint="Fix the YAML syntax there (indentation, a missing colon or an "
                                    "unclosed bracket or quote are the usual causes).") from None


def type_name(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, (int, float)):
        return f"a number ({value!r})"
    if isinstance(value, str):
        return f"text ({value!r})"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def join_field(prefix: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{prefix}[{key}]"
    return f"{prefix}.{key}" if prefix else str(key)


class Problems:
    """Collects the problems of one file; ``raise_if_any`` raises one error (or ``ReviewInputErrors``
    when there are several), so a reviewer sees every bad field of a file in one run."""

    def __init__(self, file: str | os.PathLike, default_hint: str):
        self.file = str(file)
        self.default_hint = default_hint
        self.errors: list[ReviewInputError] = []

    def add(self, field: str | None, message: str, hint: str | None = None) -> None:
        self.errors.append(ReviewInputError(message, file=self.file, field=field or "(top level)",
                                            hint=hint or self.default_hint))

    def raise_if_any(self) -> None:
        if len(self.errors) == 1:
            raise self.errors[0]
        if self.errors:
            raise ReviewInputErrors(self.errors)

    def top_level(self, data: Any, what: str, start_from: str, keys: tuple[str, ...]) -> None:
        """A file's content must be a mapping (else stop here: nothing else can be checked) whose keys are
        among ``keys``. ``what``: the kind of file (\"a study file\"); ``start_from``: where a good example is."""
        if not isinstance(data, dict):
            self.add(None, f"{what} must be a mapping of fields (got {type_name(data)})", f"Start from {start_from}.")
            self.raise_if_any()
        self.unknown_keys(data, keys, "")

    # -- checkers: each returns the value when valid, else records a problem and returns None --------

    def mapping(self, data: dict, key: str, prefix: str, *, required: bool = True) -> dict | None:
        field = join_field(prefix, key)
        if key not in data or data[key] is None:
            if required:
                self.add(field, "missing required field", f"Add `{key}:` (see docs/study-file.md).")
            return None
        value = data[key]
        if not isinstance(value, dict):
            self.add(field, f"must be a mapping of `key: value` lines (got {type_name(value)})")
            return None
        return value

    def text(self, data: dict, key: str, prefix: str, *, required: bool = True,
             allow_number: bool = False) -> str | None:
        field = join_field(prefix, key)
        if key not in data or data[key] is None:
            if required:
                self.add(field, "missing required field", f"Add `{key}:` (see docs/study-file.md).")
            return None
        value = data[key]
        if allow_number and isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)
        if not isinstance(value, str):
            self.add(field, f"must be text (got {type_name(value)})",
                     "Put the value in quotes if YAML read it as something else.")
            return None
        if not value.strip():
            if required:
                self.add(field, "must not be empty")
            return None
        return value.strip()

    def boolean(self, data: dict, key: str, prefix: str, *, required: bool = True) -> bool | None:
        field = join_field(prefix, key)
        if key not in data or data[key] is None:
            if required:
                self.add(field, "missing required field", f"Add `{key}: true` or `{key}: false`.")
            return None
        value = data[key]
        if not isinstance(value, bool):
            self.add(field, f"must be true or false (got {type_name(value)})",
                     f"Write `{key}: true` or `{key}: false` without quotes.")
            return None
        return value

    def number(self, data: dict, key: str, prefix: str, *, required: bool = True,
               positive: bool = False, context: str = "") -> float | None:
        field = join_field(prefix, key)
        if key not in data or data[key] is None:
            if required:
                self.add(field, f"missing required field{context}", f"Add `{key}:` with a number.")
            return None
        value = data[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.add(field, f"must be a number (got {type_name(value)}){context}",
                     "Write the number only, with a dot as decimal separator and no unit.")
            return None
        if not math.isfinite(value):
            self.add(field, f"must be a finite number (got {value!r}){context}")
            return None
        if positive and value <= 0:
            self.add(field, f"must be > 0 (got {value!r}){context}",
                     "Fix the value in the study file: a standard deviation or standard error is positive.")
            return None
        return float(value)

    def integer(self, data: dict, key: str, prefix: str, *, required: bool = True, minimum: int | None = None,
                context: str = "", hint_min: str | None = None) -> int | None:
        field = join_field(prefix, key)
        if key not in data or data[key] is None:
            if required:
                self.add(field, f"missing required field{context}", f"Add `{key}:` with a whole number.")
            return None
        value = data[key]
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            self.add(field, f"must be a whole number (got {type_name(value)}){context}",
                     "Write digits only, e.g. `n: 6`.")
            return None
        if minimum is not None and value < minimum:
            self.add(field, f"must be >= {minimum} (got {value}){context}", hint_min)
            return None
        return value

    def unknown_keys(self, data: dict, allowed, prefix: str, hint_extra: str = "") -> None:
        for key in data:
            if key not in allowed:
                self.add(join_field(prefix, str(key)), f"unknown field '{key}'",
                         f"Allowed fields here: {', '.join(allowed)}.{hint_extra} Fix the spelling or remove it.")
