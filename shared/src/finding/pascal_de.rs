//! Reading a PascalCase finding (`aws guardduty get-findings`) straight into the camelCase
//! model: a deserializer adapter that renames every object key as it is read, with the
//! same names as [`super::pascal::camel_case_keys`]. It spares building a `Value` tree and
//! a renamed copy of it per finding, which was a third of a streamed replay's time.

use super::pascal::json_name;
use compact_str::CompactString;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use std::fmt;

/// A deserializer whose objects' keys are renamed to their JSON names.
pub struct Renamed<D>(pub D);

macro_rules! forward {
    ($($method:ident)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
            self.0.$method(Renaming(visitor))
        }
    )*};
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Renamed<D> {
    type Error = D::Error;

    forward! {
        deserialize_any deserialize_bool deserialize_i8 deserialize_i16 deserialize_i32
        deserialize_i64 deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64
        deserialize_f32 deserialize_f64 deserialize_char deserialize_str deserialize_string
        deserialize_bytes deserialize_byte_buf deserialize_option deserialize_unit
        deserialize_seq deserialize_map deserialize_identifier deserialize_ignored_any
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.deserialize_unit_struct(name, Renaming(visitor))
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.deserialize_newtype_struct(name, Renaming(visitor))
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.deserialize_tuple(len, Renaming(visitor))
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0
            .deserialize_tuple_struct(name, len, Renaming(visitor))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.deserialize_struct(name, fields, Renaming(visitor))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        // Enums in the model are read from strings; their values are not keys.
        self.0.deserialize_enum(name, variants, visitor)
    }
}

/// A visitor whose nested maps and sequences are renamed too.
struct Renaming<V>(V);

impl<'de, V: Visitor<'de>> Visitor<'de> for Renaming<V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        self.0.expecting(f)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<V::Value, E> {
        self.0.visit_bool(v)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<V::Value, E> {
        self.0.visit_i64(v)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<V::Value, E> {
        self.0.visit_u64(v)
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<V::Value, E> {
        self.0.visit_f64(v)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<V::Value, E> {
        self.0.visit_str(v)
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<V::Value, E> {
        self.0.visit_borrowed_str(v)
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<V::Value, E> {
        self.0.visit_string(v)
    }
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<V::Value, E> {
        self.0.visit_bytes(v)
    }
    fn visit_none<E: de::Error>(self) -> Result<V::Value, E> {
        self.0.visit_none()
    }
    fn visit_unit<E: de::Error>(self) -> Result<V::Value, E> {
        self.0.visit_unit()
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<V::Value, D::Error> {
        self.0.visit_some(Renamed(d))
    }
    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<V::Value, D::Error> {
        self.0.visit_newtype_struct(Renamed(d))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<V::Value, A::Error> {
        self.0.visit_seq(RenamedSeq(seq))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        self.0.visit_map(RenamedMap(map))
    }
}

struct RenamedSeq<A>(A);

impl<'de, A: SeqAccess<'de>> SeqAccess<'de> for RenamedSeq<A> {
    type Error = A::Error;
    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, A::Error> {
        self.0.next_element_seed(RenamedSeed(seed))
    }
    fn size_hint(&self) -> Option<usize> {
        self.0.size_hint()
    }
}

struct RenamedMap<A>(A);

impl<'de, A: MapAccess<'de>> MapAccess<'de> for RenamedMap<A> {
    type Error = A::Error;
    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        self.0.next_key_seed(KeySeed(seed))
    }
    fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value, A::Error> {
        self.0.next_value_seed(RenamedSeed(seed))
    }
    fn size_hint(&self) -> Option<usize> {
        self.0.size_hint()
    }
}

/// A value seed read through [`Renamed`].
struct RenamedSeed<S>(S);

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for RenamedSeed<S> {
    type Value = S::Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<S::Value, D::Error> {
        self.0.deserialize(Renamed(d))
    }
}

/// A key: read as text, renamed (inline: no allocation for keys up to 24 bytes), then
/// handed to the model's field visitor.
struct KeySeed<S>(S);

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for KeySeed<S> {
    type Value = S::Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<S::Value, D::Error> {
        let key = d.deserialize_str(KeyText)?;
        self.0
            .deserialize(de::value::StrDeserializer::<D::Error>::new(&key))
    }
}

struct KeyText;

impl Visitor<'_> for KeyText {
    type Value = CompactString;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object key")
    }
    fn visit_str<E: de::Error>(self, member: &str) -> Result<CompactString, E> {
        Ok(match member {
            "SourceIps" | "TaskCreatedAt" => CompactString::from(json_name(member)),
            _ => {
                let mut chars = member.chars();
                let mut name = CompactString::default();
                if let Some(first) = chars.next() {
                    name.extend(first.to_lowercase());
                    name.push_str(chars.as_str());
                }
                name
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Finding;
    use crate::finding::pascal::camel_case_keys;
    use serde::Deserialize;
    use serde_json::{Map, Value};

    fn pascal(value: Value) -> Value {
        match value {
            Value::Object(map) => Value::Object(
                map.into_iter()
                    .map(|(k, v)| {
                        let key = match k.as_str() {
                            "sourceIPs" => "SourceIps".to_owned(),
                            _ => k[..1].to_uppercase() + &k[1..],
                        };
                        (key, pascal(v))
                    })
                    .collect::<Map<_, _>>(),
            ),
            Value::Array(items) => Value::Array(items.into_iter().map(pascal).collect()),
            other => other,
        }
    }

    /// Every sample finding, in SDK member names, reads the same through the adapter as
    /// through a renamed `Value` tree.
    #[test]
    fn the_adapter_reads_what_the_renamed_tree_reads() {
        let dir = format!("{}/../events", env!("CARGO_MANIFEST_DIR"));
        let mut compared = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let Ok(doc) = serde_json::from_slice::<Value>(&std::fs::read(&path).unwrap()) else {
                continue;
            };
            if doc["detail-type"] != "GuardDuty Finding" || doc["detail"].get("id").is_none() {
                continue;
            }
            let text = pascal(doc["detail"].clone()).to_string();
            let tree: Finding =
                serde_json::from_value(camel_case_keys(serde_json::from_str(&text).unwrap()))
                    .unwrap();
            let mut de = serde_json::Deserializer::from_str(&text);
            let adapted = Finding::deserialize(Renamed(&mut de)).unwrap();
            assert_eq!(
                serde_json::to_value(&adapted).unwrap(),
                serde_json::to_value(&tree).unwrap(),
                "{}",
                path.display()
            );
            compared += 1;
        }
        assert!(compared > 20, "{compared}");
    }
}
