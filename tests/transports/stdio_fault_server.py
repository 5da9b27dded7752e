"""A tiny stdio MCP server for fault injection (standard library only, starts fast).

Flags: --banner (a non-JSON line on stdout first), --stderr N (N lines on stderr at
start), --ignore-sigterm, --ignore-eof (keep running after stdin closes),
--silent-unknown (no answer at all to a request it does not know, as some old
servers do; by default it answers -32601).
Tools: echo(text) / big(size) / die(code) / sleep(seconds) / env() / oversized(size) /
ask() (sends sampling/createMessage and returns the answer's text) / flood(count)
(that many progress notifications, written at once, then the result).
Hostile tools: stall() answers, then the server never reads stdin again;
orphan(code, setsid=False, ignore_sigterm=False) starts a child sleeping 45 s that
inherits stdin, stdout and stderr (in a session of its own with ``setsid``), writes
``child <pid>`` on stderr, and exits with ``code`` without answering.
ping_flood(count) writes that many ping requests at once (from a thread) and answers, once every one
of them is answered, with how many got a result and how many an error.
--record FILE appends ``sigterm`` to FILE when SIGTERM arrives (then exits 0), and ``eof``
when stdin ends.
"""

import json
import os
import signal
import subprocess
import sys
import threading
import time

args = sys.argv[1:]
out_lock = threading.Lock()
pending: dict[str, dict] = {}
stalled = threading.Event()
flood: dict[str, object] = {}


def send(message: dict) -> None:
    data = (json.dumps(message) + "\n").encode()
    with out_lock:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()


def result(rid, value: dict) -> None:
    send({"jsonrpc": "2.0", "id": rid, "result": value})


def text(value: str) -> dict:
    return {"content": [{"type": "text", "text": value}]}


def call_tool(rid, name: str, arguments: dict, token=None) -> None:
    if name == "echo":
        result(rid, text(arguments.get("text", "")))
    elif name == "big":
        result(rid, text("x" * int(arguments["size"])))
    elif name == "oversized":
        size = int(arguments["size"])
        send({"jsonrpc": "2.0", "id": rid, "result": text("y" * size)})
    elif name == "die":
        sys.stderr.write("dying now\n")
        sys.stderr.flush()
        os._exit(int(arguments.get("code", 3)))
    elif name == "sleep":
        def later() -> None:
            time.sleep(float(arguments["seconds"]))
            result(rid, text("slept"))
        threading.Thread(target=later, daemon=True).start()
    elif name == "flood":
        count = int(arguments["count"])
        lines = [json.dumps({"jsonrpc": "2.0", "method": "notifications/progress",
                             "params": {"progressToken": token, "progress": n}})
                 for n in range(1, count + 1)]
        lines.append(json.dumps({"jsonrpc": "2.0", "id": rid, "result": text("flooded")}))
        with out_lock:
            sys.stdout.buffer.write(("\n".join(lines) + "\n").encode())
            sys.stdout.buffer.flush()
    elif name == "stall":
        result(rid, text("stalled"))
        stalled.set()
    elif name == "orphan":
        # The child says it is ready (SIGTERM ignored, if asked) on a pipe of its own.
        ready_r, ready_w = os.pipe()
        ignore = "signal.signal(signal.SIGTERM, signal.SIG_IGN); " if arguments.get(
            "ignore_sigterm") else ""
        code = (f"import os, signal, time; {ignore}os.write({ready_w}, b'r'); "
                f"os.close({ready_w}); time.sleep(45)")
        child = subprocess.Popen([sys.executable, "-c", code], pass_fds=(ready_w,),
                                 start_new_session=bool(arguments.get("setsid")))
        os.close(ready_w)
        os.read(ready_r, 1)
        sys.stderr.write(f"child {child.pid}\n")
        sys.stderr.flush()
        os._exit(int(arguments.get("code", 5)))
    elif name == "ping_flood":
        count = int(arguments["count"])
        flood.update(reply_to=rid, left=count, ok=0, errors=0)
        lines = [json.dumps({"jsonrpc": "2.0", "id": f"flood-{n}", "method": "ping"})
                 for n in range(count)]

        def write_flood() -> None:  # (in a thread: stdin is read on meanwhile)
            with out_lock:
                sys.stdout.buffer.write(("\n".join(lines) + "\n").encode())
                sys.stdout.buffer.flush()

        threading.Thread(target=write_flood, daemon=True).start()
    elif name == "env":
        result(rid, {"content": [], "structuredContent": {"env": dict(os.environ),
                                                          "cwd": os.getcwd()}})
    elif name == "ask":
        pending["ask-1"] = {"reply_to": rid}
        send({"jsonrpc": "2.0", "id": "ask-1", "method": "sampling/createMessage",
              "params": {"messages": [{"role": "user",
                                       "content": {"type": "text", "text": "hi?"}}],
                         "maxTokens": 5}})
    else:
        send({"jsonrpc": "2.0", "id": rid, "error": {"code": -32602, "message": "no tool"}})


def main() -> None:
    if "--ignore-sigterm" in args:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if "--record" in args:
        record = args[args.index("--record") + 1]

        def on_term(signum: int, frame: object) -> None:
            with open(record, "a") as f:
                f.write("sigterm\n")
            os._exit(0)

        signal.signal(signal.SIGTERM, on_term)
    if "--banner" in args:
        print("Server starting... (not JSON)", flush=True)
    if "--stderr" in args:
        for i in range(int(args[args.index("--stderr") + 1])):
            sys.stderr.write(f"log line {i}\n")
        sys.stderr.flush()
    for raw in sys.stdin.buffer:
        message = json.loads(raw)
        method = message.get("method")
        rid = message.get("id")
        if method is None and str(rid).startswith("flood-"):
            flood["ok" if "result" in message else "errors"] += 1  # type: ignore[operator]
            flood["left"] -= 1  # type: ignore[operator]
            if flood["left"] == 0:
                result(flood["reply_to"], text(f"{flood['ok']} ok, {flood['errors']} errors"))
            continue
        if method is None:  # a response to our request
            waiting = pending.pop(rid, None)
            if waiting is not None:
                answer = message["result"]["content"]["text"]
                result(waiting["reply_to"], text(answer))
            continue
        if method == "notifications/cancelled":
            sys.stderr.write(f"cancelled {message['params']['requestId']}\n")
            sys.stderr.flush()
        elif rid is None:
            continue
        elif method == "initialize":
            result(rid, {"protocolVersion": message["params"]["protocolVersion"],
                         "capabilities": {"tools": {}},
                         "serverInfo": {"name": "fault-server", "version": "1"}})
        elif method == "ping":
            result(rid, {})
        elif method == "tools/list":
            result(rid, {"tools": [{"name": "echo", "inputSchema": {"type": "object"}}]})
        elif method == "tools/call":
            params = message["params"]
            call_tool(rid, params["name"], params.get("arguments", {}),
                      (params.get("_meta") or {}).get("progressToken"))
            if stalled.is_set():
                while True:  # never read stdin again
                    time.sleep(1)
        elif "--silent-unknown" not in args:
            send({"jsonrpc": "2.0", "id": rid,
                  "error": {"code": -32601, "message": f"Method not found: {method}"}})
    if "--record" in args:
        with open(args[args.index("--record") + 1], "a") as f:
            f.write("eof\n")
    if "--ignore-eof" in args:
        while True:
            time.sleep(1)


main()
