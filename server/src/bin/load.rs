//! `trail-backfill-load`: a load figure for the server. It starts the server binary on a fresh
//! data directory (loopback, a port the OS picks), gives each of N clients its own account and
//! trail, then for D seconds each client loops, over one keep-alive connection, signing every
//! request as the SDK does (ACS3-HMAC-SHA256):
//!
//! 1. `CreateDeliveryHistoryJob` with a fresh `ClientToken` (a durable write),
//! 2. `GetDeliveryHistoryJob` of it (a read),
//! 3. `CompleteDeliveryHistoryJob` as the worker (a durable write, so that the next create
//!    finds the account free).
//!
//! It prints requests per second and p50/p99 latency, overall and per action.
//!
//! ```sh
//! cargo build --release -p trail-backfill-server
//! target/release/trail-backfill-load --clients 16 --seconds 10
//! ```

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use clap::Parser;
use trail_backfill::Timestamp;
use trail_backfill_server::auth::{self, Signed};
use trail_backfill_server::keys::random_hex;

/// Measures the server: N signed clients, a create + get + complete loop each.
#[derive(Parser, Debug)]
#[command(about)]
struct Args {
    /// Concurrent clients (one account each).
    #[arg(long, default_value_t = 16)]
    clients: u64,
    /// How long to measure.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// The server binary (default: next to this one).
    #[arg(long)]
    server_bin: Option<PathBuf>,
}

const ACTIONS: [&str; 3] = [
    "CreateDeliveryHistoryJob",
    "GetDeliveryHistoryJob",
    "CompleteDeliveryHistoryJob",
];

struct Client {
    stream: BufReader<TcpStream>,
    port: u16,
    key_id: String,
    secret: String,
    nonce_prefix: String,
    sent: u64,
}

impl Client {
    fn connect(port: u16, key_id: &str, secret: &str) -> std::io::Result<Client> {
        let stream = TcpStream::connect(("127.0.0.1", port))?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        Ok(Client {
            stream: BufReader::new(stream),
            port,
            key_id: key_id.to_owned(),
            secret: secret.to_owned(),
            nonce_prefix: random_hex(8),
            sent: 0,
        })
    }

    /// One signed request; the status and the body.
    fn call(&mut self, action: &str, params: &[(&str, String)]) -> std::io::Result<(u16, String)> {
        let pairs: Vec<(String, String)> = params
            .iter()
            .map(|(n, v)| ((*n).to_owned(), v.clone()))
            .collect();
        // The canonical query string is a valid query string: send it as is.
        let query = auth::canonical_query(&pairs);
        self.sent += 1;
        let date = Timestamp::try_from(std::time::SystemTime::now())
            .unwrap_or(Timestamp(0))
            .to_string();
        let mut headers: Vec<(String, String)> = vec![
            ("host".into(), format!("127.0.0.1:{}", self.port)),
            ("x-acs-action".into(), action.to_owned()),
            ("x-acs-content-sha256".into(), auth::payload_hash(b"")),
            ("x-acs-date".into(), date),
            (
                "x-acs-signature-nonce".into(),
                format!("{}-{}", self.nonce_prefix, self.sent),
            ),
            ("x-acs-version".into(), "2020-07-06".into()),
        ];
        let signed_headers = headers
            .iter()
            .map(|(n, _)| n.as_str())
            .collect::<Vec<_>>()
            .join(";");
        let hashed = auth::payload_hash(b"");
        let signature = auth::sign(
            &self.secret,
            &Signed {
                method: "POST",
                path: "/",
                query: &pairs,
                headers: &headers,
                signed_headers: &signed_headers,
                hashed_payload: &hashed,
            },
        );
        headers.push((
            "authorization".into(),
            format!(
                "ACS3-HMAC-SHA256 Credential={},SignedHeaders={signed_headers},Signature={signature}",
                self.key_id
            ),
        ));
        let mut request = format!("POST /?{query} HTTP/1.1\r\n");
        for (name, value) in &headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        request.push_str("content-length: 0\r\n\r\n");
        self.stream.get_mut().write_all(request.as_bytes())?;

        let mut line = String::new();
        self.stream.read_line(&mut line)?;
        let status = line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let mut length = 0usize;
        loop {
            line.clear();
            self.stream.read_line(&mut line)?;
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; length];
        self.stream.read_exact(&mut body)?;
        Ok((status, String::from_utf8_lossy(&body).into_owned()))
    }
}

fn json_u64(body: &str, field: &str) -> Option<u64> {
    let start = body.find(&format!("\"{field}\":"))? + field.len() + 3;
    let digits: String = body[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

fn start_server(bin: &PathBuf, dir: &std::path::Path) -> Result<(Child, u16), String> {
    let mut child = Command::new(bin)
        .args(["--listen", "127.0.0.1:0", "--data"])
        .arg(dir.join("data"))
        .arg("--keys")
        .arg(dir.join("keys.toml"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    for line in BufReader::new(stdout).lines() {
        let line = line.map_err(|e| e.to_string())?;
        if let Some(addr) = line.strip_prefix("listening on ") {
            let port = addr
                .rsplit(':')
                .next()
                .and_then(|p| p.parse().ok())
                .ok_or("bad address")?;
            return Ok((child, port));
        }
    }
    Err("the server exited before listening".into())
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn main() -> Result<(), String> {
    let args = Args::parse();
    let bin = match args.server_bin {
        Some(bin) => bin,
        None => std::env::current_exe()
            .map_err(|e| e.to_string())?
            .with_file_name("trail-backfill-server"),
    };
    let dir = std::env::temp_dir().join(format!("trail-backfill-load-{}", random_hex(6)));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let mut keys =
        String::from("[[key]]\nid = \"worker\"\nsecret = \"worker-secret\"\nworker = true\n");
    for client in 0..args.clients {
        keys.push_str(&format!(
            "[[key]]\nid = \"c{client}\"\nsecret = \"secret-{client}\"\naccount = {}\n",
            1000 + client
        ));
    }
    std::fs::write(dir.join("keys.toml"), keys).map_err(|e| e.to_string())?;
    let (mut server, port) = start_server(&bin, &dir)?;

    let deadline = Instant::now() + Duration::from_secs(args.seconds);
    let threads: Vec<_> = (0..args.clients)
        .map(|client| {
            std::thread::spawn(move || -> std::io::Result<Vec<(usize, Duration)>> {
                let key = format!("c{client}");
                let mut customer = Client::connect(port, &key, &format!("secret-{client}"))?;
                let mut worker = Client::connect(port, "worker", "worker-secret")?;
                let name = ("Name", "trail-name".to_owned());
                let sls = (
                    "SlsProjectArn",
                    "acs:log:cn-hangzhou:1:project/p".to_owned(),
                );
                customer.call("CreateTrail", &[name.clone(), sls])?;
                customer.call("StartLogging", &[name])?;
                let mut samples = Vec::new();
                let mut token = 0u64;
                while Instant::now() < deadline {
                    token += 1;
                    let started = Instant::now();
                    let (status, body) = customer.call(
                        ACTIONS[0],
                        &[
                            ("TrailName", "trail-name".into()),
                            ("ClientToken", format!("load-{client}-{token}")),
                        ],
                    )?;
                    samples.push((0, started.elapsed()));
                    let job = json_u64(&body, "JobId").filter(|_| status == 200);
                    let Some(job) = job else {
                        return Err(std::io::Error::other(format!("create failed: {body}")));
                    };
                    let started = Instant::now();
                    customer.call(ACTIONS[1], &[("JobId", job.to_string())])?;
                    samples.push((1, started.elapsed()));
                    let started = Instant::now();
                    let (status, body) = worker.call(
                        ACTIONS[2],
                        &[
                            ("AccountId", (1000 + client).to_string()),
                            ("JobId", job.to_string()),
                            ("Outcome", "Completed".into()),
                        ],
                    )?;
                    samples.push((2, started.elapsed()));
                    if status != 200 {
                        return Err(std::io::Error::other(format!("complete failed: {body}")));
                    }
                }
                Ok(samples)
            })
        })
        .collect();
    let measured = Instant::now();
    let mut samples = Vec::new();
    let mut failure = None;
    for thread in threads {
        match thread.join() {
            Ok(Ok(mine)) => samples.extend(mine),
            Ok(Err(error)) => failure = Some(error.to_string()),
            Err(_) => failure = Some("a client panicked".into()),
        }
    }
    let elapsed = measured.elapsed().as_secs_f64().max(args.seconds as f64);
    let metrics = Client::connect(port, "-", "-").ok().and_then(|mut c| {
        c.stream
            .get_mut()
            .write_all(b"GET /metrics HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
            .ok()?;
        let mut text = String::new();
        c.stream.read_to_string(&mut text).ok()?;
        Some(text)
    });
    let _ = server.kill();
    let _ = server.wait();
    let _ = std::fs::remove_dir_all(&dir);
    if let Some(failure) = failure {
        return Err(failure);
    }

    let report = |label: &str, mut latencies: Vec<Duration>| {
        latencies.sort_unstable();
        println!(
            "{label:<28} {:>8} requests {:>9.0} req/s   p50 {:>7.2} ms   p99 {:>7.2} ms",
            latencies.len(),
            latencies.len() as f64 / elapsed,
            percentile(&latencies, 0.50).as_secs_f64() * 1e3,
            percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        );
    };
    println!(
        "{} clients, {:.1} s, create + get + complete per loop, each request signed, writes committed before the answer",
        args.clients, elapsed
    );
    report("all", samples.iter().map(|(_, d)| *d).collect());
    for (index, action) in ACTIONS.iter().enumerate() {
        report(
            action,
            samples
                .iter()
                .filter(|(a, _)| *a == index)
                .map(|(_, d)| *d)
                .collect(),
        );
    }
    if let Some(text) = metrics {
        let value = |name: &str| {
            text.lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.rsplit(' ').next())
                .unwrap_or("?")
                .to_owned()
        };
        println!(
            "group commit: {} commands in {} commits",
            value("trail_backfill_commands_committed_total "),
            value("trail_backfill_commits_total ")
        );
    }
    Ok(())
}
