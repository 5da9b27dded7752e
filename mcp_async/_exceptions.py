"""The one exception tree of ``mcp_async``.

Every error the client raises is an :class:`MCPClientError`, except
``asyncio.CancelledError`` (which is never swallowed) and the ``TypeError`` /
``ValueError`` raised for caller data that cannot be serialised to JSON before
anything is sent. aiohttp and asyncio exceptions are translated at the
transport boundary and chained with ``from``.

::

    MCPClientError
    ├── ClientStateError              client used before entering, after closing, or entered twice
    │   └── SyncInEventLoopError      the blocking client (mcp_async.sync) used in an event loop
    ├── ConfigError (ValueError)      an argument the caller passed is unusable (URL, option)
    ├── TransportError                the request did not produce a response
    │   ├── ConnectError (OSError)    refused / reset / DNS / TLS before a response arrived
    │   │   └── ServerSpawnError      a stdio server command could not be started
    │   ├── ReadError                 the connection broke while reading a response
    │   │   └── ConnectionLostError   a legacy SSE stream ended with the request in flight
    │   ├── ServerExitedError         a stdio server exited: .exit_code, .stderr_tail
    │   ├── TransportDetectionError   neither Streamable HTTP nor legacy SSE works: .errors
    │   └── RequestTimeoutError (TimeoutError)
    │       ├── ConnectTimeout
    │       └── ReadTimeout
    ├── HTTPStatusError               a non-2xx answer: .status, .headers, .body_snippet
    │   ├── RateLimitedError          429 (or 503 with Retry-After): .retry_after seconds
    │   ├── RedirectError             a redirect not followed (other origin, 301/302/303): .location
    │   └── SessionExpiredError       404 on a request that carried an Mcp-Session-Id
    ├── AuthError                     authentication or authorization failed: .step
    ├── ProtocolError                 the server broke HTTP/JSON-RPC/MCP rules
    │   ├── InvalidJSONError          body is not JSON / not a JSON-RPC message
    │   ├── ContentTypeError          unexpected Content-Type (names it, shows a snippet)
    │   ├── BodyTooLargeError         body or SSE event over the configured limit
    │   ├── UnexpectedResponseError   response with the wrong id, stream ended early, ...
    │   ├── VersionMismatchError      server chose a protocol version we do not speak
    │   └── UnknownResultTypeError    a 2026 result's resultType is not one we know: .result_type
    ├── JSONRPCError                  the server answered a JSON-RPC error: .code .message .data
    │   ├── HeaderMismatchError       -32020: routing headers disagree with the body
    │   ├── MissingClientCapabilityError  -32021: .required_capabilities
    │   ├── UnsupportedProtocolVersionError  -32022: .supported, .requested
    │   └── UnknownToolError (LookupError)  no such tool, prompt or resource: the server said
    │                                 -32602 and its tool list agrees, or no server of a
    │                                 group lists it: .name, .kind, .server_error
    ├── EraError                      a method this protocol era does not have (names the era)
    ├── SubscriptionLostError         a listen stream dropped, or its consumer fell behind
    ├── InputRequiredError            a 2026 input round (MRTR) could not be completed
    │   ├── InputRequestError         a handler failed or is missing: .key, .method
    │   └── InputRoundsExceededError  the server kept asking past the round cap: .rounds
    ├── TaskError                     a task-augmented tool call did not end with a result: .task_id
    │   ├── TaskFailedError           the task failed (.error: the JSON-RPC error, if known)
    │   ├── TaskCancelledError        the task was cancelled (by us, a deadline or the server)
    │   └── TaskNotSupportedError     the server or the tool does not allow a task: .tool
    ├── ToolError                     a tool returned isError and the caller asked to raise
    ├── OutputValidationError         structuredContent does not match the tool's outputSchema
    ├── BatchError                    a fail_fast batch stopped: .index, .error, .done
    ├── UnknownServerError (KeyError)  group[name] names no connected server: .server
    │   └── ServerUnavailableError    a group's server is down (retried in the background): .error
    ├── GroupConnectError             require_all=True and servers failed: .failures
    └── RetryError                    retries ran out: .attempts, .last_error (also the __cause__)

Retry-exhaustion keeps the *type* of the last error: :class:`RetryError` is only
raised when a policy gives up without an underlying error to re-raise.

Renamed, with the old name kept for one release (reading it warns with a
``DeprecationWarning``; it is the same class, so ``except`` and ``isinstance`` work
either way): ``TimeoutError`` is :class:`RequestTimeoutError` (the old name shadowed
the builtin), ``SubscriptionLost`` is :class:`SubscriptionLostError`.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Mapping
from typing import Any

__all__ = [
    "AuthError",
    "BatchError",
    "BodyTooLargeError",
    "ClientStateError",
    "ConfigError",
    "ConnectError",
    "ConnectTimeout",
    "ConnectionLostError",
    "ContentTypeError",
    "EraError",
    "HeaderMismatchError",
    "HTTPStatusError",
    "InputRequestError",
    "InputRequiredError",
    "InputRoundsExceededError",
    "InvalidJSONError",
    "JSONRPCError",
    "MCPClientError",
    "MissingClientCapabilityError",
    "OutputValidationError",
    "ProtocolError",
    "RateLimitedError",
    "ReadError",
    "ReadTimeout",
    "RedirectError",
    "RequestTimeoutError",
    "RetryError",
    "ServerExitedError",
    "ServerSpawnError",
    "SessionExpiredError",
    "SubscriptionLostError",
    "SyncInEventLoopError",
    "TaskCancelledError",
    "TaskError",
    "TaskFailedError",
    "TaskNotSupportedError",
    "ToolError",
    "TransportDetectionError",
    "TransportError",
    "UnexpectedResponseError",
    "UnknownResultTypeError",
    "UnknownToolError",
    "UnsupportedProtocolVersionError",
    "VersionMismatchError",
]

#: How many characters of a response body an error keeps for display.
SNIPPET_CHARS = 200


def body_snippet(body: bytes | str | None, limit: int = SNIPPET_CHARS) -> str:
    """Return a short, printable prefix of ``body`` for error messages."""
    if body is None:
        return ""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    text = text.strip()
    return text if len(text) <= limit else text[:limit] + "…"


class MCPClientError(Exception):
    """Base class of every error raised by ``mcp_async``.

    ``attempts`` is set when the error is the last one of a retried request.
    """

    attempts: int | None = None


class ClientStateError(MCPClientError):
    """The client was used in a state that does not allow it (closed, not entered, re-entered)."""


class SyncInEventLoopError(ClientStateError):
    """The blocking :class:`mcp_async.sync.MCPClient` was called from a running event loop.

    Blocking there would freeze the loop (and deadlock if the loop is the client's own);
    inside ``async`` code use :class:`~mcp_async.AsyncMCPClient` and ``await`` its methods.
    """


class ConfigError(MCPClientError, ValueError):
    """An argument passed by the caller is unusable; the message names it."""


class TransportError(MCPClientError):
    """The request did not complete at the HTTP level (no usable response)."""


class ConnectError(TransportError, OSError):
    """The connection could not be made or was lost before a response arrived.

    ``sent`` tells whether the request may have reached the server; a request that
    was never sent is always safe to retry.
    """

    def __init__(self, message: str, *, sent: bool = False) -> None:
        super().__init__(message)
        self.sent = sent

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class ReadError(TransportError):
    """The connection broke while the response was being read."""


class ConnectionLostError(ReadError):
    """The connection to the server (a legacy SSE stream) was lost with the request in
    flight. Idempotent requests are re-sent once on a new connection; others are not."""


class ServerSpawnError(ConnectError):
    """A stdio server could not be started (command not found or not executable)."""

    def __init__(self, message: str, *, command: str) -> None:
        super().__init__(message, sent=False)
        self.command = command


class ServerExitedError(TransportError):
    """A stdio server process exited. ``exit_code`` is its status (negative: the signal
    that killed it) and ``stderr_tail`` its last lines of stderr."""

    def __init__(self, message: str, *, exit_code: int | None, stderr_tail: tuple[str, ...] = ()):
        tail = "\n".join(stderr_tail)
        super().__init__(f"{message}\n--- last lines of stderr ---\n{tail}" if tail else message)
        self.exit_code = exit_code
        self.stderr_tail = stderr_tail


class TransportDetectionError(TransportError):
    """Neither Streamable HTTP nor legacy HTTP+SSE worked for a URL; the message says
    what each attempt got, and ``attempts`` maps the transport to its error."""

    def __init__(self, url: str, errors: dict[str, BaseException]) -> None:
        detail = "; ".join(f"{kind}: {type(exc).__name__}: {exc}" for kind, exc in errors.items())
        super().__init__(f"no MCP transport works for {url} ({detail})")
        self.url = url
        self.errors = errors


class RequestTimeoutError(TransportError, TimeoutError):
    """A timeout expired. Also a builtin :class:`TimeoutError`, so ``except
    TimeoutError`` catches every timeout. (Formerly ``mcp_async.TimeoutError``; that
    name still works for one release, with a ``DeprecationWarning``.)"""


class ConnectTimeout(RequestTimeoutError):
    """Connecting to the server took longer than the connect timeout."""


class ReadTimeout(RequestTimeoutError):
    """The server did not answer (or finish answering) within the timeout."""


class HTTPStatusError(MCPClientError):
    """The server answered with a non-2xx status.

    Attributes: ``status``, ``headers`` (a read-only mapping), ``body_snippet`` (the first
    couple of hundred characters of the body) and ``url``.
    """

    def __init__(
        self,
        status: int,
        *,
        url: str = "",
        headers: Mapping[str, str] | None = None,
        body: bytes | str | None = None,
        message: str | None = None,
    ) -> None:
        self.status = status
        self.url = url
        self.headers: Mapping[str, str] = dict(headers) if headers is not None else {}
        self.body_snippet = body_snippet(body)
        text = message or (f"HTTP {status} from {url}" if url else f"HTTP {status}")
        if self.body_snippet and message is None:
            text = f"{text}: {self.body_snippet}"
        super().__init__(text)


class RedirectError(HTTPStatusError):
    """A redirect the client does not follow: anything but a 307/308 to the same origin,
    or too many of them. ``location`` is where it pointed."""

    def __init__(self, status: int, *, location: str | None, reason: str, **kwargs: Any):
        url = kwargs.get("url", "")
        super().__init__(
            status,
            message=f"HTTP {status} from {url} redirects to {location!r}: {reason}",
            **kwargs,
        )
        self.location = location


class RateLimitedError(HTTPStatusError):
    """The server refused the request for rate limiting (429, or 503 with ``Retry-After``).

    ``retry_after`` is the number of seconds the server asked to wait, or ``None``.
    """

    def __init__(self, status: int, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(status, **kwargs)
        self.retry_after = retry_after


class SessionExpiredError(HTTPStatusError):
    """HTTP 404 on a request that carried an ``Mcp-Session-Id``: the session is gone."""


class AuthError(MCPClientError):
    """Authentication or authorization failed.

    ``step`` names where: ``"token"``, ``"refresh"``, ``"discovery"``, ``"registration"``,
    ``"authorization"``, ``"jwt"``, ``"storage"`` or ``"unauthorized"`` (the server refused
    the credentials).
    ``status`` is the HTTP status that triggered it, when there was one.
    """

    def __init__(
        self,
        message: str,
        *,
        step: str = "unauthorized",
        status: int | None = None,
        www_authenticate: str | None = None,
    ) -> None:
        super().__init__(message)
        self.step = step
        self.status = status
        #: The ``WWW-Authenticate`` header of the refusing response, if any.
        self.www_authenticate = www_authenticate


class ProtocolError(MCPClientError):
    """The server broke the rules of HTTP, JSON-RPC or MCP."""


class InvalidJSONError(ProtocolError):
    """A body or SSE event that should hold JSON(-RPC) does not."""


class ContentTypeError(ProtocolError):
    """A response had a Content-Type the client cannot handle.

    ``content_type`` names it and ``body_snippet`` shows the start of the body.
    """

    def __init__(self, content_type: str, body: bytes | str | None = None, *, url: str = ""):
        self.content_type = content_type
        self.body_snippet = body_snippet(body)
        where = f" from {url}" if url else ""
        shown = content_type or "no Content-Type"
        message = f"expected JSON but got {shown!r}{where}"
        if self.body_snippet:
            message += f": {self.body_snippet}"
        super().__init__(message)


class BodyTooLargeError(ProtocolError):
    """A response body or a single SSE event exceeded the configured size limit."""

    def __init__(self, limit: int, what: str = "response body") -> None:
        super().__init__(f"{what} exceeds the limit of {limit} bytes")
        self.limit = limit


class UnexpectedResponseError(ProtocolError):
    """A well-formed message that makes no sense here (wrong id, stream ended early, ...)."""


class VersionMismatchError(ProtocolError):
    """The server chose a protocol version this client does not support."""

    def __init__(self, version: object, supported: tuple[str, ...]) -> None:
        super().__init__(
            f"server chose protocol version {version!r}; supported: {', '.join(supported)}"
        )
        self.version = version
        self.supported = supported


class JSONRPCError(MCPClientError):
    """The server answered a request with a JSON-RPC error object.

    ``http_status`` is set when the error came in the body of a non-2xx HTTP response.
    """

    def __init__(
        self, code: int, message: str, data: Any = None, *, http_status: int | None = None
    ) -> None:
        super().__init__(f"JSON-RPC error {code}: {message}")
        self.code = code
        self.message = message
        self.data = data
        self.http_status = http_status


class UnknownToolError(JSONRPCError, LookupError):
    """There is no tool (or prompt, resource) by that name.

    Raised by a client when the server answered a ``tools/call`` with a JSON-RPC error
    ``-32602`` and the server's tool list agrees that the tool does not exist; then
    ``server_error`` is that :class:`JSONRPCError` and ``code``, ``message``, ``data``
    and ``http_status`` are its. Raised by a group when no server lists the name; then
    ``server_error`` is ``None`` and ``code`` is ``-32602``. ``name`` is the name asked
    for, ``kind`` what was looked up (``"tool"``, ``"prompt"`` or ``"resource"``). A
    server that reports an unknown tool as an ``isError`` result gets a result back,
    not this error. Being a :class:`JSONRPCError` (and a ``LookupError``), it is caught
    where either was caught before.
    """

    def __init__(
        self,
        name: str,
        *,
        kind: str = "tool",
        hint: str = "",
        server_error: JSONRPCError | None = None,
    ) -> None:
        if server_error is None:
            super().__init__(-32602, f"no server of the group has the {kind} {name!r}{hint}")
            text = self.message
        else:
            super().__init__(
                server_error.code, server_error.message, server_error.data,
                http_status=server_error.http_status,
            )
            text = f"the server has no {kind} {name!r}{hint} (it answered: {server_error})"
        self.args = (text,)
        self.name = name
        self.kind = kind
        self.server_error = server_error


class UnknownResultTypeError(ProtocolError):
    """A 2026-07-28 result carries a ``resultType`` this client does not handle."""

    def __init__(self, method: str, result_type: object) -> None:
        super().__init__(
            f"the result of {method!r} has resultType {result_type!r}, which this client does "
            "not know (known: 'complete', 'input_required'; an extension may claim others "
            "with result_types=)"
        )
        self.method = method
        self.result_type = result_type


class HeaderMismatchError(JSONRPCError):
    """-32020: the server found the routing headers (``Mcp-Name``, ``Mcp-Param-*``,
    ``MCP-Protocol-Version``) disagreeing with the request body."""


class MissingClientCapabilityError(JSONRPCError):
    """-32021: the request needs client capabilities it did not declare.

    ``required_capabilities`` is the server's ``data.requiredCapabilities`` (a dict).
    """

    @property
    def required_capabilities(self) -> dict[str, Any]:
        data = self.data if isinstance(self.data, Mapping) else {}
        required = data.get("requiredCapabilities")
        return dict(required) if isinstance(required, Mapping) else {}


class UnsupportedProtocolVersionError(JSONRPCError):
    """-32022: the server does not speak the requested protocol version.

    ``supported`` lists the versions it does, ``requested`` echoes what was asked.
    """

    @property
    def supported(self) -> list[str]:
        data = self.data if isinstance(self.data, Mapping) else {}
        versions = data.get("supported")
        if not isinstance(versions, list):
            return []
        return [v for v in versions if isinstance(v, str)]

    @property
    def requested(self) -> str | None:
        data = self.data if isinstance(self.data, Mapping) else {}
        value = data.get("requested")
        return value if isinstance(value, str) else None


class EraError(MCPClientError):
    """The method does not exist in the negotiated protocol era.

    ``era`` is ``"2026-07-28"`` (or the handshake version) and the message says what to
    use instead.
    """

    def __init__(self, method: str, era: str, instead: str) -> None:
        super().__init__(f"{method} does not exist in MCP {era}; {instead}")
        self.method = method
        self.era = era


class SubscriptionLostError(MCPClientError):
    """A listen (``client.listen()``) ended abruptly: its stream dropped (without
    ``reconnect=True``) or the consumer fell too far behind. Events may have been
    missed; refetch what you track. (Formerly ``SubscriptionLost``; that name still
    works for one release, with a ``DeprecationWarning``.)"""


class InputRequiredError(MCPClientError):
    """A 2026-07-28 ``InputRequiredResult`` round could not be completed."""


class InputRequestError(InputRequiredError):
    """Answering the input request ``key`` (a ``method`` such as ``elicitation/create``)
    failed: its handler raised (the ``__cause__``) or the client has no handler for it."""

    def __init__(self, key: str, method: str, problem: str) -> None:
        super().__init__(f"input request {key!r} ({method}) could not be answered: {problem}")
        self.key = key
        self.method = method


class InputRoundsExceededError(InputRequiredError):
    """The server still asked for input after ``rounds`` rounds (the client's cap)."""

    def __init__(self, method: str, rounds: int) -> None:
        super().__init__(
            f"{method!r} still required input after {rounds} rounds; raise max_input_rounds "
            "or drive it by hand with allow_input_required=True"
        )
        self.method = method
        self.rounds = rounds


class TaskError(MCPClientError):
    """A task (MCP tasks: 2025-11-25 experimental, or the 2026 extension) did not end
    with a result. ``task_id`` names it (``None`` before one was created); ``task`` is
    its last known :class:`~mcp_async.tasks.Task`, if any."""

    def __init__(self, message: str, task_id: str | None = None, task: Any = None) -> None:
        super().__init__(message)
        self.task_id = task_id
        self.task = task


class TaskFailedError(TaskError):
    """The task ended ``failed``. ``error`` is the JSON-RPC error it failed with
    (a :class:`JSONRPCError`, also the ``__cause__``), when the server said."""

    def __init__(
        self, message: str, task_id: str | None = None, task: Any = None,
        error: JSONRPCError | None = None,
    ) -> None:
        super().__init__(message, task_id, task)
        self.error = error


class TaskCancelledError(TaskError):
    """The task ended ``cancelled``: by ``TaskHandle.cancel()``, a client-side deadline
    (then it also carries the :class:`ReadTimeout` as ``__cause__``) or the server."""


class TaskNotSupportedError(TaskError):
    """A task was asked for where none is allowed: the server does not offer task-
    augmented ``tools/call``, or the tool ``tool`` forbids tasks (``execution.taskSupport``
    absent or ``"forbidden"``)."""

    def __init__(self, message: str, tool: str | None = None) -> None:
        super().__init__(message)
        self.tool = tool


class ToolError(MCPClientError):
    """A tool reported failure (``isError: true``) and the caller asked to raise it.

    ``result`` is the full :class:`~mcp_async.models.CallToolResult`.
    """

    def __init__(self, name: str, result: Any) -> None:
        text = getattr(result, "text", "") or "tool reported an error"
        super().__init__(f"tool {name!r} failed: {body_snippet(text)}")
        self.name = name
        self.result = result


class OutputValidationError(MCPClientError):
    """A tool's ``structuredContent`` does not match its declared ``outputSchema``."""

    def __init__(self, name: str, problem: str) -> None:
        super().__init__(f"tool {name!r} returned structuredContent that {problem}")
        self.name = name
        self.problem = problem


class RetryError(MCPClientError):
    """A retry policy gave up. ``attempts`` counts tries; ``last_error`` is the final failure."""

    def __init__(self, message: str, *, attempts: int, last_error: BaseException | None = None):
        super().__init__(message)
        self.attempts = attempts
        self.last_error = last_error


class BatchError(MCPClientError):
    """A ``fail_fast`` batch stopped at its first failure.

    ``index`` is the failing item's position in the input and ``error`` its exception
    (also the ``__cause__``); ``done`` counts the items that had finished.
    """

    def __init__(self, index: int, error: BaseException, *, done: int) -> None:
        super().__init__(f"batch item {index} failed: {type(error).__name__}: {error}")
        self.index = index
        self.error = error
        self.done = done


#: Names kept for one release after a rename: old name -> new name. Reading an old
#: name (from this module or from ``mcp_async``) warns and returns the same class.
_RENAMED = {
    "TimeoutError": "RequestTimeoutError",
    "SubscriptionLost": "SubscriptionLostError",
}


def _renamed(module: str, name: str) -> type[MCPClientError]:
    """The class once called ``name``, with a :class:`DeprecationWarning` that points
    at the code reading ``module.name`` (called by that module's ``__getattr__``)."""
    new = _RENAMED[name]
    cls: type[MCPClientError] = globals()[new]
    # ``from mcp_async import SubscriptionLost`` probes the name with hasattr() in
    # importlib before reading it: only the read warns, so the import warns once.
    if sys._getframe(2).f_code.co_filename.startswith("<frozen importlib"):
        return cls
    warnings.warn(
        f"{module}.{name} is deprecated and will be removed in the next release; use "
        f"{module}.{new} (the same class)",
        DeprecationWarning,
        stacklevel=3,
    )
    return cls


def __getattr__(name: str) -> Any:
    if name in _RENAMED:
        return _renamed(__name__, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
