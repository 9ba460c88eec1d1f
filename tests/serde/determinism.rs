//! Determinism: the same logical state gives the same bytes, in canonical order.

use super::*;

#[test]
fn same_commands_give_identical_bytes() {
    let mut one = Sched::new(config());
    let mut two = Sched::new(config());
    for (c, now) in script() {
        let x = one.apply(&c, Timestamp(now));
        let y = two.apply(&c, Timestamp(now));
        assert_eq!(x, y);
        assert_eq!(json(&one), json(&two));
        assert_eq!(bytes(&one), bytes(&two));
    }
    assert_eq!(one.stats().jobs, 3);
}

#[test]
fn same_logical_state_from_different_histories_gives_identical_bytes() {
    let make = |names: &[&str], delete: Option<&str>| {
        let mut s = Sched::new(config());
        for n in names {
            s.create_trail(A, &hz(), &spec(n), Timestamp(50)).unwrap();
        }
        if let Some(n) = delete {
            s.delete_trail(A, &hz(), &name(n)).unwrap();
        }
        s
    };
    let x = make(&["trail-aaa", "trail-bbb", "trail-ccc"], None);
    let y = make(&["trail-ccc", "trail-aaa", "trail-bbb"], None);
    let z = make(
        &["trail-bbb", "trail-zzz", "trail-ccc", "trail-aaa"],
        Some("trail-zzz"),
    );
    assert_eq!(x, y);
    assert_eq!(x, z);
    assert_eq!(json(&x), json(&y));
    assert_eq!(json(&x), json(&z));
    assert_eq!(bytes(&x), bytes(&y));
    assert_eq!(bytes(&x), bytes(&z));
}

#[test]
fn snapshot_lists_trails_by_key_and_jobs_by_id() {
    let mut s = Sched::new(config());
    for n in ["trail-ccc", "trail-aaa", "trail-bbb"] {
        s.create_trail(A, &hz(), &spec(n), Timestamp(1)).unwrap();
    }
    let text = json(&s);
    let pos = |n: &str| text.find(n).unwrap();
    assert!(pos("trail-aaa") < pos("trail-bbb"));
    assert!(pos("trail-bbb") < pos("trail-ccc"));
}
