"""mcp_async: an asyncio-first Model Context Protocol client on aiohttp.

The public API is flat::

    from mcp_async import AsyncMCPClient, Timeout, Hook, MCPClientError
"""

from typing import TYPE_CHECKING, Any

from ._config import Timeout
from ._exceptions import (
    _RENAMED,
    AuthError,
    BatchError,
    BodyTooLargeError,
    ClientStateError,
    ConfigError,
    ConnectError,
    ConnectionLostError,
    ConnectTimeout,
    ContentTypeError,
    EraError,
    HeaderMismatchError,
    HTTPStatusError,
    InputRequestError,
    InputRequiredError,
    InputRoundsExceededError,
    InvalidJSONError,
    JSONRPCError,
    MCPClientError,
    MissingClientCapabilityError,
    OutputValidationError,
    ProtocolError,
    RateLimitedError,
    ReadError,
    ReadTimeout,
    RedirectError,
    RequestTimeoutError,
    RetryError,
    ServerExitedError,
    ServerSpawnError,
    SessionExpiredError,
    SubscriptionLostError,
    SyncInEventLoopError,
    TaskCancelledError,
    TaskError,
    TaskFailedError,
    TaskNotSupportedError,
    ToolError,
    TransportDetectionError,
    TransportError,
    UnexpectedResponseError,
    UnknownResultTypeError,
    UnsupportedProtocolVersionError,
    VersionMismatchError,
    _renamed,
)
from ._lazy import lazy_attributes
from ._version import __version__

if TYPE_CHECKING:
    from . import auth as auth
    from . import client as client
    from . import features as features
    from . import policies as policies
    from . import protocol as protocol
    from . import session as session
    from . import transports as transports
    from ._exceptions import RequestTimeoutError as TimeoutError  # noqa: F401
    from ._exceptions import SubscriptionLostError as SubscriptionLost  # noqa: F401
    from .auth.bearer import BearerAuth
    from .auth.jwt import JWTAuth
    from .client.async_client import LOG_LEVELS, AsyncMCPClient
    from .features.batch import (
        AnyOutcome,
        BatchResult,
        Failure,
        Outcome,
        OutcomeStream,
        Success,
        ToolCall,
        gather_bounded,
        stream_bounded,
    )
    from .features.schemas import export_tools
    from .features.tasks import Task, TaskHandle
    from .group.catalogue import GroupPrompt, GroupResource, GroupResourceTemplate, GroupTool
    from .group.client_group import MCPClientGroup
    from .group.config import MCPConfig, ServerSpec, load_mcp_config
    from .group.errors import (
        GroupConnectError,
        ServerUnavailableError,
        UnknownServerError,
        UnknownToolError,
    )
    from .group.events import GroupEvent
    from .group.health import ServerHealth, ServerRecovery
    from .group.pool import ClientPool, PoolClosedError, PoolExhaustedError, PoolStats
    from .policies.metrics import MetricsHook, PrometheusMetrics, RequestSample
    from .policies.ratelimit import RateLimit, TokenBucket
    from .policies.retry import RetryPolicy
    from .protocol import models
    from .protocol.models import CallToolResult, InitializeResult, Tool
    from .session.elicitation import accept_with_defaults
    from .session.handlers import (
        ElicitationRequest,
        ElicitationResult,
        SamplingMessage,
        SamplingRequest,
        SamplingResult,
        ToolResultContent,
        ToolUseContent,
    )
    from .session.portable import SessionState, SessionStateError
    from .transports.http.asgi import ASGITransport
    from .transports.http.base import BytesResponse, HTTPRequest, HTTPResponse, HTTPTransport
    from .transports.http.hooks import Hook, middleware, request_hook, response_hook
    from .transports.http.sse_streams import ReconnectPolicy
    from .transports.memory import MemoryTransport
    from .transports.message import MessageTransport, TransportCapabilities
    from .transports.stdio import StdioTransport

# Everything but the errors, Timeout and __version__ loads on first use: ``import
# mcp_async`` imports neither aiohttp nor the client, so a process that needs only a part
# (``python -m mcp_async.testing --stdio``, the demo server most tests spawn) pays only
# for that part. The subpackages the client brings stay attributes of the package, as
# they were when it imported them.
_LAZY = {
    "auth": ".",
    "client": ".",
    "features": ".",
    "policies": ".",
    "protocol": ".",
    "session": ".",
    "transports": ".",
    "AsyncMCPClient": ".client.async_client",
    "LOG_LEVELS": ".client.async_client",
    "BearerAuth": ".auth.bearer",
    "models": ".protocol",
    "CallToolResult": ".protocol.models",
    "InitializeResult": ".protocol.models",
    "Tool": ".protocol.models",
    "SessionState": ".session.portable",
    "SessionStateError": ".session.portable",
    "BytesResponse": ".transports.http.base",
    "HTTPRequest": ".transports.http.base",
    "HTTPResponse": ".transports.http.base",
    "HTTPTransport": ".transports.http.base",
    "Hook": ".transports.http.hooks",
    "middleware": ".transports.http.hooks",
    "request_hook": ".transports.http.hooks",
    "response_hook": ".transports.http.hooks",
    "ReconnectPolicy": ".transports.http.sse_streams",
    "AnyOutcome": ".features.batch",
    "BatchResult": ".features.batch",
    "Failure": ".features.batch",
    "Success": ".features.batch",
    "Outcome": ".features.batch",
    "OutcomeStream": ".features.batch",
    "ToolCall": ".features.batch",
    "gather_bounded": ".features.batch",
    "stream_bounded": ".features.batch",
    "GroupConnectError": ".group.errors",
    "GroupEvent": ".group.events",
    "ServerHealth": ".group.health",
    "ServerRecovery": ".group.health",
    "ServerUnavailableError": ".group.errors",
    "GroupPrompt": ".group.catalogue",
    "GroupResource": ".group.catalogue",
    "GroupResourceTemplate": ".group.catalogue",
    "GroupTool": ".group.catalogue",
    "MCPClientGroup": ".group.client_group",
    "UnknownServerError": ".group.errors",
    "UnknownToolError": ".group.errors",
    "MCPConfig": ".group.config",
    "ServerSpec": ".group.config",
    "load_mcp_config": ".group.config",
    "export_tools": ".features.schemas",
    "JWTAuth": ".auth.jwt",
    "accept_with_defaults": ".session.elicitation",
    "ElicitationRequest": ".session.handlers",
    "ElicitationResult": ".session.handlers",
    "SamplingMessage": ".session.handlers",
    "SamplingRequest": ".session.handlers",
    "SamplingResult": ".session.handlers",
    "ToolResultContent": ".session.handlers",
    "ToolUseContent": ".session.handlers",
    "MetricsHook": ".policies.metrics",
    "PrometheusMetrics": ".policies.metrics",
    "RequestSample": ".policies.metrics",
    "ClientPool": ".group.pool",
    "PoolClosedError": ".group.pool",
    "PoolExhaustedError": ".group.pool",
    "PoolStats": ".group.pool",
    "RateLimit": ".policies.ratelimit",
    "TokenBucket": ".policies.ratelimit",
    "RetryPolicy": ".policies.retry",
    "ASGITransport": ".transports.http.asgi",
    "MemoryTransport": ".transports.memory",
    "MessageTransport": ".transports.message",
    "TransportCapabilities": ".transports.message",
    "StdioTransport": ".transports.stdio",
    "Task": ".features.tasks",
    "TaskHandle": ".features.tasks",
}

_lazy_attribute = lazy_attributes(__name__, _LAZY)


def __getattr__(name: str) -> Any:
    # The old names of renamed errors (_exceptions._RENAMED; typed for checkers by the
    # TYPE_CHECKING imports above) are never cached, so every read of one warns.
    if name in _RENAMED:
        return _renamed(__name__, name)
    return _lazy_attribute(name)


__all__ = [
    "LOG_LEVELS",
    "ASGITransport",
    "AnyOutcome",
    "AsyncMCPClient",
    "AuthError",
    "BatchError",
    "BatchResult",
    "BearerAuth",
    "BodyTooLargeError",
    "BytesResponse",
    "CallToolResult",
    "ClientPool",
    "ClientStateError",
    "ConfigError",
    "ConnectError",
    "ConnectTimeout",
    "ConnectionLostError",
    "ContentTypeError",
    "EraError",
    "HeaderMismatchError",
    "ElicitationRequest",
    "ElicitationResult",
    "Failure",
    "GroupConnectError",
    "GroupEvent",
    "GroupPrompt",
    "GroupResource",
    "GroupResourceTemplate",
    "GroupTool",
    "HTTPRequest",
    "HTTPResponse",
    "HTTPTransport",
    "HTTPStatusError",
    "Hook",
    "InitializeResult",
    "InvalidJSONError",
    "JSONRPCError",
    "InputRequestError",
    "InputRequiredError",
    "InputRoundsExceededError",
    "MissingClientCapabilityError",
    "JWTAuth",
    "MCPClientError",
    "MCPClientGroup",
    "MCPConfig",
    "MemoryTransport",
    "MessageTransport",
    "MetricsHook",
    "Outcome",
    "OutcomeStream",
    "OutputValidationError",
    "PoolClosedError",
    "PoolExhaustedError",
    "PoolStats",
    "PrometheusMetrics",
    "ProtocolError",
    "RateLimit",
    "RateLimitedError",
    "ReadError",
    "ReadTimeout",
    "ReconnectPolicy",
    "RedirectError",
    "RequestSample",
    "RequestTimeoutError",
    "RetryError",
    "RetryPolicy",
    "SamplingMessage",
    "SamplingRequest",
    "SamplingResult",
    "ServerSpec",
    "ServerExitedError",
    "ServerHealth",
    "ServerRecovery",
    "ServerSpawnError",
    "ServerUnavailableError",
    "SessionExpiredError",
    "SessionState",
    "SessionStateError",
    "SubscriptionLostError",
    "StdioTransport",
    "Success",
    "SyncInEventLoopError",
    "Task",
    "TaskCancelledError",
    "TaskError",
    "TaskFailedError",
    "TaskHandle",
    "TaskNotSupportedError",
    "Timeout",
    "TokenBucket",
    "Tool",
    "ToolCall",
    "ToolError",
    "ToolResultContent",
    "ToolUseContent",
    "TransportCapabilities",
    "TransportDetectionError",
    "TransportError",
    "UnexpectedResponseError",
    "UnknownResultTypeError",
    "UnsupportedProtocolVersionError",
    "UnknownServerError",
    "UnknownToolError",
    "VersionMismatchError",
    "export_tools",
    "gather_bounded",
    "load_mcp_config",
    "middleware",
    "models",
    "request_hook",
    "response_hook",
    "stream_bounded",
    "__version__",
    "accept_with_defaults",
]
