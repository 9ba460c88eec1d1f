//! `trail-backfill-server`: the ActionTrail delivery-history-job API over HTTP, for the
//! official Alibaba Cloud SDKs, on one `trail_backfill::JobScheduler` made durable by a redb
//! command log. See `server/README.md`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;
use std::sync::atomic::AtomicU64;

use clap::Parser;
use trail_backfill::{Config, Region};

use trail_backfill_server::engine::{self, Engine, REPLAY, SCHEDULER, lock};
use trail_backfill_server::http;
use trail_backfill_server::keys::{self, Keys};
use trail_backfill_server::metrics::Metrics;
use trail_backfill_server::store::{self, Store};

/// The ActionTrail delivery-history-job API, signed (ACS3-HMAC-SHA256), durable (redb).
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Data directory (the redb database; keys.toml when --keys is not given).
    #[arg(long, default_value = "./trail-backfill-data")]
    data: PathBuf,
    /// Access keys (TOML). Without it, DIR/keys.toml, written with fresh keys on first start.
    #[arg(long)]
    keys: Option<PathBuf>,
    /// The region of requests that carry no RegionId (the endpoint's region).
    #[arg(long, default_value = "cn-hangzhou")]
    region: String,
    /// Store a snapshot (and drop the log before it) every this many commands.
    #[arg(long, default_value_t = 10_000)]
    snapshot_every: u64,
    /// Keep the whole log when storing snapshots (for --verify-replay).
    #[arg(long)]
    keep_log: bool,
    /// Do not serve: recover the state (snapshot + log after it), replay the whole log into a
    /// fresh scheduler, check both give the same snapshot bytes, and print the state's digest.
    #[arg(long)]
    verify_replay: bool,
    /// Lease length in seconds, for a new database only (the config is stored with it).
    #[arg(long, default_value_t = Config::DEFAULT.lease_secs)]
    lease_secs: u64,
    /// The first retry's backoff in seconds (doubling per attempt), for a new database only.
    #[arg(long, default_value_t = Config::DEFAULT.retry_backoff_secs)]
    retry_backoff_secs: u64,
    /// Attempts per job, for a new database only.
    #[arg(long, default_value_t = Config::DEFAULT.max_attempts)]
    max_attempts: u64,
    /// The account of the customer key written on first start.
    #[arg(long, default_value_t = 1_512_666_876_910_001)]
    account: u64,
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(tracing::Level::INFO)
        .with_ansi(false)
        .init();
    let args = Args::parse();
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> Result<(), store::Error> {
    let region = Region::new(&args.region)
        .map_err(|_| format!("--region {:?} is not a region id", args.region))?;
    let mut store = Store::open(&args.data, args.keep_log || args.verify_replay)?;
    let config = store.config(|| {
        let mut seed = [0u8; 8];
        getrandom::fill(&mut seed).expect("the operating system's random source failed");
        Config {
            hash_seed: u64::from_le_bytes(seed),
            lease_secs: args.lease_secs,
            max_attempts: args.max_attempts,
            retry_backoff_secs: args.retry_backoff_secs,
            ..Config::DEFAULT
        }
    })?;

    let recovery = {
        let mut scheduler = lock(&SCHEDULER);
        scheduler.reset(config);
        engine::recover(&store, &mut scheduler)?
    };
    tracing::info!(
        snapshot_index = recovery.snapshot_index,
        replayed = recovery.replayed,
        refused = recovery.refused,
        last_index = store.last_index(),
        "recovered"
    );

    if args.verify_replay {
        return verify_replay(&store, config);
    }
    // The recovered state's digest, before any request or timer changes it (tests compare it
    // with --verify-replay's).
    println!(
        "recovered state digest {}",
        engine::digest(&lock(&SCHEDULER))?
    );

    let keys = load_keys(&args)?;
    let metrics: &'static Metrics = Box::leak(Box::default());
    metrics.stats(&lock(&SCHEDULER).stats());
    let (sender, queue) = std::sync::mpsc::channel();
    let host_id = format!("actiontrail.{}.aliyuncs.com", region.as_str());
    let engine = Engine {
        host_id: host_id.clone(),
        store,
        queue,
        snapshot_every: args.snapshot_every.max(1),
        metrics,
    };
    let engine_thread = std::thread::Builder::new()
        .name("engine".to_owned())
        .spawn(move || engine.run())?;

    let mut prefix = [0u8; 8];
    getrandom::fill(&mut prefix).map_err(|e| format!("random source: {e}"))?;
    let shared: &'static http::Shared = Box::leak(Box::new(http::Shared {
        keys,
        nonces: Mutex::default(),
        engine: Mutex::new(sender),
        host_id,
        region,
        metrics,
        request_prefix: u64::from_le_bytes(prefix),
        request_counter: AtomicU64::new(0),
    }));

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_io()
        .enable_time()
        .build()?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
        let local = listener.local_addr()?;
        tracing::info!(listen = %local, data = %args.data.display(), "serving");
        // For scripts that start the server on port 0.
        println!("listening on {local}");
        let app = http::router(shared).into_make_service_with_connect_info::<SocketAddr>();
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await?;
        Ok::<(), store::Error>(())
    })?;
    // Every answer given was committed first; the engine stops when its queue closes.
    drop(runtime);
    if let Ok(mut sender) = shared.engine.lock() {
        *sender = std::sync::mpsc::channel().0;
    }
    let _ = engine_thread.join();
    Ok(())
}

fn load_keys(args: &Args) -> Result<Keys, store::Error> {
    if let Some(path) = &args.keys {
        return Ok(Keys::load(path)?);
    }
    let path = args.data.join("keys.toml");
    if !path.exists() {
        let text = keys::generate(args.account);
        write_private(&path, &text)?;
        println!(
            "wrote {} with a customer key (account {}) and a worker key:\n{text}",
            path.display(),
            args.account
        );
    } else {
        println!("keys: {}", path.display());
    }
    let keys = Keys::load(&path)?;
    tracing::info!(keys = keys.len(), file = %path.display(), "keys loaded");
    Ok(keys)
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

/// Recovery (already done into `SCHEDULER`) against a fresh replay of the whole log.
fn verify_replay(store: &Store, config: Config) -> Result<(), store::Error> {
    let log = store.log_after(0)?;
    let snapshot_index = store.snapshot()?.map_or(0, |(index, _)| index);
    let complete = log
        .first()
        .map_or(snapshot_index == 0, |(index, ..)| *index == 1);
    if !complete {
        return Err("the log does not start at 1 (the server ran without --keep-log): nothing to replay from scratch".into());
    }
    let mut fresh = lock(&REPLAY);
    fresh.reset(config);
    let mut refused = 0u64;
    for (_, command, at) in &log {
        if fresh.apply(command, *at).is_err() {
            refused += 1;
        }
    }
    let recovered = postcard::to_allocvec(&*lock(&SCHEDULER))?;
    let replayed = postcard::to_allocvec(&*fresh)?;
    let equal = recovered == replayed;
    let invariants = lock(&SCHEDULER).check_invariants().is_ok();
    println!(
        "{{\"commands\":{},\"snapshot_index\":{snapshot_index},\"refused\":{refused},\"equal\":{equal},\"invariants\":{invariants},\"digest\":\"{}\"}}",
        log.len(),
        engine::digest(&lock(&SCHEDULER))?
    );
    if equal && invariants {
        Ok(())
    } else {
        Err("the recovered state differs from a fresh replay of the log".into())
    }
}
