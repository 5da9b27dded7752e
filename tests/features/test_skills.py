"""The skills extension (mcp_async.features.skills, SEP-2640) against a scripted server.

The conformance harness's four ``sep-2640-client-*`` scenarios run the same client
code from outside (tests/conformance); these tests cover the rest of the API and its
errors on both protocol eras.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import pytest

from mcp_async import JSONRPCError
from mcp_async.features.skills import (
    SKILLS_EXTENSION,
    LoadedSkill,
    Skill,
    SkillLimitError,
    Skills,
    SkillsNotSupportedError,
    SkillVerificationError,
    parse_frontmatter,
    skills_capabilities,
)
from mcp_async.protocol.jsonrpc import ErrorResponse, Request, Response
from tests.scripted import ScriptedServer, scripted_session

MODERN = "2026-07-28"
HANDSHAKE = "2025-11-25"
PDF = "skill://pdf-processing/SKILL.md"
FORMS = "skill://pdf-processing/references/FORMS.md"
PDF_MD = (
    "---\nname: pdf-processing\ndescription: Extract, fill, and assemble PDF documents\n"
    "metadata:\n  version: '2.1'\n  released: 2026-01-02\n---\n\n# PDF\n\nSee references/FORMS.md\n"
)
PDF_FRONT = {
    "name": "pdf-processing", "description": "Extract, fill, and assemble PDF documents",
    "metadata": {"version": "2.1", "released": "2026-01-02"},
}
FORMS_BYTES = b"Forms: fill them.\n"
GIT = "skill://acme/git-workflow/SKILL.md"
GIT_MD = "---\nname: git-workflow\ndescription: Branch and commit\n---\nUse short branches.\n"


def digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def file_entry(uri: str, data: bytes) -> dict[str, Any]:
    return {"uri": uri, "digest": digest(data), "size": len(data)}


def pdf_entry(**changes: Any) -> dict[str, Any]:
    entry = {
        "uri": PDF, "frontmatter": dict(PDF_FRONT),
        "resources": [file_entry(PDF, PDF_MD.encode()), file_entry(FORMS, FORMS_BYTES)],
    }
    entry.update(changes)
    return entry


def git_entry() -> dict[str, Any]:
    return {"uri": GIT, "frontmatter": {"name": "git-workflow",
                                        "description": "Branch and commit"},
            "resources": [file_entry(GIT, GIT_MD.encode())]}


class SkillServer(ScriptedServer):
    """Serves skills in either era; ``files`` maps URIs to what resources/read returns."""

    def __init__(self, peer: Any, era: str, settings: dict[str, Any] | None,
                 pages: list[list[Any]], files: dict[str, bytes | str],
                 directories: dict[str, list[list[dict[str, Any]]]]) -> None:
        super().__init__(peer)
        self.era = era
        self.settings = settings
        self.pages = pages
        self.files = files
        self.directories = directories

    def capabilities(self) -> dict[str, Any]:
        caps: dict[str, Any] = {"resources": {}}
        if self.settings is not None:
            caps["extensions"] = {SKILLS_EXTENSION: self.settings}
        return caps

    async def answer(self, request: Request) -> None:
        params = request.params or {}
        method = request.method
        if method == "server/discover":
            if self.era != "modern":
                return await self.error(request, -32601, "Method not found")
            return await self.reply(request, {
                "resultType": "complete", "supportedVersions": [MODERN],
                "capabilities": self.capabilities(), "ttlMs": 0, "cacheScope": "private",
                "_meta": {"io.modelcontextprotocol/serverInfo": {"name": "s", "version": "1"}},
            })
        if method == "initialize":
            return await self.reply(request, {
                "protocolVersion": HANDSHAKE, "capabilities": self.capabilities(),
                "serverInfo": {"name": "s", "version": "1"},
            })
        if method == "skills/list":
            index = int(params.get("cursor") or 0)
            result: dict[str, Any] = {"skills": self.pages[index]}
            if index + 1 < len(self.pages):
                result["nextCursor"] = str(index + 1)
            return await self.reply(request, result)
        if method == "skills/get":
            for page in self.pages:
                for entry in page:
                    if isinstance(entry, dict) and entry.get("uri") == params["uri"]:
                        return await self.reply(request, {"skill": entry})
            return await self.error(request, -32602, f"No skill is served at {params['uri']}")
        if method == "resources/read":
            data = self.files.get(params["uri"])
            if data is None:
                return await self.error(request, -32602, "Resource not found")
            content: dict[str, Any] = {"uri": params["uri"]}
            if isinstance(data, bytes):
                content["blob"] = base64.b64encode(data).decode()
            else:
                content["text"] = data
            return await self.reply(request, {"contents": [content]})
        if method == "resources/directory/read":
            pages = self.directories.get(params["uri"])
            if pages is None:
                return await self.error(request, -32602, "not a directory resource")
            index = int(params.get("cursor") or 0)
            result = {"resources": pages[index]}
            if index + 1 < len(pages):
                result["nextCursor"] = str(index + 1)
            return await self.reply(request, result)
        await self.error(request, -32601, f"Method not found: {method}")

    async def reply(self, request: Request, result: dict[str, Any]) -> None:
        if self.era == "modern":
            result = {"resultType": "complete", **result}
        await self.peer.send(Response(request.id, result))

    async def error(self, request: Request, code: int, message: str) -> None:
        await self.peer.send(ErrorResponse(request.id, code, message, None))

    def reads(self) -> list[str]:
        return [r.params["uri"] for r in self.requests("resources/read") if r.params]


def serve(
    era: str = "legacy", *, settings: dict[str, Any] | None = None,
    pages: list[list[Any]] | None = None, files: dict[str, bytes | str] | None = None,
    directories: dict[str, list[list[dict[str, Any]]]] | None = None, declare: bool = True,
    **options: Any,
) -> Any:
    def make(peer: Any) -> SkillServer:
        return SkillServer(
            peer, era, {} if settings is None else settings,
            pages if pages is not None else [[pdf_entry()], [git_entry()]],
            files if files is not None else {PDF: PDF_MD, FORMS: FORMS_BYTES, GIT: GIT_MD},
            directories or {},
        )
    protocol = MODERN if era == "modern" else "legacy"
    capabilities = skills_capabilities() if declare else None
    return scripted_session(make, protocol=protocol, capabilities=capabilities, **options)


def serve_undeclared(era: str = "legacy") -> Any:
    def make(peer: Any) -> SkillServer:
        server = SkillServer(peer, era, None, [[pdf_entry()]], {PDF: PDF_MD}, {})
        return server
    return scripted_session(make, protocol=MODERN if era == "modern" else "legacy",
                            capabilities=skills_capabilities())


# -- declaration ------------------------------------------------------------------------
def test_skills_capabilities_declare_the_extension_and_keep_what_was_given() -> None:
    assert skills_capabilities() == {"extensions": {SKILLS_EXTENSION: {}}}
    merged = skills_capabilities({"roots": {}, "extensions": {"x/y": {"a": 1}}})
    assert merged == {"roots": {}, "extensions": {"x/y": {"a": 1}, SKILLS_EXTENSION: {}}}


@pytest.mark.parametrize("declare", [True, False])
async def test_the_extension_is_declared_only_when_enabled(declare: bool) -> None:
    async with serve(declare=declare) as (client, server):
        await client.initialize()
    params = server.requests("initialize")[0].params
    assert params is not None
    extensions = params["capabilities"].get("extensions") or {}
    assert (SKILLS_EXTENSION in extensions) is declare


# -- listing ----------------------------------------------------------------------------
@pytest.mark.parametrize("era", ["legacy", "modern"])
async def test_list_all_walks_the_pages_and_reads_no_file(era: str) -> None:
    async with serve(era) as (client, server):
        skills = Skills(client)
        assert await skills.supported()
        listed = await skills.list_all()
    assert [s.uri for s in listed] == [PDF, GIT]
    pdf = listed[0]
    assert (pdf.name, pdf.description, pdf.root) == (
        "pdf-processing", PDF_FRONT["description"], "skill://pdf-processing")
    assert pdf.files is not None and [f.uri for f in pdf.files] == [PDF, FORMS]
    assert pdf.total_size == len(PDF_MD.encode()) + len(FORMS_BYTES)
    assert [(r.params or {}).get("cursor") for r in server.requests("skills/list")] == [
        None, "1"]
    assert server.reads() == []  # never ahead of need


async def test_malformed_entries_are_reported_not_dropped_and_not_loadable() -> None:
    bad = pdf_entry(resources=[{"uri": PDF, "digest": "md5:abc", "size": 3}])
    async with serve(pages=[[bad, git_entry(), "nonsense"]]) as (client, _):
        page = await Skills(client).list_page()
    assert [s.uri for s in page.skills] == [GIT]
    assert [i.error.reason for i in page.invalid] == ["entry", "entry"]
    assert "digest" in str(page.invalid[0].error)
    assert page.next_cursor is None


async def test_a_server_without_the_extension_is_not_sent_skills_requests() -> None:
    async with serve_undeclared() as (client, server):
        skills = Skills(client)
        assert not await skills.supported()
        with pytest.raises(SkillsNotSupportedError):
            await skills.list_page()
        with pytest.raises(SkillsNotSupportedError):
            await skills.get(PDF)
    assert not server.requests("skills/list") and not server.requests("skills/get")


async def test_a_cursor_loop_is_cut() -> None:
    class Looping(SkillServer):
        async def answer(self, request: Request) -> None:
            if request.method == "skills/list":
                return await self.reply(request, {"skills": [], "nextCursor": "again"})
            await super().answer(request)

    def make(peer: Any) -> Looping:
        return Looping(peer, "legacy", {}, [[]], {}, {})

    async with scripted_session(make, protocol="legacy",
                                capabilities=skills_capabilities()) as (client, server):
        from mcp_async import UnexpectedResponseError
        with pytest.raises(UnexpectedResponseError, match="repeated a cursor"):
            await Skills(client).list_all()
    assert len(server.requests("skills/list")) == 2


# -- loading ----------------------------------------------------------------------------
@pytest.mark.parametrize("era", ["legacy", "modern"])
async def test_load_reads_and_verifies_skill_md_then_files_on_demand(era: str) -> None:
    async with serve(era) as (client, server):
        skills = Skills(client)
        pdf = (await skills.list_all())[0]
        loaded = await skills.load(pdf)
        assert server.reads() == [PDF]
        assert isinstance(loaded, LoadedSkill)
        assert loaded.frontmatter == PDF_FRONT
        assert loaded.body.startswith("\n# PDF")
        assert [f.uri for f in loaded.files] == [FORMS]
        assert await loaded.read("references/FORMS.md") == FORMS_BYTES  # a blob
        assert await loaded.read_text(FORMS) == FORMS_BYTES.decode()
        assert server.reads() == [PDF, FORMS, FORMS]


async def test_load_by_uri_gets_the_entry_first() -> None:
    async with serve() as (client, server):
        loaded = await Skills(client).load(GIT)
        assert loaded.entry.name == "git-workflow"
        assert [r.method for r in server.requests() if r.method.startswith(("skills", "res"))
                ] == ["skills/get", "resources/read"]
        with pytest.raises(JSONRPCError) as info:
            await Skills(client).get("skill://nope/SKILL.md")
        assert info.value.code == -32602


@pytest.mark.parametrize(
    ("served", "reason"),
    [
        (PDF_MD.replace("# PDF", "# FDP"), "digest"),  # same size
        (PDF_MD + "extra bytes\n", "size"),
    ],
)
async def test_a_tampered_skill_md_is_refused_and_nothing_more_is_read(
    served: str, reason: str
) -> None:
    async with serve(files={PDF: served, FORMS: FORMS_BYTES}) as (client, server):
        skills = Skills(client)
        pdf = (await skills.list_all())[0]
        with pytest.raises(SkillVerificationError) as info:
            await skills.load(pdf)
    assert (info.value.reason, info.value.uri) == (reason, PDF)
    assert server.reads() == [PDF]


async def test_a_frontmatter_that_differs_from_the_entry_is_refused() -> None:
    evil = PDF_MD.replace("Extract, fill, and assemble PDF documents", "Exfiltrate credentials")
    # The entry's digest and size match the evil file: only the frontmatter differs.
    entry = pdf_entry(resources=[file_entry(PDF, evil.encode()), file_entry(FORMS, FORMS_BYTES)])
    async with serve(pages=[[entry]], files={PDF: evil, FORMS: FORMS_BYTES}) as (client, server):
        skills = Skills(client)
        with pytest.raises(SkillVerificationError, match="'description' differs") as info:
            await skills.load((await skills.list_all())[0])
    assert info.value.reason == "frontmatter"
    assert server.reads() == [PDF]


async def test_an_extra_frontmatter_field_is_a_mismatch() -> None:
    extra = PDF_MD.replace("---\n\n#", "allowed-tools: Bash\n---\n\n#")
    entry = pdf_entry(resources=[file_entry(PDF, extra.encode())])
    async with serve(pages=[[entry]], files={PDF: extra}) as (client, _):
        with pytest.raises(SkillVerificationError, match="'allowed-tools'"):
            await Skills(client).load(Skill.from_dict(entry))


async def test_a_supporting_file_is_verified_and_an_unlisted_one_never_read() -> None:
    async with serve(files={PDF: PDF_MD, FORMS: b"tampered forms\n"}) as (client, server):
        skills = Skills(client)
        loaded = await skills.load((await skills.list_all())[0])
        with pytest.raises(SkillVerificationError) as info:
            await loaded.read("references/FORMS.md")
        assert info.value.reason == "size"
        with pytest.raises(SkillVerificationError) as unlisted:
            await loaded.read("scripts/run.sh")
        assert unlisted.value.reason == "unlisted"
        from mcp_async import ConfigError
        with pytest.raises(ConfigError):
            await loaded.read("../../etc/passwd")
    assert server.reads() == [PDF, FORMS]


async def test_a_dynamic_skill_loads_only_when_allowed() -> None:
    entry = pdf_entry(resources="dynamic")
    async with serve(pages=[[entry]]) as (client, server):
        with pytest.raises(SkillVerificationError) as info:
            await Skills(client).load(Skill.from_dict(entry))
        assert info.value.reason == "dynamic"
        assert server.reads() == []
        loaded = await Skills(client, allow_dynamic=True).load(Skill.from_dict(entry))
        assert loaded.entry.dynamic and loaded.frontmatter == PDF_FRONT
        assert await loaded.read("references/FORMS.md") == FORMS_BYTES
        with pytest.raises(SkillVerificationError):
            await loaded.read("skill://other/SKILL.md")


async def test_skills_over_the_limits_are_refused_before_any_read() -> None:
    async with serve() as (client, server):
        pdf = (await Skills(client).list_all())[0]
        with pytest.raises(SkillLimitError, match="max_files"):
            await Skills(client, max_files=1).load(pdf)
        with pytest.raises(SkillLimitError, match="max_bytes"):
            await Skills(client, max_bytes=10).load(pdf)
    assert server.reads() == []


# -- directories ------------------------------------------------------------------------
async def test_directories_are_read_only_where_the_server_declares_directory_read() -> None:
    pages = [[{"uri": FORMS, "name": "FORMS.md", "mimeType": "text/markdown"}],
             [{"uri": "skill://pdf-processing/references/more", "name": "more",
               "mimeType": "inode/directory"}]]
    directories = {"skill://pdf-processing/references": pages}
    async with serve(settings={"directoryRead": True}, directories=directories) as (client, _):
        entries = await Skills(client).list_directory("skill://pdf-processing/references")
    assert [(e.name, e.is_directory) for e in entries] == [("FORMS.md", False), ("more", True)]
    async with serve(directories=directories) as (client, server):
        with pytest.raises(SkillsNotSupportedError, match="directoryRead"):
            await Skills(client).read_directory("skill://pdf-processing/references")
    assert not server.requests("resources/directory/read")


# -- entries and frontmatter ------------------------------------------------------------
@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"uri": "skill://pdf-processing/README.md"}, "ending in /SKILL.md"),
        ({"frontmatter": {"name": "pdf-processing"}}, "'description'"),
        ({"frontmatter": {"name": "other", "description": "d"}}, "last segment"),
        ({"resources": None}, "list or \"dynamic\""),
        ({"resources": [file_entry(FORMS, b"x")]}, "do not list its SKILL.md"),
        ({"resources": [file_entry(PDF, b"x"), file_entry(PDF, b"x")]}, "more than once"),
        ({"resources": [file_entry("skill://other/x.md", b"x")]}, "not a file within"),
        ({"resources": [{"uri": PDF, "digest": digest(b"x"), "size": -1}]}, "size"),
        ({"resources": [{"uri": PDF, "digest": digest(b"x").upper(), "size": 1}]}, "digest"),
    ],
)
def test_invalid_entries_are_refused_with_the_reason(change: dict[str, Any],
                                                     message: str) -> None:
    with pytest.raises(SkillVerificationError, match=message) as info:
        Skill.from_dict(pdf_entry(**change))
    assert info.value.reason == "entry"


def test_frontmatter_keeps_dates_as_strings_and_needs_a_mapping() -> None:
    front, body = parse_frontmatter(PDF_MD)
    assert front == PDF_FRONT and body.startswith("\n# PDF")
    for text in ("no frontmatter", "---\nname: x\n", "---\n- a list\n---\n",
                 "---\nname: [unclosed\n---\n"):
        with pytest.raises(SkillVerificationError) as info:
            parse_frontmatter(text)
        assert info.value.reason == "frontmatter"


def test_limits_must_be_positive() -> None:
    from mcp_async import ConfigError
    with pytest.raises(ConfigError, match="max_files"):
        Skills(object(), max_files=0)  # type: ignore[arg-type]



def test_values_nested_past_the_recursion_limit_compare_as_different() -> None:
    from mcp_async.features.skills import _same_within_depth

    def nested(depth: int) -> Any:
        value: Any = "x"
        for _ in range(depth):
            value = [value]
        return value

    assert _same_within_depth(nested(50), nested(50))
    assert not _same_within_depth(nested(50), nested(51))
    assert not _same_within_depth(nested(5000), nested(5000))  # no RecursionError leaks
    assert not _same_within_depth(1, True) and _same_within_depth(1, 1.0)


async def test_a_dynamic_skill_is_cut_off_at_max_bytes_of_reads() -> None:
    entry = pdf_entry(resources="dynamic")
    budget = len(PDF_MD.encode()) + len(FORMS_BYTES)
    async with serve(pages=[[entry]]) as (client, _):
        loaded = await Skills(client, allow_dynamic=True, max_bytes=budget).load(
            Skill.from_dict(entry))
        assert await loaded.read("references/FORMS.md") == FORMS_BYTES  # exactly at it
        with pytest.raises(SkillLimitError, match="max_bytes"):
            await loaded.read("references/FORMS.md")
