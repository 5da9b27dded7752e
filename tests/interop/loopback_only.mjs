// Node preload used by tests/interop/servers.py:
//
//   node --import ./loopback_only.mjs <server.js> ...
//
// @modelcontextprotocol/server-everything's Streamable HTTP transport calls
// `app.listen(PORT)` with no host, which makes Node listen on every interface
// (`::`), and the package offers no HOST setting.  Our tests must only ever
// listen on 127.0.0.1, so this preload pins the host of every TCP listen() in
// the process to 127.0.0.1 (Unix-socket / handle listens are left alone).
//
// With MCP_INTEROP_EXIT_ON_STDIN_EOF=1 the process also exits when its stdin
// reaches EOF: the Python launcher holds the write end of that pipe, so the
// server dies with the test run even if pytest is killed with SIGKILL.

import net from "node:net";

const LOOPBACK = "127.0.0.1";
const originalListen = net.Server.prototype.listen;

function isPortLike(value) {
  return (
    typeof value === "number" ||
    (typeof value === "string" && value !== "" && /^\d+$/.test(value))
  );
}

net.Server.prototype.listen = function listenOnLoopback(...args) {
  const [first] = args;
  const callback = args.find((arg) => typeof arg === "function");

  if (first === undefined || first === null || typeof first === "function" || isPortLike(first)) {
    // listen([port[, host[, backlog]]][, callback])
    const options = { port: isPortLike(first) ? Number(first) : 0, host: LOOPBACK };
    if (typeof args[2] === "number") options.backlog = args[2];
    return callback
      ? originalListen.call(this, options, callback)
      : originalListen.call(this, options);
  }

  if (
    typeof first === "object" &&
    !("path" in first) &&
    !("fd" in first) &&
    !("handle" in first) &&
    !("_handle" in first)
  ) {
    // listen(options[, callback])
    return originalListen.call(this, { ...first, host: LOOPBACK }, ...args.slice(1));
  }

  return originalListen.apply(this, args);
};

if (process.env.MCP_INTEROP_EXIT_ON_STDIN_EOF === "1") {
  process.stdin.on("data", () => {});
  process.stdin.on("end", () => process.exit(0));
  process.stdin.on("error", () => process.exit(0));
  process.stdin.resume();
}
