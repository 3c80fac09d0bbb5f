#!/usr/bin/env python3
"""Conventional baseline for the benchmarks: the Kafka -> HTTP -> Kafka worker a team would write
instead of segworker, in Python with confluent-kafka and aiohttp (asyncio).

It does the same work as segworker for Klaviyo `segments.get` and `segments.list` jobs: reads the
same account store, sends the same requests, retries 408/425/429/5xx and transport errors with
capped exponential back-off and full jitter (honouring Retry-After), maps the answer to the same
unified segment, publishes the same result envelope (key job_id, headers job_id/status; lists as
parts of up to 100 items), and stores a partition's offset only over a contiguous run of jobs
whose results the broker acknowledged (at-least-once). Bounded: at most --max-in-flight jobs run
at once; consumption stops while the window is full.

    worker.py --brokers B --group G --jobs-topic T --results-topic R --accounts FILE
"""
import argparse
import asyncio
import datetime
import json
import os
import random
import signal
import sys
import time
import urllib.parse

import aiohttp
from confluent_kafka import Consumer, Producer, TopicPartition

RETRY_STATUS = {408, 425, 429, 500, 502, 503, 504}
ERROR_CODES = {400: "invalid_params", 401: "auth_failed", 403: "forbidden", 404: "not_found",
               409: "conflict", 422: "invalid_params", 429: "rate_limited"}
PART_ITEMS = 100


def now_iso(ts):
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def rfc3339(value):
    """Provider time -> RFC 3339 UTC; milliseconds kept only when the provider sent a fraction."""
    if value is None:
        return None
    dt = datetime.datetime.fromisoformat(value).astimezone(datetime.timezone.utc)
    if dt.microsecond or "." in value:
        return dt.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (dt.microsecond // 1000)
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def unified_segment(item):
    a = item.get("attributes") or {}
    if a.get("is_active") is False:
        status = "inactive"
    elif a.get("is_processing") is True:
        status = "processing"
    else:
        status = "active"
    count = a.get("profile_count")
    return {
        "id": str(item["id"]),
        "name": a.get("name"),
        "description": None,
        "created_at": rfc3339(a.get("created")),
        "updated_at": rfc3339(a.get("updated")),
        "status": status,
        "is_starred": a.get("is_starred"),
        "last_calculated_at": None,
        "member_count": int(count) if count is not None else None,
        "remote_data": item,
    }


class JobError(Exception):
    def __init__(self, code, message, http_status=None, retryable=False):
        super().__init__(message)
        self.code, self.message, self.http_status, self.retryable = (
            code, message, http_status, retryable)


class Ledger:
    """Per-partition offsets: the committable position moves only over finished offsets."""

    def __init__(self):
        self.next = {}   # (topic, partition) -> lowest unfinished offset
        self.done = {}   # (topic, partition) -> set of finished offsets above it

    def started(self, tp, offset):
        self.next.setdefault(tp, offset)
        self.done.setdefault(tp, set())

    def finish(self, tp, offset):
        done = self.done[tp]
        done.add(offset)
        moved = False
        while self.next[tp] in done:
            done.discard(self.next[tp])
            self.next[tp] += 1
            moved = True
        return self.next[tp] if moved else None


class Worker:
    def __init__(self, args):
        self.args = args
        with open(args.accounts) as f:
            self.accounts = json.load(f)["accounts"]
        for acct in self.accounts.values():
            creds = {}
            for k, ref in acct.get("credentials", {}).items():
                if ref.startswith("env:"):
                    creds[k] = os.environ[ref[4:]]
                elif ref.startswith("file:"):
                    with open(ref[5:]) as f:
                        creds[k] = f.read().strip()
            acct["_creds"] = creds
        self.consumer = Consumer({
            "bootstrap.servers": args.brokers, "group.id": args.group,
            "enable.auto.offset.store": False, "enable.auto.commit": True,
            "auto.commit.interval.ms": 1000, "auto.offset.reset": "earliest",
            "partition.assignment.strategy": "cooperative-sticky",
            "queued.max.messages.kbytes": 16384})
        self.producer = Producer({
            "bootstrap.servers": args.brokers, "enable.idempotence": True, "linger.ms": 5})
        self.ledger = Ledger()
        self.in_flight = 0
        self.stop = False
        self.tasks = set()

    # ---- HTTP ----

    async def request(self, session, url, headers, attempts_box):
        attempt = 0
        while True:
            attempt += 1
            attempts_box[0] = max(attempts_box[0], attempt)
            t0 = time.monotonic()
            retry_after = None
            try:
                async with session.get(url, headers=headers, allow_redirects=False) as resp:
                    body = await resp.read()
                    attempts_box[1] += time.monotonic() - t0
                    if 200 <= resp.status < 300:
                        return json.loads(body)
                    if resp.status not in RETRY_STATUS:
                        raise JobError(ERROR_CODES.get(resp.status, "provider_error"),
                                       "klaviyo answered %d" % resp.status, resp.status)
                    err = JobError("rate_limited" if resp.status == 429 else "provider_error",
                                   "klaviyo answered %d" % resp.status, resp.status, True)
                    ra = resp.headers.get("Retry-After")
                    if ra and ra.isdigit():
                        retry_after = int(ra)
            except (aiohttp.ClientError, asyncio.TimeoutError) as e:
                attempts_box[1] += time.monotonic() - t0
                err = JobError("timeout" if isinstance(e, asyncio.TimeoutError)
                               else "network_error", str(e) or type(e).__name__, None, True)
            if attempt >= self.args.max_attempts:
                err.message += " (gave up after %d attempts)" % attempt
                raise err
            if retry_after is not None:
                wait = retry_after + random.uniform(0, self.args.retry_base_ms / 1000)
            else:
                cap = min(self.args.max_backoff_ms, self.args.retry_base_ms * 2 ** (attempt - 1))
                wait = random.uniform(0, cap / 1000)
            if wait * 1000 > self.args.max_backoff_ms + self.args.retry_base_ms:
                raise err
            await asyncio.sleep(wait)

    # ---- results ----

    def publish(self, job_id, value, status, on_ack):
        def delivered(err, msg):
            on_ack(err)
        while True:
            try:
                self.producer.produce(self.args.results_topic, key=job_id, value=value,
                                      headers=[("job_id", job_id), ("status", status)],
                                      on_delivery=delivered)
                return
            except BufferError:
                self.producer.poll(0.1)

    def envelope(self, job, received, http_s, attempts, result=None, part=None, error=None):
        now = time.time()
        return json.dumps({
            "job_id": job.get("job_id"), "operation": job.get("operation"),
            "provider": job.get("provider"), "account": job.get("account"),
            "status": "failed" if error else "succeeded",
            "result": None if error else result,
            "part": part or {"index": 0, "items": 1, "last": True, "total_items": 1},
            "error": error, "attempts": attempts, "redelivered": False,
            "timing": {"received_at": now_iso(received), "finished_at": now_iso(now),
                       "queue_ms": 0, "http_ms": int(http_s * 1000),
                       "total_ms": int((now - received) * 1000)},
            "correlation": job.get("correlation"),
        }, separators=(",", ":"))

    # ---- one job ----

    async def run_job(self, session, msg, received):
        tp = (msg.topic(), msg.partition())
        offset = msg.offset()
        pending = [1]  # results not yet acknowledged + 1 until the last one is produced

        def acked(err):
            if err is not None:
                print("delivery failed: %s" % err, file=sys.stderr)
                self.stop = True
                return
            pending[0] -= 1
            if pending[0] == 0:
                self.in_flight -= 1
                nxt = self.ledger.finish(tp, offset)
                if nxt is not None:
                    try:
                        self.consumer.store_offsets(offsets=[TopicPartition(tp[0], tp[1], nxt)])
                    except Exception:  # partition revoked meanwhile
                        pass

        def emit(value, status):
            pending[0] += 1
            self.publish(job_id, value, status, acked)

        job = {}
        job_id = None
        box = [0, 0.0]  # attempts, seconds of HTTP
        try:
            try:
                job = json.loads(msg.value())
                job_id = job["job_id"]
                acct = self.accounts[job["account"]]
                if acct["provider"] != job.get("provider") or job["provider"] != "klaviyo":
                    raise JobError("invalid_job", "provider mismatch")
            except (ValueError, KeyError, TypeError) as e:
                raise JobError("invalid_job", "bad job: %s" % e)
            base = acct.get("base_url", "https://a.klaviyo.com").rstrip("/")
            headers = {"Authorization": "Klaviyo-API-Key " + acct["_creds"]["api_key"],
                       "revision": acct.get("settings", {}).get("revision", "2025-04-15"),
                       "Accept": "application/vnd.api+json"}
            params = job.get("params") or {}
            op = job.get("operation")
            if op == "segments.get":
                sid = urllib.parse.quote(str(params["id"]), safe="")
                body = await self.request(session, "%s/api/segments/%s" % (base, sid),
                                          headers, box)
                emit(self.envelope(job, received, box[1], box[0],
                                   unified_segment(body["data"])), "succeeded")
            elif op == "segments.list":
                url = base + "/api/segments"
                if params.get("page_size"):
                    url += "?page%5Bsize%5D=" + str(int(params["page_size"]))
                items, index, total = [], 0, 0
                while url:
                    body = await self.request(session, url, headers, box)
                    for it in body["data"]:
                        items.append(unified_segment(it))
                        total += 1
                        if len(items) == PART_ITEMS:
                            part = {"index": index, "items": len(items), "last": False}
                            emit(self.envelope(job, received, box[1], box[0], items, part),
                                 "succeeded")
                            items, index = [], index + 1
                    nxt = (body.get("links") or {}).get("next")
                    if nxt:  # keep path and query only: never follow a link to another host
                        u = urllib.parse.urlsplit(nxt)
                        url = base + u.path + ("?" + u.query if u.query else "")
                    else:
                        url = None
                    self.producer.poll(0)
                part = {"index": index, "items": len(items), "last": True, "total_items": total}
                emit(self.envelope(job, received, box[1], box[0], items, part), "succeeded")
            else:
                raise JobError("unsupported_operation", "not supported: %s" % op)
        except JobError as e:
            if job_id is not None:
                emit(self.envelope(job, received, box[1], box[0], error={
                    "code": e.code, "message": e.message, "http_status": e.http_status,
                    "retryable": e.retryable, "provider_error": None}), "failed")
        except Exception as e:  # a mapping bug must not stop the worker
            if job_id is not None:
                emit(self.envelope(job, received, box[1], box[0], error={
                    "code": "response_invalid", "message": str(e), "http_status": None,
                    "retryable": False, "provider_error": None}), "failed")
        acked(None)  # drop the +1 held while results were still being produced

    # ---- loop ----

    async def run(self):
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, self.request_stop)
        loop.add_signal_handler(signal.SIGINT, self.request_stop)
        self.consumer.subscribe([self.args.jobs_topic])
        timeout = aiohttp.ClientTimeout(total=self.args.timeout_ms / 1000, connect=10)
        connector = aiohttp.TCPConnector(limit=0, limit_per_host=self.args.max_host_connections)
        async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
            while not self.stop:
                room = self.args.max_in_flight - self.in_flight
                if room <= 0:
                    self.producer.poll(0)
                    await asyncio.sleep(0.001)
                    continue
                # The blocking consume runs in a thread (it releases the GIL), so HTTP
                # completions keep flowing on the event loop meanwhile.
                msgs = await loop.run_in_executor(None, self.consumer.consume,
                                                  min(room, 500), 0.05)
                received = time.time()
                for m in msgs:
                    if m.error():
                        continue
                    self.ledger.started((m.topic(), m.partition()), m.offset())
                    self.in_flight += 1
                    t = asyncio.ensure_future(self.run_job(session, m, received))
                    self.tasks.add(t)
                    t.add_done_callback(self.tasks.discard)
                self.producer.poll(0)
            if self.tasks:
                await asyncio.wait(self.tasks, timeout=30)
        self.producer.flush(10)
        try:
            self.consumer.commit(asynchronous=False)
        except Exception:
            pass
        self.consumer.close()

    def request_stop(self):
        self.stop = True


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--brokers", required=True)
    p.add_argument("--group", default="segworker-py")
    p.add_argument("--jobs-topic", default="segment-jobs")
    p.add_argument("--results-topic", default="segment-results")
    p.add_argument("--accounts", required=True)
    p.add_argument("--max-in-flight", type=int, default=1000)
    p.add_argument("--max-host-connections", type=int, default=256)
    p.add_argument("--max-attempts", type=int, default=5)
    p.add_argument("--retry-base-ms", type=int, default=200)
    p.add_argument("--max-backoff-ms", type=int, default=30000)
    p.add_argument("--timeout-ms", type=int, default=30000)
    asyncio.run(Worker(p.parse_args()).run())


if __name__ == "__main__":
    main()
