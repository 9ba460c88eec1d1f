//! A serialized `Command` is a log entry (a Raft entry, a write-ahead log record): its bytes
//! are a wire format that replicas of different versions must read alike. This pins the
//! postcard bytes of one value of every variant, so that reordering the variants (or their
//! fields) fails here; new variants are only ever appended.

use trail_backfill::*;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn one_of_each() -> Vec<(&'static str, Command)> {
    let account = AccountId(1512666876910001);
    let region = Region::new("cn-hangzhou").unwrap();
    let name = TrailName::new("trail-name").unwrap();
    let lease = Lease {
        account,
        job: JobId(16602),
        attempt: 2,
        expires_at: Timestamp(1_622_099_703),
    };
    vec![
        (
            "CreateTrail",
            Command::CreateTrail {
                account,
                region: region.clone(),
                spec: TrailSpec {
                    name: name.clone(),
                    kind: TrailKind::SingleAccount,
                    delivers_to_sls: true,
                },
            },
        ),
        (
            "DeleteTrail",
            Command::DeleteTrail {
                account,
                region: region.clone(),
                name: name.clone(),
            },
        ),
        (
            "StartLogging",
            Command::StartLogging {
                account,
                region: region.clone(),
                name: name.clone(),
            },
        ),
        (
            "StopLogging",
            Command::StopLogging {
                account,
                region: region.clone(),
                name: name.clone(),
            },
        ),
        (
            "CreateJob",
            Command::CreateJob(CreateJob {
                account,
                region: region.clone(),
                trail_name: name.clone(),
                client_token: Some(ClientToken::new("token-1").unwrap()),
            }),
        ),
        (
            "StartJob",
            Command::StartJob {
                account,
                job: JobId(16602),
            },
        ),
        (
            "CompleteJob",
            Command::CompleteJob {
                account,
                job: JobId(16602),
                outcome: JobOutcome::Failed,
            },
        ),
        (
            "DeleteJob",
            Command::DeleteJob {
                account,
                job: JobId(16602),
            },
        ),
        ("ClaimNext", Command::ClaimNext),
        (
            "ClaimJob",
            Command::ClaimJob {
                account,
                job: JobId(16602),
            },
        ),
        (
            "Heartbeat",
            Command::Heartbeat {
                lease,
                delivered: 1_200,
            },
        ),
        (
            "ReportRegion",
            Command::ReportRegion {
                lease,
                region: region.clone(),
                status: JobStatus::Delivering,
            },
        ),
        (
            "FinishJob",
            Command::FinishJob {
                lease,
                outcome: JobOutcome::Completed,
            },
        ),
        (
            "StopJob",
            Command::StopJob {
                account,
                job: JobId(16602),
            },
        ),
        ("HandleTimeout", Command::HandleTimeout),
    ]
}

/// The postcard bytes of `one_of_each`, in hex, as this format was first released.
const PINNED: [(&str, &str); 15] = [
    (
        "CreateTrail",
        "00b1b3f29eb3f8d7020b636e2d68616e677a686f750a747261696c2d6e616d650001",
    ),
    (
        "DeleteTrail",
        "01b1b3f29eb3f8d7020b636e2d68616e677a686f750a747261696c2d6e616d65",
    ),
    (
        "StartLogging",
        "02b1b3f29eb3f8d7020b636e2d68616e677a686f750a747261696c2d6e616d65",
    ),
    (
        "StopLogging",
        "03b1b3f29eb3f8d7020b636e2d68616e677a686f750a747261696c2d6e616d65",
    ),
    (
        "CreateJob",
        "04b1b3f29eb3f8d7020b636e2d68616e677a686f750a747261696c2d6e616d650107746f6b656e2d31",
    ),
    ("StartJob", "05b1b3f29eb3f8d702da8101"),
    ("CompleteJob", "06b1b3f29eb3f8d702da810101"),
    ("DeleteJob", "07b1b3f29eb3f8d702da8101"),
    ("ClaimNext", "08"),
    ("ClaimJob", "09b1b3f29eb3f8d702da8101"),
    ("Heartbeat", "0ab1b3f29eb3f8d702da810102f78dbd8506b009"),
    (
        "ReportRegion",
        "0bb1b3f29eb3f8d702da810102f78dbd85060b636e2d68616e677a686f7501",
    ),
    ("FinishJob", "0cb1b3f29eb3f8d702da810102f78dbd850600"),
    ("StopJob", "0db1b3f29eb3f8d702da8101"),
    ("HandleTimeout", "0e"),
];

#[test]
fn every_command_variant_keeps_its_bytes() {
    let actual: Vec<(&str, String)> = one_of_each()
        .into_iter()
        .map(|(name, command)| (name, hex(&postcard::to_allocvec(&command).unwrap())))
        .collect();
    for ((name, bytes), (pinned_name, pinned)) in actual.iter().zip(PINNED) {
        assert_eq!(*name, pinned_name);
        assert_eq!(bytes, pinned, "{name}: the wire format of Command changed");
    }
    assert_eq!(actual.len(), PINNED.len());
    // And every pinned value reads back.
    for (name, command) in one_of_each() {
        let bytes = postcard::to_allocvec(&command).unwrap();
        assert_eq!(
            postcard::from_bytes::<Command>(&bytes).unwrap(),
            command,
            "{name}"
        );
    }
}
