"""The exception tree's shape and the cost of importing the package."""

from __future__ import annotations

import subprocess
import sys
import types

import pytest

import mcp_async
from mcp_async import _exceptions


def test_every_exception_is_exported_and_derives_from_the_root() -> None:
    for name in _exceptions.__all__:
        cls = getattr(mcp_async, name)
        assert issubclass(cls, mcp_async.MCPClientError), name
        assert name in mcp_async.__all__


def test_stdlib_compatible_bases() -> None:
    assert issubclass(mcp_async.RequestTimeoutError, TimeoutError)
    assert issubclass(mcp_async.ReadTimeout, TimeoutError)
    assert issubclass(mcp_async.ConnectError, OSError)
    assert issubclass(mcp_async.ConfigError, ValueError)
    assert issubclass(mcp_async.RateLimitedError, mcp_async.HTTPStatusError)
    assert issubclass(mcp_async.SessionExpiredError, mcp_async.HTTPStatusError)


def test_tree_is_drawn_in_the_module_docstring() -> None:
    doc = _exceptions.__doc__ or ""
    for name in _exceptions.__all__:
        assert name in doc, name


def test_import_stays_light() -> None:
    code = (
        "import sys, mcp_async, mcp_async.auth;"
        "heavy = [m for m in ('jwt', 'cryptography', 'prometheus_client', 'jsonschema',"
        " 'pydantic', 'httpx', 'anyio', 'mcp') if m in sys.modules];"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_optional_parts_load_on_first_use_only() -> None:
    code = (
        "import sys, mcp_async;"
        "loaded = [m for m in ('tenacity', 'mcp_async.policies.retry',"
        " 'mcp_async.policies.ratelimit', 'mcp_async.policies.metrics',"
        " 'mcp_async.features.batch', 'mcp_async.session.handlers',"
        " 'mcp_async.session.elicitation', 'mcp_async.auth.jwt', 'mcp_async.auth.storage',"
        " 'mcp_async.auth.oauth') if m in sys.modules];"
        "print(','.join(loaded));"
        "mcp_async.RetryPolicy; mcp_async.SamplingRequest;"
        "print('mcp_async.policies.retry' in sys.modules,"
        " 'mcp_async.session.handlers' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.splitlines() == ["", "True True"]


def test_every_public_name_resolves() -> None:
    for package in (mcp_async, mcp_async.auth):
        for name in package.__all__:
            assert getattr(package, name) is not None, (package.__name__, name)
        assert sorted(package.__all__) == sorted(set(package.__all__))


def test_unknown_attribute_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        mcp_async.Nope  # noqa: B018
    assert not hasattr(mcp_async.auth, "Nope")


@pytest.mark.parametrize(
    ("old", "new"),
    [("TimeoutError", "RequestTimeoutError"), ("SubscriptionLost", "SubscriptionLostError")],
)
@pytest.mark.parametrize("module", [mcp_async, _exceptions], ids=["mcp_async", "_exceptions"])
def test_renamed_errors_keep_their_old_name_for_a_release(
    module: types.ModuleType, old: str, new: str
) -> None:
    renamed = getattr(mcp_async, new)
    # Every read of the old name warns (it is never cached), pointing at the reader.
    for _ in range(2):
        with pytest.warns(DeprecationWarning, match=rf"{old} is deprecated.*use .*{new}") as seen:
            alias = getattr(module, old)
        assert seen[0].filename == __file__
        assert alias is renamed  # the same class: except and isinstance work either way
    assert old not in mcp_async.__all__ and new in mcp_async.__all__
    assert old not in _exceptions.__all__ and new in _exceptions.__all__


def test_old_error_names_still_import_and_catch() -> None:
    with pytest.warns(DeprecationWarning, match="SubscriptionLost is deprecated") as seen:
        from mcp_async import SubscriptionLost
    with pytest.warns(DeprecationWarning, match="TimeoutError is deprecated") as seen_too:
        from mcp_async._exceptions import TimeoutError as OldTimeout
    # Once per import (importlib's hasattr() probe of the name does not warn), and
    # pointing at the importing line.
    for warned in (seen, seen_too):
        assert [w.filename for w in warned] == [__file__]
    with pytest.raises(SubscriptionLost):
        raise mcp_async.SubscriptionLostError("dropped")
    with pytest.raises(OldTimeout):
        raise mcp_async.ReadTimeout("slow")
    # The rename ended the shadowing: the builtin still catches every timeout.
    assert issubclass(mcp_async.RequestTimeoutError, TimeoutError)
    assert mcp_async.RequestTimeoutError is not TimeoutError


def test_unknown_names_still_raise_attribute_error() -> None:
    with pytest.raises(AttributeError, match="NoSuchError"):
        _ = mcp_async.NoSuchError
    with pytest.raises(AttributeError, match="NoSuchError"):
        _ = _exceptions.NoSuchError
