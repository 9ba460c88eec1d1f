//! The census of what the generator reaches: each step of many generated cases is labelled
//! with the situations it hit (an error variant, a retry, a deadline, ...), and the test fails
//! if a situation the tests rely on is never reached.

use crate::generators::Reference;
use crate::model::{self, Model};
use crate::steps::{Op, Outcome, Step, command_of};
use proptest::strategy::Strategy;
use proptest_state_machine::ReferenceStateMachine;
use trail_backfill::{Command, Error, FailureReason, Job, JobStatus, Table, Transition};

/// What one step of the model did, for the coverage census.
fn labels(before: &Model, after: &Model, step: &Step, outcome: &Outcome) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(e) = outcome.error() {
        let text = format!("{e:?}");
        let variant = text.split(" {").next().unwrap_or_default().to_owned();
        if e == Error::CapacityExhausted(Table::Jobs) {
            out.push(if after.next_job_id().0 == u64::MAX {
                "err: job ids exhausted".to_owned()
            } else {
                "err: job table full of active jobs".to_owned()
            });
        }
        out.push(format!("err: {variant}"));
    }
    match outcome {
        Outcome::Created(Ok(c)) | Outcome::Effect(Ok(model::Effect::JobCreated(c))) => {
            out.push(if c.replayed { "replay" } else { "job created" }.to_owned());
        }
        Outcome::Transition(Ok(Transition::Unchanged)) => out.push("unchanged".to_owned()),
        Outcome::Deleted(Ok(_)) | Outcome::Effect(Ok(model::Effect::JobDeleted(_))) => {
            out.push("job deleted".to_owned());
        }
        _ => {}
    }
    let (b, a) = (before.stats(), after.stats());
    if a.jobs_evicted > b.jobs_evicted {
        out.push("job evicted".to_owned());
    }
    if a.tokens_evicted_live > b.tokens_evicted_live {
        out.push("live token evicted".to_owned());
    }
    if a.tokens == b.tokens && a.jobs_evicted == b.jobs_evicted && a.tokens > 0 {
        let expired_replaced = before
            .token_records()
            .zip(after.token_records())
            .any(|(x, y)| x != y);
        if expired_replaced && a.active_jobs > b.active_jobs {
            out.push("token record replaced or rotated".to_owned());
        }
    }
    if !outcome.must_change_nothing() && step.when.at() < before.clock() {
        out.push("clock clamped (time went back)".to_owned());
    }
    if after.clock() > before.clock() && step.when.at().0 == u64::MAX {
        out.push("time at u64::MAX".to_owned());
    }
    if matches!(step.op, Op::Reload(_)) {
        out.push("reload".to_owned());
    }
    if a.jobs == after.capacities().1 {
        out.push("job table full".to_owned());
    }
    if a.trails == after.capacities().0 {
        out.push("trail table full".to_owned());
    }
    worker_labels(before, after, step, outcome, &mut out);
    out
}

fn is_active(job: &Job) -> bool {
    matches!(job.status, JobStatus::Initializing | JobStatus::Delivering)
}

/// The worker protocol's situations (SPEC section 9).
fn worker_labels(
    before: &Model,
    after: &Model,
    step: &Step,
    outcome: &Outcome,
    out: &mut Vec<String>,
) {
    let mut push = |label: &str| out.push(label.to_owned());
    let now = step.when.at().max(before.clock());
    let job_before = |id| before.jobs().find(|j| j.id == id);
    let transition = match outcome {
        Outcome::Transition(Ok(t))
        | Outcome::Effect(Ok(
            model::Effect::RegionReported(t)
            | model::Effect::JobFinished(t)
            | model::Effect::JobStopped(t)
            | model::Effect::JobCompleted(t),
        )) => Some(*t),
        _ => None,
    };
    let error = outcome.error();
    if let Some(Command::ClaimNext | Command::ClaimJob { .. }) = command_of(step) {
        let lease = match outcome {
            Outcome::Claimed(lease) | Outcome::Effect(Ok(model::Effect::JobClaimed(lease))) => {
                *lease
            }
            Outcome::Leased(Ok(lease)) => Some(*lease),
            _ => None,
        };
        match lease {
            Some(lease) => {
                push("claim");
                if lease.attempt >= 2 {
                    push("claim: a retry (attempt >= 2)");
                }
            }
            None if error.is_none() => push("claim_next: nothing to claim"),
            None => {}
        }
    }
    match (command_of(step), error) {
        (Some(Command::ClaimJob { job, .. }), Some(Error::JobNotClaimable { .. })) => {
            let job = job_before(*job).expect("refused jobs exist");
            push(if job.lease_expires_at.is_some() {
                "claim_job refused: leased"
            } else if now < job.not_before {
                "claim_job refused: backoff"
            } else {
                "claim_job refused: deadline"
            });
        }
        (Some(Command::Heartbeat { lease, .. }), None) => {
            push("heartbeat");
            let job = job_before(lease.job).expect("extended jobs exist");
            if job.lease_expires_at.is_some_and(|end| end < now) {
                push("heartbeat after its lease end");
            }
        }
        (Some(Command::Heartbeat { lease, .. }), Some(Error::LeaseLost)) => {
            let job = job_before(lease.job).expect("refused jobs exist");
            if is_active(job) && job.lease_expires_at.is_some() && lease.attempt < job.attempt {
                push("heartbeat refused: stale attempt (LeaseLost)");
            }
        }
        (Some(Command::Heartbeat { lease, .. }), Some(Error::JobNotFound))
            if job_before(lease.job).is_some_and(|j| j.account != lease.account) =>
        {
            push("heartbeat refused: another account's job (JobNotFound)");
        }
        (Some(Command::ReportRegion { .. }), None) => push(match transition {
            Some(Transition::Changed) => "region reported",
            _ => "region report unchanged",
        }),
        (Some(Command::ReportRegion { .. }), Some(Error::InvalidJobStatus { .. })) => {
            push("region refused: InvalidJobStatus");
        }
        (Some(Command::FinishJob { .. }), None) => push(match transition {
            Some(Transition::Changed) => "finish_job",
            _ => "finish_job Unchanged on a finished job",
        }),
        (Some(Command::FinishJob { lease, .. }), Some(Error::LeaseLost))
            if job_before(lease.job)
                .is_some_and(|j| !is_active(j) && j.attempt == lease.attempt) =>
        {
            push("finish_job refused: finished by another path");
        }
        (Some(Command::StopJob { .. }), None) => push(match transition {
            Some(Transition::Changed) => "stop",
            _ => "stop: already finished",
        }),
        (Some(Command::CompleteJob { job, .. }), None)
            if transition == Some(Transition::Changed)
                && job_before(*job).is_some_and(|j| j.lease_expires_at.is_some()) =>
        {
            push("complete_job ends a lease");
        }
        (Some(Command::HandleTimeout), None) => {
            let report = match outcome {
                Outcome::Timeouts(report)
                | Outcome::Effect(Ok(model::Effect::TimeoutsHandled(report))) => *report,
                _ => unreachable!("handle_timeout answers a report"),
            };
            if report == model::TimeoutReport::default() {
                push("handle_timeout: nothing due");
            }
            if before.poll_timeout() == Some(step.when.at()) {
                push("handle_timeout at a due time");
            }
            if before.poll_timeout().map(|t| t.0.saturating_sub(1)) == Some(step.when.at().0) {
                push("time one second before a due time");
            }
        }
        _ => {}
    }
    // What happened to each job.
    for job in after.jobs() {
        let Some(old) = job_before(job.id) else {
            continue;
        };
        if is_active(old) && !is_active(job) {
            match job.failure {
                Some(FailureReason::LeaseExpired) => push("failed: LeaseExpired (last attempt)"),
                Some(FailureReason::DeadlineExceeded) => {
                    push("failed: DeadlineExceeded");
                    if old.lease_expires_at.is_some_and(|end| end <= now) {
                        push("deadline and lease end both due");
                    }
                }
                Some(FailureReason::Stopped) => push("failed: Stopped"),
                Some(FailureReason::Reported) => push("failed: Reported"),
                _ => {}
            }
            let unfinished = before
                .job_regions(old.account, old.id)
                .is_some_and(|regions| {
                    regions
                        .iter()
                        .any(|(_, s)| matches!(s, JobStatus::Initializing | JobStatus::Delivering))
                });
            if unfinished {
                push("unfinished regions took the final status");
            }
        }
        if is_active(job) && old.lease_expires_at.is_some() && job.lease_expires_at.is_none() {
            push("lease expired, retry scheduled");
            let delivering = |m: &Model| {
                m.job_regions(job.account, job.id)
                    .is_some_and(|regions| regions.iter().any(|(_, s)| *s == JobStatus::Delivering))
            };
            if delivering(before) && !delivering(after) {
                push("regions back to Initializing");
            }
        }
        if job.attempt > old.attempt && job.not_before > job.created_at {
            push("retry after a backoff");
        }
    }
}

pub fn census_reaches_every_situation() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    use std::collections::BTreeMap;

    let mut census: BTreeMap<String, usize> = BTreeMap::new();
    let mut runner = TestRunner::deterministic();
    for case in 0..600 {
        let (initial, steps, _) = match case % 3 {
            0 => Reference::<4, 4, 4>::sequential_strategy(1..100)
                .new_tree(&mut runner)
                .expect("a sequence")
                .current(),
            1 => Reference::<8, 3, 5>::sequential_strategy(1..100)
                .new_tree(&mut runner)
                .expect("a sequence")
                .current(),
            _ => Reference::<16, 12, 6>::sequential_strategy(1..100)
                .new_tree(&mut runner)
                .expect("a sequence")
                .current(),
        };
        let mut world = initial.world;
        let mut host_now = initial.host_now;
        for step in &steps {
            let before = world.model.clone();
            let step = &world.resolve(step, host_now);
            let outcome = world.run(step);
            host_now = step.when.at().0;
            for label in labels(&before, &world.model, step, &outcome) {
                *census.entry(label).or_default() += 1;
            }
        }
    }
    for (label, count) in &census {
        println!("{count:>7}  {label}");
    }
    for needed in [
        "err: CapacityExhausted(Jobs)",
        "err: CapacityExhausted(Trails)",
        "err: IdempotentParameterMismatch",
        "err: InvalidJobStatus",
        "err: InvalidParameterValue(PageNumber)",
        "err: InvalidParameterValue(PageSize)",
        "err: JobAlreadyRunning",
        "err: JobNotFinished",
        "err: JobNotFound",
        "err: TrailAlreadyExists",
        "err: TrailLimitExceeded",
        "err: TrailNotEligible(NoSlsDelivery)",
        "err: TrailNotEligible(NotLogging)",
        "err: TrailNotEligible(OrganizationTrail)",
        "err: TrailNotFound",
        "err: job ids exhausted",
        "err: job table full of active jobs",
        "job created",
        "job deleted",
        "job evicted",
        "live token evicted",
        "replay",
        "unchanged",
        "clock clamped (time went back)",
        "reload",
        "job table full",
        "trail table full",
        // SPEC section 9.
        "claim",
        "claim_next: nothing to claim",
        "claim: a retry (attempt >= 2)",
        "claim_job refused: leased",
        "claim_job refused: backoff",
        "claim_job refused: deadline",
        "heartbeat",
        "heartbeat after its lease end",
        "heartbeat refused: stale attempt (LeaseLost)",
        "heartbeat refused: another account's job (JobNotFound)",
        "lease expired, retry scheduled",
        "retry after a backoff",
        "regions back to Initializing",
        "failed: LeaseExpired (last attempt)",
        "failed: DeadlineExceeded",
        "deadline and lease end both due",
        "failed: Stopped",
        "failed: Reported",
        "stop",
        "stop: already finished",
        "region reported",
        "region report unchanged",
        "region refused: InvalidJobStatus",
        "err: CapacityExhausted(Regions)",
        "unfinished regions took the final status",
        "finish_job",
        "finish_job Unchanged on a finished job",
        "finish_job refused: finished by another path",
        "complete_job ends a lease",
        "handle_timeout: nothing due",
        "handle_timeout at a due time",
        "time one second before a due time",
    ] {
        assert!(
            census.contains_key(needed),
            "the generator never reached {needed:?}"
        );
    }
}
