//! Queries: `active_job`, `list_jobs`, iteration by id.

use super::*;

#[test]
fn active_job_follows_the_lifecycle() {
    let mut s = Sched::new(Config::DEFAULT);
    logging_trail(&mut s, A, &hz(), "trail-one", 10);
    assert!(s.active_job(A).is_none());
    let id = create(&mut s, A, "trail-one", 20);
    assert_eq!(s.active_job(A).unwrap().status, JobStatus::Initializing);
    s.start_job(A, id, Timestamp(30)).unwrap();
    assert_eq!(s.active_job(A).unwrap().status, JobStatus::Delivering);
    s.complete_job(A, id, JobOutcome::Completed, Timestamp(40))
        .unwrap();
    assert!(s.active_job(A).is_none());
    let id2 = create(&mut s, A, "trail-one", 50);
    assert_eq!(s.active_job(A).unwrap().id, id2);
}

fn five_finished_jobs() -> Sched {
    let mut s = Sched::new(Config::DEFAULT);
    logging_trail(&mut s, A, &hz(), "trail-one", 10);
    for i in 0..5u64 {
        let id = create(&mut s, A, "trail-one", 20 + i);
        s.complete_job(A, id, JobOutcome::Completed, Timestamp(20 + i))
            .unwrap();
    }
    s
}

#[test]
fn list_jobs_pages_newest_first() {
    let s = five_finished_jobs();
    assert_eq!(page_ids(&s, A, 1, 2), (5, vec![5, 4]));
    assert_eq!(page_ids(&s, A, 2, 2), (5, vec![3, 2]));
    assert_eq!(page_ids(&s, A, 3, 2), (5, vec![1]));
    assert_eq!(page_ids(&s, A, 4, 2), (5, vec![]));
    assert_eq!(page_ids(&s, A, u32::MAX, 100), (5, vec![]));
    assert_eq!(page_ids(&s, A, u32::MAX, 1), (5, vec![]));
}

#[test]
fn list_jobs_page_size_bounds() {
    let s = five_finished_jobs();
    assert_eq!(page_ids(&s, A, 1, 1), (5, vec![5]));
    assert_eq!(page_ids(&s, A, 5, 1), (5, vec![1]));
    assert_eq!(page_ids(&s, A, 6, 1), (5, vec![]));
    assert_eq!(page_ids(&s, A, 1, 100), (5, vec![5, 4, 3, 2, 1]));
    assert_eq!(page_ids(&s, A, 2, 100), (5, vec![]));
    assert_eq!(
        s.list_jobs(A, 1, 0).err(),
        Some(Error::InvalidParameterValue(Parameter::PageSize))
    );
    assert_eq!(
        s.list_jobs(A, 1, 101).err(),
        Some(Error::InvalidParameterValue(Parameter::PageSize))
    );
    assert_eq!(
        s.list_jobs(A, 1, u32::MAX).err(),
        Some(Error::InvalidParameterValue(Parameter::PageSize))
    );
}

#[test]
fn list_jobs_page_number_checked_first() {
    let s = five_finished_jobs();
    for size in [0, 1, 100, 101] {
        assert_eq!(
            s.list_jobs(A, 0, size).err(),
            Some(Error::InvalidParameterValue(Parameter::PageNumber)),
            "page_size {size}"
        );
    }
    // An account without jobs gets the same validation.
    assert_eq!(
        s.list_jobs(B, 0, 10).err(),
        Some(Error::InvalidParameterValue(Parameter::PageNumber))
    );
    assert_eq!(
        s.list_jobs(B, 1, 0).err(),
        Some(Error::InvalidParameterValue(Parameter::PageSize))
    );
}

#[test]
fn list_jobs_only_the_accounts_jobs() {
    let mut s = Sched::new(Config::DEFAULT);
    logging_trail(&mut s, A, &hz(), "trail-one", 10);
    logging_trail(&mut s, B, &hz(), "trail-one", 10);
    let mut a_ids = vec![];
    for i in 0..3u64 {
        let a = create(&mut s, A, "trail-one", 20 + i);
        let b = create(&mut s, B, "trail-one", 20 + i);
        s.complete_job(A, a, JobOutcome::Completed, Timestamp(20 + i))
            .unwrap();
        s.complete_job(B, b, JobOutcome::Failed, Timestamp(20 + i))
            .unwrap();
        a_ids.push(a.0);
    }
    a_ids.reverse();
    assert_eq!(page_ids(&s, A, 1, 100), (3, a_ids.clone()));
    assert_eq!(page_ids(&s, A, 1, 2), (3, a_ids[..2].to_vec()));
    assert_eq!(page_ids(&s, A, 2, 2), (3, a_ids[2..].to_vec()));
    assert_eq!(page_ids(&s, C, 1, 10), (0, vec![]));
    let page = s.list_jobs(B, 1, 100).unwrap();
    assert!(page.jobs().all(|j| j.account == B));
    assert_eq!(page.total_count, 3);
}

#[test]
fn list_jobs_includes_active_and_finished() {
    let mut s = Sched::new(Config::DEFAULT);
    logging_trail(&mut s, A, &hz(), "trail-one", 10);
    let first = create(&mut s, A, "trail-one", 20);
    s.complete_job(A, first, JobOutcome::Completed, Timestamp(30))
        .unwrap();
    let second = create(&mut s, A, "trail-one", 40);
    let page = s.list_jobs(A, 1, 10).unwrap();
    let statuses: Vec<(JobId, JobStatus)> = page.jobs().map(|j| (j.id, j.status)).collect();
    assert_eq!(
        statuses,
        vec![
            (second, JobStatus::Initializing),
            (first, JobStatus::Completed)
        ]
    );
}

#[test]
fn jobs_iterate_by_ascending_id() {
    let mut s = Sched::new(Config::DEFAULT);
    logging_trail(&mut s, A, &hz(), "trail-one", 10);
    logging_trail(&mut s, B, &hz(), "trail-one", 10);
    let a = create(&mut s, A, "trail-one", 20);
    let b = create(&mut s, B, "trail-one", 21);
    s.complete_job(A, a, JobOutcome::Completed, Timestamp(22))
        .unwrap();
    let a2 = create(&mut s, A, "trail-one", 23);
    let ids: Vec<JobId> = s.jobs().map(|j| j.id).collect();
    assert_eq!(ids, vec![a, b, a2]);
}
