//! Drive's `fields` partial-response syntax: `a,b/c,d(e,f),*`.
//! <https://developers.google.com/drive/api/guides/fields-parameter>

use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// A field selection: everything, or named fields with sub-selections.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fields {
    All,
    Some(BTreeMap<String, Fields>),
}

impl Fields {
    /// Parses a `fields` expression. Err names the problem (Google answers 400).
    pub fn parse(s: &str) -> Result<Fields, String> {
        let chars: Vec<char> = s.chars().filter(|c| !c.is_whitespace()).collect();
        let mut pos = 0;
        let fields = parse_list(&chars, &mut pos)?;
        if pos != chars.len() {
            return Err(format!("Invalid field selection {s}"));
        }
        Ok(fields)
    }

    /// True when the selection includes `path` (e.g. `["files", "md5Checksum"]`).
    pub fn wants(&self, path: &[&str]) -> bool {
        match (self, path.split_first()) {
            (Fields::All, _) | (_, None) => true,
            (Fields::Some(map), Some((first, rest))) => {
                if map.contains_key("*") {
                    return true;
                }
                map.get(*first).is_some_and(|sub| sub.wants(rest))
            }
        }
    }

    /// The selection of no field at all.
    pub fn nothing() -> Fields {
        Fields::Some(BTreeMap::new())
    }

    /// The selection under the top-level field `key`: everything for `All`
    /// or `*`, `None` when `key` is not selected.
    pub fn sub(&self, key: &str) -> Option<&Fields> {
        static ALL: Fields = Fields::All;
        match self {
            Fields::All => Some(&ALL),
            Fields::Some(map) if map.contains_key("*") => Some(&ALL),
            Fields::Some(map) => map.get(key),
        }
    }

    /// Keeps only the selected parts of `value` (arrays apply to each element).
    pub fn apply(&self, value: Value) -> Value {
        match (self, value) {
            (Fields::All, v) => v,
            (Fields::Some(map), Value::Object(obj)) if !map.contains_key("*") => {
                let mut out = Map::new();
                for (k, v) in obj {
                    if let Some(sub) = map.get(&k) {
                        out.insert(k, sub.apply(v));
                    }
                }
                Value::Object(out)
            }
            (f, Value::Array(items)) => {
                Value::Array(items.into_iter().map(|v| f.apply(v)).collect())
            }
            (_, v) => v,
        }
    }

    fn insert(&mut self, path: &[String], sub: Fields) {
        let Fields::Some(map) = self else { return };
        let Some((first, rest)) = path.split_first() else {
            return;
        };
        if rest.is_empty() {
            let merged = match (map.remove(first), sub) {
                (Some(Fields::Some(mut a)), Fields::Some(b)) => {
                    a.extend(b);
                    Fields::Some(a)
                }
                (_, Fields::All) | (Some(Fields::All), _) => Fields::All,
                (None, s) => s,
            };
            map.insert(first.clone(), merged);
        } else {
            let entry = map
                .entry(first.clone())
                .or_insert_with(|| Fields::Some(BTreeMap::new()));
            entry.insert(rest, sub);
        }
    }
}

fn parse_list(chars: &[char], pos: &mut usize) -> Result<Fields, String> {
    let mut fields = Fields::Some(BTreeMap::new());
    loop {
        let mut path = Vec::new();
        let mut name = String::new();
        while *pos < chars.len() && !matches!(chars[*pos], ',' | '(' | ')') {
            if chars[*pos] == '/' {
                path.push(std::mem::take(&mut name));
            } else {
                name.push(chars[*pos]);
            }
            *pos += 1;
        }
        path.push(name);
        if path.iter().any(String::is_empty) {
            return Err("Invalid field selection: empty field name".into());
        }
        let sub = if *pos < chars.len() && chars[*pos] == '(' {
            *pos += 1;
            let inner = parse_list(chars, pos)?;
            if *pos >= chars.len() || chars[*pos] != ')' {
                return Err("Invalid field selection: missing ')'".into());
            }
            *pos += 1;
            inner
        } else {
            Fields::All
        };
        fields.insert(&path, sub);
        if *pos < chars.len() && chars[*pos] == ',' {
            *pos += 1;
            continue;
        }
        return Ok(fields);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sub_selections() {
        let f = Fields::parse("nextPageToken,files(id,capabilities/canDownload)").unwrap();
        let files = f.sub("files").unwrap();
        assert!(files.wants(&["id"]));
        assert!(files.wants(&["capabilities"]));
        assert!(!files.wants(&["name"]));
        assert_eq!(f.sub("kind"), None);
        assert_eq!(Fields::parse("*").unwrap().sub("files"), Some(&Fields::All));
        assert_eq!(Fields::All.sub("files"), Some(&Fields::All));
        assert!(!Fields::nothing().wants(&["id"]));
    }

    #[test]
    fn selections() {
        let f = Fields::parse("nextPageToken, files(id,name,parents),user/emailAddress").unwrap();
        assert!(f.wants(&["files", "id"]));
        assert!(!f.wants(&["files", "md5Checksum"]));
        assert!(f.wants(&["nextPageToken"]));
        let v = f.apply(json!({"kind": "k", "nextPageToken": "t",
            "files": [{"id": "1", "name": "a", "size": "3"}],
            "user": {"emailAddress": "e", "displayName": "d"}}));
        assert_eq!(
            v,
            json!({"nextPageToken": "t", "files": [{"id": "1", "name": "a"}],
            "user": {"emailAddress": "e"}})
        );
        assert_eq!(
            Fields::parse("*").unwrap().apply(json!({"a": 1})),
            json!({"a": 1})
        );
        assert!(Fields::parse("files(id").is_err());
    }
}
