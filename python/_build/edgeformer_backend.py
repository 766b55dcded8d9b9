"""A PEP 517 build backend for the edgeformer package that needs nothing but the standard
library (pip builds in isolation, and offline it could not fetch setuptools): a pure-Python
wheel of the edgeformer/ folder, and an sdist of this directory. The name and version are
pyproject.toml's [project] table; the files are edgeformer/*.py."""

import base64
import hashlib
import io
import os
import pathlib
import re
import tarfile
import zipfile

ROOT = pathlib.Path(__file__).resolve().parent.parent


def _project():
    text = (ROOT / "pyproject.toml").read_text()
    section = text.split("[project]", 1)[1]
    fields = dict(re.findall(r'^(\w[\w-]*)\s*=\s*"([^"]*)"', section, re.M))
    return fields["name"], fields["version"], fields.get("description", ""), fields.get("requires-python", "")


def _metadata():
    name, version, summary, python = _project()
    lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}", f"Summary: {summary}"]
    if python:
        lines.append(f"Requires-Python: {python}")
    return "\n".join(lines) + "\n"


def _dist_info():
    name, version, _, _ = _project()
    return f"{name}-{version}.dist-info"


def _files():
    package = ROOT / "edgeformer"
    return sorted(p for p in package.rglob("*.py") if "__pycache__" not in p.parts)


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    target = pathlib.Path(metadata_directory) / _dist_info()
    target.mkdir(parents=True, exist_ok=True)
    (target / "METADATA").write_text(_metadata())
    (target / "WHEEL").write_text(_wheel_file())
    return target.name


def _wheel_file():
    return "Wheel-Version: 1.0\nGenerator: edgeformer_backend\nRoot-Is-Purelib: true\nTag: py3-none-any\n"


def _record_line(path, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}"


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    name, version, _, _ = _project()
    wheel_name = f"{name}-{version}-py3-none-any.whl"
    entries = [(p.relative_to(ROOT).as_posix(), p.read_bytes()) for p in _files()]
    info = _dist_info()
    entries.append((f"{info}/METADATA", _metadata().encode()))
    entries.append((f"{info}/WHEEL", _wheel_file().encode()))
    record = [_record_line(path, data) for path, data in entries] + [f"{info}/RECORD,,"]
    entries.append((f"{info}/RECORD", ("\n".join(record) + "\n").encode()))
    with zipfile.ZipFile(os.path.join(wheel_directory, wheel_name), "w", zipfile.ZIP_DEFLATED) as z:
        for path, data in entries:
            info = zipfile.ZipInfo(path, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16  # rw-r--r--
            z.writestr(info, data)
    return wheel_name


def build_sdist(sdist_directory, config_settings=None):
    name, version, _, _ = _project()
    base = f"{name}-{version}"
    paths = [ROOT / "pyproject.toml", ROOT / "_build" / "edgeformer_backend.py"] + _files()
    with tarfile.open(os.path.join(sdist_directory, base + ".tar.gz"), "w:gz") as t:
        for p in paths:
            t.add(p, arcname=f"{base}/{p.relative_to(ROOT).as_posix()}")
        pkg_info = _metadata().encode()
        member = tarfile.TarInfo(f"{base}/PKG-INFO")
        member.size = len(pkg_info)
        t.addfile(member, io.BytesIO(pkg_info))
    return base + ".tar.gz"
