"""mcp_async with its defaults: ``AsyncMCPClient(url, protocol="legacy")`` and ``call_tool``.

stdio: ``AsyncMCPClient.stdio(sys.executable, [script], protocol="legacy")``; legacy
HTTP+SSE: ``AsyncMCPClient(url, transport="sse")``. Both are entered with ``async with``
(``__aenter__`` / ``__aexit__``). Where this checkout's mcp_async lacks a transport
the adapter raises ``Unavailable`` and the driver skips it.

``protocol="legacy"`` keeps these clients in the handshake era, like the floor and
``mcp.Client(mode="legacy")``: the benchmark servers also answer ``server/discover``, so
the default ``"auto"`` would move them to MCP 2026-07-28. That era is measured by the
``Modern*`` adapters (``--modern-only``): ``protocol="2026-07-28"`` (pinned, no probe;
clients ``mcp_async_modern`` and, calling the ``mrtr`` tool with an
``elicitation_handler``, ``mcp_async_mrtr``) and ``protocol="auto"`` (``mcp_async_auto``:
one ``server/discover`` probe when the client connects).
"""

from __future__ import annotations

import sys
from typing import Any, ClassVar

from benchmarks.clients import Unavailable
from benchmarks.protocol_data import MRTR_ANSWER, MRTR_TOOL, TOOL_ARGUMENTS, TOOL_NAME

# The public names only: the same adapter also drives older checkouts (``--baseline``),
# whose internal module paths differ.
from mcp_async import AsyncMCPClient, ElicitationResult

MODERN = "2026-07-28"


async def _answer_name(request: Any) -> ElicitationResult:
    """The elicitation handler of the MRTR clients: accept with ``{"name": "hello"}``."""
    return ElicitationResult.accept({"name": MRTR_ANSWER})


class Adapter:
    """One shared ``AsyncMCPClient``."""

    protocol = "legacy"
    #: Settle the era in ``start()`` (``initialize()``): the handshake, or the probe of
    #: ``protocol="auto"``. A pinned 2026-07-28 client has nothing to settle.
    settle = True
    tool = TOOL_NAME
    arguments: ClassVar[dict[str, Any]] = TOOL_ARGUMENTS

    def __init__(self, url: str) -> None:
        self.client = AsyncMCPClient(url, **self.options())

    def options(self) -> dict[str, Any]:
        """The client options of this adapter."""
        return {"protocol": self.protocol}

    async def start(self) -> None:
        """Open the client and run the handshake."""
        await self.client.open()
        if self.settle:
            await self.client.initialize()

    async def call(self) -> str:
        """One ``call_tool``; returns the first text block."""
        result = await self.client.call_tool(self.tool, self.arguments)
        return result.content[0].text  # type: ignore[union-attr]

    async def server_stats(self) -> dict[str, Any]:
        """The benchmark server's request counters (``benchmark/stats``, stdio only)."""
        return await self.client.request("benchmark/stats")

    async def stop(self) -> None:
        """DELETE the session and close the client."""
        await self.client.aclose()


class ModernAdapter(Adapter):
    """``AsyncMCPClient(url, protocol="2026-07-28")``: pinned, no probe."""

    protocol = MODERN
    settle = False


class AutoAdapter(Adapter):
    """``AsyncMCPClient(url, protocol="auto")``: one ``server/discover`` probe on connect."""

    protocol = "auto"


class MRTRAdapter(ModernAdapter):
    """``call_tool("mrtr")`` with an ``elicitation_handler``: one input round per call."""

    tool = MRTR_TOOL
    arguments: ClassVar[dict[str, Any]] = {}

    def options(self) -> dict[str, Any]:
        """Pinned 2026-07-28, with the elicitation handler."""
        return {"protocol": self.protocol, "elicitation_handler": _answer_name}


class _Entered:
    """A client used as ``async with <manager> as client`` for the whole run."""

    manager: Any
    settle = True
    tool = TOOL_NAME
    arguments: ClassVar[dict[str, Any]] = TOOL_ARGUMENTS

    async def start(self) -> None:
        """Enter the manager (spawn or connect), then run the handshake.

        ``initialize()`` is explicit, as in :class:`Adapter`: the client's default lazy
        handshake would otherwise move into the first call and out of ``connect_ms``.
        """
        self.client = await self.manager.__aenter__()
        if self.settle:
            await self.client.initialize()

    async def call(self) -> str:
        """One ``call_tool``; returns the first text block."""
        result = await self.client.call_tool(self.tool, self.arguments)
        return result.content[0].text  # type: ignore[no-any-return]

    async def server_stats(self) -> dict[str, Any]:
        """The stdio server's request counters (``benchmark/stats``)."""
        return await self.client.request("benchmark/stats")

    async def stop(self) -> None:
        """Leave the manager (closes the transport; for stdio, stops and reaps the server)."""
        await self.manager.__aexit__(None, None, None)


class StdioAdapter(_Entered):
    """``AsyncMCPClient.stdio(sys.executable, [script], protocol="legacy")``."""

    protocol = "legacy"

    def __init__(self, target: str) -> None:
        stdio = getattr(AsyncMCPClient, "stdio", None)
        if stdio is None:
            raise Unavailable("AsyncMCPClient.stdio does not exist in this checkout yet")
        self.manager = stdio(sys.executable, [target], **self.options())

    def options(self) -> dict[str, Any]:
        """The client options of this adapter."""
        return {"protocol": self.protocol}


class ModernStdioAdapter(StdioAdapter):
    """``AsyncMCPClient.stdio(..., protocol="2026-07-28")``: pinned, no probe."""

    protocol = MODERN
    settle = False


class AutoStdioAdapter(StdioAdapter):
    """``AsyncMCPClient.stdio(..., protocol="auto")``: one probe when it starts."""

    protocol = "auto"


class MRTRStdioAdapter(ModernStdioAdapter):
    """``call_tool("mrtr")`` over stdio with an ``elicitation_handler``."""

    tool = MRTR_TOOL
    arguments: ClassVar[dict[str, Any]] = {}

    def options(self) -> dict[str, Any]:
        """Pinned 2026-07-28, with the elicitation handler."""
        return {"protocol": self.protocol, "elicitation_handler": _answer_name}


class SSEAdapter(_Entered):
    """``AsyncMCPClient(url, transport="sse")``."""

    def __init__(self, url: str) -> None:
        try:
            self.manager = AsyncMCPClient(url, transport="sse")
        except (TypeError, ValueError) as exc:
            if isinstance(exc, ValueError) and "transport" not in str(exc):
                raise
            message = f"AsyncMCPClient(url, transport='sse') is not supported yet: {exc}"
            raise Unavailable(message) from exc
