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

// Timeline: when the "Older" link comes into view, fetch the next page as a fragment and
// append it, merging a month or day that continues across the page boundary.
function wireInfiniteScroll() {
  if (!("IntersectionObserver" in window)) return;
  const observer = new IntersectionObserver((entries) => {
    entries.forEach((entry) => {
      if (entry.isIntersecting) { observer.unobserve(entry.target); appendNext(entry.target, observer); }
    });
  }, { rootMargin: "1200px 0px" });
  const more = document.querySelector("a[data-more]");
  if (more) observer.observe(more);
}

async function appendNext(link, observer) {
  const label = link.textContent;
  link.textContent = "Loading…";
  try {
    const url = new URL(link.href, location.href);
    url.searchParams.set("fragment", "1");
    const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const page = document.createElement("template");
    page.innerHTML = await response.text();
    const incoming = page.content.querySelector(".timeline");
    const timelines = link.parentElement.querySelectorAll(".timeline");
    const current = timelines[timelines.length - 1];
    if (incoming && current) mergeTimeline(current, incoming);
    const next = page.content.querySelector("a[data-more]");
    if (next) { link.replaceWith(next); observer.observe(next); } else { link.remove(); }
    document.dispatchEvent(new CustomEvent("timeline:grew"));
  } catch (e) {
    link.textContent = label; // the plain link still works
  }
}

function mergeTimeline(current, incoming) {
  const lastMonth = [...current.querySelectorAll("h2.month")].pop();
  const lastDay = [...current.querySelectorAll("section.day")].pop();
  [...incoming.children].forEach((child) => {
    if (child.matches("h2.month") && lastMonth && child.dataset.month === lastMonth.dataset.month) return;
    if (child.matches("section.day") && lastDay && child.dataset.day === lastDay.dataset.day) {
      lastDay.querySelector("ul.grid").append(...child.querySelectorAll("li.tile"));
      return;
    }
    current.append(child);
  });
}

// The scrubber marks the month being looked at.
function wireScrubber() {
  const nav = document.querySelector("nav.scrubber");
  if (!nav) return;
  let pending = false;
  const mark = () => {
    pending = false;
    let shown = null;
    document.querySelectorAll("h2.month").forEach((h) => { if (h.getBoundingClientRect().top < 120) shown = h.dataset.month; });
    if (!shown) { const first = document.querySelector("h2.month"); shown = first && first.dataset.month; }
    nav.querySelectorAll("a[aria-current]").forEach((a) => a.removeAttribute("aria-current"));
    const link = shown && nav.querySelector(`a[data-month="${shown}"]`);
    if (link) { link.setAttribute("aria-current", "true"); }
  };
  const later = () => { if (!pending) { pending = true; requestAnimationFrame(mark); } };
  window.addEventListener("scroll", later, { passive: true });
  document.addEventListener("timeline:grew", later);
  mark();
}

// Selection mode without a reload: tiles toggle instead of opening, the bar counts.
function wireSelection() {
  document.querySelectorAll("form[data-selection]").forEach((form) => {
    const counter = form.querySelector("[data-selected]");
    const buttons = [...form.querySelectorAll(".select-bar button")];
    buttons.forEach((b) => { if (b.disabled) b.dataset.alwaysOff = "1"; });
    const update = () => {
      const n = form.querySelectorAll('input[name="id"]:checked').length;
      counter.textContent = n ? `${n} selected:` : "Select photos, then:";
      buttons.forEach((b) => { b.disabled = n === 0 || b.dataset.alwaysOff === "1"; });
    };
    const toggle = form.querySelector("[data-select-on], [data-select-off]");
    if (toggle) {
      toggle.addEventListener("click", (e) => {
        e.preventDefault();
        const on = form.classList.toggle("selecting");
        toggle.textContent = on ? "Done" : "Select";
        if (!on) form.querySelectorAll('input[name="id"]:checked').forEach((c) => { c.checked = false; });
        update();
      });
    }
    form.addEventListener("click", (e) => {
      if (!form.classList.contains("selecting")) return;
      const tile = e.target.closest("li.tile");
      if (!tile || e.target.closest("label.pick")) return;
      e.preventDefault();
      const box = tile.querySelector('input[name="id"]');
      box.checked = !box.checked;
      update();
    });
    form.addEventListener("change", update);
    update();
    // Justified rows or a square grid, remembered in this browser.
    const tools = form.querySelector(".select-tools");
    if (tools && form.querySelector("ul.grid")) {
      const layout = document.createElement("button");
      layout.type = "button";
      const label = () => { layout.textContent = document.documentElement.classList.contains("square-grid") ? "Justified rows" : "Square grid"; };
      layout.addEventListener("click", () => {
        const square = document.documentElement.classList.toggle("square-grid");
        try { localStorage.setItem("shoebox-grid", square ? "square" : "justified"); } catch (e) { /* private mode */ }
        label();
      });
      label();
      tools.prepend(layout);
    }
  });
}

function applyGridPreference() {
  try { if (localStorage.getItem("shoebox-grid") === "square") document.documentElement.classList.add("square-grid"); } catch (e) { /* private mode */ }
}

// Photo page: swipe left/right for older/newer; a Live Photo plays its motion while the
// LIVE badge is pressed or the still is hovered.
function wirePhoto() {
  const stage = document.querySelector("figure.stage");
  if (!stage) return;
  let start = null;
  stage.addEventListener("touchstart", (e) => { if (e.touches.length === 1) start = { x: e.touches[0].clientX, y: e.touches[0].clientY }; }, { passive: true });
  stage.addEventListener("touchend", (e) => {
    if (!start || e.changedTouches.length !== 1) return;
    const dx = e.changedTouches[0].clientX - start.x;
    const dy = e.changedTouches[0].clientY - start.y;
    start = null;
    if (Math.abs(dx) < 60 || Math.abs(dy) > Math.abs(dx) / 2) return;
    const link = document.querySelector(dx < 0 ? 'a[rel="next"][data-key]' : 'a[rel="prev"][data-key]');
    if (link) link.click();
  });
  const live = stage.dataset.live;
  const still = stage.querySelector("img");
  if (!live || !still) return;
  const motion = document.createElement("video");
  motion.className = "motion";
  motion.muted = true;
  motion.playsInline = true;
  motion.preload = "none";
  motion.src = live;
  motion.setAttribute("aria-hidden", "true");
  const badge = document.createElement("button");
  badge.type = "button";
  badge.className = "live-badge";
  badge.textContent = "LIVE";
  badge.setAttribute("aria-label", "Play the Live Photo's motion (press and hold)");
  const play = () => { stage.classList.add("playing"); motion.currentTime = 0; motion.play().catch(() => {}); };
  const stop = () => { stage.classList.remove("playing"); motion.pause(); };
  motion.addEventListener("ended", stop);
  badge.addEventListener("pointerdown", (e) => { e.preventDefault(); play(); });
  ["pointerup", "pointerleave", "pointercancel"].forEach((t) => badge.addEventListener(t, stop));
  badge.addEventListener("keydown", (e) => { if (e.key === " " || e.key === "Enter") { e.preventDefault(); play(); } });
  badge.addEventListener("keyup", stop);
  still.addEventListener("mouseenter", play);
  still.addEventListener("mouseleave", stop);
  // Long press on the still itself, as on a phone.
  let timer = null;
  still.addEventListener("touchstart", () => { timer = setTimeout(play, 250); }, { passive: true });
  ["touchend", "touchcancel"].forEach((t) => still.addEventListener(t, () => { clearTimeout(timer); stop(); }));
  stage.append(motion);
  stage.prepend(badge);
  const fallback = stage.querySelector("details.motion");
  if (fallback) fallback.closest("figcaption").hidden = true;
}

applyGridPreference();
document.addEventListener("DOMContentLoaded", () => {
  wirePasswords();
  wireStatus();
  wireKeys();
  wireInfiniteScroll();
  wireScrubber();
  wireSelection();
  wirePhoto();
});
