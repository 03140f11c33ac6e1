//! TLS for the collector: the push listener's server configuration (client certificate
//! required and verified against the agents' CA), the web listener's optional one, and making
//! certificates (`xunjian-collector certs init|issue`).
//!
//! An agent's identity is the common name of its client certificate; `certs issue` writes it
//! from the agent id, and ingest compares it with the id in each batch.
//!
//! Files written by `certs` (keys 0600, never overwritten):
//! ```text
//! D/ca.pem  D/ca-key.pem  D/server.pem  D/server-key.pem  D/agents/<id>.pem  D/agents/<id>-key.pem
//! ```

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("{}: cannot read: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: {what}", path.display())]
    Pem { path: PathBuf, what: String },
    #[error("TLS configuration: {0}")]
    Rustls(String),
    #[error("{}: already exists; xunjian never overwrites a key or certificate (move it away first if you mean to replace it)", path.display())]
    Exists { path: PathBuf },
    #[error("{}: cannot write: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{}: agent {agent:?} already has a certificate (serial {serial}, valid until {not_after}); if its key may be lost or stolen, revoke it by serial first (xunjian-collector agent --config collector.toml revoke --serial {serial} --reason … --author …), then make its new one with: xunjian-collector certs renew --dir {} --agent {agent}",
        path.display(), dir.display()
    )]
    AgentExists { path: PathBuf, dir: PathBuf, agent: String, serial: String, not_after: String },
    #[error("{}: agent {agent:?} has no certificate to renew; make its first with: xunjian-collector certs issue --dir {} --agent {agent}", path.display(), dir.display())]
    NoCertificate { path: PathBuf, dir: PathBuf, agent: String },
    #[error("certificate generation: {0}")]
    Generate(String),
    #[error("{0}")]
    Invalid(String),
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn read_file(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read { path: path.to_path_buf(), source })
}

fn read_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    parse_certificates(&read_file(path)?, path)
}

/// PEM certificates; `source` names where they came from in errors.
fn parse_certificates(pem: &[u8], source: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certificates: Vec<CertificateDer<'static>> =
        CertificateDer::pem_slice_iter(pem).collect::<Result<_, _>>().map_err(|err| TlsError::Pem {
            path: source.to_path_buf(),
            what: format!("not a PEM certificate file: {err}"),
        })?;
    if certificates.is_empty() {
        return Err(TlsError::Pem { path: source.to_path_buf(), what: "contains no certificate".into() });
    }
    Ok(certificates)
}

fn parse_key(pem: &[u8], source: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    PrivateKeyDer::from_pem_slice(pem)
        .map_err(|err| TlsError::Pem { path: source.to_path_buf(), what: format!("not a PEM private key: {err}") })
}

fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    parse_key(&read_file(path)?, path)
}

/// The push listener: TLS 1.2+, a client certificate chaining to `ca` required.
pub fn push_server_config(ca: &Path, cert: &Path, key: &Path) -> Result<Arc<ServerConfig>, TlsError> {
    build_push_config(read_certificates(ca)?, read_certificates(cert)?, read_key(key)?)
}

/// The same from PEM bytes (the demo's certificates live in memory).
pub fn push_server_config_from_pem(
    ca_pem: &[u8],
    cert_pem: &[u8],
    key_pem: &[u8],
) -> Result<Arc<ServerConfig>, TlsError> {
    let memory = Path::new("(in memory)");
    build_push_config(
        parse_certificates(ca_pem, memory)?,
        parse_certificates(cert_pem, memory)?,
        parse_key(key_pem, memory)?,
    )
}

fn build_push_config(
    ca: Vec<CertificateDer<'static>>,
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<Arc<ServerConfig>, TlsError> {
    let mut roots = RootCertStore::empty();
    for certificate in ca {
        roots
            .add(certificate)
            .map_err(|err| TlsError::Rustls(format!("the CA certificate cannot be a trust anchor: {err}")))?;
    }
    let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider())
        .build()
        .map_err(|err| TlsError::Rustls(err.to_string()))?;
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|err| TlsError::Rustls(err.to_string()))?
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)
        .map_err(|err| TlsError::Rustls(err.to_string()))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// The web listener over HTTPS (no client certificate).
pub fn web_server_config(cert: &Path, key: &Path) -> Result<Arc<ServerConfig>, TlsError> {
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|err| TlsError::Rustls(err.to_string()))?
        .with_no_client_auth()
        .with_single_cert(read_certificates(cert)?, read_key(key)?)
        .map_err(|err| TlsError::Rustls(err.to_string()))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// What `certs init` wrote.
pub struct InitOutcome {
    pub ca: PathBuf,
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
}

/// Makes a CA and a server certificate for `hosts` (names or IP addresses) in `dir`.
pub fn certs_init(dir: &Path, hosts: &[String]) -> Result<InitOutcome, TlsError> {
    let hosts: Vec<String> =
        if hosts.is_empty() { vec!["localhost".into(), "127.0.0.1".into()] } else { hosts.to_vec() };
    std::fs::create_dir_all(dir).map_err(|source| TlsError::Write { path: dir.to_path_buf(), source })?;
    let paths = [dir.join("ca.pem"), dir.join("ca-key.pem"), dir.join("server.pem"), dir.join("server-key.pem")];
    for path in &paths {
        if path.exists() {
            return Err(TlsError::Exists { path: path.clone() });
        }
    }
    let generate = |err: rcgen::Error| TlsError::Generate(err.to_string());
    let ca_key = KeyPair::generate().map_err(generate)?;
    let ca_params = ca_params(CA_NAME);
    let ca_cert = ca_params.self_signed(&ca_key).map_err(generate)?;
    let issuer = Issuer::new(ca_params, ca_key);

    let mut server = CertificateParams::new(hosts.clone()).map_err(generate)?;
    server.distinguished_name.push(DnType::CommonName, hosts[0].as_str());
    server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    server.not_before = rcgen::date_time_ymd(2024, 1, 1);
    server.not_after = rcgen::date_time_ymd(2036, 1, 1);
    let server_key = KeyPair::generate().map_err(generate)?;
    let server_cert = server.signed_by(&server_key, &issuer).map_err(generate)?;

    write_new(&paths[0], ca_cert.pem().as_bytes(), false)?;
    write_new(&paths[1], issuer.key().serialize_pem().as_bytes(), true)?;
    write_new(&paths[2], server_cert.pem().as_bytes(), false)?;
    write_new(&paths[3], server_key.serialize_pem().as_bytes(), true)?;
    Ok(InitOutcome { ca: paths[0].clone(), server_cert: paths[2].clone(), server_key: paths[3].clone() })
}

/// What `certs issue` and `certs renew` wrote.
#[derive(Debug)]
pub struct IssueOutcome {
    pub cert: PathBuf,
    pub key: PathBuf,
    /// The certificate's serial number, hex: what `agent revoke --serial` takes.
    pub serial: Option<String>,
    /// When it expires.
    pub not_after: Option<jiff::Timestamp>,
    /// The replaced certificate's serial (`renew`), and where the old files went.
    pub replaced: Option<(String, PathBuf)>,
}

/// Agent certificates last two years by default: long enough not to be a chore, short enough
/// that a forgotten stolen key stops working.
pub const DEFAULT_AGENT_CERT_DAYS: u32 = 730;

/// Makes agent `agent_id`'s first client certificate and key, valid `days`, signed by the CA in
/// `dir`. An agent that has one already is refused, with its serial and what to do.
pub fn certs_issue(dir: &Path, agent_id: &str, days: u32) -> Result<IssueOutcome, TlsError> {
    xunjian_shared::config::agent::AgentId::parse(agent_id).map_err(TlsError::Invalid)?;
    let (cert_path, key_path) = agent_paths(dir, agent_id);
    if cert_path.exists() {
        let (serial, not_after) = serial_and_expiry(&cert_path)?;
        return Err(TlsError::AgentExists {
            path: cert_path,
            dir: dir.to_path_buf(),
            agent: agent_id.to_string(),
            serial,
            not_after,
        });
    }
    if key_path.exists() {
        return Err(TlsError::Exists { path: key_path });
    }
    issue(dir, agent_id, days, None)
}

/// Replaces agent `agent_id`'s certificate and key with new ones valid `days` (before it
/// expires, or after revoking a lost one). The old files move to `agents/retired/`.
pub fn certs_renew(dir: &Path, agent_id: &str, days: u32) -> Result<IssueOutcome, TlsError> {
    xunjian_shared::config::agent::AgentId::parse(agent_id).map_err(TlsError::Invalid)?;
    let (cert_path, key_path) = agent_paths(dir, agent_id);
    if !cert_path.exists() {
        return Err(TlsError::NoCertificate { path: cert_path, dir: dir.to_path_buf(), agent: agent_id.to_string() });
    }
    let (serial, _) = serial_and_expiry(&cert_path)?;
    let retired = dir.join("agents").join("retired");
    std::fs::create_dir_all(&retired).map_err(|source| TlsError::Write { path: retired.clone(), source })?;
    let old_cert = retired.join(format!("{agent_id}-{serial}.pem"));
    let old_key = retired.join(format!("{agent_id}-{serial}-key.pem"));
    for (from, to) in [(&cert_path, &old_cert), (&key_path, &old_key)] {
        if from.exists() {
            if to.exists() {
                return Err(TlsError::Exists { path: to.clone() });
            }
            std::fs::rename(from, to).map_err(|source| TlsError::Write { path: to.clone(), source })?;
        }
    }
    issue(dir, agent_id, days, Some((serial, old_cert)))
}

fn agent_paths(dir: &Path, agent_id: &str) -> (PathBuf, PathBuf) {
    let agents = dir.join("agents");
    (agents.join(format!("{agent_id}.pem")), agents.join(format!("{agent_id}-key.pem")))
}

fn serial_and_expiry(cert_path: &Path) -> Result<(String, String), TlsError> {
    let certificate = read_certificates(cert_path)?.remove(0);
    let serial = xunjian_shared::x509::serial_hex(&certificate).unwrap_or_else(|| "?".into());
    let not_after = xunjian_shared::x509::not_after(&certificate).map(|t| t.to_string()).unwrap_or_else(|| "?".into());
    Ok((serial, not_after))
}

fn issue(dir: &Path, agent_id: &str, days: u32, replaced: Option<(String, PathBuf)>) -> Result<IssueOutcome, TlsError> {
    let ca_path = dir.join("ca.pem");
    let ca_key_path = dir.join("ca-key.pem");
    let ca_certificates = read_certificates(&ca_path)?;
    let ca_name = xunjian_shared::x509::subject_common_name(&ca_certificates[0]).ok_or_else(|| TlsError::Pem {
        path: ca_path.clone(),
        what: "the CA certificate has no common name; was it made by xunjian-collector certs init?".into(),
    })?;
    let ca_key_pem =
        std::fs::read_to_string(&ca_key_path).map_err(|source| TlsError::Read { path: ca_key_path.clone(), source })?;
    let generate = |err: rcgen::Error| TlsError::Generate(err.to_string());
    let ca_key = KeyPair::from_pem(&ca_key_pem)
        .map_err(|err| TlsError::Pem { path: ca_key_path.clone(), what: format!("not a PEM private key: {err}") })?;
    // The issuer is rebuilt from the CA's name and key: the same name and key identifier
    // that `certs init` used, so the chain verifies.
    let issuer = Issuer::new(ca_params(&ca_name), ca_key);
    let agents = dir.join("agents");
    std::fs::create_dir_all(&agents).map_err(|source| TlsError::Write { path: agents.clone(), source })?;
    let (cert_path, key_path) = agent_paths(dir, agent_id);
    let (cert_pem, key_pem) = client_certificate(&issuer, agent_id, days).map_err(generate)?;
    write_new(&cert_path, cert_pem.as_bytes(), false)?;
    write_new(&key_path, key_pem.as_bytes(), true)?;
    let der = {
        use rustls_pki_types::pem::PemObject as _;
        rustls_pki_types::CertificateDer::from_pem_slice(cert_pem.as_bytes()).ok()
    };
    Ok(IssueOutcome {
        cert: cert_path,
        key: key_path,
        serial: der.as_ref().and_then(|der| xunjian_shared::x509::serial_hex(der)),
        not_after: der.as_ref().and_then(|der| xunjian_shared::x509::not_after(der)),
        replaced,
    })
}

const CA_NAME: &str = "xunjian CA";

fn ca_params(name: &str) -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name.push(DnType::CommonName, name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    params.not_before = rcgen::date_time_ymd(2024, 1, 1);
    params.not_after = rcgen::date_time_ymd(2046, 1, 1);
    params
}

/// An agent's client certificate (CN = agent id) and key, PEM, valid from yesterday (clocks
/// differ) for `days`.
pub fn client_certificate(
    issuer: &Issuer<'_, KeyPair>,
    agent_id: &str,
    days: u32,
) -> Result<(String, String), rcgen::Error> {
    let mut params = CertificateParams::new(vec![agent_id.to_string()])?;
    params.distinguished_name.push(DnType::CommonName, agent_id);
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let today = jiff::Timestamp::now().to_zoned_datetime(jiff::tz::TimeZone::UTC).date();
    let day =
        |date: jiff::civil::Date| rcgen::date_time_ymd(i32::from(date.year()), date.month() as u8, date.day() as u8);
    params.not_before = day(today.yesterday().unwrap_or(today));
    params.not_after = day(today.checked_add(jiff::Span::new().days(i64::from(days))).unwrap_or(today));
    let key = KeyPair::generate()?;
    let cert = params.signed_by(&key, issuer)?;
    Ok((cert.pem(), key.serialize_pem()))
}

/// Throw-away certificates in memory, for the demo and tests: a CA, a server certificate for
/// loopback and agent certificates on demand.
pub struct EphemeralPki {
    issuer: Issuer<'static, KeyPair>,
    pub ca_pem: String,
    pub server_cert_pem: String,
    pub server_key_pem: String,
}

impl EphemeralPki {
    pub fn new() -> Result<Self, rcgen::Error> {
        let ca_key = KeyPair::generate()?;
        let params = ca_params(CA_NAME);
        let ca_pem = params.self_signed(&ca_key)?.pem();
        let issuer = Issuer::new(params, ca_key);
        let mut server = CertificateParams::new(vec!["localhost".into(), "127.0.0.1".into()])?;
        server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let server_key = KeyPair::generate()?;
        let server_cert_pem = server.signed_by(&server_key, &issuer)?.pem();
        Ok(EphemeralPki { issuer, ca_pem, server_cert_pem, server_key_pem: server_key.serialize_pem() })
    }

    /// An agent's certificate and key, PEM.
    pub fn agent(&self, agent_id: &str) -> Result<(String, String), rcgen::Error> {
        client_certificate(&self.issuer, agent_id, DEFAULT_AGENT_CERT_DAYS)
    }
}

/// Writes a new file (never replacing one); private keys get mode 0600.
fn write_new(path: &Path, contents: &[u8], private: bool) -> Result<(), TlsError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let _ = private;
    let mut file = options.open(path).map_err(|source| match source.kind() {
        std::io::ErrorKind::AlreadyExists => TlsError::Exists { path: path.to_path_buf() },
        _ => TlsError::Write { path: path.to_path_buf(), source },
    })?;
    file.write_all(contents)
        .and_then(|()| file.sync_all())
        .map_err(|source| TlsError::Write { path: path.to_path_buf(), source })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_and_issue_write_a_verifiable_chain_and_never_overwrite() {
        let dir = std::env::temp_dir().join(format!("xunjian-certs-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let outcome = certs_init(&dir, &["collector.example.gov.cn".into()]).unwrap();
        let issued = certs_issue(&dir, "longchuan", DEFAULT_AGENT_CERT_DAYS).unwrap();
        let not_after = issued.not_after.unwrap();
        let two_years = jiff::Timestamp::now() + jiff::SignedDuration::from_hours(24 * 731);
        assert!(
            not_after < two_years && not_after > jiff::Timestamp::now() + jiff::SignedDuration::from_hours(24 * 728)
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            for key in [&outcome.server_key, &issued.key, &dir.join("ca-key.pem")] {
                assert_eq!(std::fs::metadata(key).unwrap().permissions().mode() & 0o777, 0o600, "{}", key.display());
            }
        }
        // The issued client certificate verifies against the CA, with the agent id as its name.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let config = push_server_config(&outcome.ca, &outcome.server_cert, &outcome.server_key);
        assert!(config.is_ok());
        let client = read_certificates(&issued.cert).unwrap();
        assert_eq!(xunjian_shared::x509::subject_common_name(&client[0]).as_deref(), Some("longchuan"));
        let mut roots = RootCertStore::empty();
        roots.add(read_certificates(&outcome.ca).unwrap().remove(0)).unwrap();
        let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider()).build().unwrap();
        let now = rustls_pki_types::UnixTime::now();
        assert!(verifier.verify_client_cert(&client[0], &[], now).is_ok());

        assert!(matches!(certs_init(&dir, &[]), Err(TlsError::Exists { .. })));
        // Issuing again names the certificate to revoke and the way to replace it.
        let again = certs_issue(&dir, "longchuan", 30).unwrap_err();
        let serial = issued.serial.clone().unwrap();
        let message = again.to_string();
        assert!(message.contains(&format!("revoke --serial {serial}")) && message.contains("certs renew"), "{message}");
        assert!(matches!(certs_issue(&dir, "Bad Name", 30), Err(TlsError::Invalid(_))));
        // Renewing keeps the old pair aside and writes a new one.
        let renewed = certs_renew(&dir, "longchuan", 30).unwrap();
        assert_eq!(renewed.replaced.as_ref().map(|(s, _)| s.as_str()), Some(serial.as_str()));
        assert!(renewed.replaced.as_ref().unwrap().1.exists());
        assert_ne!(renewed.serial, issued.serial);
        assert!(matches!(certs_renew(&dir, "nobody", 30), Err(TlsError::NoCertificate { .. })));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
