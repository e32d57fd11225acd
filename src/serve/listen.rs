//! The server's listener: TCP, optionally TLS (rustls, a certificate and key from PEM
//! files), HTTP/1.1 through hyper with a time limit on reading a request's headers (and on
//! a TLS handshake), at most `max_connections` connections at once, and a graceful end that
//! lets requests in flight finish.

use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::diagnostics::{codes, Diag};

/// How the listener treats connections.
#[derive(Clone)]
pub struct Listening {
    /// TLS, when the server has a certificate.
    pub tls: Option<tokio_rustls::TlsAcceptor>,
    /// Connections served at once; more wait in the kernel's queue.
    pub max_connections: usize,
    /// The longest a client may take to send a request's headers (or its TLS handshake).
    pub header_timeout: Duration,
}

/// The TLS setup of a certificate chain and its private key (PEM files).
pub fn tls_acceptor(cert: &Path, key: &Path) -> Result<tokio_rustls::TlsAcceptor, Diag> {
    let bad = |what: &Path, why: String| {
        Diag::new(codes::E803_LISTEN, format!("{}: {why}", what.display()))
    };
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| bad(cert, format!("cannot read the certificate ({e})")))?
        .collect::<Result<_, _>>()
        .map_err(|e| bad(cert, format!("not a PEM certificate chain ({e})")))?;
    if chain.is_empty() {
        return Err(bad(cert, "holds no PEM certificate".into()));
    }
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| bad(key, format!("not a PEM private key ({e})")))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| bad(cert, e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| {
            bad(
                cert,
                format!("the certificate and key do not make a TLS identity ({e})"),
            )
        })?;
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}

/// Serves `app` on `listener` until `drained` completes, then lets the connections in
/// flight end their requests (for at most `grace`).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    listening: Listening,
    drained: impl Future<Output = ()>,
    grace: Duration,
) {
    let graceful = GracefulShutdown::new();
    let permits = Arc::new(Semaphore::new(listening.max_connections.max(1)));
    tokio::pin!(drained);
    loop {
        let permit = tokio::select! {
            permit = Arc::clone(&permits).acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
            () = &mut drained => break,
        };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(_) => {
                    // out of descriptors or a connection reset before it was taken
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut drained => break,
        };
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(app.clone());
        let watcher = graceful.watcher();
        let listening = listening.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let mut http = hyper::server::conn::http1::Builder::new();
            http.timer(TokioTimer::new())
                .header_read_timeout(listening.header_timeout)
                .keep_alive(true);
            match &listening.tls {
                Some(acceptor) => {
                    let handshake =
                        tokio::time::timeout(listening.header_timeout, acceptor.accept(stream))
                            .await;
                    if let Ok(Ok(tls)) = handshake {
                        let conn = http.serve_connection(TokioIo::new(tls), service);
                        let _ = watcher.watch(conn).await;
                    }
                }
                None => {
                    let conn = http.serve_connection(TokioIo::new(stream), service);
                    let _ = watcher.watch(conn).await;
                }
            }
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(grace) => {}
    }
}
