//! Partials shared by pages: form fields, cards, progress bars, byte sizes.

use maud::{Markup, html};

/// Partial: the hidden CSRF field every form carries.
pub fn csrf(token: &str) -> Markup {
    html! { input type="hidden" name="csrf" value=(token); }
}

/// Partial: a labelled text-like input.
pub fn field(label: &str, name: &str, kind: &str, value: &str, hint: Option<&str>) -> Markup {
    let id = format!("f-{name}");
    let hint_id = format!("{id}-hint");
    html! {
        div.field {
            label for=(id) { (label) }
            input id=(id) name=(name) type=(kind) value=(value)
                aria-describedby=[hint.map(|_| hint_id.as_str())]
                autocomplete=(autocomplete(name, kind)) required;
            @if let Some(h) = hint { small id=(hint_id) { (h) } }
        }
    }
}

fn autocomplete(name: &str, kind: &str) -> &'static str {
    match (name, kind) {
        ("name", _) => "username",
        (_, "password") if name == "password" => "current-password",
        (_, "password") => "new-password",
        _ => "off",
    }
}

/// Partial: a password field that gets a live strength meter when JavaScript runs.
pub fn new_password(label: &str, name: &str, hint: Option<&str>) -> Markup {
    let id = format!("f-{name}");
    html! {
        div.field {
            label for=(id) { (label) }
            input id=(id) name=(name) type="password" autocomplete="new-password" minlength="8" required data-strength="1";
            meter.strength min="0" max="4" low="2" high="3" optimum="4" value="0" hidden {}
            small.strength-hint { (hint.unwrap_or("At least 8 characters; a few unrelated words make a strong one.")) }
        }
    }
}

/// Partial: a card with a title and content.
pub fn card(title: &str, badge: Option<&str>, body: &Markup) -> Markup {
    html! {
        section.card {
            h2 { (title) @if let Some(b) = badge { " " span.badge { (b) } } }
            (body)
        }
    }
}

#[allow(clippy::cast_sign_loss)] // a rate is never negative
/// Partial: a job's progress: bar, counts, rate and time left, updated live by `app.js`.
pub fn job(job: &crate::jobs::Snapshot) -> Markup {
    let pct = percent(job.items_done, job.items_total);
    html! {
        div.job data-job=(job.id) {
            div.job-head {
                strong { (job.name) }
                span.job-state { @if job.finished { "finished" } @else { "running" } }
            }
            progress max="100" value=(pct) aria-label=(format!("{} progress", job.name)) { (pct) "%" }
            p.job-figures {
                span data-k="items" { (job.items_done) " of " (job.items_total) " files" }
                " · "
                span data-k="bytes" { (bytes(job.bytes_done)) " of " (bytes(job.bytes_total)) }
                " · "
                span data-k="rate" { (bytes(job.rate() as u64)) "/s" }
                @if let Some(eta) = job.eta() { " · " span data-k="eta" { (duration(eta.as_secs())) " left" } }
            }
            @if !job.current.is_empty() && !job.finished { p.job-current data-k="current" { (job.current) } }
            @if !job.recent_errors.is_empty() {
                details.errors {
                    summary { (job.recent_errors.len()) " problem(s)" }
                    ul { @for e in &job.recent_errors { li { (e) } } }
                }
            }
        }
    }
}

/// "1 photo", "3 photos".
pub fn count(n: u64, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// 0..=100, for progress bars.
pub fn percent(done: u64, total: u64) -> u64 {
    (done.min(total) * 100).checked_div(total).unwrap_or(0)
}

/// A byte count for people ("1.4 GiB").
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// Seconds for people ("3 min 20 s").
pub fn duration(secs: u64) -> String {
    match secs {
        0..60 => format!("{secs} s"),
        60..3600 => format!("{} min {} s", secs / 60, secs % 60),
        3600..86400 => format!("{} h {} min", secs / 3600, (secs % 3600) / 60),
        _ => format!("{} days {} h", secs / 86400, (secs % 86400) / 3600),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_sizes_and_durations() {
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(3 * 1024 * 1024 * 1024), "3.0 GiB");
        assert_eq!(duration(59), "59 s");
        assert_eq!(duration(200), "3 min 20 s");
        assert_eq!(duration(90_000), "1 days 1 h");
        assert_eq!(percent(5, 0), 0);
        assert_eq!(percent(7, 5), 100);
    }

    #[test]
    fn fields_escape_values() {
        let html = field("Name", "name", "text", "<script>", None).into_string();
        assert!(html.contains("&lt;script&gt;"));
        assert!(!html.contains("<script>"));
    }
}
