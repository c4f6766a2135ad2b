// shoebox: small enhancements. Every page works without this file.
"use strict";

// A rough password strength estimate, mirroring the server's rules, shown while typing.
function strength(pw) {
  let score = 0;
  if (pw.length >= 8) score++;
  if (pw.length >= 12) score++;
  const classes = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9]/].filter((r) => r.test(pw)).length;
  if (classes >= 3) score++;
  if (pw.length >= 16 || (pw.length >= 12 && classes >= 3)) score++;
  if (/^(.)\1+$/.test(pw) || /^(password|12345678|qwerty|shoebox)/i.test(pw)) score = 0;
  const hints = ["Too short or too common.", "Weak: add more characters.", "Fair: 12 or more characters is better.", "Good.", "Strong."];
  return { score: Math.min(score, 4), hint: hints[Math.min(score, 4)] };
}

function wirePasswords() {
  document.querySelectorAll("input[data-strength]").forEach((input) => {
    const field = input.closest(".field");
    const meter = field && field.querySelector("meter.strength");
    const hint = field && field.querySelector(".strength-hint");
    if (!meter || !hint) return;
    input.addEventListener("input", () => {
      const s = strength(input.value);
      meter.hidden = input.value.length === 0;
      meter.value = s.score;
      hint.textContent = input.value.length ? s.hint : hint.dataset.initial || hint.textContent;
    });
    hint.dataset.initial = hint.textContent;
  });
}

function human(n) {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let u = 0;
  while (n >= 1024 && u < units.length - 1) { n /= 1024; u++; }
  return u === 0 ? `${n} B` : `${n.toFixed(1)} ${units[u]}`;
}

function duration(s) {
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86400)} days ${Math.floor((s % 86400) / 3600)} h`;
}

function setText(root, key, text) {
  const el = root.querySelector(`[data-k="${key}"]`);
  if (el && el.textContent !== text) el.textContent = text;
}

function renderJob(job) {
  let el = document.querySelector(`.job[data-job="${job.id}"]`);
  if (!el) {
    el = document.createElement("div");
    el.className = "job";
    el.dataset.job = job.id;
    el.innerHTML = '<div class="job-head"><strong></strong><span class="job-state"></span></div>' +
      '<progress max="100" value="0"></progress><p class="job-figures"><span data-k="items"></span> · ' +
      '<span data-k="bytes"></span> · <span data-k="rate"></span> <span data-k="eta"></span></p>' +
      '<p class="job-current" data-k="current"></p>';
    el.querySelector("strong").textContent = job.name;
    el.querySelector("progress").setAttribute("aria-label", `${job.name} progress`);
    const list = document.querySelector("#jobs .jobs");
    if (list) list.prepend(el);
    const none = document.querySelector("#jobs .no-jobs");
    if (none) none.remove();
  }
  el.querySelector("progress").value = job.percent;
  el.querySelector(".job-state").textContent = job.finished ? "finished" : "running";
  setText(el, "items", `${job.items_done} of ${job.items_total} files`);
  setText(el, "bytes", `${human(job.bytes_done)} of ${human(job.bytes_total)}`);
  setText(el, "rate", `${human(job.rate)}/s`);
  setText(el, "eta", job.eta_secs != null && !job.finished ? `· ${duration(job.eta_secs)} left` : "");
  setText(el, "current", job.finished ? "" : job.current);
}

function wireStatus() {
  const root = document.querySelector("[data-status]");
  if (!root || !window.EventSource) return;
  const source = new EventSource("/status/events");
  source.addEventListener("status", (e) => {
    const s = JSON.parse(e.data);
    setText(root, "load", s.load.map((x) => x.toFixed(2)).join(" "));
    setText(root, "temperature", s.temperature_c == null ? "not reported" : `${Math.round(s.temperature_c)} °C`);
    setText(root, "memory", `${human(s.mem_used)} of ${human(s.mem_total)}`);
    setText(root, "rss", human(s.process_rss));
    setText(root, "uptime", duration(s.uptime_secs));
    setText(root, "disk_free", `${human(s.disk_free)} of ${human(s.disk_total)}`);
    setText(root, "photos", String(s.library.photos));
    setText(root, "videos", String(s.library.videos));
    setText(root, "live", String(s.library.live_photos));
    setText(root, "trashed", String(s.library.trashed));
    setText(root, "lib_bytes", human(s.library.bytes));
    setText(root, "stored", human(s.library.stored_bytes));
    setText(root, "savings", human(s.library.savings));
    s.jobs.slice().reverse().forEach(renderJob);
  });
}

// Arrow keys step through photos on a photo page (links carry data-key).
function wireKeys() {
  document.addEventListener("keydown", (e) => {
    if (e.target.closest("input, textarea, select")) return;
    const link = document.querySelector(`a[data-key="${e.key}"]`);
    if (link) link.click();
  });
}

document.addEventListener("DOMContentLoaded", () => {
  wirePasswords();
  wireStatus();
  wireKeys();
});
