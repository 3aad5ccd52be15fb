//! Reading text and lists from a finding without rejecting it for one odd value.
//!
//! Only the fields routing needs (`id`, `type`, `accountId`, `region`,
//! `resource.resourceType`) are read strictly, with [`required`]. Every other string is
//! [`Untrusted`] and degrades instead of failing: `null`, an object or a list is shown as
//! empty, a number or boolean as its JSON text. In a list, `null` elements are left out.

use crate::sanitize::Untrusted;
use compact_str::CompactString;
use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, Visitor};
use std::fmt;
use std::marker::PhantomData;

impl<'de> Deserialize<'de> for Untrusted {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TextVisitor)
    }
}

struct TextVisitor;

impl<'de> Visitor<'de> for TextVisitor {
    type Value = Untrusted;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("text")
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<Untrusted, E> {
        Ok(Untrusted::new(s))
    }
    fn visit_string<E: de::Error>(self, s: String) -> Result<Untrusted, E> {
        Ok(Untrusted::new(s))
    }
    fn visit_bytes<E: de::Error>(self, b: &[u8]) -> Result<Untrusted, E> {
        Ok(Untrusted::new(String::from_utf8_lossy(b).as_ref()))
    }
    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Untrusted, E> {
        Ok(Untrusted::new(if b { "true" } else { "false" }))
    }
    fn visit_i64<E: de::Error>(self, n: i64) -> Result<Untrusted, E> {
        Ok(Untrusted::new(itoa::Buffer::new().format(n)))
    }
    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Untrusted, E> {
        Ok(Untrusted::new(itoa::Buffer::new().format(n)))
    }
    fn visit_f64<E: de::Error>(self, n: f64) -> Result<Untrusted, E> {
        Ok(Untrusted::new(n.to_string()))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Untrusted, E> {
        Ok(Untrusted::default())
    }
    fn visit_none<E: de::Error>(self) -> Result<Untrusted, E> {
        Ok(Untrusted::default())
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Untrusted, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_map<A: de::MapAccess<'de>>(self, mut m: A) -> Result<Untrusted, A::Error> {
        while m.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Untrusted::default())
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, mut s: A) -> Result<Untrusted, A::Error> {
        while s.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Untrusted::default())
    }
}

/// A field routing needs: a JSON string, or the finding is rejected (naming the field).
pub fn required<'de, D: Deserializer<'de>>(d: D) -> Result<Untrusted, D::Error> {
    CompactString::deserialize(d).map(Untrusted::new)
}

/// Optional text kept as a plain `String` (not attacker-visible on its own); empty or
/// unusable values are absent.
pub fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(Option::<Untrusted>::deserialize(d)?
        .filter(|t| !t.is_empty())
        .map(|t| t.as_raw().to_owned()))
}

/// A list; `null` (or a value that is not a list) is empty and `null` elements are left
/// out.
pub fn list<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    d.deserialize_option(ListVisitor(PhantomData))
}

struct ListVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for ListVisitor<T> {
    type Value = Vec<T>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list")
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, mut s: A) -> Result<Vec<T>, A::Error> {
        let mut out = Vec::with_capacity(s.size_hint().unwrap_or(0).min(64));
        while let Some(item) = s.next_element::<Option<T>>()? {
            out.extend(item);
        }
        Ok(out)
    }
    fn visit_none<E: de::Error>(self) -> Result<Vec<T>, E> {
        Ok(Vec::new())
    }
    fn visit_unit<E: de::Error>(self) -> Result<Vec<T>, E> {
        Ok(Vec::new())
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Vec<T>, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_map<A: de::MapAccess<'de>>(self, mut m: A) -> Result<Vec<T>, A::Error> {
        while m.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Vec::new())
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Vec<T>, E> {
        Ok(Vec::new())
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Vec<T>, E> {
        Ok(Vec::new())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Vec<T>, E> {
        Ok(Vec::new())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Vec<T>, E> {
        Ok(Vec::new())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Vec<T>, E> {
        Ok(Vec::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Doc {
        #[serde(deserialize_with = "required")]
        id: Untrusted,
        #[serde(default)]
        name: Option<Untrusted>,
        #[serde(default)]
        value: Untrusted,
        #[serde(default, deserialize_with = "list")]
        flags: Vec<Untrusted>,
        #[serde(default, deserialize_with = "opt_string")]
        partition: Option<String>,
    }

    fn doc(json: &str) -> Result<Doc, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn odd_text_values_degrade_and_null_list_elements_are_left_out() {
        let d = doc(
            r#"{"id":"a","name":{"x":[1]},"value":null,"flags":[null,"rw",7,null],"partition":5}"#,
        )
        .unwrap();
        assert_eq!(d.id.as_raw(), "a");
        assert_eq!(d.name.unwrap().as_raw(), "");
        assert_eq!(d.value.as_raw(), "");
        let flags: Vec<&str> = d.flags.iter().map(Untrusted::as_raw).collect();
        assert_eq!(flags, ["rw", "7"]);
        assert_eq!(d.partition.as_deref(), Some("5"));
        let d =
            doc(r#"{"id":"a","name":true,"value":1.5,"flags":{"a":1},"partition":null}"#).unwrap();
        assert_eq!(
            (d.name.unwrap().as_raw(), d.value.as_raw()),
            ("true", "1.5")
        );
        assert!(d.flags.is_empty() && d.partition.is_none());
        assert!(doc(r#"{"id":"a","flags":null}"#).unwrap().flags.is_empty());
    }

    #[test]
    fn a_field_routing_needs_is_still_strict() {
        for bad in [r#"{"id":null}"#, r#"{"id":5}"#, r#"{"id":{}}"#, "{}"] {
            assert!(doc(bad).is_err(), "{bad}");
        }
    }
}

/// A resource tag as the finding reports it: both halves are the workload owner's text.
#[derive(Debug, Clone, Default, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Tag {
    pub key: Untrusted,
    pub value: Untrusted,
}
