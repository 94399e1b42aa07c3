"""The Python peers of `cargo xtask bench`: the official SDK (azure-eventgrid) publishing the same
~1 KB events to the same loopback sink, run from the virtual environment under target/python-venv.

    python_peer.py MODE --endpoint URL --key KEY --events N [--ca PEM]

MODE is `sdk-send` (EventGridPublisherClient.send with lists of 1,000 events, as the SDK's
documentation advises) or `sdk-single` (one event per send call, one after another: the pattern of
the seed library `aio-azure-clients-toolbox`, whose emit_event sends each event on its own).
Building the events is timed, as it is on the Rust side. Prints one line:
`RESULT events=.. requests=.. seconds=.. peak_rss_kib=..`.
"""

import argparse
import resource
import sys
import time

from azure.core.credentials import AzureKeyCredential
from azure.eventgrid import EventGridEvent, EventGridPublisherClient

BATCH = 1_000
NOTES = "x" * 700
EVENT_TYPE = "bench.order.placed"


def event(n):
    """The same event as the Rust bench's: an order of about 1 KB, data version "v1"."""
    data = {
        "order_id": n,
        "customer": f"customer-{n}",
        "notes": NOTES,
        "lines": list(range(20)),
    }
    return EventGridEvent(
        subject=f"orders/{n}", event_type=EVENT_TYPE, data=data, data_version="v1"
    )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["sdk-send", "sdk-single"])
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--events", type=int, required=True)
    parser.add_argument("--ca", help="a CA certificate to trust (the emulator's TLS mode)")
    args = parser.parse_args()

    options = {"connection_verify": args.ca} if args.ca else {}
    client = EventGridPublisherClient(
        args.endpoint, AzureKeyCredential(args.key), **options
    )
    # One request first, untimed: the connection is open and every import is done, as in a
    # running service.
    client.send([event(0)])

    per_request = BATCH if args.mode == "sdk-send" else 1
    requests = 0
    started = time.perf_counter()
    with client:
        for first in range(0, args.events, per_request):
            last = min(first + per_request, args.events)
            client.send([event(n) for n in range(first, last)])
            requests += 1
    seconds = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(
        f"RESULT events={args.events} requests={requests} seconds={seconds:.6f} "
        f"peak_rss_kib={peak_kib}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
