//! The job API on a durable store: each call is one store transaction, run
//! on the store's thread; `Ok` means it committed. The actor then hears of
//! the change (its events, and whether something may be due now).

use std::sync::Arc;

use futures_util::FutureExt;

use crate::actor::messages::StoreChanged;
use crate::error::{Error, ErrorKind};
use crate::event::Event;
use crate::job::target::Inner as TargetInner;
use crate::job::{Job, JobChanges, JobSpec};
use crate::store::link::StoreLink;
use crate::store::{JobRecord, RunRecord};
use crate::trigger::Trigger;

use super::scheduler::Scheduler;

impl Scheduler {
    pub(crate) fn link(&self) -> Option<&Arc<StoreLink>> {
        self.inner.durable.as_ref()
    }

    fn changed(&self, events: Vec<Event>, acquire: bool) {
        self.inner.addr.do_send(StoreChanged { events, acquire });
    }

    fn accepting(&self) -> Result<(), Error> {
        if self.inner.lifecycle.is_aborted() {
            return Err(Error::aborted());
        }
        if !self.inner.admission.is_accepting() {
            return Err(Error::not_running());
        }
        Ok(())
    }

    pub(crate) async fn durable_add(
        &self,
        link: &Arc<StoreLink>,
        specs: Vec<JobSpec>,
    ) -> Result<Vec<Arc<str>>, Error> {
        self.accepting()?;
        let admission = &self.inner.admission;
        let now = admission.clock.now();
        let admitted = admission.check_all(specs)?;
        let mut records = Vec::with_capacity(admitted.len());
        let mut replace = Vec::with_capacity(admitted.len());
        for a in &admitted {
            // A run on start is the first run, now; the schedule goes on after it.
            let next = if a.run_on_start && a.next_run.is_some() {
                Some(now)
            } else {
                a.next_run
            };
            records.push(JobRecord::of(
                &a.id,
                &a.trigger,
                &a.target,
                &a.opts,
                next,
                link.kind(),
            )?);
            replace.push(a.replace);
        }
        let ids: Vec<Arc<str>> = admitted.into_iter().map(|a| a.id).collect();
        let replaced = link
            .call(move |s| async move { s.add_jobs(&records, &replace).await }.boxed())
            .await?;
        let events = ids
            .iter()
            .zip(replaced)
            .map(|(id, r)| {
                let job_id = id.clone();
                if r {
                    Event::JobModified { job_id }
                } else {
                    Event::JobAdded { job_id }
                }
            })
            .collect();
        tracing::debug!(target: "scheduler::jobs", jobs = ids.len(), store = link.kind(), "jobs added");
        self.changed(events, true);
        Ok(ids)
    }

    /// Changes a stored job in one transaction with `change`, which checks
    /// and edits the record (and may be called again if the transaction is
    /// retried); `false` from it removes the job.
    async fn durable_update(
        &self,
        link: &Arc<StoreLink>,
        id: &str,
        change: impl Fn(&mut JobRecord, chrono::DateTime<chrono::Utc>) -> Result<bool, Error>
            + Send
            + Sync
            + 'static,
    ) -> Result<Option<JobRecord>, Error> {
        self.accepting()?;
        let now = self.inner.admission.clock.now();
        let id_owned = id.to_owned();
        let updated = link
            .call(move |s| {
                async move {
                    let found = std::sync::atomic::AtomicBool::new(false);
                    let out = s
                        .update_job(
                            &id_owned,
                            now,
                            Box::new(|r| {
                                found.store(true, std::sync::atomic::Ordering::Relaxed);
                                change(r, now)
                            }),
                        )
                        .await?;
                    if out.is_none() && !found.load(std::sync::atomic::Ordering::Relaxed) {
                        return Err(Error::job_not_found(&id_owned));
                    }
                    Ok(out)
                }
                .boxed()
            })
            .await?;
        let job_id: Arc<str> = Arc::from(id);
        let event = if updated.is_some() {
            Event::JobModified { job_id }
        } else {
            Event::JobRemoved { job_id }
        };
        self.changed(vec![event], true);
        Ok(updated)
    }

    pub(crate) async fn durable_modify(
        &self,
        link: &Arc<StoreLink>,
        id: &str,
        changes: JobChanges,
    ) -> Result<Job, Error> {
        let admission = self.inner.admission.clone();
        let store = link.kind();
        let job_id = id.to_owned();
        let updated = self
            .durable_update(link, id, move |r, _now| {
                let mut opts = r.options.clone();
                changes.apply_options(&mut opts);
                opts.check()
                    .map_err(|e| e.context(format_args!("job `{job_id}`")))?;
                let executor = admission.executor_index(&opts.executor)?;
                if let Some(t) = &changes.target {
                    let mut target = t.clone();
                    admission.check_executor_fits(executor, &target, &job_id)?;
                    admission.resolve_target(&mut target, &job_id)?;
                    let TargetInner::Registered(reg) = &target.inner else {
                        return Err(Error::new(
                            ErrorKind::Unsupported,
                            format!(
                                "job `{job_id}`: a closure cannot be kept in the {store} store; \
                                 register the function with `#[job]` and use it by name"
                            ),
                        ));
                    };
                    r.function = reg.name.to_string();
                    r.args = (*reg.args).clone();
                }
                if let Some(next) = changes.next_run_time {
                    r.next_run_time = next;
                }
                r.name = opts.name.as_deref().map(str::to_owned);
                r.options = opts;
                Ok(true)
            })
            .await?;
        job_of(updated, id)
    }

    pub(crate) async fn durable_reschedule(
        &self,
        link: &Arc<StoreLink>,
        id: &str,
        trigger: Trigger,
    ) -> Result<Job, Error> {
        let job_id = id.to_owned();
        let updated = self
            .durable_update(link, id, move |r, now| {
                let mut trigger = trigger.clone();
                trigger.resolve(now);
                let next = trigger.next_fire_time(None, now).ok_or_else(|| {
                    Error::new(
                        ErrorKind::Trigger,
                        format!("job `{job_id}`: the new trigger has no fire time left"),
                    )
                })?;
                r.trigger = trigger;
                r.next_run_time = Some(next);
                Ok(true)
            })
            .await?;
        job_of(updated, id)
    }

    pub(crate) async fn durable_pause(
        &self,
        link: &Arc<StoreLink>,
        id: &str,
    ) -> Result<Job, Error> {
        let updated = self
            .durable_update(link, id, |r, _| {
                r.next_run_time = None;
                Ok(true)
            })
            .await?;
        job_of(updated, id)
    }

    pub(crate) async fn durable_resume(
        &self,
        link: &Arc<StoreLink>,
        id: &str,
    ) -> Result<Option<Job>, Error> {
        let updated = self
            .durable_update(link, id, |r, now| {
                if r.next_run_time.is_some() {
                    return Ok(true); // not paused
                }
                r.next_run_time = r.trigger.next_fire_time(None, now);
                Ok(r.next_run_time.is_some())
            })
            .await?;
        updated.map(|r| r.to_job()).transpose()
    }

    pub(crate) async fn durable_remove(
        &self,
        link: &Arc<StoreLink>,
        id: &str,
    ) -> Result<(), Error> {
        self.accepting()?;
        let ids = vec![id.to_owned()];
        let now = self.inner.admission.clock.now();
        let removed = link
            .call(move |s| async move { s.remove_jobs(&ids, now).await }.boxed())
            .await?;
        if !removed.first().copied().unwrap_or(false) {
            return Err(Error::job_not_found(id));
        }
        tracing::debug!(target: "scheduler::jobs", job_id = %id, "job removed");
        self.changed(
            vec![Event::JobRemoved {
                job_id: Arc::from(id),
            }],
            false,
        );
        Ok(())
    }

    pub(crate) async fn durable_remove_all(&self, link: &Arc<StoreLink>) -> Result<(), Error> {
        self.accepting()?;
        let now = self.inner.admission.clock.now();
        let n = link
            .call(move |s| async move { s.remove_all_jobs(now).await }.boxed())
            .await?;
        tracing::debug!(target: "scheduler::jobs", jobs = n, "all jobs removed");
        self.changed(vec![Event::AllJobsRemoved], false);
        Ok(())
    }

    pub(crate) async fn durable_get(
        &self,
        link: &Arc<StoreLink>,
        id: &str,
    ) -> Result<Option<Job>, Error> {
        let id = id.to_owned();
        let r = link
            .call(move |s| async move { s.get_job(&id).await }.boxed())
            .await?;
        r.map(|r| r.to_job()).transpose()
    }

    pub(crate) async fn durable_jobs(&self, link: &Arc<StoreLink>) -> Result<Vec<Job>, Error> {
        let rs = link.call(|s| async move { s.jobs().await }.boxed()).await?;
        rs.iter().map(JobRecord::to_job).collect()
    }

    /// A page of a durable store's jobs: read whole, then filtered and paged.
    pub(crate) async fn durable_jobs_page(
        &self,
        link: &Arc<StoreLink>,
        query: crate::job::JobQuery,
    ) -> Result<crate::job::JobPage, Error> {
        let rs = link.call(|s| async move { s.jobs().await }.boxed()).await?;
        let mut keys = Vec::new();
        for r in rs {
            let job = r.to_job()?;
            if query.matches(job.id(), job.name.as_deref(), job.next_run_time) {
                keys.push((job.next_run_time, job.id.clone(), job));
            }
        }
        let (total, jobs) = query.page(keys);
        Ok(crate::job::JobPage { total, jobs })
    }

    pub(crate) async fn durable_count(&self, link: &Arc<StoreLink>) -> Result<usize, Error> {
        let n = link
            .call(|s| async move { s.job_count().await }.boxed())
            .await?;
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }

    pub(crate) async fn durable_run_now(
        &self,
        link: &Arc<StoreLink>,
        id: &str,
    ) -> Result<u64, Error> {
        self.accepting()?;
        let now = self.inner.admission.clock.now();
        let id_owned = id.to_owned();
        let run = link
            .call(move |s| async move { s.run_now(&id_owned, now).await }.boxed())
            .await?
            .ok_or_else(|| Error::job_not_found(id))?;
        self.changed(Vec::new(), true);
        Ok(run)
    }

    pub(crate) async fn durable_runs(
        &self,
        link: &Arc<StoreLink>,
        job_id: Option<&str>,
        limit: usize,
    ) -> Result<Vec<RunRecord>, Error> {
        let job_id = job_id.map(str::to_owned);
        link.call(move |s| async move { s.runs(job_id.as_deref(), limit).await }.boxed())
            .await
    }
}

fn job_of(updated: Option<JobRecord>, id: &str) -> Result<Job, Error> {
    updated
        .ok_or_else(|| Error::job_not_found(id))
        .and_then(|r| r.to_job())
}
