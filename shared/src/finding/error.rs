//! Why an input was rejected, naming the JSON path (and the wrapper it was found in), so
//! whoever replays a file can see what to fix.

use serde::de::DeserializeOwned;

/// Every shape the parser recognises, for the error that says none matched.
pub const ACCEPTED_SHAPES: &str = "an EventBridge event (GuardDuty, or Security Hub Findings - Imported), \
a GuardDuty finding (camelCase or PascalCase), GetFindings output ({\"findings\":[…]} or {\"Findings\":[…]}), \
Security Hub get-findings output, an SNS notification, an SQS message or Records batch, \
put-events/archive Entries, or GuardDuty's S3 export (JSON Lines, plain or gzip)";

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ParseError {
    #[error("empty input")]
    Empty,
    #[error("input is not valid JSON: {0}")]
    NotJson(String),
    #[error("input is {0}; expected {ACCEPTED_SHAPES}")]
    UnknownShape(&'static str),
    #[error("event from source {0:?} is not a GuardDuty or Security Hub finding event")]
    ForeignSource(String),
    #[error("missing required field {0}")]
    MissingField(String),
    #[error("invalid field {path}: {message}")]
    InvalidField { path: String, message: String },
    #[error("get-findings output has an empty findings list")]
    NoFindings,
    #[error("the input's top-level list is empty")]
    EmptyList,
    #[error("larger than {0} bytes (the bound on one finding or document)")]
    EntryTooLarge(u64),
    #[error("cannot read the input: {0}")]
    Unreadable(String),
    #[error("cannot decompress the gzip input: {0}")]
    Gzip(String),
    #[error("the decompressed export is larger than {0} bytes")]
    TooLarge(u64),
    #[error("wrappers nested deeper than {0} (an SNS message inside an SQS body inside …)")]
    TooDeep(u8),
    /// An error inside a wrapper (`Message`, `Records[2].body`, `line 7`), with where it was.
    #[error("{at}: {error}")]
    Within { at: String, error: Box<ParseError> },
}

impl ParseError {
    /// This error as found at `at` inside a wrapper.
    pub fn within(self, at: impl Into<String>) -> ParseError {
        ParseError::Within {
            at: at.into(),
            error: Box::new(self),
        }
    }
}

/// Parses directly; only a failure is parsed again with path tracking, which costs
/// about half the parse time and is needed only to name the failing field.
pub fn deserialize_at<T: DeserializeOwned>(bytes: &[u8], prefix: &str) -> Result<T, ParseError> {
    serde_json::from_slice(bytes).or_else(|_| {
        let mut de = serde_json::Deserializer::from_slice(bytes);
        serde_path_to_error::deserialize(&mut de).map_err(|e| field_error(prefix, e))
    })
}

/// A built document (e.g. a mapped Security Hub finding) read with path tracking.
pub fn deserialize_value<T: DeserializeOwned>(
    value: serde_json::Value,
    prefix: &str,
) -> Result<T, ParseError> {
    // As in `deserialize_at`: path tracking only to name the field of a failure.
    T::deserialize(&value)
        .or_else(|_| serde_path_to_error::deserialize(value).map_err(|e| field_error(prefix, e)))
}

pub fn field_error<E: std::fmt::Display>(
    prefix: &str,
    e: serde_path_to_error::Error<E>,
) -> ParseError {
    let mut path = e.path().to_string();
    if path == "." {
        path.clear();
    }
    let path = match (prefix.is_empty(), path.is_empty()) {
        (true, _) => path,
        (false, true) => prefix.to_owned(),
        (false, false) => format!("{prefix}.{path}"),
    };
    let message = e.inner().to_string();
    if let Some(rest) = message.strip_prefix("missing field `") {
        let field = rest.split('`').next().unwrap_or_default();
        let full = if path.is_empty() {
            field.to_owned()
        } else {
            format!("{path}.{field}")
        };
        return ParseError::MissingField(full);
    }
    let message = message
        .split(" at line ")
        .next()
        .unwrap_or(&message)
        .to_owned();
    ParseError::InvalidField {
        path: if path.is_empty() {
            "(top level)".into()
        } else {
            path
        },
        message,
    }
}

/// What kind of JSON value the input is, for the unknown-shape error.
pub fn json_kind(bytes: &[u8]) -> &'static str {
    match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'[') => "a JSON array",
        Some(b'"') => "a JSON string",
        Some(b'{') => "a JSON object of an unexpected shape",
        Some(b't' | b'f') => "a JSON boolean",
        Some(b'n') => "JSON null",
        _ => "a JSON number",
    }
}
