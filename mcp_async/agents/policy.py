"""Tool policies: which of the model's tool calls may run.

::

    async def ask_user(request: ApprovalRequest) -> bool:
        return await ui.confirm(f"run {request.name}({request.arguments})?")

    policy = ToolPolicy(
        deny=["*delete*"],                              # group-wide names, globs
        servers={"github": ServerRules(allow=["get_*", "list_*"])},  # a server's own names
        approver=ask_user,                              # asked before risky calls
    )

Order of the checks, for each call: the ``deny`` list, then the ``allow`` list (when
given, a name must match it), then the server's :class:`ServerRules`; then, when an
``approver`` is set and ``needs_approval`` picks the tool, the approver. By default
:func:`hinted_risky` picks the tools whose annotations say ``destructiveHint: true``
or ``openWorldHint: true``; ``needs_approval="all"`` asks for every call.

The calls of one round are decided concurrently (up to the runner's ``concurrency``), so
an approver that asks a person one question at a time should hold a lock.

Fails closed: an approver that raises, returns something other than ``True`` /
``False`` / ``(bool, reason)``, or takes longer than ``approval_timeout`` seconds means
"no". A refused call is never sent to the server; the model gets an error result that
says it was refused and why.

Every decision is a :class:`PolicyDecision`: counted in :attr:`ToolPolicy.counts`,
passed to ``on_decision`` callbacks (:class:`PrometheusPolicyMetrics` is one), and
added as an OpenTelemetry span event ``mcp.tool.policy`` to the current span (the
runner's ``execute_tool`` span when tracing is configured).
"""

from __future__ import annotations

import asyncio
import fnmatch
import sys
import threading
import weakref
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

from .._exceptions import ConfigError
from ..protocol.models import Tool

__all__ = [
    "ApprovalRequest",
    "Approver",
    "PolicyDecision",
    "PrometheusPolicyMetrics",
    "ServerRules",
    "ToolPolicy",
    "hinted_risky",
    "POLICY_EVENT",
]

#: The name of the span event each decision adds.
POLICY_EVENT = "mcp.tool.policy"

#: What a decision was: ``"allowed"`` (no approval needed), ``"approved"``,
#: ``"denied"`` (by a list), ``"rejected"`` (the approver said no) or
#: ``"approver_failed"`` (it raised, timed out or answered nonsense: "no").
Verdict: TypeAlias = Literal["allowed", "approved", "denied", "rejected", "approver_failed"]


@dataclass(frozen=True, slots=True)
class ApprovalRequest:
    """What an approver is asked about: the tool's ``name`` (group-wide for a group),
    its ``server`` (``None`` for a single client), its MCP definition ``tool`` (``None``
    if unknown), the ``arguments`` the model gave, and the model's ``call_id``."""

    name: str
    server: str | None
    tool: Tool | None
    arguments: Mapping[str, Any]
    call_id: str


#: An async callable asked before a call runs: ``True`` to run it, ``False`` (or
#: ``(False, "reason")``) to refuse it.
Approver: TypeAlias = Callable[[ApprovalRequest], Awaitable["bool | tuple[bool, str]"]]


@dataclass(frozen=True, slots=True)
class PolicyDecision:
    """One decision about one call: ``allowed`` says whether it runs; ``verdict``
    (see :data:`Verdict`) and ``reason`` say why."""

    name: str
    server: str | None
    allowed: bool
    verdict: Verdict
    reason: str


@dataclass(frozen=True, slots=True)
class ServerRules:
    """Allow and deny globs for one server of a group, matched against the server's
    own tool names (``allow=None``: every name not denied)."""

    allow: tuple[str, ...] | None = None
    deny: tuple[str, ...] = ()

    def __init__(self, allow: Iterable[str] | None = None, deny: Iterable[str] = ()) -> None:
        object.__setattr__(self, "allow", None if allow is None else _globs(allow, "allow"))
        object.__setattr__(self, "deny", _globs(deny, "deny"))


def _globs(patterns: Iterable[str] | str, what: str) -> tuple[str, ...]:
    if isinstance(patterns, str):
        patterns = (patterns,)
    out = tuple(patterns)
    for pattern in out:
        if not isinstance(pattern, str) or not pattern:
            raise ConfigError(f"{what} patterns must be non-empty strings, got {pattern!r}")
    return out


def _match(name: str, patterns: tuple[str, ...]) -> str | None:
    for pattern in patterns:
        if fnmatch.fnmatchcase(name, pattern):
            return pattern
    return None


def hinted_risky(tool: Tool | None) -> bool:
    """Whether ``tool``'s annotations say ``destructiveHint: true`` or
    ``openWorldHint: true`` (the default ``needs_approval``)."""
    annotations = tool.annotations if tool is not None else None
    if annotations is None:
        return False
    return annotations.destructive_hint is True or annotations.open_world_hint is True


class ToolPolicy:
    """Allow/deny lists and approval for the model's tool calls (see the module).

    ``allow`` / ``deny``: globs (``fnmatch``, case-sensitive) over the name the client
    or group uses (a group's namespaced name). ``servers``: :class:`ServerRules` (or
    ``{"allow": [...], "deny": [...]}``) per server of a group, over that server's own
    tool names. ``approver``: see :data:`Approver`; ``needs_approval``: ``"all"`` or a
    predicate over the tool's definition (default :func:`hinted_risky`).
    ``approval_timeout``: seconds an approver may take (then: refused).
    ``on_decision``: callables told of every decision (e.g. a
    :class:`PrometheusPolicyMetrics`).
    """

    def __init__(
        self,
        *,
        allow: Iterable[str] | None = None,
        deny: Iterable[str] = (),
        servers: Mapping[str, ServerRules | Mapping[str, Iterable[str]]] | None = None,
        approver: Approver | None = None,
        needs_approval: Literal["all"] | Callable[[Tool | None], bool] = hinted_risky,
        approval_timeout: float = 300.0,
        on_decision: Iterable[Callable[[PolicyDecision], None]] = (),
    ) -> None:
        self.allow = None if allow is None else _globs(allow, "allow")
        self.deny = _globs(deny, "deny")
        self.servers: dict[str, ServerRules] = {}
        for server, rules in (servers or {}).items():
            if isinstance(rules, ServerRules):
                self.servers[server] = rules
            elif isinstance(rules, Mapping) and set(rules) <= {"allow", "deny"}:
                self.servers[server] = ServerRules(rules.get("allow"), rules.get("deny", ()))
            else:
                raise ConfigError(f"servers[{server!r}] must be ServerRules or "
                                  f"{{'allow': [...], 'deny': [...]}}, got {rules!r}")
        if approver is not None and not callable(approver):
            raise ConfigError(f"approver must be an async callable, got {approver!r}")
        if needs_approval != "all" and not callable(needs_approval):
            raise ConfigError(f"needs_approval must be 'all' or a predicate, "
                              f"got {needs_approval!r}")
        if isinstance(approval_timeout, bool) or not isinstance(approval_timeout, int | float) \
                or not approval_timeout > 0:
            raise ConfigError(f"approval_timeout must be a positive number of seconds, "
                              f"got {approval_timeout!r}")
        self.approver = approver
        self.needs_approval = needs_approval
        self.approval_timeout = float(approval_timeout)
        self.on_decision = list(on_decision)
        #: Decisions so far, by verdict.
        self.counts: Counter[str] = Counter()

    def permits(self, name: str, server: str | None = None,
                server_name: str | None = None) -> tuple[bool, str]:
        """The allow/deny lists' answer for a tool: ``(allowed, reason)``.

        ``name`` is the client's or group's name, ``server_name`` the server's own
        name for the tool (default: ``name``). Used both to leave denied tools out of
        the model's tool list and to refuse calls to them.
        """
        found = _match(name, self.deny)
        if found is not None:
            return False, f"{name!r} matches the deny pattern {found!r}"
        if self.allow is not None and _match(name, self.allow) is None:
            return False, f"{name!r} is not in the allow list"
        rules = self.servers.get(server) if server is not None else None
        if rules is not None:
            own = server_name or name
            found = _match(own, rules.deny)
            if found is not None:
                return False, f"server {server!r} denies {own!r} (pattern {found!r})"
            if rules.allow is not None and _match(own, rules.allow) is None:
                return False, f"{own!r} is not in server {server!r}'s allow list"
        return True, "allowed by the lists"

    def _needs(self, tool: Tool | None) -> bool:
        if self.approver is None:
            return False
        if self.needs_approval == "all":
            return True
        return bool(self.needs_approval(tool))

    async def decide(self, request: ApprovalRequest,
                     server_name: str | None = None) -> PolicyDecision:
        """Decide about one call (the lists, then the approver if it is asked); record
        the decision (counts, callbacks, span event) and return it."""
        allowed, reason = self.permits(request.name, request.server, server_name)
        if not allowed:
            return self._record(PolicyDecision(request.name, request.server, False,
                                               "denied", reason))
        try:
            needed = self._needs(request.tool)
        except Exception:  # a broken predicate: asking is the safe side
            needed = True
        if not needed:
            return self._record(PolicyDecision(request.name, request.server, True,
                                               "allowed", "no approval needed"))
        return self._record(await self._ask(request))

    async def _ask(self, request: ApprovalRequest) -> PolicyDecision:
        assert self.approver is not None
        name, server = request.name, request.server
        try:
            async with asyncio.timeout(self.approval_timeout):
                answer = await self.approver(request)
        except TimeoutError:
            return PolicyDecision(name, server, False, "approver_failed",
                                  f"the approver did not answer within "
                                  f"{self.approval_timeout:g} s")
        except Exception as exc:
            return PolicyDecision(name, server, False, "approver_failed",
                                  f"the approver failed: {type(exc).__name__}: {exc}")
        if answer is True:
            return PolicyDecision(name, server, True, "approved", "approved")
        if answer is False:
            return PolicyDecision(name, server, False, "rejected", "the approver said no")
        if (isinstance(answer, tuple) and len(answer) == 2 and isinstance(answer[0], bool)
                and isinstance(answer[1], str)):
            ok, why = answer
            return PolicyDecision(name, server, ok, "approved" if ok else "rejected",
                                  why or ("approved" if ok else "the approver said no"))
        return PolicyDecision(name, server, False, "approver_failed",
                              f"the approver answered {answer!r}, not True/False")

    def _record(self, decision: PolicyDecision) -> PolicyDecision:
        self.counts[decision.verdict] += 1
        for callback in self.on_decision:
            callback(decision)
        _span_event(decision)
        return decision


def _span_event(decision: PolicyDecision) -> None:
    trace = sys.modules.get("opentelemetry.trace")
    if trace is None:  # OpenTelemetry never imported: nobody can be tracing
        return
    span = trace.get_current_span()
    if not span.is_recording():
        return
    attributes: dict[str, Any] = {
        "gen_ai.tool.name": decision.name,
        "mcp.tool.policy.allowed": decision.allowed,
        "mcp.tool.policy.verdict": decision.verdict,
        "mcp.tool.policy.reason": decision.reason,
    }
    if decision.server is not None:
        attributes["mcp.tool.policy.server"] = decision.server
    span.add_event(POLICY_EVENT, attributes)


_LOCK = threading.Lock()
_COUNTERS: weakref.WeakKeyDictionary[Any, dict[str, Any]] = weakref.WeakKeyDictionary()


@dataclass
class PrometheusPolicyMetrics:
    """Counts policy decisions in Prometheus (``pip install 'mcp-async[prometheus]'``):
    ``{namespace}_tool_policy_decisions_total{server, tool, verdict, allowed}``.

    Pass it to ``ToolPolicy(on_decision=[metrics])``; :meth:`like` puts the counter
    beside a client's :class:`~mcp_async.PrometheusMetrics`. ``max_tool_labels`` bounds the
    distinct ``tool`` label values (later names: ``"other"``).
    """

    registry: Any = None
    namespace: str = "mcp_client"
    max_tool_labels: int = 100
    _counter: Any = field(init=False, repr=False)
    _tools: set[str] = field(init=False, repr=False, default_factory=set)

    def __post_init__(self) -> None:
        try:
            from prometheus_client import REGISTRY, Counter
        except ImportError as exc:
            raise ConfigError("PrometheusPolicyMetrics needs the 'prometheus-client' package: "
                              "pip install 'mcp-async[prometheus]'") from exc
        if not self.namespace or not self.namespace.replace("_", "a").isalnum():
            raise ConfigError(f"namespace must be letters, digits and '_', "
                              f"got {self.namespace!r}")
        registry = self.registry if self.registry is not None else REGISTRY
        with _LOCK:
            known = _COUNTERS.setdefault(registry, {})
            counter = known.get(self.namespace)
            if counter is None:
                counter = known[self.namespace] = Counter(
                    f"{self.namespace}_tool_policy_decisions",
                    "Tool policy decisions about model tool calls.",
                    ("server", "tool", "verdict", "allowed"), registry=registry,
                )
        self._counter = counter

    @classmethod
    def like(cls, metrics: Any) -> PrometheusPolicyMetrics:
        """Counting into the registry and namespace of a client's
        :class:`~mcp_async.PrometheusMetrics` hook, beside its request metrics."""
        return cls(registry=metrics.registry, namespace=metrics.namespace)

    def __call__(self, decision: PolicyDecision) -> None:
        tool = decision.name
        if tool not in self._tools:
            if len(self._tools) >= self.max_tool_labels:
                tool = "other"
            else:
                self._tools.add(tool)
        self._counter.labels(
            decision.server or "", tool, decision.verdict, str(decision.allowed).lower()
        ).inc()
