import asyncio
from datetime import UTC, datetime
from importlib.metadata import EntryPoint

import pytest

from adapters import registry as registry_module
from adapters.base import CameraAdapter, Target
from adapters.registry import GROUP, AdapterLoadError, AdapterRegistry, UnknownAdapter
from schemas.adapters import CameraDescription
from schemas.enums import AdapterKind

HERE = __name__  # the entry points below load objects from this module


class FakeAdapter:
    kind = AdapterKind.HTTP_SNAPSHOT

    async def probe(self, target: Target) -> CameraDescription:
        return CameraDescription(adapter=self.kind, probed_at=datetime.now(UTC))

    async def snapshot(self, target: Target) -> bytes:
        return b"\xff\xd8\xff\xd9"


class NotAnAdapter:
    async def probe(self, target: Target) -> CameraDescription:
        raise NotImplementedError


NOT_CALLABLE = "an adapter is expected here"


def point(name: str, attribute: str, module: str = HERE) -> EntryPoint:
    return EntryPoint(name=name, value=f"{module}:{attribute}", group=GROUP)


def test_fake_adapter_satisfies_the_protocol() -> None:
    adapter: CameraAdapter = FakeAdapter()  # checked by mypy as well
    assert isinstance(adapter, CameraAdapter)


def test_registry_creates_an_adapter_from_an_entry_point() -> None:
    registry = AdapterRegistry([point("fake", "FakeAdapter")])
    adapter = registry.create("fake")
    assert isinstance(adapter, FakeAdapter)
    description = asyncio.run(adapter.probe(Target(host="cam.local")))
    assert description.adapter is AdapterKind.HTTP_SNAPSHOT


def test_unknown_name_lists_the_known_adapters() -> None:
    registry = AdapterRegistry([point("fake", "FakeAdapter"), point("other", "FakeAdapter")])
    with pytest.raises(UnknownAdapter, match=r"'hikvision'; known adapters: fake, other$"):
        registry.create("hikvision")


def test_unknown_name_in_an_empty_registry_says_none_are_installed() -> None:
    with pytest.raises(UnknownAdapter, match="known adapters: none installed"):
        AdapterRegistry([]).factory("onvif")


def test_names_are_sorted() -> None:
    registry = AdapterRegistry([point("zeta", "FakeAdapter"), point("alpha", "FakeAdapter")])
    assert registry.names() == ["alpha", "zeta"]


def test_an_adapter_that_fails_to_import_is_a_load_error() -> None:
    registry = AdapterRegistry([point("broken", "X", module="c4hub_no_such_vendor")])
    with pytest.raises(AdapterLoadError, match=r"'broken'.*ModuleNotFoundError"):
        registry.create("broken")


@pytest.mark.parametrize(
    ("attribute", "message"),
    [("NotAnAdapter", "does not provide"), ("NOT_CALLABLE", "is not callable")],
)
def test_an_object_that_is_not_an_adapter_is_refused(attribute: str, message: str) -> None:
    registry = AdapterRegistry([point("odd", attribute)])
    with pytest.raises(AdapterLoadError, match=message):
        registry.create("odd")


def test_a_name_declared_twice_is_refused() -> None:
    registry = AdapterRegistry([point("cam", "FakeAdapter"), point("cam", "NotAnAdapter")])
    with pytest.raises(AdapterLoadError, match="declared twice"):
        registry.create("cam")


def test_installed_reads_the_c4hub_adapters_group(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[str] = []

    def fake_entry_points(*, group: str) -> list[EntryPoint]:
        asked.append(group)
        return [point("fake", "FakeAdapter")]

    monkeypatch.setattr(registry_module, "entry_points", fake_entry_points)
    assert AdapterRegistry.installed().names() == ["fake"]
    assert asked == ["c4hub.adapters"]
