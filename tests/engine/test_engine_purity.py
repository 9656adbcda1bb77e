"""The engine and the working-day calendar are pure Python: no Django, no domain apps.

They import only the standard library, their own package, third-party helpers and ``jifen``
itself (for ``PROJECT_ROOT``), so the calculator runs on a machine without a database.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

from jifen import PROJECT_ROOT

SRC = PROJECT_ROOT / "src" / "jifen"
PURE_PACKAGES = ("engine", "workdays")
ALLOWED_JIFEN = ("jifen.engine", "jifen.workdays")
MODULES = sorted(path for package in PURE_PACKAGES for path in (SRC / package).rglob("*.py"))


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> list[tuple[int, str, tuple[str, ...]]]:
    """(line, absolute module, names) of every import in ``path``, nested ones included."""
    return imports_in(
        path.read_text(encoding="utf-8"), module_name(path), is_package=path.name == "__init__.py"
    )


def imports_in(
    source: str, module: str, is_package: bool = False
) -> list[tuple[int, str, tuple[str, ...]]]:
    tree = ast.parse(source)
    package = module if is_package else module.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name, ()) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            found.append((node.lineno, target, tuple(a.name for a in node.names)))
        elif (
            isinstance(node, ast.Call)
            and (
                (isinstance(node.func, ast.Name) and node.func.id == "__import__")
                or (isinstance(node.func, ast.Attribute) and node.func.attr == "import_module")
            )
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.append((node.lineno, node.args[0].value, ()))
    return found


def test_the_pure_packages_are_found() -> None:
    names = {module_name(p) for p in MODULES}
    assert {"jifen.engine", "jifen.engine.evaluate", "jifen.engine.policy"} <= names
    assert {"jifen.workdays", "jifen.workdays.calendar"} <= names


@pytest.mark.parametrize("path", MODULES, ids=lambda p: module_name(p))
def test_no_django_import(path: Path) -> None:
    for line, module, _ in imports(path):
        top = module.split(".")[0]
        assert top not in {"django", "rest_framework", "drf_spectacular", "django_fsm"}, (
            f"{path.relative_to(PROJECT_ROOT)}:{line} imports {module}"
        )


@pytest.mark.parametrize("path", MODULES, ids=lambda p: module_name(p))
def test_only_pure_jifen_imports(path: Path) -> None:
    for line, module, names in imports(path):
        if module != "jifen" and not module.startswith("jifen."):
            continue
        where = f"{path.relative_to(PROJECT_ROOT)}:{line}"
        if module == "jifen":
            # Only the package's own constants (PROJECT_ROOT), never a sub-package by name.
            assert names, f"{where} imports the whole jifen package"
            for name in names:
                assert not (SRC / name).is_dir() and not (SRC / f"{name}.py").exists(), (
                    f"{where} imports jifen.{name}"
                )
            continue
        assert module.startswith(ALLOWED_JIFEN), f"{where} imports {module}"


def test_the_import_walker_sees_nested_and_relative_imports() -> None:
    # The walker itself, on a module that breaks every rule.
    source = (
        "def f():\n"
        "    import django.conf\n"
        "    from ..scores import apps\n"
        "    from . import policy\n"
        "    importlib.import_module('jifen.residents')\n"
    )
    found = [(m, n) for _, m, n in imports_in(source, "jifen.engine.fake")]
    assert ("django.conf", ()) in found
    assert ("jifen.scores", ("apps",)) in found
    assert ("jifen.engine", ("policy",)) in found
    assert ("jifen.residents", ()) in found


def test_importing_the_pure_packages_loads_no_django() -> None:
    code = (
        "import sys, jifen.engine, jifen.workdays, jifen.engine.evaluate, jifen.workdays.loader; "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('django', 'rest_framework', 'drf_spectacular', 'django_fsm')); "
        "assert not bad, bad"
    )
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    run = subprocess.run(
        [sys.executable, "-c", code],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr


def test_scoring_a_profile_loads_no_django() -> None:
    code = (
        "import sys, datetime as dt\n"
        "from jifen.engine import evaluate, load_policies\n"
        "r = evaluate({'birth_date': '1990-01-01'}, dt.date(2025, 6, 1), None, load_policies())\n"
        "assert r.total == 20, r.total\n"
        "assert not any(m.startswith('django') for m in sys.modules)\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr


def test_the_engine_commands_load_no_django() -> None:
    code = (
        "import sys\n"
        "from jifen.cli import main\n"
        "assert main(['policy', 'show', '--on', '2025-06-01']) == 0\n"
        "assert main(['score', '-', '--on', '2025-06-01', '--json']) == 0\n"
        "assert not any(m.startswith('django') for m in sys.modules)\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code],
        cwd=PROJECT_ROOT,
        input='{"birth_date": "1990-01-01"}',
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    assert '"total": "20.00"' in run.stdout
