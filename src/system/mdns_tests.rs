//! mDNS tests. The end-to-end one needs working multicast; where the sandbox has none it
//! says so and proves only that announcing neither hangs nor panics.

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
    let rx =
        UdpSocket::bind(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0)).map_err(|e| e.to_string())?;
    rx.join_multicast_v4(&group, &Ipv4Addr::UNSPECIFIED)
        .map_err(|e| format!("join group: {e}"))?;
    rx.set_read_timeout(Some(Duration::from_secs(2)))
        .map_err(|e| e.to_string())?;
    let port = rx.local_addr().map_err(|e| e.to_string())?.port();
    let tx =
        UdpSocket::bind(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0)).map_err(|e| e.to_string())?;
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
    let deadline = Instant::now() + Duration::from_secs(15);
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
