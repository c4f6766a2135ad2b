//! Announces the device on the LAN: `<device_name>.local` resolves to this box, and an
//! `_http._tcp` service named after the device points browsers and apps at the web UI.
//!
//! mdns-sd runs its own thread and follows interface changes (addresses are auto-detected
//! and re-checked every few seconds), so an announcer started before the network is up
//! starts answering once an interface appears. Loopback is not announced.

use std::fs;
use std::path::Path;
use std::time::Duration;

use mdns_sd::{IfKind, ServiceDaemon, ServiceInfo};

use super::error::{Error, Result};
use super::settings::valid_device_name;

/// The service type announced.
pub const SERVICE_TYPE: &str = "_http._tcp.local.";
/// The standard mDNS port.
const MDNS_PORT: u16 = 5353;
/// How long drop waits for each of unregister (goodbye packets) and daemon shutdown.
const STOP_WAIT: Duration = Duration::from_secs(1);

/// A running announcement; dropping it sends goodbyes and stops the responder.
pub struct Announcer {
    daemon: Option<ServiceDaemon>,
    fullname: String,
    hostname: String,
}

impl std::fmt::Debug for Announcer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Announcer")
            .field("fullname", &self.fullname)
            .field("hostname", &self.hostname)
            .finish_non_exhaustive()
    }
}

impl Announcer {
    /// The service instance's full name, e.g. `shoebox._http._tcp.local.`.
    pub fn fullname(&self) -> &str {
        &self.fullname
    }

    /// The announced host name, e.g. `shoebox.local.`.
    pub fn hostname(&self) -> &str {
        &self.hostname
    }
}

impl Drop for Announcer {
    fn drop(&mut self) {
        let Some(daemon) = self.daemon.take() else {
            return;
        };
        match daemon.unregister(&self.fullname) {
            Ok(done) => {
                if done.recv_timeout(STOP_WAIT).is_err() {
                    tracing::debug!("mDNS unregister of {} did not confirm", self.fullname);
                }
            }
            Err(e) => tracing::debug!("mDNS unregister of {}: {e}", self.fullname),
        }
        match daemon.shutdown() {
            Ok(done) => {
                let _ = done.recv_timeout(STOP_WAIT);
            }
            Err(e) => tracing::debug!("mDNS shutdown: {e}"),
        }
    }
}

/// Announces `<device_name>.local.` and an `_http._tcp` instance named `device_name` on
/// `port`, on every non-loopback interface.
///
/// Fails with [`Error::InvalidDeviceName`] for a name that is not a DNS label and with
/// [`Error::Mdns`] when the responder cannot start. No multicast-capable interface is not an
/// error: a warning is logged and the name is announced once one comes up.
pub fn announce(device_name: &str, port: u16) -> Result<Announcer> {
    announce_on(device_name, port, MDNS_PORT)
}

fn announce_on(device_name: &str, port: u16, mdns_port: u16) -> Result<Announcer> {
    if !valid_device_name(device_name) {
        return Err(Error::InvalidDeviceName(device_name.to_owned()));
    }
    if multicast_interfaces(Path::new("/sys/class/net")) == Some(0) {
        tracing::warn!(
            "no multicast-capable network interface is up; {device_name}.local will be \
             announced once one is"
        );
    }
    let hostname = format!("{device_name}.local.");
    let info = ServiceInfo::new(
        SERVICE_TYPE,
        device_name,
        &hostname,
        (),
        port,
        &[("path", "/")][..],
    )
    .map_err(Error::mdns("service record"))?
    .enable_addr_auto();
    let daemon = ServiceDaemon::new_with_port(mdns_port).map_err(Error::mdns("start"))?;
    // From here on, dropping the announcer stops the daemon thread on every error path.
    let mut announcer = Announcer {
        daemon: None,
        fullname: info.get_fullname().to_owned(),
        hostname,
    };
    let daemon = announcer.daemon.insert(daemon);
    daemon
        .disable_interface(vec![IfKind::LoopbackV4, IfKind::LoopbackV6])
        .map_err(Error::mdns("interface selection"))?;
    daemon.register(info).map_err(Error::mdns("register"))?;
    tracing::info!("announcing {} on mDNS", announcer.fullname);
    Ok(announcer)
}

/// Interfaces that are up, not loopback and multicast-capable, from sysfs `flags`;
/// `None` where sysfs has no network class (not Linux).
fn multicast_interfaces(class: &Path) -> Option<usize> {
    const IFF_UP: u32 = 0x1;
    const IFF_LOOPBACK: u32 = 0x8;
    const IFF_MULTICAST: u32 = 0x1000;
    let count = fs::read_dir(class)
        .ok()?
        .flatten()
        .filter_map(|entry| fs::read_to_string(entry.path().join("flags")).ok())
        .filter_map(|flags| u32::from_str_radix(flags.trim().trim_start_matches("0x"), 16).ok())
        .filter(|f| f & IFF_UP != 0 && f & IFF_LOOPBACK == 0 && f & IFF_MULTICAST != 0)
        .count();
    Some(count)
}

#[cfg(test)]
#[path = "mdns_tests.rs"]
mod tests;
