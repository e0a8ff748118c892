//! Run-time values and the types parameters declare.
//!
//! Values are cheap to clone: texts, lists and objects are shared behind
//! `Arc` and copied only when changed while shared.

use indexmap::IndexMap;
use jiff::civil::{self, Date};
use jiff::fmt::temporal::Pieces;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use rust_decimal::Decimal;
use std::fmt;
use std::sync::Arc;
use uuid::Uuid;

/// How deeply lists and objects may nest. Deeper values are refused, so that
/// dropping, comparing or printing one never exhausts the stack.
pub const MAX_VALUE_DEPTH: u32 = 64;

/// The longest text (in bytes of UTF-8) an operator or standard function may
/// build. Longer results are an error, so a script cannot exhaust memory by
/// doubling a text in a loop.
pub const MAX_TEXT_LEN: usize = 16 * 1024 * 1024;

/// The most items an operator or standard function may put in one list.
pub const MAX_LIST_LEN: usize = 1_000_000;

/// The years a Date or a DateTime may have: what four digits write, less
/// the year 0, which the calendars of business systems do not have.
pub const YEARS: std::ops::RangeInclusive<i16> = 1..=9999;

/// A Date, when its year is in [`YEARS`].
pub fn date_in_range(date: Date) -> Option<Date> {
    YEARS.contains(&date.year()).then_some(date)
}

/// A DateTime value: an instant, kept as its date and time in UTC, to the
/// nanosecond, in the years [`YEARS`].
///
/// Not a `jiff::Timestamp`: a Timestamp ends at 9999-12-30T22:00Z (so that
/// it has a date in every time zone), and `9999-12-31T23:59:59Z` is the
/// usual "no end date" of business data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UtcDateTime(civil::DateTime);

impl UtcDateTime {
    /// The instant with this date and time in UTC, if its year is in [`YEARS`].
    pub fn new(utc: civil::DateTime) -> Option<UtcDateTime> {
        YEARS.contains(&utc.year()).then_some(UtcDateTime(utc))
    }

    /// An instant of the clock. The clock is real or set by `--now`, never
    /// outside [`YEARS`] in practice; it is not range-checked.
    pub fn from_timestamp(t: Timestamp) -> UtcDateTime {
        UtcDateTime(TimeZone::UTC.to_datetime(t))
    }

    /// As a clock instant, for timers; past the last Timestamp (late on
    /// 9999-12-30) it is the last Timestamp, a time no timer reaches.
    pub fn timestamp(self) -> Timestamp {
        TimeZone::UTC.to_timestamp(self.0).unwrap_or(if self.0.year() > 0 { Timestamp::MAX } else { Timestamp::MIN })
    }

    /// Its date in UTC.
    pub fn date(self) -> Date {
        self.0.date()
    }

    /// RFC 3339 with an offset (`2026-11-28T17:00:00+02:00`, `…Z`), with an
    /// optional time zone annotation after it; the offset decides the instant.
    pub fn parse(text: &str) -> Option<UtcDateTime> {
        let pieces = Pieces::parse(text).ok()?;
        let offset = pieces.to_numeric_offset()?;
        let local = pieces.date().to_datetime(pieces.time()?);
        let utc = local.checked_sub(SignedDuration::from_secs(i64::from(offset.seconds()))).ok()?;
        UtcDateTime::new(utc)
    }

    /// `self + duration`, if still in [`YEARS`].
    pub fn checked_add(self, duration: SignedDuration) -> Option<UtcDateTime> {
        self.0.checked_add(duration).ok().and_then(UtcDateTime::new)
    }

    /// The time from `earlier` to `self`.
    pub fn duration_since(self, earlier: UtcDateTime) -> SignedDuration {
        self.0.duration_since(earlier.0)
    }
}

impl std::str::FromStr for UtcDateTime {
    type Err = String;

    fn from_str(text: &str) -> Result<UtcDateTime, String> {
        UtcDateTime::parse(text).ok_or_else(|| format!("{text:?} is not a DateTime in the years 0001–9999"))
    }
}

impl From<Date> for UtcDateTime {
    /// Midnight UTC at the start of the date.
    fn from(date: Date) -> UtcDateTime {
        UtcDateTime(date.to_datetime(civil::Time::midnight()))
    }
}

impl fmt::Display for UtcDateTime {
    /// `2026-11-28T15:00:00Z`; a fraction of a second only when not zero.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}Z", self.0)
    }
}

/// What one value, list item or attribute takes besides its text: the
/// unit of [`Value::size`].
pub const ITEM_BYTES: u64 = std::mem::size_of::<Value>() as u64;

/// A declared type.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Type {
    Text,
    Integer,
    Decimal,
    Boolean,
    Date,
    DateTime,
    Guid,
    List(Box<Type>),
    /// Attributes in the order written.
    Object(Arc<Vec<(Arc<str>, Type)>>),
}

impl Type {
    /// "a Text", "an Integer": for messages.
    pub fn with_article(&self) -> String {
        let name = self.to_string();
        let article = if name.starts_with(['A', 'E', 'I', 'O', 'U']) { "an" } else { "a" };
        format!("{article} {name}")
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::Text => f.write_str("Text"),
            Type::Integer => f.write_str("Integer"),
            Type::Decimal => f.write_str("Decimal"),
            Type::Boolean => f.write_str("Boolean"),
            Type::Date => f.write_str("Date"),
            Type::DateTime => f.write_str("DateTime"),
            Type::Guid => f.write_str("Guid"),
            Type::List(item) => write!(f, "List<{item}>"),
            Type::Object(attrs) => {
                f.write_str("{ ")?;
                for (i, (name, ty)) in attrs.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{name}: {ty}")?;
                }
                f.write_str(" }")
            }
        }
    }
}

/// A list value, how deeply it nests and its [`Value::size`].
#[derive(Clone, Debug, Default)]
pub struct List {
    pub items: Vec<Value>,
    depth: u32,
    bytes: u64,
    nodes: u64,
}

/// An object value: attributes in the order written, how deeply it nests
/// and its [`Value::size`].
#[derive(Clone, Debug, Default)]
pub struct Object {
    pub attrs: IndexMap<Arc<str>, Value>,
    depth: u32,
    bytes: u64,
    nodes: u64,
}

/// A run-time value.
#[derive(Clone, Debug, Default)]
pub enum Value {
    #[default]
    Null,
    Boolean(bool),
    Integer(i64),
    Decimal(Decimal),
    Text(Arc<str>),
    Date(Date),
    DateTime(UtcDateTime),
    Guid(Uuid),
    List(Arc<List>),
    Object(Arc<Object>),
}

/// A value nested deeper than [`MAX_VALUE_DEPTH`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TooDeep;

impl fmt::Display for TooDeep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "value nested more than {MAX_VALUE_DEPTH} levels deep")
    }
}

/// `d`, with the sign of a zero dropped: rust_decimal keeps a sign on zero
/// (`-(0.0)`, `-1.0 * 0`), which no business figure has, and which would
/// print as `-0.0`.
pub fn unsigned_zero(mut d: Decimal) -> Decimal {
    if d.is_zero() {
        d.set_sign_positive(true);
    }
    d
}

impl Value {
    /// A Decimal value, never a negative zero.
    pub fn decimal(d: Decimal) -> Value {
        Value::Decimal(unsigned_zero(d))
    }

    /// A Text value.
    pub fn text(s: impl Into<Arc<str>>) -> Value {
        Value::Text(s.into())
    }

    /// A list of these items; fails when the result would nest too deeply.
    pub fn list(items: Vec<Value>) -> Result<Value, TooDeep> {
        let mut depth = 0;
        let mut bytes = ITEM_BYTES;
        let mut nodes = 1u64;
        for item in &items {
            depth = depth.max(item.depth());
            bytes = bytes.saturating_add(item.size());
            nodes = nodes.saturating_add(item.nodes());
        }
        if depth >= MAX_VALUE_DEPTH {
            return Err(TooDeep);
        }
        Ok(Value::List(Arc::new(List { items, depth: depth + 1, bytes, nodes })))
    }

    /// An object with these attributes; fails when it would nest too deeply.
    pub fn object(attrs: IndexMap<Arc<str>, Value>) -> Result<Value, TooDeep> {
        let mut depth = 0;
        let mut bytes = ITEM_BYTES;
        let mut nodes = 1u64;
        for (name, value) in &attrs {
            depth = depth.max(value.depth());
            bytes = bytes.saturating_add(attr_bytes(name, value));
            nodes = nodes.saturating_add(value.nodes());
        }
        if depth >= MAX_VALUE_DEPTH {
            return Err(TooDeep);
        }
        Ok(Value::Object(Arc::new(Object { attrs, depth: depth + 1, bytes, nodes })))
    }

    /// About how many bytes the value takes, counting a shared part every
    /// time it appears, as printing or saving the value would. Known
    /// without walking the value: lists and objects keep their total.
    #[inline]
    pub fn size(&self) -> u64 {
        match self {
            Value::Text(s) => ITEM_BYTES + s.len() as u64,
            Value::List(l) => l.bytes,
            Value::Object(o) => o.bytes,
            _ => ITEM_BYTES,
        }
    }

    /// How many values it is made of (itself, its items, theirs…),
    /// counting shared parts every time: what walking it visits.
    #[inline]
    pub fn nodes(&self) -> u64 {
        match self {
            Value::List(l) => l.nodes,
            Value::Object(o) => o.nodes,
            _ => 1,
        }
    }

    /// 0 for scalars, 1 + the deepest item for lists and objects.
    pub fn depth(&self) -> u32 {
        match self {
            Value::List(l) => l.depth,
            Value::Object(o) => o.depth,
            _ => 0,
        }
    }

    /// Whether this is null.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The name of this value's type, as `type_of` returns it.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "Null",
            Value::Boolean(_) => "Boolean",
            Value::Integer(_) => "Integer",
            Value::Decimal(_) => "Decimal",
            Value::Text(_) => "Text",
            Value::Date(_) => "Date",
            Value::DateTime(_) => "DateTime",
            Value::Guid(_) => "Guid",
            Value::List(_) => "List",
            Value::Object(_) => "Object",
        }
    }

    /// The items, if this is a list.
    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(l) => Some(&l.items),
            _ => None,
        }
    }
}

impl List {
    /// 1 + the depth of the deepest item.
    pub fn depth(&self) -> u32 {
        self.depth
    }

    /// Replaces item `i`; fails when the list would nest too deeply.
    pub fn set(&mut self, i: usize, value: Value) -> Result<(), TooDeep> {
        self.depth = check_depth(self.depth, &value)?;
        self.bytes = self.bytes.saturating_sub(self.items[i].size()).saturating_add(value.size());
        self.nodes = self.nodes.saturating_sub(self.items[i].nodes()).saturating_add(value.nodes());
        self.items[i] = value;
        Ok(())
    }

    /// Takes item `i` out, leaving null in its place.
    pub fn take(&mut self, i: usize) -> Value {
        let item = std::mem::take(&mut self.items[i]);
        self.bytes = self.bytes.saturating_sub(item.size()).saturating_add(ITEM_BYTES);
        self.nodes = self.nodes.saturating_sub(item.nodes()).saturating_add(1);
        item
    }

    /// Appends an item; fails when the list would nest too deeply.
    pub fn push(&mut self, value: Value) -> Result<(), TooDeep> {
        self.depth = check_depth(self.depth, &value)?;
        self.bytes = self.bytes.saturating_add(value.size());
        self.nodes = self.nodes.saturating_add(value.nodes());
        self.items.push(value);
        Ok(())
    }
}

impl Object {
    /// 1 + the depth of the deepest attribute value.
    pub fn depth(&self) -> u32 {
        self.depth
    }

    /// Sets (or adds) an attribute; fails when the object would nest too deeply.
    pub fn set(&mut self, name: Arc<str>, value: Value) -> Result<(), TooDeep> {
        self.depth = check_depth(self.depth, &value)?;
        let added = attr_bytes(&name, &value);
        let added_nodes = value.nodes();
        let entry = (name.len() as u64).saturating_add(ITEM_BYTES);
        self.bytes = match self.attrs.insert(name, value) {
            Some(old) => {
                self.nodes = self.nodes.saturating_sub(old.nodes());
                self.bytes.saturating_sub(old.size().saturating_add(entry)).saturating_add(added)
            }
            None => self.bytes.saturating_add(added),
        };
        self.nodes = self.nodes.saturating_add(added_nodes);
        Ok(())
    }

    /// Takes an attribute's value out, leaving null in its place.
    pub fn take(&mut self, name: &str) -> Option<Value> {
        let value = std::mem::take(self.attrs.get_mut(name)?);
        self.bytes = self.bytes.saturating_sub(value.size()).saturating_add(ITEM_BYTES);
        self.nodes = self.nodes.saturating_sub(value.nodes()).saturating_add(1);
        Some(value)
    }
}

/// An attribute's share of its object's size: its name, its entry, its value.
fn attr_bytes(name: &str, value: &Value) -> u64 {
    (name.len() as u64).saturating_add(ITEM_BYTES).saturating_add(value.size())
}

fn check_depth(current: u32, child: &Value) -> Result<u32, TooDeep> {
    let depth = current.max(1 + child.depth());
    if depth > MAX_VALUE_DEPTH {
        Err(TooDeep)
    } else {
        Ok(depth)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The size kept by lists and objects is what walking them would give.
    fn walked(v: &Value) -> u64 {
        match v {
            Value::List(l) => ITEM_BYTES + l.items.iter().map(walked).sum::<u64>(),
            Value::Object(o) => {
                ITEM_BYTES + o.attrs.iter().map(|(k, v)| k.len() as u64 + ITEM_BYTES + walked(v)).sum::<u64>()
            }
            other => other.size(),
        }
    }

    #[test]
    fn sizes_stay_exact_as_values_change() {
        let mut list = Value::list(vec![Value::text("abcd"), Value::Integer(1)]).unwrap();
        assert_eq!(list.size(), 3 * ITEM_BYTES + 4);
        let Value::List(l) = &mut list else { unreachable!() };
        let l = Arc::make_mut(l);
        l.set(0, Value::text("ab")).unwrap();
        l.push(Value::text("xyz")).unwrap();
        let taken = l.take(1);
        assert_eq!(taken.size(), ITEM_BYTES);
        assert_eq!(list.size(), walked(&list));

        let mut attrs = IndexMap::new();
        attrs.insert(Arc::from("Name"), Value::text("abc"));
        let mut object = Value::object(attrs).unwrap();
        let Value::Object(o) = &mut object else { unreachable!() };
        let o = Arc::make_mut(o);
        o.set("Name".into(), list.clone()).unwrap();
        o.set("Other".into(), Value::text("hello")).unwrap();
        assert!(o.take("Missing").is_none());
        o.take("Other");
        assert_eq!(object.size(), walked(&object));
        assert_eq!(object.nodes(), 1 + 1 + 3 + 1, "the object, the list, its three items, the null left by take");
        let shared = Value::list(vec![object.clone(), object.clone()]).unwrap();
        assert_eq!(shared.size(), ITEM_BYTES + 2 * object.size(), "a shared part counts every time");
    }
}
