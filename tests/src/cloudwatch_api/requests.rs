//! The local CloudWatch's functional core: CBOR requests in, data and statistics out.

use super::*;

/// A `GetMetricStatistics` request, validated.
#[derive(Debug, Clone)]
pub(super) struct Query {
    pub(super) namespace: String,
    pub(super) metric: String,
    pub(super) dimensions: Vec<(String, String)>,
    /// Already rounded down to the minute.
    pub(super) start: f64,
    pub(super) end: f64,
    pub(super) period: f64,
    pub(super) statistics: Vec<String>,
    pub(super) unit: Option<String>,
}

pub(super) fn field<'a>(v: &'a Cbor, name: &str) -> Option<&'a Cbor> {
    v.as_map()?
        .iter()
        .find(|(k, _)| k.as_text() == Some(name))
        .map(|(_, v)| v)
        .filter(|v| !v.is_null())
}

pub(super) fn string(v: &Cbor, name: &str) -> Option<String> {
    field(v, name)?.as_text().map(str::to_owned)
}

pub(super) fn number(v: Option<&Cbor>) -> Option<f64> {
    match v? {
        Cbor::Float(f) => Some(*f),
        Cbor::Integer(i) => Some(i128::from(*i) as f64),
        Cbor::Tag(1, inner) => number(Some(inner)),
        _ => None,
    }
}

pub(super) fn timestamp(v: &Cbor, name: &str) -> Result<Option<f64>, Fault> {
    match field(v, name) {
        None => Ok(None),
        Some(Cbor::Tag(1, inner)) => number(Some(inner))
            .map(Some)
            .ok_or_else(|| invalid(format!("{name} is not a timestamp"))),
        Some(_) => Err(invalid(format!("{name} is not a CBOR tag-1 timestamp"))),
    }
}

pub(super) fn list<'a>(v: &'a Cbor, name: &str) -> &'a [Cbor] {
    field(v, name)
        .and_then(Cbor::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

pub(super) fn dimensions(v: &Cbor) -> Result<Vec<(String, String)>, Fault> {
    let mut out = list(v, "Dimensions")
        .iter()
        .map(|d| match (string(d, "Name"), string(d, "Value")) {
            (Some(n), Some(v)) if !n.is_empty() && !v.is_empty() => Ok((n, v)),
            _ => Err(invalid("a dimension needs a Name and a Value")),
        })
        .collect::<Result<Vec<_>, _>>()?;
    out.sort();
    Ok(out)
}

pub(super) fn namespace(v: &Cbor) -> Result<String, Fault> {
    let ns = string(v, "Namespace").ok_or_else(|| missing("Namespace"))?;
    if ns.starts_with("AWS/") {
        return Err(invalid(
            "The value AWS/ for parameter Namespace is invalid.",
        ));
    }
    Ok(ns)
}

/// `PutMetricData`: each datum as a statistic set (`Value`, `Values`+`Counts` or
/// `StatisticValues`), timestamped now when no `Timestamp` is given.
pub(super) fn parse_put(body: &Cbor, now: f64) -> Result<Vec<Datum>, Fault> {
    let namespace = namespace(body)?;
    let items = list(body, "MetricData");
    if items.is_empty() {
        return Err(missing("MetricData"));
    }
    items
        .iter()
        .map(|d| {
            let metric = string(d, "MetricName").ok_or_else(|| missing("MetricName"))?;
            let ts = timestamp(d, "Timestamp")?.unwrap_or(now);
            if ts < now - 14.0 * 86400.0 || ts > now + 2.0 * 3600.0 {
                return Err(invalid(
                    "Timestamp must be within the last two weeks and at most two hours ahead",
                ));
            }
            let (count, sum, min, max) = if let Some(s) = field(d, "StatisticValues") {
                let get = |k| number(field(s, k)).ok_or_else(|| missing(k));
                (
                    get("SampleCount")?,
                    get("Sum")?,
                    get("Minimum")?,
                    get("Maximum")?,
                )
            } else if let Some(values) = field(d, "Values").and_then(Cbor::as_array) {
                let counts = list(d, "Counts");
                let mut set = (0.0, 0.0, f64::INFINITY, f64::NEG_INFINITY);
                for (i, v) in values.iter().enumerate() {
                    let v = number(Some(v)).ok_or_else(|| invalid("Values must be numbers"))?;
                    let c = counts.get(i).and_then(|c| number(Some(c))).unwrap_or(1.0);
                    set = (set.0 + c, set.1 + v * c, set.2.min(v), set.3.max(v));
                }
                set
            } else {
                let v = number(field(d, "Value")).ok_or_else(|| missing("Value"))?;
                (1.0, v, v, v)
            };
            Ok(Datum {
                namespace: namespace.clone(),
                metric,
                dimensions: dimensions(d)?,
                timestamp: ts,
                unit: string(d, "Unit").unwrap_or_else(|| "None".into()),
                count,
                sum,
                min,
                max,
            })
        })
        .collect()
}

/// `GetMetricStatistics`, validated as CloudWatch does.
pub(super) fn parse_query(body: &Cbor) -> Result<Query, Fault> {
    let namespace = namespace(body)?;
    let metric = string(body, "MetricName").ok_or_else(|| missing("MetricName"))?;
    let start = timestamp(body, "StartTime")?.ok_or_else(|| missing("StartTime"))?;
    let end = timestamp(body, "EndTime")?.ok_or_else(|| missing("EndTime"))?;
    let period = number(field(body, "Period")).ok_or_else(|| missing("Period"))?;
    let statistics: Vec<String> = list(body, "Statistics")
        .iter()
        .filter_map(|s| s.as_text().map(str::to_owned))
        .collect();
    if statistics.is_empty() {
        return Err(missing("Statistics"));
    }
    if let Some(bad) = statistics
        .iter()
        .find(|s| !["SampleCount", "Average", "Sum", "Minimum", "Maximum"].contains(&s.as_str()))
    {
        return Err(invalid(format!(
            "The value {bad} for parameter Statistics is not valid."
        )));
    }
    if period <= 0.0 || period % 60.0 != 0.0 {
        return Err(invalid("The parameter Period must be a multiple of 60."));
    }
    // Recent data: the start is rounded down to the whole minute.
    let start = (start / 60.0).floor() * 60.0;
    if end <= start {
        return Err(invalid(
            "The parameter StartTime must be less than the parameter EndTime.",
        ));
    }
    let points = ((end - start) / period).ceil();
    if points > MAX_DATAPOINTS {
        return Err(Fault(
            400,
            "InvalidParameterCombination".into(),
            format!(
                "You have requested up to {points} datapoints, which exceeds the limit of 1440. You may reduce the datapoints requested by increasing Period, or decreasing the time range."
            ),
        ));
    }
    Ok(Query {
        namespace,
        metric,
        dimensions: dimensions(body)?,
        start,
        end,
        period,
        statistics,
        unit: string(body, "Unit"),
    })
}

/// The `GetMetricStatistics` output: one datapoint per `Period` bucket holding data.
pub(super) fn statistics(data: &[Datum], q: &Query) -> Cbor {
    let mut buckets: BTreeMap<i64, (f64, f64, f64, f64, String)> = BTreeMap::new();
    for d in data.iter().filter(|d| {
        d.namespace == q.namespace
            && d.metric == q.metric
            && d.dimensions == q.dimensions
            && q.unit.as_ref().is_none_or(|u| *u == d.unit)
            && d.timestamp >= q.start
            && d.timestamp < q.end
    }) {
        let k = ((d.timestamp - q.start) / q.period).floor() as i64;
        let b = buckets.entry(k).or_insert((
            0.0,
            0.0,
            f64::INFINITY,
            f64::NEG_INFINITY,
            d.unit.clone(),
        ));
        *b = (
            b.0 + d.count,
            b.1 + d.sum,
            b.2.min(d.min),
            b.3.max(d.max),
            b.4.clone(),
        );
    }
    let points = buckets
        .into_iter()
        .map(|(k, (count, sum, min, max, unit))| {
            let mut entries = vec![(
                "Timestamp",
                Cbor::Tag(1, Box::new(Cbor::Float(q.start + k as f64 * q.period))),
            )];
            for s in &q.statistics {
                let v = match s.as_str() {
                    "SampleCount" => count,
                    "Sum" => sum,
                    "Minimum" => min,
                    "Maximum" => max,
                    _ => sum / count,
                };
                entries.push((s.as_str(), Cbor::Float(v)));
            }
            entries.push(("Unit", text(&unit)));
            map(entries)
        })
        .collect();
    map(vec![
        ("Label", text(&q.metric)),
        ("Datapoints", Cbor::Array(points)),
    ])
}

pub(super) fn text(s: &str) -> Cbor {
    Cbor::Text(s.to_owned())
}

pub(super) fn map(entries: Vec<(&str, Cbor)>) -> Cbor {
    Cbor::Map(entries.into_iter().map(|(k, v)| (text(k), v)).collect())
}

pub(super) fn to_json(v: &Cbor) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        Cbor::Integer(i) => serde_json::json!(i128::from(*i) as f64),
        Cbor::Float(f) => serde_json::json!(f),
        Cbor::Text(s) => J::String(s.clone()),
        Cbor::Bool(b) => J::Bool(*b),
        Cbor::Tag(_, inner) => to_json(inner),
        Cbor::Array(a) => J::Array(a.iter().map(to_json).collect()),
        Cbor::Map(m) => J::Object(
            m.iter()
                .map(|(k, v)| (k.as_text().unwrap_or("?").to_owned(), to_json(v)))
                .collect(),
        ),
        _ => J::Null,
    }
}

/// Minimal CBOR encoder (RFC 8949) for the shapes answered here: definite-length maps,
/// arrays and text, 64-bit floats (always `0xfb`, which every decoder reads), tags.
pub(super) fn encode(v: &Cbor, out: &mut Vec<u8>) {
    fn head(major: u8, n: u64, out: &mut Vec<u8>) {
        let m = major << 5;
        match n {
            0..=23 => out.push(m | n as u8),
            24..=0xff => out.extend([m | 24, n as u8]),
            0x100..=0xffff => {
                out.push(m | 25);
                out.extend((n as u16).to_be_bytes());
            }
            0x1_0000..=0xffff_ffff => {
                out.push(m | 26);
                out.extend((n as u32).to_be_bytes());
            }
            _ => {
                out.push(m | 27);
                out.extend(n.to_be_bytes());
            }
        }
    }
    match v {
        Cbor::Text(s) => {
            head(3, s.len() as u64, out);
            out.extend(s.as_bytes());
        }
        Cbor::Float(f) => {
            out.push(0xfb);
            out.extend(f.to_be_bytes());
        }
        Cbor::Array(a) => {
            head(4, a.len() as u64, out);
            a.iter().for_each(|x| encode(x, out));
        }
        Cbor::Map(m) => {
            head(5, m.len() as u64, out);
            for (k, x) in m {
                encode(k, out);
                encode(x, out);
            }
        }
        Cbor::Tag(t, inner) => {
            head(6, *t, out);
            encode(inner, out);
        }
        Cbor::Bool(b) => out.push(if *b { 0xf5 } else { 0xf4 }),
        _ => out.push(0xf6),
    }
}
