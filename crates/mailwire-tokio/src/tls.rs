//! rustls configuration: the `ring` crypto provider, certificates and keys from PEM files,
//! server and client configurations.
//!
//! Every configuration here is built with an explicit provider from [`crypto_provider`]:
//! nothing depends on a process-wide default provider being installed.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls_pki_types::pem::{self, PemObject};
use tokio_rustls::rustls::client::danger::{
    HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier,
};
use tokio_rustls::rustls::crypto::{
    CryptoProvider, verify_tls12_signature, verify_tls13_signature,
};
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use tokio_rustls::rustls::{
    self, ClientConfig, DigitallySignedStruct, RootCertStore, ServerConfig, SignatureScheme,
};

/// Why a TLS configuration could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsConfigError {
    /// A PEM file could not be read or parsed.
    #[error("{path}: {source}")]
    Pem {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        #[source]
        source: pem::Error,
    },
    /// A certificate file holds no certificate.
    #[error("{0}: no certificate found")]
    NoCertificates(PathBuf),
    /// rustls refused the certificates, key or settings.
    #[error("TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
}

/// The crypto provider every configuration of this crate uses: rustls' `ring` provider,
/// made explicitly (no process-wide default is assumed or installed).
pub fn crypto_provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Reads every certificate of a PEM file (the server's certificate first, then its
/// chain; or CA certificates).
pub fn load_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsConfigError> {
    let pem_error = |source| TlsConfigError::Pem {
        path: path.to_owned(),
        source,
    };
    let certificates = CertificateDer::pem_file_iter(path)
        .map_err(pem_error)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(pem_error)?;
    if certificates.is_empty() {
        return Err(TlsConfigError::NoCertificates(path.to_owned()));
    }
    Ok(certificates)
}

/// Reads the first private key (PKCS#8, PKCS#1 or SEC1) of a PEM file.
pub fn load_private_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsConfigError> {
    PrivateKeyDer::from_pem_file(path).map_err(|source| TlsConfigError::Pem {
        path: path.to_owned(),
        source,
    })
}

/// A server configuration with this certificate chain and key, TLS 1.2 and 1.3, no client
/// certificates. Use it for STARTTLS and implicit TLS alike.
pub fn server_config(
    certificates: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<Arc<ServerConfig>, TlsConfigError> {
    let config = ServerConfig::builder_with_provider(crypto_provider())
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(certificates, key)?;
    Ok(Arc::new(config))
}

/// [`server_config`] from a certificate chain PEM file and a private key PEM file.
pub fn server_config_from_pem_files(
    certificate_file: &Path,
    key_file: &Path,
) -> Result<Arc<ServerConfig>, TlsConfigError> {
    server_config(
        load_certificates(certificate_file)?,
        load_private_key(key_file)?,
    )
}

/// Which servers a client trusts.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum ClientTlsOptions {
    /// The Mozilla root certificates compiled into this crate (`webpki-roots`): what a
    /// mail client talking to public servers wants.
    WebPkiRoots,
    /// The CA certificates of a PEM file (a private CA, or a self-signed server
    /// certificate).
    CaFile(PathBuf),
    /// These CA certificates.
    CaCertificates(Vec<CertificateDer<'static>>),
    /// A ready configuration, used as it is.
    Config(Arc<ClientConfig>),
    /// **No verification at all**: any certificate for any name is accepted (see
    /// [`DangerousAcceptAnyCertificate`]). For tests and `--insecure` only: a connection
    /// made so is open to any active attacker.
    Insecure,
}

/// A client configuration trusting what `options` says, TLS 1.2 and 1.3, no client
/// certificate.
pub fn client_config(options: &ClientTlsOptions) -> Result<Arc<ClientConfig>, TlsConfigError> {
    let provider = crypto_provider();
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?;
    let mut roots = RootCertStore::empty();
    match options {
        ClientTlsOptions::Config(config) => return Ok(config.clone()),
        ClientTlsOptions::Insecure => {
            let config = builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(DangerousAcceptAnyCertificate {
                    provider,
                }))
                .with_no_client_auth();
            return Ok(Arc::new(config));
        }
        ClientTlsOptions::WebPkiRoots => {
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        }
        ClientTlsOptions::CaFile(path) => {
            for certificate in load_certificates(path)? {
                roots.add(certificate)?;
            }
        }
        ClientTlsOptions::CaCertificates(certificates) => {
            for certificate in certificates {
                roots.add(certificate.clone())?;
            }
        }
    }
    Ok(Arc::new(
        builder.with_root_certificates(roots).with_no_client_auth(),
    ))
}

/// A certificate verifier that accepts **every** server certificate, for every name,
/// expired or self-signed. It still checks that the server holds the key of the
/// certificate it sent (the handshake signatures), which protects nothing against an
/// attacker who sends their own certificate.
///
/// For tests and an explicit `--insecure` flag only. Reach it through
/// [`ClientTlsOptions::Insecure`].
#[derive(Debug)]
pub struct DangerousAcceptAnyCertificate {
    provider: Arc<CryptoProvider>,
}

impl DangerousAcceptAnyCertificate {
    /// The verifier, checking handshake signatures with [`crypto_provider`].
    pub fn new() -> Self {
        DangerousAcceptAnyCertificate {
            provider: crypto_provider(),
        }
    }
}

impl Default for DangerousAcceptAnyCertificate {
    fn default() -> Self {
        DangerousAcceptAnyCertificate::new()
    }
}

impl ServerCertVerifier for DangerousAcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}
