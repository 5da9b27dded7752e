"""``mcpServers`` configuration files: the server lists of Claude Desktop, Cursor and VS Code.

::

    {
      "mcpServers": {
        "files":  {"command": "npx",
                   "args": ["-y", "@modelcontextprotocol/server-filesystem", "${HOME}/notes"]},
        "remote": {"url": "https://mcp.example.com/mcp",
                   "headers": {"Authorization": "Bearer ${API_TOKEN}"}},
        "legacy": {"url": "http://127.0.0.1:9000/sse", "type": "sse"},
        "old":    {"command": "old-server", "disabled": true}
      }
    }

:func:`load_mcp_config` reads such a file (or an already-parsed dict) into an
:class:`MCPConfig` of :class:`ServerSpec` values; :meth:`ServerSpec.client` builds the
:class:`~mcp_async.AsyncMCPClient` for one entry. The root object is ``mcpServers``
(Claude Desktop, Cursor, FastMCP), ``servers`` (VS Code ``.vscode/mcp.json``) or
``mcp.servers`` (VS Code settings); comments and trailing commas (JSONC) are accepted.
``${VAR}``, ``${VAR:-default}`` and ``${env:VAR}`` are expanded from the environment in
every string value. Every problem is a :class:`~mcp_async.ConfigError` naming the
server and the field. Files are only ever read.

Relative paths follow the hosts' project folder (see :func:`project_folder`): the folder of
the file, or for ``.vscode/mcp.json`` and ``.cursor/mcp.json`` the folder that holds
``.vscode`` or ``.cursor`` (VS Code's ``${workspaceFolder}``). A stdio server starts in
that folder, or in its ``cwd`` (a relative ``cwd`` is taken from that folder); a
``command`` written as a relative path (``./server.sh``, ``bin/server``) is taken from
the server's starting folder, while a bare name (``npx``) is looked up on ``PATH``;
``args`` are passed as written, so the server reads relative ones from where it starts.
``${workspaceFolder}`` expands to the project folder. A dict has no folder unless
``base=`` gives one: then its servers start in the process's working directory.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections import ChainMap
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

from yarl import URL

from .._exceptions import ConfigError

if TYPE_CHECKING:
    from ..client.async_client import AsyncMCPClient

__all__ = [
    "HostConfigFile",
    "MCPConfig",
    "ServerSpec",
    "ServerTransport",
    "expand_variables",
    "find_host_configs",
    "host_config_files",
    "load_mcp_config",
    "parse_mcp_config",
    "parse_server",
    "project_folder",
]

#: How a server is reached: a local command, or a URL with a chosen (or detected) transport.
ServerTransport: TypeAlias = Literal["stdio", "auto", "streamable-http", "sse"]

# "type" / "transport" values, lower-cased with "-" and "_" removed.
_TRANSPORTS: dict[str, ServerTransport] = {
    "stdio": "stdio",
    "http": "auto",  # VS Code: Streamable HTTP, falling back to legacy SSE
    "streamablehttp": "streamable-http",
    "sse": "sse",
}
_TRANSPORT_NAMES = "'stdio', 'http', 'streamable-http' or 'sse'"

# Options of AsyncMCPClient that only mean something for one kind of server.
_HTTP_ONLY = frozenset({"headers", "auth", "hooks", "session"})
_STDIO_ONLY = frozenset({"stderr", "inherit_env", "restart"})
# Set per entry by the configuration, never by shared options.
_PER_ENTRY = frozenset({"url", "transport"})

_PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")
_VARIABLE = re.compile(r"(?:env:)?([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?", re.DOTALL)


@dataclass(frozen=True, slots=True)
class ServerSpec:
    """One server entry of a configuration, variables expanded and shapes checked.

    ``transport`` is ``"stdio"`` for a local command (``command``, ``args``, ``env``,
    ``cwd``), else how to speak to ``url`` (``"auto"`` detects it) with ``headers``.
    """

    name: str
    transport: ServerTransport
    command: str | None = None
    args: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict, repr=False)
    cwd: str | None = None
    url: str | None = None
    headers: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def is_stdio(self) -> bool:
        """True for a local command spoken to over stdio."""
        return self.transport == "stdio"

    def describe(self) -> str:
        """A one-line description without secrets: the command line, or the URL without
        its query (``stdio: npx -y pkg`` / ``http: https://host/mcp``)."""
        if self.is_stdio:
            return "stdio: " + " ".join((self.command or "", *self.args))
        url = URL(self.url or "").with_query(None).with_fragment(None)
        return f"{'http' if self.transport == 'auto' else self.transport}: {url}"

    def client(self, **client_options: Any) -> AsyncMCPClient:
        """A new, unopened :class:`~mcp_async.AsyncMCPClient` for this server.

        ``client_options`` are :class:`~mcp_async.AsyncMCPClient` arguments. Those that
        apply to one kind of server only are dropped for the other: ``headers``,
        ``auth``, ``hooks`` and ``session`` for a command; ``stderr``, ``inherit_env``
        and ``restart`` for a URL. ``headers`` are merged under the entry's own. A
        stdio server restarts after it died (``restart=True`` unless given), inherits
        only the minimal environment (plus ``env``), and logs its stderr to
        ``mcp_async.server.<name>``.
        """
        from ..client.async_client import AsyncMCPClient

        for key in _PER_ENTRY.intersection(client_options):
            raise ConfigError(f"{key}= is set by each server's entry, not as a shared option")
        try:
            if self.is_stdio:
                return self._stdio_client(AsyncMCPClient, client_options)
            options = {k: v for k, v in client_options.items() if k not in _STDIO_ONLY}
            headers = {**dict(options.pop("headers", None) or {}), **self.headers}
            assert self.url is not None
            return AsyncMCPClient(
                self.url, transport=self._url_transport(), headers=headers or None, **options
            )
        except ConfigError as exc:
            raise ConfigError(f"server {self.name!r}: {exc}") from exc

    def _url_transport(self) -> Literal["auto", "streamable-http", "sse"]:
        if self.transport == "sse":
            return "sse"
        return "streamable-http" if self.transport == "streamable-http" else "auto"

    def _stdio_client(
        self, cls: type[AsyncMCPClient], client_options: Mapping[str, Any]
    ) -> AsyncMCPClient:
        from ..transports.stdio import StdioTransport

        options = {k: v for k, v in client_options.items() if k not in _HTTP_ONLY}
        stdio: dict[str, Any] = {
            "inherit_env": options.pop("inherit_env", False),
            "stderr": options.pop("stderr", None),
            "restart": options.pop("restart", True),
        }
        if "max_body_size" in options:  # it also bounds one line of the server's output
            stdio["max_line_size"] = options["max_body_size"]
        assert self.command is not None
        transport = StdioTransport(
            self.command, self.args, env=self.env, cwd=self.cwd, name=self.name, **stdio
        )
        return cls(transport, **options)


@dataclass(frozen=True, slots=True)
class MCPConfig:
    """A parsed configuration: enabled servers in file order, and the disabled ones' names.

    ``source`` is the file it was read from (``None`` for a dict).
    """

    servers: tuple[ServerSpec, ...]
    disabled: tuple[str, ...] = ()
    source: str | None = None

    @property
    def names(self) -> list[str]:
        """The enabled servers' names, in file order."""
        return [server.name for server in self.servers]


def project_folder(path: str | os.PathLike[str]) -> Path:
    """The folder relative paths of the config file ``path`` are taken from: the file's
    folder, or its parent for a file in a ``.vscode`` or ``.cursor`` folder (the
    workspace VS Code and Cursor name ``${workspaceFolder}``). Absolute."""
    folder = Path(path).expanduser().absolute().parent
    if folder.name in (".vscode", ".cursor"):
        return folder.parent
    return folder


def load_mcp_config(
    source: str | os.PathLike[str] | Mapping[str, Any],
    *,
    environ: Mapping[str, str] | None = None,
    base: str | os.PathLike[str] | None = None,
) -> MCPConfig:
    """Read a configuration file (or take a parsed dict) and check every entry.

    ``environ`` (default ``os.environ``) supplies the ``${VAR}`` values. ``base`` is the
    folder relative paths are taken from (see the module docstring); default: the
    file's :func:`project_folder`, none for a dict.
    """
    if isinstance(source, Mapping):
        return parse_mcp_config(source, environ=environ, base=base)
    if not isinstance(source, str | os.PathLike):
        raise ConfigError(
            f"an MCP config is a file path or a dict, got {type(source).__name__}"
        )
    path = Path(source).expanduser()
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ConfigError(f"cannot read MCP config {str(path)!r}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"MCP config {str(path)!r} is not UTF-8 text: {exc}") from exc
    return parse_mcp_config(
        _parse_json(text, str(path)), environ=environ, source=str(path),
        base=project_folder(path) if base is None else base,
    )


def parse_mcp_config(
    document: Any,
    *,
    environ: Mapping[str, str] | None = None,
    source: str | None = None,
    base: str | os.PathLike[str] | None = None,
) -> MCPConfig:
    """Check a parsed configuration document and return its :class:`MCPConfig`;
    ``base`` as in :func:`load_mcp_config`."""
    where = f"MCP config {source!r}" if source else "MCP config"
    if not isinstance(document, Mapping):
        raise ConfigError(f"{where} must be a JSON object, got {type(document).__name__}")
    roots = [key for key in ("mcpServers", "servers") if key in document]
    nested = document.get("mcp")
    if not roots and isinstance(nested, Mapping) and "servers" in nested:
        document, roots = nested, ["servers"]  # VS Code settings.json: {"mcp": {"servers"}}
    if not roots:
        raise ConfigError(
            f"{where} has no 'mcpServers' (Claude Desktop, Cursor) or 'servers' (VS Code) object"
        )
    if len(roots) > 1:
        raise ConfigError(f"{where} has both 'mcpServers' and 'servers'; keep one")
    entries = document[roots[0]]
    if not isinstance(entries, Mapping):
        raise ConfigError(
            f"{where}: '{roots[0]}' must be an object mapping server names to settings, "
            f"got {type(entries).__name__}"
        )
    env = os.environ if environ is None else environ
    servers: list[ServerSpec] = []
    disabled: list[str] = []
    for name, entry in entries.items():
        spec = parse_server(name, entry, environ=env, base=base)
        if spec is None:
            disabled.append(name)
        else:
            servers.append(spec)
    return MCPConfig(tuple(servers), tuple(disabled), source)


def parse_server(
    name: Any,
    entry: Any,
    *,
    environ: Mapping[str, str] | None = None,
    base: str | os.PathLike[str] | None = None,
) -> ServerSpec | None:
    """Check one server entry and expand its variables; ``None`` when it is disabled.

    With ``base`` (a folder), relative paths are resolved as the module docstring says.
    """
    if not isinstance(name, str) or not name:
        raise ConfigError(f"server names must be non-empty strings, got {name!r}")
    if not isinstance(entry, Mapping):
        raise ConfigError(
            f"server {name!r}: expected an object of settings, got {type(entry).__name__}"
        )
    folder = None if base is None else Path(base).expanduser().absolute()
    check = _Entry(name, entry, os.environ if environ is None else environ, folder)
    disabled = entry.get("disabled", False)
    if not isinstance(disabled, bool):
        raise ConfigError(f"server {name!r}: 'disabled' must be true or false, got {disabled!r}")
    if disabled:
        return None
    transport = check.transport()
    if transport == "stdio":
        command = check.text("command", required=True)
        if "url" in entry:
            raise ConfigError(f"server {name!r}: a stdio server has 'command', not 'url'")
        assert command is not None
        cwd = check.text("cwd")
        if folder is not None:
            start = folder / Path(cwd).expanduser() if cwd else folder
            cwd = str(start)
            if not Path(command).is_absolute() and _has_separator(command):
                command = str(start / command)
        return ServerSpec(
            name,
            "stdio",
            command=command,
            args=check.strings("args"),
            env=check.mapping("env"),
            cwd=cwd,
        )
    url = check.text("url", required=True)
    assert url is not None
    if "command" in entry:
        raise ConfigError(f"server {name!r}: an HTTP server has 'url', not 'command'")
    parsed = URL(url)
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ConfigError(f"server {name!r}: 'url' must be an absolute http(s) URL, got {url!r}")
    return ServerSpec(name, transport, url=url, headers=check.mapping("headers"))


def _has_separator(command: str) -> bool:
    """Whether ``command`` is a path (``./x``, ``bin/x``) rather than a name for ``PATH``."""
    return "/" in command or (os.altsep is not None and os.altsep in command) or (
        os.sep in command
    )


class _Entry:
    """Typed reads of one entry's fields, with variable expansion and named errors."""

    def __init__(
        self, name: str, entry: Mapping[str, Any], environ: Mapping[str, str],
        folder: Path | None = None,
    ):
        self.name = name
        self.entry = entry
        self.environ = environ
        if folder is not None:  # the hosts' name for the project folder wins
            self.environ = ChainMap({"workspaceFolder": str(folder)}, dict(environ))

    def error(self, field: str, problem: str) -> ConfigError:
        return ConfigError(f"server {self.name!r}: '{field}' {problem}")

    def expand(self, value: str, field: str) -> str:
        return expand_variables(value, self.environ, server=self.name, field=field)

    def transport(self) -> ServerTransport:
        chosen: dict[str, ServerTransport] = {}
        for key in ("type", "transport"):
            if key not in self.entry:
                continue
            value = self.entry[key]
            kind = (
                _TRANSPORTS.get(value.lower().replace("-", "").replace("_", ""))
                if isinstance(value, str) else None
            )
            if kind is None:
                raise self.error(key, f"must be {_TRANSPORT_NAMES}, got {value!r}")
            chosen[key] = kind
        if len(set(chosen.values())) > 1:
            raise ConfigError(
                f"server {self.name!r}: 'type' ({self.entry['type']!r}) and 'transport' "
                f"({self.entry['transport']!r}) disagree"
            )
        if chosen:
            return next(iter(chosen.values()))
        has_command, has_url = "command" in self.entry, "url" in self.entry
        if has_command and has_url:
            raise ConfigError(f"server {self.name!r} has both 'command' and 'url'; keep one")
        if not has_command and not has_url:
            raise ConfigError(
                f"server {self.name!r} needs 'command' (a local server) or 'url' (a remote one)"
            )
        return "stdio" if has_command else "auto"

    def text(self, key: str, *, required: bool = False) -> str | None:
        if key not in self.entry or self.entry[key] is None:
            if required:
                raise ConfigError(f"server {self.name!r} needs '{key}'")
            return None
        value = self.entry[key]
        if not isinstance(value, str) or (required and not value):
            raise self.error(key, f"must be a non-empty string, got {value!r}")
        return self.expand(value, key)

    def strings(self, key: str) -> tuple[str, ...]:
        value = self.entry.get(key)
        if value is None:
            return ()
        if not isinstance(value, list):
            raise self.error(key, f"must be a list of strings, got {type(value).__name__}")
        out = []
        for index, item in enumerate(value):
            label = f"{key}[{index}]"
            text = _scalar(item)
            if text is None:
                raise self.error(label, f"must be a string, got {item!r}")
            out.append(self.expand(text, label))
        return tuple(out)

    def mapping(self, key: str) -> dict[str, str]:
        value = self.entry.get(key)
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise self.error(key, f"must be an object of strings, got {type(value).__name__}")
        out = {}
        for item_key, item in value.items():
            label = f"{key}.{item_key}"
            text = _scalar(item)
            if text is None:
                raise self.error(label, f"must be a string, got {item!r}")
            out[str(item_key)] = self.expand(text, label)
        return out


def _scalar(value: Any) -> str | None:
    """A string, or a number written as one (``"PORT": 8080``); ``None`` for anything else."""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def expand_variables(
    text: str, environ: Mapping[str, str], *, server: str = "?", field: str = "?"
) -> str:
    """Replace ``${VAR}``, ``${env:VAR}`` and ``${VAR:-default}`` in ``text``.

    ``${VAR:-default}`` takes ``default`` when ``VAR`` is unset or empty, as in a POSIX
    shell. An unset ``VAR`` without a default, or a placeholder of another form (such as
    VS Code's ``${input:id}``), raises :class:`ConfigError` naming the server, the field
    and the variable.
    """

    def replace(match: re.Match[str]) -> str:
        inner = match.group(1)
        parsed = _VARIABLE.fullmatch(inner)
        if parsed is None:
            raise ConfigError(
                f"server {server!r}: '{field}' has {match.group(0)!r}; only ${{VAR}}, "
                "${VAR:-default} and ${env:VAR} are expanded"
            )
        variable, default = parsed.group(1), parsed.group(2)
        value = environ.get(variable)
        if default is not None:
            return value if value else default
        if value is None:
            raise ConfigError(
                f"server {server!r}: '{field}' uses ${{{variable}}}, but the environment "
                f"variable {variable} is not set"
            )
        return value

    return _PLACEHOLDER.sub(replace, text)


# -- JSON with comments ---------------------------------------------------------------------


def _parse_json(text: str, where: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        first = exc
    try:  # VS Code writes JSONC: comments and trailing commas
        return json.loads(_strip_jsonc(text))
    except ValueError:
        raise ConfigError(f"MCP config {where!r} is not valid JSON: {first}") from first


def _strip_jsonc(text: str) -> str:
    """``text`` without ``//`` and ``/* */`` comments and trailing commas (outside strings)."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char == '"':
            end = i + 1
            while end < n and text[end] != '"':
                end += 2 if text[end] == "\\" else 1
            out.append(text[i:end + 1])
            i = end + 1
        elif text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
        elif char in "}]":
            last = len(out) - 1
            while last >= 0 and out[last].isspace():
                last -= 1
            if last >= 0 and out[last] == ",":
                del out[last]
            out.append(char)
            i += 1
        else:
            out.append(char)
            i += 1
    return "".join(out)


# -- the files of the common hosts -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HostConfigFile:
    """Where a host application keeps its MCP servers: ``host`` names it."""

    host: str
    path: Path


def host_config_files(
    *,
    cwd: str | os.PathLike[str] | None = None,
    home: str | os.PathLike[str] | None = None,
    platform: str = sys.platform,
    environ: Mapping[str, str] | None = None,
) -> list[HostConfigFile]:
    """The usual configuration files of the common hosts, project files first.

    VS Code ``./.vscode/mcp.json``, Cursor ``./.cursor/mcp.json`` and
    ``~/.cursor/mcp.json``, then Claude Desktop's ``claude_desktop_config.json``
    (``~/Library/Application Support/Claude`` on macOS, ``%APPDATA%\\Claude`` on
    Windows, ``$XDG_CONFIG_HOME/Claude`` or ``~/.config/Claude`` elsewhere).
    Whether they exist is not checked (see :func:`find_host_configs`).
    """
    env = os.environ if environ is None else environ
    here = Path.cwd() if cwd is None else Path(cwd)
    user = Path.home() if home is None else Path(home)
    if platform == "darwin":
        claude = user / "Library" / "Application Support" / "Claude"
    elif platform.startswith("win"):
        claude = Path(env.get("APPDATA") or user / "AppData" / "Roaming") / "Claude"
    else:
        claude = Path(env.get("XDG_CONFIG_HOME") or user / ".config") / "Claude"
    return [
        HostConfigFile("VS Code (workspace)", here / ".vscode" / "mcp.json"),
        HostConfigFile("Cursor (project)", here / ".cursor" / "mcp.json"),
        HostConfigFile("Cursor", user / ".cursor" / "mcp.json"),
        HostConfigFile("Claude Desktop", claude / "claude_desktop_config.json"),
    ]


def find_host_configs(**where: Any) -> list[HostConfigFile]:
    """The files of :func:`host_config_files` (same arguments) that exist, in its order."""
    return [candidate for candidate in host_config_files(**where) if candidate.path.is_file()]
