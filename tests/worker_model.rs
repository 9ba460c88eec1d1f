//! SPEC section 9 written a second time, as a small reference model over `BTreeMap`s, and
//! random operations played into both the model and the crate (deterministic seeds, no wall
//! clock). After every step: the same answer, the same jobs (every section-9 field and the
//! regions), stats, `poll_timeout`, clock and catalogue; the invariants hold; and a call that
//! answers an error, `Unchanged`, `None` or an empty report leaves the snapshot bytes as they
//! were. Every so often the scheduler is replaced by its own restored snapshot.

#[path = "common/workers.rs"]
mod workers;

use std::collections::{BTreeMap, BTreeSet};

use trail_backfill::*;
use workers::*;

type Big = JobScheduler<8, 16, 4>;
const JOBS: usize = 16;
const ACCOUNTS: [AccountId; 6] = [A, B, C, D, AccountId(5005), AccountId(6006)];
const REGIONS: [&str; 5] = ["ap-south-1", "cn-beijing", "cn-hangzhou", "cn", "us-east-1"];

#[derive(Clone, Debug)]
struct MJob {
    account: AccountId,
    status: JobStatus,
    created_at: u64,
    updated_at: u64,
    attempt: u32,
    lease: Option<u64>,
    not_before: u64,
    delivered: u64,
    failure: Option<FailureReason>,
    regions: BTreeMap<String, JobStatus>,
}

impl MJob {
    fn active(&self) -> bool {
        matches!(self.status, JobStatus::Initializing | JobStatus::Delivering)
    }
}

struct Model {
    c: Config,
    clock: u64,
    next_id: u64,
    jobs: BTreeMap<u64, MJob>,
    catalogue: BTreeSet<String>,
}

fn rank(s: JobStatus) -> u8 {
    match s {
        JobStatus::Initializing => 0,
        JobStatus::Delivering => 1,
        _ => 2,
    }
}

fn outcome_status(o: JobOutcome) -> JobStatus {
    match o {
        JobOutcome::Completed => JobStatus::Completed,
        JobOutcome::Failed => JobStatus::Failed,
    }
}

impl Model {
    fn lease_secs(&self) -> u64 {
        self.c.lease_secs.max(1)
    }
    fn max_attempts(&self) -> u64 {
        self.c.max_attempts.clamp(1, u64::from(u32::MAX))
    }
    fn deadline(&self, j: &MJob) -> u64 {
        j.created_at.saturating_add(self.c.max_job_secs)
    }
    fn t(&self, now: u64) -> u64 {
        now.max(self.clock)
    }
    fn get(&self, account: AccountId, id: JobId) -> Result<&MJob, Error> {
        match self.jobs.get(&id.0) {
            Some(j) if j.account == account => Ok(j),
            _ => Err(Error::JobNotFound),
        }
    }
    fn held(&self, lease: &Lease) -> Result<(), Error> {
        let j = self.get(lease.account, lease.job)?;
        if j.active() && j.lease.is_some() && j.attempt == lease.attempt {
            Ok(())
        } else {
            Err(Error::LeaseLost)
        }
    }
    fn finish(&mut self, id: u64, status: JobStatus, failure: FailureReason, t: u64) {
        let j = self.jobs.get_mut(&id).unwrap();
        j.status = status;
        j.failure = (status == JobStatus::Failed).then_some(failure);
        j.lease = None;
        j.updated_at = t;
        for st in j.regions.values_mut() {
            if rank(*st) < 2 {
                *st = status;
            }
        }
        self.clock = t;
    }
    fn create(&mut self, account: AccountId, now: u64) -> Result<JobCreated, Error> {
        if let Some((id, _)) = self
            .jobs
            .iter()
            .find(|(_, j)| j.account == account && j.active())
        {
            return Err(Error::JobAlreadyRunning { active: JobId(*id) });
        }
        if self.jobs.len() == JOBS {
            let oldest = *self.jobs.iter().find(|(_, j)| !j.active()).unwrap().0;
            self.jobs.remove(&oldest);
        }
        let t = self.t(now);
        let id = self.next_id;
        self.next_id += 1;
        let j = MJob {
            account,
            status: JobStatus::Initializing,
            created_at: t,
            updated_at: t,
            attempt: 0,
            lease: None,
            not_before: t,
            delivered: 0,
            failure: None,
            regions: BTreeMap::new(),
        };
        self.jobs.insert(id, j);
        self.clock = t;
        Ok(JobCreated {
            job_id: JobId(id),
            replayed: false,
        })
    }
    fn grant(&mut self, id: u64, t: u64) -> Lease {
        let ls = self.lease_secs();
        let deadline = self.deadline(&self.jobs[&id]);
        let j = self.jobs.get_mut(&id).unwrap();
        j.attempt += 1;
        j.status = JobStatus::Delivering;
        let end = t.saturating_add(ls).min(deadline);
        j.lease = Some(end);
        j.updated_at = t;
        self.clock = t;
        Lease {
            account: j.account,
            job: JobId(id),
            attempt: j.attempt,
            expires_at: Timestamp(end),
        }
    }
    fn claim_next(&mut self, now: u64) -> Option<Lease> {
        let t = self.t(now);
        let id = self
            .jobs
            .iter()
            .filter(|(_, j)| {
                j.active() && j.lease.is_none() && j.not_before <= t && self.deadline(j) > t
            })
            .map(|(id, j)| (j.not_before, *id))
            .min()?
            .1;
        Some(self.grant(id, t))
    }
    fn claim_job(&mut self, account: AccountId, id: JobId, now: u64) -> Result<Lease, Error> {
        let t = self.t(now);
        let j = self.get(account, id)?;
        if !j.active() {
            return Err(Error::InvalidJobStatus { status: j.status });
        }
        let until = if let Some(end) = j.lease {
            Some(end)
        } else if t < j.not_before {
            Some(j.not_before)
        } else if self.deadline(j) <= t {
            Some(self.deadline(j))
        } else {
            None
        };
        if let Some(until) = until {
            return Err(Error::JobNotClaimable {
                until: Timestamp(until),
            });
        }
        Ok(self.grant(id.0, t))
    }
    fn heartbeat(&mut self, lease: &Lease, delivered: u64, now: u64) -> Result<Timestamp, Error> {
        self.held(lease)?;
        let t = self.t(now);
        let ls = self.lease_secs();
        let deadline = self.deadline(&self.jobs[&lease.job.0]);
        let j = self.jobs.get_mut(&lease.job.0).unwrap();
        let end = t.saturating_add(ls).min(deadline);
        j.lease = Some(end);
        j.delivered = j.delivered.max(delivered);
        j.updated_at = t;
        self.clock = t;
        Ok(Timestamp(end))
    }
    fn report(
        &mut self,
        lease: &Lease,
        r: &str,
        st: JobStatus,
        now: u64,
    ) -> Result<Transition, Error> {
        self.held(lease)?;
        if !self.catalogue.contains(r) && self.catalogue.len() >= MAX_REGIONS {
            return Err(Error::CapacityExhausted(Table::Regions));
        }
        let t = self.t(now);
        let j = self.jobs.get_mut(&lease.job.0).unwrap();
        if let Some(&cur) = j.regions.get(r) {
            if rank(cur) == 2 && rank(st) == 2 && cur != st {
                return Err(Error::InvalidJobStatus { status: cur });
            }
            if rank(st) <= rank(cur) {
                return Ok(Transition::Unchanged);
            }
        }
        j.regions.insert(r.to_owned(), st);
        j.updated_at = t;
        self.catalogue.insert(r.to_owned());
        self.clock = t;
        Ok(Transition::Changed)
    }
    fn finish_job(&mut self, lease: &Lease, o: JobOutcome, now: u64) -> Result<Transition, Error> {
        let j = self.get(lease.account, lease.job)?;
        if !j.active() {
            return if j.status == outcome_status(o) && j.attempt == lease.attempt {
                Ok(Transition::Unchanged)
            } else {
                Err(Error::LeaseLost)
            };
        }
        self.held(lease)?;
        let t = self.t(now);
        self.finish(lease.job.0, outcome_status(o), FailureReason::Reported, t);
        Ok(Transition::Changed)
    }
    fn complete(
        &mut self,
        account: AccountId,
        id: JobId,
        o: JobOutcome,
        now: u64,
    ) -> Result<Transition, Error> {
        let j = self.get(account, id)?;
        if !j.active() {
            return if j.status == outcome_status(o) {
                Ok(Transition::Unchanged)
            } else {
                Err(Error::InvalidJobStatus { status: j.status })
            };
        }
        let t = self.t(now);
        self.finish(id.0, outcome_status(o), FailureReason::Reported, t);
        Ok(Transition::Changed)
    }
    fn stop(&mut self, account: AccountId, id: JobId, now: u64) -> Result<Transition, Error> {
        if !self.get(account, id)?.active() {
            return Ok(Transition::Unchanged);
        }
        let t = self.t(now);
        self.finish(id.0, JobStatus::Failed, FailureReason::Stopped, t);
        Ok(Transition::Changed)
    }
    fn start(&mut self, account: AccountId, id: JobId, now: u64) -> Result<Transition, Error> {
        let j = self.get(account, id)?;
        match j.status {
            JobStatus::Delivering => Ok(Transition::Unchanged),
            JobStatus::Initializing => {
                let t = self.t(now);
                let j = self.jobs.get_mut(&id.0).unwrap();
                j.status = JobStatus::Delivering;
                j.updated_at = t;
                self.clock = t;
                Ok(Transition::Changed)
            }
            status => Err(Error::InvalidJobStatus { status }),
        }
    }
    fn delete(&mut self, account: AccountId, id: JobId) -> Result<(), Error> {
        if self.get(account, id)?.active() {
            return Err(Error::JobNotFinished);
        }
        self.jobs.remove(&id.0);
        Ok(())
    }
    fn timeouts(&mut self, now: u64) -> (u32, u32) {
        let t = self.t(now);
        let (mut expired, mut failed) = (0, 0);
        let ids: Vec<u64> = self.jobs.keys().copied().collect();
        for id in ids {
            let j = &self.jobs[&id];
            if !j.active() {
                continue;
            }
            let deadline = self.deadline(j);
            if deadline <= t {
                self.finish(id, JobStatus::Failed, FailureReason::DeadlineExceeded, t);
                failed += 1;
            } else if let Some(end) = j.lease.filter(|end| *end <= t) {
                expired += 1;
                if u64::from(j.attempt) >= self.max_attempts() {
                    self.finish(id, JobStatus::Failed, FailureReason::LeaseExpired, t);
                    failed += 1;
                } else {
                    let pow = 1u64.checked_shl(j.attempt - 1).unwrap_or(u64::MAX);
                    let backoff = self.c.retry_backoff_secs.saturating_mul(pow);
                    let nb = end.saturating_add(backoff.min(self.c.max_backoff_secs));
                    let j = self.jobs.get_mut(&id).unwrap();
                    j.lease = None;
                    j.not_before = nb;
                    j.updated_at = t;
                    for st in j.regions.values_mut() {
                        if *st == JobStatus::Delivering {
                            *st = JobStatus::Initializing;
                        }
                    }
                    self.clock = t;
                }
            }
        }
        (expired, failed)
    }
    fn poll(&self) -> Option<Timestamp> {
        self.jobs
            .values()
            .filter(|j| j.active())
            .map(|j| j.lease.unwrap_or(u64::MAX).min(self.deadline(j)))
            .min()
            .map(Timestamp)
    }
}

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }
}

fn compare(s: &Big, m: &Model, what: &str) {
    inv(s);
    assert_eq!(s.clock(), Timestamp(m.clock), "{what}: clock");
    assert_eq!(s.poll_timeout(), m.poll(), "{what}: poll_timeout");
    let st = s.stats();
    let active = m.jobs.values().filter(|j| j.active()).count();
    let leased = m.jobs.values().filter(|j| j.lease.is_some()).count();
    assert_eq!(
        (st.jobs, st.active_jobs, st.leased_jobs),
        (m.jobs.len(), active, leased),
        "{what}"
    );
    assert_eq!(
        catalogue(s),
        m.catalogue.iter().cloned().collect::<Vec<_>>(),
        "{what}"
    );
    let ids: Vec<u64> = s.jobs().map(|j| j.id.0).collect();
    assert_eq!(
        ids,
        m.jobs.keys().copied().collect::<Vec<_>>(),
        "{what}: job ids"
    );
    for (id, mj) in &m.jobs {
        let j = job(s, mj.account, JobId(*id));
        let got = (
            j.status,
            j.created_at.0,
            j.updated_at.0,
            j.attempt,
            j.lease_expires_at.map(|t| t.0),
        );
        let want = (
            mj.status,
            mj.created_at,
            mj.updated_at,
            mj.attempt,
            mj.lease,
        );
        assert_eq!(got, want, "{what}: job {id} {j:?}");
        assert_eq!(
            (j.not_before.0, j.delivered, j.failure),
            (mj.not_before, mj.delivered, mj.failure),
            "{what}: job {id}"
        );
        let want: Vec<(String, JobStatus)> =
            mj.regions.iter().map(|(r, st)| (r.clone(), *st)).collect();
        assert_eq!(
            regions(s, mj.account, JobId(*id)),
            want,
            "{what}: regions of {id}"
        );
    }
}

fn run(seed: u64, steps: usize, base: u64) {
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let config = workers(
        rng.pick(&[0, 1, 5, 50]),
        rng.pick(&[0, 1, 2, 3, 5]),
        rng.pick(&[0, 1, 7, 30]),
        rng.pick(&[0, 10, 100, u64::MAX]),
        rng.pick(&[0, 20, 200, 1000, u64::MAX]),
    );
    let mut s = Big::new(config);
    for a in ACCOUNTS {
        let spec = TrailSpec {
            name: trail_name(),
            kind: TrailKind::SingleAccount,
            delivers_to_sls: true,
        };
        s.create_trail(a, &hz(), &spec, Timestamp(base)).unwrap();
        s.start_logging(a, &hz(), &trail_name(), Timestamp(base))
            .unwrap();
    }
    let mut m = Model {
        c: config,
        clock: base,
        next_id: 1,
        jobs: BTreeMap::new(),
        catalogue: BTreeSet::new(),
    };
    let mut leases: Vec<Lease> = Vec::new();
    for step in 0..steps {
        let now = match rng.below(10) {
            0 => m.clock.saturating_sub(rng.below(20)),
            1 => m.clock.saturating_add(rng.pick(&[100, 500, 2000])),
            _ => m.clock.saturating_add(rng.pick(&[0, 1, 2, 5, 10, 30])),
        };
        let account = rng.pick(&ACCOUNTS);
        let id = JobId(1 + rng.below(m.next_id + 1));
        let lease = if !leases.is_empty() && rng.below(4) != 0 {
            leases[rng.below(leases.len() as u64) as usize]
        } else {
            Lease {
                account,
                job: id,
                attempt: rng.below(4) as u32,
                expires_at: Timestamp(now),
            }
        };
        let outcome = rng.pick(&[JobOutcome::Completed, JobOutcome::Failed]);
        let before = bytes(&s);
        let op = rng.below(13);
        let what = format!("seed {seed} step {step} op {op} at {now} ({config:?})");
        let t = Timestamp(now);
        // `quiet`: the answer says nothing changed, so the bytes must not have changed.
        let quiet = match op {
            0 | 1 => {
                let request = CreateJob {
                    account,
                    region: hz(),
                    trail_name: trail_name(),
                    client_token: None,
                };
                let got = s.create_job(&request, t);
                assert_eq!(got, m.create(account, now), "{what}");
                got.is_err()
            }
            2 | 3 => {
                let got = s.claim_next(t);
                assert_eq!(got, m.claim_next(now), "{what}");
                leases.extend(got);
                got.is_none()
            }
            4 => {
                let got = s.claim_job(account, id, t);
                assert_eq!(got, m.claim_job(account, id, now), "{what}");
                leases.extend(got.ok());
                got.is_err()
            }
            5 => {
                let d = rng.below(100);
                let got = s.heartbeat(&lease, d, t);
                assert_eq!(got, m.heartbeat(&lease, d, now), "{what}");
                got.is_err()
            }
            6 | 7 => {
                let r = rng.pick(&REGIONS);
                let st = rng.pick(&[
                    JobStatus::Initializing,
                    JobStatus::Delivering,
                    JobStatus::Completed,
                    JobStatus::Failed,
                ]);
                let got = s.report_region(&lease, &region(r), st, t);
                assert_eq!(got, m.report(&lease, r, st, now), "{what}");
                got != Ok(Transition::Changed)
            }
            8 => {
                let got = s.finish_job(&lease, outcome, t);
                assert_eq!(got, m.finish_job(&lease, outcome, now), "{what}");
                got != Ok(Transition::Changed)
            }
            9 => {
                let got = s.stop_job(account, id, t);
                assert_eq!(got, m.stop(account, id, now), "{what}");
                got != Ok(Transition::Changed)
            }
            10 => {
                let got = if rng.below(2) == 0 {
                    let got = s.complete_job(account, id, outcome, t);
                    assert_eq!(got, m.complete(account, id, outcome, now), "{what}");
                    got
                } else {
                    let got = s.start_job(account, id, t);
                    assert_eq!(got, m.start(account, id, now), "{what}");
                    got
                };
                got != Ok(Transition::Changed)
            }
            11 => {
                let got = s.delete_job(account, id).map(|_| ());
                assert_eq!(got, m.delete(account, id), "{what}");
                got.is_err()
            }
            _ => {
                let r = s.handle_timeout(t);
                let got = (r.leases_expired, r.jobs_failed);
                assert_eq!(got, m.timeouts(now), "{what}");
                got == (0, 0)
            }
        };
        if quiet {
            assert_eq!(
                bytes(&s),
                before,
                "{what}: a quiet answer changed the scheduler"
            );
        }
        compare(&s, &m, &what);
        if step % 17 == 16 {
            let back: Big = postcard::from_bytes(&bytes(&s)).unwrap();
            assert_eq!(back, s);
            s = back;
        }
    }
}

#[test]
fn the_crate_answers_as_the_section_9_model() {
    for seed in 0..300 {
        run(seed, 200, 0);
    }
}

#[test]
fn the_model_agrees_near_the_end_of_time() {
    // Every sum saturates at u64::MAX: lease ends, deadlines, not_before, the clock.
    for seed in 1000..1150 {
        run(seed, 200, u64::MAX - 3000);
    }
}
