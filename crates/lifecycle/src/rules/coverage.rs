//! Page coverage: what one evaluation pass may judge of the snapshots and fills it read, and
//! whether the window may close.
//!
//! An evaluation pass reads one page of snapshots and one page of fills, each oldest first and
//! each possibly followed by more. A snapshot is judged after the fills at or before it, so it
//! may be judged only when the fill page covers it; the window may close only when every
//! snapshot of it was judged and every fill of it was read. This module decides that from the
//! pages' timestamps alone: no database, no clock (the caller passes `now`).

use chrono::{DateTime, Duration, Utc};

use super::Fill;

/// One pass's pages as coverage sees them: timestamps, oldest first, and whether more rows
/// follow each page.
#[derive(Debug, Clone, Copy)]
pub struct Pages<'a> {
    /// When each snapshot of the page was taken.
    pub snapshots: &'a [DateTime<Utc>],
    /// Whether snapshots after the page exist.
    pub more_snapshots: bool,
    /// The page's fills.
    pub fills: &'a [Fill],
    /// Whether fills after the page exist.
    pub more_fills: bool,
}

/// What happens after the covered snapshots are judged, unless one of them ended the audition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterJudging {
    /// Nothing more this pass: fills after the last judged snapshot wait for the next one.
    Wait,
    /// A full page of fills precedes every snapshot not yet judged: count them all now, or the
    /// fill cursor would never move past them.
    CountFills,
    /// The window is over and every snapshot of it was judged: count the fills read, then
    /// give the closing verdict.
    Close,
}

/// What one evaluation pass may judge of the pages it read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Coverage {
    /// How many of the page's snapshots are judged: a prefix of it.
    pub snapshots: usize,
    /// What follows the judging.
    pub then: AfterJudging,
}

impl Coverage {
    /// The coverage of `pages` for a window ending at `window_end`, at `now`, waiting
    /// `close_grace` after the end for a snapshot that proves the window was judged whole.
    ///
    /// - When more fills follow the page, only snapshots taken before its last fill are
    ///   judged (a later fill could precede a later snapshot); with none, the page's fills
    ///   are counted. The window never closes then.
    /// - Otherwise every snapshot of the page is judged. The window closes once no snapshot
    ///   of it can be missing (no more follow the page, or one taken after the end is in it)
    ///   and it is provably over: a snapshot after the end, or `now` past the grace.
    pub fn of(
        pages: Pages<'_>,
        window_end: DateTime<Utc>,
        now: DateTime<Utc>,
        close_grace: Duration,
    ) -> Self {
        if pages.more_fills
            && let Some(covered) = pages.fills.last()
        {
            // Snapshots are oldest first, so the covered ones are a prefix.
            let snapshots = pages.snapshots.partition_point(|at| *at < covered.at);
            let then = if snapshots == 0 {
                AfterJudging::CountFills
            } else {
                AfterJudging::Wait
            };
            return Self { snapshots, then };
        }
        // A snapshot after the end proves every snapshot of the window is before it, in this
        // page (it is never judged itself).
        let past_end = pages.snapshots.iter().any(|at| *at > window_end);
        let complete = !pages.more_snapshots || past_end;
        let then = if complete && (past_end || now >= window_end + close_grace) {
            AfterJudging::Close
        } else {
            AfterJudging::Wait
        };
        Self {
            snapshots: pages.snapshots.len(),
            then,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(minute: i64) -> DateTime<Utc> {
        DateTime::UNIX_EPOCH + Duration::minutes(minute)
    }

    const END: i64 = 100;

    fn coverage(
        snapshots: &[i64],
        more_snapshots: bool,
        fills: &[i64],
        more_fills: bool,
        now: i64,
    ) -> Coverage {
        let snapshots: Vec<_> = snapshots.iter().copied().map(at).collect();
        let fills: Vec<_> = fills
            .iter()
            .zip(1u128..)
            .map(|(minute, id)| Fill {
                at: at(*minute),
                id: uuid::Uuid::from_u128(id),
            })
            .collect();
        Coverage::of(
            Pages {
                snapshots: &snapshots,
                more_snapshots,
                fills: &fills,
                more_fills,
            },
            at(END),
            at(now),
            Duration::minutes(2),
        )
    }

    #[test]
    fn complete_pages_inside_the_window_judge_everything_and_wait() {
        assert_eq!(
            coverage(&[10, 20], false, &[5, 15, 25], false, 30),
            Coverage {
                snapshots: 2,
                then: AfterJudging::Wait
            }
        );
        assert_eq!(
            coverage(&[], false, &[], false, 30),
            Coverage {
                snapshots: 0,
                then: AfterJudging::Wait
            }
        );
    }

    #[test]
    fn a_full_fill_page_covers_only_the_snapshots_before_its_last_fill() {
        assert_eq!(
            coverage(&[10, 20, 30], false, &[5, 15, 20], true, 40),
            Coverage {
                snapshots: 1,
                then: AfterJudging::Wait
            }
        );
        // Even past the end: fills inside the window may still follow.
        assert_eq!(
            coverage(&[90, 110], false, &[95, 99], true, 200),
            Coverage {
                snapshots: 1,
                then: AfterJudging::Wait
            }
        );
    }

    #[test]
    fn a_fill_page_ending_inside_an_order_does_not_cover_a_snapshot_at_its_time() {
        // The rest of the order's fills, stamped 30 too, precede the snapshot taken at 30.
        assert_eq!(
            coverage(&[20, 30], false, &[15, 30, 30], true, 40),
            Coverage {
                snapshots: 1,
                then: AfterJudging::Wait
            }
        );
    }

    #[test]
    fn a_full_fill_page_before_every_snapshot_is_counted() {
        assert_eq!(
            coverage(&[30], false, &[5, 15, 30], true, 40),
            Coverage {
                snapshots: 0,
                then: AfterJudging::CountFills
            }
        );
        assert_eq!(
            coverage(&[], false, &[5, 15], true, 200),
            Coverage {
                snapshots: 0,
                then: AfterJudging::CountFills
            }
        );
    }

    #[test]
    fn a_snapshot_after_the_end_closes_the_window_at_once() {
        assert_eq!(
            coverage(&[90, 101], false, &[95], false, 101),
            Coverage {
                snapshots: 2,
                then: AfterJudging::Close
            }
        );
        // More snapshots may follow, but none of them is inside the window.
        assert_eq!(
            coverage(&[90, 101], true, &[95], false, 101),
            Coverage {
                snapshots: 2,
                then: AfterJudging::Close
            }
        );
    }

    #[test]
    fn without_a_snapshot_after_the_end_the_window_closes_after_the_grace() {
        let waiting = coverage(&[90], false, &[95], false, END + 1);
        assert_eq!(waiting.then, AfterJudging::Wait);
        let closing = coverage(&[90], false, &[95], false, END + 2);
        assert_eq!(closing.then, AfterJudging::Close);
        let idle = coverage(&[], false, &[], false, END + 2);
        assert_eq!(idle.then, AfterJudging::Close);
    }

    #[test]
    fn a_full_snapshot_page_inside_the_window_never_closes_it() {
        assert_eq!(
            coverage(&[80, 90], true, &[], false, END + 60),
            Coverage {
                snapshots: 2,
                then: AfterJudging::Wait
            }
        );
    }
}
