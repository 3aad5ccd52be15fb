//! What an identifier from a finding must look like before it is used in an API call, a
//! console link or a command. The rules live in [`crate::ids`], each with its newtype;
//! these are the yes-or-no forms for the callers that check a string they keep as one (the
//! plan's own region and finding id, configuration values, records read back).

use crate::ids::{AccountId, DetectorId, FindingId, Region};

/// See [`Region`].
pub fn is_region(v: &str) -> bool {
    Region::is_valid(v)
}

/// See [`FindingId`].
pub fn is_finding_id(id: &str) -> bool {
    FindingId::is_valid(id)
}

/// See [`DetectorId`].
pub fn is_detector_id(id: &str) -> bool {
    DetectorId::is_valid(id)
}

/// See [`AccountId`].
pub fn is_account_id(v: &str) -> bool {
    AccountId::is_valid(v)
}
