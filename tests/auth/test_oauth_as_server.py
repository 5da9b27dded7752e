"""The test authorization server is strict: the client tests only mean something if it is."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from tests.auth.as_server import REDIRECT_URI, AuthorizationServer, Client

VERIFIER = "v" * 50


def challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@pytest.fixture
async def server() -> AsyncIterator[AuthorizationServer]:
    authorization = await AuthorizationServer().start()
    authorization.add_client(Client("pub", "none", redirect_uris=[REDIRECT_URI]))
    authorization.add_client(
        Client("conf", "client_secret_post", "s", redirect_uris=[REDIRECT_URI])
    )
    yield authorization
    await authorization.close()


async def authorize(server: AuthorizationServer, **extra: str) -> dict[str, str]:
    params = {
        "response_type": "code",
        "client_id": "pub",
        "redirect_uri": REDIRECT_URI,
        "state": "st",
        "code_challenge": challenge(VERIFIER),
        "code_challenge_method": "S256",
        "resource": "https://mcp.example.com/mcp",
        **extra,
    }
    async with (
        aiohttp.ClientSession() as session,
        session.get(server.origin + "/authorize", params=params, allow_redirects=False) as response,
    ):
        assert response.status == 302
        from urllib.parse import parse_qsl, urlsplit

        return dict(parse_qsl(urlsplit(response.headers["Location"]).query))


async def token(server: AuthorizationServer, **form: str) -> tuple[int, Any]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(server.origin + "/token", data=form) as response,
    ):
        return response.status, await response.json()


def code_form(code: str, **extra: str) -> dict[str, str]:
    return {
        "grant_type": "authorization_code",
        "code": code,
        "client_id": "pub",
        "redirect_uri": REDIRECT_URI,
        "code_verifier": VERIFIER,
        "resource": "https://mcp.example.com/mcp",
        **extra,
    }


async def test_code_is_single_use(server: AuthorizationServer) -> None:
    answer = await authorize(server)
    assert answer["state"] == "st" and answer["iss"] == server.issuer
    assert (await token(server, **code_form(answer["code"])))[0] == 200
    status, body = await token(server, **code_form(answer["code"]))
    assert (status, body["error"]) == (400, "invalid_grant")


async def test_pkce_is_verified(server: AuthorizationServer) -> None:
    answer = await authorize(server)
    status, body = await token(server, **code_form(answer["code"], code_verifier="w" * 50))
    assert (status, body["error"]) == (400, "invalid_grant")


async def test_resource_must_match_the_authorization(server: AuthorizationServer) -> None:
    answer = await authorize(server)
    status, body = await token(
        server, **code_form(answer["code"], resource="https://other.example.com/mcp")
    )
    assert (status, body["error"]) == (400, "invalid_target")


async def test_plain_pkce_is_refused(server: AuthorizationServer) -> None:
    answer = await authorize(server, code_challenge_method="plain", code_challenge=VERIFIER)
    assert answer["error"] == "invalid_request"


async def test_rotated_refresh_token_is_dead(server: AuthorizationServer) -> None:
    answer = await authorize(server)
    _, first = await token(server, **code_form(answer["code"]))
    refresh = {
        "grant_type": "refresh_token",
        "client_id": "pub",
        "refresh_token": first["refresh_token"],
    }
    status, second = await token(server, **refresh)
    assert status == 200 and second["refresh_token"] != first["refresh_token"]
    status, body = await token(server, **refresh)
    assert (status, body["error"]) == (400, "invalid_grant")


async def test_client_must_use_its_registered_method(server: AuthorizationServer) -> None:
    status, body = await token(server, grant_type="client_credentials", client_id="conf")
    assert (status, body["error"]) == (401, "invalid_client")
    status, body = await token(
        server, grant_type="client_credentials", client_id="conf", client_secret="bad"
    )
    assert (status, body["error"]) == (401, "invalid_client")


async def test_unknown_redirect_uri_is_not_redirected_to(server: AuthorizationServer) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.get(
            server.origin + "/authorize",
            params={"client_id": "pub", "redirect_uri": "https://evil.example.com/cb"},
            allow_redirects=False,
        ) as response,
    ):
        assert response.status == 400 and "Location" not in response.headers
