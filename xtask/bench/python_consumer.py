"""The Python peer of the pull-delivery rows of `cargo xtask bench`: the official SDK's
EventGridConsumerClient (azure-eventgrid) consuming a namespace subscription the bench filled
beforehand, the same loop as the Rust rows: receive up to 100 events (waiting up to 10 s), read
each event's data, acknowledge their lock tokens, until N events are consumed. Run from the
virtual environment under target/python-venv.

    python_consumer.py --endpoint URL --key KEY --topic T --subscription S --events N

Prints one line: `RESULT events=.. requests=.. seconds=.. peak_rss_kib=..`.
"""

import argparse
import resource
import sys
import time

from azure.core.credentials import AzureKeyCredential
from azure.eventgrid import EventGridConsumerClient

BATCH = 100
WAIT_SECONDS = 10


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--subscription", required=True)
    parser.add_argument("--events", type=int, required=True)
    args = parser.parse_args()

    client = EventGridConsumerClient(
        args.endpoint,
        AzureKeyCredential(args.key),
        namespace_topic=args.topic,
        subscription=args.subscription,
    )
    # One request first, untimed, that consumes nothing (an unknown token fails, with 200): the
    # connection is open and every import is done, as in a running service.
    client.acknowledge(lock_tokens=["warm-up"])

    consumed = 0
    requests = 0
    order_ids = 0
    started = time.perf_counter()
    with client:
        while consumed < args.events:
            details = client.receive(max_events=BATCH, max_wait_time=WAIT_SECONDS)
            if not details:
                print(
                    f"a receive waited {WAIT_SECONDS} s and got nothing after {consumed} events",
                    file=sys.stderr,
                )
                return 1
            for detail in details:
                order_ids += detail.event.data["order_id"]
            result = client.acknowledge(
                lock_tokens=[detail.broker_properties.lock_token for detail in details]
            )
            if result.failed_lock_tokens:
                print(f"acknowledge failed: {result.failed_lock_tokens[0]}", file=sys.stderr)
                return 1
            consumed += len(details)
            requests += 2
    seconds = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(
        f"RESULT events={consumed} requests={requests} seconds={seconds:.6f} "
        f"peak_rss_kib={peak_kib}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
