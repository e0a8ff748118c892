//! The standard functions scripts can call.
//!
//! Each [`Builtin`] variant's doc comment is the user reference for that
//! function. Functions never convert implicitly: a wrong argument type is an
//! error naming the function and the argument (`upper expects a Text, got
//! Integer`). Results are bounded: no text beyond [`MAX_TEXT_LEN`] bytes, no
//! list beyond [`MAX_LIST_LEN`] items.

use super::convert::{
    date_flaw, from_json_untyped, kind, parse_date, parse_datetime, parse_decimal_text, parse_guid, parse_integer_text,
    quote, text_too_long, to_display_text, to_json_text, LimitedString,
};
use super::ops::{compare, equals, list_too_long};
use super::value::{date_in_range, UtcDateTime, Value, ITEM_BYTES, MAX_LIST_LEN, MAX_TEXT_LEN};
use jiff::{SignedDuration, Span, Timestamp};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};
use std::cmp::Ordering;
use std::fmt::Write as _;
use std::sync::Arc;
use uuid::Uuid;

/// What the standard functions may ask of the running instance.
pub trait BuiltinContext {
    /// The instance's clock (virtual in `procdsl run`, real in the service).
    fn now(&self) -> Timestamp;
    /// The message of the error that sent the flow to the current handler.
    fn last_error(&self) -> Option<&str>;
    /// A fresh GUID (UUID v4 in production; tests may make them predictable).
    fn new_guid(&mut self) -> Uuid;
}

/// A standard function.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Builtin {
    /// `len(x)`: the number of characters of a Text (not bytes), items of a
    /// List or attributes of an Object.
    Len,
    /// `upper(text)`: the text in upper case (Unicode rules: `ß` → `SS`).
    Upper,
    /// `lower(text)`: the text in lower case.
    Lower,
    /// `trim(text)`: the text without leading and trailing whitespace.
    Trim,
    /// `contains(text, part)`: whether `part` occurs in the text;
    /// `contains(list, value)`: whether an item equals `value` (as `==`).
    Contains,
    /// `starts_with(text, prefix)`.
    StartsWith,
    /// `ends_with(text, suffix)`.
    EndsWith,
    /// `replace(text, from, to)`: every occurrence of `from` replaced by
    /// `to`. An empty `from` is an error.
    Replace,
    /// `split(text, separator)` → List of Texts. An empty separator splits
    /// into single characters; `split("", ",")` is `[""]`.
    Split,
    /// `join(list, separator)` → Text: the items as text interpolation shows
    /// them (`null` for null), separated by `separator`.
    Join,
    /// `substring(text, start[, length])`: counted in characters from 0. A
    /// negative start or length is an error; past the end it is cut short,
    /// so `substring("abc", 2, 10)` is `"c"` and `substring("abc", 5)` `""`.
    Substring,
    /// `abs(number)`: the absolute value (the Integer -9223372036854775808
    /// has none: overflow).
    Abs,
    /// `round(number[, digits])`: rounds half away from zero, as business
    /// users expect: `round(2.345, 2)` is 2.35, `round(2.5)` 3, `round(-2.5)`
    /// -3. A Decimal result has exactly `digits` decimals (`round(2.5, 2)` is
    /// 2.50; without `digits`, none); negative digits round to tens,
    /// hundreds, … (`round(1250, -2)` is 1300). An Integer stays an Integer.
    /// `digits` must be between -28 and 28.
    Round,
    /// `floor(number)`: the largest whole number not above it (a Decimal with
    /// no decimals; an Integer is unchanged).
    Floor,
    /// `ceil(number)`: the smallest whole number not below it.
    Ceil,
    /// `min(list)` or `min(a, b, …)`: the smallest of numbers, texts, dates
    /// or date-times, returned as it is (`min(2, 1.5)` is the Decimal 1.5).
    /// The minimum of an empty list is null; a null item is an error.
    Min,
    /// `max(list)` or `max(a, b, …)`: the largest, like `min`.
    Max,
    /// `sum(list)` or `sum(a, b, …)`: the total of numbers; an Integer unless
    /// some item is a Decimal; `sum([])` is 0. A non-number (null too) is an
    /// error.
    Sum,
    /// `push(list, item)` → a new list with `item` appended (the argument
    /// itself is unchanged).
    Push,
    /// `keys(object)` → List of Texts: the attribute names in order.
    Keys,
    /// `has(object, name)`: whether the object has that attribute;
    /// `has(list, index)`: whether the index is within the list.
    Has,
    /// `range(n)` → `[0, 1, …, n-1]`; `range(a, b)` → `[a, …, b-1]`. Empty
    /// when the end is not after the start; at most 1,000,000 items.
    Range,
    /// `now()` → DateTime: the instance's clock (virtual in `procdsl run`).
    Now,
    /// `today()` → Date: the UTC date of `now()`.
    Today,
    /// `add_days(date or datetime, n)`: `n` days later (earlier if negative);
    /// for a DateTime, n × 24 hours.
    AddDays,
    /// `add_hours(datetime, n)`: `n` hours later (earlier if negative).
    AddHours,
    /// `days_between(a, b)` → Integer: whole days from `a` to `b` (negative
    /// when `b` is earlier). Both Dates, or both DateTimes (then whole 24-hour
    /// periods, the rest dropped toward zero).
    DaysBetween,
    /// `date(x)` → Date from a Text `YYYY-MM-DD`, or the UTC date of a
    /// DateTime.
    Date,
    /// `datetime(x)` → DateTime from RFC 3339 text with an offset, or a Date
    /// at midnight UTC.
    DateTime,
    /// `guid(text)` → Guid, from any standard form.
    Guid,
    /// `new_guid()` → a fresh random Guid.
    NewGuid,
    /// `text(x)` → Text, as text interpolation shows `x` (`text(null)` is
    /// `"null"`; use `x ?? ""` for an empty text instead).
    Text,
    /// `integer(x)` → Integer from a Text (`" -12 "`), an Integer, or a
    /// Decimal cut toward zero (`integer(2.9)` is 2, `integer(-2.9)` -2; use
    /// `round` first to round). Out of range is an error.
    Integer,
    /// `decimal(x)` → Decimal from a Text (`"12.50"`, scale kept), an Integer
    /// or a Decimal.
    Decimal,
    /// `to_json(x)` → Text: compact JSON, as the type table converts values.
    ToJson,
    /// `parse_json(text)` → the value the JSON describes: whole numbers that
    /// fit become Integers, others exact Decimals (`1.50` stays 1.50),
    /// strings Texts, arrays Lists, objects Objects (attribute order kept).
    ParseJson,
    /// `type_of(x)` → Text: `Null`, `Boolean`, `Integer`, `Decimal`, `Text`,
    /// `Date`, `DateTime`, `Guid`, `List` or `Object`.
    TypeOf,
    /// `coalesce(a, b, …)`: the first argument that is not null, else null.
    Coalesce,
    /// `last_error()` → Text: in an `on error` handler, the message of the
    /// error that led there; null elsewhere.
    LastError,
}

/// Every standard function, in the reference's order (for listings and
/// "did you mean").
pub const ALL: &[Builtin] = &[
    Builtin::Len,
    Builtin::Upper,
    Builtin::Lower,
    Builtin::Trim,
    Builtin::Contains,
    Builtin::StartsWith,
    Builtin::EndsWith,
    Builtin::Replace,
    Builtin::Split,
    Builtin::Join,
    Builtin::Substring,
    Builtin::Abs,
    Builtin::Round,
    Builtin::Floor,
    Builtin::Ceil,
    Builtin::Min,
    Builtin::Max,
    Builtin::Sum,
    Builtin::Push,
    Builtin::Keys,
    Builtin::Has,
    Builtin::Range,
    Builtin::Now,
    Builtin::Today,
    Builtin::AddDays,
    Builtin::AddHours,
    Builtin::DaysBetween,
    Builtin::Date,
    Builtin::DateTime,
    Builtin::Guid,
    Builtin::NewGuid,
    Builtin::Text,
    Builtin::Integer,
    Builtin::Decimal,
    Builtin::ToJson,
    Builtin::ParseJson,
    Builtin::TypeOf,
    Builtin::Coalesce,
    Builtin::LastError,
];

static NULL: Value = Value::Null;

/// How much more a byte of text costs when it is handled character by
/// character (case mapping, escaping, splitting) than when it is copied:
/// measured, see docs/LIMITS.md.
pub(crate) const CHAR_WORK: u64 = 8;

/// Bytes of work per byte of JSON parsed: a tree is built, then converted.
const PARSE_WORK: u64 = 16;

/// Bytes of work per value a function builds: an allocation each.
const NEW_VALUE_WORK: u64 = 512;

/// The largest `digits` `round` accepts either way: a Decimal's precision.
const MAX_ROUND_DIGITS: i64 = 28;

impl Builtin {
    /// The function with this name, if any.
    pub fn lookup(name: &str) -> Option<Builtin> {
        ALL.iter().copied().find(|f| f.name() == name)
    }

    /// The name scripts call it by.
    pub fn name(self) -> &'static str {
        match self {
            Builtin::Len => "len",
            Builtin::Upper => "upper",
            Builtin::Lower => "lower",
            Builtin::Trim => "trim",
            Builtin::Contains => "contains",
            Builtin::StartsWith => "starts_with",
            Builtin::EndsWith => "ends_with",
            Builtin::Replace => "replace",
            Builtin::Split => "split",
            Builtin::Join => "join",
            Builtin::Substring => "substring",
            Builtin::Abs => "abs",
            Builtin::Round => "round",
            Builtin::Floor => "floor",
            Builtin::Ceil => "ceil",
            Builtin::Min => "min",
            Builtin::Max => "max",
            Builtin::Sum => "sum",
            Builtin::Push => "push",
            Builtin::Keys => "keys",
            Builtin::Has => "has",
            Builtin::Range => "range",
            Builtin::Now => "now",
            Builtin::Today => "today",
            Builtin::AddDays => "add_days",
            Builtin::AddHours => "add_hours",
            Builtin::DaysBetween => "days_between",
            Builtin::Date => "date",
            Builtin::DateTime => "datetime",
            Builtin::Guid => "guid",
            Builtin::NewGuid => "new_guid",
            Builtin::Text => "text",
            Builtin::Integer => "integer",
            Builtin::Decimal => "decimal",
            Builtin::ToJson => "to_json",
            Builtin::ParseJson => "parse_json",
            Builtin::TypeOf => "type_of",
            Builtin::Coalesce => "coalesce",
            Builtin::LastError => "last_error",
        }
    }

    /// The least and most arguments it takes (most `None`: any number), so
    /// the checker can report a wrong number of arguments before running.
    pub fn arity(self) -> (usize, Option<usize>) {
        match self {
            Builtin::Len => (1, Some(1)),
            Builtin::Upper => (1, Some(1)),
            Builtin::Lower => (1, Some(1)),
            Builtin::Trim => (1, Some(1)),
            Builtin::Contains => (2, Some(2)),
            Builtin::StartsWith => (2, Some(2)),
            Builtin::EndsWith => (2, Some(2)),
            Builtin::Replace => (3, Some(3)),
            Builtin::Split => (2, Some(2)),
            Builtin::Join => (2, Some(2)),
            Builtin::Substring => (2, Some(3)),
            Builtin::Abs => (1, Some(1)),
            Builtin::Round => (1, Some(2)),
            Builtin::Floor => (1, Some(1)),
            Builtin::Ceil => (1, Some(1)),
            Builtin::Min => (1, None),
            Builtin::Max => (1, None),
            Builtin::Sum => (1, None),
            Builtin::Push => (2, Some(2)),
            Builtin::Keys => (1, Some(1)),
            Builtin::Has => (2, Some(2)),
            Builtin::Range => (1, Some(2)),
            Builtin::Now => (0, Some(0)),
            Builtin::Today => (0, Some(0)),
            Builtin::AddDays => (2, Some(2)),
            Builtin::AddHours => (2, Some(2)),
            Builtin::DaysBetween => (2, Some(2)),
            Builtin::Date => (1, Some(1)),
            Builtin::DateTime => (1, Some(1)),
            Builtin::Guid => (1, Some(1)),
            Builtin::NewGuid => (0, Some(0)),
            Builtin::Text => (1, Some(1)),
            Builtin::Integer => (1, Some(1)),
            Builtin::Decimal => (1, Some(1)),
            Builtin::ToJson => (1, Some(1)),
            Builtin::ParseJson => (1, Some(1)),
            Builtin::TypeOf => (1, Some(1)),
            Builtin::Coalesce => (1, None),
            Builtin::LastError => (0, Some(0)),
        }
    }

    /// Calls the function. The arguments are taken by mutable slice so that
    /// `push` can append to a list it holds the only reference to without
    /// copying; other arguments are left as they are.
    pub fn call(self, args: &mut [Value], ctx: &mut dyn BuiltinContext) -> Result<Value, String> {
        self.check_arity(args.len())?;
        let call = Call { f: self, args };
        match self {
            Builtin::Len => call.len(),
            Builtin::Upper => call.map_text(|s| s.to_uppercase()),
            Builtin::Lower => call.map_text(|s| s.to_lowercase()),
            Builtin::Trim => {
                let s = call.text(0)?;
                let trimmed = s.trim();
                if trimmed.len() == s.len() {
                    Ok(Value::Text(s.clone()))
                } else {
                    Ok(Value::text(trimmed))
                }
            }
            Builtin::Contains => call.contains(),
            Builtin::StartsWith => Ok(Value::Boolean(call.text(0)?.starts_with(&**call.text(1)?))),
            Builtin::EndsWith => Ok(Value::Boolean(call.text(0)?.ends_with(&**call.text(1)?))),
            Builtin::Replace => call.replace(),
            Builtin::Split => call.split(),
            Builtin::Join => call.join(),
            Builtin::Substring => call.substring(),
            Builtin::Abs => match call.arg(0) {
                Value::Integer(i) => {
                    i.checked_abs().map(Value::Integer).ok_or_else(|| format!("Integer overflow in abs({i})"))
                }
                Value::Decimal(d) => Ok(Value::Decimal(d.abs())),
                other => Err(call.wrong(0, "a number", other)),
            },
            Builtin::Round => call.round(),
            Builtin::Floor => call.whole(Decimal::floor),
            Builtin::Ceil => call.whole(Decimal::ceil),
            Builtin::Min => call.extreme(Ordering::Less),
            Builtin::Max => call.extreme(Ordering::Greater),
            Builtin::Sum => call.sum(),
            Builtin::Push => push(args),
            Builtin::Keys => match call.arg(0) {
                Value::Object(o) => {
                    Value::list(o.attrs.keys().map(|k| Value::Text(k.clone())).collect()).map_err(|e| e.to_string())
                }
                other => Err(call.wrong(0, "an Object", other)),
            },
            Builtin::Has => call.has(),
            Builtin::Range => call.range(),
            Builtin::Now => Ok(Value::DateTime(UtcDateTime::from_timestamp(ctx.now()))),
            Builtin::Today => Ok(Value::Date(UtcDateTime::from_timestamp(ctx.now()).date())),
            Builtin::AddDays => call.add_days(),
            Builtin::AddHours => {
                let t = call.datetime(0)?;
                let n = call.integer(1)?;
                n.checked_mul(3600)
                    .and_then(|secs| t.checked_add(SignedDuration::from_secs(secs)))
                    .map(Value::DateTime)
                    .ok_or_else(|| format!("add_hours: {t} plus {n} hours is outside the years 0001–9999"))
            }
            Builtin::DaysBetween => match (call.arg(0), call.arg(1)) {
                (Value::Date(a), Value::Date(b)) => Ok(Value::Integer(b.duration_since(*a).as_secs() / 86_400)),
                (Value::DateTime(a), Value::DateTime(b)) => Ok(Value::Integer(b.duration_since(*a).as_secs() / 86_400)),
                (a, b) => {
                    Err(format!("days_between expects two Dates or two DateTimes, got {} and {}", kind(a), kind(b)))
                }
            },
            Builtin::Date => match call.arg(0) {
                Value::Date(d) => Ok(Value::Date(*d)),
                Value::DateTime(t) => Ok(Value::Date(t.date())),
                Value::Text(s) => parse_date(s.trim()).map(Value::Date).ok_or_else(|| match date_flaw(s.trim()) {
                    Some(flaw) => format!("date: {} is not a Date: {flaw}", quote(s)),
                    None => format!("date: {} is not a Date (write YYYY-MM-DD)", quote(s)),
                }),
                other => Err(call.wrong(0, "a Text or a DateTime", other)),
            },
            Builtin::DateTime => match call.arg(0) {
                Value::DateTime(t) => Ok(Value::DateTime(*t)),
                Value::Date(d) => Ok(Value::DateTime(UtcDateTime::from(*d))),
                Value::Text(s) => parse_datetime(s.trim()).map(Value::DateTime).ok_or_else(|| {
                    format!("datetime: {} is not a DateTime (write e.g. 2026-11-28T15:00:00Z)", quote(s))
                }),
                other => Err(call.wrong(0, "a Text or a Date", other)),
            },
            Builtin::Guid => match call.arg(0) {
                Value::Guid(g) => Ok(Value::Guid(*g)),
                Value::Text(s) => {
                    parse_guid(s.trim()).map(Value::Guid).ok_or_else(|| format!("guid: {} is not a Guid", quote(s)))
                }
                other => Err(call.wrong(0, "a Text", other)),
            },
            Builtin::NewGuid => Ok(Value::Guid(ctx.new_guid())),
            Builtin::Text => match call.arg(0) {
                Value::Text(s) => Ok(Value::Text(s.clone())),
                other => to_display_text(other).map(Value::text),
            },
            Builtin::Integer => match call.arg(0) {
                Value::Integer(i) => Ok(Value::Integer(*i)),
                Value::Decimal(d) => d
                    .trunc()
                    .to_i64()
                    .map(Value::Integer)
                    .ok_or_else(|| format!("integer: {d} is out of range for an Integer")),
                Value::Text(s) => parse_integer_text(s).map(Value::Integer).map_err(|e| format!("integer: {e}")),
                other => Err(call.wrong(0, "a Text or a number", other)),
            },
            Builtin::Decimal => match call.arg(0) {
                Value::Decimal(d) => Ok(Value::Decimal(*d)),
                Value::Integer(i) => Ok(Value::Decimal(Decimal::from(*i))),
                Value::Text(s) => parse_decimal_text(s).map(Value::Decimal).map_err(|e| format!("decimal: {e}")),
                other => Err(call.wrong(0, "a Text or a number", other)),
            },
            Builtin::ToJson => to_json_text(call.arg(0)).map(Value::text),
            Builtin::ParseJson => {
                let s = call.text(0)?;
                let json: serde_json::Value =
                    serde_json::from_str(s).map_err(|e| format!("parse_json: invalid JSON: {e}"))?;
                from_json_untyped(&json).map_err(|e| format!("parse_json: {e}"))
            }
            Builtin::TypeOf => Ok(Value::text(call.arg(0).type_name())),
            Builtin::Coalesce => Ok(call.args.iter().find(|v| !v.is_null()).cloned().unwrap_or(Value::Null)),
            Builtin::LastError => Ok(ctx.last_error().map_or(Value::Null, Value::text)),
        }
    }

    /// The bytes of work a call does on these arguments, known before it
    /// runs: what it scans, copies or compares, and for `range` what it
    /// builds, so that a huge call is refused before it allocates. The run
    /// charges it against the step budget ([`BYTES_PER_STEP`](super::eval::BYTES_PER_STEP)).
    pub fn work(self, args: &[Value]) -> u64 {
        let texts = || args.iter().map(|a| if let Value::Text(s) = a { s.len() as u64 } else { 0 }).sum::<u64>();
        match self {
            Builtin::Range => {
                let (from, to) = match args {
                    [Value::Integer(n)] => (0, *n),
                    [Value::Integer(a), Value::Integer(b)] => (*a, *b),
                    _ => return 0,
                };
                let items = (i128::from(to) - i128::from(from)).clamp(0, MAX_LIST_LEN as i128) as u64;
                items * ITEM_BYTES
            }
            // Appending copies the list only when it is shared.
            Builtin::Push => match args.first() {
                Some(Value::List(l)) if Arc::strong_count(l) > 1 => (l.items.len() as u64).saturating_mul(ITEM_BYTES),
                _ => 0,
            },
            // Counting characters, or looking a name up: the texts only.
            Builtin::Len | Builtin::Has => texts(),
            // Character by character, and a tree built then converted.
            Builtin::ParseJson => texts().saturating_mul(PARSE_WORK),
            Builtin::TypeOf
            | Builtin::Coalesce
            | Builtin::Now
            | Builtin::Today
            | Builtin::NewGuid
            | Builtin::LastError
            | Builtin::Abs
            | Builtin::Round
            | Builtin::Floor
            | Builtin::Ceil
            | Builtin::AddDays
            | Builtin::AddHours
            | Builtin::DaysBetween => 0,
            // Written character by character (escaped, formatted); writing
            // stops at 16 MiB, however big the value.
            Builtin::ToJson | Builtin::Text | Builtin::Join => args
                .iter()
                .map(Value::size)
                .fold(0, u64::saturating_add)
                .min(MAX_TEXT_LEN as u64)
                .saturating_mul(CHAR_WORK),
            // Character by character.
            Builtin::Upper | Builtin::Lower | Builtin::Replace | Builtin::Split | Builtin::Substring => {
                args.iter().map(Value::size).fold(0, u64::saturating_add).saturating_mul(CHAR_WORK)
            }
            // Everything else reads all of its arguments.
            _ => args.iter().map(Value::size).fold(0, u64::saturating_add),
        }
    }

    /// The bytes of work building this result took: its size, and an
    /// allocation for each value in it. Charged after the call of a
    /// function that builds its result ([`Builtin::builds_result`]), which
    /// never builds more than 16 MiB or 1,000,000 items.
    pub fn result_work(result: &Value) -> u64 {
        result.size().saturating_add(result.nodes().saturating_mul(NEW_VALUE_WORK))
    }

    /// Whether the result is newly built, so that building it is work too.
    pub fn builds_result(self) -> bool {
        matches!(
            self,
            Builtin::Upper
                | Builtin::Lower
                | Builtin::Replace
                | Builtin::Split
                | Builtin::Join
                | Builtin::Substring
                | Builtin::Keys
                | Builtin::Text
                | Builtin::ToJson
                | Builtin::ParseJson
        )
    }

    fn check_arity(self, got: usize) -> Result<(), String> {
        let (min, max) = self.arity();
        let ok = got >= min && max.is_none_or(|max| got <= max);
        if ok {
            return Ok(());
        }
        Err(format!("{} takes {}, got {got}", self.name(), self.arity_words()))
    }

    /// How many arguments it takes, in words: `1 argument`, `2 to 3
    /// arguments`, `at least 1 argument`.
    pub fn arity_words(self) -> String {
        let (min, max) = self.arity();
        match max {
            Some(max) if max == min => plural(min, "argument"),
            Some(max) => format!("{min} to {max} arguments"),
            None => format!("at least {}", plural(min, "argument")),
        }
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// `push`: takes the list out of the arguments so that a list nobody else
/// holds is appended in place.
fn push(args: &mut [Value]) -> Result<Value, String> {
    let item = args.get(1).cloned().unwrap_or_default();
    let Some(slot) = args.first_mut() else {
        return Err("push takes 2 arguments, got 0".to_string());
    };
    match std::mem::take(slot) {
        Value::List(mut list) => {
            if list.items.len() >= MAX_LIST_LEN {
                let len = list.items.len() + 1;
                *slot = Value::List(list);
                return Err(list_too_long(len));
            }
            let result = Arc::make_mut(&mut list).push(item);
            match result {
                Ok(()) => Ok(Value::List(list)),
                Err(e) => {
                    *slot = Value::List(list);
                    Err(format!("push: {e}"))
                }
            }
        }
        other => {
            let message = format!("push expects a List as argument 1, got {}", kind(&other));
            *slot = other;
            Err(message)
        }
    }
}

/// One call's arguments, with helpers that report wrong types.
struct Call<'a> {
    f: Builtin,
    args: &'a [Value],
}

impl Call<'_> {
    fn arg(&self, i: usize) -> &Value {
        self.args.get(i).unwrap_or(&NULL)
    }

    /// `upper expects a Text, got Integer`, or with the position when the
    /// function takes several arguments.
    fn wrong(&self, i: usize, expected: &str, got: &Value) -> String {
        if self.f.arity().1 == Some(1) {
            format!("{} expects {expected}, got {}", self.f.name(), kind(got))
        } else {
            format!("{} expects {expected} as argument {}, got {}", self.f.name(), i + 1, kind(got))
        }
    }

    fn text(&self, i: usize) -> Result<&Arc<str>, String> {
        match self.arg(i) {
            Value::Text(s) => Ok(s),
            other => Err(self.wrong(i, "a Text", other)),
        }
    }

    fn integer(&self, i: usize) -> Result<i64, String> {
        match self.arg(i) {
            Value::Integer(n) => Ok(*n),
            other => Err(self.wrong(i, "an Integer", other)),
        }
    }

    fn datetime(&self, i: usize) -> Result<UtcDateTime, String> {
        match self.arg(i) {
            Value::DateTime(t) => Ok(*t),
            other => Err(self.wrong(i, "a DateTime", other)),
        }
    }

    fn map_text(&self, f: impl Fn(&str) -> String) -> Result<Value, String> {
        let s = f(self.text(0)?);
        if s.len() > MAX_TEXT_LEN {
            return Err(text_too_long());
        }
        Ok(Value::text(s))
    }

    fn len(&self) -> Result<Value, String> {
        let n = match self.arg(0) {
            Value::Text(s) => s.chars().count(),
            Value::List(l) => l.items.len(),
            Value::Object(o) => o.attrs.len(),
            other => return Err(self.wrong(0, "a Text, List or Object", other)),
        };
        Ok(Value::Integer(i64::try_from(n).unwrap_or(i64::MAX)))
    }

    fn contains(&self) -> Result<Value, String> {
        match self.arg(0) {
            Value::Text(s) => Ok(Value::Boolean(s.contains(&**self.text(1)?))),
            Value::List(l) => {
                let needle = self.arg(1);
                Ok(Value::Boolean(l.items.iter().any(|v| equals(v, needle))))
            }
            other => Err(self.wrong(0, "a Text or a List", other)),
        }
    }

    fn replace(&self) -> Result<Value, String> {
        let s = self.text(0)?;
        let from = self.text(1)?;
        let to = self.text(2)?;
        if from.is_empty() {
            return Err("replace: the text to replace is empty".to_string());
        }
        let count = s.matches(&**from).count();
        if count == 0 {
            return Ok(Value::Text(s.clone()));
        }
        let len = (s.len() - count * from.len()).saturating_add(count.saturating_mul(to.len()));
        if len > MAX_TEXT_LEN {
            return Err(text_too_long());
        }
        Ok(Value::text(s.replace(&**from, to)))
    }

    fn split(&self) -> Result<Value, String> {
        let s = self.text(0)?;
        let sep = self.text(1)?;
        let items: Vec<Value> = if sep.is_empty() {
            if s.len() > MAX_LIST_LEN && s.chars().count() > MAX_LIST_LEN {
                return Err(list_too_long(s.chars().count()));
            }
            s.chars().map(|c| Value::text(c.to_string())).collect()
        } else {
            let count = s.matches(&**sep).count().saturating_add(1);
            if count > MAX_LIST_LEN {
                return Err(list_too_long(count));
            }
            s.split(&**sep).map(Value::text).collect()
        };
        Value::list(items).map_err(|e| e.to_string())
    }

    fn join(&self) -> Result<Value, String> {
        let items = match self.arg(0) {
            Value::List(l) => &l.items,
            other => return Err(self.wrong(0, "a List", other)),
        };
        let sep = self.text(1)?;
        let mut out = LimitedString::new(MAX_TEXT_LEN);
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                out.write_str(sep).map_err(|_| text_too_long())?;
            }
            write!(out, "{item}").map_err(|_| text_too_long())?;
        }
        Ok(Value::text(out.buf))
    }

    fn substring(&self) -> Result<Value, String> {
        let s = self.text(0)?;
        let start = self.integer(1)?;
        if start < 0 {
            return Err(format!("substring: start must not be negative, got {start}"));
        }
        let length = match self.args.get(2) {
            None => None,
            Some(_) => {
                let n = self.integer(2)?;
                if n < 0 {
                    return Err(format!("substring: length must not be negative, got {n}"));
                }
                Some(n)
            }
        };
        let start = usize::try_from(start).unwrap_or(usize::MAX);
        let Some((from, _)) = s.char_indices().nth(start) else {
            return Ok(Value::text(""));
        };
        let rest = s.get(from..).unwrap_or_default();
        let part = match length.map(|n| usize::try_from(n).unwrap_or(usize::MAX)) {
            Some(n) => match rest.char_indices().nth(n) {
                Some((end, _)) => rest.get(..end).unwrap_or_default(),
                None => rest,
            },
            None => rest,
        };
        Ok(Value::text(part))
    }

    fn round(&self) -> Result<Value, String> {
        let digits = match self.args.get(1) {
            None => None,
            Some(_) => {
                let d = self.integer(1)?;
                if !(-MAX_ROUND_DIGITS..=MAX_ROUND_DIGITS).contains(&d) {
                    return Err(format!(
                        "round: digits must be between -{MAX_ROUND_DIGITS} and {MAX_ROUND_DIGITS}, got {d}"
                    ));
                }
                Some(d)
            }
        };
        match (self.arg(0), digits) {
            (Value::Integer(i), None) => Ok(Value::Integer(*i)),
            (Value::Integer(i), Some(d)) if d >= 0 => Ok(Value::Integer(*i)),
            (Value::Integer(i), Some(d)) => {
                // 10^28 fits in i128, so does any i64 rounded to it.
                let factor = 10i128.pow(u32::try_from(-d).unwrap_or(0));
                let x = i128::from(*i);
                let mut q = x / factor;
                if (x % factor).abs() * 2 >= factor {
                    q += x.signum();
                }
                i64::try_from(q * factor)
                    .map(Value::Integer)
                    .map_err(|_| format!("Integer overflow in round({i}, {d})"))
            }
            (Value::Decimal(x), d) => {
                let d = d.unwrap_or(0);
                if d >= 0 {
                    let scale = u32::try_from(d).unwrap_or(0);
                    let rounded = x.round_dp_with_strategy(scale, RoundingStrategy::MidpointAwayFromZero);
                    let mut padded = rounded;
                    padded.rescale(scale);
                    Ok(Value::Decimal(if padded == rounded { padded } else { rounded }))
                } else {
                    let power = u32::try_from(-d).unwrap_or(0);
                    let factor = Decimal::from_i128_with_scale(10i128.pow(power), 0);
                    x.checked_div(factor)
                        .map(|q| q.round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero))
                        .and_then(|q| q.checked_mul(factor))
                        .map(Value::Decimal)
                        .ok_or_else(|| format!("Decimal overflow in round({x}, {d})"))
                }
            }
            (other, _) => Err(self.wrong(0, "a number", other)),
        }
    }

    fn whole(&self, f: fn(&Decimal) -> Decimal) -> Result<Value, String> {
        match self.arg(0) {
            Value::Integer(i) => Ok(Value::Integer(*i)),
            Value::Decimal(d) => Ok(Value::Decimal(f(d))),
            other => Err(self.wrong(0, "a number", other)),
        }
    }

    /// The values `min`, `max` and `sum` work on: one list's items, or the
    /// arguments themselves.
    fn many(&self) -> &[Value] {
        match self.args {
            [Value::List(l)] => &l.items,
            args => args,
        }
    }

    fn extreme(&self, wanted: Ordering) -> Result<Value, String> {
        let name = self.f.name();
        let mut best: Option<&Value> = None;
        for item in self.many() {
            let current = best.unwrap_or(item);
            let order = compare(item, current).map_err(|e| format!("{name}: {e}"))?;
            if best.is_none() || order == wanted {
                best = Some(item);
            }
        }
        Ok(best.cloned().unwrap_or(Value::Null))
    }

    fn sum(&self) -> Result<Value, String> {
        let mut total = Value::Integer(0);
        for (i, item) in self.many().iter().enumerate() {
            if !matches!(item, Value::Integer(_) | Value::Decimal(_)) {
                return Err(format!("sum expects numbers, got {} as item {}", kind(item), i + 1));
            }
            total = super::ops::add(&total, item).map_err(|e| format!("sum: {e}"))?;
        }
        Ok(total)
    }

    fn has(&self) -> Result<Value, String> {
        match self.arg(0) {
            Value::Object(o) => Ok(Value::Boolean(o.attrs.contains_key(&**self.text(1)?))),
            Value::List(l) => {
                let i = self.integer(1)?;
                Ok(Value::Boolean(usize::try_from(i).is_ok_and(|i| i < l.items.len())))
            }
            other => Err(self.wrong(0, "an Object or a List", other)),
        }
    }

    fn range(&self) -> Result<Value, String> {
        let (start, end) =
            if self.args.len() == 1 { (0, self.integer(0)?) } else { (self.integer(0)?, self.integer(1)?) };
        let len = (i128::from(end) - i128::from(start)).max(0);
        if len > MAX_LIST_LEN as i128 {
            return Err(format!("range: {len} items would be more than the limit of {MAX_LIST_LEN}"));
        }
        Value::list((start..end).map(Value::Integer).collect()).map_err(|e| e.to_string())
    }

    fn add_days(&self) -> Result<Value, String> {
        let n = self.integer(1)?;
        let out_of_range =
            |what: &dyn std::fmt::Display| format!("add_days: {what} plus {n} days is outside the years 0001–9999");
        match self.arg(0) {
            Value::Date(d) => Span::new()
                .try_days(n)
                .ok()
                .and_then(|span| d.checked_add(span).ok())
                .and_then(date_in_range)
                .map(Value::Date)
                .ok_or_else(|| out_of_range(d)),
            Value::DateTime(t) => n
                .checked_mul(86_400)
                .and_then(|secs| t.checked_add(SignedDuration::from_secs(secs)))
                .map(Value::DateTime)
                .ok_or_else(|| out_of_range(t)),
            other => Err(self.wrong(0, "a Date or a DateTime", other)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    struct Ctx {
        now: Timestamp,
        last_error: Option<String>,
        guids: u128,
    }

    impl BuiltinContext for Ctx {
        fn now(&self) -> Timestamp {
            self.now
        }
        fn last_error(&self) -> Option<&str> {
            self.last_error.as_deref()
        }
        fn new_guid(&mut self) -> Uuid {
            self.guids += 1;
            Uuid::from_u128(self.guids)
        }
    }

    fn ctx() -> Ctx {
        Ctx { now: "2026-11-28T23:30:00-02:00".parse().unwrap(), last_error: None, guids: 0 }
    }

    fn int(i: i64) -> Value {
        Value::Integer(i)
    }
    fn dec(s: &str) -> Value {
        Value::Decimal(Decimal::from_str(s).unwrap())
    }
    fn text(s: &str) -> Value {
        Value::text(s)
    }
    fn list(items: Vec<Value>) -> Value {
        Value::list(items).unwrap()
    }
    fn date(s: &str) -> Value {
        Value::Date(s.parse().unwrap())
    }
    fn dt(s: &str) -> Value {
        Value::DateTime(s.parse().unwrap())
    }

    /// Calls `name` and shows the result as `Type json` or `error: …`.
    fn call(name: &str, mut args: Vec<Value>) -> String {
        let f = Builtin::lookup(name).unwrap();
        match f.call(&mut args, &mut ctx()) {
            Ok(v) => format!("{} {}", v.type_name(), to_json_text(&v).unwrap()),
            Err(e) => format!("error: {e}"),
        }
    }

    #[test]
    fn table_is_complete() {
        assert_eq!(ALL.len(), 39);
        for f in ALL {
            assert_eq!(Builtin::lookup(f.name()), Some(*f));
        }
        assert_eq!(Builtin::lookup("nope"), None);
        assert_eq!(Builtin::lookup("Len"), None, "names are case-sensitive");
        assert_eq!(Builtin::Substring.arity(), (2, Some(3)));
        assert_eq!(Builtin::Sum.arity(), (1, None));
    }

    #[test]
    fn arity_is_checked() {
        assert_eq!(call("len", vec![]), "error: len takes 1 argument, got 0");
        assert_eq!(call("replace", vec![text("a")]), "error: replace takes 3 arguments, got 1");
        assert_eq!(call("round", vec![int(1), int(1), int(1)]), "error: round takes 1 to 2 arguments, got 3");
        assert_eq!(call("sum", vec![]), "error: sum takes at least 1 argument, got 0");
        assert_eq!(call("now", vec![int(1)]), "error: now takes 0 arguments, got 1");
    }

    #[test]
    fn text_functions() {
        assert_eq!(call("len", vec![text("héllo")]), "Integer 5");
        assert_eq!(call("len", vec![list(vec![int(1), int(2)])]), "Integer 2");
        assert_eq!(call("len", vec![int(1)]), "error: len expects a Text, List or Object, got Integer");
        assert_eq!(call("len", vec![Value::Null]), "error: len expects a Text, List or Object, got null");
        assert_eq!(call("upper", vec![text("straße")]), "Text \"STRASSE\"");
        assert_eq!(call("lower", vec![text("ÄB")]), "Text \"äb\"");
        assert_eq!(call("upper", vec![int(1)]), "error: upper expects a Text, got Integer");
        assert_eq!(call("trim", vec![text("  a b\t\n")]), "Text \"a b\"");
        assert_eq!(call("contains", vec![text("abc"), text("bc")]), "Boolean true");
        assert_eq!(
            call("contains", vec![text("abc"), int(1)]),
            "error: contains expects a Text as argument 2, got Integer"
        );
        assert_eq!(call("contains", vec![list(vec![int(1), text("x")]), dec("1.0")]), "Boolean true");
        assert_eq!(call("contains", vec![list(vec![]), Value::Null]), "Boolean false");
        assert_eq!(call("starts_with", vec![text("abc"), text("ab")]), "Boolean true");
        assert_eq!(call("ends_with", vec![text("abc"), text("ab")]), "Boolean false");
        assert_eq!(call("replace", vec![text("a-b-c"), text("-"), text("+")]), "Text \"a+b+c\"");
        assert_eq!(
            call("replace", vec![text("abc"), text(""), text("x")]),
            "error: replace: the text to replace is empty"
        );
        assert_eq!(call("split", vec![text("a,b,,c"), text(",")]), r#"List ["a","b","","c"]"#);
        assert_eq!(call("split", vec![text("hé"), text("")]), r#"List ["h","é"]"#);
        assert_eq!(call("split", vec![text(""), text(",")]), r#"List [""]"#);
        assert_eq!(
            call("join", vec![list(vec![int(1), text("x"), Value::Null, dec("0.50")]), text(", ")]),
            r#"Text "1, x, null, 0.50""#
        );
        assert_eq!(call("join", vec![text("x"), text(",")]), "error: join expects a List as argument 1, got Text");
    }

    #[test]
    fn substring_counts_characters_and_clamps() {
        assert_eq!(call("substring", vec![text("héllo"), int(1), int(3)]), "Text \"éll\"");
        assert_eq!(call("substring", vec![text("héllo"), int(2)]), "Text \"llo\"");
        assert_eq!(call("substring", vec![text("abc"), int(2), int(10)]), "Text \"c\"");
        assert_eq!(call("substring", vec![text("abc"), int(5)]), "Text \"\"");
        assert_eq!(call("substring", vec![text("abc"), int(i64::MAX), int(i64::MAX)]), "Text \"\"");
        assert_eq!(
            call("substring", vec![text("abc"), int(-1)]),
            "error: substring: start must not be negative, got -1"
        );
        assert_eq!(
            call("substring", vec![text("abc"), int(0), int(-2)]),
            "error: substring: length must not be negative, got -2"
        );
    }

    #[test]
    fn text_results_are_bounded() {
        let big = text(&"ab".repeat(MAX_TEXT_LEN / 4 + 1));
        assert!(call("replace", vec![big.clone(), text("a"), text("xyz")]).contains("16 MiB"));
        let many = list(vec![big; 3]);
        assert!(call("join", vec![many.clone(), text("")]).contains("16 MiB"));
        assert!(call("to_json", vec![many.clone()]).contains("16 MiB"));
        assert!(call("text", vec![many]).contains("16 MiB"));
        let commas = text(&",".repeat(MAX_LIST_LEN));
        assert!(call("split", vec![commas, text(",")]).contains("longer than the limit of 1000000"));
    }

    #[test]
    fn numbers() {
        assert_eq!(call("abs", vec![int(-3)]), "Integer 3");
        assert_eq!(call("abs", vec![dec("-1.50")]), "Decimal 1.50");
        assert_eq!(call("abs", vec![int(i64::MIN)]), "error: Integer overflow in abs(-9223372036854775808)");
        assert_eq!(call("abs", vec![text("1")]), "error: abs expects a number, got Text");
        assert_eq!(call("floor", vec![dec("2.7")]), "Decimal 2");
        assert_eq!(call("floor", vec![dec("-2.1")]), "Decimal -3");
        assert_eq!(call("ceil", vec![dec("2.1")]), "Decimal 3");
        assert_eq!(call("ceil", vec![dec("-2.7")]), "Decimal -2");
        assert_eq!(call("ceil", vec![int(5)]), "Integer 5");
    }

    #[test]
    fn round_half_away_from_zero() {
        assert_eq!(call("round", vec![dec("2.345"), int(2)]), "Decimal 2.35");
        assert_eq!(call("round", vec![dec("-2.345"), int(2)]), "Decimal -2.35");
        assert_eq!(call("round", vec![dec("2.5")]), "Decimal 3");
        assert_eq!(call("round", vec![dec("-2.5")]), "Decimal -3");
        assert_eq!(call("round", vec![dec("2.4")]), "Decimal 2");
        assert_eq!(call("round", vec![dec("2.5"), int(2)]), "Decimal 2.50");
        assert_eq!(call("round", vec![dec("1234.5"), int(-1)]), "Decimal 1230");
        assert_eq!(call("round", vec![dec("1250"), int(-2)]), "Decimal 1300");
        assert_eq!(call("round", vec![int(7)]), "Integer 7");
        assert_eq!(call("round", vec![int(7), int(2)]), "Integer 7");
        assert_eq!(call("round", vec![int(1250), int(-2)]), "Integer 1300");
        assert_eq!(call("round", vec![int(-1250), int(-2)]), "Integer -1300");
        assert_eq!(call("round", vec![int(1249), int(-2)]), "Integer 1200");
        assert_eq!(call("round", vec![int(5), int(-28)]), "Integer 0");
        assert_eq!(call("round", vec![int(i64::MAX), int(-18)]), "Integer 9000000000000000000");
        assert_eq!(
            call("round", vec![int(i64::MAX), int(-19)]),
            "error: Integer overflow in round(9223372036854775807, -19)"
        );
        assert_eq!(call("round", vec![dec("1"), int(29)]), "error: round: digits must be between -28 and 28, got 29");
        assert_eq!(call("round", vec![Value::Decimal(Decimal::MAX), int(28)]), "Decimal 79228162514264337593543950335");
        assert!(call("round", vec![Value::Decimal(Decimal::MAX), int(-28)]).starts_with("error: Decimal overflow"));
        assert_eq!(call("round", vec![text("1")]), "error: round expects a number as argument 1, got Text");
    }

    #[test]
    fn min_max_sum() {
        assert_eq!(call("min", vec![int(3), dec("1.5"), int(2)]), "Decimal 1.5");
        assert_eq!(call("max", vec![list(vec![int(3), dec("1.5"), int(2)])]), "Integer 3");
        assert_eq!(call("max", vec![text("b"), text("a")]), "Text \"b\"");
        assert_eq!(call("min", vec![date("2026-01-02"), date("2025-12-31")]), "Date \"2025-12-31\"");
        assert_eq!(call("min", vec![list(vec![])]), "Null null");
        assert_eq!(call("min", vec![int(4)]), "Integer 4");
        assert_eq!(call("max", vec![int(1), text("a")]), "error: max: cannot compare Text and Integer");
        assert_eq!(call("min", vec![list(vec![int(1), Value::Null])]), "error: min: cannot compare null and Integer");
        assert_eq!(call("min", vec![Value::Boolean(true)]), "error: min: cannot compare Boolean and Boolean");
        assert_eq!(call("sum", vec![list(vec![])]), "Integer 0");
        assert_eq!(call("sum", vec![int(1), int(2), int(3)]), "Integer 6");
        assert_eq!(call("sum", vec![list(vec![int(1), dec("0.50")])]), "Decimal 1.50");
        assert_eq!(call("sum", vec![list(vec![dec("0.1"), dec("0.1"), dec("0.1")])]), "Decimal 0.3");
        assert_eq!(call("sum", vec![int(i64::MAX), int(1)]), "error: sum: Integer overflow in 9223372036854775807 + 1");
        assert_eq!(call("sum", vec![int(1), Value::Null]), "error: sum expects numbers, got null as item 2");
    }

    #[test]
    fn push_appends_in_place_when_unshared() {
        let mut args = vec![list(vec![int(1)]), int(2)];
        let before = match &args[0] {
            Value::List(l) => Arc::as_ptr(l),
            _ => unreachable!(),
        };
        let result = Builtin::Push.call(&mut args, &mut ctx()).unwrap();
        match &result {
            Value::List(l) => assert_eq!(Arc::as_ptr(l), before, "no copy"),
            _ => panic!("not a list"),
        }
        assert_eq!(to_json_text(&result).unwrap(), "[1,2]");

        let shared = list(vec![int(1)]);
        let mut args = vec![shared.clone(), int(2)];
        let result = Builtin::Push.call(&mut args, &mut ctx()).unwrap();
        assert_eq!(to_json_text(&result).unwrap(), "[1,2]");
        assert_eq!(to_json_text(&shared).unwrap(), "[1]", "the argument is unchanged");

        assert_eq!(call("push", vec![text("x"), int(1)]), "error: push expects a List as argument 1, got Text");
        let mut deep = Value::Null;
        for _ in 0..super::super::value::MAX_VALUE_DEPTH {
            deep = list(vec![deep]);
        }
        assert_eq!(call("push", vec![list(vec![]), deep]), "error: push: value nested more than 64 levels deep");
        let full = list(vec![Value::Null; MAX_LIST_LEN]);
        assert!(call("push", vec![full, int(1)]).contains("longer than the limit"));
    }

    #[test]
    fn objects() {
        let o =
            crate::runtime::convert::from_json_untyped(&serde_json::from_str(r#"{"b": 1, "a": 2}"#).unwrap()).unwrap();
        assert_eq!(call("keys", vec![o.clone()]), r#"List ["b","a"]"#);
        assert_eq!(call("len", vec![o.clone()]), "Integer 2");
        assert_eq!(call("has", vec![o.clone(), text("a")]), "Boolean true");
        assert_eq!(call("has", vec![o.clone(), text("c")]), "Boolean false");
        assert_eq!(call("has", vec![o, int(1)]), "error: has expects a Text as argument 2, got Integer");
        let l = list(vec![int(1), int(2)]);
        assert_eq!(call("has", vec![l.clone(), int(1)]), "Boolean true");
        assert_eq!(call("has", vec![l.clone(), int(2)]), "Boolean false");
        assert_eq!(call("has", vec![l, int(-1)]), "Boolean false");
        assert_eq!(call("keys", vec![list(vec![])]), "error: keys expects an Object, got List");
    }

    #[test]
    fn ranges() {
        assert_eq!(call("range", vec![int(3)]), "List [0,1,2]");
        assert_eq!(call("range", vec![int(2), int(5)]), "List [2,3,4]");
        assert_eq!(call("range", vec![int(5), int(2)]), "List []");
        assert_eq!(call("range", vec![int(-3)]), "List []");
        assert_eq!(
            call("range", vec![int(i64::MIN), int(i64::MAX)]),
            "error: range: 18446744073709551615 items would be more than the limit of 1000000"
        );
        assert!(call("range", vec![int(1_000_001)]).starts_with("error"));
        assert!(call("range", vec![int(1_000_000)]).starts_with("List"));
    }

    #[test]
    fn time() {
        assert_eq!(call("now", vec![]), "DateTime \"2026-11-29T01:30:00Z\"");
        assert_eq!(call("today", vec![]), "Date \"2026-11-29\"");
        assert_eq!(call("add_days", vec![date("2026-02-27"), int(2)]), "Date \"2026-03-01\"");
        assert_eq!(call("add_days", vec![date("2026-03-01"), int(-1)]), "Date \"2026-02-28\"");
        assert_eq!(call("add_days", vec![dt("2026-11-28T15:00:00Z"), int(1)]), "DateTime \"2026-11-29T15:00:00Z\"");
        assert_eq!(
            call("add_days", vec![date("9999-12-31"), int(1)]),
            "error: add_days: 9999-12-31 plus 1 days is outside the years 0001–9999"
        );
        assert!(call("add_days", vec![date("0001-01-01"), int(-1)]).starts_with("error: add_days"));
        assert_eq!(call("datetime", vec![date("9999-12-31")]), "DateTime \"9999-12-31T00:00:00Z\"");
        assert_eq!(call("add_hours", vec![dt("9999-12-31T00:00:00Z"), int(23)]), "DateTime \"9999-12-31T23:00:00Z\"");
        assert_eq!(call("date", vec![dt("9999-12-31T23:59:59Z")]), "Date \"9999-12-31\"");
        assert_eq!(
            call("days_between", vec![dt("0001-01-01T00:00:00Z"), dt("9999-12-31T23:59:59Z")]),
            "Integer 3652058"
        );
        assert!(call("add_days", vec![date("2026-01-01"), int(i64::MAX)]).starts_with("error: add_days"));
        assert!(call("add_days", vec![dt("2026-01-01T00:00:00Z"), int(i64::MIN)]).starts_with("error: add_days"));
        assert_eq!(call("add_hours", vec![dt("2026-11-28T15:00:00Z"), int(-16)]), "DateTime \"2026-11-27T23:00:00Z\"");
        assert!(call("add_hours", vec![dt("2026-11-28T15:00:00Z"), int(i64::MAX)]).starts_with("error: add_hours"));
        assert_eq!(
            call("add_hours", vec![date("2026-11-28"), int(1)]),
            "error: add_hours expects a DateTime as argument 1, got Date"
        );
        assert_eq!(call("days_between", vec![date("2026-01-01"), date("2026-03-01")]), "Integer 59");
        assert_eq!(call("days_between", vec![date("2026-03-01"), date("2026-01-01")]), "Integer -59");
        assert_eq!(call("days_between", vec![dt("2026-01-01T12:00:00Z"), dt("2026-01-03T11:59:59Z")]), "Integer 1");
        assert_eq!(call("days_between", vec![dt("2026-01-03T11:59:59Z"), dt("2026-01-01T12:00:00Z")]), "Integer -1");
        assert_eq!(
            call("days_between", vec![date("2026-01-01"), dt("2026-01-01T12:00:00Z")]),
            "error: days_between expects two Dates or two DateTimes, got Date and DateTime"
        );
    }

    #[test]
    fn conversions() {
        assert_eq!(call("date", vec![text("2026-11-28")]), "Date \"2026-11-28\"");
        assert_eq!(call("date", vec![dt("2026-11-28T23:30:00-02:00")]), "Date \"2026-11-29\"");
        assert_eq!(
            call("date", vec![text("28.11.2026")]),
            "error: date: \"28.11.2026\" is not a Date (write YYYY-MM-DD)"
        );
        assert_eq!(call("datetime", vec![text("2026-11-28T17:00:00+02:00")]), "DateTime \"2026-11-28T15:00:00Z\"");
        assert_eq!(call("datetime", vec![date("2026-11-28")]), "DateTime \"2026-11-28T00:00:00Z\"");
        assert!(
            call("datetime", vec![text("2026-11-28")]).starts_with("error: datetime: \"2026-11-28\" is not a DateTime")
        );
        assert_eq!(
            call("guid", vec![text("{8B4C2F3E-0D7A-4C1B-9C55-2F1E3A4B5C6D}")]),
            "Guid \"8b4c2f3e-0d7a-4c1b-9c55-2f1e3a4b5c6d\""
        );
        assert_eq!(call("guid", vec![text("x")]), "error: guid: \"x\" is not a Guid");
        assert_eq!(call("guid", vec![int(1)]), "error: guid expects a Text, got Integer");
        let mut c = ctx();
        let g1 = Builtin::NewGuid.call(&mut [], &mut c).unwrap();
        let g2 = Builtin::NewGuid.call(&mut [], &mut c).unwrap();
        assert!(!equals(&g1, &g2));

        assert_eq!(call("text", vec![dec("0.30")]), "Text \"0.30\"");
        assert_eq!(call("text", vec![Value::Null]), "Text \"null\"");
        assert_eq!(call("text", vec![list(vec![text("a")])]), r#"Text "[\"a\"]""#);
        assert_eq!(call("integer", vec![text(" -12 ")]), "Integer -12");
        assert_eq!(call("integer", vec![dec("2.9")]), "Integer 2");
        assert_eq!(call("integer", vec![dec("-2.9")]), "Integer -2");
        assert_eq!(
            call("integer", vec![dec("9223372036854775808")]),
            "error: integer: 9223372036854775808 is out of range for an Integer"
        );
        assert_eq!(call("integer", vec![text("1.5")]), "error: integer: \"1.5\" is not an Integer");
        assert_eq!(call("integer", vec![Value::Null]), "error: integer expects a Text or a number, got null");
        assert_eq!(call("decimal", vec![text("12.50")]), "Decimal 12.50");
        assert_eq!(call("decimal", vec![int(3)]), "Decimal 3");
        assert_eq!(call("decimal", vec![text("x")]), "error: decimal: \"x\" is not a Decimal");
    }

    #[test]
    fn json_functions() {
        assert_eq!(
            call("to_json", vec![list(vec![dec("0.10"), date("2026-11-28")])]),
            r#"Text "[0.10,\"2026-11-28\"]""#
        );
        assert_eq!(
            call("parse_json", vec![text(r#"{"a": [1, 2.50, "x", null]}"#)]),
            r#"Object {"a":[1,2.50,"x",null]}"#
        );
        assert!(call("parse_json", vec![text("{")]).starts_with("error: parse_json: invalid JSON: "));
        let deep = format!("{}{}", "[".repeat(100), "]".repeat(100));
        assert_eq!(
            call("parse_json", vec![text(&deep)]),
            format!("error: parse_json: at {}: value nested more than 64 levels deep", "[0]".repeat(64))
        );
        let deeper = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        assert!(call("parse_json", vec![text(&deeper)]).starts_with("error: parse_json: invalid JSON"));
        assert_eq!(
            call("parse_json", vec![text("1e999999")]),
            "error: parse_json: 1e+999999 cannot be held exactly by a Decimal (28 digits)"
        );
    }

    #[test]
    fn work_is_known_before_the_call() {
        assert_eq!(Builtin::Range.work(&[int(1_000_000)]), 1_000_000 * ITEM_BYTES, "before a million items are built");
        assert_eq!(Builtin::Range.work(&[int(i64::MIN), int(i64::MAX)]), MAX_LIST_LEN as u64 * ITEM_BYTES);
        assert_eq!(Builtin::Range.work(&[int(5), int(2)]), 0);
        let big = text(&"x".repeat(1000));
        assert_eq!(Builtin::Len.work(std::slice::from_ref(&big)), 1000);
        assert_eq!(Builtin::Upper.work(std::slice::from_ref(&big)), (ITEM_BYTES + 1000) * CHAR_WORK);
        assert_eq!(Builtin::ParseJson.work(std::slice::from_ref(&big)), 1000 * PARSE_WORK);
        assert_eq!(Builtin::Abs.work(&[int(1)]), 0);
        let many = list(vec![big; 100_000]);
        assert_eq!(Builtin::ToJson.work(&[many]), MAX_TEXT_LEN as u64 * CHAR_WORK, "writing stops at 16 MiB");
        let l = list(vec![int(1); 10]);
        assert_eq!(Builtin::Push.work(&[l.clone(), int(2)]), 10 * ITEM_BYTES, "a shared list is copied");
        let Value::List(only) = l else { unreachable!() };
        assert_eq!(Builtin::Push.work(&[Value::List(only), int(2)]), 0, "an unshared one is not");
    }

    #[test]
    fn misc() {
        assert_eq!(call("type_of", vec![dec("1")]), "Text \"Decimal\"");
        assert_eq!(call("type_of", vec![Value::Null]), "Text \"Null\"");
        assert_eq!(call("coalesce", vec![Value::Null, int(2), int(3)]), "Integer 2");
        assert_eq!(call("coalesce", vec![Value::Null]), "Null null");
        assert_eq!(call("last_error", vec![]), "Null null");
        let mut c = ctx();
        c.last_error = Some("shipping failed".into());
        let e = Builtin::LastError.call(&mut [], &mut c).unwrap();
        assert_eq!(e.to_string(), "shipping failed");
    }
}
