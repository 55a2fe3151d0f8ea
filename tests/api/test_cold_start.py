"""What a function does when Lambda imports it: the models its routes name are declared, not
built (``umapi.api_model.ApiModel``); a request builds the ones it uses. A model built at import
(a ``TypeAdapter``, a schema call, a model without the base) would put every route's models
back on every cold start: docs/performance.md."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# In a fresh interpreter: import every function's handler, then list the API models that are
# built. A generic model's unparametrized origin (``Page``) is built when it is parametrized.
PROGRAM = """
import importlib.util, json, sys
from pathlib import Path
from umapi.api_model import ApiModel

for handler in sorted(Path("functions").glob("*/handler.py")):
    spec = importlib.util.spec_from_file_location(f"handler_{handler.parent.name}", handler)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)

def subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from subclasses(sub)

models = set(subclasses(ApiModel))
built = sorted(
    m.__qualname__ for m in models
    if m.__pydantic_complete__ and not m.__pydantic_generic_metadata__["parameters"]
)
print(json.dumps({"models": len(models), "built": built, "openssl": "OpenSSL" in sys.modules}))
"""


def test_importing_a_function_builds_none_of_its_models() -> None:
    out = subprocess.run(  # noqa: S603 - our interpreter, our code
        [sys.executable, "-c", PROGRAM],
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT / "layers" / "core" / "python"), "AWS_DEFAULT_REGION": "us-east-1"},
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["models"] > 50  # every function's models were declared
    assert result["built"] == []
    # botocore would load all of pyOpenSSL (shipped for passkeys) on every start: umapi.startup
    assert result["openssl"] is False


def test_the_sign_in_function_starts_without_pyjwt_or_the_second_factors_libraries() -> None:
    """People's pages stay apart from the token function's RS256 (docs/performance.md): the
    sign-in function loads PyJWT only when someone signs out with an ID token, and the TOTP,
    passkey and QR code libraries only when a second factor is used."""
    libraries = ["jwt", "pyotp", "webauthn", "cbor2", "segno", "OpenSSL"]
    program = f"import sys, handler; print([m for m in {libraries!r} if m in sys.modules])"
    out = subprocess.run(  # noqa: S603 - our interpreter, our code
        [sys.executable, "-c", program],
        cwd=ROOT / "functions" / "sign_in",
        env={
            "PYTHONPATH": f"{ROOT / 'layers' / 'core' / 'python'}:{ROOT}",
            "AWS_DEFAULT_REGION": "us-east-1",
            "TABLE_NAME": "Table",
        },
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip().splitlines()[-1] == "[]"
