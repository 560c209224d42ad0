//! Reading and writing values of a snapshot's facts by dotted path.

use serde_json::{Map, Value};

/// Follows a dotted path (`users.mfaRegistered`) through nested JSON objects.
pub fn lookup<'a>(facts: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.')
        .try_fold(facts, |value, segment| value.as_object()?.get(segment))
}

/// A fact that is a finite, non-negative number; anything else is missing data.
pub fn count(facts: &Value, path: &str) -> Option<f64> {
    lookup(facts, path)?
        .as_f64()
        .filter(|n| n.is_finite() && *n >= 0.0)
}

/// A fact that is a JSON boolean.
pub fn flag(facts: &Value, path: &str) -> Option<bool> {
    lookup(facts, path)?.as_bool()
}

/// Writes `value` at a dotted path, creating the objects on the way.
pub fn set_path(facts: &mut Map<String, Value>, path: &str, value: Value) {
    let mut parts = path.split('.').peekable();
    let mut current = facts;
    while let Some(part) = parts.next() {
        if parts.peek().is_none() {
            current.insert(part.to_owned(), value);
            return;
        }
        let next = current
            .entry(part.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        if !next.is_object() {
            *next = Value::Object(Map::new());
        }
        let Value::Object(map) = next else { return };
        current = map;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nested_paths_resolve() {
        let facts = json!({"users": {"total": 120, "mfa": {"on": true}}});
        assert_eq!(count(&facts, "users.total"), Some(120.0));
        assert_eq!(flag(&facts, "users.mfa.on"), Some(true));
    }

    #[test]
    fn missing_or_mistyped_values_are_none() {
        let facts = json!({"users": {"total": "120", "neg": -1, "list": [1]}});
        assert_eq!(count(&facts, "users.total"), None);
        assert_eq!(count(&facts, "users.neg"), None);
        assert_eq!(count(&facts, "users.list.0"), None);
        assert_eq!(count(&facts, "users.absent"), None);
        assert_eq!(flag(&facts, "users"), None);
    }
}
