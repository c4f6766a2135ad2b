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
    announce_on(
        device_name,
        port,
        vec![IfKind::LoopbackV4, IfKind::LoopbackV6],
    )
}

/// [`announce`] on every interface except `excluded`.
fn announce_on(device_name: &str, port: u16, excluded: Vec<IfKind>) -> Result<Announcer> {
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
    let daemon = ServiceDaemon::new_with_port(MDNS_PORT).map_err(Error::mdns("start"))?;
    // From here on, dropping the announcer stops the daemon thread on every error path.
    let mut announcer = Announcer {
        daemon: None,
        fullname: info.get_fullname().to_owned(),
        hostname,
    };
    let daemon = announcer.daemon.insert(daemon);
    daemon
        .disable_interface(excluded)
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
mod tests {
    //! The end-to-end test needs working multicast; where the machine has none it says so
    //! and only the no-hang tests apply.

    use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
    use std::time::{Duration, Instant};

    use mdns_sd::{ServiceDaemon, ServiceEvent};

    use super::*;

    fn unique_name() -> String {
        let mut nonce = [0u8; 4];
        getrandom::fill(&mut nonce).unwrap();
        format!("shoebox-test-{:08x}", u32::from_le_bytes(nonce))
    }

    #[test]
    fn announce_and_drop_do_not_hang() {
        let start = Instant::now();
        let announcer = announce(&unique_name(), 8080).unwrap();
        assert!(announcer.fullname().ends_with("._http._tcp.local."));
        assert!(announcer.hostname().ends_with(".local."));
        drop(announcer);
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "{:?}",
            start.elapsed()
        );
    }

    #[test]
    fn announce_without_any_interface_does_not_hang() {
        // As on a board whose network is not up yet: the responder has nothing to send on.
        let start = Instant::now();
        let announcer = announce_on(&unique_name(), 8080, vec![mdns_sd::IfKind::All]).unwrap();
        drop(announcer);
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "{:?}",
            start.elapsed()
        );
    }

    #[test]
    fn invalid_name_refused_before_anything_starts() {
        let err = announce("Not A Label", 8080).unwrap_err();
        assert!(matches!(err, Error::InvalidDeviceName(_)), "{err}");
    }

    #[test]
    fn interface_flags_counted() {
        let dir = tempfile::tempdir().unwrap();
        for (name, flags) in [
            ("lo", "0x9"),
            ("eth0", "0x1003"),
            ("wlan0", "0x1002"),
            ("tun0", "0x91"),
        ] {
            std::fs::create_dir(dir.path().join(name)).unwrap();
            std::fs::write(dir.path().join(name).join("flags"), format!("{flags}\n")).unwrap();
        }
        assert_eq!(multicast_interfaces(dir.path()), Some(1));
        assert_eq!(multicast_interfaces(&dir.path().join("none")), None);
    }

    /// Whether this machine delivers a multicast datagram back to a listener on the same host:
    /// without that, no in-process mDNS test can succeed whatever the code does.
    fn multicast_loops_back() -> Result<(), String> {
        let group = Ipv4Addr::new(239, 255, 77, 77);
        let rx = UdpSocket::bind(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0))
            .map_err(|e| e.to_string())?;
        rx.join_multicast_v4(&group, &Ipv4Addr::UNSPECIFIED)
            .map_err(|e| format!("join group: {e}"))?;
        rx.set_read_timeout(Some(Duration::from_secs(2)))
            .map_err(|e| e.to_string())?;
        let port = rx.local_addr().map_err(|e| e.to_string())?.port();
        let tx = UdpSocket::bind(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0))
            .map_err(|e| e.to_string())?;
        tx.send_to(b"ping", SocketAddrV4::new(group, port))
            .map_err(|e| format!("send to group: {e}"))?;
        let mut buf = [0u8; 8];
        rx.recv(&mut buf)
            .map(|_| ())
            .map_err(|e| format!("no datagram back: {e}"))
    }

    #[test]
    fn second_daemon_resolves_the_announcement() {
        if let Err(why) = multicast_loops_back() {
            println!(
                "skipped: multicast does not loop back on this machine ({why}); only the no-hang test applies"
            );
            return;
        }
        let name = unique_name();
        let announcer = announce(&name, 8123).unwrap();
        let browser = ServiceDaemon::new().unwrap();
        let events = browser.browse(SERVICE_TYPE).unwrap();
        let started = Instant::now();
        let deadline = started + Duration::from_secs(15);
        let mut resolved = None;
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match events.recv_timeout(left) {
                Ok(ServiceEvent::ServiceResolved(service))
                    if service.get_fullname() == announcer.fullname() =>
                {
                    resolved = Some(service);
                    break;
                }
                Ok(_) => {}
                Err(_) => break,
            }
        }
        let _ = browser.shutdown();
        let service = resolved
            .unwrap_or_else(|| panic!("{name} not resolved within 15 s although multicast works"));
        println!(
            "resolved {} at {} port {} in {:?} via {:?}",
            service.get_fullname(),
            service.get_hostname(),
            service.get_port(),
            started.elapsed(),
            service.get_addresses()
        );
        assert_eq!(service.get_port(), 8123);
        assert_eq!(service.get_hostname(), announcer.hostname());
        assert!(
            service
                .get_addresses()
                .iter()
                .all(|ip| !ip.to_ip_addr().is_loopback()),
            "{:?}",
            service.get_addresses()
        );
        assert!(!service.get_addresses().is_empty());
        assert_eq!(service.get_property_val_str("path"), Some("/"));
    }
}
