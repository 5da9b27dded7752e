// Node preload used by tests/interop/servers.py for server-everything's stdio mode:
//
//   node --import ./exit_on_stdin_end.mjs <server.js> stdio
//
// The package's StdioServerTransport reads stdin but ignores its end, so the
// process outlives its client whenever a timer is pending (an unanswered
// roots/list request waits 60 s; simulated logging repeats every 5 s forever).
// This preload makes it exit once stdin reaches EOF, as the Python SDK's stdio
// server does: a client that closes stdin, or dies, takes the server with it.
//
// It only listens for "end": it never reads stdin itself (a "data" listener
// here would swallow messages sent before the transport starts), and "end"
// fires only after the transport has consumed everything up to EOF.

process.stdin.once("end", () => process.exit(0));
