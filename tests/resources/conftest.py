"""The resource engine's unit-test world, for every test here (``engine_world``)."""

from tests.resources.engine_world import world  # noqa: F401  (fixture)
