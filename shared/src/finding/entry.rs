//! What the shape parsers share: the entries they find and the context they are given.
//! A leaf, so that the dispatcher ([`super::input`]) and the shapes it dispatches to
//! (wrappers, JSON Lines, ASFF) do not import each other.

use super::error::ParseError;
use super::model::Finding;

pub const GUARDDUTY_SOURCE: &str = "aws.guardduty";
pub const FINDING_DETAIL_TYPE: &str = "GuardDuty Finding";

/// How many wrappers may nest (an SNS notification in an SQS body in a batch is three).
const MAX_DEPTH: u8 = 4;

/// One thing found in the input.
#[derive(Debug, Clone)]
pub enum Entry {
    Finding(Box<Finding>),
    /// An event that is not a finding to act on: an `aws.guardduty` event such as a Runtime
    /// Protection health change, or a Security Hub finding from another product.
    NotAFinding {
        detail_type: String,
    },
}

/// Parses one whole document of any accepted shape.
pub type ParseDocument = for<'c> fn(&[u8], Context<'c>) -> Result<Vec<Entry>, ParseError>;

/// What every shape parser is given: the accepted test source and how deep in wrappers
/// the document sits.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    pub test_source: Option<&'a str>,
    depth: u8,
    /// The dispatcher of [`super::input`], handed in so that wrappers reach it without
    /// importing it (a wrapper's content is any document again).
    parse: ParseDocument,
}

impl<'a> Context<'a> {
    /// The context of a whole input (not inside a wrapper).
    pub fn root(test_source: Option<&'a str>, parse: ParseDocument) -> Context<'a> {
        Context {
            test_source,
            depth: 0,
            parse,
        }
    }

    /// Parses a document found at `at` inside a wrapper; its errors say where it was.
    pub fn inner(self, at: &str, bytes: &[u8]) -> Result<Vec<Entry>, ParseError> {
        if self.depth >= MAX_DEPTH {
            return Err(ParseError::TooDeep(MAX_DEPTH).within(at));
        }
        let deeper = Context {
            depth: self.depth + 1,
            ..self
        };
        (self.parse)(bytes, deeper).map_err(|e| e.within(at))
    }

    /// Whether an event `source` is accepted (see [`accepted_source`]).
    pub fn accepts(&self, source: &str) -> bool {
        accepted_source(source, self.test_source)
    }
}

/// Whether an event `source` is accepted: GuardDuty's, or the configured source of
/// hand-sent verification events (`aws events put-events` cannot use an `aws.` source).
pub fn accepted_source(source: &str, test_source: Option<&str>) -> bool {
    source == GUARDDUTY_SOURCE || test_source.is_some_and(|t| t == source)
}
