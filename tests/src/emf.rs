//! The CloudWatch Embedded Metric Format specification as a checker, written from the
//! specification (not from the responder's writer), for the lines a function prints:
//! <https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html>

use serde_json::Value;

/// The units CloudWatch accepts (`MetricDefinition.Unit`).
const UNITS: &[&str] = &[
    "Seconds",
    "Microseconds",
    "Milliseconds",
    "Bytes",
    "Kilobytes",
    "Megabytes",
    "Gigabytes",
    "Terabytes",
    "Bits",
    "Kilobits",
    "Megabits",
    "Gigabits",
    "Terabits",
    "Percent",
    "Count",
    "Bytes/Second",
    "Kilobytes/Second",
    "Megabytes/Second",
    "Gigabytes/Second",
    "Terabytes/Second",
    "Bits/Second",
    "Kilobits/Second",
    "Megabits/Second",
    "Gigabits/Second",
    "Terabits/Second",
    "Count/Second",
    "None",
];

/// One metric of a record: its namespace, dimension set and value(s).
#[derive(Debug, Clone, PartialEq)]
pub struct Datum {
    pub namespace: String,
    pub name: String,
    pub unit: Option<String>,
    /// `(key, value)` of one dimension set, in the set's order.
    pub dimensions: Vec<(String, String)>,
    pub values: Vec<f64>,
}

/// The stdout lines that are EMF records (a JSON object with `_aws`).
pub fn records(lines: &[String]) -> Vec<Value> {
    lines
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v.get("_aws").is_some())
        .collect()
}

/// Checks one record against the specification; every metric of every dimension set.
pub fn validate(record: &Value) -> Result<Vec<Datum>, String> {
    let root = record
        .as_object()
        .ok_or("the record is not a JSON object")?;
    let aws = root["_aws"].as_object().ok_or("_aws is not an object")?;
    let ts = &aws.get("Timestamp").ok_or("_aws.Timestamp is missing")?;
    if !ts.is_u64() {
        return Err(format!(
            "_aws.Timestamp {ts} is not a non-negative integer of ms"
        ));
    }
    let directives = aws
        .get("CloudWatchMetrics")
        .and_then(Value::as_array)
        .ok_or("_aws.CloudWatchMetrics is not an array")?;
    let mut data = Vec::new();
    for d in directives {
        let namespace = d["Namespace"]
            .as_str()
            .filter(|n| !n.is_empty() && n.len() <= 1024)
            .ok_or("a directive has no Namespace string (1-1024 characters)")?;
        let sets = d["Dimensions"]
            .as_array()
            .ok_or("Dimensions is not an array")?;
        let metrics = d["Metrics"].as_array().ok_or("Metrics is not an array")?;
        if metrics.len() > 100 {
            return Err(format!(
                "{} metrics in one directive (at most 100)",
                metrics.len()
            ));
        }
        let mut dimension_sets = Vec::new();
        for set in sets {
            let keys = set.as_array().ok_or("a dimension set is not an array")?;
            if keys.len() > 30 {
                return Err(format!("{} dimensions in one set (at most 30)", keys.len()));
            }
            let mut pairs = Vec::new();
            for k in keys {
                let k = k.as_str().ok_or("a dimension key is not a string")?;
                let v = root.get(k).and_then(Value::as_str).ok_or_else(|| {
                    format!("dimension {k:?} is not a string member of the record")
                })?;
                if v.is_empty() || v.len() > 1024 {
                    return Err(format!(
                        "dimension {k:?} value has {} characters (1-1024)",
                        v.len()
                    ));
                }
                pairs.push((k.to_owned(), v.to_owned()));
            }
            dimension_sets.push(pairs);
        }
        if dimension_sets.is_empty() {
            dimension_sets.push(Vec::new());
        }
        for m in metrics {
            let name = m["Name"]
                .as_str()
                .filter(|n| !n.is_empty() && n.len() <= 1024)
                .ok_or("a metric has no Name string (1-1024 characters)")?;
            let unit = match m.get("Unit") {
                None => None,
                Some(u) => Some(
                    u.as_str()
                        .filter(|u| UNITS.contains(u))
                        .ok_or_else(|| {
                            format!("metric {name:?} has unit {u}, not a CloudWatch unit")
                        })?
                        .to_owned(),
                ),
            };
            let value = root
                .get(name)
                .ok_or_else(|| format!("metric {name:?} has no member in the record"))?;
            let values: Vec<f64> = match value {
                Value::Number(n) => vec![n.as_f64().ok_or("not a double")?],
                Value::Array(list) if list.len() <= 100 => list
                    .iter()
                    .map(|v| {
                        v.as_f64()
                            .ok_or_else(|| format!("metric {name:?}: {v} is not a number"))
                    })
                    .collect::<Result<_, _>>()?,
                other => {
                    return Err(format!(
                        "metric {name:?} value {other} is not a number or an array of at most 100"
                    ));
                }
            };
            for dimensions in &dimension_sets {
                data.push(Datum {
                    namespace: namespace.to_owned(),
                    name: name.to_owned(),
                    unit: unit.clone(),
                    dimensions: dimensions.clone(),
                    values: values.clone(),
                });
            }
        }
    }
    Ok(data)
}

/// Every datum of every record on `lines`, each record checked (panics naming the line).
pub fn data(lines: &[String]) -> Vec<Datum> {
    records(lines)
        .iter()
        .flat_map(|r| validate(r).unwrap_or_else(|e| panic!("invalid EMF record {r}: {e}")))
        .collect()
}

impl Datum {
    pub fn dimension(&self, key: &str) -> Option<&str> {
        self.dimensions
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The dimension keys, to pick one dimension set of a rolled-up metric.
    pub fn keys(&self) -> Vec<&str> {
        self.dimensions.iter().map(|(k, _)| k.as_str()).collect()
    }

    pub fn sum(&self) -> f64 {
        self.values.iter().sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_checker_refuses_what_the_specification_forbids() {
        let ok = json!({"_aws": {"Timestamp": 1, "CloudWatchMetrics": [{"Namespace": "N",
            "Dimensions": [["F"]], "Metrics": [{"Name": "M", "Unit": "Count"}]}]}, "F": "f", "M": 2});
        assert_eq!(validate(&ok).unwrap()[0].sum(), 2.0);
        let mut no_value = ok.clone();
        no_value.as_object_mut().unwrap().remove("M");
        assert!(validate(&no_value).is_err());
        let mut number_dimension = ok.clone();
        number_dimension["F"] = json!(3);
        assert!(validate(&number_dimension).is_err());
        let mut bad_unit = ok.clone();
        bad_unit["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Unit"] = json!("Things");
        assert!(validate(&bad_unit).is_err());
        let mut wide = ok.clone();
        let keys: Vec<String> = (0..31).map(|i| format!("D{i}")).collect();
        for k in &keys {
            wide[k] = json!("x");
        }
        wide["_aws"]["CloudWatchMetrics"][0]["Dimensions"] = json!([keys]);
        assert!(validate(&wide).is_err());
        let mut string_ts = ok.clone();
        string_ts["_aws"]["Timestamp"] = json!("now");
        assert!(validate(&string_ts).is_err());
    }
}
