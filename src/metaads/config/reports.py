"""Parsing ``INSIGHTS_REPORTS``: the extra insights reports, from a TOML/YAML file or an inline JSON list.

TOML files list reports as ``[[reports]]`` tables; YAML files as a list (or a ``reports:`` key);
inline JSON is a list of objects. Every report is validated here, before any call
(:func:`metaads.transform.report_spec.check_report`); errors name ``INSIGHTS_REPORTS``, the report
and the field.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from metaads.errors import ConfigError
from metaads.transform.report_spec import REPORT_VARIABLE, ReportSpec, check_report, check_table_names

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

_KEYS = (
    "name",
    "level",
    "fields",
    "breakdowns",
    "action_breakdowns",
    "action_attribution_windows",
    "action_report_time",
    "time_increment",
    "lookback_days",
)
_LISTS = ("fields", "breakdowns", "action_breakdowns", "action_attribution_windows")


def _error(message: str) -> ConfigError:
    return ConfigError(message, variable=REPORT_VARIABLE)


def _load_file(path: Path) -> Any:
    text = path.read_text(encoding="utf-8")
    suffix = path.suffix.lower()
    if suffix == ".toml":
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise _error(f"{path} is not valid TOML: {exc}") from None
    if suffix in (".yaml", ".yml"):
        import yaml

        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise _error(f"{path} is not valid YAML: {exc}") from None
    if suffix == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise _error(f"{path} is not valid JSON: {exc}") from None
    raise _error(f"{path}: use a .toml, .yaml/.yml or .json file")


def _raw_reports(value: str) -> list[Any]:
    text = value.strip()
    if not text:
        return []
    if text.startswith(("[", "{")):
        try:
            data: Any = json.loads(text)
        except json.JSONDecodeError as exc:
            raise _error(f"not valid JSON: {exc.msg} at character {exc.pos}") from None
    else:
        path = Path(text).expanduser()
        if not path.is_file():
            raise _error(f"{text!r} is neither an inline JSON list nor a readable file")
        data = _load_file(path)
    if isinstance(data, Mapping):
        data = data.get("reports", data.get("report"))
    if not isinstance(data, list):
        raise _error("expected a list of reports (TOML: [[reports]] tables; YAML/JSON: a list)")
    return data


def _strings(name: str, key: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [part.strip() for part in value.split(",") if part.strip()]
    if not isinstance(value, Sequence) or not all(isinstance(item, str) for item in value):
        raise _error(f"report {name!r}, {key}: expected a list of names, got {value!r}")
    return tuple(value)


def _spec(position: int, item: Any) -> ReportSpec:
    if not isinstance(item, Mapping):
        raise _error(f"report {position + 1}: expected a table/object with name, level, fields, ...")
    name = item.get("name")
    if not isinstance(name, str):
        raise _error(f"report {position + 1}, name: every report needs a name")
    unknown = sorted(set(item) - set(_KEYS) - {"lookback"})
    if unknown:
        raise _error(f"report {name!r}, {unknown[0]}: unknown setting (known: {', '.join(_KEYS)})")
    values: dict[str, Any] = {"name": name}
    for key in _LISTS:
        if key in item:
            values[key] = _strings(name, key, item[key])
    for key in ("level", "action_report_time"):
        if key in item:
            if not isinstance(item[key], str):
                raise _error(f"report {name!r}, {key}: expected text, got {item[key]!r}")
            values[key] = item[key]
    for key in ("time_increment", "lookback_days"):
        raw = item.get(key, item.get("lookback")) if key == "lookback_days" else item.get(key)
        if raw is not None:
            if isinstance(raw, bool) or not isinstance(raw, int):
                raise _error(f"report {name!r}, {key}: expected a whole number of days, got {raw!r}")
            values[key] = raw
    spec = ReportSpec(**values)
    check_report(spec)
    return spec


def parse_reports(value: str, account_tables: Sequence[str] = ()) -> tuple[ReportSpec, ...]:
    """The reports of ``INSIGHTS_REPORTS`` (a file path or inline JSON), validated.

    Raises:
        ConfigError: naming INSIGHTS_REPORTS, the report and the field at fault.
    """
    specs = tuple(_spec(position, item) for position, item in enumerate(_raw_reports(value)))
    check_table_names(specs, list(account_tables))
    return specs
