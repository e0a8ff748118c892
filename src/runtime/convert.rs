//! Values at the edges: a caller's input strings, JSON in and out, the check
//! that a value fits a declared type, and how a value reads as text.
//!
//! Every conversion follows the type table of the language reference. Error
//! messages name the type and quote the value; the caller adds the parameter
//! Code (and the evaluator the source location).

use super::value::{
    date_in_range, unsigned_zero, Type, UtcDateTime, Value, MAX_LIST_LEN, MAX_TEXT_LEN, MAX_VALUE_DEPTH,
};
use indexmap::IndexMap;
use jiff::civil::Date;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use std::fmt::{self, Write as _};
use std::sync::Arc;
use uuid::Uuid;

/// Quoted values in messages are cut after this many characters.
const MAX_QUOTED_CHARS: usize = 60;

// ---------------------------------------------------------------------------
// Caller input
// ---------------------------------------------------------------------------

/// Converts a caller's input string to a value of the declared type.
///
/// - `Text`: taken as is (no trimming).
/// - `Integer`: an optional sign and digits (`-12`, `+7`); surrounding
///   whitespace is ignored; no fraction, no exponent, no digit separators;
///   a value outside the 64-bit range is an error.
/// - `Decimal`: an optional sign, digits, optionally `.` and digits
///   (`12.50`, `-3`); the scale is kept as written (`12.50` stays `12.50`).
///   Exponents (`1e3`) are refused: callers type amounts, not scientific
///   notation. More than 28 significant digits is an error, never rounded.
/// - `Boolean`: `true` or `false` in any case.
/// - `Date`: `YYYY-MM-DD` exactly (`2026-11-28`).
/// - `DateTime`: RFC 3339 with any offset (`2026-11-28T17:00:00+02:00`),
///   stored as the UTC instant. An offset is required: a bare local time does
///   not name an instant.
/// - `Guid`: hyphenated, simple (32 hex digits), braced or `urn:uuid:` form,
///   any case.
/// - Lists and object types: the string is JSON, converted with [`from_json`].
///
/// An empty string is not a value of any type but `Text`: to pass null, leave
/// the parameter out.
pub fn from_input(text: &str, ty: &Type) -> Result<Value, String> {
    match ty {
        Type::Text => Ok(Value::text(text)),
        Type::List(_) | Type::Object(_) => {
            let json: serde_json::Value =
                serde_json::from_str(text).map_err(|e| format!("{} is not valid JSON for {ty}: {e}", quote(text)))?;
            from_json(&json, ty)
        }
        _ => parse_scalar(text.trim(), ty).map_err(|why| scalar_error(text, ty, why)),
    }
}

/// A script's text as an Integer, as `integer(text)` reads it.
pub(crate) fn parse_integer_text(text: &str) -> Result<i64, String> {
    parse_integer(text.trim()).map_err(|why| scalar_error(text, &Type::Integer, why))
}

/// A script's text as a Decimal, as `decimal(text)` reads it.
pub(crate) fn parse_decimal_text(text: &str) -> Result<Decimal, String> {
    parse_decimal(text.trim()).map_err(|why| scalar_error(text, &Type::Decimal, why))
}

/// Why a text is not a scalar value; the message is built by the caller.
enum ScalarError {
    NotA,
    TooLarge,
    TooManyDigits,
}

fn scalar_error(text: &str, ty: &Type, why: ScalarError) -> String {
    match why {
        ScalarError::NotA => match date_flaw(text.trim()).filter(|_| *ty == Type::Date) {
            Some(flaw) => format!("{} is not a Date: {flaw}", quote(text)),
            None => format!("{} is not {}", quote(text), a_type(ty)),
        },
        ScalarError::TooLarge => format!("{} is out of range for {}", quote(text), a_type(ty)),
        ScalarError::TooManyDigits => {
            format!("{} has more digits than a Decimal holds (28)", quote(text))
        }
    }
}

/// Parses trimmed text as a scalar of type `ty` (not Text, List or Object).
fn parse_scalar(s: &str, ty: &Type) -> Result<Value, ScalarError> {
    match ty {
        Type::Text => Ok(Value::text(s)),
        Type::Integer => parse_integer(s).map(Value::Integer),
        Type::Decimal => parse_decimal(s).map(Value::Decimal),
        Type::Boolean => {
            if s.eq_ignore_ascii_case("true") {
                Ok(Value::Boolean(true))
            } else if s.eq_ignore_ascii_case("false") {
                Ok(Value::Boolean(false))
            } else {
                Err(ScalarError::NotA)
            }
        }
        Type::Date => parse_date(s).map(Value::Date).ok_or(ScalarError::NotA),
        Type::DateTime => parse_datetime(s).map(Value::DateTime).ok_or(ScalarError::NotA),
        Type::Guid => parse_guid(s).map(Value::Guid).ok_or(ScalarError::NotA),
        Type::List(_) | Type::Object(_) => Err(ScalarError::NotA),
    }
}

fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn strip_sign(s: &str) -> &str {
    s.strip_prefix(['-', '+']).unwrap_or(s)
}

/// `[+-]digits` as an i64, or any number in JSON syntax whose value is
/// whole (`12.0`, `1.2e1`): one rule for `-p`, JSON and `integer(text)`.
fn parse_integer(s: &str) -> Result<i64, ScalarError> {
    if is_digits(strip_sign(s)) {
        return s.parse().map_err(|_| ScalarError::TooLarge);
    }
    match serde_json::from_str::<serde_json::Number>(s) {
        Ok(n) => whole_number(n.as_str()),
        Err(_) => Err(ScalarError::NotA),
    }
}

/// A number in JSON syntax as an Integer, when its value is whole and fits
/// in 64 bits: the value counts, not how it is written, as in JSON itself.
fn whole_number(digits: &str) -> Result<i64, ScalarError> {
    if is_digits(strip_sign(digits)) {
        return digits.parse().map_err(|_| ScalarError::TooLarge);
    }
    match parse_json_decimal(digits) {
        Some(d) if d.fract().is_zero() => d.to_i64().ok_or(ScalarError::TooLarge),
        Some(_) => Err(ScalarError::NotA),
        None => Err(ScalarError::TooLarge),
    }
}

/// `[+-]digits[.digits]` as an exact Decimal with the scale as written.
fn parse_decimal(s: &str) -> Result<Decimal, ScalarError> {
    let unsigned = strip_sign(s);
    let ok = match unsigned.split_once('.') {
        Some((int, frac)) => is_digits(int) && is_digits(frac),
        None => is_digits(unsigned),
    };
    if !ok {
        return Err(ScalarError::NotA);
    }
    crate::syntax::exact_decimal(s).ok_or(ScalarError::TooManyDigits)
}

/// Why text written `YYYY-MM-DD` is still no date (`2026-02 has no day
/// 30`); `None` when it is a date, or is not written that way.
pub(crate) fn date_flaw(s: &str) -> Option<String> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' || parse_date(s).is_some() {
        return None;
    }
    let year: i16 = s.get(0..4).filter(|p| is_digits(p))?.parse().ok()?;
    let month: i8 = s.get(5..7).filter(|p| is_digits(p))?.parse().ok()?;
    let day = s.get(8..10).filter(|p| is_digits(p))?;
    Some(if !(1..=12).contains(&month) {
        format!("there is no month {}", &s[5..7])
    } else if !super::value::YEARS.contains(&year) {
        "years run from 0001 to 9999".to_owned()
    } else {
        let days = Date::new(year, month, 1).map_or(31, |d| d.days_in_month());
        format!("{} has no day {day} (it has {days})", &s[..7])
    })
}

/// A Date written exactly `YYYY-MM-DD`.
pub(crate) fn parse_date(s: &str) -> Option<Date> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year = s.get(0..4).filter(|p| is_digits(p))?.parse().ok()?;
    let month = s.get(5..7).filter(|p| is_digits(p))?.parse().ok()?;
    let day = s.get(8..10).filter(|p| is_digits(p))?.parse().ok()?;
    Date::new(year, month, day).ok().and_then(date_in_range)
}

/// An RFC 3339 date-time with an offset, as an instant.
pub(crate) fn parse_datetime(s: &str) -> Option<UtcDateTime> {
    UtcDateTime::parse(s)
}

/// A UUID in any of its standard forms.
pub(crate) fn parse_guid(s: &str) -> Option<Uuid> {
    Uuid::try_parse(s).ok()
}

// ---------------------------------------------------------------------------
// JSON in
// ---------------------------------------------------------------------------

/// Where inside a nested value an error happened.
enum Segment {
    Index(usize),
    Attr(Arc<str>),
}

/// An error and the path to it, innermost segment first (built while
/// unwinding).
struct PathError {
    path: Vec<Segment>,
    message: String,
}

impl PathError {
    fn new(message: String) -> PathError {
        PathError { path: Vec::new(), message }
    }

    fn at(mut self, segment: Segment) -> PathError {
        self.path.push(segment);
        self
    }

    /// `at [1].Id: "x" is not a Guid`, or just the message at the top level.
    fn render(self) -> String {
        if self.path.is_empty() {
            return self.message;
        }
        let mut out = String::from("at ");
        for (i, segment) in self.path.iter().rev().enumerate() {
            match segment {
                Segment::Index(n) => {
                    let _ = write!(out, "[{n}]");
                }
                Segment::Attr(name) => {
                    if i > 0 {
                        out.push('.');
                    }
                    out.push_str(name);
                }
            }
        }
        out.push_str(": ");
        out.push_str(&self.message);
        out
    }
}

fn too_deep() -> String {
    format!("value nested more than {MAX_VALUE_DEPTH} levels deep")
}

fn too_long(len: usize) -> String {
    format!("a list of {len} items is longer than the limit of {MAX_LIST_LEN}")
}

/// Converts JSON to a value of the declared type.
///
/// JSON `null` is null for every type. Numbers become Integers only when
/// integral and within 64 bits (`1e3` and `2.0` are accepted as 1000 and 2);
/// Decimals keep the exact digits written, exponents included (`1.5e2` is
/// 150), and an Integer-looking number is fine where a Decimal is expected.
/// Date, DateTime and Guid are JSON strings in the forms [`from_input`]
/// accepts. Objects get their attributes in the declared order; a missing
/// attribute is null, an unknown one is an error naming it. Errors inside a
/// nested value say where: `at [1].Id: "x" is not a Guid`.
pub fn from_json(json: &serde_json::Value, ty: &Type) -> Result<Value, String> {
    json_typed(json, ty, 0).map_err(PathError::render)
}

fn json_typed(json: &serde_json::Value, ty: &Type, depth: u32) -> Result<Value, PathError> {
    use serde_json::Value as J;
    let not_a = || PathError::new(format!("{} is not {}", show_json(json), a_type(ty)));
    match (json, ty) {
        (J::Null, _) => Ok(Value::Null),
        (J::String(s), Type::Text) => Ok(Value::text(s.as_str())),
        (J::Bool(b), Type::Boolean) => Ok(Value::Boolean(*b)),
        (J::Number(n), Type::Integer) => json_integer(n).map(Value::Integer).map_err(PathError::new),
        (J::Number(n), Type::Decimal) => json_decimal(n).map(Value::Decimal).map_err(PathError::new),
        (J::String(s), Type::Date | Type::DateTime | Type::Guid) => parse_scalar(s.trim(), ty).map_err(|_| not_a()),
        (J::Array(items), Type::List(item_ty)) => {
            if depth >= MAX_VALUE_DEPTH {
                return Err(PathError::new(too_deep()));
            }
            if items.len() > MAX_LIST_LEN {
                return Err(PathError::new(too_long(items.len())));
            }
            let values = items
                .iter()
                .enumerate()
                .map(|(i, item)| json_typed(item, item_ty, depth + 1).map_err(|e| e.at(Segment::Index(i))))
                .collect::<Result<Vec<_>, _>>()?;
            Value::list(values).map_err(|e| PathError::new(e.to_string()))
        }
        (J::Object(map), Type::Object(attrs)) => {
            if depth >= MAX_VALUE_DEPTH {
                return Err(PathError::new(too_deep()));
            }
            if let Some(unknown) = map.keys().find(|key| !attrs.iter().any(|(name, _)| **name == ***key)) {
                return Err(PathError::new(unknown_attribute(unknown, attrs)));
            }
            let mut out = IndexMap::with_capacity(attrs.len());
            for (name, attr_ty) in attrs.iter() {
                let value = match map.get(&**name) {
                    Some(j) => json_typed(j, attr_ty, depth + 1).map_err(|e| e.at(Segment::Attr(name.clone())))?,
                    None => Value::Null,
                };
                out.insert(name.clone(), value);
            }
            Value::object(out).map_err(|e| PathError::new(e.to_string()))
        }
        _ => Err(not_a()),
    }
}

fn unknown_attribute(name: &str, attrs: &[(Arc<str>, Type)]) -> String {
    let expected: Vec<&str> = attrs.iter().map(|(n, _)| &**n).collect();
    if expected.is_empty() {
        format!("unknown attribute `{name}` (the object has no attributes)")
    } else {
        format!("unknown attribute `{name}` (expected {})", expected.join(", "))
    }
}

/// A JSON number as an Integer: integral and within 64 bits.
fn json_integer(n: &serde_json::Number) -> Result<i64, String> {
    if let Some(i) = n.as_i64() {
        return Ok(i);
    }
    let digits = n.as_str();
    whole_number(digits).map_err(|why| match why {
        ScalarError::NotA => format!("{} is not an Integer", cut(digits)),
        _ => format!("{} is out of range for an Integer", cut(digits)),
    })
}

/// A JSON number as an exact Decimal.
fn json_decimal(n: &serde_json::Number) -> Result<Decimal, String> {
    parse_json_decimal(n.as_str())
        .ok_or_else(|| format!("{} cannot be held exactly by a Decimal (28 digits)", cut(n.as_str())))
}

/// Parses JSON number syntax (`-1.25e-3`) exactly; `None` when the value has
/// more digits than a Decimal holds or is out of its range.
fn parse_json_decimal(s: &str) -> Option<Decimal> {
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (s.get(..i)?, Some(s.get(i + 1..)?)),
        None => (s, None),
    };
    let mut d = crate::syntax::exact_decimal(mantissa)?;
    let Some(exponent) = exponent else {
        return Some(d);
    };
    let exponent: i64 = exponent.parse().ok()?;
    if d.is_zero() {
        return Some(Decimal::ZERO);
    }
    // d = m × 10^-scale, so d × 10^exponent = m × 10^-(scale - exponent).
    let new_scale = i64::from(d.scale()).checked_sub(exponent)?;
    if new_scale >= 0 {
        d.set_scale(u32::try_from(new_scale).ok()?).ok()?;
        Some(d)
    } else {
        let power = u32::try_from(-new_scale).ok()?;
        if power > Decimal::MAX_SCALE {
            return None;
        }
        d.set_scale(0).ok()?;
        let factor = Decimal::try_from_i128_with_scale(10i128.checked_pow(power)?, 0).ok()?;
        d.checked_mul(factor)
    }
}

/// Converts JSON to a value without a declared type (for `parse_json`).
///
/// A number written without fraction or exponent that fits in 64 bits is an
/// Integer; every other number is an exact Decimal with the digits written
/// (`1.50` stays `1.50`, so it prints back the same). Strings are Text, never
/// guessed to be dates or GUIDs. Objects keep their attribute order.
pub fn from_json_untyped(json: &serde_json::Value) -> Result<Value, String> {
    json_untyped(json, 0).map_err(PathError::render)
}

fn json_untyped(json: &serde_json::Value, depth: u32) -> Result<Value, PathError> {
    use serde_json::Value as J;
    match json {
        J::Null => Ok(Value::Null),
        J::Bool(b) => Ok(Value::Boolean(*b)),
        J::String(s) => Ok(Value::text(s.as_str())),
        J::Number(n) => {
            if let Some(i) = n.as_i64() {
                return Ok(Value::Integer(i));
            }
            json_decimal(n).map(Value::Decimal).map_err(PathError::new)
        }
        J::Array(items) => {
            if depth >= MAX_VALUE_DEPTH {
                return Err(PathError::new(too_deep()));
            }
            if items.len() > MAX_LIST_LEN {
                return Err(PathError::new(too_long(items.len())));
            }
            let values = items
                .iter()
                .enumerate()
                .map(|(i, item)| json_untyped(item, depth + 1).map_err(|e| e.at(Segment::Index(i))))
                .collect::<Result<Vec<_>, _>>()?;
            Value::list(values).map_err(|e| PathError::new(e.to_string()))
        }
        J::Object(map) => {
            if depth >= MAX_VALUE_DEPTH {
                return Err(PathError::new(too_deep()));
            }
            let mut out = IndexMap::with_capacity(map.len());
            for (key, item) in map {
                let name: Arc<str> = Arc::from(key.as_str());
                let value = json_untyped(item, depth + 1).map_err(|e| e.at(Segment::Attr(name.clone())))?;
                out.insert(name, value);
            }
            Value::object(out).map_err(|e| PathError::new(e.to_string()))
        }
    }
}

// ---------------------------------------------------------------------------
// JSON out and text
// ---------------------------------------------------------------------------

/// Converts a value to JSON per the type table: Decimals as numbers with
/// their exact digits (`0.30` stays `0.30`), dates as `"2026-11-28"`,
/// date-times as UTC with `Z` and a fraction only when not zero, GUIDs
/// lowercase hyphenated, objects in attribute order.
///
/// This builds the whole tree; for text use [`to_json_text`], which stops at
/// [`MAX_TEXT_LEN`] instead of expanding shared parts without bound.
pub fn to_json(value: &Value) -> serde_json::Value {
    use serde_json::Value as J;
    match value {
        Value::Null => J::Null,
        Value::Boolean(b) => J::Bool(*b),
        Value::Integer(i) => J::Number((*i).into()),
        Value::Decimal(d) => decimal_to_json(d),
        Value::Text(s) => J::String(s.to_string()),
        Value::Date(d) => J::String(d.to_string()),
        Value::DateTime(t) => J::String(t.to_string()),
        Value::Guid(g) => J::String(g.hyphenated().to_string()),
        Value::List(l) => J::Array(l.items.iter().map(to_json).collect()),
        Value::Object(o) => J::Object(o.attrs.iter().map(|(k, v)| (k.to_string(), to_json(v))).collect()),
    }
}

fn decimal_to_json(d: &Decimal) -> serde_json::Value {
    let digits = unsigned_zero(*d).to_string();
    match serde_json::from_str::<serde_json::Number>(&digits) {
        Ok(n) => serde_json::Value::Number(n),
        // rust_decimal never prints anything but plain decimal notation, so
        // this is unreachable; a string still keeps every digit.
        Err(_) => serde_json::Value::String(digits),
    }
}

/// A value as compact JSON text (what `to_json` returns to a script), or an
/// error when it would be longer than [`MAX_TEXT_LEN`].
pub fn to_json_text(value: &Value) -> Result<String, String> {
    let mut out = LimitedString::new(MAX_TEXT_LEN);
    write_json(value, &mut out).map_err(|_| text_too_long())?;
    Ok(out.buf)
}

/// A value as it appears in text interpolation, `log` and `text(x)` (see the
/// `Display` impl), or an error when longer than [`MAX_TEXT_LEN`].
pub fn to_display_text(value: &Value) -> Result<String, String> {
    if let Value::Text(s) = value {
        if s.len() > MAX_TEXT_LEN {
            return Err(text_too_long());
        }
        return Ok(s.to_string());
    }
    let mut out = LimitedString::new(MAX_TEXT_LEN);
    write!(out, "{value}").map_err(|_| text_too_long())?;
    Ok(out.buf)
}

pub(crate) fn text_too_long() -> String {
    format!("the text would be longer than the limit of {} MiB", MAX_TEXT_LEN / (1024 * 1024))
}

/// A `String` that refuses to grow beyond a limit.
pub(crate) struct LimitedString {
    pub(crate) buf: String,
    max: usize,
}

impl LimitedString {
    pub(crate) fn new(max: usize) -> LimitedString {
        LimitedString { buf: String::new(), max }
    }
}

impl fmt::Write for LimitedString {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if self.buf.len().saturating_add(s.len()) > self.max {
            return Err(fmt::Error);
        }
        self.buf.push_str(s);
        Ok(())
    }
}

/// Writes a value as compact JSON, exactly as `serde_json` prints
/// [`to_json`]'s result, without building the tree first.
pub fn write_json<W: fmt::Write + ?Sized>(value: &Value, w: &mut W) -> fmt::Result {
    match value {
        Value::Null => w.write_str("null"),
        Value::Boolean(b) => write!(w, "{b}"),
        Value::Integer(i) => write!(w, "{i}"),
        Value::Decimal(d) => write!(w, "{}", unsigned_zero(*d)),
        Value::Text(s) => write_json_string(s, w),
        Value::Date(d) => write!(w, "\"{d}\""),
        Value::DateTime(t) => write!(w, "\"{t}\""),
        Value::Guid(g) => write!(w, "\"{}\"", g.hyphenated()),
        Value::List(l) => {
            w.write_char('[')?;
            for (i, item) in l.items.iter().enumerate() {
                if i > 0 {
                    w.write_char(',')?;
                }
                write_json(item, w)?;
            }
            w.write_char(']')
        }
        Value::Object(o) => {
            w.write_char('{')?;
            for (i, (name, item)) in o.attrs.iter().enumerate() {
                if i > 0 {
                    w.write_char(',')?;
                }
                write_json_string(name, w)?;
                w.write_char(':')?;
                write_json(item, w)?;
            }
            w.write_char('}')
        }
    }
}

/// A JSON string literal, escaped as serde_json does (quote, backslash and
/// control characters only).
fn write_json_string<W: fmt::Write + ?Sized>(s: &str, w: &mut W) -> fmt::Result {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    w.write_char('"')?;
    let mut start = 0;
    for (i, byte) in s.bytes().enumerate() {
        let escape: &str = match byte {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0x00..=0x1f => "",
            _ => continue,
        };
        // `i` is at an ASCII byte, so both slices fall on char boundaries.
        w.write_str(s.get(start..i).unwrap_or_default())?;
        if escape.is_empty() {
            let hi = char::from(HEX[usize::from(byte >> 4)]);
            let lo = char::from(HEX[usize::from(byte & 0xf)]);
            write!(w, "\\u00{hi}{lo}")?;
        } else {
            w.write_str(escape)?;
        }
        start = i + 1;
    }
    w.write_str(s.get(start..).unwrap_or_default())?;
    w.write_char('"')
}

/// How a value appears in text interpolation and `log`: texts as they are
/// (no quotes), numbers as written (a Decimal keeps its scale: `0.30`),
/// `true`/`false`, dates, date-times and GUIDs as in JSON but unquoted,
/// `null`, and lists and objects as their compact JSON.
///
/// This writes without limit; where a script decides the value, use
/// [`to_display_text`], which stops at [`MAX_TEXT_LEN`].
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Boolean(b) => write!(f, "{b}"),
            Value::Integer(i) => write!(f, "{i}"),
            Value::Decimal(d) => write!(f, "{}", unsigned_zero(*d)),
            Value::Text(s) => f.write_str(s),
            Value::Date(d) => write!(f, "{d}"),
            Value::DateTime(t) => write!(f, "{t}"),
            Value::Guid(g) => write!(f, "{}", g.hyphenated()),
            Value::List(_) | Value::Object(_) => write_json(self, f),
        }
    }
}

// ---------------------------------------------------------------------------
// Assignment
// ---------------------------------------------------------------------------

/// Checks that a value fits a declared type when assigned to a parameter.
///
/// Null fits every type. An Integer widens to a Decimal, also inside lists
/// and objects; nothing else converts. A list fits `List<T>` when every item
/// fits `T`. An object fits an object type when it has no attribute the type
/// lacks; declared attributes it does not have are filled with null (as a
/// caller's JSON input is), and the result has the declared attribute order.
/// A value that already fits is returned as is, without copying.
///
/// Errors read `expected Integer, got Text "abc"`, with the path when nested:
/// `at [2].Qty: expected Integer, got Text "x"`.
pub fn conform(value: Value, ty: &Type) -> Result<Value, String> {
    match (&value, ty) {
        (Value::Null, _)
        | (Value::Text(_), Type::Text)
        | (Value::Integer(_), Type::Integer)
        | (Value::Decimal(_), Type::Decimal)
        | (Value::Boolean(_), Type::Boolean)
        | (Value::Date(_), Type::Date)
        | (Value::DateTime(_), Type::DateTime)
        | (Value::Guid(_), Type::Guid) => Ok(value),
        (Value::Integer(i), Type::Decimal) => Ok(Value::Decimal(Decimal::from(*i))),
        (Value::List(_), Type::List(_)) | (Value::Object(_), Type::Object(_)) => {
            match conform_nested(&value, ty).map_err(PathError::render)? {
                Some(changed) => Ok(changed),
                None => Ok(value),
            }
        }
        _ => Err(mismatch(&value, ty)),
    }
}

fn mismatch(value: &Value, ty: &Type) -> String {
    format!("expected {ty}, got {}", describe(value))
}

/// `Ok(None)` when the value fits as it is, `Ok(Some(v))` when it had to
/// change (widening, filling or reordering attributes).
fn conform_nested(value: &Value, ty: &Type) -> Result<Option<Value>, PathError> {
    match (value, ty) {
        (Value::Null, _)
        | (Value::Text(_), Type::Text)
        | (Value::Integer(_), Type::Integer)
        | (Value::Decimal(_), Type::Decimal)
        | (Value::Boolean(_), Type::Boolean)
        | (Value::Date(_), Type::Date)
        | (Value::DateTime(_), Type::DateTime)
        | (Value::Guid(_), Type::Guid) => Ok(None),
        (Value::Integer(i), Type::Decimal) => Ok(Some(Value::Decimal(Decimal::from(*i)))),
        (Value::List(list), Type::List(item_ty)) => {
            let mut changed: Option<Vec<Value>> = None;
            for (i, item) in list.items.iter().enumerate() {
                let new = conform_nested(item, item_ty).map_err(|e| e.at(Segment::Index(i)))?;
                match (new, &mut changed) {
                    (Some(new), None) => {
                        let mut items = Vec::with_capacity(list.items.len());
                        items.extend(list.items.iter().take(i).cloned());
                        items.push(new);
                        changed = Some(items);
                    }
                    (Some(new), Some(items)) => items.push(new),
                    (None, Some(items)) => items.push(item.clone()),
                    (None, None) => {}
                }
            }
            match changed {
                Some(items) => Value::list(items).map(Some).map_err(|e| PathError::new(e.to_string())),
                None => Ok(None),
            }
        }
        (Value::Object(object), Type::Object(attrs)) => {
            if let Some(unknown) = object.attrs.keys().find(|key| !attrs.iter().any(|(name, _)| name == *key)) {
                return Err(PathError::new(unknown_attribute(unknown, attrs)));
            }
            // No unknown attributes, so equal counts mean all are present.
            let mut same = object.attrs.len() == attrs.len()
                && object.attrs.keys().zip(attrs.iter()).all(|(k, (name, _))| k == name);
            let mut out = IndexMap::with_capacity(attrs.len());
            for (name, attr_ty) in attrs.iter() {
                let current = object.attrs.get(name).unwrap_or(&Value::Null);
                let new = conform_nested(current, attr_ty).map_err(|e| e.at(Segment::Attr(name.clone())))?;
                if new.is_some() {
                    same = false;
                }
                out.insert(name.clone(), new.unwrap_or_else(|| current.clone()));
            }
            if same {
                Ok(None)
            } else {
                Value::object(out).map(Some).map_err(|e| PathError::new(e.to_string()))
            }
        }
        _ => Err(PathError::new(mismatch(value, ty))),
    }
}

// ---------------------------------------------------------------------------
// Describing values in messages
// ---------------------------------------------------------------------------

/// `"abc"`, with characters escaped as in Rust source and texts longer than
/// 60 characters cut with `…`.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len().min(MAX_QUOTED_CHARS * 4) + 4);
    out.push('"');
    for (i, c) in s.chars().enumerate() {
        if i == MAX_QUOTED_CHARS {
            out.push('…');
            break;
        }
        out.extend(c.escape_debug());
    }
    out.push('"');
    out
}

/// Long unquoted text (such as a JSON number's digits) cut with `…`.
fn cut(s: &str) -> String {
    match s.char_indices().nth(MAX_QUOTED_CHARS) {
        Some((i, _)) => format!("{}…", s.get(..i).unwrap_or_default()),
        None => s.to_string(),
    }
}

/// The type's name with its article: `an Integer`, `a List<Guid>`.
fn a_type(ty: &Type) -> String {
    match ty {
        Type::Integer => "an Integer".to_string(),
        Type::Object(_) => format!("an object {ty}"),
        _ => format!("a {ty}"),
    }
}

/// A JSON value as messages show it.
fn show_json(json: &serde_json::Value) -> String {
    use serde_json::Value as J;
    match json {
        J::Null => "null".to_string(),
        J::Bool(b) => b.to_string(),
        J::Number(n) => cut(n.as_str()),
        J::String(s) => quote(s),
        J::Array(_) => "a JSON array".to_string(),
        J::Object(_) => "a JSON object".to_string(),
    }
}

/// A value's type and, for scalars, the value, as messages show it:
/// `Text "abc"`, `Integer 5`, `a List of 3 items`, `null`.
pub fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".to_string(),
        Value::Text(s) => format!("Text {}", quote(s)),
        Value::List(l) => match l.items.len() {
            1 => "a List of 1 item".to_string(),
            n => format!("a List of {n} items"),
        },
        Value::Object(_) => "an Object".to_string(),
        scalar => format!("{} {}", scalar.type_name(), scalar),
    }
}

/// A value's type name for messages: `Integer`, `Text`, … and `null`.
pub fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        other => other.type_name(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::value::UtcDateTime;
    use proptest::prelude::*;
    use std::str::FromStr;

    fn obj_type(attrs: &[(&str, Type)]) -> Type {
        Type::Object(Arc::new(attrs.iter().map(|(n, t)| (Arc::from(*n), t.clone())).collect()))
    }
    fn list_of(t: Type) -> Type {
        Type::List(Box::new(t))
    }
    fn input(s: &str, ty: &Type) -> String {
        match from_input(s, ty) {
            Ok(v) => format!("{} {v}", v.type_name()),
            Err(e) => format!("error: {e}"),
        }
    }
    fn json(s: &str) -> serde_json::Value {
        serde_json::from_str(s).unwrap()
    }
    fn typed(s: &str, ty: &Type) -> String {
        match from_json(&json(s), ty) {
            Ok(v) => format!("{} {}", v.type_name(), to_json_text(&v).unwrap()),
            Err(e) => format!("error: {e}"),
        }
    }
    fn untyped(s: &str) -> String {
        match from_json_untyped(&json(s)) {
            Ok(v) => format!("{} {}", v.type_name(), to_json_text(&v).unwrap()),
            Err(e) => format!("error: {e}"),
        }
    }
    fn dec(s: &str) -> Value {
        Value::Decimal(Decimal::from_str(s).unwrap())
    }

    #[test]
    fn input_text_is_taken_as_is() {
        assert_eq!(input("  a b ", &Type::Text), "Text   a b ");
        assert_eq!(input("", &Type::Text), "Text ");
    }

    #[test]
    fn integers_follow_one_rule_in_text_and_json() {
        // A whole value is an Integer however it is written, as in JSON.
        for written in ["12", "12.0", "1.2e1", "120e-1"] {
            assert_eq!(input(written, &Type::Integer), "Integer 12", "{written}");
            assert_eq!(typed(written, &Type::Integer), "Integer 12", "{written}");
        }
        for fraction in ["12.5", "1.25e1"] {
            assert!(input(fraction, &Type::Integer).ends_with("is not an Integer"), "{fraction}");
            assert!(typed(fraction, &Type::Integer).ends_with("is not an Integer"), "{fraction}");
        }
        assert!(input("1e999", &Type::Integer).ends_with("out of range for an Integer"));
    }

    #[test]
    fn input_integer() {
        assert_eq!(input("-12", &Type::Integer), "Integer -12");
        assert_eq!(input(" 42\n", &Type::Integer), "Integer 42");
        assert_eq!(input("+7", &Type::Integer), "Integer 7");
        assert_eq!(input("9223372036854775807", &Type::Integer), "Integer 9223372036854775807");
        assert_eq!(
            input("9223372036854775808", &Type::Integer),
            "error: \"9223372036854775808\" is out of range for an Integer"
        );
        assert_eq!(input("abc", &Type::Integer), "error: \"abc\" is not an Integer");
        for bad in ["1.5", "1e", "1_000", "", " ", "--1", "0x10", "١٢", "NaN", "Infinity"] {
            assert!(input(bad, &Type::Integer).starts_with("error"), "{bad}");
        }
    }

    #[test]
    fn input_decimal_keeps_scale() {
        assert_eq!(input("12.50", &Type::Decimal), "Decimal 12.50");
        assert_eq!(input("-0.10", &Type::Decimal), "Decimal -0.10");
        assert_eq!(input("3", &Type::Decimal), "Decimal 3");
        assert_eq!(input(" 1.0 ", &Type::Decimal), "Decimal 1.0");
        assert_eq!(input("1e3", &Type::Decimal), "error: \"1e3\" is not a Decimal");
        for bad in ["12,50", ".5", "5.", "1_0", "abc", "", "NaN", "1.2.3"] {
            assert!(input(bad, &Type::Decimal).starts_with("error"), "{bad}");
        }
        assert_eq!(
            input("1.00000000000000000000000000001", &Type::Decimal),
            "error: \"1.00000000000000000000000000001\" has more digits than a Decimal holds (28)"
        );
        assert!(input("99999999999999999999999999999999", &Type::Decimal).starts_with("error"));
    }

    #[test]
    fn decimal_trailing_zeros_past_28_digits_lose_nothing() {
        assert_eq!(input("9999999999999999999999999999.000", &Type::Decimal), "Decimal 9999999999999999999999999999");
        assert_eq!(
            input("1.000000000000000000000000000000000", &Type::Decimal),
            "Decimal 1.0000000000000000000000000000"
        );
        assert_eq!(input("-0.00", &Type::Decimal), "Decimal 0.00", "no negative zero");
        assert_eq!(typed("-0.0e5", &Type::Decimal), "Decimal 0");
        assert_eq!(typed("2.000000000000000000000000000000", &Type::Decimal), "Decimal 2.0000000000000000000000000000");
        assert!(input("1.000000000000000000000000000001", &Type::Decimal).starts_with("error"), "a real loss");
    }

    #[test]
    fn input_boolean() {
        assert_eq!(input("true", &Type::Boolean), "Boolean true");
        assert_eq!(input("FALSE", &Type::Boolean), "Boolean false");
        assert_eq!(input("True ", &Type::Boolean), "Boolean true");
        assert_eq!(input("yes", &Type::Boolean), "error: \"yes\" is not a Boolean");
        assert!(input("1", &Type::Boolean).starts_with("error"));
    }

    #[test]
    fn input_date() {
        assert_eq!(input("2026-11-28", &Type::Date), "Date 2026-11-28");
        for bad in ["2026-11-28T00:00:00Z", "26-11-28", "2026/11/28", "2026-1-28"] {
            assert_eq!(input(bad, &Type::Date), format!("error: \"{bad}\" is not a Date"));
        }
        assert_eq!(
            input("2026-02-30", &Type::Date),
            "error: \"2026-02-30\" is not a Date: 2026-02 has no day 30 (it has 28)"
        );
        assert_eq!(input("2026-13-01", &Type::Date), "error: \"2026-13-01\" is not a Date: there is no month 13");
        assert_eq!(
            input("0000-01-01", &Type::Date),
            "error: \"0000-01-01\" is not a Date: years run from 0001 to 9999"
        );
    }

    #[test]
    fn input_datetime_is_stored_in_utc() {
        assert_eq!(input("2026-11-28T17:00:00+02:00", &Type::DateTime), "DateTime 2026-11-28T15:00:00Z");
        assert_eq!(input("2026-11-28T15:00:00Z", &Type::DateTime), "DateTime 2026-11-28T15:00:00Z");
        assert_eq!(input("2026-11-28T10:00:00.500-05:00", &Type::DateTime), "DateTime 2026-11-28T15:00:00.5Z");
        assert!(input("2026-11-28T15:00:00", &Type::DateTime).starts_with("error"));
        assert!(input("2026-11-28", &Type::DateTime).starts_with("error"));
        assert!(input("yesterday", &Type::DateTime).starts_with("error"));
    }

    #[test]
    fn datetimes_reach_the_end_of_year_9999() {
        assert_eq!(input("9999-12-31T23:59:59Z", &Type::DateTime), "DateTime 9999-12-31T23:59:59Z");
        assert_eq!(input("9999-12-31T23:59:59.999+00:00", &Type::DateTime), "DateTime 9999-12-31T23:59:59.999Z");
        assert_eq!(input("0001-01-01T02:00:00+02:00", &Type::DateTime), "DateTime 0001-01-01T00:00:00Z");
        assert_eq!(input("9999-12-31", &Type::Date), "Date 9999-12-31");
        assert_eq!(input("0001-01-01", &Type::Date), "Date 0001-01-01");
        for outside in ["0001-01-01T00:00:00+01:00", "0000-06-01T00:00:00Z", "9999-12-31T23:00:00-01:00"] {
            assert!(input(outside, &Type::DateTime).starts_with("error"), "{outside}");
        }
        assert!(input("0000-01-01", &Type::Date).starts_with("error"));
        assert!(input("2026-11-28T15:00:00", &Type::DateTime).starts_with("error"), "no offset, no instant");
    }

    #[test]
    fn input_guid_any_standard_form() {
        let want = "Guid 8b4c2f3e-0d7a-4c1b-9c55-2f1e3a4b5c6d";
        for form in [
            "8b4c2f3e-0d7a-4c1b-9c55-2f1e3a4b5c6d",
            "8B4C2F3E-0D7A-4C1B-9C55-2F1E3A4B5C6D",
            "8b4c2f3e0d7a4c1b9c552f1e3a4b5c6d",
            "{8b4c2f3e-0d7a-4c1b-9c55-2f1e3a4b5c6d}",
            "urn:uuid:8b4c2f3e-0d7a-4c1b-9c55-2f1e3a4b5c6d",
        ] {
            assert_eq!(input(form, &Type::Guid), want, "{form}");
        }
        assert_eq!(input("not-a-guid", &Type::Guid), "error: \"not-a-guid\" is not a Guid");
    }

    #[test]
    fn input_lists_and_objects_are_json() {
        let line = obj_type(&[("Id", Type::Guid), ("Name", Type::Text), ("Qty", Type::Integer)]);
        let lines = list_of(line.clone());
        assert_eq!(
            input(r#"[{"Qty": 2, "Id": "8B4C2F3E-0D7A-4C1B-9C55-2F1E3A4B5C6D", "Name": "x"}, {"Id": null}]"#, &lines),
            r#"List [{"Id":"8b4c2f3e-0d7a-4c1b-9c55-2f1e3a4b5c6d","Name":"x","Qty":2},{"Id":null,"Name":null,"Qty":null}]"#
        );
        assert_eq!(input(r#"[{"Id": "x"}]"#, &lines), r#"error: at [0].Id: "x" is not a Guid"#);
        assert_eq!(
            input(r#"[{}, {"Qty": 1, "Colour": "red"}]"#, &lines),
            "error: at [1]: unknown attribute `Colour` (expected Id, Name, Qty)"
        );
        assert_eq!(input("[1, 2]", &list_of(Type::Integer)), "List [1,2]");
        assert_eq!(input("null", &list_of(Type::Integer)), "Null null");
        assert!(
            input("[1,", &list_of(Type::Integer)).starts_with("error: \"[1,\" is not valid JSON for List<Integer>: ")
        );
        assert_eq!(input("{\"a\":1}", &list_of(Type::Integer)), "error: a JSON object is not a List<Integer>");
        assert_eq!(input(r#"{"Name": 5}"#, &line), "error: at Name: 5 is not a Text");
    }

    #[test]
    fn quoted_values_are_cut() {
        let long = "x".repeat(100);
        let err = input(&long, &Type::Integer);
        assert_eq!(err, format!("error: \"{}…\" is not an Integer", "x".repeat(60)));
        assert_eq!(quote("a\"b\nc"), r#""a\"b\nc""#);
    }

    #[test]
    fn json_numbers_to_integer() {
        assert_eq!(typed("5", &Type::Integer), "Integer 5");
        assert_eq!(typed("-5", &Type::Integer), "Integer -5");
        assert_eq!(typed("1e3", &Type::Integer), "Integer 1000");
        assert_eq!(typed("2.0", &Type::Integer), "Integer 2");
        assert_eq!(typed("2.5", &Type::Integer), "error: 2.5 is not an Integer");
        assert_eq!(
            typed("9223372036854775808", &Type::Integer),
            "error: 9223372036854775808 is out of range for an Integer"
        );
        assert_eq!(typed("1e999999", &Type::Integer), "error: 1e+999999 is out of range for an Integer");
        assert_eq!(typed("\"5\"", &Type::Integer), "error: \"5\" is not an Integer");
        assert_eq!(typed("true", &Type::Integer), "error: true is not an Integer");
    }

    #[test]
    fn json_numbers_to_decimal_exactly() {
        assert_eq!(typed("0.10", &Type::Decimal), "Decimal 0.10");
        assert_eq!(typed("12.50", &Type::Decimal), "Decimal 12.50");
        assert_eq!(typed("7", &Type::Decimal), "Decimal 7");
        assert_eq!(typed("1e3", &Type::Decimal), "Decimal 1000");
        assert_eq!(typed("1.5E+2", &Type::Decimal), "Decimal 150");
        assert_eq!(typed("1.25e-3", &Type::Decimal), "Decimal 0.00125");
        assert_eq!(typed("0e999999", &Type::Decimal), "Decimal 0");
        assert_eq!(typed("0.30000000000000004", &Type::Decimal), "Decimal 0.30000000000000004");
        for hostile in [
            "1e999999",
            "1e-999999",
            "-1e99999999999999999999999",
            "1e-9223372036854775808",
            "123456789012345678901234567890123",
            "79228162514264337593543950336",
        ] {
            assert!(typed(hostile, &Type::Decimal).starts_with("error: "), "{hostile}");
        }
        assert_eq!(
            typed("1e999999", &Type::Decimal),
            "error: 1e+999999 cannot be held exactly by a Decimal (28 digits)"
        );
    }

    #[test]
    fn json_strings_bools_and_null() {
        assert_eq!(typed("\"2026-11-28\"", &Type::Date), "Date \"2026-11-28\"");
        assert_eq!(typed("\"2026-11-28T17:00:00+02:00\"", &Type::DateTime), "DateTime \"2026-11-28T15:00:00Z\"");
        assert_eq!(typed("true", &Type::Boolean), "Boolean true");
        assert_eq!(typed("\"true\"", &Type::Boolean), "error: \"true\" is not a Boolean");
        assert_eq!(typed("null", &Type::Guid), "Null null");
        assert_eq!(typed("[1]", &Type::Text), "error: a JSON array is not a Text");
    }

    #[test]
    fn json_nested_paths() {
        let t = obj_type(&[("Lines", list_of(obj_type(&[("Tags", list_of(Type::Text))])))]);
        assert_eq!(
            typed(r#"{"Lines": [{"Tags": []}, {"Tags": ["a", 3]}]}"#, &t),
            "error: at Lines[1].Tags[1]: 3 is not a Text"
        );
        let empty = obj_type(&[]);
        assert_eq!(typed(r#"{"x": 1}"#, &empty), "error: unknown attribute `x` (the object has no attributes)");
    }

    #[test]
    fn deep_json_is_an_error_not_a_crash() {
        let depth = MAX_VALUE_DEPTH as usize;
        let ok = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        assert!(untyped(&ok).starts_with("List "));
        let deep = format!("{}{}", "[".repeat(depth + 1), "]".repeat(depth + 1));
        assert_eq!(untyped(&deep), format!("error: at {}: value nested more than 64 levels deep", "[0]".repeat(depth)));
        let mut ty = Type::Integer;
        for _ in 0..=depth {
            ty = list_of(ty);
        }
        assert!(typed(&deep, &ty).contains("nested more than 64 levels"));
        // Deeper than serde_json itself allows: its error, no stack overflow.
        let very = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(from_input(&very, &ty).is_err());
        let objects = format!("{}1{}", "{\"a\":".repeat(100), "}".repeat(100));
        assert!(from_input(&objects, &list_of(Type::Integer)).is_err());
    }

    #[test]
    fn untyped_json() {
        assert_eq!(untyped("5"), "Integer 5");
        assert_eq!(untyped("-9223372036854775808"), "Integer -9223372036854775808");
        assert_eq!(untyped("9223372036854775808"), "Decimal 9223372036854775808");
        assert_eq!(untyped("1.50"), "Decimal 1.50");
        assert_eq!(untyped("2e2"), "Decimal 200");
        assert_eq!(untyped("\"2026-11-28\""), "Text \"2026-11-28\"");
        assert_eq!(untyped("null"), "Null null");
        assert_eq!(untyped("false"), "Boolean false");
        assert_eq!(untyped(r#"{"b": 1, "a": [true, null, "x"]}"#), r#"Object {"b":1,"a":[true,null,"x"]}"#);
        assert_eq!(
            untyped(r#"{"a": [1, 1e999]}"#),
            "error: at a[1]: 1e+999 cannot be held exactly by a Decimal (28 digits)"
        );
    }

    #[test]
    fn values_to_json() {
        let mut attrs = IndexMap::new();
        attrs.insert(Arc::from("Z"), Value::Integer(1));
        attrs.insert(Arc::from("A"), dec("0.10"));
        let cases = [
            (Value::Null, "null"),
            (Value::Boolean(true), "true"),
            (Value::Integer(-12), "-12"),
            (dec("0.30"), "0.30"),
            (dec("12.50"), "12.50"),
            (dec("-0.10"), "-0.10"),
            (Value::Decimal(Decimal::MAX), "79228162514264337593543950335"),
            (Value::text("a\"\\\n\u{1}é"), r#""a\"\\\n\u0001é""#),
            (Value::Date(jiff::civil::date(2026, 11, 28)), "\"2026-11-28\""),
            (Value::DateTime("2026-11-28T17:00:00+02:00".parse().unwrap()), "\"2026-11-28T15:00:00Z\""),
            (Value::DateTime("2026-11-28T15:00:00.123456789Z".parse().unwrap()), "\"2026-11-28T15:00:00.123456789Z\""),
            (
                Value::Guid(Uuid::parse_str("8B4C2F3E0D7A4C1B9C552F1E3A4B5C6D").unwrap()),
                "\"8b4c2f3e-0d7a-4c1b-9c55-2f1e3a4b5c6d\"",
            ),
            (Value::list(vec![Value::Integer(1), Value::Null]).unwrap(), "[1,null]"),
            (Value::object(attrs).unwrap(), r#"{"Z":1,"A":0.10}"#),
        ];
        for (value, want) in cases {
            assert_eq!(to_json_text(&value).unwrap(), want);
            assert_eq!(serde_json::to_string(&to_json(&value)).unwrap(), want);
        }
    }

    #[test]
    fn display() {
        assert_eq!(Value::text("a \"b\"").to_string(), "a \"b\"");
        assert_eq!(Value::Null.to_string(), "null");
        assert_eq!(dec("0.30").to_string(), "0.30");
        assert_eq!(Value::Boolean(false).to_string(), "false");
        assert_eq!(Value::DateTime("2026-11-28T15:00:00Z".parse().unwrap()).to_string(), "2026-11-28T15:00:00Z");
        assert_eq!(Value::Date(jiff::civil::date(2026, 1, 2)).to_string(), "2026-01-02");
        let l = Value::list(vec![Value::text("x"), dec("1.0")]).unwrap();
        assert_eq!(l.to_string(), r#"["x",1.0]"#);
        assert_eq!(to_display_text(&l).unwrap(), r#"["x",1.0]"#);
    }

    #[test]
    fn display_and_json_text_stop_at_the_limit() {
        // A list of 1,000 references to one 1 MiB text would print 1 GB.
        let big = Value::text("x".repeat(1 << 20));
        let list = Value::list(vec![big; 1000]).unwrap();
        assert!(to_json_text(&list).unwrap_err().contains("16 MiB"));
        assert!(to_display_text(&list).unwrap_err().contains("16 MiB"));
    }

    #[test]
    fn conform_scalars() {
        assert!(matches!(conform(Value::Integer(1), &Type::Integer), Ok(Value::Integer(1))));
        assert_eq!(conform(Value::Integer(2), &Type::Decimal).unwrap().to_string(), "2");
        assert!(matches!(conform(Value::Integer(2), &Type::Decimal), Ok(Value::Decimal(_))));
        assert!(conform(Value::Null, &Type::Guid).unwrap().is_null());
        assert_eq!(conform(Value::text("abc"), &Type::Integer).unwrap_err(), "expected Integer, got Text \"abc\"");
        assert_eq!(conform(dec("1.5"), &Type::Integer).unwrap_err(), "expected Integer, got Decimal 1.5");
        assert_eq!(
            conform(Value::list(vec![]).unwrap(), &Type::Text).unwrap_err(),
            "expected Text, got a List of 0 items"
        );
        assert!(conform(Value::text("2026-11-28"), &Type::Date).is_err());
    }

    #[test]
    fn conform_lists_and_objects() {
        let ints = Value::list(vec![Value::Integer(1), Value::Integer(2)]).unwrap();
        let same = conform(ints.clone(), &list_of(Type::Integer)).unwrap();
        match (&ints, &same) {
            (Value::List(a), Value::List(b)) => assert!(Arc::ptr_eq(a, b), "no copy"),
            _ => panic!("not lists"),
        }
        let widened = conform(ints, &list_of(Type::Decimal)).unwrap();
        assert!(matches!(widened.as_list(), Some([Value::Decimal(_), Value::Decimal(_)])));
        let mixed = Value::list(vec![Value::Integer(1), Value::text("x")]).unwrap();
        assert_eq!(conform(mixed, &list_of(Type::Integer)).unwrap_err(), "at [1]: expected Integer, got Text \"x\"");

        let ty = obj_type(&[("Id", Type::Integer), ("Amount", Type::Decimal)]);
        let mut attrs = IndexMap::new();
        attrs.insert(Arc::from("Amount"), Value::Integer(5));
        let o = Value::object(attrs.clone()).unwrap();
        assert_eq!(to_json_text(&conform(o, &ty).unwrap()).unwrap(), r#"{"Id":null,"Amount":5}"#);
        attrs.insert(Arc::from("Extra"), Value::Null);
        assert_eq!(
            conform(Value::object(attrs).unwrap(), &ty).unwrap_err(),
            "unknown attribute `Extra` (expected Id, Amount)"
        );
        let mut exact = IndexMap::new();
        exact.insert(Arc::from("Id"), Value::Integer(1));
        exact.insert(Arc::from("Amount"), dec("1.5"));
        let exact = Value::object(exact).unwrap();
        match (&exact, &conform(exact.clone(), &ty).unwrap()) {
            (Value::Object(a), Value::Object(b)) => assert!(Arc::ptr_eq(a, b), "no copy"),
            _ => panic!("not objects"),
        }
        let nested = Value::list(vec![exact.clone(), Value::text("x")]).unwrap();
        assert_eq!(
            conform(nested, &list_of(ty)).unwrap_err(),
            "at [1]: expected { Id: Integer, Amount: Decimal }, got Text \"x\""
        );
    }

    /// Any date of the years 0001–9999, the ends included.
    fn arb_date() -> impl Strategy<Value = jiff::civil::Date> {
        prop_oneof![
            (1i16..=9999, 1i8..=12, 1i8..=28).prop_map(|(y, m, d)| jiff::civil::date(y, m, d)),
            Just(jiff::civil::date(1, 1, 1)),
            Just(jiff::civil::date(9999, 12, 31)),
        ]
    }

    fn arb_datetime() -> impl Strategy<Value = UtcDateTime> {
        (arb_date(), 0i8..24, 0i8..60, 0i8..60, prop_oneof![Just(0i32), 0i32..1_000_000_000])
            .prop_map(|(d, h, m, s, n)| UtcDateTime::new(d.to_datetime(jiff::civil::time(h, m, s, n))).unwrap())
    }

    fn arb_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Boolean),
            any::<i64>().prop_map(Value::Integer),
            (any::<i64>(), 0u32..28).prop_map(|(m, s)| Value::Decimal(Decimal::new(m, s))),
            any::<String>().prop_map(Value::text),
            arb_date().prop_map(Value::Date),
            arb_datetime().prop_map(Value::DateTime),
            any::<u128>().prop_map(|u| Value::Guid(Uuid::from_u128(u))),
        ];
        leaf.prop_recursive(4, 32, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(|items| Value::list(items).unwrap()),
                prop::collection::vec(("[A-Za-z\"]{1,4}", inner), 0..6).prop_map(|attrs| {
                    Value::object(attrs.into_iter().map(|(k, v)| (Arc::from(k.as_str()), v)).collect()).unwrap()
                }),
            ]
        })
    }

    proptest! {
        #[test]
        fn from_input_never_panics(s in any::<String>()) {
            let types = [
                Type::Text, Type::Integer, Type::Decimal, Type::Boolean, Type::Date,
                Type::DateTime, Type::Guid, list_of(Type::Decimal),
                obj_type(&[("A", Type::Integer)]),
            ];
            for ty in &types {
                let _ = from_input(&s, ty);
            }
        }

        #[test]
        fn from_input_numbers_never_panic(s in "[-+ ]?[0-9]{0,40}(\\.[0-9]{0,40})?([eE][-+]?[0-9]{0,25})?") {
            let _ = from_input(&s, &Type::Integer);
            let _ = from_input(&s, &Type::Decimal);
            let _ = from_input(&format!("[{s}]"), &list_of(Type::Decimal));
            let _ = from_input(&format!("[{s}]"), &list_of(Type::Integer));
        }

        #[test]
        fn dates_and_datetimes_of_every_year_round_trip(d in arb_date(), t in arb_datetime()) {
            for (value, ty) in [(Value::Date(d), Type::Date), (Value::DateTime(t), Type::DateTime)] {
                let json = to_json(&value);
                let back = from_json(&json, &ty).unwrap();
                prop_assert_eq!(to_json(&back), json);
                let text = value.to_string();
                prop_assert_eq!(from_input(&text, &ty).unwrap().to_string(), text);
            }
        }

        #[test]
        fn json_text_matches_serde_json_and_round_trips(v in arb_value()) {
            let text = to_json_text(&v).unwrap();
            prop_assert_eq!(&text, &serde_json::to_string(&to_json(&v)).unwrap());
            let back = from_json_untyped(&serde_json::from_str(&text).unwrap()).unwrap();
            // Dates, date-times and GUIDs come back as Text; the JSON is the same.
            prop_assert_eq!(to_json_text(&back).unwrap(), text);
        }

        #[test]
        fn decimal_input_round_trips(m in any::<i64>(), s in 0u32..20) {
            let d = Decimal::new(m, s);
            let v = from_input(&d.to_string(), &Type::Decimal).unwrap();
            prop_assert_eq!(to_json_text(&v).unwrap(), d.to_string());
        }
    }
}
