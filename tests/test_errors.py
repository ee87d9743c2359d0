"""Every exception lives in metaads.errors, says what its caller does, and the module's tree names it."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

from metaads import errors
from metaads.errors import Action, MetaAdsError, is_retryable

SRC = Path(errors.__file__).resolve().parent
# The simulator plays Meta's side: its GraphError is the error body Meta sends, not one metaads raises.
OUTSIDE_THE_PIPELINE = {SRC / "simulator"}


def _exception_classes_outside_errors() -> list[str]:
    names = {name for name, obj in vars(errors).items() if inspect.isclass(obj) and issubclass(obj, BaseException)}
    found = []
    for path in sorted(SRC.rglob("*.py")):
        if path == SRC / "errors.py" or any(part in path.parents for part in OUTSIDE_THE_PIPELINE):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                bases = {b.id if isinstance(b, ast.Name) else getattr(b, "attr", "") for b in node.bases}
                if bases & (names | {"Exception", "BaseException", "ValueError", "RuntimeError"}):
                    found.append(f"{path.relative_to(SRC)}: {node.name}")
    return found


def test_every_exception_class_lives_in_the_errors_module() -> None:
    assert _exception_classes_outside_errors() == []


ERROR_CLASSES = sorted(
    (obj for obj in vars(errors).values() if inspect.isclass(obj) and issubclass(obj, MetaAdsError)),
    key=lambda c: c.__name__,
)


@pytest.mark.parametrize("cls", ERROR_CLASSES, ids=[c.__name__ for c in ERROR_CLASSES])
def test_every_error_says_what_its_caller_does_and_is_drawn_in_the_tree(cls: type[MetaAdsError]) -> None:
    assert isinstance(cls.action, Action)
    assert cls.__doc__
    assert f" {cls.__name__} " in (errors.__doc__ or ""), f"{cls.__name__} is missing from the module's tree"


def test_retrying_is_decided_by_the_action_alone() -> None:
    assert is_retryable(errors.TransientError("x")) is True
    assert is_retryable(errors.RateLimitedError("x")) is True
    assert is_retryable(errors.BadRequestError("x", code=100, subcode=33)) is False
    assert is_retryable(KeyError("a bug")) is False
