//! Unit tests.

use super::*;

#[test]
fn stop_reason_is_bounded() {
    let r = stop_reason(&"f".repeat(300), "Impact:Runtime/CryptoMinerExecuted");
    assert!(r.chars().count() <= 255 && r.contains("fff"));
}
