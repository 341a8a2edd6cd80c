// The scheduler dashboard: live tables from the event stream, the job
// buttons and the schedule preview. No framework; user data is only ever
// written with textContent, never parsed as HTML.
"use strict";
(function () {
  const body = document.body;
  const message = document.getElementById("message");
  const live = document.getElementById("live");
  const token = document.getElementById("token");
  token.value = sessionStorage.getItem("scheduler-token") || "";
  token.addEventListener("change", () => sessionStorage.setItem("scheduler-token", token.value));

  function say(text, isError) {
    message.textContent = text;
    message.className = isError ? "error" : "ok";
  }

  function headers(json) {
    const h = { "X-Scheduler-Csrf": "1", "Accept": "application/json" };
    if (json) h["Content-Type"] = "application/json";
    if (token.value) h["Authorization"] = "Bearer " + token.value;
    return h;
  }

  async function call(method, url, payload) {
    const res = await fetch(url, {
      method,
      headers: headers(payload !== undefined),
      body: payload === undefined ? undefined : JSON.stringify(payload),
      credentials: "same-origin",
    });
    let data = null;
    const text = await res.text();
    if (text) {
      try { data = JSON.parse(text); } catch (_) { data = { message: text }; }
    }
    if (!res.ok) {
      const why = data && data.message ? data.message : res.statusText;
      throw new Error("Refused (" + res.status + "): " + why);
    }
    return data;
  }

  function cell(tr, text, cls) {
    const td = document.createElement("td");
    td.textContent = text == null ? "" : String(text);
    if (cls) td.className = cls;
    tr.appendChild(td);
    return td;
  }

  function button(td, action, label) {
    const b = document.createElement("button");
    b.type = "button";
    b.dataset.action = action;
    b.textContent = label;
    td.appendChild(b);
    td.appendChild(document.createTextNode(" "));
  }

  function ms(v) { return v == null ? "" : v.toFixed(1) + " ms"; }
  function time(t) { return t == null ? "" : t; }

  function jobRow(j) {
    const tr = document.createElement("tr");
    tr.dataset.id = j.id;
    tr.dataset.paused = String(j.paused);
    cell(tr, j.id, "id");
    cell(tr, j.name, "name");
    cell(tr, j.trigger, "trigger");
    cell(tr, j.paused ? "paused" : time(j.next_run_time), "next");
    const o = cell(tr, j.last_outcome || "", "outcome");
    if (j.last_outcome) o.dataset.outcome = j.last_outcome;
    const td = cell(tr, "", "actions");
    if (j.paused) button(td, "resume", "Resume"); else button(td, "pause", "Pause");
    button(td, "run", "Run now");
    button(td, "remove", "Remove");
    return tr;
  }

  function runRow(r) {
    const tr = document.createElement("tr");
    tr.dataset.run = String(r.run_id);
    cell(tr, r.job_id);
    cell(tr, r.run_id);
    cell(tr, r.scheduled_at);
    cell(tr, ms(r.lateness_ms));
    cell(tr, ms(r.duration_ms));
    cell(tr, r.outcome, "outcome").dataset.outcome = r.outcome;
    cell(tr, r.error || "", "error");
    return tr;
  }

  function jobsQuery() {
    const params = new URLSearchParams(location.search);
    params.set("offset", body.dataset.offset || "0");
    params.set("limit", body.dataset.limit || "50");
    for (const [k, v] of [...params.entries()]) if (v === "") params.delete(k);
    return params.toString();
  }

  async function refresh() {
    try {
      const [page, runs] = await Promise.all([
        call("GET", "api/jobs?" + jobsQuery()),
        call("GET", "api/runs?limit=50"),
      ]);
      document.querySelector("#jobs tbody").replaceChildren(...page.jobs.map(jobRow));
      document.getElementById("total").textContent = String(page.total);
      document.querySelector("#runs tbody").replaceChildren(...runs.map(runRow));
      body.dataset.refreshed = String(Date.now());
    } catch (e) {
      say(e.message, true);
    }
  }

  let pending = null;
  function soon() {
    if (pending) return;
    pending = setTimeout(() => { pending = null; refresh(); }, 200);
  }

  const routes = {
    pause: (id) => ["POST", "api/jobs/" + encodeURIComponent(id) + "/pause"],
    resume: (id) => ["POST", "api/jobs/" + encodeURIComponent(id) + "/resume"],
    run: (id) => ["POST", "api/jobs/" + encodeURIComponent(id) + "/run"],
    remove: (id) => ["DELETE", "api/jobs/" + encodeURIComponent(id)],
  };

  document.getElementById("jobs").addEventListener("click", async (ev) => {
    const b = ev.target.closest("button[data-action]");
    if (!b) return;
    const id = b.closest("tr").dataset.id;
    const [method, url] = routes[b.dataset.action](id);
    try {
      const data = await call(method, url);
      const what = data && data.run_id != null ? " (run " + data.run_id + ")" : "";
      say(b.textContent + ": " + id + what, false);
      soon();
    } catch (e) {
      say(e.message, true);
    }
  });

  document.getElementById("preview").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const f = ev.target;
    const trigger = {};
    trigger[f.kind.value] = f.expr.value;
    if (f.tz.value) trigger.tz = f.tz.value;
    const list = document.getElementById("times");
    try {
      const data = await call("POST", "api/preview", { trigger, count: 10 });
      list.replaceChildren(...data.times.map((t) => {
        const li = document.createElement("li");
        li.textContent = t;
        return li;
      }));
      say("Preview of " + data.trigger, false);
    } catch (e) {
      list.replaceChildren();
      say(e.message, true);
    }
  });

  const source = new EventSource("events");
  source.onopen = () => { live.textContent = "live"; live.className = "on"; };
  source.onerror = () => { live.textContent = "reconnecting…"; live.className = "off"; };
  for (const type of ["job_added", "job_removed", "job_modified", "all_jobs_removed", "job_submitted",
    "job_executed", "job_error", "job_missed", "job_max_instances", "run_abandoned"]) {
    source.addEventListener(type, soon);
  }
  source.addEventListener("lagged", (ev) => {
    const missed = JSON.parse(ev.data).missed;
    say("The live view fell behind by " + missed + " events; reloaded.", true);
    soon();
  });
  source.addEventListener("scheduler_shutdown", () => {
    live.textContent = "scheduler shut down";
    live.className = "off";
    source.close();
  });
})();
