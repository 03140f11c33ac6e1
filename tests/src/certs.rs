//! Certificates minted in the test: a CA, server certificates it signs, and broken ones.

use jiff::{SignedDuration, Timestamp};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose};

/// A throw-away certificate authority.
pub struct TestCa {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

/// A certificate and its private key, PEM.
pub struct Minted {
    pub cert_pem: String,
    pub key_pem: String,
}

/// Certificates are valid from and until midnight UTC of these instants' days.
fn set_validity(params: &mut CertificateParams, not_before: Timestamp, not_after: Timestamp) {
    let day = |stamp: Timestamp| {
        let date = stamp.to_zoned_datetime(jiff::tz::TimeZone::UTC).date();
        rcgen::date_time_ymd(i32::from(date.year()), date.month() as u8, date.day() as u8)
    };
    params.not_before = day(not_before);
    params.not_after = day(not_after);
}

impl TestCa {
    pub fn new(name: &str) -> TestCa {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("empty SAN list");
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages =
            vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
        let now = Timestamp::now();
        set_validity(
            &mut params,
            now - SignedDuration::from_hours(24 * 2),
            now + SignedDuration::from_hours(24 * 3650),
        );
        let key = KeyPair::generate().expect("key generation");
        TestCa { issuer: CertifiedIssuer::self_signed(params, key).expect("CA certificate") }
    }

    pub fn pem(&self) -> String {
        self.issuer.pem()
    }

    /// A server certificate for `hosts` (names or IP addresses) valid until `not_after`.
    pub fn server(&self, hosts: &[&str], not_after: Timestamp) -> Minted {
        let mut params = CertificateParams::new(hosts.iter().map(|h| h.to_string()).collect::<Vec<_>>()).expect("SANs");
        params.distinguished_name.push(DnType::CommonName, hosts.first().copied().unwrap_or("server"));
        set_validity(&mut params, Timestamp::now() - SignedDuration::from_hours(24 * 2), not_after);
        let key = KeyPair::generate().expect("key generation");
        let cert = params.signed_by(&key, &self.issuer).expect("server certificate");
        Minted { cert_pem: cert.pem(), key_pem: key.serialize_pem() }
    }
}

/// A self-signed server certificate that expired on `not_after`.
pub fn self_signed(hosts: &[&str], not_before: Timestamp, not_after: Timestamp) -> Minted {
    let mut params = CertificateParams::new(hosts.iter().map(|h| h.to_string()).collect::<Vec<_>>()).expect("SANs");
    set_validity(&mut params, not_before, not_after);
    let key = KeyPair::generate().expect("key generation");
    let cert = params.self_signed(&key).expect("self-signed certificate");
    Minted { cert_pem: cert.pem(), key_pem: key.serialize_pem() }
}
