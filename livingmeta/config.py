"""Load and validate the workflow configuration; resolve its paths."""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import yaml

from livingmeta.yamlsafe import safe_load

from livingmeta.errors import ReviewInputError

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "workflow" / "schemas" / "config.schema.yaml"


def _with_defaults(schema: dict, data: Any) -> Any:
    """Fill defaults from the schema (recursively into objects), without touching given values."""
    if schema.get("type") == "object" and isinstance(data, dict):
        for key, sub in (schema.get("properties") or {}).items():
            if key not in data and "default" in sub:
                data[key] = copy.deepcopy(sub["default"])
            if key in data:
                data[key] = _with_defaults(sub, data[key])
    elif schema.get("type") == "array" and isinstance(data, list) and isinstance(schema.get("items"), dict):
        data = [_with_defaults(schema["items"], item) for item in data]
    return data


def _path_of(error) -> str:
    parts = [str(p) if not isinstance(p, int) else f"[{p}]" for p in error.absolute_path]
    return ".".join(parts).replace(".[", "[") or "(top level)"


def load_schema(path: str | os.PathLike = SCHEMA_PATH) -> dict:
    with open(path, encoding="utf-8") as handle:
        return safe_load(handle)


def validate_config(config: dict, *, source: str = "config.yaml", schema: dict | None = None) -> dict:
    """Return a validated copy of ``config`` with defaults filled in.

    Raises ReviewInputError naming the key at fault, e.g.
    ``config.yaml: analysis.method: 'REM' is not one of ['FE', 'DL', ...]``.
    """
    import jsonschema

    schema = schema or load_schema()
    data = _with_defaults(schema, copy.deepcopy(config or {}))
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        err = errors[0]
        message = err.message
        if err.validator == "additionalProperties":
            message = f"{message}; allowed keys: {', '.join(sorted(err.schema.get('properties', {})))}"
        raise ReviewInputError(message, file=source, field=_path_of(err),
                               hint="Fix the key in the config file (see workflow/schemas/config.schema.yaml).")
    return data


def resolve_paths(config: dict, base_dir: str | os.PathLike, cwd: str | os.PathLike | None = None) -> dict:
    """Make review_dir, results_dir and reports_dir paths relative to ``cwd`` (default: the current
    directory), interpreting relative values against ``base_dir`` (the config file's folder)."""
    cwd = Path(cwd or os.getcwd()).resolve()
    out = dict(config)
    for key in ("review_dir", "results_dir", "reports_dir"):
        value = Path(os.path.expanduser(str(config[key])))
        absolute = value if value.is_absolute() else (Path(base_dir) / value)
        absolute = Path(os.path.normpath(absolute.resolve()))
        # inside the working folder: a short relative path (messages read review/studies/x.yaml); else absolute
        out[key] = os.path.relpath(absolute, cwd) if absolute.is_relative_to(cwd) else str(absolute)
    return out


def load(configfile: str | os.PathLike, cwd: str | os.PathLike | None = None) -> dict:
    """Read, validate and resolve a config file the way the workflow does (outside Snakemake)."""
    path = Path(configfile)
    try:
        with open(path, encoding="utf-8") as handle:
            data = safe_load(handle) or {}
    except FileNotFoundError:
        raise ReviewInputError("the config file does not exist", file=str(path)) from None
    except yaml.YAMLError as err:
        raise ReviewInputError(f"not valid YAML ({err})", file=str(path)) from None
    return resolve_paths(validate_config(data, source=str(path)), path.resolve().parent, cwd)
