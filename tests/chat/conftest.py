"""The chat tests' shared fixture: the world of tests.chat.world, committed, for tests that run the bot on it."""

from __future__ import annotations

import pytest

from storage.db import transaction
from tests.chat.world import World, build_world


@pytest.fixture
def world(session_factory) -> World:  # noqa: ANN001
    with transaction(session_factory) as session:
        return build_world(session)
