"""mcp_async: an asyncio-first Model Context Protocol client on aiohttp.

The public API is flat::

    from mcp_async import AsyncMCPClient, Timeout, Hook, MCPClientError
"""

from . import models
from ._batch import (
    BatchResult,
    Outcome,
    OutcomeStream,
    ToolCall,
    gather_bounded,
    stream_bounded,
)
from ._client import LOG_LEVELS, AsyncMCPClient
from ._config import Timeout
from ._exceptions import (
    AuthError,
    BatchError,
    BodyTooLargeError,
    ClientStateError,
    ConfigError,
    ConnectError,
    ConnectTimeout,
    ContentTypeError,
    HTTPStatusError,
    InvalidJSONError,
    JSONRPCError,
    MCPClientError,
    OutputValidationError,
    ProtocolError,
    RateLimitedError,
    ReadError,
    ReadTimeout,
    RetryError,
    SessionExpiredError,
    TimeoutError,
    ToolError,
    TransportError,
    UnexpectedResponseError,
    VersionMismatchError,
)
from ._hooks import Hook, middleware, request_hook, response_hook
from ._version import __version__
from .auth.bearer import BearerAuth
from .auth.jwt import JWTAuth
from .metrics import MetricsHook, PrometheusMetrics, RequestSample
from .models import CallToolResult, InitializeResult, Tool
from .ratelimit import RateLimit, TokenBucket
from .retry import RetryPolicy
from .transports.base import BytesResponse, HTTPRequest, HTTPResponse

__all__ = [
    "LOG_LEVELS",
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
    "ContentTypeError",
    "HTTPRequest",
    "HTTPResponse",
    "HTTPStatusError",
    "Hook",
    "InitializeResult",
    "InvalidJSONError",
    "JSONRPCError",
    "JWTAuth",
    "MCPClientError",
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
    "RequestSample",
    "RetryError",
    "RetryPolicy",
    "SessionExpiredError",
    "Timeout",
    "TimeoutError",
    "TokenBucket",
    "Tool",
    "ToolCall",
    "ToolError",
    "TransportError",
    "UnexpectedResponseError",
    "VersionMismatchError",
    "gather_bounded",
    "middleware",
    "models",
    "request_hook",
    "response_hook",
    "stream_bounded",
    "__version__",
]
