//! Per-region statuses of a job (the API's `Status` list of `GetDeliveryHistoryJob`): the
//! scheduler's catalogue of known regions, and each job's statuses as bit sets over it.
//!
//! Workers report one status per region of a job. Region names come from workers, which the
//! host trusts, so the scheduler learns every region it is told of, for good and across
//! snapshots, up to [`MAX_REGIONS`]. A job then stores its statuses in three 64-bit words
//! instead of a list of names: the job record grows by 24 bytes, not by 64 region names.

use crate::ids::Region;
use crate::job::JobStatus;

/// How many distinct regions a scheduler can know (its catalogue). A report naming a new
/// region once the catalogue is full is refused with
/// [`Error::CapacityExhausted`](crate::Error::CapacityExhausted)`(`[`Table::Regions`](crate::Table::Regions)`)`.
pub const MAX_REGIONS: usize = 64;

/// The regions the scheduler has learned, each with a fixed index (its bit in
/// [`RegionStatuses`]) for good.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RegionCatalogue {
    /// Region `i` is `names[i]`; a region never leaves, so indexes stay valid.
    names: heapless::Vec<Region, MAX_REGIONS>,
    /// The indexes in byte order of the names: lookups bisect it, and lists follow it.
    sorted: heapless::Vec<u8, MAX_REGIONS>,
}

impl RegionCatalogue {
    pub(crate) const fn new() -> Self {
        RegionCatalogue {
            names: heapless::Vec::new(),
            sorted: heapless::Vec::new(),
        }
    }

    pub(crate) fn clear(&mut self) {
        self.names.clear();
        self.sorted.clear();
    }

    pub(crate) fn len(&self) -> usize {
        self.names.len()
    }

    /// Where `region` is in byte order: `Ok(index)` when known, `Err(position)` otherwise.
    fn search(&self, region: &Region) -> Result<u8, usize> {
        self.sorted
            .binary_search_by(|&index| {
                let name = self.names.get(usize::from(index)).map(Region::as_str);
                name.unwrap_or_default().cmp(region.as_str())
            })
            .map(|position| self.sorted.get(position).copied().unwrap_or(u8::MAX))
    }

    /// The index of `region`, if known.
    pub(crate) fn index_of(&self, region: &Region) -> Option<u8> {
        self.search(region).ok()
    }

    /// Whether `region` can be used: known, or room to learn it.
    pub(crate) fn can_learn(&self, region: &Region) -> bool {
        self.index_of(region).is_some() || !self.names.is_full()
    }

    /// The index of `region`, learning it if new; `None` when it is new and the catalogue is
    /// full.
    pub(crate) fn learn(&mut self, region: &Region) -> Option<u8> {
        let position = match self.search(region) {
            Ok(index) => return Some(index),
            Err(position) => position,
        };
        let index = u8::try_from(self.names.len()).ok()?;
        self.names.push(region.clone()).ok()?;
        if self.sorted.insert(position, index).is_err() {
            self.names.pop(); // cannot happen: both lists have the same capacity
            return None;
        }
        Some(index)
    }

    /// The name of region `index`.
    pub(crate) fn name(&self, index: u8) -> Option<&Region> {
        self.names.get(usize::from(index))
    }

    /// The regions in byte order, with their indexes.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (u8, &Region)> + '_ {
        self.sorted
            .iter()
            .filter_map(|&index| Some((index, self.name(index)?)))
    }

    /// Whether the two lists agree (for the invariant check).
    pub(crate) fn is_consistent(&self) -> bool {
        self.sorted.len() == self.names.len()
            && self
                .iter()
                .zip(self.iter().skip(1))
                .all(|((_, a), (_, b))| a.as_str() < b.as_str())
            && self.iter().count() == self.names.len()
    }
}

/// A job's status in each region it was reported in, as bit sets over the catalogue's indexes:
/// bit `i` of `reported` says region `i` has a status, whose code (0 to 3) is bit `i` of
/// `low` plus twice bit `i` of `high`. `high` alone marks a finished region (codes 2 and 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub(crate) struct RegionStatuses {
    reported: u64,
    low: u64,
    high: u64,
}

fn bit(index: u8) -> u64 {
    1u64.checked_shl(u32::from(index)).unwrap_or(0)
}

impl RegionStatuses {
    pub(crate) const NONE: RegionStatuses = RegionStatuses {
        reported: 0,
        low: 0,
        high: 0,
    };

    /// Region `index`'s status, if reported.
    pub(crate) fn get(&self, index: u8) -> Option<JobStatus> {
        let bit = bit(index);
        if self.reported & bit == 0 {
            return None;
        }
        let code = u8::from(self.low & bit != 0) | (u8::from(self.high & bit != 0) << 1);
        JobStatus::from_code(code)
    }

    pub(crate) fn set(&mut self, index: u8, status: JobStatus) {
        let bit = bit(index);
        let code = status.code();
        self.reported |= bit;
        self.low = if code & 1 != 0 {
            self.low | bit
        } else {
            self.low & !bit
        };
        self.high = if code & 2 != 0 {
            self.high | bit
        } else {
            self.high & !bit
        };
    }

    /// The regions still initializing or delivering.
    fn unfinished(&self) -> u64 {
        self.reported & !self.high
    }

    pub(crate) fn has_unfinished(&self) -> bool {
        self.unfinished() != 0
    }

    /// Every region still initializing or delivering takes the job's final status.
    pub(crate) fn finish(&mut self, status: JobStatus) {
        let unfinished = self.unfinished();
        self.high |= unfinished;
        if status == JobStatus::Failed {
            self.low |= unfinished;
        } else {
            self.low &= !unfinished;
        }
    }

    /// Every region delivering goes back to initializing (the job waits for a retry).
    pub(crate) fn restart(&mut self) {
        self.low &= !self.unfinished();
    }

    /// The statuses in the catalogue's byte order of region names.
    pub(crate) fn iter<'a>(
        &'a self,
        catalogue: &'a RegionCatalogue,
    ) -> impl Iterator<Item = (&'a Region, JobStatus)> + 'a {
        catalogue
            .iter()
            .filter_map(|(index, region)| Some((region, self.get(index)?)))
    }

    /// Whether every reported region is in a catalogue of `known` regions.
    pub(crate) fn within(&self, known: usize) -> bool {
        let indexes = u32::try_from(known).unwrap_or(u32::MAX);
        let known_bits = 1u64
            .checked_shl(indexes)
            .map_or(u64::MAX, |b| b.wrapping_sub(1));
        self.reported & !known_bits == 0
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may panic: that is how they fail
mod tests {
    extern crate std;
    use super::*;
    use std::vec::Vec;

    fn region(name: &str) -> Region {
        Region::new(name).unwrap()
    }

    #[test]
    fn the_catalogue_keeps_indexes_and_lists_in_byte_order() {
        let mut catalogue = RegionCatalogue::new();
        assert_eq!(catalogue.learn(&region("cn-shanghai")), Some(0));
        assert_eq!(catalogue.learn(&region("ap-southeast-1")), Some(1));
        assert_eq!(catalogue.learn(&region("cn-hangzhou")), Some(2));
        assert_eq!(catalogue.learn(&region("cn-shanghai")), Some(0));
        let names: Vec<&str> = catalogue.iter().map(|(_, r)| r.as_str()).collect();
        assert_eq!(names, ["ap-southeast-1", "cn-hangzhou", "cn-shanghai"]);
        assert!(catalogue.is_consistent());
        for index in 3..64u8 {
            let name = std::format!("r{index:02}");
            assert_eq!(catalogue.learn(&region(&name)), Some(index));
        }
        assert!(!catalogue.can_learn(&region("zz")));
        assert!(catalogue.can_learn(&region("r07")));
        assert_eq!(catalogue.learn(&region("zz")), None);
        assert_eq!(catalogue.len(), MAX_REGIONS);
        assert!(catalogue.is_consistent());
    }

    #[test]
    fn statuses_finish_and_restart_only_the_unfinished_regions() {
        let mut statuses = RegionStatuses::NONE;
        statuses.set(0, JobStatus::Delivering);
        statuses.set(5, JobStatus::Initializing);
        statuses.set(63, JobStatus::Completed);
        statuses.set(9, JobStatus::Failed);
        assert_eq!(statuses.get(1), None);
        assert_eq!(statuses.get(63), Some(JobStatus::Completed));
        assert!(statuses.has_unfinished());
        let mut restarted = statuses;
        restarted.restart();
        assert_eq!(restarted.get(0), Some(JobStatus::Initializing));
        assert_eq!(restarted.get(9), Some(JobStatus::Failed));
        statuses.finish(JobStatus::Failed);
        assert_eq!(statuses.get(0), Some(JobStatus::Failed));
        assert_eq!(statuses.get(5), Some(JobStatus::Failed));
        assert_eq!(statuses.get(63), Some(JobStatus::Completed));
        assert!(!statuses.has_unfinished());
        restarted.finish(JobStatus::Completed);
        assert_eq!(restarted.get(0), Some(JobStatus::Completed));
        assert_eq!(restarted.get(9), Some(JobStatus::Failed));
        assert!(statuses.within(64) && !statuses.within(10));
    }
}
