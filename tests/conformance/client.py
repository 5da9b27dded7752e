"""mcp_async's client for the official MCP conformance harness.

The harness (``@modelcontextprotocol/conformance``, installed by
scripts/install-conformance.sh) starts a mock server for one scenario and runs::

    MCP_CONFORMANCE_SCENARIO=<scenario> [MCP_CONFORMANCE_CONTEXT=<json>] \
        python tests/conformance/client.py <server-url>

This script drives the scenario through mcp_async's public API only, as an
application would. It exits 0 when the flow finished, or when the scenario expects
the client to refuse the server and mcp_async refused it with a typed error; any
other outcome exits 1 with the error on stderr.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp

# Run from a checkout without installing: the package is two levels up.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from mcp_async import AsyncMCPClient, MCPClientError
from mcp_async.auth import (
    ClientCredentials,
    FunctionCallbackHandler,
    IdentityAssertionAuth,
    IdPTokenExchange,
    OAuth,
    WorkloadIdentity,
)
from mcp_async.session.elicitation import accept_with_defaults
from mcp_async.session.handlers import ElicitationRequest, ElicitationResult

#: The client id the harness's CIMD scenarios accept without fetching it.
CIMD_URL = "https://conformance-test.local/client-metadata.json"
REDIRECT_URI = "http://localhost:3000/callback"

#: Scenarios in which the server misbehaves on purpose and the client must refuse it:
#: a typed mcp_async error is then the expected ending, not a failure of the driver.
REFUSAL_EXPECTED = frozenset({
    "auth/scope-retry-limit",
    "auth/resource-mismatch",
    "auth/iss-supported-missing",
    "auth/iss-wrong-issuer",
    "auth/iss-unexpected",
    "auth/iss-normalized",
    "auth/metadata-issuer-mismatch",
    "http-invalid-tool-headers",
})

Flow = Callable[[str], Awaitable[None]]
FLOWS: dict[str, Flow] = {}


def flow(*names: str) -> Callable[[Flow], Flow]:
    """Register a flow for the scenarios ``names``."""
    def register(fn: Flow) -> Flow:
        for name in names:
            FLOWS[name] = fn
        return fn
    return register


def context() -> dict[str, Any]:
    """The scenario's ``MCP_CONFORMANCE_CONTEXT`` object."""
    raw = os.environ.get("MCP_CONFORMANCE_CONTEXT")
    if not raw:
        raise SystemExit("MCP_CONFORMANCE_CONTEXT is not set for this scenario")
    value = json.loads(raw)
    if not isinstance(value, dict):
        raise SystemExit("MCP_CONFORMANCE_CONTEXT is not a JSON object")
    return value


def protocol() -> str:
    """``protocol=`` for the client: ``"auto"``, as an application leaves it.

    The harness's ``MCP_CONFORMANCE_PROTOCOL_VERSION`` is deliberately not pinned: the
    client's own negotiation (a ``server/discover`` probe at 2026-07-28, the
    ``initialize`` handshake for servers that do not speak it) is what is under test,
    and it reaches the wire each mock server speaks.
    """
    return "auto"


class HeadlessBrowser:
    """Stands in for the user: follows the authorization URL one hop (the harness's
    authorization server redirects at once) and hands the redirect back."""

    def __init__(self) -> None:
        self.url: str | None = None

    def redirect(self, url: str) -> None:
        self.url = url

    async def callback(self) -> str:
        if self.url is None:
            raise RuntimeError("no authorization URL was opened")
        async with aiohttp.ClientSession() as session, session.get(
            self.url, allow_redirects=False
        ) as response:
            location = response.headers.get("Location")
        if not location:
            raise RuntimeError(f"the authorization endpoint did not redirect ({response.status})")
        return location


def oauth(**options: Any) -> OAuth:
    """An interactive OAuth hook whose "user" approves at once."""
    browser = HeadlessBrowser()
    return OAuth(
        redirect_handler=browser.redirect,
        callback_handler=FunctionCallbackHandler(browser.callback, redirect_uri=REDIRECT_URI),
        client_name="mcp-async-conformance",
        **options,
    )


async def list_and_call(client: AsyncMCPClient, arguments: dict[str, Any]) -> None:
    tools = await client.list_tools()
    if tools:
        await client.call_tool(tools[0].name, arguments)


@flow("initialize", "tools_call", "tools-call", "request-metadata")
async def basic(url: str) -> None:
    async with AsyncMCPClient(url, protocol=protocol()) as client:
        await list_and_call(client, {"a": 2, "b": 3})


@flow("json-schema-ref-no-deref")
async def list_only(url: str) -> None:
    async with AsyncMCPClient(url, protocol=protocol()) as client:
        await client.list_tools()


@flow("json-schema-2020-12-preservation")
async def schema_echo(url: str) -> None:
    async with AsyncMCPClient(url, protocol=protocol()) as client:
        tools = {tool.name: tool for tool in await client.list_tools()}
        focal = tools["json_schema_2020_12_tool"]
        await client.call_tool("json_schema_echo", {"schema": focal.input_schema})


@flow("elicitation-sep1034-client-defaults", "elicitation-defaults")
async def elicitation_defaults(url: str) -> None:
    async with AsyncMCPClient(
        url, protocol=protocol(), elicitation_handler=accept_with_defaults
    ) as client:
        await client.list_tools()
        await client.call_tool("test_client_elicitation_defaults", {})


@flow("sse-retry")
async def sse_retry(url: str) -> None:
    async with AsyncMCPClient(url, protocol=protocol()) as client:
        await client.list_tools()
        await client.call_tool("test_reconnection", {})


async def confirm(request: ElicitationRequest) -> ElicitationResult:
    return ElicitationResult.accept({"confirmed": True})


@flow("sep-2322-client-request-state")
async def request_state(url: str) -> None:
    async with AsyncMCPClient(
        url, protocol=protocol(), elicitation_handler=confirm
    ) as client:
        await client.list_tools()
        await client.call_tool("test_mrtr_echo_state", {})
        await client.call_tool("test_mrtr_unrelated", {})
        await client.call_tool("test_mrtr_no_state", {})
        await client.call_tool("test_mrtr_no_result_type", {})


@flow("http-standard-headers", "http-custom-headers", "http-invalid-tool-headers")
async def headers(url: str) -> None:
    raw = os.environ.get("MCP_CONFORMANCE_CONTEXT")
    calls = json.loads(raw).get("toolCalls") if raw else None
    async with AsyncMCPClient(url, protocol=protocol()) as client:
        tools = await client.list_tools()
        if calls is None:  # no script: call every tool with plausible arguments
            calls = [
                {"name": tool.name, "arguments": {
                    name: _sample(schema)
                    for name, schema in (tool.input_schema.get("properties") or {}).items()
                }}
                for tool in tools
            ]
        for call in calls:
            await client.call_tool(call["name"], call.get("arguments") or {})


def _sample(schema: Any) -> Any:
    kind = schema.get("type") if isinstance(schema, dict) else None
    return {"number": 1, "integer": 1, "boolean": True}.get(str(kind), "value")


@flow(
    "auth/basic-cimd", "auth/basic-dcr",
    "auth/metadata-default", "auth/metadata-var1", "auth/metadata-var2", "auth/metadata-var3",
    "auth/2025-03-26-oauth-metadata-backcompat", "auth/2025-03-26-oauth-endpoint-fallback",
    "auth/scope-from-www-authenticate", "auth/scope-from-scopes-supported",
    "auth/scope-omitted-when-undefined", "auth/scope-step-up", "auth/scope-retry-limit",
    "auth/token-endpoint-auth-basic", "auth/token-endpoint-auth-post",
    "auth/token-endpoint-auth-none", "auth/resource-mismatch",
    "auth/offline-access-scope", "auth/offline-access-not-supported",
    "auth/iss-supported", "auth/iss-not-advertised", "auth/iss-supported-missing",
    "auth/iss-wrong-issuer", "auth/iss-unexpected", "auth/iss-normalized",
    "auth/metadata-issuer-mismatch", "auth/authorization-server-migration",
)
async def interactive_oauth(url: str) -> None:
    async with AsyncMCPClient(
        url, protocol=protocol(), auth=oauth(client_metadata_url=CIMD_URL)
    ) as client:
        await client.list_tools()
        await client.call_tool("test-tool", {})


@flow("auth/dpop", "auth/dpop-nonce")
async def dpop(url: str) -> None:
    auth = oauth(client_metadata_url=CIMD_URL, dpop=True)
    async with AsyncMCPClient(url, protocol=protocol(), auth=auth) as client:
        await client.list_tools()
        await client.call_tool("test-tool", {})


@flow("auth/wif-jwt-bearer")
async def workload_identity(url: str) -> None:
    ctx = context()
    auth = WorkloadIdentity(ctx["client_id"], token=lambda: str(ctx["valid_jwt"]))
    async with AsyncMCPClient(url, protocol=protocol(), auth=auth) as client:
        await client.list_tools()


@flow("auth/pre-registration")
async def pre_registration(url: str) -> None:
    ctx = context()
    auth = oauth(client_id=ctx["client_id"], client_secret=ctx["client_secret"])
    async with AsyncMCPClient(url, protocol=protocol(), auth=auth) as client:
        await client.list_tools()


@flow("auth/client-credentials-jwt")
async def client_credentials_jwt(url: str) -> None:
    ctx = context()
    auth = ClientCredentials(
        ctx["client_id"], private_key=ctx["private_key_pem"],
        algorithm=ctx.get("signing_algorithm") or "ES256",
    )
    async with AsyncMCPClient(url, protocol=protocol(), auth=auth) as client:
        await client.list_tools()


@flow("auth/client-credentials-basic")
async def client_credentials_basic(url: str) -> None:
    ctx = context()
    auth = ClientCredentials(ctx["client_id"], ctx["client_secret"])
    async with AsyncMCPClient(url, protocol=protocol(), auth=auth) as client:
        await client.list_tools()


@flow("auth/enterprise-managed-authorization", "auth/cross-app-access-complete-flow")
async def enterprise_managed(url: str) -> None:
    ctx = context()
    # The authorization server is configuration for IdentityAssertionAuth; the harness
    # makes one per run, so read it from the server's protected-resource metadata.
    async with aiohttp.ClientSession() as session:
        origin = url.split("/mcp", 1)[0]
        async with session.get(f"{origin}/.well-known/oauth-protected-resource/mcp") as r:
            issuer = (await r.json())["authorization_servers"][0]
    auth = IdentityAssertionAuth(
        issuer=issuer, client_id=ctx["client_id"], client_secret=ctx["client_secret"],
        identity=IdPTokenExchange(
            token_endpoint=ctx["idp_token_endpoint"], subject_token=ctx["idp_id_token"],
            client_id=ctx["idp_client_id"], token_endpoint_auth_method="none",
        ),
    )
    async with AsyncMCPClient(url, protocol=protocol(), auth=auth) as client:
        await client.list_tools()
        await client.call_tool("test-tool", {})


@flow("sep-2640-client-no-prefetch")
async def skills_list_only(url: str) -> None:
    from mcp_async.features.skills import Skills, skills_capabilities

    async with AsyncMCPClient(
        url, protocol=protocol(), capabilities=skills_capabilities()
    ) as client:
        skills = Skills(client)
        listed = await skills.list_all()
        if not listed:
            raise RuntimeError("the server listed no skills")


@flow(
    "sep-2640-client-verify-digest", "sep-2640-client-verify-size",
    "sep-2640-client-verify-frontmatter",
)
async def skills_load_tampered(url: str) -> None:
    from mcp_async.features.skills import Skills, SkillVerificationError, skills_capabilities

    async with AsyncMCPClient(
        url, protocol=protocol(), capabilities=skills_capabilities()
    ) as client:
        skills = Skills(client)
        for skill in await skills.list_all():
            try:
                loaded = await skills.load(skill)
            except SkillVerificationError as exc:
                print(f"refused {skill.uri}: {exc}")
                continue
            for file in loaded.files:
                await loaded.read(file.uri)


async def main() -> int:
    scenario = os.environ.get("MCP_CONFORMANCE_SCENARIO", "")
    if len(sys.argv) < 2 or not scenario:
        print("usage: MCP_CONFORMANCE_SCENARIO=<scenario> client.py <server-url>",
              file=sys.stderr)
        return 2
    run = FLOWS.get(scenario)
    if run is None:
        print(f"no flow for scenario {scenario!r}", file=sys.stderr)
        return 2
    try:
        await run(sys.argv[-1])
    except MCPClientError as exc:
        if scenario in REFUSAL_EXPECTED:
            print(f"refused as expected: {type(exc).__name__}: {exc}")
            return 0
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
