//! Evidence bundles with a chain of custody (issue #19, docs/evidence.md).
//!
//! Pure: the bundle layout ([`path`]), the manifest ([`manifest`]) and its verification
//! ([`verify`]). Writing a bundle to the evidence bucket is the executors' part and is not
//! built yet.

pub mod manifest;
pub mod path;
pub mod verify;

pub use manifest::{Bundle, BundleError, Digest, MANIFEST_NAME, Manifest, ManifestObject};
pub use path::{BundlePrefix, PathError};
pub use verify::{Mismatch, Report, verify, verify_dir};

#[cfg(test)]
mod tests;
