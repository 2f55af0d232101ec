//! Optional HTTPS (`EmulatorConfig::tls`): a CA and a `localhost`/`127.0.0.1` server certificate
//! generated at start (rcgen), served with rustls. Exists for peers that only build `https://` URLs
//! (for example simple-salesforce), so that every client of a benchmark uses the same transport.
//! Clients trust the CA through [`crate::Emulator::tls_ca_pem`] (the binary writes it to a file).

use std::io;
use std::sync::Arc;
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use crate::http::{KillSwitch, KillableListener, KillableStream};

/// Generated certificate material: the CA (PEM, what clients trust) and the rustls server
/// configuration presenting the server certificate signed by it.
pub struct TlsMaterial {
    /// The CA certificate, PEM.
    pub ca_pem: String,
    /// Server configuration (HTTP/1.1 ALPN).
    pub server_config: Arc<rustls::ServerConfig>,
}

fn other(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(format!("sf-org-emulator TLS: {e}"))
}

/// Generates a fresh CA and a server certificate for `localhost` and `127.0.0.1`.
pub fn generate() -> io::Result<TlsMaterial> {
    let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(other)?;
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name.push(DnType::CommonName, "sf-org-emulator test CA");
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().map_err(other)?).map_err(other)?;
    let mut leaf = CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).map_err(other)?;
    leaf.distinguished_name.push(DnType::CommonName, "localhost");
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
    let leaf_key = KeyPair::generate().map_err(other)?;
    let leaf_cert = leaf.signed_by(&leaf_key, &ca).map_err(other)?;
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(other)?
        .with_no_client_auth()
        .with_single_cert(vec![leaf_cert.der().clone(), ca.der().clone()], key)
        .map_err(other)?;
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsMaterial { ca_pem: ca.pem(), server_config: Arc::new(cfg) })
}

/// A [`KillableListener`] whose connections are TLS. Handshakes run on their own tasks (10 s
/// limit each), so a slow client does not hold up others.
pub struct TlsListener {
    rx: mpsc::Receiver<(TlsStream<KillableStream>, KillSwitch)>,
    task: tokio::task::JoinHandle<()>,
}

impl TlsListener {
    /// Starts accepting on `inner` and handshaking with `config`.
    pub fn new(mut inner: KillableListener, config: Arc<rustls::ServerConfig>) -> TlsListener {
        let (tx, rx) = mpsc::channel(64);
        let acceptor = TlsAcceptor::from(config);
        let task = tokio::spawn(async move {
            loop {
                let (stream, switch) = axum::serve::Listener::accept(&mut inner).await;
                let (acceptor, tx) = (acceptor.clone(), tx.clone());
                tokio::spawn(async move {
                    if let Ok(Ok(tls)) = tokio::time::timeout(Duration::from_secs(10), acceptor.accept(stream)).await {
                        let _ = tx.send((tls, switch)).await;
                    }
                });
            }
        });
        TlsListener { rx, task }
    }
}

impl Drop for TlsListener {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<KillableStream>;
    type Addr = KillSwitch;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.rx.recv().await {
            Some(conn) => conn,
            // The accept task only ends when aborted by our own Drop.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Ok(KillSwitch::default())
    }
}

impl axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, TlsListener>> for KillSwitch {
    fn connect_info(stream: axum::serve::IncomingStream<'_, TlsListener>) -> Self {
        stream.remote_addr().clone()
    }
}
