//! The few facts xunjian reads from X.509 certificates: a server's not-after (agent) and a
//! client's common name and serial (collector, where the name is the agent's id and the serial
//! its revocation key). Read with `x509-parser`, a vetted DER parser: identity is not the place
//! for hand-walked DER. A malformed certificate yields None.

use jiff::Timestamp;
use x509_parser::prelude::{FromDer, X509Certificate};

fn parsed(der: &[u8]) -> Option<X509Certificate<'_>> {
    X509Certificate::from_der(der).ok().map(|(_, certificate)| certificate)
}

/// The certificate's `notAfter`, or None if the DER cannot be read.
pub fn not_after(der: &[u8]) -> Option<Timestamp> {
    Timestamp::from_second(parsed(der)?.validity().not_after.timestamp()).ok()
}

/// The subject's common name (the first CN) when it is a string type, or None.
pub fn subject_common_name(der: &[u8]) -> Option<String> {
    let certificate = parsed(der)?;
    let name = certificate.subject().iter_common_name().next()?.as_str().ok()?.to_string();
    Some(name)
}

/// The serial number as lowercase hex without leading zero bytes.
pub fn serial_hex(der: &[u8]) -> Option<String> {
    let certificate = parsed(der)?;
    let serial = certificate.raw_serial();
    let significant: Vec<u8> = serial.iter().copied().skip_while(|byte| *byte == 0).collect();
    let bytes = if significant.is_empty() { vec![0u8] } else { significant };
    Some(bytes.iter().map(|byte| format!("{byte:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_not_after_of_a_generated_certificate() {
        let mut params = rcgen::CertificateParams::new(vec!["www.example.gov.cn".into()]).unwrap();
        params.not_before = rcgen::date_time_ymd(2025, 1, 1);
        params.not_after = rcgen::date_time_ymd(2027, 3, 4);
        let key = rcgen::KeyPair::generate().unwrap();
        let certificate = params.self_signed(&key).unwrap();
        let got = not_after(certificate.der()).unwrap();
        assert_eq!(got.to_string(), "2027-03-04T00:00:00Z");

        params.not_after = rcgen::date_time_ymd(2051, 6, 30); // GeneralizedTime from 2050 on
        let certificate = params.self_signed(&key).unwrap();
        assert_eq!(not_after(certificate.der()).unwrap().to_string(), "2051-06-30T00:00:00Z");
    }

    #[test]
    fn reads_common_name_and_serial() {
        let mut params = rcgen::CertificateParams::new(vec!["longchuan".into()]).unwrap();
        params.distinguished_name.push(rcgen::DnType::OrganizationName, "龙川县");
        params.distinguished_name.push(rcgen::DnType::CommonName, "longchuan");
        params.serial_number = Some(rcgen::SerialNumber::from(vec![0x00, 0x1f, 0xa2]));
        let key = rcgen::KeyPair::generate().unwrap();
        let certificate = params.self_signed(&key).unwrap();
        assert_eq!(subject_common_name(certificate.der()).as_deref(), Some("longchuan"));
        assert_eq!(serial_hex(certificate.der()).as_deref(), Some("1fa2"));
        assert_eq!(subject_common_name(b"junk"), None);
    }

    #[test]
    fn malformed_input_is_none() {
        for junk in [
            &[][..],
            &[0x30],
            &[0x30, 0x84, 0xff, 0xff, 0xff, 0xff],
            &[0x30, 0x03, 0x30, 0x01, 0x00],
            b"not der at all",
        ] {
            assert_eq!(not_after(junk), None);
        }
    }
}
