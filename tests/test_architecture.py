"""The parts of the architecture that the import contracts (``make lint``) cannot see alone."""

from __future__ import annotations

import tomllib
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[1]
CONTRACTS = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
PACKAGES = CONTRACTS["root_packages"]
MAX_LINES = 500


def _contract(contract_id: str) -> dict[str, list[str]]:
    return next(c for c in CONTRACTS["contracts"] if c["id"] == contract_id)


def test_the_one_door_contract_protects_every_module_of_the_ca_but_its_interface() -> None:
    graph = grimp.build_graph("ca")
    children = set(graph.find_children("ca"))
    protected = set(_contract("ca-one-door")["protected_modules"])
    assert children - protected == {"ca.interface"}, "a new ca module must be protected"
    assert protected <= children, "the contract names a module that no longer exists"


def test_the_layers_name_every_package_of_the_project() -> None:
    layers = _contract("layers")["layers"]
    named = {name.strip() for layer in layers for name in layer.split("|")}
    assert named == set(PACKAGES)
    on_disk = {
        path.parent.name
        for path in ROOT.glob("*/__init__.py")
        if path.parent.name not in {"tests", "bench"}
    }
    assert on_disk == set(PACKAGES), "a package outside the layers escapes the contracts"


def test_no_module_is_over_500_lines_outside_migrations_and_tests() -> None:
    too_long = {
        str(path.relative_to(ROOT)): length
        for package in [*PACKAGES, "bench"]
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts
        and (length := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert too_long == {}
