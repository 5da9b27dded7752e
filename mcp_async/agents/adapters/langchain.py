"""LangChain: the tools of a client or group as ``langchain-core`` tools
(``pip install 'mcp-async[langchain]'``).

::

    async with AsyncMCPClient(url) as client:
        tools = await langchain_tools(client, policy=ToolPolicy(deny=["delete_*"]))
        model = init_chat_model("openai:gpt-5").bind_tools(tools)
        ...  # any tool-calling loop or agent: every call uses the client's one session

Each tool is an :class:`MCPAsyncTool` (a ``BaseTool``) whose JSON Schema is the MCP
tool's input schema; all of them share one :class:`~mcp_async.agents.ToolRunner`, and
so one client or group and one MCP session (``langchain-mcp-adapters`` opens a new
session per call unless it is given one). The tools neither open nor close the client.
They run asynchronously only (``ainvoke``; ``invoke`` raises :class:`ConfigError`).

``response_format`` is ``"content_and_artifact"``: invoked with a tool call, a tool
gives a ``ToolMessage`` whose ``content`` is the result's text (budget applied; with
images, a list of standard ``text`` and ``image`` content blocks) and whose
``artifact`` is the :class:`~mcp_async.agents.ToolExecution` (the full result included).

Every failure (the tool's ``isError``, a call the policy refused, a transport or
protocol error, a timeout, unusable arguments) raises ``ToolException`` with what the
model should read; with ``handle_tool_error=True`` (the default here) LangChain turns it
into a ``ToolMessage`` with ``status="error"``, and the loop goes on.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..._exceptions import ConfigError
from ...features.schema_conversion import SchemaMode
from ..budget import ResultBudget
from ..policy import ToolPolicy
from ..runner import ToolRunner
from ._common import adapter_tools, binary_parts, error_text, make_runner, require

if TYPE_CHECKING:
    from ...client.async_client import AsyncMCPClient
    from ...group.client_group import MCPClientGroup

__all__ = ["MCPAsyncTool", "langchain_tools"]

_EXTRA = "langchain"
_tools = require("langchain_core.tools", _EXTRA, "LangChain")


_Base: Any = _tools.BaseTool


class MCPAsyncTool(_Base):  # type: ignore[misc]  # the framework's class, typed Any here
    """One MCP tool as a LangChain tool; build them with :func:`langchain_tools`.

    ``runner`` runs the call (policy, budget, error mapping); ``mcp_name`` is the
    client's or group's name for the tool (``name`` is the model-side one)."""

    runner: Any
    mcp_name: str = ""
    response_format: Any = "content_and_artifact"
    handle_tool_error: Any = True

    def _run(self, **kwargs: Any) -> Any:
        raise ConfigError(f"tool {self.name!r} runs on an async MCP client: call it with "
                          "ainvoke (or astream), not invoke")

    async def _arun(self, **kwargs: Any) -> tuple[Any, Any]:
        # No run_manager or config in the signature: LangChain then passes only the
        # model's arguments, so a tool argument named "config" cannot collide.
        runner: ToolRunner = self.runner
        execution = await runner.call(self.name, kwargs)
        if execution.status != "ok":
            raise _tools.ToolException(error_text(execution)) from execution.error
        parts = binary_parts(execution)
        images = [(mime, data) for kind, mime, data in parts if kind == "image"]
        text = execution.rendered.text
        for kind, mime, data in parts:
            if kind != "image":
                text += (f"\n[{kind} {mime}, {len(data):,} bytes: LangChain tool messages "
                         "carry images only, not sent]")
        if not images:
            return text, execution
        blocks: list[dict[str, Any]] = [{"type": "text", "text": text}] if text else []
        blocks += [{"type": "image", "base64": base64.b64encode(data).decode("ascii"),
                    "mime_type": mime} for mime, data in images]
        return blocks, execution


async def langchain_tools(
    target: AsyncMCPClient | MCPClientGroup,
    *,
    policy: ToolPolicy | None = None,
    budget: ResultBudget | None = None,
    mode: SchemaMode | None = None,
    timeout: float | None = None,
    call_options: Mapping[str, Any] | None = None,
    handle_tool_error: Any = True,
) -> list[Any]:
    """The tools of ``target`` (an :class:`~mcp_async.AsyncMCPClient` or an
    :class:`~mcp_async.MCPClientGroup`) as :class:`MCPAsyncTool` objects sharing one
    runner (listed now; tools the policy's lists deny are left out).

    ``policy``, ``budget``, ``mode``, ``timeout`` and ``call_options`` are those of
    :class:`~mcp_async.agents.ToolRunner`. ``handle_tool_error`` is LangChain's (``True``:
    a failure becomes an error ``ToolMessage``; ``False``: ``ToolException`` is raised).
    """
    runner = make_runner(target, policy=policy, budget=budget, mode=mode, timeout=timeout,
                         call_options=call_options)
    return [
        MCPAsyncTool(name=tool.name, description=tool.description, args_schema=tool.parameters,
                     runner=runner, mcp_name=tool.entry.name,
                     handle_tool_error=handle_tool_error)
        for tool in await adapter_tools(runner)
    ]
