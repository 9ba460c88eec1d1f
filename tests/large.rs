//! Production-sized schedulers (`JobScheduler<4096, 65536, 65536>`, tens of MiB) live in
//! `static`s and are copied in place, never through the stack; and a deep page of a large
//! account costs no more than a shallow one.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use trail_backfill::*;

type Big = JobScheduler<4096, 65536, 65536>;
static SOURCE: Mutex<Big> = Mutex::new(Big::new(Config::DEFAULT));
static TARGET: Mutex<Big> = Mutex::new(Big::new(Config::DEFAULT));

fn hz() -> Region {
    Region::new("cn-hangzhou").unwrap()
}

fn name() -> TrailName {
    TrailName::new("trail-name").unwrap()
}

fn logging_trail<const T: usize, const J: usize, const K: usize>(
    s: &mut JobScheduler<T, J, K>,
    account: u64,
) {
    let spec = TrailSpec {
        name: name(),
        kind: TrailKind::SingleAccount,
        delivers_to_sls: true,
    };
    s.create_trail(AccountId(account), &hz(), &spec, Timestamp(1))
        .unwrap();
    s.start_logging(AccountId(account), &hz(), &name(), Timestamp(1))
        .unwrap();
}

fn request(account: u64, token: Option<String>) -> CreateJob {
    CreateJob {
        account: AccountId(account),
        region: hz(),
        trail_name: name(),
        client_token: token.map(|token| ClientToken::new(&token).unwrap()),
    }
}

#[test]
fn clone_from_copies_a_production_sized_scheduler_on_a_2_mib_thread() {
    let worker = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(|| {
            let mut source = SOURCE.lock().unwrap();
            let mut target = TARGET.lock().unwrap();
            for account in 1..=8 {
                logging_trail(&mut *source, account);
                let token = Some(format!("token-{account}"));
                let job = source
                    .create_job(&request(account, token), Timestamp(10 + account))
                    .unwrap()
                    .job_id;
                if account % 2 == 0 {
                    source
                        .complete_job(
                            AccountId(account),
                            job,
                            JobOutcome::Completed,
                            Timestamp(30),
                        )
                        .unwrap();
                }
            }
            let lease = source.claim_next(Timestamp(40)).unwrap();
            source
                .report_region(&lease, &hz(), JobStatus::Delivering, Timestamp(41))
                .unwrap();
            target.clone_from(&source);
            assert_eq!(*target, *source);
            target.check_invariants().unwrap();
            // The copy is independent and keeps working.
            target
                .finish_job(&lease, JobOutcome::Completed, Timestamp(50))
                .unwrap();
            assert_ne!(*target, *source);
            assert_eq!(target.stats().active_jobs, source.stats().active_jobs - 1);
        })
        .unwrap();
    worker.join().expect("clone_from fits a 2 MiB stack");
}

type Deep = JobScheduler<2, 16384, 2>;
static DEEP: Mutex<Deep> = Mutex::new(Deep::new(Config::DEFAULT));

/// The quickest of `runs` runs of `work`.
fn quickest(runs: usize, mut work: impl FnMut()) -> Duration {
    (0..runs)
        .map(|_| {
            let start = Instant::now();
            work();
            start.elapsed()
        })
        .min()
        .unwrap()
}

#[test]
fn a_deep_page_costs_about_what_the_first_page_does() {
    let mut s = DEEP.lock().unwrap();
    logging_trail(&mut *s, 1);
    for second in 0..16_384u64 {
        let job = s
            .create_job(&request(1, None), Timestamp(second))
            .unwrap()
            .job_id;
        s.complete_job(AccountId(1), job, JobOutcome::Completed, Timestamp(second))
            .unwrap();
    }
    // Page 164 of 100 is the last, with the 84 oldest jobs; page 120 is past the middle.
    let ids = |page: u32| -> Vec<u64> {
        let page = s.list_jobs(AccountId(1), page, 100).unwrap();
        page.jobs().map(|job| job.id.0).collect()
    };
    assert_eq!(ids(164), (1..=84).rev().collect::<Vec<_>>());
    assert_eq!(ids(120).first(), Some(&(16_384 - 11_900)));
    assert_eq!(ids(1).first(), Some(&16_384));
    let first = quickest(20, || {
        std::hint::black_box(s.list_jobs(AccountId(1), 1, 100).unwrap().jobs().count());
    });
    let deep = quickest(20, || {
        std::hint::black_box(s.list_jobs(AccountId(1), 163, 100).unwrap().jobs().count());
    });
    // Before, the walk always started at the newest job: page 163 cost about 160x page 1.
    let ratio = deep.as_secs_f64() / first.as_secs_f64();
    assert!(
        ratio < 10.0,
        "page 163 {deep:?}, page 1 {first:?}: {ratio:.1}x"
    );
}

/// An empty scheduler built with `Config::ZERO` is all zero bytes, so a `static` one lands in
/// `.bss`: no image of tens of MiB in the binary (or in a microcontroller's flash), no copy
/// at start-up. (`.ci/run` also checks the `.data` size of a binary with such a static.)
#[test]
fn an_empty_scheduler_with_the_zero_config_is_all_zero_bytes() {
    static EMPTY: JobScheduler<8, 16, 16> = JobScheduler::new(Config::ZERO);
    let size = std::mem::size_of::<JobScheduler<8, 16, 16>>();
    // SAFETY: reads the bytes of a `static` that lives for the whole program, as plain bytes.
    let bytes = unsafe {
        std::slice::from_raw_parts(
            (&EMPTY as *const JobScheduler<8, 16, 16>).cast::<u8>(),
            size,
        )
    };
    let nonzero: Vec<usize> = (0..size).filter(|&i| bytes[i] != 0).collect();
    assert!(nonzero.is_empty(), "non-zero bytes at offsets {nonzero:?}");
    // And it works once given its config.
    let mut scheduler = JobScheduler::<8, 16, 16>::new(Config::ZERO);
    scheduler.reset(Config::DEFAULT);
    logging_trail(&mut scheduler, 1);
    assert_eq!(
        scheduler
            .create_job(&request(1, None), Timestamp(5))
            .unwrap()
            .job_id,
        JobId(1)
    );
}
