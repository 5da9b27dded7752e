"""The MCP skills extension (SEP-2640, ``io.modelcontextprotocol/skills``).

A server publishes `Agent Skills <https://agentskills.io/>`_ as resources (a skill is
a directory whose ``SKILL.md`` starts with YAML frontmatter). ``skills/list`` and
``skills/get`` return *entries*: the skill's frontmatter and a manifest of its files
with the SHA-256 digest and size of each. :class:`Skills` lists and gets entries and
*loads* a skill: only then does it read ``SKILL.md`` (never ahead of need), and it
refuses any file whose bytes do not match the entry, and any ``SKILL.md`` whose
frontmatter differs from the entry's, with a :class:`SkillVerificationError`.

Declare the extension by passing :func:`skills_capabilities` to the client::

    async with AsyncMCPClient(url, capabilities=skills_capabilities()) as client:
        skills = Skills(client)
        for entry in await skills.list_all():
            print(entry.name, entry.description)
        skill = await skills.load("skill://pdf-processing/SKILL.md")
        print(skill.body)
        forms = await skill.read("references/FORMS.md")   # verified bytes
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

from .._exceptions import ConfigError, MCPClientError, UnexpectedResponseError
from ..protocol.models import (
    BlobResourceContents,
    InitializeResult,
    ReadResourceResult,
    TextResourceContents,
)

__all__ = [
    "DIRECTORY_MIME_TYPE",
    "MAX_RESOURCES_PER_SKILL",
    "MAX_SKILL_BYTES",
    "SKILLS_EXTENSION",
    "DirectoryEntry",
    "DirectoryPage",
    "InvalidSkillEntry",
    "LoadedSkill",
    "Skill",
    "SkillFile",
    "SkillLimitError",
    "SkillPage",
    "SkillVerificationError",
    "Skills",
    "SkillsClient",
    "SkillsError",
    "SkillsNotSupportedError",
    "parse_frontmatter",
    "skills_capabilities",
]

#: The extension's identifier, under ``capabilities.extensions``.
SKILLS_EXTENSION: Final = "io.modelcontextprotocol/skills"
#: The ``mimeType`` of a directory resource (``resources/directory/read``).
DIRECTORY_MIME_TYPE: Final = "inode/directory"
#: Hosts must accept skills up to these limits (SEP-2640 "Limits"); larger ones are
#: refused unless the caller raises them.
MAX_RESOURCES_PER_SKILL: Final = 512
MAX_SKILL_BYTES: Final = 16 * 1024 * 1024

_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
_SKILL_MD = "SKILL.md"


def skills_capabilities(
    capabilities: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Client capabilities that declare the skills extension (merged into
    ``capabilities`` when given); pass them as ``AsyncMCPClient(capabilities=...)``.

    The extension is declared only this way: a client that was not given them never
    tells servers it handles skills.
    """
    merged = dict(capabilities or {})
    extensions = dict(merged.get("extensions") or {})
    extensions[SKILLS_EXTENSION] = {}
    merged["extensions"] = extensions
    return merged



class SkillsClient(Protocol):
    """What :class:`Skills` uses of a client; :class:`~mcp_async.AsyncMCPClient` is one."""

    async def initialize(self) -> InitializeResult:
        """Connect (if not yet) and return what the server said of itself."""

    async def request(
        self, method: str, params: Mapping[str, Any] | None = None, *, idempotent: bool = False,
    ) -> Any:
        """Send one request and return its raw result."""

    async def read_resource(self, uri: str) -> ReadResourceResult:
        """Read one resource."""


class SkillsError(MCPClientError):
    """Base class of the skills extension's errors."""


class SkillsNotSupportedError(SkillsError):
    """The server did not declare the skills extension (or, for directory reads, its
    ``directoryRead`` setting), so the request was not sent."""


class SkillVerificationError(SkillsError):
    """Content did not match the skill's entry; it was not used.

    ``reason`` is one of ``"digest"``, ``"size"``, ``"frontmatter"``, ``"unlisted"``
    (a file the held entry does not list), ``"entry"`` (the entry itself is invalid) or
    ``"dynamic"`` (the entry publishes no digests and the caller did not allow that).
    ``uri`` names the file or skill.
    """

    def __init__(self, message: str, *, uri: str, reason: str) -> None:
        super().__init__(message)
        self.uri = uri
        self.reason = reason


class SkillLimitError(SkillsError):
    """A skill exceeds the per-skill limits the caller accepts (file count or total
    size, checked from the entry before anything is read)."""


@dataclass(frozen=True)
class SkillFile:
    """One file of a skill: its resource URI, SHA-256 ``digest`` (``sha256:<hex>``)
    and ``size`` in bytes, as the entry lists it."""

    uri: str
    digest: str
    size: int


@dataclass(frozen=True)
class Skill:
    """A skill entry from ``skills/list`` or ``skills/get``.

    ``frontmatter`` is the skill's ``SKILL.md`` frontmatter as the server publishes it;
    ``files`` the complete manifest, or ``None`` when the server marks the skill
    ``"dynamic"`` (no digests: its content cannot be verified).
    """

    uri: str
    frontmatter: dict[str, Any]
    files: tuple[SkillFile, ...] | None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def name(self) -> str:
        """The skill's ``name`` (the last segment of its path)."""
        return str(self.frontmatter["name"])

    @property
    def description(self) -> str:
        """The skill's ``description``."""
        return str(self.frontmatter["description"])

    @property
    def root(self) -> str:
        """The skill's directory URI: :attr:`uri` without ``/SKILL.md``."""
        return self.uri[: -len(_SKILL_MD) - 1]

    @property
    def dynamic(self) -> bool:
        """Whether the server publishes no manifest (``"resources": "dynamic"``)."""
        return self.files is None

    @property
    def total_size(self) -> int:
        """The sum of the listed files' sizes (0 for a dynamic skill)."""
        return sum(f.size for f in self.files or ())

    def file(self, uri: str) -> SkillFile | None:
        """The manifest entry for ``uri``, if the skill lists it."""
        for entry in self.files or ():
            if entry.uri == uri:
                return entry
        return None

    @classmethod
    def from_dict(cls, data: object) -> Skill:
        """Decode and check a wire skill entry; :class:`SkillVerificationError`
        (``reason="entry"``) says what is wrong with a malformed one."""
        if not isinstance(data, dict):
            raise _bad_entry("?", f"a skill entry must be an object, got {type(data).__name__}")
        uri = data.get("uri")
        if not isinstance(uri, str) or not uri.endswith("/" + _SKILL_MD):
            raise _bad_entry(str(uri), "the entry's uri must be a string ending in /SKILL.md")
        front = data.get("frontmatter")
        if not isinstance(front, dict):
            raise _bad_entry(uri, "the entry has no frontmatter object")
        for key in ("name", "description"):
            if not isinstance(front.get(key), str) or not front[key]:
                raise _bad_entry(uri, f"the entry's frontmatter has no {key!r} string")
        if uri[: -len(_SKILL_MD) - 1].rsplit("/", 1)[-1] != front["name"]:
            raise _bad_entry(
                uri, f"the last segment of the skill path is not its name {front['name']!r}"
            )
        resources = data.get("resources")
        files: tuple[SkillFile, ...] | None
        if resources == "dynamic":
            files = None
        elif isinstance(resources, list):
            files = tuple(_skill_file(uri, item) for item in resources)
            seen = [f.uri for f in files]
            if len(set(seen)) != len(seen):
                raise _bad_entry(uri, "the entry lists a file more than once")
            if uri not in seen:
                raise _bad_entry(uri, "the entry's resources do not list its SKILL.md")
        else:
            raise _bad_entry(uri, "the entry's resources must be a list or \"dynamic\"")
        return cls(uri=uri, frontmatter=front, files=files, raw=data)


def _bad_entry(uri: str, message: str) -> SkillVerificationError:
    return SkillVerificationError(f"invalid skill entry {uri}: {message}", uri=uri,
                                  reason="entry")


def _skill_file(skill_uri: str, item: object) -> SkillFile:
    if not isinstance(item, dict):
        raise _bad_entry(skill_uri, "a resources item is not an object")
    uri, digest, size = item.get("uri"), item.get("digest"), item.get("size")
    if not isinstance(uri, str):
        raise _bad_entry(skill_uri, "a resources item has no uri")
    root = skill_uri[: -len(_SKILL_MD)]
    if not uri.startswith(root) or "/../" in uri[len(root) - 1:] or uri.endswith("/.."):
        raise _bad_entry(skill_uri, f"{uri} is not a file within the skill")
    if not isinstance(digest, str) or not _DIGEST.fullmatch(digest):
        raise _bad_entry(skill_uri, f"{uri}: digest must be sha256:<64 lowercase hex>")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise _bad_entry(skill_uri, f"{uri}: size must be a non-negative integer")
    return SkillFile(uri=uri, digest=digest, size=size)


@dataclass(frozen=True)
class InvalidSkillEntry:
    """A listed entry that could not be used, kept with the reason (never dropped
    silently)."""

    raw: Any
    error: SkillVerificationError


@dataclass(frozen=True)
class SkillPage:
    """One page of ``skills/list``: the usable entries, the rejected ones, and the
    cursor of the next page (``None`` on the last)."""

    skills: tuple[Skill, ...]
    invalid: tuple[InvalidSkillEntry, ...]
    next_cursor: str | None


@dataclass(frozen=True)
class DirectoryEntry:
    """A direct child of a directory resource (``resources/directory/read``)."""

    uri: str
    name: str
    mime_type: str | None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def is_directory(self) -> bool:
        """Whether the child is itself a directory (``inode/directory``)."""
        return self.mime_type == DIRECTORY_MIME_TYPE


@dataclass(frozen=True)
class DirectoryPage:
    """One page of a directory's children."""

    entries: tuple[DirectoryEntry, ...]
    next_cursor: str | None


@dataclass(frozen=True)
class LoadedSkill:
    """A skill whose ``SKILL.md`` was read and verified against ``entry``.

    ``content`` is the verified ``SKILL.md`` text, ``frontmatter`` its parsed
    frontmatter (equal to the entry's) and ``body`` the text after it. Supporting files
    are read on demand with :meth:`read`, only those the held entry lists.
    """

    entry: Skill
    content: str
    frontmatter: dict[str, Any]
    body: str
    _skills: Skills = field(repr=False, compare=False)
    # Bytes read so far for a dynamic skill (whose entry bounds nothing), in a list
    # because the dataclass is frozen.
    _read_so_far: list[int] = field(default_factory=lambda: [0], repr=False, compare=False)

    @property
    def uri(self) -> str:
        """The skill's ``SKILL.md`` URI."""
        return self.entry.uri

    @property
    def files(self) -> tuple[SkillFile, ...]:
        """The supporting files the entry lists (``SKILL.md`` excluded)."""
        return tuple(f for f in self.entry.files or () if f.uri != self.entry.uri)

    def resolve(self, path: str) -> str:
        """The URI of ``path``: a URI as is, a relative path against the skill root."""
        if "://" in path:
            return path
        parts: list[str] = []
        for segment in path.split("/"):
            if segment in ("", "."):
                continue
            if segment == "..":
                if not parts:
                    raise ConfigError(f"{path!r} leaves the skill directory")
                parts.pop()
            else:
                parts.append(segment)
        if not parts:
            raise ConfigError(f"{path!r} names no file")
        return self.entry.root + "/" + "/".join(parts)

    async def read(self, path: str) -> bytes:
        """Read a file of the skill (a URI, or a path relative to the skill root) and
        return its bytes after checking them against the entry.

        A file the entry does not list is refused without a request
        (``reason="unlisted"``); for a dynamic skill nothing can be checked but the
        total size read (``SKILL.md`` included) stays under ``max_bytes``.
        """
        uri = self.resolve(path)
        if self.entry.files is None:
            if not uri.startswith(self.entry.root + "/"):
                raise SkillVerificationError(
                    f"{uri} is not within the skill {self.entry.uri}", uri=uri,
                    reason="unlisted",
                )
            data = await self._skills._read_bytes(uri, None)
            self._read_so_far[0] += len(data)
            if self._read_so_far[0] > self._skills.max_bytes:
                raise SkillLimitError(
                    f"reading {uri} takes the dynamic skill {self.entry.uri} past "
                    f"{self._skills.max_bytes} bytes (max_bytes); it was not returned"
                )
            return data
        listed = self.entry.file(uri)
        if listed is None:
            raise SkillVerificationError(
                f"{uri} is not listed in the entry of {self.entry.uri}; refresh the entry "
                "with skills.get() to see the skill's current files", uri=uri,
                reason="unlisted",
            )
        return await self._skills._read_bytes(uri, listed)

    async def read_text(self, path: str) -> str:
        """:meth:`read` decoded as UTF-8 (:class:`SkillVerificationError` if it is not)."""
        data = await self.read(path)
        uri = self.resolve(path)
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            raise SkillVerificationError(f"{uri} is not UTF-8 text", uri=uri,
                                         reason="entry") from None


class Skills:
    """The skills extension on one client: list and get entries, load skills, read
    directories. ``max_files`` / ``max_bytes`` are the per-skill limits accepted by
    :meth:`load` (SEP-2640's, by default); ``allow_dynamic`` lets :meth:`load` take
    skills that publish no digests (their content cannot be verified).
    """

    def __init__(
        self,
        client: SkillsClient,
        *,
        max_files: int = MAX_RESOURCES_PER_SKILL,
        max_bytes: int = MAX_SKILL_BYTES,
        max_pages: int = 100,
        allow_dynamic: bool = False,
    ) -> None:
        for name, value in (("max_files", max_files), ("max_bytes", max_bytes),
                            ("max_pages", max_pages)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigError(f"{name} must be a positive integer, got {value!r}")
        self._client = client
        self.max_files = max_files
        self.max_bytes = max_bytes
        self.max_pages = max_pages
        self.allow_dynamic = allow_dynamic

    # -- the server's declaration -------------------------------------------------
    async def settings(self) -> dict[str, Any] | None:
        """The server's settings for the extension, or ``None`` if it did not declare
        it (connects first)."""
        described = await self._client.initialize()
        extensions = described.capabilities.extensions or {}
        value = extensions.get(SKILLS_EXTENSION)
        if value is None:
            return None
        return value if isinstance(value, dict) else {}

    async def supported(self) -> bool:
        """Whether the server declared the skills extension."""
        return await self.settings() is not None

    async def _require(self, method: str) -> dict[str, Any]:
        settings = await self.settings()
        if settings is None:
            raise SkillsNotSupportedError(
                f"the server did not declare the {SKILLS_EXTENSION} extension; "
                f"{method} was not sent"
            )
        return settings

    # -- entries --------------------------------------------------------------------
    async def list_page(self, cursor: str | None = None) -> SkillPage:
        """One page of ``skills/list``. Malformed entries are returned in
        :attr:`SkillPage.invalid` with the reason, never loaded."""
        await self._require("skills/list")
        params: dict[str, Any] = {}
        if cursor is not None:
            if not isinstance(cursor, str):
                raise ConfigError("cursor must be a string")
            params["cursor"] = cursor
        raw = await self._client.request("skills/list", params, idempotent=True)
        items = raw.get("skills")
        if not isinstance(items, list):
            raise UnexpectedResponseError("skills/list: the result has no 'skills' list")
        good: list[Skill] = []
        bad: list[InvalidSkillEntry] = []
        for item in items:
            try:
                good.append(Skill.from_dict(item))
            except SkillVerificationError as exc:
                bad.append(InvalidSkillEntry(raw=item, error=exc))
        next_cursor = raw.get("nextCursor")
        if next_cursor is not None and not isinstance(next_cursor, str):
            raise UnexpectedResponseError("skills/list: nextCursor must be a string")
        return SkillPage(skills=tuple(good), invalid=tuple(bad), next_cursor=next_cursor)

    async def list_all(self) -> list[Skill]:
        """Every usable entry, walking the pages (at most ``max_pages``; a repeated
        cursor or too many pages raises :class:`~mcp_async.UnexpectedResponseError`).
        An empty listing does not mean the server has no skills: :meth:`get` and
        :meth:`load` take any skill's URI."""
        skills: list[Skill] = []
        cursor: str | None = None
        seen: set[str] = set()
        for _ in range(self.max_pages):
            page = await self.list_page(cursor)
            skills.extend(page.skills)
            if page.next_cursor is None:
                return skills
            if page.next_cursor in seen:
                raise UnexpectedResponseError("skills/list: the server repeated a cursor")
            seen.add(page.next_cursor)
            cursor = page.next_cursor
        raise UnexpectedResponseError(
            f"skills/list: still more pages after {self.max_pages} (max_pages)"
        )

    async def get(self, uri: str) -> Skill:
        """The entry of the skill whose ``SKILL.md`` is at ``uri`` (``skills/get``); a
        server that does not serve it answers -32602
        (:class:`~mcp_async.JSONRPCError`)."""
        if not isinstance(uri, str) or not uri.endswith("/" + _SKILL_MD):
            raise ConfigError(f"a skill URI must end in /SKILL.md, got {uri!r}")
        await self._require("skills/get")
        raw = await self._client.request("skills/get", {"uri": uri}, idempotent=True)
        skill = Skill.from_dict(raw.get("skill"))
        if skill.uri != uri:
            raise SkillVerificationError(
                f"skills/get for {uri} answered with the entry of {skill.uri}", uri=uri,
                reason="entry",
            )
        return skill

    # -- loading ----------------------------------------------------------------------
    async def load(self, skill: Skill | str) -> LoadedSkill:
        """Load a skill: read its ``SKILL.md`` now (nothing was read before), check
        size and digest against the entry and the frontmatter field by field against
        the entry's. Given a URI, the entry is fetched first with :meth:`get`.

        Raises :class:`SkillVerificationError` on any mismatch (the content is not
        returned) and :class:`SkillLimitError` for a skill over the limits.
        """
        entry = skill if isinstance(skill, Skill) else await self.get(skill)
        if entry.files is None and not self.allow_dynamic:
            raise SkillVerificationError(
                f"{entry.uri} publishes no digests (\"dynamic\"); pass allow_dynamic=True "
                "to load unverifiable skills", uri=entry.uri, reason="dynamic",
            )
        if entry.files is not None:
            if len(entry.files) > self.max_files:
                raise SkillLimitError(
                    f"{entry.uri} lists {len(entry.files)} files; the limit is "
                    f"{self.max_files} (max_files)"
                )
            if entry.total_size > self.max_bytes:
                raise SkillLimitError(
                    f"{entry.uri} holds {entry.total_size} bytes; the limit is "
                    f"{self.max_bytes} (max_bytes)"
                )
        data = await self._read_bytes(entry.uri, entry.file(entry.uri))
        try:
            content = data.decode("utf-8")
        except UnicodeDecodeError:
            raise SkillVerificationError(f"{entry.uri} is not UTF-8 text", uri=entry.uri,
                                         reason="frontmatter") from None
        frontmatter, body = parse_frontmatter(content, uri=entry.uri)
        _compare_frontmatter(entry, frontmatter)
        return LoadedSkill(entry=entry, content=content, frontmatter=frontmatter, body=body,
                           _skills=self, _read_so_far=[len(data)])

    async def _read_bytes(self, uri: str, listed: SkillFile | None) -> bytes:
        result = await self._client.read_resource(uri)
        chunks: list[bytes] = []
        for item in result.contents:
            if item.uri != uri:
                continue
            if isinstance(item, TextResourceContents):
                chunks.append(item.text.encode("utf-8"))
            elif isinstance(item, BlobResourceContents):
                try:
                    chunks.append(base64.b64decode(item.blob, validate=True))
                except ValueError:
                    raise SkillVerificationError(
                        f"{uri}: the blob is not valid base64", uri=uri, reason="digest"
                    ) from None
        if len(chunks) != 1:
            raise SkillVerificationError(
                f"resources/read of {uri} returned {len(chunks)} contents for that URI, "
                "expected exactly one", uri=uri, reason="digest",
            )
        data = chunks[0]
        if listed is None:
            if len(data) > self.max_bytes:
                raise SkillLimitError(f"{uri} is {len(data)} bytes; the limit is "
                                      f"{self.max_bytes} (max_bytes)")
            return data
        if len(data) != listed.size:
            raise SkillVerificationError(
                f"{uri} is {len(data)} bytes but its entry says {listed.size}; not used",
                uri=uri, reason="size",
            )
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        if digest != listed.digest:
            raise SkillVerificationError(
                f"{uri} does not match its entry's digest; not used", uri=uri,
                reason="digest",
            )
        return data

    # -- directories ------------------------------------------------------------------
    async def read_directory(self, uri: str, cursor: str | None = None) -> DirectoryPage:
        """One page of a directory resource's direct children
        (``resources/directory/read``). Sent only to a server that declared
        ``directoryRead: true``; otherwise :class:`SkillsNotSupportedError`."""
        if not isinstance(uri, str) or not uri:
            raise ConfigError("uri must be a non-empty string")
        settings = await self._require("resources/directory/read")
        if settings.get("directoryRead") is not True:
            raise SkillsNotSupportedError(
                "the server did not declare directoryRead; resources/directory/read "
                "was not sent"
            )
        params: dict[str, Any] = {"uri": uri}
        if cursor is not None:
            params["cursor"] = cursor
        raw = await self._client.request("resources/directory/read", params, idempotent=True)
        items = raw.get("resources")
        if not isinstance(items, list):
            raise UnexpectedResponseError(
                "resources/directory/read: the result has no 'resources' list"
            )
        entries: list[DirectoryEntry] = []
        for item in items:
            if not isinstance(item, dict) or not isinstance(item.get("uri"), str):
                raise UnexpectedResponseError(
                    "resources/directory/read: a child is not a resource with a uri"
                )
            mime = item.get("mimeType")
            entries.append(DirectoryEntry(
                uri=item["uri"], name=str(item.get("name") or item["uri"].rsplit("/", 1)[-1]),
                mime_type=mime if isinstance(mime, str) else None, raw=item,
            ))
        next_cursor = raw.get("nextCursor")
        if next_cursor is not None and not isinstance(next_cursor, str):
            raise UnexpectedResponseError("resources/directory/read: nextCursor must be a string")
        return DirectoryPage(entries=tuple(entries), next_cursor=next_cursor)

    async def list_directory(self, uri: str) -> list[DirectoryEntry]:
        """Every direct child of a directory resource, walking the pages (bounded by
        ``max_pages``, like :meth:`list_all`)."""
        entries: list[DirectoryEntry] = []
        cursor: str | None = None
        seen: set[str] = set()
        for _ in range(self.max_pages):
            page = await self.read_directory(uri, cursor)
            entries.extend(page.entries)
            if page.next_cursor is None:
                return entries
            if page.next_cursor in seen:
                raise UnexpectedResponseError(
                    "resources/directory/read: the server repeated a cursor"
                )
            seen.add(page.next_cursor)
            cursor = page.next_cursor
        raise UnexpectedResponseError(
            f"resources/directory/read: still more pages after {self.max_pages} (max_pages)"
        )


def parse_frontmatter(text: str, *, uri: str = "SKILL.md") -> tuple[dict[str, Any], str]:
    """Split a ``SKILL.md`` into its YAML frontmatter (a dict) and body.

    Scalars that YAML would turn into dates stay strings, as the JSON rendering of the
    frontmatter in a skill entry has them. :class:`SkillVerificationError`
    (``reason="frontmatter"``) when there is no well-formed frontmatter mapping.
    """
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].rstrip("\r\n") != "---":
        raise SkillVerificationError(f"{uri} does not begin with YAML frontmatter", uri=uri,
                                     reason="frontmatter")
    for index in range(1, len(lines)):
        if lines[index].rstrip("\r\n") == "---":
            block = "".join(lines[1:index])
            body = "".join(lines[index + 1:])
            break
    else:
        raise SkillVerificationError(f"{uri}: the frontmatter is not closed with ---",
                                     uri=uri, reason="frontmatter")
    try:
        import yaml  # type: ignore[import-untyped]
    except ImportError:  # pragma: no cover - depends on the environment
        raise ConfigError(
            "loading skills needs the 'pyyaml' package: pip install 'mcp-async[skills]'"
        ) from None
    try:
        value = yaml.load(block, Loader=_loader(yaml))
    except yaml.YAMLError as exc:
        raise SkillVerificationError(f"{uri}: the frontmatter is not valid YAML ({exc})",
                                     uri=uri, reason="frontmatter") from None
    except RecursionError:
        raise SkillVerificationError(f"{uri}: the frontmatter nests too deeply", uri=uri,
                                     reason="frontmatter") from None
    if not isinstance(value, dict):
        raise SkillVerificationError(f"{uri}: the frontmatter is not a mapping", uri=uri,
                                     reason="frontmatter")
    return value, body


_LOADER: Any = None


def _loader(yaml: Any) -> Any:
    """A safe loader that keeps timestamps as strings (JSON has no dates)."""
    global _LOADER
    if _LOADER is None:
        class _Loader(yaml.SafeLoader):  # type: ignore[misc]
            pass

        _Loader.yaml_implicit_resolvers = {
            key: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
            for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
        }
        _LOADER = _Loader
    return _LOADER


def _compare_frontmatter(entry: Skill, parsed: dict[str, Any]) -> None:
    declared = entry.frontmatter
    for key in sorted(set(declared) | set(parsed)):
        if key not in parsed:
            problem = f"the entry has {key!r}, SKILL.md does not"
        elif key not in declared:
            problem = f"SKILL.md has {key!r}, the entry does not"
        elif not _same_within_depth(parsed[key], declared[key]):
            problem = f"{key!r} differs between SKILL.md and the entry"
        else:
            continue
        raise SkillVerificationError(
            f"{entry.uri}: frontmatter mismatch: {problem}; the skill was not loaded",
            uri=entry.uri, reason="frontmatter",
        )


def _same_within_depth(a: Any, b: Any) -> bool:
    try:
        return _same(a, b)
    except RecursionError:  # nested past any real frontmatter: treat as a mismatch
        return False


def _same(a: Any, b: Any) -> bool:
    """JSON equality: ``1`` and ``True`` differ, ``1`` and ``1.0`` do not."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    return type(a) is type(b) and bool(a == b)

