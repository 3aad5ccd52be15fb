//! Tolerant deserializers for the type hazards real findings carry.
//!
//! GuardDuty mixes timestamp shapes (ISO strings, epoch seconds, ms, µs, scientific
//! notation), redacted samples carry unparseable values, and third-party fixtures
//! spell booleans as strings. None of that may reject a finding: optional fields fall
//! back to "unknown" instead of failing the whole parse.

use chrono::{DateTime, Utc};
use serde::de::{self, Deserializer, IgnoredAny, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use std::fmt;

/// A point in time as GuardDuty wrote it; `Unparsed` keeps the original text.
#[derive(Debug, Clone, PartialEq)]
pub enum Timestamp {
    At(DateTime<Utc>),
    Unparsed(String),
}

impl Timestamp {
    pub fn as_datetime(&self) -> Option<DateTime<Utc>> {
        match self {
            Timestamp::At(t) => Some(*t),
            Timestamp::Unparsed(_) => None,
        }
    }

    /// Interprets an epoch number whose unit must be guessed from its magnitude.
    pub fn from_epoch(n: f64) -> Timestamp {
        if !n.is_finite() || n < 0.0 {
            return Timestamp::Unparsed(n.to_string());
        }
        // Seconds until year 5138, then ms, then µs.
        let micros = if n < 1e11 {
            n * 1e6
        } else if n < 1e14 {
            n * 1e3
        } else {
            n
        };
        DateTime::from_timestamp_micros(micros as i64)
            .map(Timestamp::At)
            .unwrap_or_else(|| Timestamp::Unparsed(n.to_string()))
    }

    pub fn from_text(s: &str) -> Timestamp {
        if let Ok(t) = DateTime::parse_from_rfc3339(s) {
            return Timestamp::At(t.with_timezone(&Utc));
        }
        // 2017-era findings use `+0000` instead of `Z`.
        if let Ok(t) = DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z") {
            return Timestamp::At(t.with_timezone(&Utc));
        }
        match s.trim().parse::<f64>() {
            Ok(n) => Timestamp::from_epoch(n),
            Err(_) => Timestamp::Unparsed(s.chars().take(64).collect()),
        }
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Timestamp::At(t) => {
                s.serialize_str(&t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
            }
            Timestamp::Unparsed(raw) => s.serialize_str(raw),
        }
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Timestamp;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a timestamp")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Timestamp, E> {
                Ok(Timestamp::from_text(s))
            }
            fn visit_f64<E: de::Error>(self, n: f64) -> Result<Timestamp, E> {
                Ok(Timestamp::from_epoch(n))
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Timestamp, E> {
                Ok(Timestamp::from_epoch(n as f64))
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Timestamp, E> {
                Ok(Timestamp::from_epoch(n as f64))
            }
            fn visit_bool<E: de::Error>(self, b: bool) -> Result<Timestamp, E> {
                Ok(Timestamp::Unparsed(b.to_string()))
            }
            fn visit_map<A: de::MapAccess<'de>>(self, m: A) -> Result<Timestamp, A::Error> {
                skip_map(m).map(|()| Timestamp::Unparsed("{…}".into()))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, s: A) -> Result<Timestamp, A::Error> {
                skip_seq(s).map(|()| Timestamp::Unparsed("[…]".into()))
            }
        }
        d.deserialize_any(V)
    }
}

/// `null` where a list or object is expected means "empty".
pub fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// A boolean that also accepts `"true"`/`"false"`; anything else is "not set".
pub fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Option<bool>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a boolean")
        }
        fn visit_bool<E: de::Error>(self, b: bool) -> Result<Self::Value, E> {
            Ok(Some(b))
        }
        fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
            Ok(match s.trim().to_ascii_lowercase().as_str() {
                "true" => Some(true),
                "false" => Some(false),
                _ => None,
            })
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Self::Value, D2::Error> {
            d.deserialize_any(V)
        }
        fn visit_i64<E: de::Error>(self, n: i64) -> Result<Self::Value, E> {
            Ok(Some(n != 0))
        }
        fn visit_u64<E: de::Error>(self, n: u64) -> Result<Self::Value, E> {
            Ok(Some(n != 0))
        }
        fn visit_f64<E: de::Error>(self, n: f64) -> Result<Self::Value, E> {
            Ok(Some(n != 0.0))
        }
        fn visit_map<A: de::MapAccess<'de>>(self, m: A) -> Result<Self::Value, A::Error> {
            skip_map(m).map(|()| None)
        }
        fn visit_seq<A: de::SeqAccess<'de>>(self, s: A) -> Result<Self::Value, A::Error> {
            skip_seq(s).map(|()| None)
        }
    }
    d.deserialize_option(V)
}

/// An integer that may arrive as a float or a numeric string.
pub fn int<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Option<i64>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an integer")
        }
        fn visit_i64<E: de::Error>(self, n: i64) -> Result<Self::Value, E> {
            Ok(Some(n))
        }
        fn visit_u64<E: de::Error>(self, n: u64) -> Result<Self::Value, E> {
            Ok(i64::try_from(n).ok())
        }
        fn visit_f64<E: de::Error>(self, n: f64) -> Result<Self::Value, E> {
            Ok(n.is_finite().then_some(n as i64))
        }
        fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
            Ok(s.trim().parse().ok())
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Self::Value, D2::Error> {
            d.deserialize_any(V)
        }
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_map<A: de::MapAccess<'de>>(self, m: A) -> Result<Self::Value, A::Error> {
            skip_map(m).map(|()| None)
        }
        fn visit_seq<A: de::SeqAccess<'de>>(self, s: A) -> Result<Self::Value, A::Error> {
            skip_seq(s).map(|()| None)
        }
    }
    d.deserialize_option(V)
}

/// A number that may arrive as a numeric string; anything else, or a non-finite value, is
/// "not set".
pub fn number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    Ok(match Option::<serde_json::Value>::deserialize(d)? {
        Some(serde_json::Value::Number(n)) => n.as_f64(),
        Some(serde_json::Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    }
    .filter(|n: &f64| n.is_finite()))
}

fn skip_map<'de, A: de::MapAccess<'de>>(mut m: A) -> Result<(), A::Error> {
    while m.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
    Ok(())
}

fn skip_seq<'de, A: de::SeqAccess<'de>>(mut s: A) -> Result<(), A::Error> {
    while s.next_element::<IgnoredAny>()?.is_some() {}
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(json: &str) -> Timestamp {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn every_timestamp_shape_lands_on_the_same_instant() {
        let iso = ts(r#""2021-12-08T23:30:30.000Z""#).as_datetime().unwrap();
        for shape in [
            "1.63900623E9",
            "1639006230",
            "1639006230000",
            "1639006230000000",
            r#""2021-12-08T23:30:30.000+0000""#,
        ] {
            assert_eq!(ts(shape).as_datetime(), Some(iso), "{shape}");
        }
    }

    #[test]
    fn masked_and_odd_timestamps_are_kept_not_rejected() {
        assert_eq!(
            ts(r#""XXXX-XX-XXTXX:XX:XXZ""#),
            Timestamp::Unparsed("XXXX-XX-XXTXX:XX:XXZ".into())
        );
        assert!(matches!(ts("true"), Timestamp::Unparsed(_)));
        assert!(matches!(ts("-5"), Timestamp::Unparsed(_)));
        assert!(matches!(ts("{\"a\":1}"), Timestamp::Unparsed(_)));
    }

    #[derive(Deserialize)]
    struct Flags {
        #[serde(default, deserialize_with = "flag")]
        b: Option<bool>,
        #[serde(default, deserialize_with = "int")]
        n: Option<i64>,
    }

    #[test]
    fn string_booleans_and_float_integers_are_accepted() {
        let f: Flags = serde_json::from_str(r#"{"b":"false","n":12.0}"#).unwrap();
        assert_eq!((f.b, f.n), (Some(false), Some(12)));
        let f: Flags = serde_json::from_str(r#"{"b":null,"n":"7"}"#).unwrap();
        assert_eq!((f.b, f.n), (None, Some(7)));
        let f: Flags = serde_json::from_str(r#"{"b":{"x":1},"n":[1]}"#).unwrap();
        assert_eq!((f.b, f.n), (None, None));
        let f: Flags = serde_json::from_str(r#"{"b":1.0}"#).unwrap();
        assert_eq!(f.b, Some(true));
    }
}
