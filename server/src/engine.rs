//! The state machine's thread: it owns the scheduler, applies requests in batches, commits each
//! batch's commands to the store in one transaction (group commit), and only then answers.
//! It also runs the timers: it sleeps until `poll_timeout()` (or the next request) and applies
//! `Command::HandleTimeout` as a logged command like any other.
//!
//! Every request, queries included, goes through this one thread, and every answer leaves only
//! after the batch it was computed in is on disk. So no client ever sees state that a crash
//! could take back: a `GetDeliveryHistoryJob` that shows a job was answered after the job's
//! creation was committed.

use std::sync::Mutex;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};
use tokio::sync::oneshot;
use trail_backfill::api::{ApiError, ApiRequest, Reply, respond};
use trail_backfill::{Command, Config, Effect, JobScheduler, Timestamp, Transition};

use crate::metrics::Metrics;
use crate::store::{self, Store};

/// The scheduler's capacities: 4,096 trails, 65,536 jobs, 65,536 token records (about 27 MiB,
/// all of it in `.bss`).
pub type Scheduler = JobScheduler<4096, 65536, 65536>;

/// The live scheduler. A `static`, never a value on a thread's stack (see the library's
/// README, "Large schedulers"); only the engine thread locks it once serving.
pub static SCHEDULER: Mutex<Scheduler> = Mutex::new(Scheduler::new(Config::ZERO));

/// A second scheduler, for `--verify-replay`'s fresh replay of the whole log.
pub static REPLAY: Mutex<Scheduler> = Mutex::new(Scheduler::new(Config::ZERO));

/// The most requests applied and committed together.
const MAX_BATCH: usize = 1024;

/// An answer: the HTTP status and the JSON body.
#[derive(Debug)]
pub struct Answer {
    /// 200 on success, the error's status otherwise.
    pub status: u16,
    /// The JSON object.
    pub body: String,
}

/// What the HTTP side asks of the engine.
pub enum Work {
    /// An API request, already authenticated and parsed.
    Request {
        /// The request.
        request: ApiRequest,
        /// Its `RequestId`.
        request_id: String,
        /// Where the answer goes.
        reply: oneshot::Sender<Answer>,
    },
    /// The SHA-256 (hex) of the scheduler's snapshot bytes, for tests (a restored state equals
    /// a fresh replay).
    Digest {
        /// Where the answer goes.
        reply: oneshot::Sender<String>,
    },
}

/// The system clock, whole seconds.
pub fn now() -> Timestamp {
    Timestamp::try_from(SystemTime::now()).unwrap_or(Timestamp(0))
}

/// Locks a scheduler; a panic elsewhere while it was held leaves it usable (every call of the
/// library checks before it commits, so it is never half-changed).
pub fn lock(scheduler: &'static Mutex<Scheduler>) -> std::sync::MutexGuard<'static, Scheduler> {
    scheduler
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The hex SHA-256 of a scheduler's postcard snapshot.
pub fn digest(scheduler: &Scheduler) -> Result<String, store::Error> {
    Ok(hex::encode(Sha256::digest(postcard::to_allocvec(
        scheduler,
    )?)))
}

/// Applies a command and writes its answer into `body`; returns the HTTP status and whether the
/// state changed (and so must be logged).
fn apply(
    scheduler: &mut Scheduler,
    command: &Command,
    now: Timestamp,
    head: &Heads<'_>,
    body: &mut String,
) -> (u16, bool) {
    match scheduler.apply(command, now) {
        Ok(effect) => {
            let next_timeout = match effect {
                Effect::TimeoutsHandled(_) => scheduler.poll_timeout(),
                _ => None,
            };
            let _ = head.ok.write_effect(body, command, &effect, next_timeout);
            (200, changed(&effect))
        }
        Err(error) => (head.refuse(body, error), false),
    }
}

/// The answer's head: `RequestId` alone on success, with `HostId` on errors (as the API).
pub struct Heads<'a> {
    /// For answers that succeed.
    pub ok: Reply<'a>,
    /// For errors.
    pub error: Reply<'a>,
}

impl Heads<'_> {
    /// Writes a scheduler error; returns its status.
    fn refuse(&self, body: &mut String, error: trail_backfill::Error) -> u16 {
        let error = ApiError::Scheduler(error);
        let _ = self.error.write_error(body, &error);
        error.http_status()
    }
}

/// Answers a query (no state changes).
fn query(
    scheduler: &mut Scheduler,
    request: &ApiRequest,
    now: Timestamp,
    head: &Heads<'_>,
    body: &mut String,
) -> u16 {
    match request {
        ApiRequest::GetJob { account, job } => {
            match (
                scheduler.job(*account, *job),
                scheduler.job_regions(*account, *job),
            ) {
                (Some(found), Some(regions)) => {
                    let _ = head.ok.write_job(body, found, regions);
                    200
                }
                _ => head.refuse(body, trail_backfill::Error::JobNotFound),
            }
        }
        ApiRequest::ListJobs {
            account,
            page_number,
            page_size,
        } => match scheduler.list_jobs(*account, *page_number, *page_size) {
            Ok(page) => {
                let _ = head.ok.write_job_page(body, &page);
                200
            }
            Err(error) => head.refuse(body, error),
        },
        // A request kind added to the library later: its own answer.
        other => respond(scheduler, other, now, &head.ok, body).unwrap_or(500),
    }
}

/// Whether a command that succeeded with `effect` changed the scheduler. `true` when in doubt:
/// logging a command that changed nothing costs a little space, never correctness.
pub fn changed(effect: &Effect) -> bool {
    match effect {
        Effect::LoggingStarted(t)
        | Effect::LoggingStopped(t)
        | Effect::JobStarted(t)
        | Effect::JobCompleted(t)
        | Effect::RegionReported(t)
        | Effect::JobFinished(t)
        | Effect::JobStopped(t) => *t == Transition::Changed,
        Effect::JobCreated(created) => !created.replayed,
        Effect::JobClaimed(lease) => lease.is_some(),
        Effect::TimeoutsHandled(report) => report.leases_expired > 0 || report.jobs_failed > 0,
        _ => true,
    }
}

/// What recovery did.
#[derive(Debug, Default)]
pub struct Recovery {
    /// The index of the last command in the snapshot loaded (0: none).
    pub snapshot_index: u64,
    /// Commands replayed after it.
    pub replayed: u64,
    /// Of those, how many the scheduler refused (always 0 unless the store was tampered with).
    pub refused: u64,
}

/// Loads the latest snapshot into `scheduler` (whose config must be the stored one) and
/// replays the log after it.
pub fn recover<const T: usize, const J: usize, const K: usize>(
    store: &Store,
    scheduler: &mut JobScheduler<T, J, K>,
) -> Result<Recovery, store::Error> {
    let recovered = store.recover()?;
    let mut recovery = Recovery::default();
    if let Some((index, bytes)) = recovered.snapshot {
        scheduler
            .restore_typed(&mut postcard::Deserializer::from_bytes(&bytes))
            .map_err(|e| format!("the snapshot at {index} does not load: {e:?}"))?;
        recovery.snapshot_index = index;
    }
    for (_, command, at) in &recovered.log {
        recovery.replayed += 1;
        if scheduler.apply(command, *at).is_err() {
            recovery.refused += 1;
        }
    }
    Ok(recovery)
}

/// The engine: the store, the request queue, the snapshot policy.
pub struct Engine {
    /// The durable log.
    pub store: Store,
    /// Requests from the HTTP side.
    pub queue: Receiver<Work>,
    /// Store a snapshot after this many logged commands.
    pub snapshot_every: u64,
    /// Counters for `/metrics`.
    pub metrics: &'static Metrics,
    /// `HostId` of error answers.
    pub host_id: String,
}

impl Engine {
    /// Runs until every sender is gone. A failed commit ends the process: the memory state
    /// is ahead of the disk, and the only safe way on is a restart that recovers from disk.
    pub fn run(mut self) {
        let mut since_snapshot = 0u64;
        let mut batch: Vec<Work> = Vec::with_capacity(MAX_BATCH);
        let mut entries: Vec<(Command, Timestamp)> = Vec::with_capacity(MAX_BATCH);
        let mut answers: Vec<(oneshot::Sender<Answer>, Answer)> = Vec::with_capacity(MAX_BATCH);
        loop {
            let wake = lock(&SCHEDULER).poll_timeout();
            let first = match wake {
                None => self
                    .queue
                    .recv()
                    .map_err(|_| RecvTimeoutError::Disconnected),
                Some(at) => {
                    let due = UNIX_EPOCH + Duration::from_secs(at.0);
                    let wait = due
                        .duration_since(SystemTime::now())
                        .unwrap_or(Duration::ZERO);
                    self.queue.recv_timeout(wait)
                }
            };
            match first {
                Ok(work) => batch.push(work),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return,
            }
            while batch.len() < MAX_BATCH {
                match self.queue.try_recv() {
                    Ok(work) => batch.push(work),
                    Err(_) => break,
                }
            }

            let now = now();
            {
                let mut scheduler = lock(&SCHEDULER);
                // The timers first, so that the batch sees leases and deadlines that ran out.
                if scheduler.poll_timeout().is_some_and(|at| at <= now) {
                    let command = Command::HandleTimeout;
                    if let Ok(Effect::TimeoutsHandled(report)) = scheduler.apply(&command, now) {
                        self.metrics
                            .timeouts(report.leases_expired, report.jobs_failed);
                        entries.push((command, now));
                    }
                }
                for work in batch.drain(..) {
                    match work {
                        Work::Request {
                            request,
                            request_id,
                            reply,
                        } => {
                            let mut body = String::with_capacity(256);
                            let head = Heads {
                                ok: Reply {
                                    request_id: &request_id,
                                    host_id: None,
                                },
                                error: Reply {
                                    request_id: &request_id,
                                    host_id: Some(&self.host_id),
                                },
                            };
                            let status = match &request {
                                ApiRequest::Command(command) => {
                                    let (status, changed) =
                                        apply(&mut scheduler, command, now, &head, &mut body);
                                    // Only what changed the state is logged: a refusal, a
                                    // replayed token or an `Unchanged` answer changed nothing
                                    // (the clock included), so replay needs no entry for it.
                                    if changed {
                                        entries.push((command.clone(), now));
                                    }
                                    status
                                }
                                other => query(&mut scheduler, other, now, &head, &mut body),
                            };
                            answers.push((reply, Answer { status, body }));
                        }
                        Work::Digest { reply } => {
                            let _ = reply.send(digest(&scheduler).unwrap_or_default());
                        }
                    }
                }
                self.metrics.stats(&scheduler.stats());
            }

            if !entries.is_empty() {
                let started = std::time::Instant::now();
                if let Err(error) = self.store.append(&entries) {
                    tracing::error!(%error, "commit failed: exiting so that a restart recovers from disk");
                    for (reply, _) in answers.drain(..) {
                        let _ = reply.send(Answer {
                            status: 500,
                            body: String::from(
                                r#"{"Code":"InternalError","Message":"The request processing has failed due to some unknown error."}"#,
                            ),
                        });
                    }
                    std::process::exit(70);
                }
                self.metrics.commit(entries.len(), started.elapsed());
                since_snapshot += entries.len() as u64;
                entries.clear();
            }
            for (reply, answer) in answers.drain(..) {
                let _ = reply.send(answer);
            }

            if since_snapshot >= self.snapshot_every {
                since_snapshot = 0;
                let bytes = postcard::to_allocvec(&*lock(&SCHEDULER));
                let result = bytes
                    .map_err(store::Error::from)
                    .and_then(|bytes| self.store.write_snapshot(&bytes).map(|()| bytes.len()));
                match result {
                    Ok(len) => {
                        self.metrics.snapshot();
                        tracing::info!(
                            index = self.store.last_index(),
                            bytes = len,
                            "snapshot stored"
                        );
                    }
                    // The log still holds everything: a failed snapshot loses nothing.
                    Err(error) => tracing::warn!(%error, "snapshot failed"),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use trail_backfill::{
        AccountId, ClientToken, CreateJob, JobId, JobOutcome, Region, TrailKind, TrailName,
        TrailSpec,
    };

    type Small = JobScheduler<8, 16, 16>;

    /// A story with every kind of answer: changes, `Unchanged`, a replayed token, an empty
    /// claim, refusals, and timeouts.
    fn story() -> Vec<(Command, Timestamp)> {
        let account = AccountId(7);
        let region = Region::new("cn-hangzhou").unwrap();
        let name = TrailName::new("trail-name").unwrap();
        let spec = TrailSpec {
            name: name.clone(),
            kind: TrailKind::SingleAccount,
            delivers_to_sls: true,
        };
        let create = Command::CreateJob(CreateJob {
            account,
            region: region.clone(),
            trail_name: name.clone(),
            client_token: Some(ClientToken::new("t-1").unwrap()),
        });
        let logging = Command::StartLogging {
            account,
            region: region.clone(),
            name: name.clone(),
        };
        let t = |s: u64| Timestamp(1_622_099_703 + s);
        vec![
            (create.clone(), t(0)), // refused: no trail
            (
                Command::CreateTrail {
                    account,
                    region: region.clone(),
                    spec,
                },
                t(1),
            ),
            (logging.clone(), t(2)),
            (logging, t(3)), // Unchanged
            (create.clone(), t(4)),
            (create, t(5)), // replayed
            (Command::ClaimNext, t(6)),
            (Command::ClaimNext, t(7)),       // nothing to claim
            (Command::HandleTimeout, t(8)),   // nothing due
            (Command::HandleTimeout, t(400)), // the lease ran out
            (
                Command::StopJob {
                    account,
                    job: JobId(1),
                },
                t(401),
            ),
            (
                Command::StopJob {
                    account,
                    job: JobId(1),
                },
                t(402),
            ), // Unchanged
            (
                Command::CompleteJob {
                    account,
                    job: JobId(1),
                    outcome: JobOutcome::Completed,
                },
                t(403),
            ), // refused: finished with the other outcome
        ]
    }

    fn bytes(scheduler: &Small) -> Vec<u8> {
        postcard::to_allocvec(scheduler).unwrap()
    }

    #[test]
    fn logging_only_what_changed_replays_to_the_same_state() {
        let mut all = Box::new(Small::new(Config::DEFAULT));
        let mut logged = Vec::new();
        let mut skipped = 0;
        for (command, now) in story() {
            let before = bytes(&all);
            match all.apply(&command, now) {
                Ok(effect) if changed(&effect) => logged.push((command, now)),
                Ok(_) | Err(_) => {
                    // Not logged: then it must really have changed nothing.
                    assert_eq!(bytes(&all), before, "{command:?} changed the state");
                    skipped += 1;
                }
            }
        }
        assert_eq!(skipped, 7);
        let mut replayed = Box::new(Small::new(Config::DEFAULT));
        for (command, now) in &logged {
            assert!(replayed.apply(command, *now).is_ok());
        }
        assert_eq!(bytes(&replayed), bytes(&all));
    }

    #[test]
    fn recovery_is_the_snapshot_and_the_log_after_it() {
        let dir = std::env::temp_dir().join(format!(
            "trail-backfill-engine-{}-{}",
            std::process::id(),
            crate::keys::random_hex(4)
        ));
        let mut store = Store::open(&dir, false).unwrap();
        let config = store
            .config(|| Config {
                hash_seed: 5,
                ..Config::DEFAULT
            })
            .unwrap();
        let mut live = Box::new(Small::new(config));
        for (index, (command, now)) in story().into_iter().enumerate() {
            if live
                .apply(&command, now)
                .is_ok_and(|effect| changed(&effect))
            {
                store.append(&[(command, now)]).unwrap();
            }
            if index == 5 {
                store.write_snapshot(&bytes(&live)).unwrap();
            }
        }
        drop(store);
        let store = Store::open(&dir, false).unwrap();
        let mut recovered = Box::new(Small::new(Config::DEFAULT));
        recovered.reset(config);
        let recovery = recover(&store, &mut recovered).unwrap();
        assert!(recovery.snapshot_index > 0 && recovery.replayed > 0);
        assert_eq!(recovery.refused, 0);
        assert_eq!(bytes(&recovered), bytes(&live));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
