//! Text written into XML 1.0: the SVG pictures, the JUnit report and the
//! service's Creatio answers all escape through here, so that what XML can
//! carry is decided in one place.

/// Can XML 1.0 carry this character (the `Char` production)? Not the C0
/// controls other than tab, newline and carriage return, nor U+FFFE and
/// U+FFFF.
pub fn is_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Text for XML content and attribute values: markup and both quotes
/// escaped, and each character XML cannot carry replaced by U+FFFD, so the
/// document stays well-formed whatever a name or message holds. The
/// apostrophe is `&#39;`, which HTML reads too: the console inlines the SVG.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if is_char(c) => out.push(c),
            _ => out.push('\u{FFFD}'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_leaves_no_markup_and_only_characters_xml_carries() {
        assert_eq!(
            escape("a<b & \"c\" 'd'\u{1}\u{FFFE}\u{FFFF}\t\n"),
            "a&lt;b &amp; &quot;c&quot; &#39;d&#39;\u{FFFD}\u{FFFD}\u{FFFD}\t\n"
        );
        assert!(!is_char('\u{0}') && !is_char('\u{1F}') && is_char('\u{10FFFF}') && is_char('\r'));
    }
}
