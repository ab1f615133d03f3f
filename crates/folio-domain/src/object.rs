//! JSON objects and only JSON objects for structs.
//!
//! serde's derived `Deserialize` for a struct also accepts a sequence of
//! its fields in declaration order: `"source": ["abc"]` would read as
//! `{"folderId": "abc"}` and `[null, null]` as an empty source. No client
//! means that, and the API's document promises objects, so every struct a
//! request carries is read through [`Object`] (a request body) or
//! [`object_only!`] (a domain type nested in one): anything but a JSON
//! object is "invalid type: sequence, expected a JSON object".

use std::fmt;
use std::marker::PhantomData;

use serde::de::value::MapAccessDeserializer;
use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

/// `T`, read only from a JSON object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object<T>(pub T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Object<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjectVisitor<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for ObjectVisitor<T> {
            type Value = T;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
                T::deserialize(MapAccessDeserializer::new(map))
            }
        }
        deserializer
            .deserialize_map(ObjectVisitor(PhantomData))
            .map(Object)
    }
}

/// Implements `Deserialize` for a struct whose derive carries
/// `#[serde(remote = "Self")]` (which turns the derived code into inherent
/// `serialize`/`deserialize` functions), reading it only from a JSON object,
/// and `Serialize` through the derived code unchanged.
#[macro_export]
macro_rules! object_only {
    ($ty:ty) => {
        impl<'de> ::serde::Deserialize<'de> for $ty {
            fn deserialize<D: ::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> Result<Self, D::Error> {
                struct ObjectVisitor;
                impl<'de> ::serde::de::Visitor<'de> for ObjectVisitor {
                    type Value = $ty;
                    fn expecting(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                        f.write_str("a JSON object")
                    }
                    fn visit_map<A: ::serde::de::MapAccess<'de>>(
                        self,
                        map: A,
                    ) -> Result<$ty, A::Error> {
                        // The inherent function the remote derive made.
                        <$ty>::deserialize(::serde::de::value::MapAccessDeserializer::new(map))
                    }
                }
                deserializer.deserialize_map(ObjectVisitor)
            }
        }

        impl ::serde::Serialize for $ty {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                <$ty>::serialize(self, serializer)
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Pair {
        a: Option<u32>,
        b: Option<u32>,
    }

    #[test]
    fn objects_are_read_and_sequences_refused() {
        let pair: Object<Pair> = serde_json::from_str(r#"{"a": 1}"#).unwrap();
        assert_eq!(
            pair.0,
            Pair {
                a: Some(1),
                b: None
            }
        );
        // What serde's derive alone accepts:
        assert!(serde_json::from_str::<Pair>("[1, 2]").is_ok());
        for bad in ["[1, 2]", "[null, null]", "[]", "1", "\"a\"", "null", "true"] {
            let err = serde_json::from_str::<Object<Pair>>(bad).unwrap_err();
            assert!(
                err.to_string().contains("expected a JSON object"),
                "{bad}: {err}"
            );
        }
        let unknown = serde_json::from_str::<Object<Pair>>(r#"{"c": 1}"#).unwrap_err();
        assert!(unknown.to_string().contains("unknown field"), "{unknown}");
    }
}
