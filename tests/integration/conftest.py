"""Fixtures shared by the integration tests of the registry API."""

from collections.abc import Callable

import pytest

from hub.registry.models import Organization

Headers = dict[str, str]


@pytest.fixture
def org(make_org: Callable[..., Organization]) -> Organization:
    """A district that owns the cameras a test registers."""
    return make_org()


@pytest.fixture
def admin(auth: Callable[..., Headers]) -> Headers:
    """Headers of an admin token."""
    return auth()
