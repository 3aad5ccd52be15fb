//! Stage 1 — parse: the finding model and the accepted input shapes.

mod asff;
mod entry;
mod error;
pub mod input;
mod jsonl;
pub mod lenient;
pub mod model;
mod pascal;
mod pascal_de;
mod repair;
pub mod sequence;
pub mod snapshot_event;
pub mod stream;
mod stream_source;
pub mod text;
mod wrapper;

pub use input::{ACCEPTED_SHAPES, Entry, FindingEvent, ParseError, parse_input, parse_input_from};
pub use lenient::Timestamp;
pub use model::*;
pub use stream::stream_input;
