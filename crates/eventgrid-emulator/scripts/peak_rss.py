#!/usr/bin/env python3
"""Peak memory of the emulator under large bodies: the figure quoted in docs/emulator.md.

Starts EMULATOR (the eventgrid-emulator binary) with one open topic and default settings, sends
REQUESTS requests over one keep-alive connection, each a single small event padded with
whitespace to the 1,536,000-byte request limit, and prints the process's peak resident set
(VmHWM) and current resident set (VmRSS) from /proc. Linux only.

    cargo build -p eventgrid-emulator --release
    python3 crates/eventgrid-emulator/scripts/peak_rss.py target/release/eventgrid-emulator
"""

import http.client
import subprocess
import sys

REQUEST_BYTES = 1_536_000


def status_kb(pid, field):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/{pid}/status")


def main():
    binary = sys.argv[1]
    requests = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    emulator = subprocess.Popen(
        [binary, "--port", "0", "--topic", "t"], stdout=subprocess.PIPE, text=True
    )
    try:
        banner = emulator.stdout.readline().split()
        host, port = banner[-1].removeprefix("http://").rsplit(":", 1)
        event = (
            b'{"id":"1","subject":"s","eventType":"t","eventTime":"2024-01-01T00:00:00Z",'
            b'"dataVersion":"1","data":{}}'
        )
        body = b"[" + event + b" " * (REQUEST_BYTES - len(event) - 2) + b"]"
        connection = http.client.HTTPConnection(host, int(port))
        for _ in range(requests):
            connection.request(
                "POST",
                "/t/api/events?api-version=2018-01-01",
                body,
                {"Content-Type": "application/json"},
            )
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                raise RuntimeError(f"status {response.status}")
        print(
            f"{requests} requests of {len(body)} bytes: peak RSS {status_kb(emulator.pid, 'VmHWM') / 1024:.1f} MiB, "
            f"RSS now {status_kb(emulator.pid, 'VmRSS') / 1024:.1f} MiB"
        )
    finally:
        emulator.terminate()
        emulator.wait()


if __name__ == "__main__":
    main()
