"""The import graph between metaads's subpackages only points down: graph -> transform -> warehouse -> sync,
with config above them and pipeline conducting. Checked by parsing every module's imports (lazy and
TYPE_CHECKING ones included: they are dependencies too)."""

from __future__ import annotations

import ast
from pathlib import Path

import metaads

SRC = Path(metaads.__file__).parent

# Lowest first. A module may import modules of its own layer or a lower one, never a higher one.
LAYERS: tuple[frozenset[str], ...] = (
    frozenset(
        {
            "errors",
            "redact",
            "clock",
            "dates",
            "logs",
            "accounts",
            "database",
            "graph_api",
            "statuses",
            "outcomes",
            "embedded_postgres",
        }
    ),  # foundations
    frozenset({"graph", "simulator"}),
    frozenset({"transform", "reconcile"}),  # reconcile: pure totals and comparison, the account-level request
    frozenset({"warehouse"}),
    frozenset({"sync"}),
    frozenset({"config"}),  # parses the environment; nothing below may read settings
    frozenset({"pipeline", "observability"}),  # observability: run metrics from the pipeline's summary
    frozenset({"orchestration"}),
    frozenset({"cli", "__main__", "__init__"}),
)
LAYER_OF = {part: level for level, parts in enumerate(LAYERS) for part in parts}


def _part(module: str) -> str:
    """``metaads.warehouse.store`` -> ``warehouse``; ``metaads`` itself -> ``__init__``."""
    pieces = module.split(".")
    return pieces[1] if len(pieces) > 1 else "__init__"


def _imports(path: Path) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names if alias.name.split(".")[0] == "metaads")
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}:{node.lineno}: relative import; metaads uses absolute imports"
            if node.module and node.module.split(".")[0] == "metaads":
                if node.module == "metaads":  # ``from metaads import Pipeline``: the public names, top layer
                    found.extend((node.lineno, "metaads") for _ in node.names)
                else:
                    found.append((node.lineno, node.module))
    return found


def _modules() -> list[tuple[Path, str]]:
    return [
        (path, "metaads." + ".".join(path.relative_to(SRC).with_suffix("").parts)) for path in sorted(SRC.rglob("*.py"))
    ]


def test_every_subpackage_has_a_layer() -> None:
    parts = {_part(name) for _, name in _modules()}
    assert parts - set(LAYER_OF) == set(), "place new subpackages in LAYERS"


def test_no_module_imports_a_higher_layer() -> None:
    upward = []
    for path, name in _modules():
        own = LAYER_OF[_part(name)]
        for line, imported in _imports(path):
            if LAYER_OF[_part(imported)] > own:
                upward.append(f"{path.relative_to(SRC)}:{line} imports {imported}")
    assert upward == []


def test_nothing_below_pipeline_reads_settings() -> None:
    readers = [
        f"{path.relative_to(SRC)}:{line}"
        for path, name in _modules()
        if LAYER_OF[_part(name)] < LAYER_OF["pipeline"] and _part(name) != "config"
        for line, imported in _imports(path)
        if imported.startswith("metaads.config")
    ]
    assert readers == []


def test_the_layer_check_catches_an_upward_import(tmp_path: Path) -> None:
    # The rule is only worth having if it can fail: a transform module importing the warehouse.
    bad = tmp_path / "bad.py"
    bad.write_text("from metaads.warehouse.schema import ADS_VIEW\n")
    ((line, imported),) = _imports(bad)
    assert LAYER_OF[_part(imported)] > LAYER_OF["transform"]
