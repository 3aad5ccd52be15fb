//! Which characters can hide, reorder or forge text on a screen.

use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

/// True for characters that can hide, reorder or forge text on a screen: controls (Cc);
/// every format character (Cf, from the Unicode tables: bidi controls, zero-width
/// characters, tags, the soft hyphen, …); line and paragraph separators; and the
/// default-ignorable or blank-looking characters that are not Cf (the combining grapheme
/// joiner, Hangul and Khmer fillers, variation selectors, unassigned default-ignorables,
/// the braille blank, musical formatting marks).
pub fn is_dangerous(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_control();
    }
    c.is_control()
        || matches!(c as u32,
            0x034F | 0x115F..=0x1160 | 0x17B4..=0x17B5 | 0x180B..=0x180F
            | 0x2028..=0x2029 | 0x2060..=0x206F | 0x2800 | 0x3164 | 0xFE00..=0xFE0F
            | 0xFFA0 | 0xFFF0..=0xFFF8 | 0x1D173..=0x1D17A | 0xE0000..=0xE0FFF)
        || c.general_category() == GeneralCategory::Format
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sanitize::{FieldKind, Untrusted};
    use proptest::prelude::*;

    /// Default_Ignorable_Code_Point, as listed in the Unicode Character Database's
    /// DerivedCoreProperties.txt (written out here, independent of any crate's table),
    /// plus the blank-looking characters the threat model adds.
    const IGNORABLE_AND_BLANK: &[(u32, u32)] = &[
        (0x00AD, 0x00AD),
        (0x034F, 0x034F),
        (0x061C, 0x061C),
        (0x115F, 0x1160),
        (0x17B4, 0x17B5),
        (0x180B, 0x180F),
        (0x200B, 0x200F),
        (0x202A, 0x202E),
        (0x2060, 0x206F),
        (0x3164, 0x3164),
        (0xFE00, 0xFE0F),
        (0xFEFF, 0xFEFF),
        (0xFFA0, 0xFFA0),
        (0xFFF0, 0xFFF8),
        (0x1BCA0, 0x1BCA3),
        (0x1D173, 0x1D17A),
        (0xE0000, 0xE0FFF),
        // Not default-ignorable, but shows as nothing or blank.
        (0x2028, 0x2029),
        (0x2800, 0x2800),
    ];

    fn listed() -> impl Iterator<Item = char> {
        IGNORABLE_AND_BLANK
            .iter()
            .flat_map(|&(a, b)| (a..=b).filter_map(char::from_u32))
    }

    /// The value, as every channel would show it, has the character only as a `\u{…}` escape.
    fn assert_neutralised(c: char) {
        let v = Untrusted::new(format!("a{c}b"));
        let escape = format!("\\u{{{:x}}}", c as u32);
        for out in [
            v.plain(FieldKind::Name),
            v.html(FieldKind::Name),
            v.slack(FieldKind::Name),
        ] {
            assert!(!out.contains(c), "U+{:04X} survived in {out:?}", c as u32);
            assert!(out.contains(&escape), "U+{:04X}: {out:?}", c as u32);
        }
    }

    #[test]
    fn every_default_ignorable_and_blank_code_point_is_neutralised() {
        let mut n = 0;
        for c in listed() {
            assert!(is_dangerous(c), "U+{:04X}", c as u32);
            assert_neutralised(c);
            n += 1;
        }
        assert!(n > 4000, "{n}");
    }

    #[test]
    fn every_format_code_point_is_neutralised() {
        let format: Vec<char> = (0..=0x10FFFF)
            .filter_map(char::from_u32)
            .filter(|c| c.general_category() == GeneralCategory::Format)
            .collect();
        // Cf has 170 code points in Unicode 15 and grows only.
        assert!(format.len() >= 160, "{}", format.len());
        for c in format {
            assert!(is_dangerous(c), "U+{:04X}", c as u32);
            assert_neutralised(c);
        }
    }

    #[test]
    fn visible_letters_marks_and_emoji_bases_are_kept() {
        for c in [
            'é', 'ß', 'Ж', '中', '한', 'ا', '\u{0301}', '👍', ' ', '\u{00A0}',
        ] {
            assert!(!is_dangerous(c), "U+{:04X}", c as u32);
        }
    }

    fn hidden_char() -> impl Strategy<Value = char> {
        let all: Vec<char> = listed().collect();
        prop::sample::select(all)
    }

    proptest! {
        #[test]
        fn invisible_characters_never_reach_a_channel(
            words in prop::collection::vec("[a-z0-9.]{1,8}", 1..6),
            hidden in prop::collection::vec(hidden_char(), 1..6),
        ) {
            let mut raw = String::new();
            for (i, w) in words.iter().enumerate() {
                raw.push_str(w);
                raw.push(hidden[i % hidden.len()]);
            }
            let v = Untrusted::new(raw);
            for out in [v.plain(FieldKind::Path), v.html(FieldKind::Path), v.slack(FieldKind::Path)] {
                prop_assert!(!out.chars().any(is_dangerous), "{:?}", out);
                // Nothing visible was dropped with them.
                for w in &words {
                    prop_assert!(out.contains(w.as_str()), "{:?} lost {:?}", out, w);
                }
            }
        }
    }
}
