"""The layer package's import structure (an AST walk, no imports run): arrows point down only.

    composition   services, dependencies, routing, user_params,    wires everything together
                  idempotency, bootstrap
    auth          umapi.auth.*                                     uses every domain
    domains       users, roles, clients, orgs, webhooks, audit_log, one concern each
                  jobs, sso
    access        umapi.access.*                                   Principal, permissions, no escalation
    kernel        settings, errors, http, db, keys, ids, ...       knows no domain

No domain imports ``auth`` or the composition modules, the kernel and ``access`` import no
domain, no modules import each other in a circle, and no domains do either: ``users`` (who holds
which role) stands on ``roles`` (what a role is), never the other way.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "layers" / "core" / "python" / "umapi"
DOMAINS = {"users", "roles", "clients", "orgs", "webhooks", "audit_log", "jobs", "sso", "mfa"}
COMPOSITION = {"services", "dependencies", "routing", "user_params", "idempotency", "bootstrap"}
ORDER = {"kernel": 0, "access": 1, "domain": 2, "auth": 3, "composition": 4}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer(module: str) -> str:
    top = module.split(".")[1] if module.count(".") else ""
    if top == "access":
        return "access"
    if top == "auth":
        return "auth"
    if top in DOMAINS:
        return "domain"
    if top in COMPOSITION:
        return "composition"
    return "kernel"


def imports(path: Path) -> Iterator[str]:
    """Every ``umapi`` module that ``path`` imports at run time (type-checking-only imports aside)."""
    tree = ast.parse(path.read_text())
    type_checking: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            type_checking |= {id(child) for child in ast.walk(node)}
    for node in ast.walk(tree):
        if id(node) in type_checking:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("umapi"):
            if node.module == "umapi":
                yield from (f"umapi.{alias.name}" for alias in node.names)
            else:
                yield node.module
        elif isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names if alias.name.startswith("umapi"))


def graph() -> dict[str, set[str]]:
    modules = {module_name(path): path for path in PACKAGE.rglob("*.py")}
    edges: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets = set()
        for imported in imports(path):
            while imported not in modules and "." in imported:
                imported = imported.rsplit(".", 1)[0]
            if imported in modules and imported != name:
                targets.add(imported)
        edges[name] = targets
    return edges


def test_arrows_point_down_only() -> None:
    upward = sorted(
        f"{source} ({layer(source)}) imports {target} ({layer(target)})"
        for source, targets in graph().items()
        for target in targets
        if ORDER[layer(target)] > ORDER[layer(source)]
    )
    assert upward == []


def test_no_domain_imports_auth_and_the_kernel_and_access_import_no_domain() -> None:
    edges = graph()
    assert any(layer(source) == "domain" for source in edges)
    for source, targets in edges.items():
        if layer(source) == "domain":
            assert not any(layer(t) == "auth" for t in targets), source
        if layer(source) in ("kernel", "access"):
            assert not any(layer(t) == "domain" for t in targets), source


def test_no_import_circles() -> None:
    edges = graph()
    circles: list[list[str]] = []
    state: dict[str, int] = {}  # 1 on the path, 2 done

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for target in sorted(edges[node]):
            if state.get(target) == 1:
                circles.append([*path[path.index(target) :], target])
            elif target not in state:
                visit(target, [*path, target])
        state[node] = 2

    for start in sorted(edges):
        if start not in state:
            visit(start, [start])
    assert circles == []


def domain_of(module: str) -> str | None:
    top = module.split(".")[1] if module.count(".") else ""
    return top if top in DOMAINS else None


def domain_graph() -> dict[str, set[str]]:
    """Domain -> the other domains its modules import."""
    edges: dict[str, set[str]] = {domain: set() for domain in DOMAINS}
    for source, targets in graph().items():
        here = domain_of(source)
        if here is not None:
            edges[here] |= {d for d in map(domain_of, targets) if d is not None and d != here}
    return edges


def test_no_domains_import_each_other_in_a_circle() -> None:
    edges = domain_graph()
    circles = []

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        return any(t == goal or (t not in seen and reaches(t, goal, seen | {t})) for t in edges[start])

    for domain in sorted(edges):
        for target in sorted(edges[domain]):
            if reaches(target, domain, {target}):
                circles.append(f"{domain} -> {target} -> ... -> {domain}")
    assert circles == []


def test_roles_define_roles_and_users_hold_them() -> None:
    """Role definitions know nothing of users: assignments, their expiry and the admin roster
    are the users' side."""
    assert "users" not in domain_graph()["roles"]
    assert "roles" in domain_graph()["users"]


def test_what_a_transaction_joins_is_in_the_signatures() -> None:
    """No context variable carries state between layers (a job row's guard is handed to the
    services it calls, as an argument): every reader sees what a write joins."""
    carriers = sorted(
        module_name(path)
        for path in PACKAGE.rglob("*.py")
        if any(
            isinstance(node, ast.Name | ast.Attribute)
            and (getattr(node, "id", None) or getattr(node, "attr", None)) == "ContextVar"
            for node in ast.walk(ast.parse(path.read_text()))
        )
    )
    assert carriers == []
