"""Crash test: concurrent customers and a worker through the official SDK, SIGKILL at a random
moment, restart on the same data; every acknowledged answer must still hold, and the recovered
state must equal a fresh replay of the stored commands.

Run: python server/py/test_crash.py [ROUNDS] (SERVER_BIN overrides the binary; CRASH_SEED fixes
the randomness)."""

import os
import random
import shutil
import sys
import tempfile
import threading
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from alibabacloud_actiontrail20200706 import models as m  # noqa: E402

from harness import Server, call, runtime, sdk_client, wait_until, write_keys  # noqa: E402

SLS = "acs:log:cn-hangzhou:1:project/actiontrail"
CUSTOMERS = {f"AK-C{i}": (f"secret-c{i}", 2000 + i) for i in range(1, 5)}


class Ledger:
    """What the server acknowledged, across rounds."""

    def __init__(self):
        self.lock = threading.Lock()
        self.creates = {}      # token -> (key id, JobId)
        self.finishes = set()  # (key id, JobId) acknowledged Completed
        self.leases = {}       # (key id, JobId) -> (largest Attempt claimed, largest Delivered acknowledged)
        self.acknowledged = 0  # acknowledged commands (creates, claims, heartbeats, finishes)
        self.round_acks = 0
        self.in_flight_lost = 0

    def ack(self, count=1):
        with self.lock:
            self.acknowledged += count
            self.round_acks += count


def is_connection_error(error):
    return getattr(error, "code", None) is None or "Connection" in str(error) or "connect" in str(error)


def customer(server, key_id, ledger, stop, rt):
    secret, _ = CUSTOMERS[key_id]
    client = sdk_client(server, key_id, secret, timeout_ms=5000)
    while not stop.is_set():
        token = f"{key_id}-{uuid.uuid4().hex}"
        try:
            job = client.create_delivery_history_job_with_options(
                m.CreateDeliveryHistoryJobRequest(trail_name="trail-name", client_token=token), rt
            ).body.job_id
        except Exception as error:  # noqa: BLE001
            if getattr(error, "code", None) == "DeliveryHistoryJobAlreadyRunning":
                continue
            ledger.in_flight_lost += 1
            return  # the server is gone
        with ledger.lock:
            ledger.creates[token] = (key_id, job)
        ledger.ack()


def worker(server, ledger, stop, rt):
    client = sdk_client(server, "AK-W", "secret-w", timeout_ms=5000)
    delivered = 0
    while not stop.is_set():
        try:
            claim = call(client, "ClaimDeliveryHistoryJob")
            if claim["JobId"] is None:
                continue
            ledger.ack()
            key_id = next(k for k, (_, account) in CUSTOMERS.items() if account == claim["AccountId"])
            held = (key_id, claim["JobId"])
            with ledger.lock:
                ledger.leases[held] = (claim["Attempt"], ledger.leases.get(held, (0, 0))[1])
            lease = {"AccountId": claim["AccountId"], "JobId": claim["JobId"], "Attempt": claim["Attempt"]}
            delivered += 100
            call(client, "HeartbeatDeliveryHistoryJob", Delivered=delivered, **lease)
            with ledger.lock:
                ledger.leases[held] = (claim["Attempt"], delivered)
            ledger.ack()
            call(client, "FinishDeliveryHistoryJob", Outcome="Completed", **lease)
            with ledger.lock:
                ledger.finishes.add((key_id, claim["JobId"]))
            ledger.ack()
        except Exception as error:  # noqa: BLE001
            if getattr(error, "code", None) in ("DeliveryHistoryJobLeaseLost", "DeliveryHistoryJobNotClaimable"):
                continue
            ledger.in_flight_lost += 1
            return


def check(server, ledger, rt):
    """Every acknowledged answer still holds."""
    clients = {k: sdk_client(server, k, s) for k, (s, _) in CUSTOMERS.items()}
    for token, (key_id, job) in sorted(ledger.creates.items()):
        client = clients[key_id]
        got = client.get_delivery_history_job_with_options(m.GetDeliveryHistoryJobRequest(job_id=job), rt).body
        assert got.job_id == job, (token, job, got)
        again = client.create_delivery_history_job_with_options(
            m.CreateDeliveryHistoryJobRequest(trail_name="trail-name", client_token=token), rt
        ).body.job_id
        assert again == job, f"token {token}: acknowledged JobId {job}, now {again}"
    for (key_id, job), (attempt, delivered) in sorted(ledger.leases.items()):
        # The raw answer: the SDK's typed model has no Attempt or Delivered.
        got = call(clients[key_id], "GetDeliveryHistoryJob", JobId=job)
        assert got["Attempt"] >= attempt, f"job {job}: attempt {attempt} acknowledged, now {got}"
        assert got["Delivered"] >= delivered, f"job {job}: delivered {delivered} acknowledged, now {got}"
        if (key_id, job) in ledger.finishes:
            assert got["JobStatus"] == 2, f"job {job}: acknowledged finished, now {got}"
    assert ledger.finishes <= set(ledger.leases)


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    seed = int(os.environ.get("CRASH_SEED", random.randrange(1 << 30)))
    rng = random.Random(seed)
    print(f"test_crash: {rounds} rounds, seed {seed}")
    root = tempfile.mkdtemp(prefix="trail-backfill-crash-")
    keys = os.path.join(root, "keys.toml")
    write_keys(keys, CUSTOMERS, {"AK-W": "secret-w"})
    # Snapshots often, so that recovery loads one and replays a tail; the whole log kept for
    # the fresh replay of --verify-replay. Leases of 2 s and a 1 s backoff: a lease whose answer
    # the kill lost (the worker never learns it holds it) ends by the server's timer within the
    # round, instead of holding its account for the default 300 s.
    server = Server(os.path.join(root, "data"), keys, [
        "--keep-log", "--snapshot-every", "25", "--lease-secs", "2", "--retry-backoff-secs", "1",
    ])
    server.start()
    rt = runtime()
    ledger = Ledger()
    try:
        for key_id, (secret, _) in CUSTOMERS.items():
            client = sdk_client(server, key_id, secret)
            client.create_trail_with_options(m.CreateTrailRequest(name="trail-name", sls_project_arn=SLS), rt)
            client.start_logging_with_options(m.StartLoggingRequest(name="trail-name"), rt)
        for number in range(1, rounds + 1):
            ledger.round_acks = 0
            stop = threading.Event()
            threads = [threading.Thread(target=customer, args=(server, k, ledger, stop, rt)) for k in CUSTOMERS]
            threads.append(threading.Thread(target=worker, args=(server, ledger, stop, rt)))
            for thread in threads:
                thread.start()
            # The random moment: after a random number of acknowledged commands, requests in flight.
            target = rng.randrange(20, 120)
            wait_until(lambda: ledger.round_acks >= target, 120, f"{target} acknowledged commands")
            server.kill()
            stop.set()
            for thread in threads:
                thread.join(timeout=60)
                assert not thread.is_alive(), "a client thread hung"
            verified = server.verify_replay()
            assert verified["equal"] and verified["invariants"], verified
            server.start()
            # The server recovered the same state (its timer may change it right after).
            assert server.recovered_digest == verified["digest"], (server.recovered_digest, verified)
            status, digest = server.get("/debug/digest")
            assert status == 200 and len(digest.strip()) == 64, digest
            check(server, ledger, rt)
            print(
                f"round {number}: killed after {ledger.round_acks} acknowledged commands this round; "
                f"{verified['commands']} stored, snapshot at {verified['snapshot_index']}; "
                f"{len(ledger.creates)} JobIds and {len(ledger.finishes)} finishes hold"
            )
        print(f"test_crash: ok: {ledger.acknowledged} acknowledged commands over {rounds} rounds, none lost")
    except BaseException:
        print(server.tail(), file=sys.stderr)
        raise
    finally:
        server.stop()
    shutil.rmtree(root)


if __name__ == "__main__":
    main()
