"""Configuration files: host shapes, ${VAR} expansion, disabled entries, bad shapes, clients."""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from mcp_async import AsyncMCPClient, ConfigError, MCPConfig, ServerSpec, StdioTransport
from mcp_async.group.config import (
    expand_variables,
    find_host_configs,
    host_config_files,
    load_mcp_config,
    parse_server,
)

ENV = {"HOME": "/home/ada", "TOKEN": "s3cret", "EMPTY": ""}


def load(document: Any, environ: dict[str, str] | None = None) -> MCPConfig:
    return load_mcp_config(document, environ=ENV if environ is None else environ)


# -- host file shapes ----------------------------------------------------------------------


def test_claude_desktop_file(tmp_path: Path) -> None:
    path = tmp_path / "claude_desktop_config.json"
    path.write_text(json.dumps({
        "mcpServers": {
            "filesystem": {
                "command": "npx",
                "args": ["-y", "@modelcontextprotocol/server-filesystem", "${HOME}/notes"],
            },
            "github": {
                "command": "docker",
                "args": ["run", "-i", "--rm", "ghcr.io/github/github-mcp-server"],
                "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": "${TOKEN}"},
            },
        },
        "globalShortcut": "Ctrl+Space",
    }))
    config = load(str(path))
    assert config.source == str(path)
    assert config.names == ["filesystem", "github"]
    files, github = config.servers
    assert files == ServerSpec(
        "filesystem", "stdio", command="npx",
        args=("-y", "@modelcontextprotocol/server-filesystem", "/home/ada/notes"),
        cwd=str(tmp_path),  # a server from a file starts in the file's folder
    )
    assert github.env == {"GITHUB_PERSONAL_ACCESS_TOKEN": "s3cret"}


def test_cursor_file_mixes_commands_and_urls(tmp_path: Path) -> None:
    path = tmp_path / "mcp.json"
    path.write_text(json.dumps({
        "mcpServers": {
            "local": {"command": "uvx", "args": ["mcp-server-time"], "cwd": "${HOME}"},
            "remote": {"url": "https://mcp.example.com/mcp",
                       "headers": {"Authorization": "Bearer ${TOKEN}"}},
            "legacy": {"url": "http://127.0.0.1:9000/sse", "transport": "sse"},
        }
    }))
    local, remote, legacy = load(path).servers
    assert local.transport == "stdio" and local.cwd == "/home/ada"
    assert remote.transport == "auto"
    assert remote.url == "https://mcp.example.com/mcp"
    assert remote.headers == {"Authorization": "Bearer s3cret"}
    assert legacy.transport == "sse"


def test_vscode_file_with_types_inputs_comments_and_trailing_commas(tmp_path: Path) -> None:
    path = tmp_path / "mcp.json"
    path.write_text("""{
      // VS Code writes JSON with comments
      "inputs": [{"type": "promptString", "id": "key", "password": true}],
      "servers": {
        "time": {"type": "stdio", "command": "uvx", "args": ["mcp-server-time",],},
        /* a remote one */
        "remote": {"type": "http", "url": "https://example.com/mcp // not a comment"},
        "old": {"type": "sse", "url": "https://example.com/sse"},
      },
    }""")
    time, remote, old = load(path).servers
    assert (time.transport, time.args) == ("stdio", ("mcp-server-time",))
    assert (remote.transport, remote.url) == ("auto", "https://example.com/mcp // not a comment")
    assert old.transport == "sse"


def test_vscode_settings_nest_servers_under_mcp() -> None:
    config = load({"mcp": {"servers": {"t": {"command": "t"}}}, "editor.fontSize": 12})
    assert config.names == ["t"]


@pytest.mark.parametrize(
    ("value", "transport"),
    [("streamable-http", "streamable-http"), ("streamableHttp", "streamable-http"),
     ("http", "auto"), ("SSE", "sse")],
)
def test_transport_spellings(value: str, transport: str) -> None:
    [spec] = load({"mcpServers": {"s": {"url": "http://h/mcp", "transport": value}}}).servers
    assert spec.transport == transport


def test_disabled_entries_are_skipped_and_reported() -> None:
    config = load({"mcpServers": {
        "on": {"command": "a"},
        "off": {"command": "${NOT_SET_ANYWHERE}", "disabled": True},
    }})
    assert config.names == ["on"]
    assert config.disabled == ("off",)


def test_numbers_in_env_and_headers_are_written_as_strings() -> None:
    [spec] = load({"mcpServers": {"s": {"command": "a", "env": {"PORT": 8080}}}}).servers
    assert spec.env == {"PORT": "8080"}


# -- ${VAR} expansion ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expanded"),
    [
        ("${HOME}/x", "/home/ada/x"),
        ("${env:TOKEN}", "s3cret"),
        ("${MISSING:-fallback}", "fallback"),
        ("${EMPTY:-fallback}", "fallback"),
        ("${TOKEN:-fallback}", "s3cret"),
        ("${MISSING:-}", ""),
        ("a${HOME}b${TOKEN}c", "a/home/adabs3cretc"),
        ("no variables $HOME here", "no variables $HOME here"),
    ],
)
def test_expansion(text: str, expanded: str) -> None:
    assert expand_variables(text, ENV) == expanded


def test_a_missing_variable_names_the_server_the_field_and_the_variable() -> None:
    document = {"mcpServers": {"gh": {"command": "x", "env": {"KEY": "${GITHUB_TOKEN}"}}}}
    with pytest.raises(ConfigError) as info:
        load(document)
    message = str(info.value)
    assert "'gh'" in message and "GITHUB_TOKEN" in message and "env.KEY" in message


@pytest.mark.parametrize(
    ("entry", "field"),
    [
        ({"command": "${NOPE}"}, "command"),
        ({"command": "a", "args": ["ok", "${NOPE}"]}, "args[1]"),
        ({"command": "a", "cwd": "${NOPE}"}, "cwd"),
        ({"url": "${NOPE}/mcp"}, "url"),
        ({"url": "http://h/mcp", "headers": {"X-Key": "${NOPE}"}}, "headers.X-Key"),
    ],
)
def test_every_string_field_is_expanded(entry: dict[str, Any], field: str) -> None:
    pattern = rf"server 'srv': '{re.escape(field)}' uses \$\{{NOPE\}}"
    with pytest.raises(ConfigError, match=pattern) as info:
        load({"mcpServers": {"srv": entry}})
    assert "NOPE is not set" in str(info.value)


def test_other_placeholders_are_refused() -> None:
    with pytest.raises(ConfigError, match=r"\$\{input:key\}"):
        load({"servers": {"s": {"command": "a", "env": {"K": "${input:key}"}}}})


def test_os_environ_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MCP_ASYNC_TEST_VAR", "from-env")
    [spec] = load_mcp_config({"mcpServers": {"s": {"command": "${MCP_ASYNC_TEST_VAR}"}}}).servers
    assert spec.command == "from-env"


# -- bad shapes ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "match"),
    [
        ({"servers_list": {}}, "no 'mcpServers'"),
        ({"mcpServers": {}, "servers": {}}, "both 'mcpServers' and 'servers'"),
        ({"mcpServers": []}, "'mcpServers' must be an object"),
        ({"mcpServers": {"s": "npx"}}, "server 's': expected an object"),
        ({"mcpServers": {"s": {}}}, "server 's' needs 'command'"),
        ({"mcpServers": {"s": {"command": "a", "url": "http://h"}}}, "both 'command' and 'url'"),
        ({"mcpServers": {"s": {"command": ""}}}, "'command' must be a non-empty string"),
        ({"mcpServers": {"s": {"command": 5}}}, "'command' must be a non-empty string"),
        ({"mcpServers": {"s": {"command": "a", "args": "-y pkg"}}}, "'args' must be a list"),
        ({"mcpServers": {"s": {"command": "a", "args": [1, None]}}}, r"'args\[1\]' must be"),
        ({"mcpServers": {"s": {"command": "a", "env": ["A=1"]}}}, "'env' must be an object"),
        ({"mcpServers": {"s": {"command": "a", "env": {"A": {}}}}}, "'env.A' must be a string"),
        ({"mcpServers": {"s": {"command": "a", "disabled": "yes"}}}, "'disabled' must be"),
        ({"mcpServers": {"s": {"url": "ftp://h/x"}}}, "'url' must be an absolute http"),
        ({"mcpServers": {"s": {"url": "/relative"}}}, "'url' must be an absolute http"),
        ({"mcpServers": {"s": {"type": "websocket", "url": "ws://h"}}}, "'type' must be"),
        ({"mcpServers": {"s": {"type": "stdio", "url": "http://h/mcp"}}}, "needs 'command'"),
        ({"mcpServers": {"s": {"type": "stdio", "command": "a", "url": "http://h"}}},
         "has 'command', not 'url'"),
        ({"mcpServers": {"s": {"type": "http", "command": "a"}}}, "needs 'url'"),
        ({"mcpServers": {"s": {"type": "sse", "transport": "http", "url": "http://h"}}},
         "disagree"),
        ({"mcpServers": {"s": {"url": "http://h", "headers": {"A": True}}}},
         "'headers.A' must be a string"),
        ({"mcpServers": {"": {"command": "a"}}}, "non-empty strings"),
    ],
)
def test_bad_shapes_name_the_server_and_the_field(document: Any, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        load(document)


def test_unreadable_and_invalid_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read MCP config"):
        load(tmp_path / "missing.json")
    broken = tmp_path / "broken.json"
    broken.write_text('{"mcpServers": {')
    with pytest.raises(ConfigError, match="is not valid JSON"):
        load(broken)
    broken.write_text("[]")
    with pytest.raises(ConfigError, match=r"broken\.json' must be a JSON object"):
        load(broken)
    with pytest.raises(ConfigError, match="file path or a dict"):
        load_mcp_config(42)  # type: ignore[arg-type]


# -- clients -------------------------------------------------------------------------------


def test_a_stdio_entry_builds_a_restarting_minimal_env_client(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MCP_ASYNC_SECRET", "do-not-leak")
    spec = parse_server("files", {"command": "srv", "args": ["-v"], "env": {"K": "v"},
                                  "cwd": "/tmp"}, environ=ENV)
    assert spec is not None
    client = spec.client(timeout=5, auth="ignored-for-stdio", headers={"X": "y"})
    transport = client._given_transport
    assert isinstance(transport, StdioTransport)
    assert (transport.command, transport.args, transport.cwd) == ("srv", ("-v",), "/tmp")
    assert transport.restart is True
    assert transport.name == "files"  # stderr goes to mcp_async.server.files
    environment = transport.environment()
    assert environment["K"] == "v"
    assert "MCP_ASYNC_SECRET" not in environment
    assert client.timeout.total == 5
    no_restart = spec.client(restart=False)._given_transport
    assert isinstance(no_restart, StdioTransport) and no_restart.restart is False


def test_an_http_entry_builds_a_url_client_with_merged_headers() -> None:
    spec = parse_server("r", {"url": "https://h/sse", "type": "sse",
                              "headers": {"Authorization": "Bearer t"}}, environ=ENV)
    assert spec is not None
    client = spec.client(headers={"X-Shared": "1", "Authorization": "shared"}, stderr=print)
    assert isinstance(client, AsyncMCPClient)
    assert client.url == "https://h/sse"
    assert client.transport_kind == "sse"
    assert client._headers == {"X-Shared": "1", "Authorization": "Bearer t"}


def test_client_options_that_belong_to_the_entry_are_refused() -> None:
    spec = parse_server("r", {"url": "https://h/mcp"}, environ=ENV)
    assert spec is not None
    with pytest.raises(ConfigError, match="transport= is set by each server's entry"):
        spec.client(transport="sse")
    with pytest.raises(ConfigError, match=r"server 'r': Timeout\.total"):
        spec.client(timeout=-1)


def test_describe_hides_secrets() -> None:
    http = ServerSpec("r", "streamable-http", url="https://h/mcp?key=secret",
                      headers={"Authorization": "Bearer secret"})
    assert http.describe() == "streamable-http: https://h/mcp"
    assert "Bearer" not in repr(http)
    stdio = ServerSpec("s", "stdio", command="npx", args=("-y", "pkg"), env={"K": "secret"})
    assert stdio.describe() == "stdio: npx -y pkg"
    assert "secret" not in repr(stdio)


# -- host files ----------------------------------------------------------------------------


def test_host_file_locations_per_platform(tmp_path: Path) -> None:
    home, cwd = tmp_path / "home", tmp_path / "project"
    linux = host_config_files(cwd=cwd, home=home, platform="linux", environ={})
    assert [(c.host, c.path) for c in linux] == [
        ("VS Code (workspace)", cwd / ".vscode" / "mcp.json"),
        ("Cursor (project)", cwd / ".cursor" / "mcp.json"),
        ("Cursor", home / ".cursor" / "mcp.json"),
        ("Claude Desktop", home / ".config" / "Claude" / "claude_desktop_config.json"),
    ]
    mac = host_config_files(cwd=cwd, home=home, platform="darwin", environ={})
    assert mac[-1].path == (
        home / "Library" / "Application Support" / "Claude" / "claude_desktop_config.json"
    )
    xdg = host_config_files(cwd=cwd, home=home, platform="linux",
                            environ={"XDG_CONFIG_HOME": str(tmp_path / "xdg")})
    assert xdg[-1].path == tmp_path / "xdg" / "Claude" / "claude_desktop_config.json"
    windows = host_config_files(cwd=cwd, home=home, platform="win32",
                                environ={"APPDATA": str(tmp_path / "roaming")})
    assert windows[-1].path == tmp_path / "roaming" / "Claude" / "claude_desktop_config.json"


def test_find_host_configs_returns_existing_files_in_order(tmp_path: Path) -> None:
    home, cwd = tmp_path / "home", tmp_path / "project"
    claude = home / ".config" / "Claude" / "claude_desktop_config.json"
    cursor = cwd / ".cursor" / "mcp.json"
    for path in (claude, cursor):
        path.parent.mkdir(parents=True)
        path.write_text('{"mcpServers": {}}')
    found = find_host_configs(cwd=cwd, home=home, platform="linux", environ={})
    assert [c.path for c in found] == [cursor, claude]
    assert find_host_configs(cwd=tmp_path, home=tmp_path, platform="linux", environ={}) == []
    assert os.path.exists(cursor)


# -- relative paths: the project folder ----------------------------------------------------


def test_relative_paths_follow_the_project_folder(tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / ".vscode").mkdir(parents=True)
    path = project / ".vscode" / "mcp.json"
    path.write_text(json.dumps({"servers": {
        "script": {"command": "./bin/server", "args": ["data.db", "${workspaceFolder}/x"]},
        "tool": {"command": "uvx", "args": ["mcp-server-time"], "cwd": "tools"},
        "in_cwd": {"command": "bin/run", "cwd": "tools"},
        "absolute": {"command": "/usr/bin/env", "cwd": "/srv"},
    }}))
    script, tool, in_cwd, absolute = load(path).servers
    # .vscode/mcp.json belongs to the folder that holds .vscode, as in VS Code.
    assert script.cwd == str(project)
    assert script.command == str(project / "bin" / "server")
    assert script.args == ("data.db", f"{project}/x")  # args as written; ${workspaceFolder}
    assert (tool.command, tool.cwd) == ("uvx", str(project / "tools"))  # a name: PATH
    assert (in_cwd.command, in_cwd.cwd) == (
        str(project / "tools" / "bin" / "run"), str(project / "tools")
    )
    assert (absolute.command, absolute.cwd) == ("/usr/bin/env", "/srv")


@pytest.mark.parametrize("folder", [".cursor", "conf"])
def test_project_folder_of_cursor_and_plain_files(tmp_path: Path, folder: str) -> None:
    (tmp_path / folder).mkdir()
    path = tmp_path / folder / "mcp.json"
    path.write_text(json.dumps({"mcpServers": {"s": {"command": "x", "cwd": "."}}}))
    expected = tmp_path if folder == ".cursor" else tmp_path / folder
    assert load(path).servers[0].cwd == str(expected)


def test_a_dict_has_no_folder_unless_given(tmp_path: Path) -> None:
    entry = {"mcpServers": {"s": {"command": "./server", "cwd": "sub"}}}
    (spec,) = load(entry).servers
    assert (spec.command, spec.cwd) == ("./server", "sub")  # the process's directory
    (spec,) = load_mcp_config(entry, environ=ENV, base=tmp_path).servers
    assert (spec.command, spec.cwd) == (str(tmp_path / "sub" / "server"), str(tmp_path / "sub"))
    with pytest.raises(ConfigError, match="workspaceFolder"):
        load({"mcpServers": {"s": {"command": "x", "args": ["${workspaceFolder}"]}}})


async def test_a_server_with_relative_args_starts_from_another_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mcp_async import MCPClientGroup

    project = tmp_path / "project"
    project.mkdir()
    (project / "server.py").write_text(
        "import sys\nfrom mcp_async.testing import main\nsys.exit(main(['--stdio']))\n"
    )
    path = project / "mcp.json"
    path.write_text(json.dumps({"mcpServers": {"local": {
        "command": sys.executable, "args": ["server.py"],
        "env": {"PYTHONPATH": os.pathsep.join(sys.path)},
    }}}))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # relative to the file, not to the working directory
    async with MCPClientGroup.from_config(path) as group:
        assert not group.failures
        assert (await group.call_tool("local__echo", {"text": "hi"})).text == "hi"
