//! The std reference of the worker cycle: the model of `tests/model/` with the claim queue a
//! plain std host would keep.
//!
//! The model is the oracle of the model-based tests, so it is written for clarity and stays
//! as it is: its `claim_next` scans every job (hundreds of microseconds in a 65,536-job
//! table), which is no baseline for the crate's. A host written on `BTreeMap`s would not scan:
//! it would keep the jobs that may be claimable in a `BTreeSet` ordered as SPEC section 9
//! claims them, `(not_before, id)`, and take the first. [`QueuedModel`] is that host: the
//! model, unchanged, plus such a queue; `claim_next` pops from the queue and claims through
//! the model's `claim_job` (an `O(log n)` lookup). Every other operation forwards to the model.
//!
//! The queue holds every job that is active and unleased (the only jobs `claim_next` may
//! claim), and possibly stale entries, which `claim_next` drops as it meets them:
//! - `create_job` queues the job it creates (not a replayed one) at its `not_before`;
//! - `claim_next` takes the job out, as it gets a lease;
//! - `complete_job` takes the job it finishes out (it could stay and be dropped later, but a
//!   host would not let finished jobs pile up in its queue);
//! - a job past its deadline stays active, unleased and unclaimable until `handle_timeout`
//!   fails it: `claim_next` drops it when it meets it, for good (a deadline never moves).
//!
//! Not covered, because the benchmark's workload never does it: a lease that `handle_timeout`
//! ends with a retry after a backoff makes its job claimable again at its new `not_before`,
//! and a host would queue it again there (`claim_job` on a queued job, and `stop_job`, would
//! leave a stale entry, which `claim_next` already drops). So this type offers only the
//! operations of the workload ([`Backend`] and [`Worker`]), for which it answers exactly as
//! the model's own `claim_next` does; [`check_against_model`] shows it on a run of the
//! workload, and [`QueuedModel::check`] checks the queue against the model's jobs.

use std::collections::BTreeSet;
use std::fmt::Debug;

use trail_backfill::{
    AccountId, CreateJob, Error, Job, JobCreated, JobId, JobOutcome, JobStatus, Lease, Region,
    Timestamp, TrailName, TrailSpec, Transition,
};

use super::realistic::{self, Realistic, Worker};
use super::{Backend, Fill, model::Model};

/// The model with a claim queue: [`Model`]'s answers, `claim_next` in `O(log n)`.
pub struct QueuedModel {
    model: Model,
    /// The jobs that may be claimable, in claim order `(not_before, id)`; the account comes
    /// along because the model looks a job up by account and id.
    queue: BTreeSet<(Timestamp, JobId, AccountId)>,
}

/// Whether a job is running (as the model's private `is_active`).
fn is_active(job: &Job) -> bool {
    matches!(job.status, JobStatus::Initializing | JobStatus::Delivering)
}

impl QueuedModel {
    /// The queue around an empty model.
    pub fn new(model: Model) -> Self {
        assert_eq!(
            model.stats().jobs,
            0,
            "the queue starts empty: so must the model"
        );
        QueuedModel {
            model,
            queue: BTreeSet::new(),
        }
    }

    /// The model behind the queue.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// The model's own check, and the queue's: every job `claim_next` may claim (active and
    /// unleased) is queued at its `not_before`.
    pub fn check(&self) -> Result<(), String> {
        self.model.check()?;
        for job in self.model.jobs() {
            if is_active(job)
                && job.lease_expires_at.is_none()
                && !self.queue.contains(&(job.not_before, job.id, job.account))
            {
                return Err(format!("claim queue: job {} is not queued", job.id.0));
            }
        }
        Ok(())
    }

    /// Whether the queued `(not_before, id)` is still the job's, and the job claimable at `now`
    /// (SPEC section 9: active, unleased, `not_before <= now`, deadline after `now`).
    fn claimable(&self, entry: (Timestamp, JobId, AccountId), now: Timestamp) -> bool {
        let (not_before, id, account) = entry;
        self.model.job(account, id).is_some_and(|job| {
            is_active(job)
                && job.lease_expires_at.is_none()
                && job.not_before == not_before
                && not_before <= now
                && self.model.deadline(job) > now
        })
    }
}

impl Backend for QueuedModel {
    fn create_trail(
        &mut self,
        a: AccountId,
        r: &Region,
        s: &TrailSpec,
        now: Timestamp,
    ) -> Result<(), Error> {
        self.model.create_trail(a, r, s, now)
    }

    fn start_logging(
        &mut self,
        a: AccountId,
        r: &Region,
        n: &TrailName,
        now: Timestamp,
    ) -> Result<Transition, Error> {
        self.model.start_logging(a, r, n, now)
    }

    /// Queues the job it creates at its `not_before` (the call's time); an eviction takes
    /// only finished jobs, which are not queued.
    fn create_job(&mut self, request: &CreateJob, now: Timestamp) -> Result<JobCreated, Error> {
        let created = self.model.create_job(request, now)?;
        if !created.replayed {
            let job = self
                .model
                .job(request.account, created.job_id)
                .expect("just created");
            self.queue.insert((job.not_before, job.id, job.account));
        }
        Ok(created)
    }

    /// Starting does not lease: the job stays queued.
    fn start_job(&mut self, a: AccountId, job: JobId, now: Timestamp) -> Result<Transition, Error> {
        self.model.start_job(a, job, now)
    }

    /// Takes the job it finishes out of the queue.
    fn complete_job(
        &mut self,
        a: AccountId,
        job: JobId,
        o: JobOutcome,
        now: Timestamp,
    ) -> Result<Transition, Error> {
        let transition = self.model.complete_job(a, job, o, now)?;
        if transition == Transition::Changed {
            let not_before = self.model.job(a, job).expect("just finished").not_before;
            self.queue.remove(&(not_before, job, a));
        }
        Ok(transition)
    }

    /// Only a finished job is deleted, and finished jobs are not queued.
    fn delete_job(&mut self, a: AccountId, job: JobId) -> Result<Job, Error> {
        self.model.delete_job(a, job)
    }
}

impl Worker for QueuedModel {
    /// SPEC section 9: of the claimable jobs, the smallest `(not_before, id)`: the first valid
    /// entry of the queue, stale ones dropped on the way; `None` changes nothing in the model.
    fn claim_next(&mut self, now: Timestamp) -> Option<Lease> {
        // The call's time, as the model's: `max(now, clock())` (SPEC section 1).
        let now = Timestamp(now.0.max(self.model.clock().0));
        while let Some(&entry) = self.queue.first() {
            let (not_before, id, account) = entry;
            if not_before > now {
                return None;
            }
            self.queue.pop_first();
            if self.claimable(entry, now) {
                let lease = self.model.claim_job(account, id, now);
                return Some(lease.expect("checked claimable"));
            }
        }
        None
    }

    /// A heartbeat keeps the lease: the job stays out of the queue.
    fn heartbeat(
        &mut self,
        lease: &Lease,
        delivered: u64,
        now: Timestamp,
    ) -> Result<Timestamp, Error> {
        self.model.heartbeat(lease, delivered, now)
    }

    /// The job was taken out of the queue when it was claimed.
    fn finish_job(
        &mut self,
        lease: &Lease,
        outcome: JobOutcome,
        now: Timestamp,
    ) -> Result<Transition, Error> {
        self.model.finish_job(lease, outcome, now)
    }
}

/// A [`QueuedModel`] and a plain [`Model`] driven together: every call must answer the same
/// on both (`claim_next` above all, where the plain model scans every job).
struct Lockstep {
    queued: QueuedModel,
    plain: Model,
}

/// The answer both gave, once they are shown equal.
fn same<T: PartialEq + Debug>(queued: T, plain: T) -> T {
    assert_eq!(queued, plain, "the queued model answers as the model");
    queued
}

impl Backend for Lockstep {
    fn create_trail(
        &mut self,
        a: AccountId,
        r: &Region,
        s: &TrailSpec,
        now: Timestamp,
    ) -> Result<(), Error> {
        same(
            self.queued.create_trail(a, r, s, now),
            self.plain.create_trail(a, r, s, now),
        )
    }

    fn start_logging(
        &mut self,
        a: AccountId,
        r: &Region,
        n: &TrailName,
        now: Timestamp,
    ) -> Result<Transition, Error> {
        same(
            self.queued.start_logging(a, r, n, now),
            self.plain.start_logging(a, r, n, now),
        )
    }

    fn create_job(&mut self, request: &CreateJob, now: Timestamp) -> Result<JobCreated, Error> {
        same(
            self.queued.create_job(request, now),
            self.plain.create_job(request, now),
        )
    }

    fn start_job(&mut self, a: AccountId, job: JobId, now: Timestamp) -> Result<Transition, Error> {
        same(
            self.queued.start_job(a, job, now),
            self.plain.start_job(a, job, now),
        )
    }

    fn complete_job(
        &mut self,
        a: AccountId,
        job: JobId,
        o: JobOutcome,
        now: Timestamp,
    ) -> Result<Transition, Error> {
        same(
            self.queued.complete_job(a, job, o, now),
            self.plain.complete_job(a, job, o, now),
        )
    }

    fn delete_job(&mut self, a: AccountId, job: JobId) -> Result<Job, Error> {
        same(
            self.queued.delete_job(a, job),
            self.plain.delete_job(a, job),
        )
    }
}

impl Worker for Lockstep {
    fn claim_next(&mut self, now: Timestamp) -> Option<Lease> {
        same(self.queued.claim_next(now), self.plain.claim_next(now))
    }

    fn heartbeat(
        &mut self,
        lease: &Lease,
        delivered: u64,
        now: Timestamp,
    ) -> Result<Timestamp, Error> {
        same(
            self.queued.heartbeat(lease, delivered, now),
            self.plain.heartbeat(lease, delivered, now),
        )
    }

    fn finish_job(
        &mut self,
        lease: &Lease,
        outcome: JobOutcome,
        now: Timestamp,
    ) -> Result<Transition, Error> {
        same(
            self.queued.finish_job(lease, outcome, now),
            self.plain.finish_job(lease, outcome, now),
        )
    }
}

/// Shows on the realistic workload that [`QueuedModel`] answers as the model's own
/// `claim_next`: both are filled the same way, then run `rounds` rounds of `cycles` worker
/// cycles, each round followed by the fill upkeep (deletes, at half fill); every answer is
/// compared, then the two models' whole states, and the queue is checked.
pub fn check_against_model(fill: Fill, capacity: usize, rounds: usize, cycles: usize) {
    let mut workload = Realistic::new(fill, capacity);
    let model = || Model::new(workload.config, realistic::ACCOUNTS, capacity, capacity);
    let mut both = Lockstep {
        queued: QueuedModel::new(model()),
        plain: model(),
    };
    workload.prepare(&mut both);
    for _ in 0..rounds {
        for _ in 0..cycles {
            workload.worker(&mut both);
        }
        workload.restore_fill(&mut both, cycles);
    }
    assert!(
        *both.queued.model() == both.plain,
        "the queued model's state is the model's"
    );
    both.queued.check().unwrap();
}
