"""How a session starts: ``initialize`` (handshake era) and ``server/discover`` (2026-07-28),
with the server's identity and capabilities."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Self

from .decoding import obj, opt_dict, opt_meta, opt_str, req_str, str_tuple, sub
from .display import Icon, _icons

__all__ = [
    "DiscoverResult",
    "Implementation",
    "InitializeResult",
    "ServerCapabilities",
]


@dataclass(frozen=True, slots=True)
class Implementation:
    """Name and version of an MCP implementation (``serverInfo`` / ``clientInfo``)."""

    name: str
    version: str
    title: str | None = None
    description: str | None = None
    website_url: str | None = None
    icons: tuple[Icon, ...] = ()
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Decode a wire ``Implementation`` object."""
        d = obj(data, "Implementation")
        return cls(
            name=req_str(d, "name", "Implementation"),
            version=req_str(d, "version", "Implementation"),
            title=opt_str(d, "title", "Implementation"),
            description=opt_str(d, "description", "Implementation"),
            website_url=opt_str(d, "websiteUrl", "Implementation"),
            icons=_icons(d, "Implementation"),
            raw=d,
        )

    def to_dict(self) -> dict[str, Any]:
        """Return the wire form (for sending ``clientInfo``); unset optional fields are omitted."""
        out: dict[str, Any] = {"name": self.name, "version": self.version}
        if self.title is not None:
            out["title"] = self.title
        if self.description is not None:
            out["description"] = self.description
        if self.website_url is not None:
            out["websiteUrl"] = self.website_url
        if self.icons:
            out["icons"] = [icon.to_dict() for icon in self.icons]
        return out


def _flag(cap: dict[str, Any] | None, key: str) -> bool:
    return cap is not None and cap.get(key) is True


@dataclass(frozen=True, slots=True)
class ServerCapabilities:
    """What the server offers. Each capability is its raw object, or ``None`` when absent.

    Use the ``supports_*`` / ``*_list_changed`` properties to gate requests.
    """

    tools: dict[str, Any] | None = None
    resources: dict[str, Any] | None = None
    prompts: dict[str, Any] | None = None
    logging: dict[str, Any] | None = None
    completions: dict[str, Any] | None = None
    experimental: dict[str, Any] | None = None
    tasks: dict[str, Any] | None = None
    extensions: dict[str, Any] | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Decode a wire ``ServerCapabilities`` object."""
        m = "ServerCapabilities"
        d = obj(data, m)
        return cls(
            tools=opt_dict(d, "tools", m),
            resources=opt_dict(d, "resources", m),
            prompts=opt_dict(d, "prompts", m),
            logging=opt_dict(d, "logging", m),
            completions=opt_dict(d, "completions", m),
            experimental=opt_dict(d, "experimental", m),
            tasks=opt_dict(d, "tasks", m),
            extensions=opt_dict(d, "extensions", m),
            raw=d,
        )

    @property
    def supports_tools(self) -> bool:
        """The server offers ``tools/list`` and ``tools/call``."""
        return self.tools is not None

    @property
    def supports_resources(self) -> bool:
        """The server offers ``resources/list``, ``resources/read`` and templates."""
        return self.resources is not None

    @property
    def supports_resource_subscribe(self) -> bool:
        """The server accepts ``resources/subscribe``."""
        return _flag(self.resources, "subscribe")

    @property
    def supports_prompts(self) -> bool:
        """The server offers ``prompts/list`` and ``prompts/get``."""
        return self.prompts is not None

    @property
    def supports_logging(self) -> bool:
        """The server accepts ``logging/setLevel`` and may send ``notifications/message``."""
        return self.logging is not None

    @property
    def supports_completions(self) -> bool:
        """The server offers ``completion/complete``."""
        return self.completions is not None

    @property
    def supports_tasks(self) -> bool:
        """The server declared the (2025-11-25, experimental) ``tasks`` capability."""
        return self.tasks is not None

    @property
    def supports_task_tool_calls(self) -> bool:
        """``tools/call`` may be task-augmented (``tasks.requests.tools.call``)."""
        if self.tasks is None:
            return False
        requests = self.tasks.get("requests")
        tools = requests.get("tools") if isinstance(requests, dict) else None
        return isinstance(tools, dict) and isinstance(tools.get("call"), dict)

    @property
    def tools_list_changed(self) -> bool:
        """The server sends ``notifications/tools/list_changed``."""
        return _flag(self.tools, "listChanged")

    @property
    def resources_list_changed(self) -> bool:
        """The server sends ``notifications/resources/list_changed``."""
        return _flag(self.resources, "listChanged")

    @property
    def prompts_list_changed(self) -> bool:
        """The server sends ``notifications/prompts/list_changed``."""
        return _flag(self.prompts, "listChanged")


@dataclass(frozen=True, slots=True)
class InitializeResult:
    """The server's answer to ``initialize``."""

    protocol_version: str
    capabilities: ServerCapabilities
    server_info: Implementation
    instructions: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Decode a wire ``InitializeResult``."""
        m = "InitializeResult"
        d = obj(data, m)
        return cls(
            protocol_version=req_str(d, "protocolVersion", m),
            capabilities=sub(d, "capabilities", m, ServerCapabilities.from_dict),
            server_info=sub(d, "serverInfo", m, Implementation.from_dict),
            instructions=opt_str(d, "instructions", m),
            raw=d,
        )


@dataclass(frozen=True, slots=True)
class DiscoverResult:
    """The answer to ``server/discover`` (MCP 2026-07-28).

    ``ttl_ms`` (never negative) and ``cache_scope`` are the server's caching hints;
    ``server_info`` comes from ``_meta["io.modelcontextprotocol/serverInfo"]``.
    """

    supported_versions: tuple[str, ...]
    capabilities: ServerCapabilities
    server_info: Implementation | None = None
    instructions: str | None = None
    ttl_ms: int = 0
    cache_scope: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Decode a wire ``DiscoverResult``."""
        m = "DiscoverResult"
        d = obj(data, m)
        meta = opt_meta(d, m) or {}
        info = meta.get("io.modelcontextprotocol/serverInfo")
        ttl = d.get("ttlMs")
        return cls(
            supported_versions=str_tuple(d, "supportedVersions", m, required=True),
            capabilities=sub(d, "capabilities", m, ServerCapabilities.from_dict),
            server_info=Implementation.from_dict(info) if isinstance(info, Mapping) else None,
            instructions=opt_str(d, "instructions", m),
            ttl_ms=max(int(ttl), 0) if isinstance(ttl, int | float) and ttl == ttl else 0,
            cache_scope=opt_str(d, "cacheScope", m),
            raw=d,
        )

    def as_initialize_result(self, protocol_version: str) -> InitializeResult:
        """The same facts in the shape the handshake era reports them."""
        return InitializeResult(
            protocol_version=protocol_version,
            capabilities=self.capabilities,
            server_info=self.server_info or Implementation(name="", version=""),
            instructions=self.instructions,
            raw=self.raw,
        )
