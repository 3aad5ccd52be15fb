//! One CloudWatch Embedded Metric Format record: a JSON log line CloudWatch Logs turns into
//! metrics, so no `PutMetricData` call sits on the containment path.
//!
//! The ecosystem's convention is Powertools' metrics utility, but Powertools has no Rust
//! port, and the maintained Rust EMF crate (`metrics_cloudwatch_embedded`) is a global
//! recorder behind the `metrics` facade that flushes once per invocation with one
//! dimension set: it cannot give each record its own dimensions (decision × family ×
//! surface beside action × status) and would add a global to every test. This is the
//! small writer instead: pure (builds the record; [`super::emit`] prints it), checked
//! against the specification's limits when built.
//!
//! Specification: <https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html>

use serde_json::{Map, Value, json};
use std::time::{SystemTime, UNIX_EPOCH};

/// The namespace of every metric the responder writes.
pub const NAMESPACE: &str = "GuardDutyResponder";
/// At most this many dimension keys in one dimension set (the specification's limit).
pub const MAX_DIMENSIONS: usize = 30;
/// At most this many metrics in one directive.
pub const MAX_METRICS: usize = 100;
/// A dimension value is cut to this many characters (CloudWatch accepts 1,024).
const MAX_VALUE_CHARS: usize = 250;

/// CloudWatch units the responder uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Count,
    Milliseconds,
}

impl Unit {
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Count => "Count",
            Unit::Milliseconds => "Milliseconds",
        }
    }
}

/// What the specification forbids, refused when the record is built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmfError {
    #[error("more than {MAX_DIMENSIONS} dimensions in one dimension set")]
    TooManyDimensions,
    #[error("more than {MAX_METRICS} metrics in one directive")]
    TooManyMetrics,
    #[error("{0:?} is used twice (as a dimension or a metric): members of one record are unique")]
    Duplicate(String),
    #[error("{0:?} is reserved or empty")]
    BadName(String),
    #[error("metric {0:?} has a value that is not a finite number")]
    NotFinite(String),
    #[error("dimension set names {0:?}, which is not a dimension of the record")]
    UnknownDimension(String),
}

/// A record under construction: dimensions (one set, every key a string member), then
/// metrics (each a numeric member).
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    timestamp_ms: u64,
    dimensions: Vec<(&'static str, String)>,
    /// Roll-ups: more dimension sets, each a subset of `dimensions` (the full set is first).
    rollups: Vec<&'static [&'static str]>,
    metrics: Vec<(&'static str, Unit, f64)>,
    /// Members that are neither dimensions nor metrics: searchable in Logs Insights only.
    properties: Vec<(&'static str, Value)>,
}

impl Record {
    pub fn at(now: SystemTime) -> Record {
        Record {
            timestamp_ms: now
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64),
            dimensions: Vec::new(),
            rollups: Vec::new(),
            metrics: Vec::new(),
            properties: Vec::new(),
        }
    }

    /// A member for Logs Insights, not a metric (e.g. which budget refused).
    pub fn property(mut self, name: &'static str, value: Value) -> Record {
        self.properties.push((name, value));
        self
    }

    /// Adds a dimension. Its value is made printable ASCII and bounded: dimension values
    /// may come from a finding (a family name), and a log line is no rendering channel.
    pub fn dimension(mut self, name: &'static str, value: &str) -> Record {
        let value = crate::sanitize::ascii_line(value, MAX_VALUE_CHARS);
        self.dimensions.push((
            name,
            if value.is_empty() {
                "none".into()
            } else {
                value
            },
        ));
        self
    }

    /// Also aggregates the metrics by these dimensions only (what an alarm needs: a fixed
    /// dimension set, e.g. `Function` alone).
    pub fn rollup(mut self, keys: &'static [&'static str]) -> Record {
        self.rollups.push(keys);
        self
    }

    pub fn metric(mut self, name: &'static str, unit: Unit, value: f64) -> Record {
        self.metrics.push((name, unit, value));
        self
    }

    pub fn metric_names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.metrics.iter().map(|m| m.0)
    }

    pub fn value_of(&self, metric: &str) -> Option<f64> {
        self.metrics.iter().find(|m| m.0 == metric).map(|m| m.2)
    }

    pub fn dimension_value(&self, name: &str) -> Option<&str> {
        self.dimensions
            .iter()
            .find(|d| d.0 == name)
            .map(|d| d.1.as_str())
    }

    /// The JSON record, or what makes it invalid.
    pub fn to_json(&self) -> Result<Value, EmfError> {
        if self.dimensions.len() > MAX_DIMENSIONS {
            return Err(EmfError::TooManyDimensions);
        }
        if self.metrics.len() > MAX_METRICS {
            return Err(EmfError::TooManyMetrics);
        }
        let mut members = Map::new();
        let mut put = |name: &str, value: Value| {
            if name.is_empty() || name == "_aws" {
                return Err(EmfError::BadName(name.to_owned()));
            }
            match members.insert(name.to_owned(), value) {
                Some(_) => Err(EmfError::Duplicate(name.to_owned())),
                None => Ok(()),
            }
        };
        for (name, value) in &self.dimensions {
            put(name, Value::String(value.clone()))?;
        }
        for (name, _, value) in &self.metrics {
            // Whole values print as integers (`1`, not `1.0`): counts read as counts.
            let number = if value.fract() == 0.0 && value.abs() < 9e15 {
                serde_json::Number::from(*value as i64)
            } else {
                serde_json::Number::from_f64(*value)
                    .ok_or_else(|| EmfError::NotFinite((*name).to_owned()))?
            };
            put(name, Value::Number(number))?;
        }
        for (name, value) in &self.properties {
            put(name, value.clone())?;
        }
        let keys: Vec<&str> = self.dimensions.iter().map(|d| d.0).collect();
        let mut sets = vec![keys.clone()];
        for rollup in &self.rollups {
            if let Some(k) = rollup.iter().find(|k| !keys.contains(k)) {
                return Err(EmfError::UnknownDimension((*k).to_owned()));
            }
            sets.push(rollup.to_vec());
        }
        let metrics: Vec<Value> = self
            .metrics
            .iter()
            .map(|(name, unit, _)| json!({"Name": name, "Unit": unit.as_str()}))
            .collect();
        members.insert(
            "_aws".into(),
            json!({
                "Timestamp": self.timestamp_ms,
                "CloudWatchMetrics": [{
                    "Namespace": NAMESPACE,
                    "Dimensions": sets,
                    "Metrics": metrics,
                }],
            }),
        );
        Ok(Value::Object(members))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn a_record_names_its_dimensions_and_metrics_as_members() {
        let v = Record::at(at(1_764_504_000))
            .dimension("Function", "fn-ec2")
            .dimension("Surface", "ec2")
            .metric("Findings", Unit::Count, 1.0)
            .metric("TimeToIsolation", Unit::Milliseconds, 2500.0)
            .rollup(&["Function"])
            .to_json()
            .unwrap();
        let d = &v["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(v["_aws"]["Timestamp"], 1_764_504_000_000u64);
        assert_eq!(d["Namespace"], NAMESPACE);
        assert_eq!(
            d["Dimensions"],
            json!([["Function", "Surface"], ["Function"]])
        );
        assert_eq!(
            d["Metrics"][1],
            json!({"Name": "TimeToIsolation", "Unit": "Milliseconds"})
        );
        assert_eq!(
            (v["Function"].as_str(), v["Surface"].as_str()),
            (Some("fn-ec2"), Some("ec2"))
        );
        assert_eq!(v["TimeToIsolation"].as_f64(), Some(2500.0));
    }

    #[test]
    fn what_the_specification_forbids_is_refused() {
        let names: Vec<&'static str> = (0..=MAX_DIMENSIONS)
            .map(|i| &*Box::leak(format!("D{i}").into_boxed_str()))
            .collect();
        let wide = names
            .iter()
            .fold(Record::at(at(0)), |r, n| r.dimension(n, "x"));
        assert_eq!(wide.to_json(), Err(EmfError::TooManyDimensions));
        let many = (0..=MAX_METRICS)
            .map(|i| &*Box::leak(format!("M{i}").into_boxed_str()))
            .fold(Record::at(at(0)), |r, n| r.metric(n, Unit::Count, 1.0));
        assert_eq!(many.to_json(), Err(EmfError::TooManyMetrics));
        let twice = Record::at(at(0))
            .dimension("A", "x")
            .metric("A", Unit::Count, 1.0);
        assert_eq!(twice.to_json(), Err(EmfError::Duplicate("A".into())));
        let nan = Record::at(at(0)).metric("N", Unit::Count, f64::NAN);
        assert_eq!(nan.to_json(), Err(EmfError::NotFinite("N".into())));
        let rollup = Record::at(at(0)).dimension("A", "x").rollup(&["B"]);
        assert_eq!(
            rollup.to_json(),
            Err(EmfError::UnknownDimension("B".into()))
        );
        let reserved = Record::at(at(0)).metric("_aws", Unit::Count, 1.0);
        assert!(matches!(reserved.to_json(), Err(EmfError::BadName(_))));
    }

    #[test]
    fn dimension_values_are_one_bounded_printable_line() {
        let r = Record::at(at(0)).dimension("Family", &format!("a\nb\u{202e}{}", "x".repeat(400)));
        let v = r.to_json().unwrap();
        let family = v["Family"].as_str().unwrap();
        assert!(!family.contains('\n') && !family.contains('\u{202e}'));
        assert!(
            family.chars().count() <= MAX_VALUE_CHARS,
            "{}",
            family.len()
        );
        assert_eq!(
            Record::at(at(0)).dimension("S", "").dimension_value("S"),
            Some("none")
        );
    }
}
