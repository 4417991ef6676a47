#!/usr/bin/env python3
"""A real pooled application for the per-application budget tests.

SQLAlchemy 1.4's asyncio engine over asyncpg, with the pool a web service would have
(pool_size + max_overflow connections, pool_timeout seconds to wait for one), sending
--requests concurrent requests that each hold a connection for --hold seconds
(SELECT pg_sleep). Requests that find the pool exhausted for --pool-timeout seconds fail
with sqlalchemy.exc.TimeoutError, as they would in production.

With --ramp it is instead a growing application: one more connection every --ramp-every
seconds up to --requests, all held busy until the ramp is done plus --hold seconds.

stdout: one JSON line at the end:
  {"timeouts", "ok", "errors", "started_unix", "first_checkout_unix", "first_timeout_unix",
   "max_checked_out", "max_checked_out_unix", "finished_unix"}
stderr: "ready" once the first connection is checked out, and one JSON line per event
  ({"event": "checkout"|"release"|"timeout"|"error", "unix": t, "checked_out": n, ...}).
Exit status 0 whenever it ran: pool timeouts are a result, not a failure. 2 on bad arguments.
"""

import argparse
import asyncio
import json
import sys
import time

from sqlalchemy import exc, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine


def asyncpg_url(url: str):
    """postgresql://... as SQLAlchemy's postgresql+asyncpg URL; libpq-only query keys
    are translated (sslmode -> ssl) or dropped."""
    parsed = make_url(url)
    if parsed.drivername not in ("postgresql", "postgres", "postgresql+asyncpg"):
        raise ValueError(f"not a postgresql:// URL: {parsed.drivername}")
    query = {}
    for key, value in parsed.query.items():
        if key == "sslmode":
            query["ssl"] = value
        elif key in ("application_name", "connect_timeout", "target_session_attrs"):
            continue  # set by us, or not asyncpg's
        else:
            query[key] = value
    return parsed.set(drivername="postgresql+asyncpg", query=query)


class Stats:
    def __init__(self):
        self.timeouts = 0
        self.ok = 0
        self.errors = 0
        self.checked_out = 0
        self.max_checked_out = 0
        self.max_checked_out_unix = None
        self.first_checkout_unix = None
        self.first_timeout_unix = None

    def event(self, name, **fields):
        line = {"event": name, "unix": time.time(), "checked_out": self.checked_out}
        line.update(fields)
        print(json.dumps(line), file=sys.stderr, flush=True)
        return line["unix"]

    def checkout(self, request):
        self.checked_out += 1
        now = self.event("checkout", request=request)
        if self.first_checkout_unix is None:
            self.first_checkout_unix = now
            print("ready", file=sys.stderr, flush=True)
        if self.checked_out > self.max_checked_out:
            self.max_checked_out = self.checked_out
            self.max_checked_out_unix = now

    def release(self, request):
        self.checked_out -= 1
        self.event("release", request=request)


async def request(engine, stats, number, hold):
    checked_out = False
    try:
        async with engine.connect() as conn:
            checked_out = True
            stats.checkout(number)
            try:
                await conn.execute(text("SELECT pg_sleep(:s)"), {"s": float(hold)})
            finally:
                stats.release(number)
        stats.ok += 1
    except exc.TimeoutError:
        stats.timeouts += 1
        now = stats.event("timeout", request=number)
        if stats.first_timeout_unix is None:
            stats.first_timeout_unix = now
    except Exception as e:  # any other failure is counted and reported, never fatal
        stats.errors += 1
        stats.event("error", request=number, checked_out_before=checked_out,
                    error=f"{type(e).__name__}: {e}")


async def run(args):
    engine = create_async_engine(
        asyncpg_url(args.url),
        pool_size=args.pool_size,
        max_overflow=args.max_overflow,
        pool_timeout=args.pool_timeout,
        connect_args={"server_settings": {"application_name": args.application_name}},
    )
    stats = Stats()
    started = time.time()
    try:
        if args.ramp:
            # Connection i opens at i * ramp_every and holds until the ramp is done + hold.
            release_at = time.monotonic() + args.requests * args.ramp_every + args.hold
            tasks = []
            for i in range(args.requests):
                if i:
                    await asyncio.sleep(args.ramp_every)
                hold = max(0.0, release_at - time.monotonic())
                tasks.append(asyncio.create_task(request(engine, stats, i, hold)))
            await asyncio.gather(*tasks)
        else:
            for r in range(args.rounds):
                await asyncio.gather(*(request(engine, stats, r * args.requests + i, args.hold)
                                       for i in range(args.requests)))
    finally:
        await engine.dispose()
    result = {
        "timeouts": stats.timeouts,
        "ok": stats.ok,
        "errors": stats.errors,
        "started_unix": started,
        "first_checkout_unix": stats.first_checkout_unix,
        "first_timeout_unix": stats.first_timeout_unix,
        "max_checked_out": stats.max_checked_out,
        "max_checked_out_unix": stats.max_checked_out_unix,
        "finished_unix": time.time(),
    }
    print(json.dumps(result), flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--url", required=True, help="postgresql://user:password@host:port/db")
    p.add_argument("--application-name", required=True)
    p.add_argument("--pool-size", type=int, default=5)
    p.add_argument("--max-overflow", type=int, default=10)
    p.add_argument("--pool-timeout", type=float, default=2)
    p.add_argument("--requests", type=int, default=20)
    p.add_argument("--hold", type=float, default=4.0,
                   help="seconds each request holds its connection (SELECT pg_sleep)")
    p.add_argument("--rounds", type=int, default=1)
    p.add_argument("--ramp", action="store_true",
                   help="grow by one held connection every --ramp-every seconds instead")
    p.add_argument("--ramp-every", type=float, default=1.0)
    args = p.parse_args()
    try:
        url = asyncpg_url(args.url)
    except Exception as e:
        p.error(str(e))
    del url
    asyncio.run(run(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
