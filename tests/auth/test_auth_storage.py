"""Token storage: value objects, the in-memory store and the 0600 JSON file store."""

from __future__ import annotations

import asyncio
import json
import os
import stat
from pathlib import Path

import pytest

from mcp_async import AuthError, ConfigError
from mcp_async.auth.storage import (
    ClientRegistration,
    FileTokenStorage,
    MemoryTokenStorage,
    OAuthTokens,
    TokenStorage,
    TokenStorageError,
)

NOW = 1_700_000_000.0

TOKEN_RESPONSE = {
    "access_token": "at-SECRET-1",
    "token_type": "Bearer",
    "expires_in": 3600,
    "refresh_token": "rt-SECRET-1",
    "scope": "read write",
    "id_token": "header.payload.sig",
}


def tokens(n: int = 1, **overrides: object) -> OAuthTokens:
    response = {**TOKEN_RESPONSE, "access_token": f"at-SECRET-{n}", **overrides}
    return OAuthTokens.from_token_response(
        response, NOW, issuer="https://as.example", resource="https://mcp.example/mcp"
    )


def registration(n: int = 1) -> ClientRegistration:
    return ClientRegistration.from_registration_response(
        {
            "client_id": f"client-{n}",
            "client_secret": f"cs-SECRET-{n}",
            "token_endpoint_auth_method": "client_secret_post",
            "client_secret_expires_at": 0,
            "redirect_uris": ["http://127.0.0.1/callback"],
        },
        issuer="https://as.example",
    )


# -- OAuthTokens ----------------------------------------------------------------------


def test_from_token_response_computes_absolute_expiry_and_keeps_raw() -> None:
    t = tokens()
    assert t.access_token == "at-SECRET-1"
    assert t.expires_at == NOW + 3600
    assert t.refresh_token == "rt-SECRET-1"
    assert t.scopes == {"read", "write"}
    assert (t.issuer, t.resource) == ("https://as.example", "https://mcp.example/mcp")
    assert t.raw["id_token"] == "header.payload.sig"
    with pytest.raises(TypeError):
        t.raw["id_token"] = "changed"  # type: ignore[index]


def test_expires_in_as_numeric_string_and_absent() -> None:
    assert tokens(expires_in="60").expires_at == NOW + 60
    no_expiry = OAuthTokens.from_token_response({"access_token": "x"}, NOW)
    assert no_expiry.expires_at is None
    assert no_expiry.token_type == "Bearer"
    assert not no_expiry.is_expired(NOW + 10**9, margin=60)


@pytest.mark.parametrize(
    "response",
    [
        {},
        {"access_token": ""},
        {"access_token": 5},
        {"access_token": "x", "expires_in": "soon"},
        {"access_token": "x", "expires_in": -1},
        {"access_token": "x", "expires_in": True},
        {"access_token": "x", "refresh_token": 7},
        {"access_token": "x", "scope": ["a"]},
        {"access_token": "x", "token_type": ""},
    ],
)
def test_malformed_token_response_is_a_typed_auth_error(response: dict[str, object]) -> None:
    with pytest.raises(AuthError) as info:
        OAuthTokens.from_token_response(response, NOW, step="refresh")
    assert info.value.step == "refresh"


def test_refresh_response_keeps_previous_refresh_token_scope_and_binding() -> None:
    old = tokens()
    new = OAuthTokens.from_token_response(
        {"access_token": "at-2", "expires_in": 60}, NOW + 100, previous=old
    )
    assert new.refresh_token == "rt-SECRET-1"
    assert new.scope == "read write"
    assert new.issuer == old.issuer and new.resource == old.resource
    assert new.expires_at == NOW + 160
    rotated = OAuthTokens.from_token_response(
        {"access_token": "at-3", "refresh_token": "rt-3", "scope": "read"}, NOW, previous=old
    )
    assert (rotated.refresh_token, rotated.scope) == ("rt-3", "read")


def test_is_expired_honours_margin() -> None:
    t = tokens()  # expires at NOW + 3600
    assert not t.is_expired(NOW + 3539, margin=60)
    assert t.is_expired(NOW + 3540, margin=60)
    assert not t.is_expired(NOW + 3599)
    assert t.is_expired(NOW + 3600)


def test_tokens_dict_round_trip_through_json() -> None:
    t = tokens()
    back = OAuthTokens.from_dict(json.loads(json.dumps(t.to_dict())))
    assert back == t
    assert back.raw == t.raw
    minimal = OAuthTokens("only")
    assert OAuthTokens.from_dict(minimal.to_dict()) == minimal


@pytest.mark.parametrize(
    "data",
    [
        [],
        {},
        {"access_token": 1},
        {"access_token": "x", "expires_at": "later"},
        {"access_token": "x", "scope": 3},
        {"access_token": "x", "raw": []},
    ],
)
def test_tokens_from_bad_dict(data: object) -> None:
    with pytest.raises(TokenStorageError) as info:
        OAuthTokens.from_dict(data)  # type: ignore[arg-type]
    assert info.value.step == "storage"


def test_repr_redacts_tokens_and_secrets() -> None:
    text = repr(tokens()) + repr(registration()) + str(tokens()) + str(registration())
    for secret in ("at-SECRET", "rt-SECRET", "cs-SECRET", "header.payload.sig"):
        assert secret not in text
    assert "client-1" in text and "read write" in text


# -- ClientRegistration ----------------------------------------------------------------


def test_registration_from_response_and_round_trip() -> None:
    reg = registration()
    assert reg.client_id == "client-1"
    assert reg.client_secret == "cs-SECRET-1"
    assert reg.token_endpoint_auth_method == "client_secret_post"
    assert reg.client_secret_expires_at is None  # 0 means "never"
    assert reg.issuer == "https://as.example"
    assert not reg.is_secret_expired(NOW)
    assert ClientRegistration.from_dict(json.loads(json.dumps(reg.to_dict()))) == reg
    public = ClientRegistration(
        "https://app.example/client.json", token_endpoint_auth_method="none"
    )
    assert ClientRegistration.from_dict(public.to_dict()) == public
    expiring = ClientRegistration.from_registration_response(
        {"client_id": "c", "client_secret": "s", "client_secret_expires_at": NOW}
    )
    assert expiring.is_secret_expired(NOW) and not expiring.is_secret_expired(NOW - 1)


@pytest.mark.parametrize(
    "response",
    [
        {},
        {"client_id": ""},
        {"client_id": "c", "client_secret": 1},
        {"client_id": "c", "token_endpoint_auth_method": 2},
        {"client_id": "c", "client_secret_expires_at": "never"},
    ],
)
def test_bad_registration_response(response: dict[str, object]) -> None:
    with pytest.raises(AuthError) as info:
        ClientRegistration.from_registration_response(response)
    assert info.value.step == "registration"


# -- storages -------------------------------------------------------------------------


@pytest.fixture(params=["memory", "file"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> TokenStorage:
    if request.param == "memory":
        return MemoryTokenStorage()
    return FileTokenStorage(tmp_path / "tokens.json")


async def test_storage_round_trip_and_delete(storage: TokenStorage) -> None:
    assert isinstance(storage, TokenStorage)
    assert await storage.get_tokens("https://mcp.example/mcp") is None
    assert await storage.get_client_info("https://as.example") is None
    await storage.set_tokens("https://mcp.example/mcp", tokens())
    await storage.set_client_info("https://mcp.example/mcp", registration())
    await storage.set_tokens("other", tokens(2))
    assert await storage.get_tokens("https://mcp.example/mcp") == tokens()
    assert await storage.get_client_info("https://mcp.example/mcp") == registration()
    assert await storage.get_tokens("other") == tokens(2)

    await storage.delete("https://mcp.example/mcp", keep_client_info=True)
    assert await storage.get_tokens("https://mcp.example/mcp") is None
    assert await storage.get_client_info("https://mcp.example/mcp") == registration()
    await storage.delete("https://mcp.example/mcp")
    assert await storage.get_client_info("https://mcp.example/mcp") is None
    assert await storage.get_tokens("other") == tokens(2)
    await storage.delete("never-stored")


async def test_storage_rejects_bad_keys_and_values(storage: TokenStorage) -> None:
    with pytest.raises(ConfigError):
        await storage.get_tokens("")
    with pytest.raises(ConfigError):
        await storage.set_tokens("k", {"access_token": "x"})  # type: ignore[arg-type]
    with pytest.raises(ConfigError):
        await storage.set_client_info("k", tokens())  # type: ignore[arg-type]


async def test_file_survives_a_new_instance(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    await FileTokenStorage(path).set_tokens("k", tokens())
    await FileTokenStorage(path).set_client_info("k", registration())
    fresh = FileTokenStorage(str(path))
    assert await fresh.get_tokens("k") == tokens()
    assert (await fresh.get_client_info("k")) == registration()
    assert repr(fresh) == f"FileTokenStorage({str(path)!r})"


async def test_missing_file_and_directory_read_as_empty(tmp_path: Path) -> None:
    storage = FileTokenStorage(tmp_path / "does" / "not" / "exist.json")
    assert await storage.get_tokens("k") is None
    assert await storage.get_client_info("k") is None
    await storage.delete("k")
    assert not (tmp_path / "does").exists()


@pytest.mark.parametrize("umask", [0o000, 0o022, 0o077, 0o277])
async def test_file_and_new_directories_are_private_whatever_the_umask(
    tmp_path: Path, umask: int
) -> None:
    path = tmp_path / "a" / "b" / "tokens.json"
    old = os.umask(umask)
    try:
        await FileTokenStorage(path).set_tokens("k", tokens())
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(tmp_path / "a").st_mode) == 0o700
    assert stat.S_IMODE(os.stat(tmp_path / "a" / "b").st_mode) == 0o700


async def test_rewrite_tightens_a_loose_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    path.write_text(json.dumps({"version": 1, "entries": {}}))
    path.chmod(0o644)
    await FileTokenStorage(path).set_tokens("k", tokens())
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert os.listdir(tmp_path) == ["tokens.json"]  # no temp files left


async def test_concurrent_writers_lose_nothing(tmp_path: Path) -> None:
    storage = FileTokenStorage(tmp_path / "tokens.json")
    await asyncio.gather(
        *(storage.set_tokens(f"key-{i}", tokens(i)) for i in range(25)),
        *(storage.set_client_info(f"key-{i}", registration(i)) for i in range(25)),
    )
    reread = FileTokenStorage(tmp_path / "tokens.json")
    for i in range(25):
        assert await reread.get_tokens(f"key-{i}") == tokens(i)
        assert await reread.get_client_info(f"key-{i}") == registration(i)
    assert os.listdir(tmp_path) == ["tokens.json"]


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        "[]",
        json.dumps({"version": 99, "entries": {}}),
        json.dumps({"version": 1, "entries": []}),
        json.dumps({"version": 1, "entries": {"k": "tokens"}}),
    ],
)
async def test_corrupt_file_is_a_typed_error_naming_the_path(tmp_path: Path, content: str) -> None:
    path = tmp_path / "tokens.json"
    path.write_text(content)
    storage = FileTokenStorage(path)
    with pytest.raises(TokenStorageError) as info:
        await storage.get_tokens("k")
    assert info.value.path == str(path)
    assert str(path) in str(info.value)
    assert isinstance(info.value, AuthError) and info.value.step == "storage"
    with pytest.raises(TokenStorageError):
        await storage.set_tokens("k", tokens())
    assert path.read_text() == content  # a corrupt file is never overwritten silently


async def test_corrupt_entry_is_a_typed_error(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    path.write_text(json.dumps({"version": 1, "entries": {"k": {"tokens": {"token": "x"}}}}))
    with pytest.raises(TokenStorageError, match="access_token"):
        await FileTokenStorage(path).get_tokens("k")


async def test_unusable_path_is_a_typed_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    storage = FileTokenStorage(blocker / "tokens.json")
    with pytest.raises(TokenStorageError, match=r"token file .*Not a directory"):
        await storage.set_tokens("k", tokens())
    with pytest.raises(TokenStorageError, match="token file"):
        await FileTokenStorage(tmp_path).get_tokens("k")


def test_file_storage_path_validation() -> None:
    with pytest.raises(ConfigError):
        FileTokenStorage(42)  # type: ignore[arg-type]
    with pytest.raises(ConfigError):
        FileTokenStorage("")


async def test_file_does_not_contain_anything_but_json(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    storage = FileTokenStorage(path)
    await storage.set_tokens("k", tokens())
    document = json.loads(path.read_text())
    assert document["version"] == 1
    assert document["entries"]["k"]["tokens"]["access_token"] == "at-SECRET-1"
