//! The operators of script expressions.
//!
//! Integer arithmetic is checked (overflow is an error, never a wrap); any
//! Decimal operand makes the result Decimal; nothing converts a Text
//! implicitly (interpolation does that). The Integer cases come first in
//! every match and never allocate.

use super::convert::{kind, text_too_long};
use super::value::{Value, MAX_LIST_LEN, MAX_TEXT_LEN};
use rust_decimal::Decimal;
use std::cmp::Ordering;

const DIVISION_BY_ZERO: &str = "division by zero";

/// Both operands as Decimals when at least one is a Decimal and the other a
/// number.
fn decimals(a: &Value, b: &Value) -> Option<(Decimal, Decimal)> {
    match (a, b) {
        (Value::Decimal(x), Value::Decimal(y)) => Some((*x, *y)),
        (Value::Integer(x), Value::Decimal(y)) => Some((Decimal::from(*x), *y)),
        (Value::Decimal(x), Value::Integer(y)) => Some((*x, Decimal::from(*y))),
        _ => None,
    }
}

fn overflow(ty: &str, a: impl std::fmt::Display, op: &str, b: impl std::fmt::Display) -> String {
    format!("{ty} overflow in {a} {op} {b}")
}

/// `a + b`: numbers, or joins two Texts or two Lists into a new one.
pub fn add(a: &Value, b: &Value) -> Result<Value, String> {
    match (a, b) {
        (Value::Integer(x), Value::Integer(y)) => {
            x.checked_add(*y).map(Value::Integer).ok_or_else(|| overflow("Integer", x, "+", y))
        }
        (Value::Text(x), Value::Text(y)) => {
            if x.len().saturating_add(y.len()) > MAX_TEXT_LEN {
                return Err(text_too_long());
            }
            let mut joined = String::with_capacity(x.len() + y.len());
            joined.push_str(x);
            joined.push_str(y);
            Ok(Value::text(joined))
        }
        (Value::List(x), Value::List(y)) => {
            let len = x.items.len().saturating_add(y.items.len());
            if len > MAX_LIST_LEN {
                return Err(list_too_long(len));
            }
            let mut items = Vec::with_capacity(len);
            items.extend(x.items.iter().cloned());
            items.extend(y.items.iter().cloned());
            Value::list(items).map_err(|e| e.to_string())
        }
        _ => match decimals(a, b) {
            Some((x, y)) => x.checked_add(y).map(Value::decimal).ok_or_else(|| overflow("Decimal", x, "+", y)),
            None => Err(format!("cannot add {} and {}", kind(a), kind(b))),
        },
    }
}

/// `a - b` on numbers.
pub fn sub(a: &Value, b: &Value) -> Result<Value, String> {
    match (a, b) {
        (Value::Integer(x), Value::Integer(y)) => {
            x.checked_sub(*y).map(Value::Integer).ok_or_else(|| overflow("Integer", x, "-", y))
        }
        _ => match decimals(a, b) {
            Some((x, y)) => x.checked_sub(y).map(Value::decimal).ok_or_else(|| overflow("Decimal", x, "-", y)),
            None => Err(format!("cannot subtract {} from {}", kind(b), kind(a))),
        },
    }
}

/// `a * b` on numbers; Decimals multiply exactly (`0.1 * 3` is `0.3`).
pub fn mul(a: &Value, b: &Value) -> Result<Value, String> {
    match (a, b) {
        (Value::Integer(x), Value::Integer(y)) => {
            x.checked_mul(*y).map(Value::Integer).ok_or_else(|| overflow("Integer", x, "*", y))
        }
        _ => match decimals(a, b) {
            Some((x, y)) => x.checked_mul(y).map(Value::decimal).ok_or_else(|| overflow("Decimal", x, "*", y)),
            None => Err(format!("cannot multiply {} by {}", kind(a), kind(b))),
        },
    }
}

/// `a / b`: Integer by Integer truncates toward zero (`7 / 2` is 3, `-7 / 2`
/// is -3); with a Decimal operand the quotient is exact to 28 digits.
pub fn div(a: &Value, b: &Value) -> Result<Value, String> {
    match (a, b) {
        (Value::Integer(_), Value::Integer(0)) => Err(DIVISION_BY_ZERO.to_string()),
        (Value::Integer(x), Value::Integer(y)) => {
            x.checked_div(*y).map(Value::Integer).ok_or_else(|| overflow("Integer", x, "/", y))
        }
        _ => match decimals(a, b) {
            Some((_, y)) if y.is_zero() => Err(DIVISION_BY_ZERO.to_string()),
            Some((x, y)) => x.checked_div(y).map(Value::decimal).ok_or_else(|| overflow("Decimal", x, "/", y)),
            None => Err(format!("cannot divide {} by {}", kind(a), kind(b))),
        },
    }
}

/// `a % b`: the remainder with the sign of `a` (`-7 % 2` is -1).
/// `i64::MIN % -1` is 0, its true value, not an overflow.
pub fn rem(a: &Value, b: &Value) -> Result<Value, String> {
    match (a, b) {
        (Value::Integer(_), Value::Integer(0)) => Err(DIVISION_BY_ZERO.to_string()),
        (Value::Integer(x), Value::Integer(y)) => Ok(Value::Integer(x.wrapping_rem(*y))),
        _ => match decimals(a, b) {
            Some((_, y)) if y.is_zero() => Err(DIVISION_BY_ZERO.to_string()),
            Some((x, y)) => x.checked_rem(y).map(Value::decimal).ok_or_else(|| overflow("Decimal", x, "%", y)),
            None => Err(format!("cannot take the remainder of {} by {}", kind(a), kind(b))),
        },
    }
}

/// Unary `-` on numbers.
pub fn neg(a: &Value) -> Result<Value, String> {
    match a {
        Value::Integer(x) => x.checked_neg().map(Value::Integer).ok_or_else(|| format!("Integer overflow in -({x})")),
        Value::Decimal(x) => Ok(Value::decimal(-*x)),
        _ => Err(format!("cannot negate {}", kind(a))),
    }
}

/// `not` on a Boolean.
pub fn not(a: &Value) -> Result<Value, String> {
    match a {
        Value::Boolean(b) => Ok(Value::Boolean(!b)),
        _ => Err(format!("`not` needs a Boolean, got {}", kind(a))),
    }
}

/// A condition's value (`if`, `while`, `when`, `and`, `or`): only a Boolean
/// is a condition. Null is an error too, rather than quietly false, so that a
/// parameter nobody set does not silently pick a branch; write `x ?? false`
/// to mean "false when unset".
pub fn truthy(a: &Value) -> Result<bool, String> {
    match a {
        Value::Boolean(b) => Ok(*b),
        Value::Null => Err("condition is null, not a Boolean".to_string()),
        _ => Err(format!("condition is {}, not a Boolean", kind(a))),
    }
}

/// `==`: any two values. Integers and Decimals compare by number (`1 == 1.0`
/// and `1.5 == 1.50`); lists item by item; objects by their attributes,
/// whatever their order; null equals only null; values of different types are
/// not equal.
pub fn equals(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Integer(x), Value::Integer(y)) => x == y,
        (Value::Null, Value::Null) => true,
        (Value::Boolean(x), Value::Boolean(y)) => x == y,
        (Value::Text(x), Value::Text(y)) => x == y,
        (Value::Decimal(x), Value::Decimal(y)) => x == y,
        (Value::Integer(x), Value::Decimal(y)) | (Value::Decimal(y), Value::Integer(x)) => Decimal::from(*x) == *y,
        (Value::Date(x), Value::Date(y)) => x == y,
        (Value::DateTime(x), Value::DateTime(y)) => x == y,
        (Value::Guid(x), Value::Guid(y)) => x == y,
        (Value::List(x), Value::List(y)) => {
            std::sync::Arc::ptr_eq(x, y)
                || (x.items.len() == y.items.len() && x.items.iter().zip(&y.items).all(|(p, q)| equals(p, q)))
        }
        (Value::Object(x), Value::Object(y)) => {
            std::sync::Arc::ptr_eq(x, y)
                || (x.attrs.len() == y.attrs.len()
                    && x.attrs.iter().all(|(k, v)| y.attrs.get(k).is_some_and(|w| equals(v, w))))
        }
        _ => false,
    }
}

/// Ordering for `< <= > >=`, `min` and `max`: numbers (Integer and Decimal
/// mixed), texts (by Unicode code point), dates, date-times. Anything else,
/// null included, is an error.
pub fn compare(a: &Value, b: &Value) -> Result<Ordering, String> {
    match (a, b) {
        (Value::Integer(x), Value::Integer(y)) => Ok(x.cmp(y)),
        (Value::Decimal(x), Value::Decimal(y)) => Ok(x.cmp(y)),
        (Value::Integer(x), Value::Decimal(y)) => Ok(Decimal::from(*x).cmp(y)),
        (Value::Decimal(x), Value::Integer(y)) => Ok(x.cmp(&Decimal::from(*y))),
        // UTF-8 byte order is code point order.
        (Value::Text(x), Value::Text(y)) => Ok(x.as_bytes().cmp(y.as_bytes())),
        (Value::Date(x), Value::Date(y)) => Ok(x.cmp(y)),
        (Value::DateTime(x), Value::DateTime(y)) => Ok(x.cmp(y)),
        _ => Err(format!("cannot compare {} and {}", kind(a), kind(b))),
    }
}

pub(crate) fn list_too_long(len: usize) -> String {
    format!("a list of {len} items would be longer than the limit of {MAX_LIST_LEN}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn int(i: i64) -> Value {
        Value::Integer(i)
    }
    fn dec(s: &str) -> Value {
        Value::Decimal(Decimal::from_str(s).unwrap())
    }
    fn text(s: &str) -> Value {
        Value::text(s)
    }
    fn shows(v: Result<Value, String>) -> String {
        match v {
            Ok(v) => format!("{} {v}", v.type_name()),
            Err(e) => format!("error: {e}"),
        }
    }

    #[test]
    fn integer_arithmetic_is_checked() {
        assert_eq!(shows(add(&int(2), &int(3))), "Integer 5");
        assert_eq!(shows(add(&int(i64::MAX), &int(1))), "error: Integer overflow in 9223372036854775807 + 1");
        assert_eq!(shows(sub(&int(i64::MIN), &int(1))), "error: Integer overflow in -9223372036854775808 - 1");
        assert_eq!(shows(mul(&int(i64::MAX), &int(2))), "error: Integer overflow in 9223372036854775807 * 2");
        assert_eq!(shows(div(&int(i64::MIN), &int(-1))), "error: Integer overflow in -9223372036854775808 / -1");
        assert_eq!(shows(rem(&int(i64::MIN), &int(-1))), "Integer 0");
        assert_eq!(shows(neg(&int(i64::MIN))), "error: Integer overflow in -(-9223372036854775808)");
        assert_eq!(shows(neg(&int(5))), "Integer -5");
    }

    #[test]
    fn integer_division_truncates_and_remainder_follows_dividend() {
        assert_eq!(shows(div(&int(7), &int(2))), "Integer 3");
        assert_eq!(shows(div(&int(-7), &int(2))), "Integer -3");
        assert_eq!(shows(div(&int(7), &int(-2))), "Integer -3");
        assert_eq!(shows(rem(&int(7), &int(2))), "Integer 1");
        assert_eq!(shows(rem(&int(-7), &int(2))), "Integer -1");
        assert_eq!(shows(rem(&int(7), &int(-2))), "Integer 1");
    }

    #[test]
    fn division_by_zero() {
        for (a, b) in [(int(1), int(0)), (dec("1.5"), int(0)), (int(1), dec("0.00")), (dec("1"), dec("0"))] {
            assert_eq!(shows(div(&a, &b)), "error: division by zero");
            assert_eq!(shows(rem(&a, &b)), "error: division by zero");
        }
    }

    #[test]
    fn decimals_are_exact_and_contagious() {
        assert_eq!(shows(mul(&dec("0.1"), &int(3))), "Decimal 0.3");
        assert_eq!(shows(add(&add(&dec("0.1"), &dec("0.1")).unwrap(), &dec("0.1"))), "Decimal 0.3");
        assert!(equals(&mul(&dec("0.1"), &int(3)).unwrap(), &dec("0.3")));
        assert_eq!(shows(add(&int(1), &dec("0.50"))), "Decimal 1.50");
        assert_eq!(shows(sub(&dec("10.00"), &int(3))), "Decimal 7.00");
        assert_eq!(shows(div(&int(1), &dec("4"))), "Decimal 0.25");
        assert_eq!(shows(div(&int(1), &dec("3"))), "Decimal 0.3333333333333333333333333333");
        assert_eq!(shows(rem(&dec("7.5"), &int(2))), "Decimal 1.5");
        assert_eq!(shows(rem(&dec("-7.5"), &int(2))), "Decimal -1.5");
        assert_eq!(shows(neg(&dec("1.50"))), "Decimal -1.50");
        let max = Value::Decimal(Decimal::MAX);
        assert!(shows(add(&max, &int(1))).starts_with("error: Decimal overflow in 7922816"));
        assert!(shows(mul(&max, &dec("2"))).starts_with("error: Decimal overflow"));
    }

    #[test]
    fn add_joins_texts_and_lists() {
        assert_eq!(shows(add(&text("ab"), &text("cd"))), "Text abcd");
        let l = add(&Value::list(vec![int(1)]).unwrap(), &Value::list(vec![text("x")]).unwrap());
        assert_eq!(shows(l), "List [1,\"x\"]");
        assert_eq!(shows(add(&text("a"), &int(1))), "error: cannot add Text and Integer");
        assert_eq!(shows(add(&Value::Null, &int(1))), "error: cannot add null and Integer");
        assert_eq!(shows(sub(&text("a"), &int(1))), "error: cannot subtract Integer from Text");
        assert_eq!(shows(mul(&text("a"), &int(1))), "error: cannot multiply Text by Integer");
        assert_eq!(shows(div(&Value::Boolean(true), &int(1))), "error: cannot divide Boolean by Integer");
        assert_eq!(shows(neg(&text("a"))), "error: cannot negate Text");
    }

    #[test]
    fn add_refuses_huge_results() {
        let big = text(&"x".repeat(MAX_TEXT_LEN / 2 + 1));
        assert!(shows(add(&big, &big)).contains("longer than the limit of 16 MiB"));
        let half = Value::list(vec![Value::Null; MAX_LIST_LEN / 2 + 1]).unwrap();
        assert!(shows(add(&half, &half)).contains("longer than the limit of 1000000"));
        let mut deep = Value::Null;
        for _ in 0..super::super::value::MAX_VALUE_DEPTH {
            deep = Value::list(vec![deep]).unwrap();
        }
        let shallow = Value::list(vec![]).unwrap();
        assert!(add(&shallow, &deep).is_ok());
        let deep_items = Value::list(vec![int(1)]).unwrap();
        assert!(add(&deep_items, &deep).is_ok());
    }

    #[test]
    fn not_and_truthy() {
        assert_eq!(shows(not(&Value::Boolean(true))), "Boolean false");
        assert_eq!(shows(not(&int(1))), "error: `not` needs a Boolean, got Integer");
        assert_eq!(truthy(&Value::Boolean(true)), Ok(true));
        assert_eq!(truthy(&Value::Null), Err("condition is null, not a Boolean".to_string()));
        assert_eq!(truthy(&text("yes")), Err("condition is Text, not a Boolean".to_string()));
    }

    #[test]
    fn equality() {
        assert!(equals(&int(1), &dec("1.0")));
        assert!(equals(&dec("1.50"), &dec("1.5")));
        assert!(!equals(&int(1), &text("1")));
        assert!(equals(&Value::Null, &Value::Null));
        assert!(!equals(&Value::Null, &int(0)));
        assert!(!equals(&Value::Boolean(false), &Value::Null));
        let a = Value::list(vec![int(1), text("x")]).unwrap();
        let b = Value::list(vec![dec("1.00"), text("x")]).unwrap();
        let c = Value::list(vec![int(1)]).unwrap();
        assert!(equals(&a, &b));
        assert!(!equals(&a, &c));
        let mut attrs = indexmap::IndexMap::new();
        attrs.insert("A".into(), int(1));
        attrs.insert("B".into(), text("b"));
        let o1 = Value::object(attrs.clone()).unwrap();
        attrs.swap_remove("A");
        attrs.insert("A".into(), dec("1.0"));
        let o2 = Value::object(attrs.clone()).unwrap();
        assert!(equals(&o1, &o2), "attribute order does not matter");
        attrs.insert("C".into(), Value::Null);
        assert!(!equals(&o1, &Value::object(attrs).unwrap()));
        assert!(!equals(&a, &o1));
    }

    #[test]
    fn ordering() {
        assert_eq!(compare(&int(1), &int(2)), Ok(Ordering::Less));
        assert_eq!(compare(&int(2), &dec("1.99")), Ok(Ordering::Greater));
        assert_eq!(compare(&dec("2.0"), &int(2)), Ok(Ordering::Equal));
        assert_eq!(compare(&text("a"), &text("b")), Ok(Ordering::Less));
        assert_eq!(compare(&text("Z"), &text("a")), Ok(Ordering::Less));
        assert_eq!(compare(&text("é"), &text("z")), Ok(Ordering::Greater));
        assert_eq!(compare(&text("\u{ffff}"), &text("😀")), Ok(Ordering::Less));
        let d1 = Value::Date(jiff::civil::date(2026, 1, 1));
        let d2 = Value::Date(jiff::civil::date(2026, 11, 28));
        assert_eq!(compare(&d1, &d2), Ok(Ordering::Less));
        let t1 = Value::DateTime("2026-01-01T00:00:00Z".parse().unwrap());
        let t2 = Value::DateTime("2026-01-01T01:00:00+02:00".parse().unwrap());
        assert_eq!(compare(&t1, &t2), Ok(Ordering::Greater));
        assert_eq!(compare(&text("a"), &int(1)), Err("cannot compare Text and Integer".to_string()));
        assert_eq!(compare(&Value::Null, &int(1)), Err("cannot compare null and Integer".to_string()));
        assert_eq!(
            compare(&Value::Boolean(true), &Value::Boolean(false)),
            Err("cannot compare Boolean and Boolean".to_string())
        );
        assert!(compare(&d1, &t1).is_err());
    }
}
