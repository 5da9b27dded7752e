"""From the model back to MCP: tool lists for four model APIs, the model's tool calls
run on a client or group, results shaped for the model, budgets, policies and a
minimal agent loop. No LLM SDK is imported: plain dicts in and out, SDK objects
accepted where they have ``model_dump()``.

The APIs: ``"openai"`` (Chat Completions), ``"openai-responses"``, ``"anthropic"``
(Messages) and ``"gemini"`` (``generateContent``). See docs/agents.md.

* :func:`model_tools`: the tools for one API (``mode="strict"`` / ``"portable"``,
  with a :class:`SchemaReport` of every change and every tool left out).
* :func:`parse_tool_calls`, :func:`assistant_turn`, :func:`response_text`: read a
  response.
* :class:`ToolRunner` / :func:`run_tool_calls`: run the calls (bounded, concurrent,
  in the model's order), answer in the API's shape; errors become error results.
* :class:`ResultBudget`: a per-result size limit (head and tail kept).
* :class:`ToolPolicy`: allow/deny lists, per server, and an approver that fails closed.
* :func:`agent_loop` / :func:`run_agent`: the loop, for programs without a framework.
"""

from __future__ import annotations

from ..features.schema_conversion import (
    SchemaChange,
    SchemaConversionError,
    SchemaMode,
    SkippedTool,
    drop_strict_nulls,
    portable_schema,
    strict_schema,
)
from ._apis import API_NAMES, Api, check_api, model_names
from .budget import DEFAULT_MAX_CHARS, META_SIZE_HINT, ResultBudget, truncate
from .calls import ModelToolCall, assistant_turn, parse_tool_calls, response_text
from .content import RenderedResult, render_result
from .loop import AgentStep, ModelCaller, agent_loop, run_agent
from .policy import (
    POLICY_EVENT,
    ApprovalRequest,
    Approver,
    PolicyDecision,
    PrometheusPolicyMetrics,
    ServerRules,
    ToolPolicy,
    hinted_risky,
)
from .results import result_item, round_messages
from .runner import AgentToolError, ToolExecution, ToolRound, ToolRunner, run_tool_calls
from .schemas import ModelTool, ModelTools, SchemaReport, build_model_tools, model_tools

__all__ = [
    "API_NAMES",
    "DEFAULT_MAX_CHARS",
    "META_SIZE_HINT",
    "POLICY_EVENT",
    "AgentStep",
    "AgentToolError",
    "Api",
    "ApprovalRequest",
    "Approver",
    "ModelCaller",
    "ModelTool",
    "ModelToolCall",
    "ModelTools",
    "PolicyDecision",
    "PrometheusPolicyMetrics",
    "RenderedResult",
    "ResultBudget",
    "SchemaChange",
    "SchemaConversionError",
    "SchemaMode",
    "SchemaReport",
    "ServerRules",
    "SkippedTool",
    "ToolExecution",
    "ToolPolicy",
    "ToolRound",
    "ToolRunner",
    "agent_loop",
    "assistant_turn",
    "build_model_tools",
    "check_api",
    "drop_strict_nulls",
    "hinted_risky",
    "model_names",
    "model_tools",
    "parse_tool_calls",
    "portable_schema",
    "render_result",
    "response_text",
    "result_item",
    "round_messages",
    "run_agent",
    "run_tool_calls",
    "strict_schema",
    "truncate",
]
