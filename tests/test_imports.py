"""Every product module imports cleanly as the first import of a fresh interpreter.

An import cycle hidden by import order (a package ``__init__`` that its own modules
import back through) shows only when a module is imported first; the layers themselves
are checked by import-linter (``lint-imports``, pyproject.toml).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PRODUCT = ("app.py", "cli.py", "config.py", "i18n.py", "textrules.py")
PACKAGES = ("web", "schema", "resolvers", "notifications", "services", "oauth", "mail", "models")


def product_modules() -> list[str]:
    names = [Path(name).stem for name in PRODUCT]
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def test_every_product_module_imports_first_in_a_fresh_interpreter() -> None:
    modules = product_modules()
    assert {"schema.root", "services.errors", "mail.errors", "web.graphql"} <= set(modules)
    # tests/import_each.py: one fresh interpreter, one forked child per module.
    code = (
        f"import sys; sys.path.insert(0, {str(ROOT)!r}); sys.argv[1:] = {modules!r}; "
        f"import runpy; runpy.run_path({str(ROOT / 'tests' / 'import_each.py')!r}, "
        "run_name='__main__')"
    )
    done = subprocess.run(
        [sys.executable, "-I", "-c", code], capture_output=True, text=True, timeout=300
    )
    assert (done.returncode, done.stdout) == (0, ""), done.stdout + done.stderr


def test_a_cycle_hidden_by_import_order_is_found(tmp_path: Path) -> None:
    """The forked imports see what a fresh interpreter sees (the shape of the old schema root).

    ``cyc/__init__`` imports a resolver that imports ``cyc.types``: importing ``cyc`` first
    works, importing the resolver first meets itself half-initialized.
    """
    (tmp_path / "cyc").mkdir()
    (tmp_path / "cyc" / "__init__.py").write_text("from resolv.m import fn\n")
    (tmp_path / "cyc" / "types.py").write_text("T = 1\n")
    (tmp_path / "resolv").mkdir()
    (tmp_path / "resolv" / "__init__.py").write_text("")
    (tmp_path / "resolv" / "m.py").write_text(
        "from cyc.types import T\n\ndef fn():\n    return T\n"
    )
    code = (
        f"import sys; sys.path.insert(0, {str(tmp_path)!r}); sys.argv[1:] = ['cyc', 'resolv.m']; "
        f"import runpy; runpy.run_path({str(ROOT / 'tests' / 'import_each.py')!r}, "
        "run_name='__main__')"
    )
    done = subprocess.run(
        [sys.executable, "-I", "-c", code], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stdout.startswith("resolv.m: ImportError"), done.stdout
    assert "partially initialized" in done.stdout


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
