//! The standard functions as completion and hover show them: a signature
//! and a line of documentation each, from the reference in
//! src/runtime/builtins.rs (a test keeps the two lists the same).

/// `(name, signature, documentation)` of every standard function.
pub const FUNCTIONS: &[(&str, &str, &str)] = &[
    ("len", "len(x)", "`len(x)`: the number of characters of a Text (not bytes), items of a List or attributes of an Object."),
    ("upper", "upper(text)", "`upper(text)`: the text in upper case (Unicode rules: `ß` → `SS`)."),
    ("lower", "lower(text)", "`lower(text)`: the text in lower case."),
    ("trim", "trim(text)", "`trim(text)`: the text without leading and trailing whitespace."),
    ("contains", "contains(text, part)", "`contains(text, part)`: whether `part` occurs in the text; `contains(list, value)`: whether an item equals `value` (as `==`)."),
    ("starts_with", "starts_with(text, prefix)", "`starts_with(text, prefix)`."),
    ("ends_with", "ends_with(text, suffix)", "`ends_with(text, suffix)`."),
    ("replace", "replace(text, from, to)", "`replace(text, from, to)`: every occurrence of `from` replaced by `to`. An empty `from` is an error."),
    ("split", "split(text, separator)", "`split(text, separator)` → List of Texts. An empty separator splits into single characters; `split(\"\", \",\")` is `[\"\"]`."),
    ("join", "join(list, separator)", "`join(list, separator)` → Text: the items as text interpolation shows them (`null` for null), separated by `separator`."),
    ("substring", "substring(text, start[, length])", "`substring(text, start[, length])`: counted in characters from 0. A negative start or length is an error; past the end it is cut short, so `substring(\"abc\", 2, 10)` is `\"c\"` and `substring(\"abc\", 5)` `\"\"`."),
    ("abs", "abs(number)", "`abs(number)`: the absolute value (the Integer -9223372036854775808 has none: overflow)."),
    ("round", "round(number[, digits])", "`round(number[, digits])`: rounds half away from zero, as business users expect: `round(2.345, 2)` is 2.35, `round(2.5)` 3, `round(-2.5)` -3. A Decimal result has exactly `digits` decimals (`round(2.5, 2)` is 2.50; without `digits`, none); negative digits round to tens, hundreds, … (`round(1250, -2)` is 1300). An Integer stays an Integer. `digits` must be between -28 and 28."),
    ("floor", "floor(number)", "`floor(number)`: the largest whole number not above it (a Decimal with no decimals; an Integer is unchanged)."),
    ("ceil", "ceil(number)", "`ceil(number)`: the smallest whole number not below it."),
    ("min", "min(list)", "`min(list)` or `min(a, b, …)`: the smallest of numbers, texts, dates or date-times, returned as it is (`min(2, 1.5)` is the Decimal 1.5). The minimum of an empty list is null; a null item is an error."),
    ("max", "max(list)", "`max(list)` or `max(a, b, …)`: the largest, like `min`."),
    ("sum", "sum(list)", "`sum(list)` or `sum(a, b, …)`: the total of numbers; an Integer unless some item is a Decimal; `sum([])` is 0. A non-number (null too) is an error."),
    ("push", "push(list, item)", "`push(list, item)` → a new list with `item` appended (the argument itself is unchanged)."),
    ("keys", "keys(object)", "`keys(object)` → List of Texts: the attribute names in order."),
    ("has", "has(object, name)", "`has(object, name)`: whether the object has that attribute; `has(list, index)`: whether the index is within the list."),
    ("range", "range(n)", "`range(n)` → `[0, 1, …, n-1]`; `range(a, b)` → `[a, …, b-1]`. Empty when the end is not after the start; at most 1,000,000 items."),
    ("now", "now()", "`now()` → DateTime: the instance's clock (virtual in `procdsl run`)."),
    ("today", "today()", "`today()` → Date: the UTC date of `now()`."),
    ("add_days", "add_days(date or datetime, n)", "`add_days(date or datetime, n)`: `n` days later (earlier if negative); for a DateTime, n × 24 hours."),
    ("add_hours", "add_hours(datetime, n)", "`add_hours(datetime, n)`: `n` hours later (earlier if negative)."),
    ("days_between", "days_between(a, b)", "`days_between(a, b)` → Integer: whole days from `a` to `b` (negative when `b` is earlier). Both Dates, or both DateTimes (then whole 24-hour periods, the rest dropped toward zero)."),
    ("date", "date(x)", "`date(x)` → Date from a Text `YYYY-MM-DD`, or the UTC date of a DateTime."),
    ("datetime", "datetime(x)", "`datetime(x)` → DateTime from RFC 3339 text with an offset, or a Date at midnight UTC."),
    ("guid", "guid(text)", "`guid(text)` → Guid, from any standard form."),
    ("new_guid", "new_guid()", "`new_guid()` → a fresh random Guid."),
    ("text", "text(x)", "`text(x)` → Text, as text interpolation shows `x` (`text(null)` is `\"null\"`; use `x ?? \"\"` for an empty text instead)."),
    ("integer", "integer(x)", "`integer(x)` → Integer from a Text (`\" -12 \"`), an Integer, or a Decimal cut toward zero (`integer(2.9)` is 2, `integer(-2.9)` -2; use `round` first to round). Out of range is an error."),
    ("decimal", "decimal(x)", "`decimal(x)` → Decimal from a Text (`\"12.50\"`, scale kept), an Integer or a Decimal."),
    ("to_json", "to_json(x)", "`to_json(x)` → Text: compact JSON, as the type table converts values."),
    ("parse_json", "parse_json(text)", "`parse_json(text)` → the value the JSON describes: whole numbers that fit become Integers, others exact Decimals (`1.50` stays 1.50), strings Texts, arrays Lists, objects Objects (attribute order kept)."),
    ("type_of", "type_of(x)", "`type_of(x)` → Text: `Null`, `Boolean`, `Integer`, `Decimal`, `Text`, `Date`, `DateTime`, `Guid`, `List` or `Object`."),
    ("coalesce", "coalesce(a, b, …)", "`coalesce(a, b, …)`: the first argument that is not null, else null."),
    ("last_error", "last_error()", "`last_error()` → Text: in an `on error` handler, the message of the error that led there; null elsewhere."),
];

/// The signature and documentation of a standard function.
pub fn lookup(name: &str) -> Option<(&'static str, &'static str)> {
    FUNCTIONS.iter().find(|(n, _, _)| *n == name).map(|(_, s, d)| (*s, *d))
}

#[cfg(test)]
mod tests {
    use crate::runtime::builtins::{Builtin, ALL};

    #[test]
    fn every_standard_function_is_described() {
        let described: Vec<&str> = super::FUNCTIONS.iter().map(|(n, _, _)| *n).collect();
        let known: Vec<&str> = ALL.iter().map(|f| f.name()).collect();
        assert_eq!(described, known);
        assert!(described.iter().all(|n| Builtin::lookup(n).is_some()));
    }
}
