"""mcp_async: an asyncio-first Model Context Protocol client on aiohttp.

The public API is flat::

    from mcp_async import AsyncMCPClient, Timeout, Hook, MCPClientError
"""

from typing import TYPE_CHECKING, Any

from . import models
from ._client import LOG_LEVELS, AsyncMCPClient
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
from ._hooks import Hook, middleware, request_hook, response_hook
from ._lazy import lazy_attributes
from ._version import __version__
from .auth.bearer import BearerAuth
from .models import CallToolResult, InitializeResult, Tool
from .session.portable import SessionState, SessionStateError
from .transports.base import BytesResponse, HTTPRequest, HTTPResponse, HTTPTransport
from .transports.sse_streams import ReconnectPolicy

if TYPE_CHECKING:
    from ._batch import (
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
    from ._exceptions import RequestTimeoutError as TimeoutError  # noqa: F401
    from ._exceptions import SubscriptionLostError as SubscriptionLost  # noqa: F401
    from ._group import (
        GroupConnectError,
        GroupEvent,
        GroupPrompt,
        GroupResource,
        GroupResourceTemplate,
        GroupTool,
        MCPClientGroup,
        ServerHealth,
        ServerRecovery,
        ServerUnavailableError,
        UnknownServerError,
        UnknownToolError,
    )
    from ._mcp_config import MCPConfig, ServerSpec, load_mcp_config
    from ._schemas import export_tools
    from .auth.jwt import JWTAuth
    from .elicitation import accept_with_defaults
    from .handlers import (
        ElicitationRequest,
        ElicitationResult,
        SamplingMessage,
        SamplingRequest,
        SamplingResult,
        ToolResultContent,
        ToolUseContent,
    )
    from .metrics import MetricsHook, PrometheusMetrics, RequestSample
    from .pool import ClientPool, PoolClosedError, PoolExhaustedError, PoolStats
    from .ratelimit import RateLimit, TokenBucket
    from .retry import RetryPolicy
    from .tasks import Task, TaskHandle
    from .transports.asgi import ASGITransport
    from .transports.memory import MemoryTransport
    from .transports.message import MessageTransport
    from .transports.stdio import StdioTransport

# Policies, fan-out, JWT and server-request handlers load on first use, which keeps
# ``import mcp_async`` close to the cost of importing aiohttp.
_LAZY = {
    "AnyOutcome": "._batch",
    "BatchResult": "._batch",
    "Failure": "._batch",
    "Success": "._batch",
    "Outcome": "._batch",
    "OutcomeStream": "._batch",
    "ToolCall": "._batch",
    "gather_bounded": "._batch",
    "stream_bounded": "._batch",
    "GroupConnectError": "._group",
    "GroupEvent": "._group",
    "ServerHealth": "._group",
    "ServerRecovery": "._group",
    "ServerUnavailableError": "._group",
    "GroupPrompt": "._group",
    "GroupResource": "._group",
    "GroupResourceTemplate": "._group",
    "GroupTool": "._group",
    "MCPClientGroup": "._group",
    "UnknownServerError": "._group",
    "UnknownToolError": "._group",
    "MCPConfig": "._mcp_config",
    "ServerSpec": "._mcp_config",
    "load_mcp_config": "._mcp_config",
    "export_tools": "._schemas",
    "JWTAuth": ".auth.jwt",
    "accept_with_defaults": ".elicitation",
    "ElicitationRequest": ".handlers",
    "ElicitationResult": ".handlers",
    "SamplingMessage": ".handlers",
    "SamplingRequest": ".handlers",
    "SamplingResult": ".handlers",
    "ToolResultContent": ".handlers",
    "ToolUseContent": ".handlers",
    "MetricsHook": ".metrics",
    "PrometheusMetrics": ".metrics",
    "RequestSample": ".metrics",
    "ClientPool": ".pool",
    "PoolClosedError": ".pool",
    "PoolExhaustedError": ".pool",
    "PoolStats": ".pool",
    "RateLimit": ".ratelimit",
    "TokenBucket": ".ratelimit",
    "RetryPolicy": ".retry",
    "ASGITransport": ".transports.asgi",
    "MemoryTransport": ".transports.memory",
    "MessageTransport": ".transports.message",
    "StdioTransport": ".transports.stdio",
    "Task": ".tasks",
    "TaskHandle": ".tasks",
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
