"""Dependencies point inward: adapters never import hub; schemas import pydantic and stdlib."""

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize(
    "path", sorted((ROOT / "adapters").rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT))
)
def test_adapters_never_import_the_hub(path: Path) -> None:
    assert not imported_packages(path) & {"hub", "federation"}


@pytest.mark.parametrize("name", ["adapters.py", "events.py"])
def test_adapter_schemas_import_only_pydantic_and_the_standard_library(name: str) -> None:
    allowed = {"pydantic", "schemas", *sys.stdlib_module_names}
    assert imported_packages(ROOT / "schemas" / name) <= allowed
