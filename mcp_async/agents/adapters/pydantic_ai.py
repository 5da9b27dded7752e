"""PydanticAI: the tools of a client or group as a toolset
(``pip install 'mcp-async[pydantic-ai]'``).

::

    async with AsyncMCPClient(url) as client:
        toolset = MCPAsyncToolset(client, policy=ToolPolicy(deny=["delete_*"]))
        agent = Agent("openai:gpt-5", toolsets=[toolset])
        result = await agent.run("...")     # every call of every run: the client's session

The toolset neither opens nor closes the client: its owner does, so one MCP session
serves every tool call of every run (PydanticAI's own MCP toolset may reconnect per run
when it is not entered around the runs). The tool list is fetched once
(:meth:`MCPAsyncToolset.refresh` fetches it again).

How a call ends, as PydanticAI sees it:

===================================  =========================================================
the call                             what the tool returns / raises
===================================  =========================================================
ran                                  the result's text (budget applied); with images or PDFs,
                                     ``[text, BinaryContent, ...]``
the tool returned ``isError``        ``ModelRetry`` (``tool_error="failed"``: ``ToolFailed``)
arguments unusable / unknown name    ``ModelRetry``
refused by the policy                ``ToolFailed`` (never sent; not worth a retry)
transport, protocol error, timeout   ``ToolFailed`` (it may have run: not retried)
===================================  =========================================================

``ModelRetry`` counts against the tool's retries (``max_retries``, default the agent's),
as with any PydanticAI tool; ``ToolFailed`` shows the model the failure without a retry.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

from ..._exceptions import ConfigError
from ...features.schema_conversion import SchemaMode
from ..budget import ResultBudget
from ..policy import ToolPolicy
from ..runner import ToolExecution, ToolRunner
from ._common import adapter_tools, binary_parts, error_text, make_runner, require

if TYPE_CHECKING:
    from ...client.async_client import AsyncMCPClient
    from ...group.client_group import MCPClientGroup

__all__ = ["MCPAsyncToolset"]

_EXTRA = "pydantic-ai"
_toolsets = require("pydantic_ai.toolsets", _EXTRA, "PydanticAI")
_exceptions = require("pydantic_ai.exceptions", _EXTRA, "PydanticAI")
_messages = require("pydantic_ai.messages", _EXTRA, "PydanticAI")
_tools = require("pydantic_ai.tools", _EXTRA, "PydanticAI")
_core = require("pydantic_core", _EXTRA, "PydanticAI")

# Arguments reach the server as the model gave them (a JSON object); the server checks
# them against its schema, and a bad call comes back as an isError result (ModelRetry).
_ARGS = _core.SchemaValidator(_core.core_schema.dict_schema(
    _core.core_schema.str_schema(), _core.core_schema.any_schema()))


_Base: Any = _toolsets.AbstractToolset


class MCPAsyncToolset(_Base):  # type: ignore[misc]  # the framework's class, typed Any here
    """A PydanticAI toolset backed by one :class:`~mcp_async.AsyncMCPClient` or
    :class:`~mcp_async.MCPClientGroup` (a group's namespaced names, made to fit the
    providers' name rules).

    ``policy`` (:class:`~mcp_async.agents.ToolPolicy`) and ``budget``
    (:class:`~mcp_async.agents.ResultBudget`) apply to every call; ``mode`` is the
    schema mode (see :func:`~mcp_async.agents.model_tools`); ``timeout`` seconds per
    call; ``call_options`` more keyword arguments for ``call_tool``. ``id``: the
    toolset's id (unique among an agent's toolsets); ``max_retries``: retries after a
    ``ModelRetry`` (default: the agent's). ``tool_error``: what a tool's ``isError``
    result raises, ``"retry"`` (``ModelRetry``) or ``"failed"`` (``ToolFailed``).
    """

    def __init__(
        self,
        target: AsyncMCPClient | MCPClientGroup,
        *,
        policy: ToolPolicy | None = None,
        budget: ResultBudget | None = None,
        mode: SchemaMode | None = None,
        timeout: float | None = None,
        call_options: Mapping[str, Any] | None = None,
        id: str | None = None,
        max_retries: int | None = None,
        tool_error: Literal["retry", "failed"] = "retry",
    ) -> None:
        if tool_error not in ("retry", "failed"):
            raise ConfigError(f"tool_error must be 'retry' or 'failed', got {tool_error!r}")
        if max_retries is not None and (isinstance(max_retries, bool)
                                        or not isinstance(max_retries, int) or max_retries < 0):
            raise ConfigError(f"max_retries must be an integer >= 0, got {max_retries!r}")
        #: The :class:`~mcp_async.agents.ToolRunner` that runs every call.
        self.runner: ToolRunner = make_runner(target, policy=policy, budget=budget, mode=mode,
                                              timeout=timeout, call_options=call_options)
        self._id = id
        self.max_retries = max_retries
        self.tool_error = tool_error
        #: The last 1,000 calls' :class:`~mcp_async.agents.ToolExecution` (the full
        #: result included), newest last.
        self.executions: deque[ToolExecution] = deque(maxlen=1000)

    @property
    def id(self) -> str | None:
        """The toolset's id, if one was given."""
        return self._id

    async def refresh(self) -> None:
        """Fetch the tool list again (the next run sees the new list)."""
        await self.runner.model_tools(refresh=True)

    async def get_tools(self, ctx: Any) -> dict[str, Any]:
        """The client's or group's tools (the policy's deny list applied)."""
        retries = self.max_retries if self.max_retries is not None else ctx.max_retries
        return {
            tool.name: _toolsets.ToolsetTool(
                toolset=self,
                tool_def=_tools.ToolDefinition(
                    name=tool.name, description=tool.description,
                    parameters_json_schema=tool.parameters,
                    metadata={"mcp_name": tool.entry.name, "server": tool.entry.server},
                ),
                max_retries=retries,
                args_validator=_ARGS,
            )
            for tool in await adapter_tools(self.runner)
        }

    async def call_tool(self, name: str, tool_args: dict[str, Any], ctx: Any,
                        tool: Any) -> Any:
        """Run one call through the runner (policy, call, budget); see the module for
        what each outcome becomes."""
        execution = await self.runner.call(name, tool_args, getattr(ctx, "tool_call_id", None)
                                           or "")
        self.executions.append(execution)
        if execution.status == "ok":
            parts = binary_parts(execution)
            if not parts:
                return execution.rendered.text
            content: list[Any] = [execution.rendered.text] if execution.rendered.text else []
            content += [_messages.BinaryContent(data, media_type=mime) for _, mime, data in parts]
            return content
        text = error_text(execution)
        if execution.status in ("refused", "error") or (
            execution.status == "tool_error" and self.tool_error == "failed"
        ):
            raise _exceptions.ToolFailed(text) from execution.error
        raise _exceptions.ModelRetry(text) from execution.error
