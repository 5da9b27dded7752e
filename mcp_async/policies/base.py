"""Message-level policies: the chain's contract, at its public path.

The session engine runs metrics, retry, rate limiting and tracing around each JSON-RPC
request on every transport (see :mod:`mcp_async.session.policy_chain`, where these names
are defined). HTTP hooks run below, once per attempt, inside HTTP transports.
"""

from __future__ import annotations

from ..session.policy_chain import Exchange, MessagePolicy, NextStep, build_chain

__all__ = ["Exchange", "MessagePolicy", "NextStep", "build_chain"]
