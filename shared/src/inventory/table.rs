//! `responder list` output: a text table (one row per resource, its release command under
//! it) or one JSON document. Values are validated already; they are neutralised again here
//! because a terminal is a channel too.

use super::{Inventory, human_age};
use crate::sanitize::neutralise;
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

const HEADINGS: [&str; 9] = [
    "SURFACE",
    "ACCOUNT",
    "REGION",
    "RESOURCE",
    "FINDING",
    "TYPE",
    "CONTAINED",
    "AGE",
    "RECORD",
];
/// Widest a cell is shown (a task ARN fits).
const CELL_MAX: usize = 160;

fn time(t: Option<DateTime<Utc>>) -> String {
    t.map_or_else(
        || "unknown".into(),
        |t| t.to_rfc3339_opts(SecondsFormat::Secs, true),
    )
}

/// The table.
pub fn text(inv: &Inventory, now: DateTime<Utc>) -> String {
    let rows: Vec<[String; 9]> = inv
        .contained
        .iter()
        .map(|c| {
            [
                c.surface.as_str().to_owned(),
                c.account.clone(),
                c.region.clone(),
                c.resource.clone(),
                c.finding_id.clone().unwrap_or_else(|| "-".into()),
                c.finding_type.clone().unwrap_or_else(|| "-".into()),
                time(c.contained_at),
                human_age(c.age(now)),
                c.record.label(),
            ]
            .map(|cell| neutralise(&cell, CELL_MAX).into_owned())
        })
        .collect();
    let mut widths = HEADINGS.map(str::len);
    for r in &rows {
        for (w, cell) in widths.iter_mut().zip(r) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &[String]| {
        let padded: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        padded.join(" ").trim_end().to_owned() + "\n"
    };
    let mut out = match inv.contained.len() {
        0 => "Nothing is contained.\n".to_owned(),
        1 => "1 contained resource\n\n".to_owned(),
        n => format!("{n} contained resources\n\n"),
    };
    if !rows.is_empty() {
        out.push_str(&line(&HEADINGS.map(String::from)));
    }
    for (row, c) in rows.iter().zip(&inv.contained) {
        out.push_str(&line(row));
        match &c.release_command {
            Some(cmd) => out.push_str(&format!("  release: {}\n", neutralise(cmd, 600))),
            None => out.push_str("  release: no command (see the note)\n"),
        }
        for n in &c.notes {
            out.push_str(&format!("  note: {}\n", neutralise(n, 200)));
        }
    }
    for e in &inv.errors {
        let scope = e
            .scope
            .as_deref()
            .map(|s| format!(" {s}"))
            .unwrap_or_default();
        out.push_str(&format!(
            "\nNOT READ: {} in {} {}{}: {}\n",
            e.surface,
            e.account,
            e.region,
            neutralise(&scope, 80),
            neutralise(&e.error, 300)
        ));
    }
    out
}

/// One document: `{"contained": [...], "errors": [...]}`, each entry with its age.
pub fn json(inv: &Inventory, now: DateTime<Utc>) -> Value {
    let contained: Vec<Value> = inv
        .contained
        .iter()
        .map(|c| {
            let mut v = serde_json::to_value(c).unwrap_or(Value::Null);
            if let Some(o) = v.as_object_mut() {
                o.insert(
                    "contained_at".into(),
                    json!(
                        c.contained_at
                            .map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true))
                    ),
                );
                o.insert("age_seconds".into(), json!(c.age(now).map(|a| a.as_secs())));
                o.insert("age".into(), json!(human_age(c.age(now))));
            }
            v
        })
        .collect();
    json!({"contained": contained, "errors": inv.errors})
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::Surface;
    use crate::inventory::{Contained, ReadError, RecordCheck};

    fn inv() -> Inventory {
        Inventory {
            contained: vec![Contained {
                surface: Surface::Eks,
                resource: "shop/web-1".into(),
                cluster: Some("prod".into()),
                account: "123456789012".into(),
                region: "eu-west-1".into(),
                finding_id: Some("ab12".into()),
                finding_type: None,
                status: "quarantined".into(),
                contained_at: Some("2026-11-29T10:00:00Z".parse().unwrap()),
                record: RecordCheck::Unverified("no seal".into()),
                release_command: Some(
                    "responder release eks prod shop web-1 --region eu-west-1 --execute".into(),
                ),
                notes: vec!["the pod is gone\u{1b}[31m".into()],
            }],
            errors: vec![ReadError {
                surface: "ecs",
                account: "123456789012".into(),
                region: "eu-west-1".into(),
                scope: None,
                error: "ListClusters: AccessDenied\n".into(),
            }],
        }
    }

    #[test]
    fn the_table_shows_each_resource_its_command_and_what_was_not_read() {
        let now = "2026-11-30T12:30:00Z".parse().unwrap();
        let t = text(&inv(), now);
        assert!(t.starts_with("1 contained resource\n"), "{t}");
        assert!(
            t.contains("eks     123456789012 eu-west-1 shop/web-1"),
            "{t}"
        );
        assert!(t.contains("1d 2h"), "{t}");
        assert!(
            t.contains("  release: responder release eks prod shop web-1"),
            "{t}"
        );
        assert!(
            t.contains("NOT READ: ecs in 123456789012 eu-west-1: ListClusters: AccessDenied\\n"),
            "{t}"
        );
        assert!(!t.contains('\u{1b}'), "{t}");
        let j = json(&inv(), now);
        assert_eq!(j["contained"][0]["age_seconds"], 95_400);
        assert_eq!(j["contained"][0]["surface"], "eks");
        assert_eq!(j["contained"][0]["record"]["state"], "unverified");
        assert_eq!(text(&Inventory::default(), now), "Nothing is contained.\n");
    }
}
