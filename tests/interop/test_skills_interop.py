"""mcp_async.features.skills against a skills server nobody here wrote.

agentskills-mcp-server 0.7.0 (PyPI) serves the skills extension (SEP-2640) at MCP
2026-07-28 on the official ``mcp`` Python SDK. It needs Python >= 3.12, so
scripts/install-skills-server.sh gives it a venv of its own; the test spawns it over
stdio with a folder of skills written here. Skipped where it cannot be installed,
failed instead under ``CI=true``.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from conftest import on_ci

from mcp_async import AsyncMCPClient, JSONRPCError
from mcp_async.features.skills import Skills, SkillsNotSupportedError, skills_capabilities

ROOT = Path(__file__).resolve().parents[2]
VENV_PYTHON = ROOT / "tests" / "interop" / ".skills-server-venv" / "bin" / "python"
SKILL_MD = (
    "---\nname: pdf-processing\ndescription: Extract, fill, and assemble PDF documents\n"
    "license: Apache-2.0\nmetadata:\n  version: \"2.1\"\n---\n\n# PDF\n\n"
    "Pick a template from templates/.\n"
)
FORMS = b"Forms: fill them.\n"
LOGO = bytes(range(256))  # binary: served as a blob


def _server_python() -> Path:
    if not VENV_PYTHON.exists():
        subprocess.run(["bash", str(ROOT / "scripts" / "install-skills-server.sh")],
                       capture_output=True, timeout=600, check=False)
    if not VENV_PYTHON.exists():
        message = "agentskills-mcp-server cannot run here (no Python >= 3.12 to install it)"
        if on_ci():
            pytest.fail(message)
        pytest.skip(message)
    return VENV_PYTHON


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[AsyncMCPClient]:
    python = _server_python()
    skill = tmp_path / "skills" / "pdf-processing"
    (skill / "references").mkdir(parents=True)
    (skill / "assets").mkdir()
    (skill / "SKILL.md").write_text(SKILL_MD)
    (skill / "references" / "FORMS.md").write_bytes(FORMS)
    (skill / "assets" / "logo.bin").write_bytes(LOGO)
    config = tmp_path / "server.json"
    config.write_text(json.dumps({"name": "skills", "skills": [
        {"id": "pdf-processing", "provider": "fs",
         "options": {"root": str(tmp_path / "skills")}},
    ]}))
    async with AsyncMCPClient.stdio(
        str(python), ["-m", "agentskills_mcp_server", "--config", str(config)],
        capabilities=skills_capabilities(), timeout=60,
    ) as opened:
        yield opened


@pytest.mark.timeout(120)
async def test_list_load_and_read_a_third_party_servers_skill(client: AsyncMCPClient) -> None:
    skills = Skills(client)
    assert await skills.supported()
    listed = await skills.list_all()
    assert [s.uri for s in listed] == ["skill://pdf-processing/SKILL.md"]
    entry = listed[0]
    assert entry.frontmatter == {
        "name": "pdf-processing", "description": "Extract, fill, and assemble PDF documents",
        "license": "Apache-2.0", "metadata": {"version": "2.1"},
    }
    assert entry.files is not None
    assert {f.uri for f in entry.files} == {
        "skill://pdf-processing/SKILL.md", "skill://pdf-processing/references/FORMS.md",
        "skill://pdf-processing/assets/logo.bin",
    }
    assert await skills.get(entry.uri) == entry

    loaded = await skills.load(entry)
    assert loaded.content == SKILL_MD
    assert loaded.body.startswith("\n# PDF")
    assert await loaded.read("references/FORMS.md") == FORMS
    assert await loaded.read("assets/logo.bin") == LOGO


async def test_errors_from_a_third_party_server(client: AsyncMCPClient) -> None:
    skills = Skills(client)
    with pytest.raises(JSONRPCError) as info:
        await skills.get("skill://no-such-skill/SKILL.md")
    assert info.value.code == -32602
    assert (await skills.settings() or {}).get("directoryRead") is not True
    with pytest.raises(SkillsNotSupportedError):
        await skills.read_directory("skill://pdf-processing")
