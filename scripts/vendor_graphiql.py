"""Fetch the GraphiQL page's scripts and styles into web/static/vendor/ (run from the repo root).

    python3 scripts/vendor_graphiql.py           # (re)write web/static/vendor/
    python3 scripts/vendor_graphiql.py --check   # download again, compare with what is committed

The /graphql explorer must work on a machine whose browser cannot reach any CDN, so mailtab
serves these files itself. Each package is fetched with ``npm pack`` at the pinned version,
its tarball checked against the pinned npm integrity (sha512) before anything is unpacked, and
only the files the page loads are kept, byte for byte, with the package's licence.
``MANIFEST.json`` records name, version, tarball integrity, licence and each file's sha384
Subresource Integrity hash — the same value ``web/static/graphiql.html`` carries in its
``integrity`` attributes (and the same as Strawberry's own page pins for its CDN copies), and
tests/test_page_static.py checks the committed files against it.

To upgrade: change a version and its tarball integrity (``npm view NAME@VERSION
dist.integrity``), run this script, copy the new sha384 values into graphiql.html.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

__all__ = ["PACKAGES", "main"]

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT / "web" / "static" / "vendor"


@dataclass(frozen=True, slots=True)
class Package:
    name: str
    version: str
    integrity: str
    """npm's ``dist.integrity`` of the tarball: checked before unpacking."""
    files: dict[str, str]
    """Path inside the tarball's ``package/`` → file name in the vendor folder."""
    license: str
    license_file: str | None = "LICENSE"
    """None: the package ships no licence file; ``license_note`` says where it comes from."""
    license_note: str | None = None

    @property
    def folder(self) -> str:
        return f"{self.name.replace('@', '').replace('/', '-')}-{self.version}"


PACKAGES = (
    Package(
        name="react",
        version="18.2.0",
        integrity="sha512-/3IjMdb2L9QbBdWiW5e3P2/npwMBaU9mHCSCUzNln0ZCYbcfTsGbTJrU/kGemdH2IWmB2ioZ+zkxtmq6g09fGQ==",
        files={"umd/react.production.min.js": "react.production.min.js"},
        license="MIT",
    ),
    Package(
        name="react-dom",
        version="18.2.0",
        integrity="sha512-6IMTriUmvsjHUjNtEDudZfuDQUoWXVxKHhlEGSk81n4YFS+r/Kl99wXiwlVXtPBtJenozv2P+hxDsw9eA7Xo6g==",
        files={"umd/react-dom.production.min.js": "react-dom.production.min.js"},
        license="MIT",
    ),
    Package(
        name="graphiql",
        version="3.8.3",
        integrity="sha512-cuPDYtXVKV86Pu5PHBX642Odi/uVEE2y1Jxq5rGO/Qy1G2lRp7ZZ7a/T30RzxhuLSWo9zUbzq0P3U49//H0Ugw==",
        files={"graphiql.min.js": "graphiql.min.js", "graphiql.min.css": "graphiql.min.css"},
        license="MIT",
    ),
    Package(
        name="@graphiql/plugin-explorer",
        version="1.0.2",
        integrity="sha512-9j+kg2UjtLZD5EBmGjeWHkoVVxtbShYg2DzbUVebibnZYZM/iMBEF4vaccXJIAm5KaomIPLx0aoNs4LbODyc3Q==",
        files={"dist/index.umd.js": "index.umd.js", "dist/style.css": "style.css"},
        license="MIT",
        license_file=None,
        license_note=(
            "The tarball has no licence file; package.json says MIT and the package lives in the "
            "graphql/graphiql repository, whose licence is graphiql's (LICENSE here). Its bundle "
            "includes graphiql-explorer (MIT): LICENSE.graphiql-explorer."
        ),
    ),
    # Only for its licence: its code is bundled inside the explorer plugin's UMD file.
    Package(
        name="graphiql-explorer",
        version="0.9.0",
        integrity="sha512-fZC/wsuatqiQDO2otchxriFO0LaWIo/ovF/CQJ1yOudmY0P7pzDiP+l9CEHUiWbizk3e99x6DQG4XG1VxA+d6A==",
        files={},
        license="MIT",
        license_note="No files of its own here: its code is bundled in the explorer plugin's UMD file.",
    ),
)

# Licence files copied beside another package's files: (from package, to folder, file name).
EXTRA_LICENSES = (
    ("graphiql", "graphiql-plugin-explorer-1.0.2", "LICENSE"),
    ("graphiql-explorer", "graphiql-plugin-explorer-1.0.2", "LICENSE.graphiql-explorer"),
)


def sri(data: bytes, algorithm: str = "sha384") -> str:
    digest = hashlib.new(algorithm, data).digest()
    return f"{algorithm}-{base64.b64encode(digest).decode()}"


def fetch(package: Package, workdir: Path) -> tarfile.TarFile:
    """``npm pack`` the pinned version; refuse a tarball whose integrity is not the pinned one."""
    output = subprocess.run(  # noqa: S603 - fixed arguments from PACKAGES
        ["npm", "pack", f"{package.name}@{package.version}", "--json", "--silent"],  # noqa: S607
        cwd=workdir,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    tarball = workdir / json.loads(output)[0]["filename"]
    data = tarball.read_bytes()
    if sri(data, "sha512") != package.integrity:
        raise SystemExit(
            f"{package.name}@{package.version}: tarball integrity differs from the pin"
        )
    return tarfile.open(tarball, mode="r:gz")


def member(archive: tarfile.TarFile, path: str) -> bytes:
    extracted = archive.extractfile(f"package/{path}")
    if extracted is None:
        raise SystemExit(f"package/{path} is not a file in its tarball")
    return extracted.read()


def collect(workdir: Path) -> tuple[dict[str, bytes], dict[str, object]]:
    """Every vendored file (path relative to the vendor folder → bytes) and the manifest."""
    files: dict[str, bytes] = {}
    licences: dict[str, bytes] = {}
    entries: list[dict[str, object]] = []
    for package in PACKAGES:
        with fetch(package, workdir) as archive:
            if package.license_file:
                licences[package.name] = member(archive, package.license_file)
            hashes: dict[str, str] = {}
            for source, target in package.files.items():
                data = member(archive, source)
                files[f"{package.folder}/{target}"] = data
                hashes[f"{package.folder}/{target}"] = sri(data)
        if package.files and package.license_file:
            files[f"{package.folder}/LICENSE"] = licences[package.name]
        entry: dict[str, object] = {
            "name": package.name,
            "version": package.version,
            "integrity": package.integrity,
            "license": package.license,
            "files": hashes,
        }
        if package.license_note:
            entry["licenseNote"] = package.license_note
        entries.append(entry)
    for source_package, folder, name in EXTRA_LICENSES:
        files[f"{folder}/{name}"] = licences[source_package]
    manifest: dict[str, object] = {
        "about": "Fetched by scripts/vendor_graphiql.py; do not edit by hand.",
        "packages": entries,
    }
    files["MANIFEST.json"] = (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode()
    return files, manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--check", action="store_true", help="compare with the committed files, write nothing"
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        files, _ = collect(Path(tmp))
    committed = {
        str(p.relative_to(VENDOR)): p.read_bytes()
        for p in VENDOR.rglob("*")
        if p.is_file() and p.name != "README.md"
    }
    if args.check:
        if committed != files:
            differing = sorted(set(committed) ^ set(files)) or sorted(
                name for name in files if committed.get(name) != files[name]
            )
            print("web/static/vendor/ is not what the pins fetch:", *differing, sep="\n  ")
            return 1
        print("web/static/vendor/ matches the pinned packages")
        return 0
    for name in set(committed) - set(files):
        (VENDOR / name).unlink()
    for name, data in sorted(files.items()):
        path = VENDOR / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        print(f"{name}  {sri(data)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
