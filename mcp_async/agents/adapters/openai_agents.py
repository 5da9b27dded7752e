"""The OpenAI Agents SDK: a client or group as one of its MCP servers
(``pip install 'mcp-async[openai-agents]'``).

::

    async with AsyncMCPClient(url) as client:
        server = MCPAsyncServer(client, policy=ToolPolicy(deny=["delete_*"]))
        agent = Agent(name="helper", mcp_servers=[server])
        result = await Runner.run(agent, "...")   # every call: the client's one session

:class:`MCPAsyncServer` implements the SDK's ``agents.mcp.MCPServer``: the SDK lists
its tools and calls them through it, and mcp_async does the MCP side (one session for
every call of every run, policies, budgets, retries, tracing). ``connect()`` and
``cleanup()`` do not open or close the client: its owner does.

How a call ends, as the SDK sees it: ``call_tool`` always gives a ``CallToolResult``
(never a foreign exception), so the model reads what happened as the tool's output.

===================================  =========================================================
the call                             the ``CallToolResult``
===================================  =========================================================
ran                                  the text (budget applied); images as image content
                                     (the SDK sends them to the model); PDFs: a text stand-in
the tool returned ``isError``        ``isError``, text ``"Error: "`` + what went wrong: the
refused by the policy                tool's message; "refused and not run" and why; what was
unusable arguments, unknown name     wrong with the call; "timed out, it may or may not have
transport, protocol error, timeout   run" or the error's type and message
===================================  =========================================================

(An ``MCPError`` raised instead would reach the model through the SDK's default
``failure_error_function`` as a generic "An error occurred", without the reason.)
"""

from __future__ import annotations

import base64
import copy
from collections import deque
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ...features.schema_conversion import SchemaMode
from ..budget import ResultBudget
from ..policy import ToolPolicy
from ..runner import ToolExecution, ToolRunner
from ._common import adapter_tools, binary_parts, error_text, make_runner, require

if TYPE_CHECKING:
    from ...client.async_client import AsyncMCPClient
    from ...group.client_group import MCPClientGroup

__all__ = ["MCPAsyncServer"]

_EXTRA = "openai-agents"
_sdk_mcp = require("agents.mcp", _EXTRA, "OpenAI Agents SDK")
_types = require("mcp.types", _EXTRA, "OpenAI Agents SDK")


_Base: Any = _sdk_mcp.MCPServer


class MCPAsyncServer(_Base):  # type: ignore[misc]  # the framework's class, typed Any here
    """An Agents SDK MCP server backed by one :class:`~mcp_async.AsyncMCPClient` or
    :class:`~mcp_async.MCPClientGroup` (a group's namespaced names).

    ``name``: the server's name in the SDK (default ``"mcp_async"``). ``policy``,
    ``budget``, ``mode``, ``timeout`` and ``call_options`` are those of
    :class:`~mcp_async.agents.ToolRunner`. ``server_options``: keyword arguments for the
    SDK's ``MCPServer`` (``require_approval``, ``failure_error_function``,
    ``tool_meta_resolver``, guardrails, ...).
    """

    def __init__(
        self,
        target: AsyncMCPClient | MCPClientGroup,
        *,
        name: str = "mcp_async",
        policy: ToolPolicy | None = None,
        budget: ResultBudget | None = None,
        mode: SchemaMode | None = None,
        timeout: float | None = None,
        call_options: Mapping[str, Any] | None = None,
        **server_options: Any,
    ) -> None:
        super().__init__(**server_options)
        #: The :class:`~mcp_async.agents.ToolRunner` that runs every call.
        self.runner: ToolRunner = make_runner(target, policy=policy, budget=budget, mode=mode,
                                              timeout=timeout, call_options=call_options)
        self.target = target
        self._name = name
        self._cached: list[Any] | None = None
        #: The last 1,000 calls' :class:`~mcp_async.agents.ToolExecution` (the full
        #: result included), newest last.
        self.executions: deque[ToolExecution] = deque(maxlen=1000)

    @property
    def name(self) -> str:
        """The server's name in the SDK."""
        return self._name

    async def connect(self) -> None:
        """List the tools (the client's owner opens and closes the client)."""
        await self.runner.model_tools()

    async def cleanup(self) -> None:
        """Nothing to release: the client's owner closes it."""

    @property
    def cached_tools(self) -> list[Any] | None:
        """The tools last listed (``None`` before the first listing)."""
        return self._cached

    async def list_tools(self, run_context: Any = None, agent: Any = None) -> list[Any]:
        """The tools as ``mcp.types.Tool`` objects, under model-side names (the policy's
        deny list applied). Listed once; :meth:`refresh` lists again."""
        tools = []
        for tool in await adapter_tools(self.runner):
            wire: dict[str, Any] = {"name": tool.name, "description": tool.description,
                                    "inputSchema": tool.parameters}
            annotations = tool.entry.tool.raw.get("annotations")
            if isinstance(annotations, Mapping):  # the SDK's approval callbacks may read them
                wire["annotations"] = dict(annotations)
            tools.append(_types.Tool.model_validate(wire))
        self._cached = tools
        return tools

    async def refresh(self) -> None:
        """List the tools again."""
        await self.runner.model_tools(refresh=True)

    async def call_tool(self, tool_name: str, arguments: dict[str, Any] | None,
                        meta: dict[str, Any] | None = None) -> Any:
        """Run one call through the runner (see the module for what each outcome gives
        the SDK). ``meta`` (from a ``tool_meta_resolver``) goes out as the request's
        ``_meta``."""
        runner = self.runner
        if meta:
            runner = copy.copy(runner)  # shares the tool list, policy and budget
            runner.call_options = {**runner.call_options,
                                   "meta": {**runner.call_options.get("meta", {}), **meta}}
        execution = await runner.call(tool_name, arguments or {})
        self.executions.append(execution)
        text = execution.rendered.text
        content: list[dict[str, Any]] = []
        if execution.status != "ok":
            text = f"Error: {error_text(execution)}"
        else:
            for kind, mime, data in binary_parts(execution):
                if kind == "image":
                    content.append({"type": "image", "mimeType": mime,
                                    "data": base64.b64encode(data).decode("ascii")})
                else:
                    text += (f"\n[{kind} {mime}, {len(data):,} bytes: the Agents SDK takes "
                             "only text and images from an MCP tool, not sent]")
        if text or not content:
            content.insert(0, {"type": "text", "text": text})
        return _types.CallToolResult.model_validate(
            {"content": content, "isError": execution.status != "ok"})

    async def list_prompts(self) -> Any:
        """The prompts of the client or group (a group's namespaced names)."""
        from ...group.client_group import MCPClientGroup

        if isinstance(self.target, MCPClientGroup):
            prompts = [{**(p.prompt.raw or {"name": p.prompt.name}), "name": p.name}
                       for p in await self.target.list_prompts()]
        else:
            prompts = [p.raw or {"name": p.name} for p in await self.target.list_prompts()]
        return _types.ListPromptsResult.model_validate({"prompts": prompts})

    async def get_prompt(self, name: str, arguments: dict[str, Any] | None = None) -> Any:
        """One prompt, rendered by its server."""
        result = await self.target.get_prompt(name, arguments)
        return _types.GetPromptResult.model_validate(result.raw)
