"""Answer a server's requests: sampling (``sampling/createMessage``) and elicitation.

Run it with ``python examples/sampling_elicitation.py``. The server is
``mcp_async.testing.demo_server(two_way=True)`` on 127.0.0.1, inside this process. Its
``sample`` tool asks the client's model for a reply, and its ``confirm`` tool asks the
user a yes/no question; both requests arrive while the tool call is running.

A client declares the ``sampling`` and ``elicitation`` capabilities only for the handlers
it is given. Here the "model" and the "user" are stand-in functions.
"""

from __future__ import annotations

import asyncio

from mcp_async import (
    AsyncMCPClient,
    ElicitationRequest,
    ElicitationResult,
    SamplingRequest,
    SamplingResult,
)
from mcp_async.testing import demo_server


async def sample(request: SamplingRequest) -> SamplingResult:
    """Stand-in for a call to your LLM: reply with the prompt, shouted."""
    prompt = "\n".join(message.text for message in request.messages)
    print(f"  [sampling] the server asks the model (max_tokens={request.max_tokens}): {prompt!r}")
    return SamplingResult(prompt.upper(), model="shouting-model-1")


async def ask_user(request: ElicitationRequest) -> ElicitationResult:
    """Stand-in for a form shown to the user."""
    if request.mode == "url":
        # URL mode asks to open a web page; never open one without the user's consent.
        return ElicitationResult.decline()
    fields = list(request.properties)
    print(f"  [elicitation] the server asks: {request.message!r}, fields {fields}")
    return ElicitationResult.accept({"confirm": True})


async def main() -> None:
    # reply="sse": the server sends its requests on the tool call's own SSE reply stream.
    async with demo_server(two_way=True, reply="sse") as server, AsyncMCPClient(
        server.url, sampling_handler=sample, elicitation_handler=ask_user,
    ) as client:
        result = await client.call_tool("sample", {"prompt": "hello there"})
        print("sample tool returned:", result.text)

        result = await client.call_tool("confirm", {"question": "Delete the draft?"})
        print("confirm tool returned:", result.structured_content)


if __name__ == "__main__":
    asyncio.run(main())
