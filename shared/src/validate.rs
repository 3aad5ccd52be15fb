//! What an identifier from a finding must look like before it is used in an API call, a
//! console link or a command: one definition each, so the executors, the release path and
//! the renderers cannot disagree about what a region is.

/// Region names as AWS spells them (`us-east-1`, `us-gov-west-1`, `cn-north-1`): lowercase
/// letters, digits and `-`, at least three non-empty parts, at most 32 characters. A value
/// such as `us-east-1.evil.example` would otherwise steer an endpoint or a link elsewhere.
pub fn is_region(v: &str) -> bool {
    v.len() <= 32
        && v.split('-').count() >= 3
        && v.split('-').all(|p| !p.is_empty())
        && v.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// A GuardDuty finding id: hexadecimal, at most 64 characters.
pub fn is_finding_id(id: &str) -> bool {
    (1..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A GuardDuty detector id: lowercase letters and digits (32 in practice), at most 64.
/// It becomes a path segment of a finding ARN and of the GuardDuty API's URLs.
pub fn is_detector_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// An AWS account id: exactly twelve ASCII digits.
pub fn is_account_id(v: &str) -> bool {
    v.len() == 12 && v.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_are_validated() {
        for ok in ["us-east-1", "us-gov-west-1", "cn-north-1", "ap-southeast-5"] {
            assert!(is_region(ok), "{ok}");
        }
        for bad in [
            "",
            "US-EAST-1",
            "us-east-1.evil.example",
            "us-east-1/",
            "us--1",
            "-us-east-1",
            "us-east-1-",
            "useast1",
            "us-east-1\n",
            &"a-b-".repeat(20),
        ] {
            assert!(!is_region(bad), "{bad:?}");
        }
    }

    #[test]
    fn account_ids_are_twelve_digits() {
        assert!(is_account_id("123456789012"));
        for bad in [
            "",
            "12345678901",
            "1234567890123",
            "12345678901a",
            "１23456789012",
        ] {
            assert!(!is_account_id(bad), "{bad:?}");
        }
    }

    #[test]
    fn detector_ids_are_lowercase_alphanumeric() {
        assert!(is_detector_id("4cb6a1f0e2d3c5b79a8e1f20d3c4b5a6"));
        for bad in ["", "a/b", "..", "A1", "d:x", &"a".repeat(65)] {
            assert!(!is_detector_id(bad), "{bad:?}");
        }
    }

    #[test]
    fn finding_ids_are_hex() {
        assert!(is_finding_id("0123456789abcdef0123456789abcdef"));
        for bad in ["", "g1", "../x", &"a".repeat(65)] {
            assert!(!is_finding_id(bad), "{bad:?}");
        }
    }
}
