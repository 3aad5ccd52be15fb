//! Stage 1 — parse: the finding model and the accepted input shapes.

pub mod input;
pub mod lenient;
pub mod model;
mod pascal;
mod repair;
pub mod sequence;
pub mod text;

pub use input::{Entry, FindingEvent, ParseError, parse_input, parse_input_from};
pub use lenient::Timestamp;
pub use model::*;
