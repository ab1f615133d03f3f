//! `--tls-generate DIR`: a CA and a server certificate for localhost,
//! 127.0.0.1 and the providers' real host names, written as PEM files.

use std::path::{Path, PathBuf};

use anyhow::Context;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};

/// Host names the server certificate covers.
pub const HOSTS: &[&str] = &[
    "localhost",
    "127.0.0.1",
    "::1",
    "accounts.google.com",
    "oauth2.googleapis.com",
    "www.googleapis.com",
    "login.microsoftonline.com",
    "graph.microsoft.com",
    "www.dropbox.com",
    "api.dropbox.com",
    "api.dropboxapi.com",
    "content.dropboxapi.com",
    "notify.dropboxapi.com",
];

/// Paths of generated TLS files.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// The CA certificate clients should trust.
    pub ca: PathBuf,
    /// The server certificate (chain: leaf, then CA).
    pub cert: PathBuf,
    /// The server's private key.
    pub key: PathBuf,
}

/// Writes `ca.pem`, `cert.pem` and `key.pem` into `dir` (made as needed).
/// Existing files are reused, so clients keep trusting the same CA.
pub fn generate(dir: &Path) -> anyhow::Result<TlsFiles> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {dir:?}"))?;
    let files = TlsFiles {
        ca: dir.join("ca.pem"),
        cert: dir.join("cert.pem"),
        key: dir.join("key.pem"),
    };
    if files.ca.exists() && files.cert.exists() && files.key.exists() {
        return Ok(files);
    }
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).context("CA params")?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "cloudsim test CA");
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_key = KeyPair::generate().context("CA key")?;
    let ca = CertifiedIssuer::self_signed(ca_params, ca_key).context("signing the CA")?;

    let hosts: Vec<String> = HOSTS.iter().map(|h| h.to_string()).collect();
    let mut params = CertificateParams::new(hosts).context("server certificate params")?;
    params
        .distinguished_name
        .push(DnType::CommonName, "cloudsim");
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    let key = KeyPair::generate().context("server key")?;
    let cert = params
        .signed_by(&key, &ca)
        .context("signing the server certificate")?;

    write(&files.ca, &ca.pem())?;
    write(&files.cert, &format!("{}{}", cert.pem(), ca.pem()))?;
    write(&files.key, &key.serialize_pem())?;
    Ok(files)
}

fn write(path: &Path, text: &str) -> anyhow::Result<()> {
    std::fs::write(path, text).with_context(|| format!("writing {path:?}"))
}
