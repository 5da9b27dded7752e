"""OAuth 2.1 sign-in against a local authorization server, with no browser.

Run it with ``python examples/oauth_local.py``; it needs nothing but ``mcp_async``.
Everything runs inside this process on 127.0.0.1:

* an MCP server (``mcp_async.testing.demo_server()``);
* a protected front for it that refuses requests without a valid access token, answering
  ``401`` with ``WWW-Authenticate: Bearer resource_metadata=...`` as the MCP authorization
  spec says, and otherwise passes them on;
* a minimal authorization server on the same origin: metadata, dynamic client
  registration, ``/authorize`` that approves at once, and ``/token`` checking PKCE.

The client side is all library: ``OAuth`` discovers the authorization server, registers,
runs the authorization code flow with PKCE, and retries the call with the token. The user
agent step is programmatic: the redirect handler below plays the browser (it follows the
authorization URL to its redirect), and ``LoopbackCallbackHandler`` receives the code on a
one-shot listener on 127.0.0.1. In an application, leave ``redirect_handler`` out and the
user's browser opens instead. The local server here is a sketch for the example, not a
real authorization server.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import secrets
from typing import Any

import aiohttp
from aiohttp import web
from yarl import URL

from mcp_async import AsyncMCPClient
from mcp_async.auth.callback import LoopbackCallbackHandler
from mcp_async.auth.oauth import OAuth
from mcp_async.auth.storage import MemoryTokenStorage
from mcp_async.testing import demo_server

# Headers the front passes between the client and the MCP server.
FORWARD = ("Content-Type", "Accept", "Mcp-Session-Id", "Mcp-Protocol-Version", "Last-Event-ID")


class LocalAuthServer:
    """A protected MCP endpoint at ``/mcp`` plus its authorization server, on one origin."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream  # the unprotected MCP server
        self.clients: dict[str, list[str]] = {}  # client_id -> redirect URIs
        self.codes: dict[str, tuple[str, str, str]] = {}  # code -> client, redirect, challenge
        self.tokens: set[str] = set()
        self.origin = ""
        app = web.Application()
        app.router.add_get("/.well-known/oauth-protected-resource/mcp", self.resource_metadata)
        app.router.add_get("/.well-known/oauth-authorization-server", self.server_metadata)
        app.router.add_post("/register", self.register)
        app.router.add_get("/authorize", self.authorize)
        app.router.add_post("/token", self.token)
        app.router.add_route("*", "/mcp", self.mcp)
        self.runner = web.AppRunner(app, access_log=None)

    async def __aenter__(self) -> LocalAuthServer:
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)  # loopback only, any free port
        await site.start()
        self.origin = f"http://127.0.0.1:{self.runner.addresses[0][1]}"
        self.http = aiohttp.ClientSession()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.http.close()
        await self.runner.cleanup()

    # -- the protected resource --------------------------------------------------------
    async def resource_metadata(self, request: web.Request) -> web.Response:
        # RFC 9728: which authorization server issues tokens for this resource.
        return web.json_response({"resource": f"{self.origin}/mcp",
                                  "authorization_servers": [self.origin]})

    async def mcp(self, request: web.Request) -> web.Response:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if token not in self.tokens:
            metadata = f"{self.origin}/.well-known/oauth-protected-resource/mcp"
            challenge = f'Bearer resource_metadata="{metadata}"'
            return web.Response(status=401, headers={"WWW-Authenticate": challenge})
        # A valid token: pass the request on to the MCP server (JSON replies only).
        headers = {name: request.headers[name] for name in FORWARD if name in request.headers}
        async with self.http.request(request.method, self.upstream, headers=headers,
                                     data=await request.read()) as reply:
            body = await reply.read()
            back = {name: reply.headers[name] for name in FORWARD if name in reply.headers}
            return web.Response(status=reply.status, body=body, headers=back)

    # -- the authorization server ------------------------------------------------------
    async def server_metadata(self, request: web.Request) -> web.Response:
        return web.json_response({
            "issuer": self.origin,
            "authorization_endpoint": f"{self.origin}/authorize",
            "token_endpoint": f"{self.origin}/token",
            "registration_endpoint": f"{self.origin}/register",
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["none"],
            "authorization_response_iss_parameter_supported": True,
        })

    async def register(self, request: web.Request) -> web.Response:
        # RFC 7591 dynamic registration of a public client (no secret).
        metadata: dict[str, Any] = await request.json()
        client_id = secrets.token_urlsafe(8)
        self.clients[client_id] = list(metadata["redirect_uris"])
        return web.json_response({**metadata, "client_id": client_id,
                                  "token_endpoint_auth_method": "none"}, status=201)

    async def authorize(self, request: web.Request) -> web.Response:
        # A real server would sign the user in and ask for consent here.
        query = request.query
        redirect_uri = query["redirect_uri"]
        if redirect_uri not in self.clients.get(query["client_id"], []):
            return web.Response(status=400, text="unknown client or redirect URI")
        if query.get("code_challenge_method") != "S256":
            return web.Response(status=400, text="PKCE S256 is required")
        code = secrets.token_urlsafe(16)
        self.codes[code] = (query["client_id"], redirect_uri, query["code_challenge"])
        back = URL(redirect_uri).update_query(code=code, state=query["state"], iss=self.origin)
        raise web.HTTPFound(str(back))

    async def token(self, request: web.Request) -> web.Response:
        form = await request.post()
        client_id, redirect_uri, challenge = self.codes.pop(str(form.get("code")), ("", "", ""))
        verifier = str(form.get("code_verifier", "")).encode()
        computed = base64.urlsafe_b64encode(hashlib.sha256(verifier).digest()).rstrip(b"=")
        if (not client_id or form.get("client_id") != client_id
                or form.get("redirect_uri") != redirect_uri
                or not secrets.compare_digest(computed.decode(), challenge)):
            return web.json_response({"error": "invalid_grant"}, status=400)
        token = secrets.token_urlsafe(24)
        self.tokens.add(token)
        return web.json_response({"access_token": token, "token_type": "Bearer",
                                  "expires_in": 3600})


async def headless_browser(authorization_url: str) -> None:
    """The redirect handler: do what a browser would, without one.

    Visit the authorization URL, then follow its redirect to the loopback callback
    listener, which hands the code to the OAuth hook.
    """
    print("  [browser] visiting the authorization endpoint")
    async with aiohttp.ClientSession() as browser:
        async with browser.get(authorization_url, allow_redirects=False) as answer:
            location = answer.headers["Location"]
        async with browser.get(location) as answer:
            print(f"  [browser] redirected back to the client: HTTP {answer.status}")


async def main() -> None:
    async with demo_server() as mcp_server, LocalAuthServer(mcp_server.url) as front:
        storage = MemoryTokenStorage()  # FileTokenStorage(path) keeps tokens across runs
        auth = OAuth(
            redirect_handler=headless_browser,
            callback_handler=LoopbackCallbackHandler(host="127.0.0.1", port=0),
            storage=storage,
            client_name="mcp-async example",
        )
        async with AsyncMCPClient(f"{front.origin}/mcp", auth=auth) as client:
            # The first request gets a 401; the hook signs in and re-sends it.
            result = await client.call_tool("echo", {"text": "signed in"})
            print("echo ->", result.text)
            print("registered clients:", len(front.clients), "| tokens issued:", len(front.tokens))

        # A second client with the same storage reuses the token: no sign-in this time.
        again = OAuth(redirect_handler=headless_browser, storage=storage)
        async with AsyncMCPClient(f"{front.origin}/mcp", auth=again) as client:
            result = await client.call_tool("add", {"a": 20, "b": 22})
            print("add with the stored token ->", result.structured_content)
            print("tokens issued in all:", len(front.tokens))


if __name__ == "__main__":
    asyncio.run(main())
