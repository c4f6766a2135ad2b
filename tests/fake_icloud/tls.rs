//! The fake under Apple's real host names, for clients that cannot be pointed elsewhere
//! (icloudpd hard-codes its hosts): a throwaway CA, one leaf certificate with every name the
//! fake answers for, and an HTTPS accept loop over the same router as the plain server.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::rustls::{self, ServerConfig};

/// Apple's names the fake answers for: sign-in, setup, the web origin, the CloudKit database
/// host it advertises in `webservices` and the content host of its download URLs.
pub const HOSTS: &[&str] = &[
    "idmsa.apple.com",
    "setup.icloud.com",
    "www.icloud.com",
    CK_HOST,
    CONTENT_HOST,
];
pub const CK_HOST: &str = "p61-ckdatabasews.icloud.com";
pub const CONTENT_HOST: &str = "cvws.icloud-content.com";

/// A fresh CA (PEM, for the clients' trust stores) and a server config whose leaf certificate
/// it signed.
pub fn make_certs() -> (String, Arc<ServerConfig>) {
    make_certs_for(HOSTS)
}

/// A throwaway CA and a leaf it signed, all PEM: for servers that read files (aiosmtpd).
pub struct Certs {
    /// The CA certificate, for the client's trust store.
    pub ca: String,
    /// The leaf certificate followed by the CA's.
    pub chain: String,
    /// The leaf's private key (PKCS #8).
    pub key: String,
    leaf_der: Vec<u8>,
    ca_der: Vec<u8>,
    key_der: Vec<u8>,
}

/// A fresh CA and a leaf certificate naming `hosts`.
pub fn make_pem_for(hosts: &[&str]) -> Certs {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "shoebox fake iCloud test CA");
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca, ca_key);

    let leaf_key = KeyPair::generate().unwrap();
    let mut leaf =
        CertificateParams::new(hosts.iter().map(|h| (*h).to_string()).collect::<Vec<_>>()).unwrap();
    leaf.distinguished_name
        .push(DnType::CommonName, "setup.icloud.com");
    leaf.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    // OpenSSL's strict mode (Python ≥ 3.13) wants the authority key id on a CA-issued leaf.
    leaf.use_authority_key_identifier_extension = true;
    let leaf_cert = leaf.signed_by(&leaf_key, &issuer).unwrap();
    Certs {
        ca: ca_cert.pem(),
        chain: format!("{}{}", leaf_cert.pem(), ca_cert.pem()),
        key: leaf_key.serialize_pem(),
        leaf_der: leaf_cert.der().to_vec(),
        ca_der: ca_cert.der().to_vec(),
        key_der: leaf_key.serialize_der(),
    }
}

/// A fresh CA (PEM) and a server config for a leaf certificate naming `hosts`.
pub fn make_certs_for(hosts: &[&str]) -> (String, Arc<ServerConfig>) {
    let certs = make_pem_for(hosts);
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![
                CertificateDer::from(certs.leaf_der),
                CertificateDer::from(certs.ca_der),
            ],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(certs.key_der)),
        )
        .unwrap();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    (certs.ca, Arc::new(config))
}

/// Serves `app` over TLS on `listener` until the runtime stops.
pub async fn serve(listener: tokio::net::TcpListener, config: Arc<ServerConfig>, app: Router) {
    let acceptor = TlsAcceptor::from(config);
    loop {
        let Ok((tcp, _peer)): Result<(_, SocketAddr), _> = listener.accept().await else {
            continue;
        };
        tcp.set_nodelay(true).ok();
        let acceptor = acceptor.clone();
        let app = app.clone();
        tokio::spawn(async move {
            let Ok(tls) = acceptor.accept(tcp).await else {
                return;
            };
            Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(tls), TowerToHyperService::new(app))
                .await
                .ok();
        });
    }
}
