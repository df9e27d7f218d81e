"""Every product module imports cleanly as the first import of a fresh interpreter.

An import cycle hidden by import order (a package ``__init__`` that its own modules
import back through) shows only when a module is imported first; the layers themselves
are checked by import-linter (``lint-imports``, pyproject.toml).
"""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PRODUCT = ("app.py", "cli.py", "config.py", "i18n.py", "textrules.py")
PACKAGES = ("web", "schema", "resolvers", "services", "mail", "models")


def product_modules() -> list[str]:
    names = [Path(name).stem for name in PRODUCT]
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def first_import(module: str) -> tuple[str, str]:
    code = f"import sys; sys.path.insert(0, {str(ROOT)!r}); import {module}"
    done = subprocess.run(
        [sys.executable, "-I", "-c", code], capture_output=True, text=True, timeout=60
    )
    return module, done.stderr.strip().splitlines()[-1] if done.returncode else ""


def test_every_product_module_imports_first_in_a_fresh_interpreter() -> None:
    modules = product_modules()
    assert {"schema.root", "services.errors", "mail.errors", "web.graphql"} <= set(modules)
    with ThreadPoolExecutor(max_workers=4) as pool:
        failures = {name: error for name, error in pool.map(first_import, modules) if error}
    assert failures == {}


@pytest.mark.parametrize("package", PACKAGES)
def test_package_init_has_no_side_effects(package: str) -> None:
    """A package's ``__init__`` holds at most a docstring and re-exports, never the root."""
    text = (ROOT / package / "__init__.py").read_text(encoding="utf-8")
    assert "strawberry.Schema(" not in text and "build_schema" not in text


#: What the app does not need to start: imported on first use (an OAuth request, an address).
DEFERRED = ("authlib", "httpx2", "email_validator")


def test_the_app_starts_without_the_libraries_it_needs_only_on_first_use() -> None:
    code = (
        f"import sys; sys.path.insert(0, {str(ROOT)!r}); import app, cli; "
        f"print(sorted(name for name in sys.modules if name.split('.')[0] in {DEFERRED!r}))"
    )
    done = subprocess.run(
        [sys.executable, "-I", "-c", code], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
