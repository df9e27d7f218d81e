"""Import each named module as the first project import of a fresh interpreter.

Run as a script (``python -I tests/import_each.py mod ...``): the process imports the
third-party libraries the product stands on once, then forks one child per module, which
imports that module and nothing else of the project first. A cycle hidden by import order
shows exactly as in a new interpreter, at a fraction of the cost of one interpreter each.
Prints ``module: error`` for every module that fails; the exit status is their number.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
import traceback

#: Libraries only: importing them first cannot hide a cycle among the project's modules.
THIRD_PARTY = (
    "aiosmtplib",
    "authlib.integrations.httpx_client",
    "cryptography.fernet",
    "dns.asyncresolver",
    "email_validator",
    "httpx",
    "limits",
    "prometheus_client",
    "pydantic_settings",
    "starlette.applications",
    "strawberry",
    "tortoise",
    "uvicorn",
)


def _child(module: str, write_end: int) -> None:
    try:
        importlib.import_module(module)
    except BaseException:  # reported to the parent, whatever it was
        line = traceback.format_exc().strip().splitlines()[-1]
        os.write(write_end, line.encode("utf-8", "replace"))
        os._exit(1)
    os._exit(0)


def import_each(modules: list[str]) -> dict[str, str]:
    for name in THIRD_PARTY:
        with contextlib.suppress(ImportError):  # the child then imports it itself
            importlib.import_module(name)
    failures: dict[str, str] = {}
    for module in modules:
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read_end)
            _child(module, write_end)
        os.close(write_end)
        with os.fdopen(read_end, "rb") as pipe:
            message = pipe.read().decode("utf-8", "replace")
        _, status = os.waitpid(pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            failures[module] = message or f"exit status {os.waitstatus_to_exitcode(status)}"
    return failures


if __name__ == "__main__":
    found = import_each(sys.argv[1:])
    for name, error in found.items():
        print(f"{name}: {error}")
    sys.exit(len(found))
