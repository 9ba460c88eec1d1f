//! The scheduler as a value: `Clone` that copies in place, and equality and `Debug` of the
//! logical state (what a snapshot holds), whatever the internal slot layout.

use super::JobScheduler;
use crate::listed::Listed;

/// `clone` builds the copy on the stack, as every `Clone` does: for a large scheduler use
/// `clone_from` on one that already lives in a `static` or a `Box`, which copies table by
/// table in place (a `JobScheduler<4096, 65536, 65536>` clones on a 2 MiB thread).
impl<const TRAILS: usize, const JOBS: usize, const TOKENS: usize> Clone
    for JobScheduler<TRAILS, JOBS, TOKENS>
{
    fn clone(&self) -> Self {
        JobScheduler {
            trails: self.trails.clone(),
            jobs: self.jobs.clone(),
            tokens: self.tokens.clone(),
            regions: self.regions.clone(),
            ..*self
        }
    }

    fn clone_from(&mut self, source: &Self) {
        self.config = source.config;
        self.hasher = source.hasher;
        self.clock = source.clock;
        self.next_job_id = source.next_job_id;
        self.jobs_evicted = source.jobs_evicted;
        self.tokens_evicted_live = source.tokens_evicted_live;
        self.trails.clone_from(&source.trails);
        self.jobs.clone_from(&source.jobs);
        self.tokens.clone_from(&source.tokens);
        self.regions.clone_from(&source.regions);
    }
}

impl<const TRAILS: usize, const JOBS: usize, const TOKENS: usize> PartialEq
    for JobScheduler<TRAILS, JOBS, TOKENS>
{
    fn eq(&self, other: &Self) -> bool {
        self.config == other.config
            && self.clock == other.clock
            && self.next_job_id == other.next_job_id
            && self.jobs_evicted == other.jobs_evicted
            && self.tokens_evicted_live == other.tokens_evicted_live
            && self.trails.iter().eq(other.trails.iter())
            && self.jobs.iter().eq(other.jobs.iter())
            && self.tokens.iter().eq(other.tokens.iter())
            && self.regions().eq(other.regions())
            && self.jobs.iter().all(|job| {
                let ours = self.job_regions(job.account, job.id);
                let theirs = other.job_regions(job.account, job.id);
                match (ours, theirs) {
                    (Some(ours), Some(theirs)) => ours.eq(theirs),
                    _ => false,
                }
            })
    }
}

impl<const TRAILS: usize, const JOBS: usize, const TOKENS: usize> Eq
    for JobScheduler<TRAILS, JOBS, TOKENS>
{
}

/// Shows the logical state (as equality sees it), not the internal tables.
impl<const TRAILS: usize, const JOBS: usize, const TOKENS: usize> core::fmt::Debug
    for JobScheduler<TRAILS, JOBS, TOKENS>
{
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("JobScheduler")
            .field("config", &self.config)
            .field("clock", &self.clock)
            .field("next_job_id", &self.next_job_id)
            .field("stats", &self.stats())
            .field(
                "trails",
                &Listed::new(self.trails.len(), || self.trails.iter()),
            )
            .field("jobs", &Listed::new(self.jobs.len(), || self.jobs.iter()))
            .field(
                "tokens",
                &Listed::new(self.tokens.len(), || self.tokens.iter()),
            )
            .field(
                "regions",
                &Listed::new(self.regions.len(), || self.regions()),
            )
            .finish()
    }
}
