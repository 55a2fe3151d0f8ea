"""Everything shipped code imports is either ours, the standard library, or in the layer's requirements."""

from __future__ import annotations

import ast
import re
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LAYER = ROOT / "layers" / "core" / "python"


def _runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node except those under ``if TYPE_CHECKING:`` (type-only imports never run)."""
    nodes: list[ast.AST] = []
    for child in ast.iter_child_nodes(tree):
        if isinstance(child, ast.If) and isinstance(child.test, ast.Name) and child.test.id == "TYPE_CHECKING":
            continue
        nodes.append(child)
        nodes.extend(_runtime_nodes(child))
    return nodes


def shipped_imports() -> set[str]:
    modules: set[str] = set()
    for source in [*LAYER.rglob("*.py"), *(ROOT / "functions").rglob("*.py")]:
        for node in _runtime_nodes(ast.parse(source.read_text())):
            if isinstance(node, ast.Import):
                modules |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                modules.add(node.module.split(".")[0])
    return modules - {"umapi"} - set(sys.stdlib_module_names)


def required_distributions() -> set[str]:
    lines = (LAYER / "requirements.txt").read_text().splitlines()
    names = [re.split(r"[\[=<>~ ]", line.strip())[0] for line in lines if line.strip() and not line.startswith("#")]
    return {name.lower().replace("_", "-") for name in names}


def test_every_third_party_import_is_a_layer_requirement() -> None:
    distributions = packages_distributions()
    required = required_distributions()
    missing = {
        module
        for module in shipped_imports()
        if not {d.lower().replace("_", "-") for d in distributions.get(module, [module])} & required
    }
    assert not missing, f"imported by shipped code but not in layers/core/python/requirements.txt: {sorted(missing)}"
