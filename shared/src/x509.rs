//! The few facts xunjian reads from X.509 certificates: a server's not-after (agent) and a
//! client's common name and serial (collector, where the name is the agent's id).
//!
//! A few lines of DER walking instead of a full X.509 crate: the path to each field is fixed by
//! RFC 5280 (`Certificate → tbsCertificate → [version] serial signature issuer validity
//! subject`), and every step is bounds-checked, so a malformed certificate yields None.

use jiff::Timestamp;
use jiff::civil::{Date, Time};

const SEQUENCE: u8 = 0x30;
const SET: u8 = 0x31;
const OBJECT_IDENTIFIER: u8 = 0x06;
/// 2.5.4.3, id-at-commonName.
const COMMON_NAME_OID: &[u8] = &[0x55, 0x04, 0x03];
const UTC_TIME: u8 = 0x17;
const GENERALIZED_TIME: u8 = 0x18;
const EXPLICIT_VERSION: u8 = 0xA0;

/// The fields of `tbsCertificate` up to the subject, as DER values.
struct TbsFields<'d> {
    serial: &'d [u8],
    validity: &'d [u8],
    subject: &'d [u8],
}

fn tbs_fields(der: &[u8]) -> Option<TbsFields<'_>> {
    let (tag, certificate, _) = read_tlv(der)?;
    if tag != SEQUENCE {
        return None;
    }
    let (tag, mut tbs, _) = read_tlv(certificate)?;
    if tag != SEQUENCE {
        return None;
    }
    if tbs.first() == Some(&EXPLICIT_VERSION) {
        tbs = read_tlv(tbs)?.2;
    }
    let (_, serial, after_serial) = read_tlv(tbs)?;
    let after_signature = read_tlv(after_serial)?.2;
    let after_issuer = read_tlv(after_signature)?.2;
    let (tag, validity, after_validity) = read_tlv(after_issuer)?;
    if tag != SEQUENCE {
        return None;
    }
    let (tag, subject, _) = read_tlv(after_validity)?;
    if tag != SEQUENCE {
        return None;
    }
    Some(TbsFields { serial, validity, subject })
}

/// The certificate's `notAfter`, or None if the DER cannot be read.
pub fn not_after(der: &[u8]) -> Option<Timestamp> {
    let validity = tbs_fields(der)?.validity;
    let after_not_before = read_tlv(validity)?.2;
    let (tag, value, _) = read_tlv(after_not_before)?;
    parse_time(tag, value)
}

/// The subject's common name (the first CN), or None.
pub fn subject_common_name(der: &[u8]) -> Option<String> {
    let mut names = tbs_fields(der)?.subject;
    // Name ::= SEQUENCE OF RelativeDistinguishedName (SET OF AttributeTypeAndValue).
    while !names.is_empty() {
        let (tag, set, rest) = read_tlv(names)?;
        names = rest;
        if tag != SET {
            return None;
        }
        let mut attributes = set;
        while !attributes.is_empty() {
            let (_, attribute, rest) = read_tlv(attributes)?;
            attributes = rest;
            let (tag, oid, value) = read_tlv(attribute)?;
            if tag == OBJECT_IDENTIFIER && oid == COMMON_NAME_OID {
                let (_, text, _) = read_tlv(value)?;
                return std::str::from_utf8(text).ok().map(str::to_string);
            }
        }
    }
    None
}

/// The serial number as lowercase hex without leading zero bytes.
pub fn serial_hex(der: &[u8]) -> Option<String> {
    let serial = tbs_fields(der)?.serial;
    let significant = serial.iter().skip_while(|byte| **byte == 0).collect::<Vec<_>>();
    let bytes = if significant.is_empty() { vec![&0u8] } else { significant };
    Some(bytes.iter().map(|byte| format!("{byte:02x}")).collect())
}

/// Reads one tag-length-value; returns (tag, value, rest).
fn read_tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, mut rest) = rest.split_first()?;
    let length = if first < 0x80 {
        usize::from(first)
    } else {
        let count = usize::from(first & 0x7F);
        if count == 0 || count > 4 || rest.len() < count {
            return None;
        }
        let mut length = 0usize;
        for byte in &rest[..count] {
            length = (length << 8) | usize::from(*byte);
        }
        rest = &rest[count..];
        length
    };
    if rest.len() < length {
        return None;
    }
    Some((tag, &rest[..length], &rest[length..]))
}

/// UTCTime `YYMMDDHHMMSSZ` (years 1950–2049) or GeneralizedTime `YYYYMMDDHHMMSSZ`.
fn parse_time(tag: u8, value: &[u8]) -> Option<Timestamp> {
    let text = std::str::from_utf8(value).ok()?.strip_suffix('Z')?;
    let digits = |range: std::ops::Range<usize>| -> Option<i16> { text.get(range)?.parse().ok() };
    let (year, rest_at) = match (tag, text.len()) {
        (UTC_TIME, 12) => {
            let short = digits(0..2)?;
            (if short >= 50 { 1900 + short } else { 2000 + short }, 2)
        }
        (GENERALIZED_TIME, 14) => (digits(0..4)?, 4),
        _ => return None,
    };
    let part = |offset: usize| -> Option<i8> { i8::try_from(digits(rest_at + offset..rest_at + offset + 2)?).ok() };
    let date = Date::new(year, part(0)?, part(2)?).ok()?;
    let time = Time::new(part(4)?, part(6)?, part(8)?, 0).ok()?;
    date.to_datetime(time).to_zoned_datetime(jiff::tz::TimeZone::UTC).ok().map(|zoned| zoned.timestamp())
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
