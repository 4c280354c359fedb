"""The service uses only the public API of the frameworks and drivers under it: no module of
`app/` imports or reads a name with a leading underscore from fastapi, starlette, sqlalchemy
or asyncpg (such names change without notice between releases)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[2] / "app"
LIBRARIES = ("fastapi", "starlette", "sqlalchemy", "asyncpg")


def _private(name: str) -> bool:
    return any(p.startswith("_") and not p.startswith("__") for p in name.split("."))


def private_uses(source: str) -> list[str]:
    """Each private name the source imports from the libraries, or reads as an attribute of
    anything but its own `self` or `cls` (a private attribute of a library's object)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [
                f"line {node.lineno}: import {a.name}"
                for a in node.names
                if a.name.split(".")[0] in LIBRARIES and _private(a.name)
            ]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in LIBRARIES:
            module = node.module or ""
            found += [
                f"line {node.lineno}: from {module} import {a.name}"
                for a in node.names
                if _private(module) or _private(a.name)
            ]
        elif (
            isinstance(node, ast.Attribute)
            and _private(node.attr)
            and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"))
        ):
            found.append(f"line {node.lineno}: {ast.unparse(node)}")
    return found


def test_no_module_of_the_app_uses_a_private_name() -> None:
    modules = sorted(APP.rglob("*.py"))
    assert len(modules) > 50
    uses = {
        str(path.relative_to(APP.parent)): found
        for path in modules
        if (found := private_uses(path.read_text()))
    }
    assert uses == {}


@pytest.mark.parametrize(
    "planted",
    [
        "from fastapi._compat import Undefined",
        "from fastapi.routing import _effective_route_context_var",
        "import starlette._utils",
        "from starlette import _exception_handler",
        "def f(conn):\n    return conn.sync_connection._is_autocommit_isolation()",
        "def f(adapter):\n    return adapter._transaction",
    ],
)
def test_a_planted_private_use_is_found(planted: str) -> None:
    assert private_uses(planted)
