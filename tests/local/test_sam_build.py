"""`sam build` of the real template: the layer lands where Lambda looks for it (/opt/python)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from devserver.template import Template

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


def test_sam_build_packages_the_layer_and_functions(tmp_path: Path) -> None:
    # When the template is built (dependencies for arm64 come from PyPI)
    sam = Path(sys.executable).with_name("sam")
    environment = {**os.environ, "SAM_CLI_TELEMETRY": "0", "PATH": f"{sam.parent}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run(  # noqa: S603 - our own virtualenv's sam, fixed arguments
        [str(sam), "build", "--build-dir", str(tmp_path / "build"), "--cache-dir", str(tmp_path / "cache")],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=540,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]

    # Then the layer holds our package and arm64 builds of its dependencies under python/
    layer = tmp_path / "build" / "CoreLayer" / "python"
    assert (layer / "umapi" / "http.py").is_file()
    served = layer / "umapi" / "openapi.json"  # GET /openapi.json reads it from the layer
    assert not served.is_symlink(), "sam build copies the document the checkout links to"
    assert served.read_bytes() == (ROOT / "openapi.json").read_bytes()
    assert not (layer / "python").exists()
    assert list((layer / "pydantic_core").glob("*aarch64*.so"))
    assert list((layer / "cryptography" / "hazmat" / "bindings").glob("*.so"))
    assert (layer / "jwt" / "__init__.py").is_file()
    assert list((layer / "_argon2_cffi_bindings").glob("*.so"))
    for function in Template.load(ROOT / "template.yaml").resources_of_type("AWS::Serverless::Function"):
        assert (tmp_path / "build" / function / "handler.py").is_file()
