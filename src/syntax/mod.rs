//! Syntax: the pest grammar, the typed AST and the parser between them.
pub mod ast;
mod conditionals;
mod errors;
pub mod format;
pub mod incremental;
pub mod parser;
mod precedence;
pub mod snippet;
mod split;
mod test_blocks;
#[cfg(test)]
mod tests;
pub(crate) mod worker;

pub use errors::{is_reserved, RESERVED};
pub use parser::parse;
pub use snippet::parse_snippet;

use rust_decimal::Decimal;

/// The one reading of a decimal written in plain notation (`-12.50`), for
/// literals, inputs and JSON alike: exact, with the scale as written, and
/// never a negative zero. Zeros at the end of the fraction that do not fit
/// in a Decimal's 28 digits are dropped, since dropping them loses nothing
/// (`1.00000000000000000000000000000` is `1.0000000000000000000000000000`);
/// `None` when a digit that matters would be lost.
pub fn exact_decimal(written: &str) -> Option<Decimal> {
    let mut d = match Decimal::from_str_exact(written) {
        Ok(d) => d,
        Err(_) => {
            let (whole, fraction) = written.split_once('.')?;
            let kept = fraction.trim_end_matches('0');
            let zeros = fraction.len() - kept.len();
            // Put back as many of the dropped zeros as fit: 29 tries at most.
            (0..=zeros.min(Decimal::MAX_SCALE as usize)).rev().find_map(|k| {
                let text = format!("{whole}.{kept}{}", "0".repeat(k));
                let text = text.strip_suffix('.').unwrap_or(&text);
                Decimal::from_str_exact(text).ok()
            })?
        }
    };
    if d.is_zero() {
        d.set_sign_positive(true);
    }
    Some(d)
}
