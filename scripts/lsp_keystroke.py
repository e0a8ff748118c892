#!/usr/bin/env python3
"""Keystroke latency of `procdsl lsp` on a 5,000-element file (docs/EDITORS.md).

Starts the server, opens a generated process of ELEMENTS elements, then
types: each keystroke is one incremental didChange, and its latency is the
time until the diagnostics of that version arrive. Half the keystrokes
break a name (one error), half mend it (no error), so every analysis has
something to report.

    cargo build --release
    scripts/lsp_keystroke.py [target/release/procdsl] [ELEMENTS] [KEYSTROKES]
"""
import json
import os
import statistics
import subprocess
import sys
import time

binary = sys.argv[1] if len(sys.argv) > 1 else "target/release/procdsl"
elements = int(sys.argv[2]) if len(sys.argv) > 2 else 5000
keystrokes = int(sys.argv[3]) if len(sys.argv) > 3 else 40

lines = ["process UsrBig {", "    in  X: Integer = 0", "    out Y: Text", "    start Begin -> S1"]
for i in range(1, elements - 1):
    after = f"S{i + 1}" if i < elements - 2 else "Done"
    lines.append(f'    script S{i} "Step {i}" {{ X = X + {i}; if X > 10 {{ Y = "at {{X}}" }} }} -> {after}')
lines += ["    end Done", "}", ""]
text = "\n".join(lines)

server = subprocess.Popen([binary, "lsp"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)


def send(message):
    body = json.dumps(message).encode()
    server.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
    server.stdin.flush()


def receive():
    length = None
    while True:
        line = server.stdout.readline().strip()
        if not line:
            break
        if line.startswith(b"Content-Length: "):
            length = int(line.split(b": ")[1])
    return json.loads(server.stdout.read(length))


def diagnostics_of(version):
    while True:
        m = receive()
        if m.get("method") == "textDocument/publishDiagnostics" and m["params"].get("version") == version:
            return m["params"]["diagnostics"]


uri = "file:///tmp/lsp_keystroke_big.proc"
send({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"processId": None, "capabilities": {}}})
receive()
send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
started = time.perf_counter()
doc = {"uri": uri, "languageId": "procdsl", "version": 1, "text": text}
send({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": doc}})
opened = diagnostics_of(1)
open_ms = (time.perf_counter() - started) * 1000

# The keystroke: in the middle of the file, `-> S2501` becomes `-> S2501x` and back.
line = elements // 2
column = len(lines[line])
def cpu_ms():
    """The server's CPU time so far (user + system): on a busy machine, wall time says little."""
    fields = open(f"/proc/{server.pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


times = []
cpu_before = cpu_ms()
for k in range(keystrokes):
    version = k + 2
    if k % 2 == 0:
        change = {"range": {"start": {"line": line, "character": column}, "end": {"line": line, "character": column}}, "text": "x"}
    else:
        change = {"range": {"start": {"line": line, "character": column}, "end": {"line": line, "character": column + 1}}, "text": ""}
    params = {"textDocument": {"uri": uri, "version": version}, "contentChanges": [change]}
    t = time.perf_counter()
    send({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": params})
    found = diagnostics_of(version)
    times.append((time.perf_counter() - t) * 1000)
    assert (len(found) > 0) == (k % 2 == 0), found

cpu = (cpu_ms() - cpu_before) / keystrokes
send({"jsonrpc": "2.0", "id": 2, "method": "shutdown", "params": None})
receive()
send({"jsonrpc": "2.0", "method": "exit", "params": None})
server.wait()
times.sort()
print(f"{elements} elements, {len(text):,} bytes; open: {open_ms:.1f} ms ({len(opened)} diagnostics)")
print(
    f"keystroke to diagnostics over {keystrokes}: median {statistics.median(times):.1f} ms, "
    f"p90 {times[int(len(times) * 0.9) - 1]:.1f} ms, min {times[0]:.1f} ms, max {times[-1]:.1f} ms; "
    f"server CPU {cpu:.1f} ms per keystroke"
)
