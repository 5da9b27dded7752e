"""What the three adapters share: one :class:`~mcp_async.agents.ToolRunner` per adapter
(so one client or group, one MCP session, for every call of every run), the tool list
as (name, description, JSON Schema), and the import of an optional framework."""

from __future__ import annotations

import base64
import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any

from ..._exceptions import ConfigError
from ...features.schema_conversion import SchemaMode
from ..budget import ResultBudget
from ..policy import ToolPolicy
from ..runner import ToolExecution, ToolRunner
from ..schemas import ModelTool

if TYPE_CHECKING:
    from ...client.async_client import AsyncMCPClient
    from ...group.client_group import MCPClientGroup

#: The model API the adapters render results for. Anthropic's tool-name rules
#: (``[A-Za-z0-9_-]{1,64}``) are the strictest of the four, so a name fits every
#: provider a framework may talk to; its results keep images and PDFs as base64 blocks
#: that each adapter turns into its framework's own kind.
RENDER_API = "anthropic"


def require(module: str, extra: str, adapter: str) -> ModuleType:
    """Import ``module`` or raise :class:`ConfigError` naming the extra to install."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ConfigError(
            f"the {adapter} adapter needs {module!r}, which is not installed: "
            f"pip install 'mcp-async[{extra}]'"
        ) from exc


@dataclass(frozen=True, slots=True)
class AdapterTool:
    """One tool as a framework declares it: ``name`` (model-side), ``description``,
    ``parameters`` (the JSON Schema of its arguments) and the :class:`ModelTool` behind it."""

    name: str
    description: str
    parameters: dict[str, Any]
    entry: ModelTool


def make_runner(
    target: AsyncMCPClient | MCPClientGroup,
    *,
    policy: ToolPolicy | None,
    budget: ResultBudget | None,
    mode: SchemaMode | None,
    timeout: float | None,
    call_options: Mapping[str, Any] | None,
) -> ToolRunner:
    """The runner behind an adapter (its errors are mapped by the adapter, never raised)."""
    return ToolRunner(target, RENDER_API, mode=mode, policy=policy, budget=budget,
                      timeout=timeout, call_options=call_options)


async def adapter_tools(runner: ToolRunner, *, refresh: bool = False) -> list[AdapterTool]:
    """The tools ``runner`` offers (listed once; the policy's deny list applied)."""
    tools = await runner.model_tools(refresh=refresh)
    out: list[AdapterTool] = []
    for definition, entry in zip(tools.tools, tools.entries.values(), strict=True):
        description = definition.get("description") or entry.tool.description or entry.name
        out.append(AdapterTool(entry.model_name, description,
                               dict(definition["input_schema"]), entry))
    return out


def error_text(execution: ToolExecution) -> str:
    """What the model is told about a failed call."""
    return execution.rendered.text or f"tool {execution.call.name!r} failed ({execution.status})"


def binary_parts(execution: ToolExecution) -> list[tuple[str, str, bytes]]:
    """The result's binary parts (images, PDFs) as ``(kind, media_type, bytes)``;
    ``kind`` is ``"image"`` or ``"document"``."""
    out: list[tuple[str, str, bytes]] = []
    for part in execution.rendered.parts:
        source = part.get("source")
        if isinstance(source, Mapping) and source.get("type") == "base64":
            out.append((str(part.get("type")), str(source.get("media_type")),
                        base64.b64decode(str(source.get("data")))))
    return out
