//! The appliance itself: wizard-edited settings, health figures, disks and folders, the
//! mDNS announcement and the time-zone list.
//!
//! May import nothing from the crate (it sits beside `library` and only talks to the OS,
//! sysinfo, mdns-sd and its own redb table). Owns the `system.settings` table. Invariants:
//! settings are read and written whole, in one transaction each, with a version byte in front;
//! once the setup wizard reached `Done` it never reopens; folder listings never leave the
//! allowed roots, judged after symlinks and `..` are resolved.

pub mod disks;
mod error;
pub mod info;
pub mod mdns;
pub mod settings;
mod timezone;

pub use error::{Error, Result};
pub use info::{Probe, SystemInfo};
pub use settings::{Settings, SettingsStore, SetupStep};
pub use timezone::timezones;
