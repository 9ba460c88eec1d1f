//! The `replay` example (examples/replay/): its built-in scenario answers exactly as
//! examples/scenario.out.jsonl says, a log replayed in two parts through a snapshot ends as the
//! whole log does, and bad lines get 400 answers (404 for an unknown action) without stopping
//! the replay.
//!
//! The example is compiled in as a module, so no subprocess is needed: `replay::run` is the
//! whole program with its arguments and streams passed in.

#[allow(dead_code)]
#[path = "../examples/replay/main.rs"]
mod replay;

use std::path::PathBuf;

use serde_json::Value;
use trail_backfill::Timestamp;

/// The checked-in answers to the built-in scenario.
const GOLDEN: &str = include_str!("../examples/scenario.out.jsonl");

/// What one run of the program did.
struct Outcome {
    status: u8,
    stdout: String,
    stderr: String,
}

fn run(args: &[&str], stdin: &[u8]) -> Outcome {
    let args: Vec<String> = args.iter().map(|arg| arg.to_string()).collect();
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    let status = replay::run(&args, &mut { stdin }, &mut stdout, &mut stderr);
    Outcome {
        status,
        stdout: String::from_utf8(stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(stderr).expect("stderr is UTF-8"),
    }
}

/// A fresh directory for one test's files.
fn scratch_dir(test: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("replay-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create the scratch directory");
    dir
}

fn path_str(path: &std::path::Path) -> &str {
    path.to_str().expect("the scratch path is UTF-8")
}

/// Replays `input` (first line numbered `first_line`) in memory.
fn replay_text(scheduler: &mut replay::Scheduler, input: &str, first_line: u64) -> String {
    let mut out = Vec::new();
    replay::replay(scheduler, &mut input.as_bytes(), first_line, &mut out).expect("in memory");
    String::from_utf8(out).expect("UTF-8 output")
}

#[test]
fn scenario_answers_match_the_golden_file() {
    let outcome = run(&[], b"");
    assert_eq!(outcome.stderr, "");
    assert_eq!(outcome.status, 0);
    assert_eq!(
        outcome.stdout, GOLDEN,
        "examples/scenario.out.jsonl is stale"
    );
    let requests = replay::SCENARIO
        .lines()
        .filter(|line| line.starts_with('{'))
        .count();
    assert_eq!(outcome.stdout.lines().count(), requests);
}

#[test]
fn the_sample_answers_in_the_examples_docs_are_real() {
    let source = include_str!("../examples/replay/main.rs");
    let samples: Vec<&str> = source
        .lines()
        .filter_map(|line| line.strip_prefix("//! {\"RequestId\""))
        .collect();
    assert!(samples.len() >= 3);
    for sample in samples {
        let line = format!("{{\"RequestId\"{sample}\n");
        assert!(GOLDEN.contains(&line), "not in the golden output: {line}");
    }
}

#[test]
fn the_sample_answers_in_the_readme_are_real() {
    let samples: Vec<&str> = include_str!("../README.md")
        .lines()
        .filter(|line| line.starts_with("{\"RequestId\""))
        .collect();
    assert!(samples.len() >= 5);
    for sample in samples {
        let line = format!("{sample}\n");
        assert!(GOLDEN.contains(&line), "not in the golden output: {line}");
    }
}

#[test]
fn scenario_from_stdin_and_from_a_file_answers_the_same() {
    let from_stdin = run(&["-"], replay::SCENARIO.as_bytes());
    assert_eq!((from_stdin.status, from_stdin.stdout.as_str()), (0, GOLDEN));

    let dir = scratch_dir("file");
    let input = dir.join("scenario.jsonl");
    std::fs::write(&input, replay::SCENARIO).expect("write the input");
    let from_file = run(&[path_str(&input)], b"");
    assert_eq!((from_file.status, from_file.stdout.as_str()), (0, GOLDEN));
}

#[test]
fn a_log_replayed_in_two_parts_through_a_snapshot_ends_as_the_whole_log() {
    let dir = scratch_dir("split");
    let whole_snapshot = dir.join("whole.bin");
    let whole = run(&["--snapshot", path_str(&whole_snapshot)], b"");
    assert_eq!((whole.status, whole.stdout.as_str()), (0, GOLDEN));

    // Split between two request lines while a worker holds a lease: just before the first
    // heartbeat.
    let lines: Vec<&str> = replay::SCENARIO.split_inclusive('\n').collect();
    let half = lines
        .iter()
        .position(|line| line.contains("\"HeartbeatDeliveryHistoryJob\""))
        .expect("the scenario has a heartbeat");
    let (first, second) = (dir.join("first.jsonl"), dir.join("second.jsonl"));
    std::fs::write(&first, lines[..half].concat()).expect("write the first part");
    std::fs::write(&second, lines[half..].concat()).expect("write the second part");

    let half_snapshot = dir.join("half.bin");
    let end_snapshot = dir.join("end.bin");
    let one = run(
        &["--snapshot", path_str(&half_snapshot), path_str(&first)],
        b"",
    );
    let first_line = (half + 1).to_string();
    let two = run(
        &[
            "--restore",
            path_str(&half_snapshot),
            "--first-line",
            &first_line,
            "--snapshot",
            path_str(&end_snapshot),
            path_str(&second),
        ],
        b"",
    );
    assert_eq!(
        (one.status, two.status),
        (0, 0),
        "{}{}",
        one.stderr,
        two.stderr
    );
    assert_eq!(one.stdout + &two.stdout, GOLDEN);

    let half_bytes = std::fs::read(&half_snapshot).expect("read the half-way snapshot");
    let mut halfway = replay::new_scheduler();
    replay::restore_snapshot(&mut halfway, &half_bytes).expect("restore");
    let running = halfway
        .active_job(trail_backfill::AccountId(1512666876910001))
        .expect("the split should fall while a job runs");
    assert_eq!(
        (running.attempt, halfway.stats().leased_jobs),
        (1, 1),
        "the split should fall while a worker holds the job's lease"
    );
    assert_eq!(
        std::fs::read(&end_snapshot).expect("read the final snapshot"),
        std::fs::read(&whole_snapshot).expect("read the whole run's snapshot"),
        "the final snapshots differ"
    );
}

#[test]
fn every_split_point_restores_to_the_same_state_and_bytes() {
    let mut whole = replay::new_scheduler();
    assert_eq!(replay_text(&mut whole, replay::SCENARIO, 1), GOLDEN);
    let whole_bytes = replay::snapshot(&whole);

    let lines: Vec<&str> = replay::SCENARIO.split_inclusive('\n').collect();
    for split in 0..=lines.len() {
        let mut first = replay::new_scheduler();
        let mut output = replay_text(&mut first, &lines[..split].concat(), 1);
        let bytes = replay::snapshot(&first);

        let mut second = replay::new_scheduler();
        replay::restore_snapshot(&mut second, &bytes).expect("restore");
        assert_eq!(*second, *first, "restored state differs after line {split}");
        assert_eq!(replay::snapshot(&second), bytes);
        output += &replay_text(&mut second, &lines[split..].concat(), split as u64 + 1);

        assert_eq!(output, GOLDEN, "split after line {split}");
        assert_eq!(
            replay::snapshot(&second),
            whole_bytes,
            "split after line {split}"
        );
        assert_eq!(*second, *whole);
        if let Err(violation) = second.check_invariants() {
            panic!("split after line {split}: {violation}");
        }
    }
}

#[test]
fn bad_lines_get_400_answers_and_the_replay_goes_on() {
    let at = r#""At": "2021-05-27T07:00:00Z", "AccountId": 7, "RegionId": "cn-hangzhou""#;
    let lines: Vec<Vec<u8>> = [
        // 1: fine
        format!(r#"{{{at}, "Action": "CreateTrail", "Name": "trail-name", "SlsProjectArn": "p"}}"#),
        // 2: malformed JSON
        format!(r#"{{{at}, "Action": "StartLogging", "Name": "trail-name""#),
        // 3, 4: skipped
        "   ".to_owned(),
        "  # a comment".to_owned(),
        // 5: JSON, but not an object
        "[1, 2, 3]".to_owned(),
        // 6: unknown action
        format!(r#"{{{at}, "Action": "DescribeTrails"}}"#),
        // 7: missing TrailName
        format!(r#"{{{at}, "Action": "CreateDeliveryHistoryJob"}}"#),
        // 8: JobId of the wrong type
        format!(r#"{{{at}, "Action": "GetDeliveryHistoryJob", "JobId": "16602"}}"#),
        // 9: a day that does not exist
        r#"{"At": "2021-02-29T00:00:00Z", "AccountId": 7, "RegionId": "cn-hangzhou", "Action": "StartLogging", "Name": "trail-name"}"#.to_owned(),
        // 10: no Action
        format!(r#"{{{at}, "Name": "trail-name"}}"#),
        // 11: AccountId out of range
        r#"{"At": "2021-05-27T07:00:00Z", "AccountId": -1, "RegionId": "cn-hangzhou", "Action": "StartLogging", "Name": "trail-name"}"#.to_owned(),
        // 12: a region the crate rejects
        r#"{"At": "2021-05-27T07:00:00Z", "AccountId": 7, "RegionId": "CN_Hangzhou", "Action": "StartLogging", "Name": "trail-name"}"#.to_owned(),
        // 13: a trail name the crate rejects
        format!(r#"{{{at}, "Action": "CreateDeliveryHistoryJob", "TrailName": "Trail"}}"#),
        // 14: a client token the crate rejects (not ASCII)
        format!(r#"{{{at}, "Action": "CreateDeliveryHistoryJob", "TrailName": "trail-name", "ClientToken": "tök"}}"#),
        // 15: an outcome that does not exist
        format!(r#"{{{at}, "Action": "CompleteDeliveryHistoryJob", "JobId": 16602, "Outcome": "Done"}}"#),
        // 16: page number 0
        format!(r#"{{{at}, "Action": "ListDeliveryHistoryJobs", "PageNumber": 0}}"#),
        // 17: a page size past u32
        format!(r#"{{{at}, "Action": "ListDeliveryHistoryJobs", "PageSize": 4294967296}}"#),
        // 19: a missing At (the action is checked first, then At)
        r#"{"AccountId": 7, "RegionId": "cn-hangzhou", "Action": "StartLogging", "Name": "trail-name"}"#.to_owned(),
        // 20: IsOrganizationTrail of the wrong type
        format!(r#"{{{at}, "Action": "CreateTrail", "Name": "other-trail", "IsOrganizationTrail": "yes"}}"#),
        // 21, 22: fine, and the bad lines changed nothing
        format!(r#"{{{at}, "Action": "StartLogging", "Name": "trail-name"}}"#),
        format!(r#"{{{at}, "Action": "CreateDeliveryHistoryJob", "TrailName": "trail-name"}}"#),
        // 23: the worker protocol: a claim, fine
        format!(r#"{{{at}, "Action": "ClaimDeliveryHistoryJob"}}"#),
        // 24: a heartbeat without its Attempt
        format!(r#"{{{at}, "Action": "HeartbeatDeliveryHistoryJob", "JobId": 16602, "Delivered": 5}}"#),
        // 25: a region status that does not exist
        format!(r#"{{{at}, "Action": "ReportDeliveryHistoryJobRegion", "JobId": 16602, "Attempt": 1, "Region": "cn-hangzhou", "Status": 7}}"#),
        // 26: an outcome that does not exist
        format!(r#"{{{at}, "Action": "FinishDeliveryHistoryJob", "JobId": 16602, "Attempt": 1, "Outcome": "Maybe"}}"#),
        // 27: an Attempt past u32
        format!(r#"{{{at}, "Action": "FinishDeliveryHistoryJob", "JobId": 16602, "Attempt": 4294967297, "Outcome": "Completed"}}"#),
        // 28: a negative Delivered
        format!(r#"{{{at}, "Action": "HeartbeatDeliveryHistoryJob", "JobId": 16602, "Attempt": 1, "Delivered": -5}}"#),
        // 29: a region the crate rejects
        format!(r#"{{{at}, "Action": "ReportDeliveryHistoryJobRegion", "JobId": 16602, "Attempt": 1, "Region": "CN_Hangzhou", "Status": 1}}"#),
        // 30: a claim of a JobId that is no integer
        format!(r#"{{{at}, "Action": "ClaimDeliveryHistoryJob", "JobId": "16602"}}"#),
        // 31: a region report without its Status
        format!(r#"{{{at}, "Action": "ReportDeliveryHistoryJobRegion", "JobId": 16602, "Attempt": 1, "Region": "cn-hangzhou"}}"#),
        // 32: a stop without its JobId
        format!(r#"{{{at}, "Action": "StopDeliveryHistoryJob"}}"#),
        // 33, 34: fine, and the lease of line 23 is still held at attempt 1, with nothing
        // reported by the bad lines
        format!(r#"{{{at}, "Action": "HeartbeatDeliveryHistoryJob", "JobId": 16602, "Attempt": 1}}"#),
        format!(r#"{{{at}, "Action": "GetDeliveryHistoryJob", "JobId": 16602}}"#),
    ]
    .into_iter()
    .map(String::into_bytes)
    .collect();
    let mut input: Vec<u8> = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        input.extend_from_slice(line);
        input.extend_from_slice(if i == 1 { b"\r\n" } else { b"\n" });
        if i == 16 {
            // 18: not UTF-8
            input.extend_from_slice(b"{\"At\": \"\xff\"}\n");
        }
    }
    // (line number, HTTP status, code, a piece of the message)
    let expected: &[(u64, u16, &str, &str)] = &[
        (1, 200, "", ""),
        (2, 400, "InvalidParameterValue", "not valid JSON"),
        (5, 400, "InvalidParameterValue", "not a JSON object"),
        (6, 404, "InvalidAction.NotFound", "\"DescribeTrails\""),
        (7, 400, "MissingParameter", "\"TrailName\""),
        (8, 400, "InvalidParameterValue", "parameter JobId "),
        (9, 400, "InvalidParameterValue", "parameter At "),
        (10, 400, "MissingParameter", "\"Action\""),
        (11, 400, "InvalidParameterValue", "parameter AccountId "),
        (12, 400, "InvalidParameterValue", "parameter RegionId "),
        (13, 400, "InvalidTrailNameException", "trail name"),
        (14, 400, "InvalidParameterValue", "parameter ClientToken "),
        (15, 400, "InvalidParameterValue", "parameter Outcome "),
        (16, 400, "InvalidParameterValue", "parameter PageNumber "),
        (17, 400, "InvalidParameterValue", "parameter PageSize "),
        (18, 400, "InvalidParameterValue", "not valid JSON"),
        (19, 400, "MissingParameter", "\"At\""),
        (
            20,
            400,
            "InvalidParameterValue",
            "parameter IsOrganizationTrail ",
        ),
        (21, 200, "", ""),
        (22, 200, "", ""),
        (23, 200, "", ""),
        (24, 400, "MissingParameter", "\"Attempt\""),
        (25, 400, "InvalidParameterValue", "parameter Status "),
        (26, 400, "InvalidParameterValue", "parameter Outcome "),
        (27, 400, "InvalidParameterValue", "parameter Attempt "),
        (28, 400, "InvalidParameterValue", "parameter Delivered "),
        (29, 400, "InvalidParameterValue", "parameter Region "),
        (30, 400, "InvalidParameterValue", "parameter JobId "),
        (31, 400, "MissingParameter", "\"Status\""),
        (32, 400, "MissingParameter", "\"JobId\""),
        (33, 200, "", ""),
        (34, 200, "", ""),
    ];

    let outcome = run(&["-"], &input);
    assert_eq!((outcome.status, outcome.stderr.as_str()), (0, ""));
    let answers: Vec<Value> = outcome
        .stdout
        .lines()
        .map(|line| serde_json::from_str(line).expect("every answer is JSON"))
        .collect();
    assert_eq!(answers.len(), expected.len(), "{}", outcome.stdout);
    for (answer, &(line, status, code, message)) in answers.iter().zip(expected) {
        assert_eq!(answer["RequestId"], replay::request_id(line).as_str());
        if status == 200 {
            assert!(answer.get("Code").is_none(), "line {line}: {answer}");
            continue;
        }
        assert_eq!(answer["HttpStatus"], status, "line {line}: {answer}");
        assert_eq!(answer["Code"], code, "line {line}: {answer}");
        let text = answer["Message"].as_str().expect("a message");
        assert!(text.contains(message), "line {line}: {answer}");
        assert!(!text.is_empty(), "line {line}: {answer}");
    }
    assert_eq!(answers[0]["Name"], "trail-name");
    assert_eq!(answers[18]["Changed"], true);
    assert_eq!(answers[19]["JobId"], replay::CONFIG.first_job_id);
    assert_eq!(answers[20]["JobId"], replay::CONFIG.first_job_id);
    assert_eq!(answers[20]["Attempt"], 1);
    assert_eq!(answers[30]["LeaseExpiresAt"], "2021-05-27T07:05:00Z");
    let job = &answers[31];
    assert_eq!(
        (&job["JobStatus"], &job["Attempt"], &job["Delivered"]),
        (&Value::from(1), &Value::from(1), &Value::from(0))
    );
    assert_eq!(job["Status"], Value::Array(Vec::new()));
    assert!(job.get("FailureReason").is_none(), "{job}");
}

#[test]
fn the_summary_lists_trails_and_jobs_on_stderr() {
    let outcome = run(&["--summary"], b"");
    assert_eq!((outcome.status, outcome.stdout.as_str()), (0, GOLDEN));
    let summary = outcome.stderr;
    let sections: Vec<&str> = summary.split("\n\n").collect();
    let [head, trails, jobs] = sections[..] else {
        panic!("three sections expected: {summary}");
    };
    // The clock is that of the stop, the last call that changed anything: refused worker
    // calls, queries and a HandleTimeouts with nothing due take no time.
    assert!(
        head.starts_with("clock 2021-05-27T12:23:00Z, next job id 16606"),
        "{head}"
    );
    assert!(head.contains("(0 active, 0 leased)"), "{head}");
    assert!(trails.contains("trail-name"), "{trails}");
    assert!(!trails.contains("trail-shanghai"), "deleted: {trails}");
    let rows: Vec<&str> = jobs.lines().collect();
    assert_eq!(rows.len(), 4, "a header and jobs 16603 to 16605: {jobs}");
    assert!(
        rows[0].ends_with("ATTEMPT  LEASE  DELIVERED  FAILURE"),
        "{jobs}"
    );
    assert!(
        rows[1].starts_with("16603")
            && rows[1].contains("3 failed")
            && rows[1].ends_with("Reported"),
        "{jobs}"
    );
    assert!(
        rows[2].starts_with("16604")
            && rows[2].contains("2 completed")
            && rows[2].contains(" 9100 "),
        "{jobs}"
    );
    assert!(
        rows[3].starts_with("16605") && rows[3].ends_with("Stopped"),
        "{jobs}"
    );
}

#[test]
fn only_input_and_output_failures_fail_the_run() {
    let dir = scratch_dir("failures");
    let missing = dir.join("missing.jsonl");
    let outcome = run(&[path_str(&missing)], b"");
    assert_eq!((outcome.status, outcome.stdout.as_str()), (1, ""));
    assert!(outcome.stderr.contains("cannot open"), "{}", outcome.stderr);

    let garbage = dir.join("garbage.bin");
    std::fs::write(&garbage, b"\xff\xff\xff\xff").expect("write garbage");
    let outcome = run(&["--restore", path_str(&garbage)], b"");
    assert_eq!((outcome.status, outcome.stdout.as_str()), (1, ""));
    assert!(
        outcome.stderr.contains("cannot restore"),
        "{}",
        outcome.stderr
    );

    let mut scheduler = replay::new_scheduler();
    replay_text(&mut scheduler, replay::SCENARIO, 1);
    let mut bytes = replay::snapshot(&scheduler);
    bytes.push(0);
    let trailing = dir.join("trailing.bin");
    std::fs::write(&trailing, &bytes).expect("write the snapshot");
    let outcome = run(&["--restore", path_str(&trailing)], b"");
    assert_eq!(outcome.status, 1, "{}", outcome.stderr);

    let unwritable = dir.join("no-such-dir").join("state.bin");
    let outcome = run(&["--snapshot", path_str(&unwritable)], b"");
    assert_eq!(outcome.status, 1);
    assert!(
        outcome.stderr.contains("cannot write"),
        "{}",
        outcome.stderr
    );

    struct Broken;
    impl std::io::Write for Broken {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::ErrorKind::BrokenPipe.into())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut stderr = Vec::new();
    assert_eq!(replay::run(&[], &mut &b""[..], &mut Broken, &mut stderr), 1);

    for args in [
        &["--bogus"][..],
        &["a", "b"],
        &["--snapshot"],
        &["--first-line", "x"],
    ] {
        let outcome = run(args, b"");
        assert_eq!(outcome.status, 2, "{args:?}");
        assert!(outcome.stderr.contains("usage"), "{args:?}");
    }
}

#[test]
fn the_at_parser_inverts_timestamp_display() {
    assert_eq!(replay::parse_at("1970-01-01T00:00:00Z"), Some(Timestamp(0)));
    assert_eq!(
        replay::parse_at("2021-05-27T07:15:03Z"),
        Some(Timestamp(1_622_099_703))
    );
    assert_eq!(
        replay::parse_at("9999-12-31T23:59:59Z"),
        Some(Timestamp(253_402_300_799))
    );
    for bad in [
        "",
        "2021-05-27 07:15:03Z",
        "2021-05-27T07:15:03",
        "2021-05-27T07:15:03+00:00",
        "1969-12-31T23:59:59Z",
        "2021-00-01T00:00:00Z",
        "2021-13-01T00:00:00Z",
        "2021-04-31T00:00:00Z",
        "2100-02-29T00:00:00Z",
        "2021-05-27T24:00:00Z",
        "2021-05-27T23:60:00Z",
        "2021-05-27T23:59:60Z",
        "2021-5-27T07:15:03Z",
        "+021-05-27T07:15:03Z",
        "２021-05-27T07:15:03Z",
    ] {
        assert_eq!(replay::parse_at(bad), None, "{bad}");
    }
    assert!(replay::parse_at("2000-02-29T00:00:00Z").is_some());
    assert!(replay::parse_at("2024-02-29T00:00:00Z").is_some());

    // Times from 1970 to 9999, every 5 days and an hour apart, round-trip through Display.
    for time in (0..=253_402_300_799_u64).step_by(5 * 86_400 + 3_607) {
        let text = Timestamp(time).to_string();
        assert_eq!(replay::parse_at(&text), Some(Timestamp(time)), "{text}");
    }
}

#[test]
fn request_ids_are_uuid_shaped_and_end_in_the_line_number() {
    let id = replay::request_id(7);
    assert_eq!(id.len(), 36);
    assert!(id.ends_with("-000000000007"), "{id}");
    let groups: Vec<usize> = id.split('-').map(str::len).collect();
    assert_eq!(groups, [8, 4, 4, 4, 12]);
    assert!(
        id.chars()
            .all(|c| c == '-' || c.is_ascii_digit() || c.is_ascii_uppercase())
    );
    assert_ne!(replay::request_id(7), replay::request_id(8));
    assert_eq!(replay::request_id(7), id);
}
