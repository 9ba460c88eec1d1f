//! Counters for `GET /metrics`, in the Prometheus text format.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use trail_backfill::Stats;

/// Upper bounds of the latency histogram's buckets, in microseconds.
const BUCKETS_US: [u64; 14] = [
    100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000,
    1_000_000, 5_000_000,
];

/// Everything `/metrics` shows. Lock-free: the engine and the handlers update it as they go.
#[derive(Default)]
pub struct Metrics {
    trails: AtomicU64,
    jobs: AtomicU64,
    active_jobs: AtomicU64,
    leased_jobs: AtomicU64,
    tokens: AtomicU64,
    jobs_evicted: AtomicU64,
    tokens_evicted_live: AtomicU64,
    leases_expired: AtomicU64,
    jobs_failed_by_timer: AtomicU64,
    commands: AtomicU64,
    commits: AtomicU64,
    commit_us: AtomicU64,
    snapshots: AtomicU64,
    requests_2xx: AtomicU64,
    requests_4xx: AtomicU64,
    requests_5xx: AtomicU64,
    latency: [AtomicU64; BUCKETS_US.len() + 1],
    latency_sum_us: AtomicU64,
}

impl Metrics {
    /// The scheduler's `Stats` after a batch.
    pub fn stats(&self, stats: &Stats) {
        self.trails.store(stats.trails as u64, Relaxed);
        self.jobs.store(stats.jobs as u64, Relaxed);
        self.active_jobs.store(stats.active_jobs as u64, Relaxed);
        self.leased_jobs.store(stats.leased_jobs as u64, Relaxed);
        self.tokens.store(stats.tokens as u64, Relaxed);
        self.jobs_evicted.store(stats.jobs_evicted, Relaxed);
        self.tokens_evicted_live
            .store(stats.tokens_evicted_live, Relaxed);
    }

    /// What a timer's `HandleTimeout` did.
    pub fn timeouts(&self, leases_expired: u32, jobs_failed: u32) {
        self.leases_expired
            .fetch_add(u64::from(leases_expired), Relaxed);
        self.jobs_failed_by_timer
            .fetch_add(u64::from(jobs_failed), Relaxed);
    }

    /// One group commit of `commands` entries.
    pub fn commit(&self, commands: usize, took: Duration) {
        self.commands.fetch_add(commands as u64, Relaxed);
        self.commits.fetch_add(1, Relaxed);
        self.commit_us.fetch_add(micros(took), Relaxed);
    }

    /// One snapshot stored.
    pub fn snapshot(&self) {
        self.snapshots.fetch_add(1, Relaxed);
    }

    /// One API request answered with `status` after `took`.
    pub fn request(&self, status: u16, took: Duration) {
        match status {
            200..=299 => &self.requests_2xx,
            400..=499 => &self.requests_4xx,
            _ => &self.requests_5xx,
        }
        .fetch_add(1, Relaxed);
        let us = micros(took);
        let bucket = BUCKETS_US
            .iter()
            .position(|&b| us <= b)
            .unwrap_or(BUCKETS_US.len());
        if let Some(counter) = self.latency.get(bucket) {
            counter.fetch_add(1, Relaxed);
        }
        self.latency_sum_us.fetch_add(us, Relaxed);
    }

    /// The Prometheus text.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(4096);
        let gauges = [
            ("trails", "Trails stored.", &self.trails),
            ("jobs", "Jobs stored.", &self.jobs),
            (
                "active_jobs",
                "Jobs initializing or delivering.",
                &self.active_jobs,
            ),
            ("leased_jobs", "Jobs leased to a worker.", &self.leased_jobs),
            ("tokens", "Client token records held.", &self.tokens),
        ];
        for (name, help, value) in gauges {
            let _ = writeln!(
                out,
                "# HELP trail_backfill_{name} {help}\n# TYPE trail_backfill_{name} gauge\ntrail_backfill_{name} {}",
                value.load(Relaxed)
            );
        }
        let counters = [
            (
                "jobs_evicted_total",
                "Finished jobs evicted from a full table.",
                &self.jobs_evicted,
            ),
            (
                "tokens_evicted_live_total",
                "Live token records evicted from a full cache.",
                &self.tokens_evicted_live,
            ),
            (
                "leases_expired_total",
                "Leases ended by the timer since start.",
                &self.leases_expired,
            ),
            (
                "timer_jobs_failed_total",
                "Jobs failed by the timer since start.",
                &self.jobs_failed_by_timer,
            ),
            (
                "commands_committed_total",
                "Commands committed to the log since start.",
                &self.commands,
            ),
            ("commits_total", "Group commits since start.", &self.commits),
            (
                "snapshots_total",
                "Snapshots stored since start.",
                &self.snapshots,
            ),
        ];
        for (name, help, value) in counters {
            let _ = writeln!(
                out,
                "# HELP trail_backfill_{name} {help}\n# TYPE trail_backfill_{name} counter\ntrail_backfill_{name} {}",
                value.load(Relaxed)
            );
        }
        let _ = writeln!(
            out,
            "# HELP trail_backfill_commit_seconds_total Time spent in commits.\n# TYPE trail_backfill_commit_seconds_total counter\ntrail_backfill_commit_seconds_total {}",
            seconds(self.commit_us.load(Relaxed))
        );
        out.push_str("# HELP trail_backfill_requests_total API requests answered, by status class.\n# TYPE trail_backfill_requests_total counter\n");
        for (class, value) in [
            ("2xx", &self.requests_2xx),
            ("4xx", &self.requests_4xx),
            ("5xx", &self.requests_5xx),
        ] {
            let _ = writeln!(
                out,
                "trail_backfill_requests_total{{status=\"{class}\"}} {}",
                value.load(Relaxed)
            );
        }
        out.push_str("# HELP trail_backfill_request_duration_seconds API request latency.\n# TYPE trail_backfill_request_duration_seconds histogram\n");
        let mut cumulative = 0;
        for (index, counter) in self.latency.iter().enumerate() {
            cumulative += counter.load(Relaxed);
            let le = BUCKETS_US
                .get(index)
                .map_or_else(|| "+Inf".to_owned(), |&us| seconds(us));
            let _ = writeln!(
                out,
                "trail_backfill_request_duration_seconds_bucket{{le=\"{le}\"}} {cumulative}"
            );
        }
        let _ = writeln!(
            out,
            "trail_backfill_request_duration_seconds_sum {}\ntrail_backfill_request_duration_seconds_count {cumulative}",
            seconds(self.latency_sum_us.load(Relaxed))
        );
        out
    }
}

fn micros(duration: Duration) -> u64 {
    u64::try_from(duration.as_micros()).unwrap_or(u64::MAX)
}

fn seconds(us: u64) -> String {
    format!("{}.{:06}", us / 1_000_000, us % 1_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_a_cumulative_histogram() {
        let metrics = Metrics::default();
        metrics.request(200, Duration::from_micros(90));
        metrics.request(404, Duration::from_millis(3));
        metrics.request(503, Duration::from_secs(9));
        metrics.commit(3, Duration::from_millis(2));
        let text = metrics.render();
        assert!(text.contains("trail_backfill_requests_total{status=\"4xx\"} 1"));
        assert!(text.contains("trail_backfill_request_duration_seconds_bucket{le=\"0.000100\"} 1"));
        assert!(text.contains("trail_backfill_request_duration_seconds_bucket{le=\"0.005000\"} 2"));
        assert!(text.contains("trail_backfill_request_duration_seconds_bucket{le=\"+Inf\"} 3"));
        assert!(text.contains("trail_backfill_request_duration_seconds_count 3"));
        assert!(text.contains("trail_backfill_commands_committed_total 3"));
        assert!(text.contains("trail_backfill_commit_seconds_total 0.002000"));
    }
}
