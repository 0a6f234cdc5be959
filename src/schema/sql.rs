//! SQL fragments with their bound parameters, independent of the SQLite binding in use.
//!
//! Cloudflare's SQLite allows 100 bound parameters per statement and an expression depth of
//! 100: builders bind long lists as one JSON array (`json_each(?)`) and combine long
//! `AND`/`OR` lists as balanced trees.

use serde::Serialize;

/// Bound parameters per statement (Cloudflare Durable Object SQLite).
pub const MAX_BOUND_PARAMETERS: usize = 100;
/// Columns per table (Cloudflare Durable Object SQLite), counting `id`.
pub const MAX_COLUMNS_PER_TABLE: usize = 100;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Param {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
}

impl From<&str> for Param {
    fn from(s: &str) -> Self {
        Param::Text(s.to_string())
    }
}
impl From<String> for Param {
    fn from(s: String) -> Self {
        Param::Text(s)
    }
}
impl From<i64> for Param {
    fn from(i: i64) -> Self {
        Param::Int(i)
    }
}
impl From<f64> for Param {
    fn from(f: f64) -> Self {
        Param::Real(f)
    }
}

/// A SQL text with `?` placeholders and their values, in order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sql {
    pub text: String,
    pub params: Vec<Param>,
}

impl Sql {
    pub fn new(text: impl Into<String>) -> Self {
        Sql {
            text: text.into(),
            params: vec![],
        }
    }

    pub fn with(text: impl Into<String>, params: Vec<Param>) -> Self {
        Sql {
            text: text.into(),
            params,
        }
    }

    pub fn push(&mut self, other: Sql) {
        self.text.push_str(&other.text);
        self.params.extend(other.params);
    }

    pub fn push_str(&mut self, s: &str) {
        self.text.push_str(s);
    }
}

impl Sql {
    /// The statement as SQLite can bind it: with more than [`MAX_BOUND_PARAMETERS`]
    /// values, every `?` becomes `json_extract(?1, '$[i]')` over ONE bound JSON array
    /// (SQLite counts `?1` once however often it appears).
    pub fn bindable(&self) -> std::borrow::Cow<'_, Sql> {
        if self.params.len() <= MAX_BOUND_PARAMETERS {
            return std::borrow::Cow::Borrowed(self);
        }
        let mut text = String::with_capacity(self.text.len() + self.params.len() * 24);
        let mut i = 0;
        for c in self.text.chars() {
            if c == '?' {
                text.push_str(&format!("json_extract(?1, '$[{i}]')"));
                i += 1;
            } else {
                text.push(c);
            }
        }
        let values: Vec<serde_json::Value> = self
            .params
            .iter()
            .map(|p| match p {
                Param::Null => serde_json::Value::Null,
                Param::Int(i) => serde_json::json!(i),
                Param::Real(f) => serde_json::json!(f),
                Param::Text(s) => serde_json::json!(s),
            })
            .collect();
        std::borrow::Cow::Owned(Sql {
            text,
            params: vec![Param::Text(serde_json::Value::Array(values).to_string())],
        })
    }
}

/// Joins `parts` with `op` (`AND`/`OR`) as a balanced tree, so hundreds of terms stay
/// within SQLite's expression depth limit. An empty list is `empty` (`1` or `0`).
pub fn balanced(parts: Vec<Sql>, op: &str, empty: &str) -> Sql {
    match parts.len() {
        0 => Sql::new(empty),
        1 => {
            let mut s = Sql::new("(");
            s.push(parts.into_iter().next().unwrap_or_default());
            s.push_str(")");
            s
        }
        n => {
            let mut parts = parts;
            let right = parts.split_off(n / 2);
            let mut s = Sql::new("(");
            s.push(balanced(parts, op, empty));
            s.push_str(&format!(" {op} "));
            s.push(balanced(right, op, empty));
            s.push_str(")");
            s
        }
    }
}

/// `"name"` as a quoted SQL identifier.
pub fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The deepest parenthesis nesting in `text` (SQLite refuses expressions deeper than 100).
    pub(crate) fn max_depth(text: &str) -> i32 {
        text.chars()
            .scan(0i32, |d, c| {
                *d += match c {
                    '(' => 1,
                    ')' => -1,
                    _ => 0,
                };
                Some(*d)
            })
            .max()
            .unwrap()
    }

    #[test]
    fn balanced_trees() {
        let terms = |n: usize| {
            (0..n)
                .map(|i| Sql::with("x = ?", vec![Param::Int(i as i64)]))
                .collect()
        };
        assert_eq!(balanced(vec![], "AND", "1").text, "1");
        assert_eq!(balanced(terms(1), "AND", "1").text, "(x = ?)");
        assert_eq!(
            balanced(terms(3), "OR", "0").text,
            "((x = ?) OR ((x = ?) OR (x = ?)))"
        );
        let big = balanced(terms(1000), "OR", "0");
        assert_eq!(big.params.len(), 1000);
        // Depth grows with log2(n), far below SQLite's 100.
        let depth = max_depth(&big.text);
        assert!(depth < 30, "{depth}");
    }
}
