//! Health figures of the board: load, CPU, temperature, memory, uptime.

use std::fs;
use std::path::Path;

use sysinfo::{
    Components, CpuRefreshKind, MemoryRefreshKind, Pid, ProcessRefreshKind, ProcessesToUpdate,
    System,
};

/// One reading of the board's health.
#[derive(Clone, Debug, PartialEq)]
pub struct SystemInfo {
    /// Load average over 1, 5 and 15 minutes.
    pub load: [f64; 3],
    /// CPU use in percent of all cores since the previous snapshot (0 on the first one).
    pub cpu_percent: f32,
    /// Logical CPUs.
    pub cpu_count: usize,
    /// Hottest CPU/SoC sensor in °C, when the board has one.
    pub temperature_c: Option<f32>,
    /// Installed RAM in bytes.
    pub mem_total: u64,
    /// RAM in use (total minus available) in bytes.
    pub mem_used: u64,
    /// Seconds since boot.
    pub uptime_secs: u64,
    /// Resident memory of this process in bytes (0 if unknown).
    pub process_rss: u64,
    /// Host name, when the OS reports one.
    pub hostname: Option<String>,
}

/// Takes [`SystemInfo`] snapshots; cheap enough to call once a second.
///
/// Refreshes only memory, CPU usage and this one process, never the process list or disks.
pub struct Probe {
    /// `None` on a platform sysinfo does not support; figures are then zero.
    system: Option<System>,
    pid: Option<Pid>,
    /// Loaded on first use, and only when `/sys/class/thermal` has no zone.
    sensors: Sensors,
}

impl Default for Probe {
    fn default() -> Self {
        Self::new()
    }
}

impl Probe {
    /// A probe; the first snapshot's `cpu_percent` is 0 (usage needs two readings).
    pub fn new() -> Self {
        let system = System::new()
            .map_err(|e| tracing::warn!("system figures unavailable: {e}"))
            .ok();
        Self {
            system,
            pid: sysinfo::get_current_pid().ok(),
            sensors: Sensors::Untried,
        }
    }

    /// Reads the current figures.
    pub fn snapshot(&mut self) -> SystemInfo {
        let load = System::load_average()
            .map(|l| [l.one, l.five, l.fifteen])
            .unwrap_or_default();
        let uptime_secs = System::uptime().unwrap_or(0);
        let hostname = System::host_name().ok().filter(|h| !h.is_empty());
        let temperature_c = self.temperature();
        let mut info = SystemInfo {
            load,
            cpu_percent: 0.0,
            cpu_count: std::thread::available_parallelism().map_or(1, usize::from),
            temperature_c,
            mem_total: 0,
            mem_used: 0,
            uptime_secs,
            process_rss: 0,
            hostname,
        };
        let Some(system) = self.system.as_mut() else {
            return info;
        };
        system.refresh_memory_specifics(MemoryRefreshKind::nothing().with_ram());
        system.refresh_cpu_specifics(CpuRefreshKind::nothing().with_usage());
        info.mem_total = system.total_memory();
        info.mem_used = system.used_memory();
        info.cpu_percent = system.global_cpu_usage();
        if !system.cpus().is_empty() {
            info.cpu_count = system.cpus().len();
        }
        if let Some(pid) = self.pid {
            system.refresh_processes_specifics(
                ProcessesToUpdate::Some(&[pid]),
                false,
                ProcessRefreshKind::nothing().with_memory().without_tasks(),
            );
            info.process_rss = system.process(pid).map_or(0, sysinfo::Process::memory);
        }
        info
    }

    /// Hottest CPU/SoC sensor: thermal zones first (a Pi's `cpu-thermal` is zone 0), else
    /// hwmon sensors whose label names a CPU.
    fn temperature(&mut self) -> Option<f32> {
        if let Some(t) = thermal_zones(Path::new("/sys/class/thermal")) {
            return Some(t);
        }
        if matches!(self.sensors, Sensors::Untried) {
            self.sensors =
                Components::new_with_refreshed_list().map_or(Sensors::Unavailable, Sensors::Loaded);
        }
        let Sensors::Loaded(components) = &mut self.sensors else {
            return None;
        };
        components.refresh(false);
        components
            .iter()
            .filter(|c| is_cpu_label(c.label()))
            .filter_map(sysinfo::Component::temperature)
            .filter(|t| t.is_finite())
            .reduce(f32::max)
    }
}

/// The hwmon sensor list, loaded at most once.
enum Sensors {
    Untried,
    Unavailable,
    Loaded(Components),
}

fn is_cpu_label(label: &str) -> bool {
    let label = label.to_ascii_lowercase();
    [
        "cpu", "soc", "core", "package", "k10temp", "coretemp", "tctl",
    ]
    .iter()
    .any(|word| label.contains(word))
}

/// Hottest `thermal_zone*/temp` (millidegrees) whose `type` is a CPU/SoC zone, or any zone
/// when none is typed (old Pi kernels name it `bcm2835_thermal`, hence the `bcm` hint).
fn thermal_zones(root: &Path) -> Option<f32> {
    let mut all = Vec::new();
    let mut cpu = Vec::new();
    for entry in fs::read_dir(root).ok()?.flatten() {
        let name = entry.file_name();
        if !name.to_string_lossy().starts_with("thermal_zone") {
            continue;
        }
        let dir = entry.path();
        let Some(milli) = fs::read_to_string(dir.join("temp"))
            .ok()
            .and_then(|t| t.trim().parse::<i32>().ok())
        else {
            continue;
        };
        let celsius = milli as f32 / 1000.0;
        let kind = fs::read_to_string(dir.join("type")).unwrap_or_default();
        if is_cpu_label(&kind) || kind.contains("bcm") || kind.contains("x86_pkg") {
            cpu.push(celsius);
        }
        all.push(celsius);
    }
    let pick = if cpu.is_empty() { all } else { cpu };
    pick.into_iter().reduce(f32::max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_is_sane() {
        let mut probe = Probe::new();
        let first = probe.snapshot();
        let second = probe.snapshot();
        for info in [&first, &second] {
            assert!(info.mem_total > 0, "{info:?}");
            assert!(info.mem_used <= info.mem_total, "{info:?}");
            assert!(info.uptime_secs > 0, "{info:?}");
            assert!(info.cpu_count >= 1, "{info:?}");
            assert!(info.process_rss > 0, "{info:?}");
            assert!((0.0..=100.0).contains(&info.cpu_percent), "{info:?}");
            assert!(info.load.iter().all(|l| *l >= 0.0), "{info:?}");
        }
    }

    #[test]
    fn hottest_cpu_zone_wins() {
        let dir = tempfile::tempdir().unwrap();
        let zone = |n: u32, kind: &str, milli: &str| {
            let z = dir.path().join(format!("thermal_zone{n}"));
            fs::create_dir(&z).unwrap();
            fs::write(z.join("type"), kind).unwrap();
            fs::write(z.join("temp"), milli).unwrap();
        };
        zone(0, "cpu-thermal\n", "48312\n");
        zone(1, "battery\n", "70000\n");
        zone(2, "soc-thermal\n", "51000\n");
        assert_eq!(thermal_zones(dir.path()), Some(51.0));
    }

    #[test]
    fn untyped_zone_still_counts_and_garbage_is_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let z = dir.path().join("thermal_zone0");
        fs::create_dir(&z).unwrap();
        fs::write(z.join("temp"), "45000").unwrap();
        let bad = dir.path().join("thermal_zone1");
        fs::create_dir(&bad).unwrap();
        fs::write(bad.join("temp"), "n/a").unwrap();
        assert_eq!(thermal_zones(dir.path()), Some(45.0));
        assert_eq!(thermal_zones(&dir.path().join("missing")), None);
    }
}
