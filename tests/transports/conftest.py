"""Fixtures shared by the transport tests."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.transports.legacy_apps import LegacyApp, LegacyOptions, Start, serve_legacy


@pytest.fixture
async def start() -> AsyncIterator[Start]:
    """Start legacy servers (keyword arguments: :class:`LegacyOptions`); all stop after."""
    async with contextlib.AsyncExitStack() as stack:

        async def run(**options: Any) -> LegacyApp:
            return await stack.enter_async_context(serve_legacy(LegacyOptions(**options)))

        yield run
