//! TLS to a PostgreSQL store (rustls): `sslmode` in the store URL says how, as libpq reads
//! it — `disable` (plain), `prefer` (the default: TLS when the server offers it) and
//! `require` (TLS or nothing) encrypt without checking the server's certificate, as libpq
//! does; `verify-ca` and `verify-full` check it against the platform's roots and the file
//! of `sslrootcert=`, and the host name (both are checked as `verify-full`).

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use tokio_postgres_rustls::MakeRustlsConnect;

/// A store URL ready for the driver, and the TLS it asks for: `sslmode=verify-…` and
/// `sslrootcert=` are Sluice's to read (the driver knows only `disable`, `prefer` and
/// `require`), so they are taken out and the mode given as `require`.
pub fn tls_for(url: &str) -> Result<(String, MakeRustlsConnect), String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?;
    let unchecked =
        |builder: rustls::ConfigBuilder<rustls::ClientConfig, rustls::WantsVerifier>| {
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(Unchecked(Arc::clone(&provider))))
                .with_no_client_auth()
        };
    let Ok(mut parsed) = url::Url::parse(url) else {
        // a `key=value` connection string: the driver's own modes
        return Ok((url.to_string(), MakeRustlsConnect::new(unchecked(builder))));
    };
    let pairs: Vec<(String, String)> = parsed
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let mode = pairs
        .iter()
        .find(|(k, _)| k == "sslmode")
        .map(|(_, v)| v.clone());
    let root_file = pairs
        .iter()
        .find(|(k, _)| k == "sslrootcert")
        .map(|(_, v)| v.clone());
    let verify = matches!(mode.as_deref(), Some("verify-full" | "verify-ca"));
    let kept: Vec<(String, String)> = pairs
        .into_iter()
        .filter(|(k, _)| k != "sslrootcert" && !(verify && k == "sslmode"))
        .chain(verify.then(|| ("sslmode".to_string(), "require".to_string())))
        .collect();
    if kept.is_empty() {
        parsed.set_query(None);
    } else {
        parsed.query_pairs_mut().clear().extend_pairs(kept);
    }
    let config = if verify {
        let mut roots = rustls::RootCertStore::empty();
        for cert in rustls_native_certs::load_native_certs().certs {
            let _ = roots.add(cert);
        }
        if let Some(file) = root_file {
            let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&file)
                .map_err(|e| format!("sslrootcert {file}: {e}"))?
                .collect::<Result<_, _>>()
                .map_err(|e| format!("sslrootcert {file}: not PEM certificates ({e})"))?;
            for cert in certs {
                roots
                    .add(cert)
                    .map_err(|e| format!("sslrootcert {file}: {e}"))?;
            }
        }
        builder.with_root_certificates(roots).with_no_client_auth()
    } else {
        unchecked(builder)
    };
    Ok((parsed.to_string(), MakeRustlsConnect::new(config)))
}

/// `prefer` and `require` as libpq means them: the connection is encrypted, the server's
/// certificate is not checked (its signatures over the handshake are).
#[derive(Debug)]
struct Unchecked(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for Unchecked {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
