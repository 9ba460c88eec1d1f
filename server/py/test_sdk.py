"""Every action through the official SDK, each authentication refusal, account isolation, the
timer, metrics, and a restart. Run: python server/py/test_sdk.py (SERVER_BIN overrides the binary)."""

import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from alibabacloud_actiontrail20200706 import models as m  # noqa: E402

from harness import (  # noqa: E402
    Server, call, error_of, minutes_ago, raw_post, runtime, sdk_client, signed, wait_until, write_keys,
)

A, B = 1512666876910001, 1512666876910002
SLS = "acs:log:cn-hangzhou:1512666876910001:project/actiontrail"


def main():
    root = tempfile.mkdtemp(prefix="trail-backfill-sdk-")
    keys = os.path.join(root, "keys.toml")
    write_keys(keys, {"AK-A": ("secret-a", A), "AK-B": ("secret-b", B)}, {"AK-W": "secret-w"})
    # Leases of 2 s and one attempt, so that the timer's work shows within the test.
    server = Server(os.path.join(root, "data"), keys, ["--lease-secs", "2", "--max-attempts", "1"])
    server.start()
    try:
        run(server)
        print("test_sdk: ok")
    except BaseException:
        print(server.tail(), file=sys.stderr)
        raise
    finally:
        server.stop()
    shutil.rmtree(root)


def run(server):
    a = sdk_client(server, "AK-A", "secret-a")
    b = sdk_client(server, "AK-B", "secret-b")
    w = sdk_client(server, "AK-W", "secret-w")
    rt = runtime()

    # Trails: CreateTrail, StartLogging, StopLogging, DeleteTrail (typed methods).
    created = a.create_trail_with_options(
        m.CreateTrailRequest(name="trail-name", is_organization_trail=False, sls_project_arn=SLS), rt
    ).body
    assert (created.name, created.home_region) == ("trail-name", "cn-hangzhou"), created
    assert error_of(a.create_trail_with_options, m.CreateTrailRequest(name="trail-name", sls_project_arn=SLS), rt) == (
        "TrailAlreadyExistsException", 400)
    assert error_of(a.create_trail_with_options, m.CreateTrailRequest(name="Bad!"), rt)[0] == "InvalidTrailNameException"
    a.create_trail_with_options(m.CreateTrailRequest(name="other-trail", sls_project_arn=SLS), rt)
    a.start_logging_with_options(m.StartLoggingRequest(name="other-trail"), rt)
    a.stop_logging_with_options(m.StopLoggingRequest(name="other-trail"), rt)
    a.delete_trail_with_options(m.DeleteTrailRequest(name="other-trail"), rt)
    assert error_of(a.delete_trail_with_options, m.DeleteTrailRequest(name="other-trail"), rt) == (
        "TrailNotFoundException", 404)
    assert error_of(a.create_delivery_history_job_with_options,
                    m.CreateDeliveryHistoryJobRequest(trail_name="trail-name"), rt)[0] == "TrailNotEligibleException"
    a.start_logging_with_options(m.StartLoggingRequest(name="trail-name"), rt)

    # Jobs: Create (with a token, replayed), Get, List, and another account sees nothing.
    token = "123e4567-e89b-12d3-a456-42665544 +/*"
    request = m.CreateDeliveryHistoryJobRequest(trail_name="trail-name", client_token=token)
    job = a.create_delivery_history_job_with_options(request, rt).body.job_id
    assert a.create_delivery_history_job_with_options(request, rt).body.job_id == job
    assert error_of(a.create_delivery_history_job_with_options,
                    m.CreateDeliveryHistoryJobRequest(trail_name="trail-name"), rt) == (
        "DeliveryHistoryJobAlreadyRunning", 409)
    got = a.get_delivery_history_job_with_options(m.GetDeliveryHistoryJobRequest(job_id=job), rt).body
    assert (got.job_id, got.job_status, got.trail_name, got.home_region) == (job, 0, "trail-name", "cn-hangzhou"), got
    listed = a.list_delivery_history_jobs_with_options(m.ListDeliveryHistoryJobsRequest(page_number=1, page_size=10), rt).body
    assert listed.total_count == 1 and listed.delivery_history_jobs[0].job_id == job, listed
    assert error_of(b.get_delivery_history_job_with_options, m.GetDeliveryHistoryJobRequest(job_id=job), rt) == (
        "DeliveryHistoryJobNotFound", 404)
    assert error_of(b.delete_delivery_history_job_with_options, m.DeleteDeliveryHistoryJobRequest(job_id=job), rt) == (
        "DeliveryHistoryJobNotFound", 404)
    try:
        b.get_delivery_history_job_with_options(m.GetDeliveryHistoryJobRequest(job_id=job), rt)
    except Exception as error:  # noqa: BLE001
        assert error.data["HostId"] == "actiontrail.cn-hangzhou.aliyuncs.com", error.data
    assert b.list_delivery_history_jobs_with_options(m.ListDeliveryHistoryJobsRequest(), rt).body.total_count == 0
    assert error_of(a.delete_delivery_history_job_with_options, m.DeleteDeliveryHistoryJobRequest(job_id=job), rt) == (
        "DeliveryHistoryJobNotFinished", 409)

    # The worker protocol through call_api: claim, heartbeat, region, finish.
    claim = call(w, "ClaimDeliveryHistoryJob")
    assert (claim["JobId"], claim["AccountId"], claim["Attempt"]) == (job, A, 1), claim
    assert "LeaseExpiresAt" in call(w, "HeartbeatDeliveryHistoryJob", AccountId=A, JobId=job, Attempt=1, Delivered=1200)
    assert call(w, "ReportDeliveryHistoryJobRegion", AccountId=A, JobId=job, Attempt=1,
                Region="cn-hangzhou", Status=1)["Changed"] is True
    assert error_of(call, w, "HeartbeatDeliveryHistoryJob", AccountId=A, JobId=job, Attempt=2) == (
        "DeliveryHistoryJobLeaseLost", 409)
    assert call(w, "FinishDeliveryHistoryJob", AccountId=A, JobId=job, Attempt=1, Outcome="Completed")["Changed"] is True
    assert call(w, "FinishDeliveryHistoryJob", AccountId=A, JobId=job, Attempt=1, Outcome="Completed")["Changed"] is False
    got = a.get_delivery_history_job_with_options(m.GetDeliveryHistoryJobRequest(job_id=job), rt).body
    assert got.job_status == 2, got
    assert [(s.region, s.status) for s in got.status] == [("cn-hangzhou", 2)], got
    assert call(w, "ClaimDeliveryHistoryJob") ["JobId"] is None

    # The direct transitions (worker) and the caller's stop (customer).
    second = a.create_delivery_history_job_with_options(m.CreateDeliveryHistoryJobRequest(trail_name="trail-name"), rt).body.job_id
    started = call(w, "StartDeliveryHistoryJob", AccountId=A, JobId=second)
    assert (started["JobId"], started["JobStatus"]) == (second, 1), started
    completed = call(w, "CompleteDeliveryHistoryJob", AccountId=A, JobId=second, Outcome="Failed")
    assert completed["JobStatus"] == 3, completed
    third = a.create_delivery_history_job_with_options(m.CreateDeliveryHistoryJobRequest(trail_name="trail-name"), rt).body.job_id
    assert call(a, "StopDeliveryHistoryJob", JobId=third)["Changed"] is True
    # (The SDK's typed model has no FailureReason: read the raw answer.)
    got = call(a, "GetDeliveryHistoryJob", JobId=third)
    assert (got["JobStatus"], got.get("FailureReason")) == (3, "Stopped"), got
    assert "LeasesExpired" in call(w, "HandleTimeouts")

    # The timer: a claimed job whose 2 s lease runs out (one attempt) fails with LeaseExpired,
    # with no request in between: the server's own HandleTimeout, logged as a command.
    fourth = a.create_delivery_history_job_with_options(m.CreateDeliveryHistoryJobRequest(trail_name="trail-name"), rt).body.job_id
    assert call(w, "ClaimDeliveryHistoryJob", AccountId=A, JobId=fourth)["Attempt"] == 1
    wait_until(lambda: "trail_backfill_leases_expired_total 1" in (server.get("/metrics")[1] or ""), 30, "the timer")
    got = call(a, "GetDeliveryHistoryJob", JobId=fourth)
    assert (got["JobStatus"], got.get("FailureReason")) == (3, "LeaseExpired"), got

    # Delete a finished job.
    a.delete_delivery_history_job_with_options(m.DeleteDeliveryHistoryJobRequest(job_id=job), rt)
    assert error_of(a.get_delivery_history_job_with_options, m.GetDeliveryHistoryJobRequest(job_id=job), rt)[0] == "DeliveryHistoryJobNotFound"

    # Bad input: an unknown action, a missing parameter, an invalid one.
    assert error_of(call, a, "DescribeEverything") == ("InvalidAction.NotFound", 404)
    assert error_of(call, a, "GetDeliveryHistoryJob") == ("MissingParameter", 400)
    assert error_of(call, a, "GetDeliveryHistoryJob", JobId="x") == ("InvalidParameterValue", 400)
    assert error_of(call, a, "ListDeliveryHistoryJobs", PageSize=101) == ("InvalidParameterValue", 400)
    status, body = signed(server, "AK-A", "secret-a", "ListDeliveryHistoryJobs", {f"P{i}": i for i in range(70)})
    assert (status, body["Code"]) == (400, "InvalidParameterValue"), body
    assert raw_post(server, b"x" * (65 * 1024)) == 413
    # The action may also come as the Action parameter.
    status, body = signed(server, "AK-A", "secret-a", "ListDeliveryHistoryJobs", {"PageSize": 3}, action_in_query=True)
    assert (status, body.get("PageSize")) == (200, 3), body

    # Authentication: each refusal.
    unknown = sdk_client(server, "AK-NOBODY", "secret-a")
    assert error_of(unknown.list_delivery_history_jobs_with_options, m.ListDeliveryHistoryJobsRequest(), rt) == (
        "InvalidAccessKeyId.NotFound", 404)
    wrong = sdk_client(server, "AK-A", "not-the-secret")
    assert error_of(wrong.list_delivery_history_jobs_with_options, m.ListDeliveryHistoryJobsRequest(), rt) == (
        "SignatureDoesNotMatch", 400)
    assert error_of(call, a, "ClaimDeliveryHistoryJob") == ("Forbidden.RAM", 403)
    assert error_of(w.list_delivery_history_jobs_with_options, m.ListDeliveryHistoryJobsRequest(), rt) == (
        "Forbidden.RAM", 403)
    # This file's own signer (from the public description) is accepted too ...
    status, body = signed(server, "AK-A", "secret-a", "ListDeliveryHistoryJobs", {"PageSize": 5})
    assert (status, body.get("PageSize")) == (200, 5), body
    # ... and refused with a date 20 minutes old, or a nonce used twice.
    status, body = signed(server, "AK-A", "secret-a", "ListDeliveryHistoryJobs", {}, date=minutes_ago(20))
    assert (status, body["Code"]) == (400, "InvalidTimeStamp.Expired"), body
    status, body = signed(server, "AK-A", "secret-a", "ListDeliveryHistoryJobs", {}, nonce="n-1")
    assert status == 200, body
    status, body = signed(server, "AK-A", "secret-a", "ListDeliveryHistoryJobs", {}, nonce="n-1")
    assert (status, body["Code"]) == (400, "SignatureNonceUsed"), body
    status, body = signed(server, "AK-A", "secret-a", "ListDeliveryHistoryJobs", {}, secret_for_signing="x")
    assert (status, body["Code"], body.get("HostId") is not None) == (400, "SignatureDoesNotMatch", True), body

    # Health and metrics.
    assert server.get("/healthz")[0] == 200
    metrics = server.get("/metrics")[1]
    for name in ("trail_backfill_jobs 3", "trail_backfill_active_jobs 0", "trail_backfill_request_duration_seconds_count"):
        assert name in metrics, metrics

    # A restart keeps everything: the jobs and the token.
    server.stop()
    server.start()
    a = sdk_client(server, "AK-A", "secret-a")
    listed = a.list_delivery_history_jobs_with_options(m.ListDeliveryHistoryJobsRequest(), rt).body
    assert sorted(j.job_id for j in listed.delivery_history_jobs) == [second, third, fourth], listed
    assert a.create_delivery_history_job_with_options(request, rt).body.job_id == job


if __name__ == "__main__":
    main()
