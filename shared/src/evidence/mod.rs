//! Evidence bundles with a chain of custody (issue #19, docs/evidence.md).
//!
//! Pure: the bundle layout ([`path`]), the manifest ([`manifest`]) and its verification
//! ([`verify`]). The shell (feature `evidence-s3`): the write-once bucket writer
//! ([`store`]) and one containment's bundle under its time limit ([`collect`]), which each
//! executor calls alongside isolation.

#[cfg(feature = "evidence-s3")]
pub mod collect;
pub mod manifest;
pub mod path;
#[cfg(feature = "evidence-s3")]
pub mod store;
pub mod verify;

pub use manifest::{Bundle, BundleError, Digest, MANIFEST_NAME, Manifest, ManifestObject};
pub use path::{BundlePrefix, PathError};
pub use verify::{Mismatch, Report, verify, verify_dir, verify_found};

#[cfg(test)]
mod tests;
