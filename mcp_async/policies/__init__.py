"""Message-level policies, run once per request on every transport: retry, rate limits,
metrics and tracing (see :mod:`.base` for the chain)."""
