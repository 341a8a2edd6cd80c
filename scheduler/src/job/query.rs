//! `JobQuery` and `JobPage`: one page of the jobs, filtered, for lists
//! that must stay fast with many jobs (a web page, an API).

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::job::Job;

/// Which jobs to list, and which page of them: soonest next run first,
/// paused jobs last, ties by id (the order of [`crate::Scheduler::jobs`]).
///
/// ```
/// use scheduler::{JobQuery, Scheduler, Target, Trigger};
/// use std::time::Duration;
///
/// let sched = Scheduler::builder().start_background()?;
/// let b = sched.blocking();
/// for i in 0..5 {
///     b.add_job(Target::from_async(|_ctx| async {}))
///         .id(format!("sync-{i}"))
///         .trigger(Trigger::interval(Duration::from_secs(60))?)
///         .send_blocking()?;
/// }
/// let page = b.jobs_page(JobQuery::new().search("sync").offset(1).limit(2))?;
/// assert_eq!(page.total, 5);
/// assert_eq!(page.jobs.len(), 2);
/// # b.shutdown(true)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct JobQuery {
    pub(crate) offset: usize,
    pub(crate) limit: Option<usize>,
    pub(crate) search: Option<String>,
    pub(crate) paused: Option<bool>,
}

impl JobQuery {
    /// Every job, one page.
    pub fn new() -> JobQuery {
        JobQuery::default()
    }
    /// Skips the first `n` matching jobs.
    pub fn offset(mut self, n: usize) -> JobQuery {
        self.offset = n;
        self
    }
    /// At most `n` jobs.
    pub fn limit(mut self, n: usize) -> JobQuery {
        self.limit = Some(n);
        self
    }
    /// Only jobs whose id or name contains `text` (case-insensitive).
    pub fn search(mut self, text: impl Into<String>) -> JobQuery {
        let text = text.into();
        self.search = (!text.is_empty()).then(|| text.to_lowercase());
        self
    }
    /// Only paused jobs (`true`) or only scheduled ones (`false`).
    pub fn paused(mut self, paused: bool) -> JobQuery {
        self.paused = Some(paused);
        self
    }

    /// Whether a job with this id, name and next run matches the filters.
    pub(crate) fn matches(
        &self,
        id: &str,
        name: Option<&str>,
        next: Option<DateTime<Utc>>,
    ) -> bool {
        if self.paused.is_some_and(|p| p != next.is_none()) {
            return false;
        }
        match &self.search {
            None => true,
            Some(s) => contains_folded(id, s) || name.is_some_and(|n| contains_folded(n, s)),
        }
    }

    /// The page of `keys` (next run, id, payload), sorted in list order.
    pub(crate) fn page<T>(
        &self,
        mut keys: Vec<(Option<DateTime<Utc>>, Arc<str>, T)>,
    ) -> (usize, Vec<T>) {
        let total = keys.len();
        keys.sort_unstable_by(|a, b| order(a.0, &a.1, b.0, &b.1));
        let limit = self.limit.unwrap_or(usize::MAX);
        let page = keys
            .into_iter()
            .skip(self.offset)
            .take(limit)
            .map(|(_, _, t)| t)
            .collect();
        (total, page)
    }
}

/// The list order: soonest next run first, paused last, ties by id.
fn order(
    a: Option<DateTime<Utc>>,
    a_id: &str,
    b: Option<DateTime<Utc>>,
    b_id: &str,
) -> std::cmp::Ordering {
    use std::cmp::Ordering::*;
    match (a, b) {
        (Some(x), Some(y)) => x.cmp(&y).then_with(|| a_id.cmp(b_id)),
        (Some(_), None) => Less,
        (None, Some(_)) => Greater,
        (None, None) => a_id.cmp(b_id),
    }
}

fn contains_folded(haystack: &str, lower_needle: &str) -> bool {
    if haystack.is_ascii() && lower_needle.is_ascii() {
        haystack
            .as_bytes()
            .windows(lower_needle.len().max(1))
            .any(|w| w.eq_ignore_ascii_case(lower_needle.as_bytes()))
            || lower_needle.is_empty()
    } else {
        haystack.to_lowercase().contains(lower_needle)
    }
}

/// One page of jobs: the matching jobs of this page, and how many match in all.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct JobPage {
    /// How many jobs match the query, over all pages.
    pub total: usize,
    /// The jobs of this page, in list order.
    pub jobs: Vec<Job>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_is_case_insensitive_on_id_or_name() {
        let q = JobQuery::new().search("SYNC");
        assert!(q.matches("redis-sync", None, None));
        assert!(q.matches("x", Some("Nightly Sync"), None));
        assert!(!q.matches("x", Some("report"), None));
        assert!(JobQuery::new().search("é").matches("café", None, None));
    }

    #[test]
    fn paused_filter_and_order() {
        let t = DateTime::<Utc>::UNIX_EPOCH;
        assert!(JobQuery::new().paused(true).matches("a", None, None));
        assert!(!JobQuery::new().paused(true).matches("a", None, Some(t)));
        let keys = vec![
            (None, Arc::from("p"), 1),
            (Some(t + chrono::TimeDelta::seconds(2)), Arc::from("b"), 2),
            (Some(t), Arc::from("z"), 3),
            (Some(t), Arc::from("a"), 4),
        ];
        assert_eq!(JobQuery::new().page(keys.clone()), (4, vec![4, 3, 2, 1]));
        assert_eq!(
            JobQuery::new().offset(1).limit(2).page(keys),
            (4, vec![3, 2])
        );
    }
}
