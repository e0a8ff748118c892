//! Forms generated from types: a start form from a process's `in`
//! parameters, a task form from a user task's fields. Each field is an
//! input that suits its type; what comes back is checked here field by
//! field (so that each error is shown at its field, with what was typed),
//! with the engine's own conversion, before the engine checks it again.

use crate::runtime::convert;
use crate::runtime::value::{Type, Value};
use maud::{html, Markup};
use std::collections::HashMap;

/// One field of a generated form.
pub struct Field {
    pub name: String,
    pub ty: Type,
    /// No default: a value must be given.
    pub required: bool,
    /// The default, as the input shows it.
    pub default: Option<String>,
}

impl Field {
    pub fn new(name: &str, ty: &Type, default: Option<&Value>, required: bool) -> Field {
        let default = default.filter(|v| !matches!(v, Value::Null)).map(|v| match convert::to_json(v) {
            serde_json::Value::String(s) => s,
            other => other.to_string(),
        });
        Field { name: name.to_string(), ty: ty.clone(), required, default }
    }
}

/// What a form sent: the last value of each name.
pub fn sent(pairs: &[(String, String)]) -> HashMap<String, String> {
    pairs.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

/// The values to pass on (name, text) and the errors by field. An empty
/// field that is not required keeps its default; an unchecked checkbox is
/// `false`.
pub fn read(fields: &[Field], sent: &HashMap<String, String>) -> (Vec<(String, String)>, HashMap<String, String>) {
    let mut values = Vec::new();
    let mut errors = HashMap::new();
    for field in fields {
        let given = sent.get(&field.name).map(String::as_str);
        let text = match (&field.ty, given) {
            (Type::Boolean, None) => "false".to_string(),
            (Type::Boolean, Some(v)) => if v.is_empty() { "false" } else { v }.to_string(),
            (Type::Text, Some(v)) => v.to_string(),
            (_, Some(v)) if !v.trim().is_empty() => normalize(&field.ty, v),
            _ if field.required => {
                errors.insert(field.name.clone(), format!("{} is required", field.ty.with_article()));
                continue;
            }
            _ => continue,
        };
        match convert::from_input(&text, &field.ty) {
            Ok(_) => values.push((field.name.clone(), text)),
            Err(message) => {
                errors.insert(field.name.clone(), message);
            }
        }
    }
    (values, errors)
}

/// A browser's `datetime-local` value has no seconds and no zone: the
/// console's pickers are in UTC.
fn normalize(ty: &Type, text: &str) -> String {
    let text = text.trim();
    let local = text.len() == 16 && text.as_bytes().get(10) == Some(&b'T') && !text.ends_with('Z');
    match ty {
        Type::DateTime if local => format!("{text}:00Z"),
        _ => text.to_string(),
    }
}

/// The text a `datetime-local` input can show for a stored DateTime.
fn picker_value(text: &str) -> String {
    match text.parse::<jiff::Timestamp>() {
        Ok(t) => t.strftime("%Y-%m-%dT%H:%M").to_string(),
        Err(_) => text.to_string(),
    }
}

/// One field: its label, input, hint and error. `typed`: what was sent
/// (kept after an error); otherwise the default shows. `id_suffix` keeps
/// ids unique when a page has several forms.
pub fn input(field: &Field, typed: Option<&str>, error: Option<&str>, id_suffix: &str) -> Markup {
    let id = format!("field-{}{id_suffix}", field.name);
    let error_id = format!("error-{}{id_suffix}", field.name);
    let hint_id = format!("hint-{}{id_suffix}", field.name);
    let value = typed.map(str::to_string).or_else(|| field.default.clone()).unwrap_or_default();
    let invalid = error.is_some().then_some("true");
    let described = format!("{hint_id} {error_id}");
    let required = field.required.then_some("true");
    let hint = match &field.ty {
        Type::Decimal => "A number, such as 1250.50".to_string(),
        Type::Integer => "A whole number".to_string(),
        Type::Date => "A date (YYYY-MM-DD)".to_string(),
        Type::DateTime => "A date and time, in UTC".to_string(),
        Type::Guid => "A UUID".to_string(),
        Type::List(_) | Type::Object(_) => format!("JSON: {}", field.ty),
        Type::Text | Type::Boolean => field.ty.to_string(),
    };
    let hint = if field.required { format!("{hint}; required") } else { hint };
    html! {
        @if field.ty == Type::Boolean {
            div.field.check {
                input type="checkbox" id=(id) name=(field.name) value="true"
                    checked[value == "true"] aria-invalid=[invalid] aria-describedby=(described);
                label for=(id) { (field.name) }
                span.hint id=(hint_id) { (hint) }
                p.field-error id=(error_id) { @if let Some(e) = error { (e) } }
            }
        } @else {
            div.field {
                label for=(id) { (field.name) }
                @match &field.ty {
                    Type::List(_) | Type::Object(_) => {
                        textarea id=(id) name=(field.name) aria-invalid=[invalid] aria-required=[required]
                            aria-describedby=(described) spellcheck="false" { (value) }
                    }
                    Type::Date => input type="date" id=(id) name=(field.name) value=(value)
                        aria-invalid=[invalid] aria-required=[required] aria-describedby=(described);,
                    Type::DateTime => input type="datetime-local" id=(id) name=(field.name)
                        value=(if typed.is_some() { value.clone() } else { picker_value(&value) })
                        aria-invalid=[invalid] aria-required=[required] aria-describedby=(described);,
                    Type::Integer => input type="text" inputmode="numeric" id=(id) name=(field.name) value=(value)
                        aria-invalid=[invalid] aria-required=[required] aria-describedby=(described);,
                    Type::Decimal => input type="text" inputmode="decimal" id=(id) name=(field.name) value=(value)
                        aria-invalid=[invalid] aria-required=[required] aria-describedby=(described);,
                    _ => input type="text" id=(id) name=(field.name) value=(value)
                        aria-invalid=[invalid] aria-required=[required] aria-describedby=(described);,
                }
                span.hint id=(hint_id) { (hint) }
                p.field-error id=(error_id) { @if let Some(e) = error { (e) } }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(name: &str, ty: Type, required: bool) -> Field {
        Field { name: name.into(), ty, required, default: None }
    }

    #[test]
    fn each_bad_value_is_an_error_at_its_field_and_good_ones_pass() {
        let fields = [
            field("Amount", Type::Decimal, false),
            field("Count", Type::Integer, true),
            field("Ok", Type::Boolean, true),
            field("At", Type::DateTime, false),
            field("Items", Type::List(Box::new(Type::Integer)), false),
        ];
        let sent = sent(&[
            ("Amount".into(), "12x".into()),
            ("Count".into(), " ".into()),
            ("At".into(), "2026-11-30T10:15".into()),
            ("Items".into(), "[1, \"a\"]".into()),
        ]);
        let (values, errors) = read(&fields, &sent);
        assert!(errors["Amount"].contains("not a Decimal"), "{errors:?}");
        assert!(errors["Count"].contains("required"));
        assert!(errors.contains_key("Items"));
        assert_eq!(
            values,
            vec![("Ok".to_string(), "false".to_string()), ("At".to_string(), "2026-11-30T10:15:00Z".to_string())]
        );
    }

    #[test]
    fn a_typed_value_is_escaped_and_kept() {
        let markup = input(&field("Note", Type::Text, false), Some("<script>x</script>"), Some("<b>bad</b>"), "");
        let html = markup.into_string();
        assert!(html.contains("value=\"&lt;script&gt;x&lt;/script&gt;\""), "{html}");
        assert!(html.contains("&lt;b&gt;bad&lt;/b&gt;") && !html.contains("<script>"), "{html}");
    }
}
