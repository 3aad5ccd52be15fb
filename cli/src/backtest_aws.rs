//! `responder backtest` with no file: the detector's findings from GuardDuty
//! (`guardduty:ListDetectors`, `ListFindings`, `GetFindings`; nothing else is called).

use crate::backtest_collect::Collector;
use responder::history::{Query, each_page};

#[derive(clap::Args)]
pub struct Source {
    /// The detector's region (default: AWS_REGION, then AWS_DEFAULT_REGION).
    #[arg(long)]
    region: Option<String>,
    /// The detector; found with ListDetectors when there is exactly one.
    #[arg(long)]
    detector_id: Option<String>,
    /// Only findings updated in this last period: `30d`, `12h`, `90m`.
    #[arg(long, value_name = "AGE", value_parser = parse_age, default_value = "30d")]
    updated_since: u64,
    /// Finding ids per ListFindings page (1–50).
    #[arg(long, default_value_t = 50)]
    page_size: i32,
}

/// `30d` / `12h` / `90m` as milliseconds.
fn parse_age(text: &str) -> Result<u64, String> {
    let (number, unit) = text.split_at(text.len().saturating_sub(1));
    let n: u64 = number
        .parse()
        .map_err(|_| format!("{text:?}: expected a number and d, h or m, e.g. 30d"))?;
    let unit_ms = match unit {
        "d" => 86_400_000,
        "h" => 3_600_000,
        "m" => 60_000,
        _ => return Err(format!("{text:?}: the unit is d, h or m")),
    };
    n.checked_mul(unit_ms)
        .ok_or_else(|| format!("{text:?}: too long"))
}

pub async fn read(source: &Source, collector: &mut Collector<'_>) -> Result<(), String> {
    let region = source
        .region
        .clone()
        .or_else(|| std::env::var("AWS_REGION").ok())
        .or_else(|| std::env::var("AWS_DEFAULT_REGION").ok())
        .filter(|r| !r.trim().is_empty())
        .ok_or("no input file and no region: name files, or pass --region or set AWS_REGION")?;
    let sdk = responder::execute::aws::sdk_config(&region).await;
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    let query = Query {
        detector_id: source.detector_id.clone(),
        updated_since_ms: Some(now_ms.saturating_sub(source.updated_since as i64)),
        page_size: Some(source.page_size),
    };
    let mut page = |body: &[u8]| collector.read(body);
    each_page(&sdk, &query, &mut page)
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::parse_age;

    #[test]
    fn ages_are_days_hours_or_minutes() {
        assert_eq!(parse_age("30d"), Ok(30 * 86_400_000));
        assert_eq!(parse_age("12h"), Ok(12 * 3_600_000));
        assert_eq!(parse_age("90m"), Ok(90 * 60_000));
        for bad in ["", "d", "30", "30w", "-1d", "x1h"] {
            assert!(parse_age(bad).is_err(), "{bad}");
        }
    }
}
