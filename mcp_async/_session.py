"""One MCP session over Streamable HTTP: handshake, session id, exchanges, replies.

The session sends every message through the client's hook pipeline, reads JSON and
SSE replies, hands server notifications and requests to the :class:`Dispatcher`
and re-initializes transparently when the server forgets the session (HTTP 404).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

from ._config import Timeout
from ._dispatch import Dispatcher, ProgressCallback
from ._exceptions import (
    ClientStateError,
    ContentTypeError,
    MCPClientError,
    SessionExpiredError,
    UnexpectedResponseError,
)
from ._status import raise_for_status
from .models import InitializeResult
from .protocol import jsonrpc, mcp
from .protocol.jsonrpc import ErrorResponse, Message, Notification, Request, RequestId, Response
from .protocol.sse import SSEDecoder
from .transports.base import Handler, HTTPRequest, HTTPResponse

__all__ = ["MCPSession"]

logger = logging.getLogger("mcp_async")

_DRAIN_SECONDS = 1.0
_NOTIFY_TIMEOUT = Timeout(total=10.0, connect=10.0)


class MCPSession:
    """The MCP state of one client: negotiated version, session id and in-flight bookkeeping."""

    def __init__(
        self,
        url: str,
        send: Handler,
        *,
        client_info: Mapping[str, Any],
        capabilities: Mapping[str, Any],
        headers: Mapping[str, str],
        dispatcher: Dispatcher,
        max_event_size: int | None,
    ) -> None:
        self.url = url
        self._send = send
        self._client_info = dict(client_info)
        self._capabilities = dict(capabilities)
        self._headers = dict(headers)
        self.dispatcher = dispatcher
        self._max_event_size = max_event_size
        self._ids = jsonrpc.IdAllocator()
        self.session_id: str | None = None
        self.protocol_version: str | None = None
        self.result: InitializeResult | None = None
        self._init_task: asyncio.Task[InitializeResult] | None = None
        self._base_headers: dict[str, str] = {}
        self._background: set[asyncio.Task[None]] = set()
        self._rebuild_headers()

    # -- headers -----------------------------------------------------------------------
    def _rebuild_headers(self) -> None:
        headers = dict(self._headers)
        headers.update(mcp.request_headers(self.session_id, self.protocol_version))
        headers["Content-Type"] = mcp.JSON_CONTENT_TYPE
        self._base_headers = headers

    def _request_headers(self, extra: Mapping[str, str] | None) -> dict[str, str]:
        headers = self._base_headers.copy()
        if extra:
            headers.update(extra)
        return headers

    # -- handshake ---------------------------------------------------------------------
    async def initialize(self) -> InitializeResult:
        """Run the handshake once; concurrent callers share it (single flight)."""
        if self.result is not None:
            return self.result
        task = self._init_task
        if task is None or (task.done() and (task.cancelled() or task.exception() is not None)):
            task = self._init_task = asyncio.ensure_future(self._handshake())
        return await asyncio.shield(task)

    async def _handshake(self) -> InitializeResult:
        self.session_id = None
        self.protocol_version = None
        self.result = None
        self._rebuild_headers()
        params = mcp.initialize_params(self._client_info, self._capabilities)
        raw, response_headers = await self._exchange("initialize", params, capture=True)
        version = mcp.accept_server_version(raw.get("protocolVersion"))
        result = InitializeResult.from_dict(raw)
        session_id = response_headers.get(mcp.SESSION_HEADER)
        self.session_id = session_id or None
        self.protocol_version = version
        self._rebuild_headers()
        await self.notify("notifications/initialized", None)
        self.result = result
        return result

    async def _reinitialize(self, expired: str | None) -> None:
        """Start a new session after ``expired`` was rejected (once, whoever asks)."""
        if self.session_id != expired and self.result is not None:
            return  # another task already replaced it
        task = self._init_task
        if task is None or task.done():
            logger.info("MCP session %s expired; initializing a new one", expired)
            self.result = None
            task = self._init_task = asyncio.ensure_future(self._handshake())
        await asyncio.shield(task)

    # -- requests ----------------------------------------------------------------------
    async def request(
        self,
        method: str,
        params: dict[str, Any] | None,
        *,
        timeout: Timeout | None = None,
        headers: Mapping[str, str] | None = None,
        progress: ProgressCallback | None = None,
        idempotent: bool = False,
    ) -> dict[str, Any]:
        """Send one request (after the handshake) and return its result object."""
        if self.result is None:
            await self.initialize()
        sent_session = self.session_id
        try:
            result, _ = await self._exchange(
                method, params, timeout=timeout, headers=headers, progress=progress,
                idempotent=idempotent,
            )
        except SessionExpiredError:
            if sent_session is None:
                raise
            await self._reinitialize(sent_session)
            result, _ = await self._exchange(
                method, params, timeout=timeout, headers=headers, progress=progress,
                idempotent=idempotent,
            )
        return result

    async def _exchange(
        self,
        method: str,
        params: dict[str, Any] | None,
        *,
        timeout: Timeout | None = None,
        headers: Mapping[str, str] | None = None,
        progress: ProgressCallback | None = None,
        idempotent: bool = False,
        capture: bool = False,
    ) -> tuple[dict[str, Any], Mapping[str, str]]:
        request_id = self._ids.next()
        if progress is not None:
            params = dict(params or {})
            meta = dict(params.get("_meta") or {})
            meta["progressToken"] = request_id
            params["_meta"] = meta
            self.dispatcher.add_progress(request_id, progress)
        body = jsonrpc.encode_request(request_id, method, params)
        request = HTTPRequest(
            "POST",
            self.url,
            headers=self._request_headers(headers),
            body=body,
            timeout=timeout,
            extensions={"mcp_method": method, "idempotent": idempotent},
        )
        try:
            response = await self._send(request)
            try:
                if not response.ok:
                    await raise_for_status(request, response, jsonrpc_body=True)
                if response.status == 202:
                    raise UnexpectedResponseError(
                        f"server answered {method!r} with 202 Accepted and no response"
                    )
                result = await self._read_reply(response, request_id, method)
            finally:
                response.release()
        except (asyncio.CancelledError, TimeoutError):
            if method != "initialize":
                self._cancel_remote(request_id, "request timed out or was cancelled")
            raise
        finally:
            if progress is not None:
                self.dispatcher.remove_progress(request_id)
        return result, (response.headers if capture else {})

    async def _read_reply(
        self, response: HTTPResponse, request_id: RequestId, method: str
    ) -> dict[str, Any]:
        content_type = response.content_type
        if content_type == mcp.JSON_CONTENT_TYPE:
            body = await response.read()
            found = await self._route(jsonrpc.decode(body), request_id)
            if found is None:
                raise UnexpectedResponseError(
                    f"JSON reply to {method!r} (id {request_id!r}) holds no response with that id"
                )
            return _unwrap(found)
        if content_type == mcp.SSE_CONTENT_TYPE:
            return await self._read_sse(response, request_id, method)
        raise ContentTypeError(content_type, await _snippet(response), url=response.url)

    async def _read_sse(
        self, response: HTTPResponse, request_id: RequestId, method: str
    ) -> dict[str, Any]:
        decoder = SSEDecoder(self._max_event_size)
        found: Response | ErrorResponse | None = None
        chunks = response.iter_chunks()
        async for chunk in chunks:
            for event in decoder.feed(chunk):
                if not event.data or event.event != "message":
                    continue
                reply = await self._route(jsonrpc.decode(event.data), request_id)
                if reply is not None:
                    found = reply
            if found is not None:
                break
        if found is None:
            raise UnexpectedResponseError(
                f"SSE stream for {method!r} (id {request_id!r}) ended before its response"
            )
        # Read to the end so the connection goes back to the pool; a server that keeps
        # the stream open after the response loses the connection instead.
        if not getattr(response, "at_eof", True):
            try:
                async with asyncio.timeout(_DRAIN_SECONDS):
                    async for _ in chunks:
                        pass
            except (TimeoutError, MCPClientError):
                response.close()
        return _unwrap(found)

    async def _route(
        self, decoded: Message | list[Message], request_id: RequestId
    ) -> Response | ErrorResponse | None:
        """Dispatch everything that is not our response; return our response if present."""
        messages = decoded if isinstance(decoded, list) else (decoded,)
        found: Response | ErrorResponse | None = None
        for message in messages:
            if isinstance(message, Response | ErrorResponse):
                if message.id == request_id or (
                    isinstance(message, ErrorResponse) and message.id is None
                ):
                    found = message
                else:
                    raise UnexpectedResponseError(
                        f"response id {message.id!r} does not match request id {request_id!r}"
                    )
            elif isinstance(message, Notification):
                await self.dispatcher.notification(message)
            else:
                self._spawn(self._answer(message))
        return found

    async def _answer(self, message: Request) -> None:
        reply = await self.dispatcher.request(message)
        try:
            await self._post(reply)
        except MCPClientError as exc:
            logger.warning("could not deliver the answer to server request %s: %s",
                           message.method, exc)

    # -- notifications and answers -------------------------------------------------------
    async def notify(self, method: str, params: dict[str, Any] | None) -> None:
        """Send a notification; the server answers 202 with no body."""
        await self._post(Notification(method, params))

    async def _post(self, message: Notification | Response | ErrorResponse) -> None:
        request = HTTPRequest(
            "POST",
            self.url,
            headers=self._base_headers.copy(),
            body=jsonrpc.encode(message),
            timeout=_NOTIFY_TIMEOUT,
            extensions={"mcp_method": getattr(message, "method", None), "idempotent": True},
        )
        response = await self._send(request)
        try:
            if not response.ok:
                await raise_for_status(request, response, jsonrpc_body=True)
        finally:
            response.release()

    def _cancel_remote(self, request_id: RequestId, reason: str) -> None:
        params = {"requestId": request_id, "reason": reason}
        self._spawn(self._quiet(self.notify("notifications/cancelled", params)))

    @staticmethod
    async def _quiet(coro: Any) -> None:
        try:
            await coro
        except MCPClientError as exc:
            logger.debug("best-effort notification failed: %s", exc)

    def _spawn(self, coro: Any) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # -- shutdown ----------------------------------------------------------------------
    async def close(self) -> None:
        """Finish background work and end the session on the server (DELETE; 405 is fine)."""
        if self._init_task is not None and not self._init_task.done():
            self._init_task.cancel()
        if self._background:
            await asyncio.wait(list(self._background), timeout=5)
            for task in self._background:
                task.cancel()
        session_id = self.session_id
        self.result = None
        if session_id is None:
            return
        request = HTTPRequest(
            "DELETE", self.url, headers=self._base_headers.copy(), timeout=_NOTIFY_TIMEOUT,
            extensions={"mcp_method": None, "idempotent": True},
        )
        try:
            response = await self._send(request)
            response.release()
        except MCPClientError as exc:
            logger.debug("DELETE of MCP session failed: %s", exc)
        self.session_id = None

    def require_result(self) -> InitializeResult:
        """The handshake result, or a clear error if it has not happened yet."""
        if self.result is None:
            raise ClientStateError(
                "the MCP handshake has not run yet: await client.initialize() first "
                "(or make any MCP call)"
            )
        return self.result


def _unwrap(message: Response | ErrorResponse) -> dict[str, Any]:
    if isinstance(message, ErrorResponse):
        raise jsonrpc.error_to_exception(message)
    return message.result


async def _snippet(response: HTTPResponse) -> bytes:
    try:
        return (await response.read())[:512]
    except MCPClientError:
        return b""

