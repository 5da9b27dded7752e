"""MCP 2026-07-28 rules without I/O: header values, ``x-mcp-header``, the request
envelope, ``protocol=`` and the era verdict of a ``server/discover`` probe."""

from __future__ import annotations

import base64
import copy
from typing import Any

import pytest

from mcp_async import (
    AuthError,
    ConfigError,
    ConnectError,
    HTTPStatusError,
    JSONRPCError,
    RateLimitedError,
    ReadTimeout,
    SessionExpiredError,
)
from mcp_async._exceptions import (
    HeaderMismatchError,
    MissingClientCapabilityError,
    UnsupportedProtocolVersionError,
)
from mcp_async.protocol import modern
from mcp_async.protocol.models import DiscoverResult
from mcp_async.protocol.modern import (
    CAPABILITIES_META,
    CLIENT_INFO_META,
    LOG_LEVEL_META,
    VERSION_META,
    encode_header_value,
    header_annotations,
    modern_capabilities,
    param_headers,
    routing_name,
    tool_header_problem,
)
from mcp_async.session.era import Verdict, parse_protocol, probe_verdict
from mcp_async.session.revisions.stateless_2026 import Envelope
from mcp_async.transports.wire import NotModernServerError

MODERN = "2026-07-28"


def unwrap(encoded: str) -> str:
    """The text a ``=?base64?...?=`` header value carries (asserting the exact form)."""
    assert encoded.startswith("=?base64?")
    assert encoded.endswith("?=")
    payload = encoded[len("=?base64?"):-len("?=")]
    raw = base64.b64decode(payload, validate=True)
    assert base64.b64encode(raw).decode("ascii") == payload  # canonical, no line breaks
    return raw.decode("utf-8")


# -- header value encoding -------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    ["plain", "us-west-2", "with inner spaces", "a=b;c,d", "!#$%&'*+-.^_`|~", "x" * 300, "",
     "=?base64?", "?=", "=?BASE64?aGk=?="],
)
def test_plain_visible_ascii_is_sent_as_is(value: str) -> None:
    assert encode_header_value(value) == value


@pytest.mark.parametrize(
    "value",
    [
        " leading",
        "trailing ",
        "  both  ",
        "\ttab",
        "héllo",
        "日本語",
        "emoji 🎉",
        "line\nbreak",
        "carriage\rreturn",
        "nul\x00byte",
        "bell\x07",
        "del\x7f",
        "=?base64?aGk=?=",  # looks like the sentinel: must not be taken for it
        "=?base64??=",
        "=?base64?not base64 at all?=",
    ],
)
def test_other_values_are_base64_wrapped(value: str) -> None:
    encoded = encode_header_value(value)
    assert encoded != value
    assert unwrap(encoded) == value
    assert all(0x20 <= ord(c) <= 0x7E for c in encoded)


def test_base64_wrapping_exact_output() -> None:
    assert encode_header_value("héllo") == "=?base64?aMOpbGxv?="
    assert encode_header_value(" a") == "=?base64?IGE=?="
    assert encode_header_value("=?base64?aGk=?=") == (
        "=?base64?" + base64.b64encode(b"=?base64?aGk=?=").decode() + "?="
    )


# -- routing names ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "params", "expected"),
    [
        ("tools/call", {"name": "add", "arguments": {"a": 1}}, "add"),
        ("prompts/get", {"name": "greet"}, "greet"),
        ("resources/read", {"uri": "file:///a b.txt", "name": "ignored"}, "file:///a b.txt"),
        ("resources/read", {"name": "not-a-uri"}, None),
        ("tools/call", {"name": 5}, None),
        ("tools/call", {}, None),
        ("tools/call", None, None),
        ("tools/list", {"name": "x"}, None),
        ("server/discover", None, None),
        ("resources/subscribe", {"uri": "file:///x"}, None),
    ],
)
def test_routing_name(method: str, params: dict[str, Any] | None, expected: str | None) -> None:
    assert routing_name(method, params) == expected


# -- Mcp-Param-* headers ---------------------------------------------------------------

ANNOTATIONS: dict[tuple[str, ...], str] = {
    ("region",): "Region",
    ("count",): "Count",
    ("flag",): "Flag",
    ("opts", "priority"): "Priority",
    ("opts", "deep", "leaf"): "Leaf",
}


def test_param_headers_convert_strings_integers_and_booleans() -> None:
    headers = param_headers(ANNOTATIONS, {
        "region": "eu-west-1", "count": 42, "flag": True,
        "opts": {"priority": -7, "deep": {"leaf": "x y"}},
        "unannotated": "ignored",
    })
    assert headers == {
        "Mcp-Param-Region": "eu-west-1",
        "Mcp-Param-Count": "42",
        "Mcp-Param-Flag": "true",
        "Mcp-Param-Priority": "-7",
        "Mcp-Param-Leaf": "x y",
    }


def test_param_headers_false_and_zero_are_values() -> None:
    headers = param_headers(ANNOTATIONS, {"flag": False, "count": 0, "region": ""})
    assert headers == {"Mcp-Param-Flag": "false", "Mcp-Param-Count": "0", "Mcp-Param-Region": ""}


def test_param_headers_encode_values_that_are_not_plain() -> None:
    headers = param_headers(ANNOTATIONS, {"region": " Zürich ", "opts": {"priority": 1}})
    assert unwrap(headers["Mcp-Param-Region"]) == " Zürich "
    assert headers["Mcp-Param-Priority"] == "1"


@pytest.mark.parametrize(
    "arguments",
    [
        None,
        {},
        {"region": None, "count": None, "flag": None},
        {"opts": None},
        {"opts": "not an object"},
        {"opts": {"deep": None}},
        {"opts": {"deep": {"other": 1}}},
        {"opts": {"priority": None}},
        {"unannotated": 1},
    ],
)
def test_null_or_missing_values_send_no_header(arguments: dict[str, Any] | None) -> None:
    assert param_headers(ANNOTATIONS, arguments) == {}


def test_param_headers_without_annotations() -> None:
    assert param_headers({}, {"region": "x"}) == {}


def test_param_headers_keep_the_annotation_spelling() -> None:
    headers = param_headers({("a",): "x-Custom_Name.1"}, {"a": "v"})
    assert headers == {"Mcp-Param-x-Custom_Name.1": "v"}


# -- x-mcp-header rules ----------------------------------------------------------------


def prop(header: Any = "Region", kind: Any = "string", **more: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"x-mcp-header": header, **more}
    if kind is not None:
        out["type"] = kind
    return out


def obj(**properties: Any) -> dict[str, Any]:
    return {"type": "object", "properties": properties}


VALID_SCHEMA = obj(
    region=prop("Region"),
    count=prop("Count", "integer"),
    flag=prop("Flag", "boolean"),
    plain={"type": "number"},
    nested=obj(deeper=obj(leaf=prop("Leaf"))),
)


def test_a_valid_schema_has_no_problem_and_its_annotations_are_found() -> None:
    assert tool_header_problem(VALID_SCHEMA) is None
    assert header_annotations(VALID_SCHEMA) == {
        ("region",): "Region",
        ("count",): "Count",
        ("flag",): "Flag",
        ("nested", "deeper", "leaf"): "Leaf",
    }


@pytest.mark.parametrize(
    "schema",
    [None, "string", [], {}, {"type": "object"}, obj(a={"type": "string"}),
     {"type": "object", "properties": "not a mapping"}],
)
def test_schemas_without_annotations_have_no_problem(schema: Any) -> None:
    assert tool_header_problem(schema) is None


@pytest.mark.parametrize(
    ("header", "fragment"),
    [
        ("", "non-empty"),
        (None, "non-empty"),
        (5, "non-empty"),
        (["Region"], "non-empty"),
        ("Has Space", "token"),
        ("colon:name", "token"),
        ("paren(x)", "token"),
        ("slash/name", "token"),
        ("quote\"d", "token"),
        ("Bad\r\nX-Injected: 1", "token"),
        ("Line\nFeed", "token"),
        ("Carriage\rReturn", "token"),
        ("Nul\x00", "token"),
        ("Tab\there", "token"),
        ("Del\x7f", "token"),
        ("Ünicode", "token"),
        (" Region", "token"),
    ],
)
def test_header_names_must_be_non_empty_tokens(header: Any, fragment: str) -> None:
    problem = tool_header_problem(obj(region=prop(header)))
    assert problem is not None
    assert fragment in problem
    assert "region" in problem


@pytest.mark.parametrize(
    "other",
    ["Region", "region", "REGION", "rEgIoN"],
)
def test_header_names_must_be_unique_ignoring_case(other: str) -> None:
    problem = tool_header_problem(obj(region=prop("Region"), zone=prop(other)))
    assert problem is not None
    assert "twice" in problem


def test_duplicates_are_found_across_nesting_levels() -> None:
    problem = tool_header_problem(obj(region=prop("Region"), nested=obj(zone=prop("REGION"))))
    assert problem is not None and "twice" in problem


@pytest.mark.parametrize(
    "kind", ["number", "object", "array", "null", None, ["string", "null"], "String"],
)
def test_only_string_integer_and_boolean_properties_may_carry_headers(kind: Any) -> None:
    problem = tool_header_problem(obj(value=prop("Value", kind)))
    assert problem is not None
    assert "string, integer or boolean" in problem


def test_number_is_refused_by_name() -> None:
    problem = tool_header_problem(obj(ratio=prop("Ratio", "number")))
    assert problem is not None and "'number'" in problem


@pytest.mark.parametrize("kind", ["string", "integer", "boolean"])
def test_each_allowed_type_is_accepted(kind: str) -> None:
    assert tool_header_problem(obj(value=prop("Value", kind))) is None


HEADER = prop("Value")

UNREACHABLE = {
    "items": obj(list={"type": "array", "items": HEADER}),
    "items/properties": obj(list={"type": "array", "items": obj(value=HEADER)}),
    "prefixItems": obj(list={"type": "array", "prefixItems": [HEADER]}),
    "anyOf": obj(value={"anyOf": [HEADER, {"type": "integer"}]}),
    "oneOf": obj(value={"oneOf": [{"type": "integer"}, HEADER]}),
    "allOf": obj(value={"allOf": [HEADER]}),
    "allOf/properties": {"allOf": [obj(value=HEADER)]},
    "anyOf at the root": {"anyOf": [obj(value=HEADER)]},
    "not": obj(value={"type": "string", "not": HEADER}),
    "if": {"type": "object", "if": obj(value=HEADER)},
    "then": {"type": "object", "if": obj(a={"const": 1}), "then": obj(value=HEADER)},
    "else": {"type": "object", "if": obj(a={"const": 1}), "else": obj(value=HEADER)},
    "additionalProperties": {"type": "object", "additionalProperties": HEADER},
    "the root itself": {"type": "string", "x-mcp-header": "Root"},
    "nested under items": obj(outer=obj(list={"type": "array", "items": obj(inner=HEADER)})),
}


@pytest.mark.parametrize("schema", list(UNREACHABLE.values()), ids=list(UNREACHABLE))
def test_headers_only_on_properties_reached_through_properties(schema: dict[str, Any]) -> None:
    problem = tool_header_problem(schema)
    assert problem is not None
    assert "reached through 'properties'" in problem


def test_a_ref_sibling_annotation_without_a_type_is_refused() -> None:
    schema = {"type": "object", "properties": {"v": {"$ref": "#/$defs/S", "x-mcp-header": "V"}},
              "$defs": {"S": {"type": "string"}}}
    assert tool_header_problem(schema) is not None


# Keywords whose value is a map of name -> schema: every schema in it is looked at.
@pytest.mark.parametrize(
    "schema",
    [
        pytest.param({"type": "object", "properties": {"value": {"$ref": "#/$defs/V"}},
                      "$defs": {"V": HEADER}}, id="$ref/$defs"),
        pytest.param({"type": "object", "definitions": {"V": HEADER}}, id="definitions"),
        pytest.param({"type": "object", "patternProperties": {"^v": HEADER}},
                     id="patternProperties"),
        pytest.param({"type": "object", "dependentSchemas": {"a": obj(value=HEADER)}},
                     id="dependentSchemas"),
    ],
)
def test_headers_inside_schema_maps_are_refused(schema: dict[str, Any]) -> None:
    problem = tool_header_problem(schema)
    assert problem is not None
    assert "reached through 'properties'" in problem


# JSON Schema 2020-12 applicators that also leave the pure ``properties`` chain.


@pytest.mark.parametrize(
    "schema",
    [
        pytest.param(obj(list={"type": "array", "contains": HEADER}), id="contains"),
        pytest.param(obj(list={"type": "array", "unevaluatedItems": HEADER}),
                     id="unevaluatedItems"),
        pytest.param({"type": "object", "propertyNames": HEADER}, id="propertyNames"),
        pytest.param({"type": "object", "unevaluatedProperties": HEADER},
                     id="unevaluatedProperties"),
        pytest.param(obj(doc={"type": "string", "contentSchema": obj(value=HEADER)}),
                     id="contentSchema"),
    ],
)
def test_other_applicators_also_leave_the_properties_chain(schema: dict[str, Any]) -> None:
    assert tool_header_problem(schema) is not None


def test_header_annotations_ignore_everything_off_the_properties_chain() -> None:
    schema = {
        "type": "object",
        "properties": {
            "a": prop("A"),
            "list": {"type": "array", "items": obj(b=prop("B"))},
            "c": {"anyOf": [prop("C")]},
            "not-a-schema": 5,
        },
        "$defs": {"D": prop("D")},
    }
    assert header_annotations(schema) == {("a",): "A"}


# -- client capabilities in their 2026 form --------------------------------------------


def test_modern_capabilities() -> None:
    given = {
        "roots": {"listChanged": True},
        "sampling": {"tools": {}},
        "elicitation": {"form": {}, "url": {}},
        "tasks": {"list": {}},
        "experimental": {"x": {}},
    }
    before = copy.deepcopy(given)
    assert modern_capabilities(given) == {
        "roots": {},
        "sampling": {"tools": {}},
        "elicitation": {"form": {}, "url": {}},
        "experimental": {"x": {}},
    }
    assert given == before
    assert modern_capabilities({}) == {}
    assert modern_capabilities({"roots": {}}) == {"roots": {}}


def test_version_helpers() -> None:
    assert modern.is_modern(MODERN)
    assert not modern.is_modern("2025-11-25")
    assert not modern.is_modern(None)
    assert modern.mutual_modern(["2025-11-25", MODERN, 7]) == MODERN
    assert modern.mutual_modern(["2025-11-25", "2099-01-01"]) is None
    assert modern.speaks_handshake(["2099-01-01", "2025-06-18"])
    assert not modern.speaks_handshake([MODERN, None])


# -- the request envelope --------------------------------------------------------------

INFO = {"name": "tester", "version": "1.2.3"}
CAPS = {"sampling": {}, "elicitation": {"form": {}, "url": {}}, "roots": {"listChanged": True},
        "tasks": {"list": {}}}
FULL_CAPS = {"sampling": {}, "elicitation": {"form": {}, "url": {}}, "roots": {}}


@pytest.mark.parametrize("method", ["tools/call", "prompts/get", "resources/read"])
def test_requests_that_may_ask_for_input_carry_full_capabilities(method: str) -> None:
    envelope = Envelope(MODERN, INFO, CAPS)
    assert envelope.stamp(method, {"name": "n"}) == {
        "name": "n",
        "_meta": {VERSION_META: MODERN, CAPABILITIES_META: FULL_CAPS, CLIENT_INFO_META: INFO},
    }


@pytest.mark.parametrize(
    "method",
    ["server/discover", "tools/list", "resources/list", "prompts/list", "completion/complete",
     "resources/templates/list", "x/custom"],
)
def test_other_requests_carry_bare_capabilities(method: str) -> None:
    envelope = Envelope(MODERN, INFO, CAPS)
    assert envelope.stamp(method, None) == {
        "_meta": {VERSION_META: MODERN, CAPABILITIES_META: {}, CLIENT_INFO_META: INFO},
    }
    assert envelope.stamp(method, {"cursor": "c"}) == {
        "cursor": "c",
        "_meta": {VERSION_META: MODERN, CAPABILITIES_META: {}, CLIENT_INFO_META: INFO},
    }


def test_the_callers_meta_is_kept_and_the_protocol_version_wins() -> None:
    envelope = Envelope(MODERN, INFO, CAPS)
    params = {"name": "t", "_meta": {"progressToken": 7, "vendor/x": {"a": 1},
                                     VERSION_META: "1999-01-01"}}
    stamped = envelope.stamp("tools/call", params)
    meta = stamped["_meta"]
    assert meta["progressToken"] == 7
    assert meta["vendor/x"] == {"a": 1}
    assert meta[VERSION_META] == MODERN
    assert meta[CAPABILITIES_META] == FULL_CAPS
    assert meta[CLIENT_INFO_META] == INFO
    assert stamped["name"] == "t"


def test_an_empty_callers_meta_is_replaced_by_the_envelope() -> None:
    envelope = Envelope(MODERN, INFO, {})
    assert envelope.stamp("tools/list", {"_meta": {}})["_meta"] == {
        VERSION_META: MODERN, CAPABILITIES_META: {}, CLIENT_INFO_META: INFO,
    }


def test_log_level_is_carried_after_set_log_level() -> None:
    envelope = Envelope(MODERN, INFO, CAPS)
    assert LOG_LEVEL_META not in envelope.stamp("tools/list", None)["_meta"]
    assert LOG_LEVEL_META not in envelope.stamp("tools/call", None)["_meta"]
    envelope.set_log_level("warning")
    assert envelope.log_level == "warning"
    assert envelope.stamp("tools/list", None)["_meta"][LOG_LEVEL_META] == "warning"
    assert envelope.stamp("tools/call", {"name": "t"})["_meta"][LOG_LEVEL_META] == "warning"
    envelope.set_log_level("debug")
    assert envelope.stamp("prompts/get", None)["_meta"][LOG_LEVEL_META] == "debug"


def test_log_level_given_at_construction() -> None:
    envelope = Envelope(MODERN, INFO, {}, log_level="error")
    assert envelope.stamp("tools/list", None)["_meta"][LOG_LEVEL_META] == "error"
    assert envelope.stamp("resources/read", {"uri": "u"})["_meta"][LOG_LEVEL_META] == "error"


def test_stamping_never_mutates_the_envelope_or_the_params() -> None:
    client_info = dict(INFO)
    capabilities = copy.deepcopy(CAPS)
    envelope = Envelope(MODERN, client_info, capabilities, log_level="info")
    full = copy.deepcopy(envelope._full)
    bare = copy.deepcopy(envelope._bare)
    params = {"name": "t", "arguments": {"a": 1},
              "_meta": {"progressToken": 1, VERSION_META: "old", "extra": [1]}}
    params_before = copy.deepcopy(params)
    for method in ("tools/call", "tools/list", "server/discover", "resources/read"):
        for given in (None, {}, params, {"_meta": {"progressToken": "p"}}):
            stamped = envelope.stamp(method, given)
            stamped["_meta"]["progressToken"] = "changed by a later step"
            stamped["_meta"][VERSION_META] = "changed"
            stamped["_meta"]["added"] = True
    assert envelope._full == full
    assert envelope._bare == bare
    assert params == params_before
    assert client_info == INFO
    assert capabilities == CAPS
    # Changing what the caller passed later does not reach the envelope either.
    client_info["name"] = "other"
    capabilities["roots"]["listChanged"] = False
    assert envelope.stamp("tools/call", None)["_meta"][CLIENT_INFO_META] == INFO
    assert envelope.stamp("tools/call", None)["_meta"][CAPABILITIES_META] == FULL_CAPS


def test_each_stamp_is_a_new_dict() -> None:
    envelope = Envelope(MODERN, INFO, {})
    first = envelope.stamp("tools/list", None)
    second = envelope.stamp("tools/list", None)
    assert first == second
    assert first is not second
    assert first["_meta"] is not second["_meta"]


# -- protocol= -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("auto", ("auto", None)),
        ("legacy", ("legacy", None)),
        ("2026-07-28", ("pinned", "2026-07-28")),
        ("2025-11-25", ("pinned", "2025-11-25")),
        ("2025-06-18", ("pinned", "2025-06-18")),
        ("2025-03-26", ("pinned", "2025-03-26")),
        ("2024-11-05", ("pinned", "2024-11-05")),
    ],
)
def test_parse_protocol(value: str, expected: tuple[str, str | None]) -> None:
    assert parse_protocol(value) == expected


@pytest.mark.parametrize(
    "value",
    ["", "AUTO", "Legacy", "latest", "modern", "2027-01-01", "2024-10-07", "2026-07-28 ",
     None, 2026, b"auto", ["auto"]],
)
def test_parse_protocol_refuses_anything_else(value: object) -> None:
    with pytest.raises(ConfigError) as info:
        parse_protocol(value)
    message = str(info.value)
    assert "'auto'" in message and "'legacy'" in message and "'2026-07-28'" in message
    assert repr(value) in message


# -- the probe verdict (era.py's table, one row at a time) -----------------------------

DISCOVERED = {
    "resultType": "complete",
    "supportedVersions": ["2025-11-25", MODERN],
    "capabilities": {"tools": {}},
    "_meta": {"io.modelcontextprotocol/serverInfo": {"name": "srv", "version": "1"}},
}


def verdict(outcome: Any, *, probed: str = MODERN, stream: bool = True) -> Verdict:
    return probe_verdict(outcome, probed=probed, stream_transport=stream)


def unsupported(supported: Any, requested: str = MODERN) -> UnsupportedProtocolVersionError:
    data = None if supported is None else {"supported": supported, "requested": requested}
    return UnsupportedProtocolVersionError(-32022, "unsupported protocol version", data)


@pytest.mark.parametrize("stream", [True, False])
def test_a_discover_result_sharing_a_modern_version_is_modern(stream: bool) -> None:
    result = verdict(DISCOVERED, stream=stream)
    assert result.action == "modern"
    assert result.version == MODERN
    assert isinstance(result.discovered, DiscoverResult)
    assert result.discovered.supported_versions == ("2025-11-25", MODERN)
    assert result.discovered.server_info is not None
    assert result.discovered.server_info.name == "srv"


def test_a_discover_result_sharing_a_modern_version_among_unknown_ones() -> None:
    result = verdict({**DISCOVERED, "supportedVersions": ["2099-01-01", MODERN]})
    assert result == Verdict("modern", MODERN, result.discovered)


@pytest.mark.parametrize(
    "versions", [["2025-11-25"], ["2025-11-25", "2025-06-18"], ["2099-01-01"], []],
)
def test_a_discover_result_without_a_mutual_modern_version_means_handshake(
    versions: list[str],
) -> None:
    assert verdict({**DISCOVERED, "supportedVersions": versions}) == Verdict("handshake")


@pytest.mark.parametrize(
    "outcome",
    [{}, {"tools": []}, {"supportedVersions": "2026-07-28"}, {"supportedVersions": [MODERN],
                                                              "capabilities": "none"}],
)
def test_something_that_is_no_discover_result_means_handshake(outcome: dict[str, Any]) -> None:
    assert verdict(outcome) == Verdict("handshake")


def test_unsupported_version_naming_a_mutual_modern_version_means_retry() -> None:
    assert verdict(unsupported([MODERN], "2099-01-01"), probed="2099-01-01") == Verdict(
        "retry", MODERN
    )
    assert verdict(unsupported(["2099-02-02", MODERN, "2025-11-25"], "2099-01-01"),
                   probed="2099-01-01", stream=False) == Verdict("retry", MODERN)


@pytest.mark.parametrize("supported", [["2099-01-01"], ["2099-01-01", "2100-01-01"]])
@pytest.mark.parametrize("stream", [True, False])
def test_unsupported_version_with_only_unknown_modern_versions_is_raised(
    supported: list[str], stream: bool,
) -> None:
    error = unsupported(supported)
    with pytest.raises(UnsupportedProtocolVersionError) as info:
        verdict(error, stream=stream)
    assert info.value is error


def test_unsupported_version_naming_the_probed_version_means_retry_at_it() -> None:
    # The spec's fallback table allows it: the engine probes once more, at most once.
    assert verdict(unsupported([MODERN]), probed=MODERN) == Verdict("retry", MODERN)


@pytest.mark.parametrize(
    "supported",
    [["2025-11-25"], ["2024-11-05", "2025-06-18"], ["2099-01-01", "2025-11-25"], [], None],
)
def test_unsupported_version_listing_handshake_versions_means_handshake(supported: Any) -> None:
    assert verdict(unsupported(supported)) == Verdict("handshake")


@pytest.mark.parametrize(
    "error",
    [
        JSONRPCError(-32601, "method not found"),
        JSONRPCError(-32602, "invalid params"),
        JSONRPCError(-32600, "invalid request", http_status=400),
        JSONRPCError(-32601, "method not found", http_status=404),
        JSONRPCError(-32603, "internal error", http_status=500),
        JSONRPCError(-32000, "server error"),
        HeaderMismatchError(-32020, "header mismatch"),
        MissingClientCapabilityError(-32021, "missing capability"),
    ],
    ids=lambda e: f"{type(e).__name__}{e.code}/{e.http_status}",
)
@pytest.mark.parametrize("stream", [True, False])
def test_any_other_jsonrpc_error_means_handshake(error: JSONRPCError, stream: bool) -> None:
    assert verdict(error, stream=stream) == Verdict("handshake")


@pytest.mark.parametrize("status", [400, 404, 405])
def test_the_transports_not_a_modern_server_outcome_means_handshake(status: int) -> None:
    # The HTTP transport decides which statuses say so
    # (see tests/transports/http/test_modern_http.py).
    error = NotModernServerError(status, url="http://x/mcp", body="nope")
    assert verdict(error, stream=False) == Verdict("handshake")


@pytest.mark.parametrize(
    "error",
    [
        HTTPStatusError(500, url="http://x/mcp"),
        HTTPStatusError(502),
        HTTPStatusError(401),
        HTTPStatusError(403),
        HTTPStatusError(406),
        HTTPStatusError(404, url="http://x/mcp"),  # not the transport's verdict: an outage
        RateLimitedError(429, retry_after=1.0),
        RateLimitedError(503, retry_after=2.0),
        AuthError("no token", status=401),
        AuthError("forbidden", status=403, step="unauthorized"),
        SessionExpiredError(404),
        ConnectError("connection refused"),
        ConnectError("reset", sent=True),
    ],
    ids=lambda e: f"{type(e).__name__}-{getattr(e, 'status', '')}",
)
@pytest.mark.parametrize("stream", [True, False])
def test_outages_are_no_verdict_and_are_raised(error: Exception, stream: bool) -> None:
    with pytest.raises(type(error)) as info:
        verdict(error, stream=stream)
    assert info.value is error


def test_a_timeout_on_a_stream_transport_means_handshake() -> None:
    assert verdict(ReadTimeout("no answer"), stream=True) == Verdict("handshake")


def test_a_timeout_over_http_is_raised() -> None:
    error = ReadTimeout("no answer")
    with pytest.raises(ReadTimeout) as info:
        verdict(error, stream=False)
    assert info.value is error
