"""Find camera adapters by name through the entry-point group `c4hub.adapters`.

Any installed package can add an adapter without touching c4hub. A vendor package declares,
in its own pyproject.toml::

    [project.entry-points."c4hub.adapters"]
    hikvision = "c4hub_hikvision:HikvisionAdapter"

The object named must be callable without arguments (usually the class) and return a
`CameraAdapter`. After `pip install c4hub-hikvision`, `AdapterRegistry.installed()` offers
"hikvision". c4hub's own adapters declare themselves the same way in c4hub's pyproject.

Tests build a registry from their own `EntryPoint` objects instead of the installed ones,
so they exercise the same loading path without installing anything.
"""

from collections import defaultdict
from collections.abc import Callable, Iterable
from importlib.metadata import EntryPoint, entry_points
from typing import Self

from adapters.base import CameraAdapter
from adapters.redaction import redact

GROUP = "c4hub.adapters"

AdapterFactory = Callable[[], CameraAdapter]


class UnknownAdapter(LookupError):
    """No adapter has that name; the message lists the ones that exist."""

    def __init__(self, name: str, known: Iterable[str]) -> None:
        names = ", ".join(sorted(known)) or "none installed"
        self.name = name
        super().__init__(f"no camera adapter named {name!r}; known adapters: {names}")


class AdapterLoadError(RuntimeError):
    """An adapter is declared but cannot be used (import failure, wrong object, clash)."""


class AdapterRegistry:
    """Adapters by entry-point name, loaded on first use."""

    def __init__(self, points: Iterable[EntryPoint]) -> None:
        self._points: dict[str, list[EntryPoint]] = defaultdict(list)
        for point in points:
            self._points[point.name].append(point)

    @classmethod
    def installed(cls) -> Self:
        """The adapters that installed packages declare in the group `c4hub.adapters`."""
        return cls(entry_points(group=GROUP))

    def names(self) -> list[str]:
        return sorted(self._points)

    def factory(self, name: str) -> AdapterFactory:
        """The callable that builds the adapter `name`."""
        point = self._point(name)
        try:
            loaded = point.load()
        except Exception as exc:  # a broken vendor package must not take the hub down
            raise AdapterLoadError(
                f"camera adapter {name!r} ({point.value}) failed to load: "
                f"{type(exc).__name__}: {redact(str(exc))}"
            ) from exc
        if not callable(loaded):
            raise AdapterLoadError(f"camera adapter {name!r} ({point.value}) is not callable")
        factory: AdapterFactory = loaded
        return factory

    def create(self, name: str) -> CameraAdapter:
        """A new instance of the adapter `name`, checked against the `CameraAdapter` protocol."""
        adapter = self.factory(name)()
        if not isinstance(adapter, CameraAdapter):
            raise AdapterLoadError(
                f"camera adapter {name!r} does not provide kind, probe() and snapshot()"
            )
        return adapter

    def _point(self, name: str) -> EntryPoint:
        points = self._points.get(name)
        if not points:
            raise UnknownAdapter(name, self._points)
        if len(points) > 1:
            values = ", ".join(sorted(p.value for p in points))
            raise AdapterLoadError(f"camera adapter {name!r} is declared twice: {values}")
        return points[0]
