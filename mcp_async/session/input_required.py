"""Driving MCP 2026-07-28 input rounds (MRTR): answer an ``InputRequiredResult``'s
requests through the client's handlers and send the original request again.

The same handlers answer server requests in the handshake era (elicitation,
sampling, roots), so a user writes each one once. Every round is a new request
with a new id that carries the original params, ``inputResponses`` and the exact
``requestState``; the call's timeout and progress callback span all rounds.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Final

from .._exceptions import InputRequestError, InputRoundsExceededError, ReadTimeout
from ..protocol.models import InputRequest, InputRequiredResult
from .dispatch import Dispatcher

__all__ = ["INPUT_REQUEST_METHODS", "answer_all", "drive_rounds", "next_params"]

#: The requests a server may embed in an InputRequiredResult.
INPUT_REQUEST_METHODS: Final = frozenset({"elicitation/create", "sampling/createMessage",
                                          "roots/list"})
_HINT: Final = {
    "elicitation/create": "elicitation_handler=",
    "sampling/createMessage": "sampling_handler=",
    "roots/list": "roots=",
}
#: Rounds that carry only state back off this long, doubling up to the cap.
_FIRST_PAUSE: Final = 0.05
_MAX_PAUSE: Final = 0.25

#: Sends one round: (params) -> the raw result.
SendRound = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]


async def _answer(dispatcher: Dispatcher, key: str, request: InputRequest) -> Any:
    method = request.method
    handler = dispatcher.request_handlers.get(method)
    if method not in INPUT_REQUEST_METHODS:
        raise InputRequestError(key, method, "it is not a request MCP lets a server embed")
    if handler is None:
        raise InputRequestError(
            key, method, f"the client has no handler for it (give it {_HINT[method]})"
        )
    try:
        return await handler(request.params)
    except Exception as exc:
        raise InputRequestError(key, method, f"{type(exc).__name__}: {exc}") from exc


async def answer_all(
    dispatcher: Dispatcher, requests: Mapping[str, InputRequest]
) -> dict[str, Any]:
    """Answer every input request concurrently, at most ``max_concurrent_handlers`` at
    once (a server may embed any number); the first failure cancels the rest."""
    if len(requests) == 1:
        ((key, request),) = requests.items()
        return {key: await _answer(dispatcher, key, request)}
    waiting = iter(requests.items())
    running: dict[asyncio.Task[Any], str] = {}
    answers: dict[str, Any] = {}

    def start_next() -> None:
        for key, request in waiting:
            running[asyncio.ensure_future(_answer(dispatcher, key, request))] = key
            return

    try:
        for _ in range(dispatcher.max_concurrent_handlers):
            start_next()
        while running:
            done, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
            error: BaseException | None = None
            for task in done:
                key = running.pop(task)
                failure = task.exception()  # (read for every task: none goes unretrieved)
                if failure is None:
                    answers[key] = task.result()
                    start_next()
                elif error is None:
                    error = failure
            if error is not None:
                raise error
    finally:
        for task in running:
            task.cancel()
    return {key: answers[key] for key in requests}


def _read_interim(result: Mapping[str, Any]) -> tuple[dict[str, InputRequest], str | None]:
    """The input requests and state of an ``InputRequiredResult``: read directly when
    well formed (the usual case), else through the model, which names what is wrong."""
    requests = result.get("inputRequests")
    state = result.get("requestState")
    if type(requests) is dict and (state is None or type(state) is str):
        read: dict[str, InputRequest] = {}
        for key, entry in requests.items():
            if type(entry) is not dict:
                break
            method = entry.get("method")
            request_params = entry.get("params", {})
            if type(method) is not str or type(request_params) is not dict:
                break
            read[key] = InputRequest(method, request_params)
        else:
            if read:
                return read, state
    interim = InputRequiredResult.from_dict(result)
    return interim.input_requests, interim.request_state


def next_params(
    params: Mapping[str, Any], responses: Mapping[str, Any] | None, state: str | None
) -> dict[str, Any]:
    """The original params with this round's answers and the server's state, as given."""
    out = dict(params)
    out.pop("inputResponses", None)
    out.pop("requestState", None)
    if responses:
        out["inputResponses"] = dict(responses)
    if state is not None:
        out["requestState"] = state
    return out


async def drive_rounds(
    method: str,
    params: Mapping[str, Any],
    first: Mapping[str, Any],
    send: SendRound,
    dispatcher: Dispatcher,
    *,
    max_rounds: int,
    deadline: float | None,
) -> dict[str, Any]:
    """Run input rounds until the server sends a result that is not input-required.

    ``deadline`` (loop time) bounds the whole exchange, handlers included.
    """
    loop = asyncio.get_running_loop()
    result: Mapping[str, Any] = first
    pause = _FIRST_PAUSE
    for _ in range(max_rounds):
        requests, state = _read_interim(result)
        try:
            async with asyncio.timeout_at(deadline):
                if requests:
                    responses: dict[str, Any] | None = await answer_all(dispatcher, requests)
                else:
                    responses = None
                    await asyncio.sleep(pause)
                    pause = min(pause * 2, _MAX_PAUSE)
        except TimeoutError:
            if deadline is not None and loop.time() >= deadline:
                raise ReadTimeout(
                    f"{method!r} ran out of its timeout while answering input requests"
                ) from None
            raise
        result = await send(next_params(params, responses, state))
        if result.get("resultType") != "input_required":
            return dict(result)
    raise InputRoundsExceededError(method, max_rounds)
