"""mcp_async: an asyncio-first Model Context Protocol client on aiohttp.

The public API is flat::

    from mcp_async import AsyncMCPClient, Timeout, Hook, MCPClientError
"""

from typing import TYPE_CHECKING

from . import models
from ._client import LOG_LEVELS, AsyncMCPClient
from ._config import Timeout
from ._exceptions import (
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
    RetryError,
    ServerExitedError,
    ServerSpawnError,
    SessionExpiredError,
    SyncInEventLoopError,
    TimeoutError,
    ToolError,
    TransportDetectionError,
    TransportError,
    UnexpectedResponseError,
    UnknownResultTypeError,
    UnsupportedProtocolVersionError,
    VersionMismatchError,
)
from ._hooks import Hook, middleware, request_hook, response_hook
from ._lazy import lazy_attributes
from ._version import __version__
from .auth.bearer import BearerAuth
from .models import CallToolResult, InitializeResult, Tool
from .transports.base import BytesResponse, HTTPRequest, HTTPResponse
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
    from ._group import (
        GroupConnectError,
        GroupPrompt,
        GroupResource,
        GroupResourceTemplate,
        GroupTool,
        MCPClientGroup,
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
    from .ratelimit import RateLimit, TokenBucket
    from .retry import RetryPolicy
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
    "RateLimit": ".ratelimit",
    "TokenBucket": ".ratelimit",
    "RetryPolicy": ".retry",
    "MemoryTransport": ".transports.memory",
    "MessageTransport": ".transports.message",
    "StdioTransport": ".transports.stdio",
}

__getattr__ = lazy_attributes(__name__, _LAZY)

__all__ = [
    "LOG_LEVELS",
    "AnyOutcome",
    "AsyncMCPClient",
    "AuthError",
    "BatchError",
    "BatchResult",
    "BearerAuth",
    "BodyTooLargeError",
    "BytesResponse",
    "CallToolResult",
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
    "GroupPrompt",
    "GroupResource",
    "GroupResourceTemplate",
    "GroupTool",
    "HTTPRequest",
    "HTTPResponse",
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
    "PrometheusMetrics",
    "ProtocolError",
    "RateLimit",
    "RateLimitedError",
    "ReadError",
    "ReadTimeout",
    "ReconnectPolicy",
    "RedirectError",
    "RequestSample",
    "RetryError",
    "RetryPolicy",
    "SamplingMessage",
    "SamplingRequest",
    "SamplingResult",
    "ServerSpec",
    "ServerExitedError",
    "ServerSpawnError",
    "SessionExpiredError",
    "StdioTransport",
    "Success",
    "SyncInEventLoopError",
    "Timeout",
    "TimeoutError",
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
