//! Reading a results file: JSON, then the schema version, then the types through serde (every
//! error naming its JSON pointer), then [`crate::validate`]. A file that passes is one whose
//! every figure is possible.

use serde_json::Value;

use crate::error::{ReadError, escape_pointer_key};
use crate::{Results, SCHEMA_VERSION};

/// `schema_version`s of perfgate results this build reads.
pub const SUPPORTED_SCHEMA_VERSIONS: &[u64] = &[SCHEMA_VERSION as u64];

/// Parses and validates the text of a perfgate `results.json`.
pub fn parse(text: &str) -> Result<Results, ReadError> {
    let value: Value = serde_json::from_str(text).map_err(|error| ReadError {
        pointer: "/".to_owned(),
        problem: strip_position(&error.to_string()),
        line_column: Some((error.line(), error.column())),
    })?;
    from_value(&value)
}

/// Checks the schema version of a parsed document, reads it into [`Results`] and validates it.
pub fn from_value(value: &Value) -> Result<Results, ReadError> {
    if !value.is_object() {
        return Err(ReadError::at(
            "/",
            format!("expected an object, found {}", kind(value)),
        ));
    }
    check_version(value)?;
    let results: Results = match serde_path_to_error::deserialize(value) {
        Ok(results) => results,
        Err(error) => {
            let pointer = json_pointer(error.path());
            let problem = plain_problem(&error.into_inner().to_string());
            return Err(inside_flattened(value, &pointer).unwrap_or_else(|| ReadError::at(pointer, problem)));
        }
    };
    crate::validate::validate(&results)?;
    let measured = !crate::catalogue::figures_in(&results, value).is_empty()
        || !results.stages.is_empty()
        || !results.cpu.top_functions.is_empty()
        || !results.cpu.hot_functions.is_empty()
        || value
            .get("phases")
            .and_then(Value::as_object)
            .is_some_and(|phases| {
                phases
                    .values()
                    .any(|phase| phase.as_object().is_some_and(|p| !p.is_empty()))
            });
    if !measured {
        return Err(ReadError::at(
            "/",
            "nothing measured: no metric, stage, function or phase",
        ));
    }
    Ok(results)
}

/// serde reports an error inside a flattened part (a latency section's percentiles, a time
/// series' columns) at the enclosing object; this finds the value itself.
fn inside_flattened(root: &Value, pointer: &str) -> Option<ReadError> {
    let object = root.pointer(pointer)?.as_object()?;
    if object.contains_key("t_ms") {
        for (column, values) in object {
            if column == "interval_ms" {
                continue;
            }
            let at = format!("{pointer}/{}", escape_pointer_key(column));
            let Some(values) = values.as_array() else {
                return Some(ReadError::at(
                    at,
                    format!("expected a list, found {}", kind(values)),
                ));
            };
            if let Some((index, value)) = values
                .iter()
                .enumerate()
                .find(|(_, v)| !(v.is_number() || v.is_null()))
            {
                return Some(ReadError::at(
                    format!("{at}/{index}"),
                    format!("expected a number, found {}", kind(value)),
                ));
            }
        }
        return None;
    }
    let error = serde_path_to_error::deserialize::<_, crate::LatencySummary>(root.pointer(pointer)?).err()?;
    let inner = json_pointer(error.path());
    (inner != "/").then(|| {
        ReadError::at(
            format!("{pointer}{inner}"),
            plain_problem(&error.into_inner().to_string()),
        )
    })
}

fn check_version(value: &Value) -> Result<(), ReadError> {
    match value.get("schema_version") {
        None => Err(ReadError::at(
            "/schema_version",
            "missing: not a perfgate results file",
        )),
        Some(Value::Number(number)) => match number.as_u64() {
            Some(version) if SUPPORTED_SCHEMA_VERSIONS.contains(&version) => Ok(()),
            Some(version) => Err(ReadError::at(
                "/schema_version",
                format!(
                    "schema version {version} is not supported (this build reads {})",
                    SUPPORTED_SCHEMA_VERSIONS
                        .iter()
                        .map(u64::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )),
            None => Err(ReadError::at("/schema_version", "expected a whole number")),
        },
        Some(other) => Err(ReadError::at(
            "/schema_version",
            format!("expected a whole number, found {}", kind(other)),
        )),
    }
}

/// A JSON pointer (`/metrics/0/id`) for serde's path through a document, for any reader that
/// deserialises through `serde_path_to_error` and must name the place of a problem.
pub fn json_pointer(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut pointer = String::new();
    for segment in path.iter() {
        pointer.push('/');
        match segment {
            Segment::Seq { index } => pointer.push_str(&index.to_string()),
            Segment::Map { key } => pointer.push_str(&escape_pointer_key(key)),
            Segment::Enum { variant } => pointer.push_str(&escape_pointer_key(variant)),
            Segment::Unknown => pointer.push('?'),
        }
    }
    if pointer.is_empty() {
        "/".to_owned()
    } else {
        pointer
    }
}

/// What kind of JSON value this is, in words.
pub fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// serde's message in the words the rest of perfgate uses, without echoing the offending value
/// (it may hold control characters): `invalid type: string "x", expected f64` becomes
/// `expected a number, found a string`.
fn plain_problem(message: &str) -> String {
    let message = strip_position(message);
    let Some(rest) = message
        .strip_prefix("invalid type: ")
        .or_else(|| message.strip_prefix("invalid value: "))
    else {
        return message
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
    };
    let (found, expected) = rest.rsplit_once(", expected ").unwrap_or((rest, "another value"));
    let found = if found.starts_with("string") {
        "a string"
    } else if found.starts_with("integer") || found.starts_with("floating point") {
        "a number"
    } else if found.starts_with("boolean") {
        "a boolean"
    } else if found.starts_with("map") {
        "an object"
    } else if found.starts_with("sequence") {
        "a list"
    } else if found.starts_with("null") || found.starts_with("unit") {
        "null"
    } else {
        "another value"
    };
    let expected = match expected {
        "f64" | "f32" => "a number",
        "u64" | "u32" | "usize" | "u16" | "u8" => "a whole number of at least 0",
        "i64" | "i32" => "a whole number",
        "a boolean" => "a boolean",
        "a string" | "a borrowed string" => "a string",
        "a sequence" | "a tuple of size 2" => "a list",
        other if other.starts_with("struct") || other.starts_with("a map") => "an object",
        other => other,
    };
    format!("expected {expected}, found {found}")
}

/// serde_json's messages end with ` at line L column C`, which a pointer makes redundant.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_owned(),
        None => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(text: &str) -> String {
        parse(text).unwrap_err().to_string()
    }

    fn example_with(pointer: &str, value: Value) -> String {
        let mut json = serde_json::to_value(Results::example()).unwrap();
        *json.pointer_mut(pointer).unwrap() = value;
        serde_json::to_string(&json).unwrap()
    }

    #[test]
    fn the_example_round_trips() {
        let text = serde_json::to_string(&Results::example()).unwrap();
        let back = parse(&text).unwrap();
        assert_eq!(
            serde_json::to_value(back).unwrap(),
            serde_json::to_value(Results::example()).unwrap()
        );
    }

    #[test]
    fn bad_documents_name_the_place() {
        assert_eq!(
            error("{\"schema_version\": 1,\n \"cpu\": {,}\n}"),
            "2:10: key must be a string"
        );
        assert_eq!(error("[1]"), "/: expected an object, found a list");
        assert_eq!(
            error("{}"),
            "/schema_version: missing: not a perfgate results file"
        );
        assert_eq!(
            error("{\"schema_version\": 99}"),
            "/schema_version: schema version 99 is not supported (this build reads 1)"
        );
        assert_eq!(
            error(&example_with("/latency/p99_ms", Value::from("fast"))),
            "/latency/p99_ms: expected a number, found a string"
        );
        assert_eq!(
            error(&example_with("/cpu/message_count", Value::from(-3))),
            "/cpu/message_count: expected a whole number of at least 0, found a number"
        );
        assert_eq!(
            error(&example_with(
                "/stages/decode/workers",
                Value::from("x\u{1b}[31m\n")
            )),
            "/stages/decode/workers: expected a whole number of at least 0, found a string"
        );
    }

    #[test]
    fn an_empty_phase_is_not_a_measurement() {
        assert_eq!(
            error(r#"{"schema_version":1,"phases":{"saturation":{}}}"#),
            "/: nothing measured: no metric, stage, function or phase"
        );
        assert!(parse(r#"{"schema_version":1,"phases":{"saturation":{"measured_messages":5}}}"#).is_ok());
    }

    #[test]
    fn unknown_fields_are_ignored_for_newer_writers() {
        let text = example_with("/cpu/phase", Value::from("saturation"));
        let mut json: Value = serde_json::from_str(&text).unwrap();
        json["cpu"]["a_field_from_the_future"] = Value::from(1);
        json["a_section_from_the_future"] = Value::from("x");
        assert!(from_value(&json).is_ok());
    }

    #[test]
    fn a_file_with_nothing_measured_is_bad_input() {
        for text in [
            r#"{"schema_version":1}"#,
            r#"{"schema_version":1,"warnings":["w"],"tool":{"name":"x"}}"#,
        ] {
            let error = parse(text).unwrap_err().to_string();
            assert_eq!(error, "/: nothing measured: no metric, stage, function or phase");
        }
        assert!(parse(r#"{"schema_version":1,"cpu":{"messages_per_second":5}}"#).is_ok());
    }
}
