"""A minimal agent loop: ask the model, run its tool calls on MCP, repeat.

::

    async def call_model(messages, tools):
        return await openai.chat.completions.create(
            model="gpt-5", messages=messages, tools=tools)

    async for step in agent_loop(client, "openai", call_model,
                                 [{"role": "user", "content": "What is 2 + 3?"}]):
        print(step.round, step.text, [e.status for e in step.tool_round.executions]
              if step.tool_round else "")

``call_model(messages, tools)`` is any async callable that sends the conversation and
the tool list (the API's request ``tools`` value; Gemini's already wrapped in
``functionDeclarations``) and returns the model's response (a dict, a mapping or an
SDK object). For the Responses API ``messages`` is the ``input`` list; for Gemini it is
``contents``; for Anthropic, pass ``system`` yourself.

The loop stops when a response has no tool calls (``stop_reason="answered"``) or
after ``max_rounds`` tool rounds, when the model asks for more (``"max_rounds"``; the
calls it asked for are in :attr:`AgentStep.pending`, not run).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from .._exceptions import ConfigError
from .calls import ModelToolCall, assistant_turn, parse_tool_calls, response_text
from .runner import ToolRound, ToolRunner

if TYPE_CHECKING:
    from ..client.async_client import AsyncMCPClient
    from ..group.client_group import MCPClientGroup

__all__ = ["AgentStep", "ModelCaller", "agent_loop", "run_agent"]

#: ``async (messages, tools) -> response``: one call to the model.
ModelCaller = Callable[[list[dict[str, Any]], list[dict[str, Any]]], Awaitable[Any]]


@dataclass(slots=True)
class AgentStep:
    """One model response and what the loop did with it.

    ``round``: 1 for the first response; ``response``: as ``call_model`` returned it;
    ``text``: its text; ``tool_round``: the calls run and their results (``None`` when
    none ran); ``messages``: the conversation after this step (the loop's own list:
    copy it to keep a snapshot); ``stop_reason``: ``None`` while the loop goes on,
    ``"answered"`` or ``"max_rounds"`` on the last step; ``pending``: the calls left
    unrun when the round limit was hit.
    """

    round: int
    response: Any
    text: str
    messages: list[dict[str, Any]]
    tool_round: ToolRound | None = None
    stop_reason: Literal["answered", "max_rounds"] | None = None
    pending: list[ModelToolCall] = field(default_factory=list)

    @property
    def final(self) -> bool:
        """Whether this is the loop's last step."""
        return self.stop_reason is not None


async def agent_loop(
    target: AsyncMCPClient | MCPClientGroup | ToolRunner,
    api: str,
    call_model: ModelCaller,
    messages: Sequence[dict[str, Any]],
    *,
    max_rounds: int = 10,
    **runner_options: Any,
) -> AsyncIterator[AgentStep]:
    """Run tool rounds until the model answers without tools or ``max_rounds`` tool
    rounds have run, yielding each step (see the module).

    ``target``: a client, a group, or a :class:`~mcp_async.agents.ToolRunner` (then
    ``runner_options`` must be empty and ``api`` must match it). ``runner_options``:
    the :class:`~mcp_async.agents.ToolRunner` options (``policy``, ``budget``,
    ``mode``, ``concurrency``, ``timeout``, ``raise_errors``, ...). ``messages`` is
    copied, never changed.
    """
    if isinstance(max_rounds, bool) or not isinstance(max_rounds, int) or max_rounds < 0:
        raise ConfigError(f"max_rounds must be an integer >= 0, got {max_rounds!r}")
    if not callable(call_model):
        raise ConfigError(f"call_model must be an async callable, got {call_model!r}")
    if isinstance(target, ToolRunner):
        if runner_options:
            raise ConfigError("pass runner options to the ToolRunner, not to agent_loop")
        runner = target
        if runner.api != api:
            raise ConfigError(f"the runner is for {runner.api!r}, not {api!r}")
    else:
        runner = ToolRunner(target, api, **runner_options)
    conversation = list(messages)
    tools = (await runner.model_tools()).request_tools
    rounds = 0
    while True:
        response = await call_model(conversation, tools)
        calls = parse_tool_calls(response, runner.api)
        conversation.extend(assistant_turn(response, runner.api))
        text = response_text(response, runner.api)
        if not calls:
            yield AgentStep(rounds + 1, response, text, conversation, stop_reason="answered")
            return
        if rounds >= max_rounds:
            yield AgentStep(rounds + 1, response, text, conversation,
                            stop_reason="max_rounds", pending=calls)
            return
        tool_round = await runner.run_calls(calls)
        conversation.extend(tool_round.messages)
        rounds += 1
        yield AgentStep(rounds, response, text, conversation, tool_round)


async def run_agent(
    target: AsyncMCPClient | MCPClientGroup | ToolRunner,
    api: str,
    call_model: ModelCaller,
    messages: Sequence[dict[str, Any]],
    *,
    max_rounds: int = 10,
    **runner_options: Any,
) -> AgentStep:
    """:func:`agent_loop` to the end; returns the last step (its ``text`` is the
    model's answer, its ``messages`` the whole conversation)."""
    last: AgentStep | None = None
    async for step in agent_loop(target, api, call_model, messages, max_rounds=max_rounds,
                                 **runner_options):
        last = step
    assert last is not None  # the loop always yields a final step
    return last
