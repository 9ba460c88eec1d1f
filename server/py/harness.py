"""Test harness: runs the real server binary on loopback and talks to it with the official SDK.

Every wait polls with a deadline; nothing sleeps a fixed time.
"""

import hashlib
import hmac
import http.client
import json
import os
import queue
import signal
import subprocess
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from urllib.parse import quote

from alibabacloud_actiontrail20200706.client import Client
from alibabacloud_tea_openapi import models as open_api_models
from alibabacloud_tea_util import models as util_models

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("SERVER_BIN", os.path.join(ROOT, "target", "debug", "trail-backfill-server"))


def wait_until(predicate, timeout, what):
    """Polls `predicate` until it returns a true value, or fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    delay = 0.01
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(delay)
        delay = min(delay * 2, 0.2)


def write_keys(path, customers, workers):
    """customers: {key_id: (secret, account)}, workers: {key_id: secret}."""
    with open(path, "w") as out:
        for key_id, (secret, account) in customers.items():
            out.write(f'[[key]]\nid = "{key_id}"\nsecret = "{secret}"\naccount = {account}\n\n')
        for key_id, secret in workers.items():
            out.write(f'[[key]]\nid = "{key_id}"\nsecret = "{secret}"\nworker = true\n\n')


class Server:
    """The server binary on 127.0.0.1, on a port the OS picks."""

    def __init__(self, data, keys, extra=(), log=None):
        self.data, self.keys, self.extra = data, keys, list(extra)
        self.log = log or os.path.join(data + ".log")
        self.process = None
        self.port = None
        self.recovered_digest = None

    def start(self, timeout=60):
        os.makedirs(self.data, exist_ok=True)
        command = [BIN, "--listen", "127.0.0.1:0", "--data", self.data, "--keys", self.keys, *self.extra]
        self.process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=open(self.log, "a"), text=True
        )
        lines = queue.Queue()

        def read():
            for line in self.process.stdout:
                lines.put(line)
            lines.put(None)

        threading.Thread(target=read, daemon=True).start()
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError("the server did not say where it listens")
            try:
                line = lines.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                raise AssertionError(f"the server exited: {self.tail()}")
            if line.startswith("recovered state digest "):
                self.recovered_digest = line.split()[-1]
            if line.startswith("listening on "):
                self.port = int(line.strip().rsplit(":", 1)[1])
                break
        wait_until(lambda: self.get("/healthz")[0] == 200, timeout, "/healthz")
        return self

    def tail(self):
        with open(self.log) as f:
            return "".join(f.readlines()[-20:])

    def get(self, path):
        try:
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
            connection.request("GET", path)
            response = connection.getresponse()
            return response.status, response.read().decode()
        except OSError:
            return None, None

    def kill(self):
        """SIGKILL: no chance to flush anything."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()

    def verify_replay(self):
        """Runs `--verify-replay` on the data (the server must be stopped); returns its JSON."""
        result = subprocess.run(
            [BIN, "--data", self.data, "--verify-replay"],
            capture_output=True, text=True, timeout=300,
        )
        assert result.returncode == 0, f"--verify-replay failed: {result.stdout} {result.stderr}"
        return json.loads(result.stdout.strip().splitlines()[-1])


def sdk_client(server, key_id, secret, timeout_ms=10000):
    return Client(open_api_models.Config(
        access_key_id=key_id,
        access_key_secret=secret,
        endpoint=f"127.0.0.1:{server.port}",
        protocol="http",
        connect_timeout=timeout_ms,
        read_timeout=timeout_ms,
    ))


def runtime():
    """No retries: every call is one request, so that the tests know what they sent."""
    return util_models.RuntimeOptions(autoretry=False, max_attempts=0)


def call(client, action, **params):
    """A worker (or any) action through the SDK's generic call_api, style RPC."""
    api = open_api_models.Params(
        action=action, version="2020-07-06", protocol="HTTP", pathname="/", method="POST",
        auth_type="AK", style="RPC", req_body_type="formData", body_type="json",
    )
    query = {name: str(value) for name, value in params.items()}
    response = client.call_api(api, open_api_models.OpenApiRequest(query=query), runtime())
    return response["body"]


def error_of(function, *args, **kwargs):
    """The (code, status) of the TeaException a call raises."""
    try:
        function(*args, **kwargs)
    except Exception as error:  # the SDK's TeaException
        code = getattr(error, "code", None)
        data = getattr(error, "data", None) or {}
        return code, data.get("statusCode")
    raise AssertionError("the call succeeded")


def signed(server, key_id, secret, action, params, date=None, nonce=None, secret_for_signing=None,
           action_in_query=False):
    """A request signed by this file's own implementation of the V3 signature (from Alibaba
    Cloud's public description), sent with http.client. Returns (status, JSON body). With
    `action_in_query`, the action is the `Action` parameter instead of the x-acs-action header."""
    if action_in_query:
        params = dict(params, Action=action)
    pairs = sorted((str(k), str(v)) for k, v in params.items())
    query = "&".join(f"{quote(k, safe='~')}={quote(v, safe='~')}" for k, v in pairs)
    body = b""
    date = date or datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    headers = {
        "host": f"127.0.0.1:{server.port}",
        "x-acs-version": "2020-07-06",
        "x-acs-date": date,
        "x-acs-signature-nonce": nonce or uuid.uuid4().hex,
        "x-acs-content-sha256": hashlib.sha256(body).hexdigest(),
    }
    if not action_in_query:
        headers["x-acs-action"] = action
    names = sorted(headers)
    canonical_headers = "".join(f"{name}:{headers[name].strip()}\n" for name in names)
    signed_headers = ";".join(names)
    canonical = f"POST\n/\n{query}\n{canonical_headers}\n{signed_headers}\n{headers['x-acs-content-sha256']}"
    to_sign = "ACS3-HMAC-SHA256\n" + hashlib.sha256(canonical.encode()).hexdigest()
    signature = hmac.new((secret_for_signing or secret).encode(), to_sign.encode(), hashlib.sha256).hexdigest()
    headers["Authorization"] = (
        f"ACS3-HMAC-SHA256 Credential={key_id},SignedHeaders={signed_headers},Signature={signature}"
    )
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    connection.request("POST", "/?" + query, body, headers)
    response = connection.getresponse()
    return response.status, json.loads(response.read() or b"{}")


def minutes_ago(minutes):
    return (datetime.now(timezone.utc) - timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")


def raw_post(server, body):
    """An unsigned POST with a body; returns the status."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    connection.request("POST", "/", body, {"content-type": "application/x-www-form-urlencoded"})
    response = connection.getresponse()
    response.read()
    return response.status
