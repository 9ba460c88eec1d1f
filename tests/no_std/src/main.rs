//! A freestanding program that runs one backfill task through the scheduler.
#![no_std]
#![no_main]

use core::cell::UnsafeCell;
use core::panic::PanicInfo;

use trail_backfill::{
    AccountId, Config, CreateJob, JobOutcome, JobScheduler, Region, Timestamp, TrailKind,
    TrailName, TrailSpec,
};

/// A production-sized scheduler in a `static`: all zero bytes when empty, so it lands in
/// `.bss` (no 35 MB image in the binary, no copy at start). `.ci/run` checks the binary's
/// `.data` stays small.
static PRODUCTION: Shared = Shared(UnsafeCell::new(JobScheduler::new(Config::ZERO)));

/// A scheduler that firmware mutates in place (a real host would put it behind its RTOS's
/// mutex): writable, so the linker places it in `.bss`, or in `.data` if it were not all zero.
struct Shared(UnsafeCell<JobScheduler<4096, 65536, 65536>>);

// SAFETY: this single-threaded program touches `PRODUCTION` from `run` only.
unsafe impl Sync for Shared {}

/// Exercises every table so that the linker keeps the code paths (serde included).
fn run() -> Option<u64> {
    let mut scheduler: JobScheduler<4, 8, 8> = JobScheduler::new(Config::DEFAULT);
    let account = AccountId(1);
    let region = Region::new("cn-hangzhou").ok()?;
    let name = TrailName::new("trail-name").ok()?;
    let spec = TrailSpec {
        name: name.clone(),
        kind: TrailKind::SingleAccount,
        delivers_to_sls: true,
    };
    scheduler
        .create_trail(account, &region, &spec, Timestamp(1))
        .ok()?;
    scheduler
        .start_logging(account, &region, &name, Timestamp(2))
        .ok()?;
    let request = CreateJob {
        account,
        region,
        trail_name: name,
        client_token: None,
    };
    let job = scheduler.create_job(&request, Timestamp(3)).ok()?.job_id;
    scheduler.start_job(account, job, Timestamp(4)).ok()?;
    scheduler
        .complete_job(account, job, JobOutcome::Completed, Timestamp(5))
        .ok()?;
    scheduler.check_invariants().ok()?;
    // SAFETY: the only reference to `PRODUCTION`, on the only thread.
    let production = unsafe { &mut *PRODUCTION.0.get() };
    production.reset(Config::DEFAULT);
    production.check_invariants().ok()?;
    Some(job.0.saturating_add(production.stats().jobs as u64))
}

/// The C entry point; the C runtime calls it.
#[unsafe(no_mangle)]
pub extern "C" fn main(_argc: i32, _argv: *const *const u8) -> i32 {
    match run() {
        Some(1) => 0,
        _ => 1,
    }
}

// The C library provides the program's start-up code and `memcpy`/`memset`, which `core`
// expects from the platform; it brings no Rust std and no Rust allocator.
#[link(name = "c")]
unsafe extern "C" {}

// The precompiled `core` for this host target was built to unwind and names the unwinding
// personality routine; with `panic = "abort"` nothing unwinds, so it is never called.
#[unsafe(no_mangle)]
pub extern "C" fn rust_eh_personality() {}

#[panic_handler]
fn panic(_info: &PanicInfo) -> ! {
    loop {}
}
