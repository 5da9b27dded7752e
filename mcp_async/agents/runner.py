"""Run the model's tool calls on MCP and answer the model in its own API's shape.

::

    runner = ToolRunner(client, "openai")              # or a group; any of the 4 APIs
    tools = await runner.model_tools()                  # give tools.request_tools to the model
    response = await openai.chat.completions.create(..., tools=tools.request_tools)
    messages += assistant_turn(response, "openai")
    tool_round = await runner.run(response)             # calls run concurrently, bounded
    messages += tool_round.messages                     # one answer per call, model order

Errors go to the model, not up the stack: unreadable arguments, a tool the model was
not offered, a call the policy refused, a result with ``isError``, a protocol or
transport error and a timeout each become an error result that says what went wrong
(and, where it helps, what to do). ``raise_errors=True`` raises
:class:`AgentToolError` instead, once every call of the round has finished, with the
whole round attached. Nothing is dropped: every call gets exactly one result.
"""

from __future__ import annotations

import asyncio
import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

from .._exceptions import ConfigError, MCPClientError
from ..features.schema_conversion import SchemaMode, drop_strict_nulls
from ..policies.tracing import configured_tracer_provider
from ..protocol.models import CallToolResult
from ._apis import Api, check_api
from .budget import ResultBudget
from .calls import ModelToolCall, parse_tool_calls
from .content import RenderedResult, render_result
from .policy import ApprovalRequest, PolicyDecision, ToolPolicy
from .results import result_item, round_messages
from .schemas import ModelTool, ModelTools, build_model_tools, list_target_tools

if TYPE_CHECKING:
    from ..client.async_client import AsyncMCPClient
    from ..group.client_group import MCPClientGroup

__all__ = ["AgentToolError", "ToolExecution", "ToolRound", "ToolRunner", "run_tool_calls"]

#: How one call ended: ``"ok"``; ``"tool_error"`` (the tool returned ``isError``);
#: ``"invalid_arguments"``, ``"unknown_tool"`` and ``"refused"`` (never sent);
#: ``"error"`` (a protocol, transport or timeout error while calling).
Status: TypeAlias = Literal[
    "ok", "tool_error", "invalid_arguments", "unknown_tool", "refused", "error"
]


@dataclass(slots=True)
class ToolExecution:
    """One call and what came of it.

    ``call``: the model's call; ``tool``: the tool it meant (``None`` if unknown);
    ``result``: the full :class:`~mcp_async.models.CallToolResult` (``None`` if the
    call was not sent or failed), for the program (the model's copy may be cut by the
    budget); ``error``: the exception, if one was raised; ``decision``: the policy's
    decision (``None`` without a policy); ``rendered``: what the model reads;
    ``item``: the result in the API's shape (see :func:`~mcp_async.agents.results.result_item`).
    """

    call: ModelToolCall
    status: Status
    tool: ModelTool | None
    rendered: RenderedResult
    item: dict[str, Any]
    result: CallToolResult | None = None
    error: BaseException | None = None
    decision: PolicyDecision | None = None

    @property
    def is_error(self) -> bool:
        """Whether the model was told this call failed."""
        return self.status != "ok"

    @property
    def truncated(self) -> bool:
        """Whether the budget cut the model's copy of the result."""
        return self.rendered.cut > 0


@dataclass(slots=True)
class ToolRound:
    """The calls of one model response and their results; ``messages`` are ready to
    append to the conversation (after the model's turn)."""

    api: Api
    executions: list[ToolExecution] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)

    @property
    def calls(self) -> list[ModelToolCall]:
        """The model's calls, in its order."""
        return [e.call for e in self.executions]

    @property
    def errors(self) -> list[ToolExecution]:
        """The executions the model was told failed."""
        return [e for e in self.executions if e.is_error]


class AgentToolError(MCPClientError):
    """A tool call failed and the runner was built with ``raise_errors=True``.

    ``execution`` is the first failed call (in the model's order), ``tool_round`` the
    whole round (every call has finished); ``__cause__`` is the underlying error, if any.
    """

    def __init__(self, execution: ToolExecution, tool_round: ToolRound) -> None:
        super().__init__(
            f"tool call {execution.call.name!r} ({execution.status}): {execution.rendered.text}"
        )
        self.execution = execution
        self.tool_round = tool_round


def _error(api: Api, call: ModelToolCall, status: Status, text: str, *,
           tool: ModelTool | None = None, error: BaseException | None = None,
           decision: PolicyDecision | None = None) -> ToolExecution:
    rendered = RenderedResult(text, total_chars=len(text))
    return ToolExecution(call, status, tool, rendered, result_item(api, call, rendered, True),
                         error=error, decision=decision)


class ToolRunner:
    """Runs a model's tool calls on ``target`` (an :class:`~mcp_async.AsyncMCPClient`
    or an :class:`~mcp_async.MCPClientGroup`) for ``api``.

    ``mode``: the schema mode of :meth:`model_tools` (see :func:`model_tools`).
    ``policy``: a :class:`~mcp_async.agents.ToolPolicy` (allow/deny/approval).
    ``budget``: a :class:`~mcp_async.agents.ResultBudget` (default: 25,000 characters
    per result). ``concurrency``: calls of one round in flight at once (default 8).
    ``timeout``: seconds per call (default: the client's). ``raise_errors``: raise
    :class:`AgentToolError` instead of telling the model. ``call_options``: more
    keyword arguments for ``call_tool`` (``meta``, ``progress``, ``retry``, ...).
    """

    def __init__(
        self,
        target: AsyncMCPClient | MCPClientGroup,
        api: str,
        *,
        mode: SchemaMode | None = None,
        policy: ToolPolicy | None = None,
        budget: ResultBudget | None = None,
        concurrency: int = 8,
        timeout: float | None = None,
        raise_errors: bool = False,
        call_options: Mapping[str, Any] | None = None,
    ) -> None:
        from ..client.async_client import AsyncMCPClient
        from ..group.client_group import MCPClientGroup

        if not isinstance(target, AsyncMCPClient | MCPClientGroup):
            raise ConfigError(f"expected an AsyncMCPClient or an MCPClientGroup, "
                              f"got {type(target).__name__}")
        if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
            raise ConfigError(f"concurrency must be an integer >= 1, got {concurrency!r}")
        if policy is not None and not isinstance(policy, ToolPolicy):
            raise ConfigError(f"policy must be a ToolPolicy, got {type(policy).__name__}")
        if budget is not None and not isinstance(budget, ResultBudget):
            raise ConfigError(f"budget must be a ResultBudget, got {type(budget).__name__}")
        options = dict(call_options or {})
        for reserved in ("timeout", "raise_on_error", "allow_input_required"):
            if reserved in options:
                raise ConfigError(f"call_options may not set {reserved!r}")
        self.target = target
        self.api: Api = check_api(api)
        self.mode = mode
        self.policy = policy
        self.budget = budget if budget is not None else ResultBudget()
        self.concurrency = concurrency
        self.timeout = timeout
        self.raise_errors = raise_errors
        self.call_options = options
        self._tools: ModelTools | None = None

    async def model_tools(self, *, refresh: bool = False) -> ModelTools:
        """The tools to offer the model (listed once; ``refresh=True`` lists again).
        Calls are resolved against this list, so offer the model this one."""
        if self._tools is None or refresh:
            self._tools = build_model_tools(
                await list_target_tools(self.target), self.api, mode=self.mode,
                policy=self.policy,
            )
        return self._tools

    async def run(self, response: Any) -> ToolRound:
        """Parse ``response``'s tool calls and run them (see :meth:`run_calls`)."""
        return await self.run_calls(parse_tool_calls(response, self.api))

    async def run_calls(self, calls: Sequence[ModelToolCall]) -> ToolRound:
        """Run ``calls`` concurrently (at most ``concurrency`` at once) and return the
        round, results in the order of ``calls``."""
        for call in calls:
            if not isinstance(call, ModelToolCall):
                raise ConfigError(f"expected ModelToolCall objects, got {type(call).__name__}")
            if call.api != self.api:
                raise ConfigError(f"a {call.api} tool call given to a {self.api} runner")
        tools = await self.model_tools()
        executions: list[ToolExecution | None] = [None] * len(calls)
        if len(calls) == 1:
            executions[0] = await self._execute(calls[0], tools)
        elif calls:
            semaphore = asyncio.Semaphore(self.concurrency)

            async def one(index: int, call: ModelToolCall) -> None:
                async with semaphore:
                    executions[index] = await self._execute(call, tools)

            async with asyncio.TaskGroup() as group:
                for index, call in enumerate(calls):
                    group.create_task(one(index, call))
        done = [e for e in executions if e is not None]
        tool_round = ToolRound(self.api, done, round_messages(self.api, [e.item for e in done]))
        if self.raise_errors:
            for execution in done:
                if execution.is_error:
                    raise AgentToolError(execution, tool_round) from execution.error
        return tool_round

    async def execute(self, call: ModelToolCall) -> ToolExecution:
        """Run one call (policy, call, budget, conversion); errors become error results."""
        return await self._execute(call, await self.model_tools())

    async def call(self, name: str, arguments: Mapping[str, Any] | None = None,
                   call_id: str = "") -> ToolExecution:
        """Run one call by its model-side ``name`` (as :meth:`model_tools` lists it), the
        way a framework's tool function would: policy, call, budget, conversion; errors
        become error results (or :class:`AgentToolError` with ``raise_errors``)."""
        if arguments is not None and not isinstance(arguments, Mapping):
            raise ConfigError(f"arguments must be a mapping, got {type(arguments).__name__}")
        call = ModelToolCall(call_id, name, dict(arguments or {}), self.api, arguments)
        execution = await self.execute(call)
        if self.raise_errors and execution.is_error:
            tool_round = ToolRound(self.api, [execution], round_messages(self.api,
                                                                         [execution.item]))
            raise AgentToolError(execution, tool_round) from execution.error
        return execution

    async def _execute(self, call: ModelToolCall, tools: ModelTools) -> ToolExecution:
        provider = configured_tracer_provider()
        if provider is None:
            return await self._run_one(call, tools)
        from opentelemetry.trace import SpanKind, Status, StatusCode

        tracer = provider.get_tracer("mcp_async")
        attributes = {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": call.name}
        if call.id:
            attributes["gen_ai.tool.call.id"] = call.id
        with tracer.start_as_current_span(
            f"execute_tool {call.name}", kind=SpanKind.INTERNAL, attributes=attributes,
        ) as span:
            execution = await self._run_one(call, tools)
            if execution.is_error:
                span.set_attribute("error.type", execution.status)
                span.set_status(Status(StatusCode.ERROR, execution.status))
            return execution

    async def _run_one(self, call: ModelToolCall, tools: ModelTools) -> ToolExecution:
        api = self.api
        if call.arguments is None:
            return _error(api, call, "invalid_arguments",
                          f"the arguments for tool {call.name!r} could not be read: "
                          f"{call.error}. The tool was not run; call it again with a JSON "
                          "object of arguments.")
        tool = tools.lookup(call.name)
        if tool is None:
            close = difflib.get_close_matches(call.name, list(tools.entries), n=3)
            hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
            return _error(api, call, "unknown_tool",
                          f"there is no tool named {call.name!r}; the tool was not run.{hint}")
        arguments = call.arguments
        if tools.mode == "strict":
            arguments = drop_strict_nulls(tool.tool.input_schema, arguments)
        decision: PolicyDecision | None = None
        if self.policy is not None:
            decision = await self.policy.decide(
                ApprovalRequest(tool.name, tool.server, tool.tool, arguments, call.id),
                server_name=tool.tool.name,
            )
            if not decision.allowed:
                return _error(api, call, "refused",
                              f"the call to {call.name!r} was refused and not run: "
                              f"{decision.reason}.", tool=tool, decision=decision)
        try:
            result = await self.target.call_tool(
                tool.name, arguments, timeout=self.timeout, **self.call_options,
            )
        except MCPClientError as exc:
            return _error(api, call, "error", _describe(call.name, exc), tool=tool,
                          error=exc, decision=decision)
        except Exception as exc:  # a bug below us must not end the model's turn unanswered
            return _error(api, call, "error", _describe(call.name, exc), tool=tool,
                          error=exc, decision=decision)
        rendered = render_result(result, api, self.budget, self.budget.limit_for(tool.tool))
        status: Status = "tool_error" if result.is_error else "ok"
        return ToolExecution(call, status, tool, rendered,
                             result_item(api, call, rendered, result.is_error),
                             result=result, decision=decision)


def _describe(name: str, exc: BaseException) -> str:
    from .._exceptions import RequestTimeoutError

    if isinstance(exc, RequestTimeoutError):
        return f"calling tool {name!r} timed out ({exc}). It may or may not have run."
    return f"calling tool {name!r} failed: {type(exc).__name__}: {exc}"


async def run_tool_calls(
    target: AsyncMCPClient | MCPClientGroup,
    response: Any,
    api: str,
    **options: Any,
) -> ToolRound:
    """Run the tool calls in ``response`` on ``target`` once: a
    :class:`ToolRunner` (``options`` are its keyword arguments) and :meth:`ToolRunner.run`.
    Tool names are resolved against :func:`model_tools` of ``target``."""
    return await ToolRunner(target, api, **options).run(response)
