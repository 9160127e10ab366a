//! PocketBase's stored file names: `<snake_case base>_<10 random [a-z0-9]><clean extension>`.

use crate::util::{random_string, LOWER_ALPHANUMERIC};

const MAX_INPUT_LEN: usize = 300;
const MAX_EXT_LEN: usize = 20;
const MIN_BASE_LEN: usize = 3;
const MAX_BASE_LEN: usize = 100;

/// Normalises a client file name. `sniffed_ext` (with dot, may be empty) is used when the
/// name has no usable extension.
pub fn normalize_file_name(original: &str, sniffed_ext: &str) -> String {
    let name = keep_last_bytes(original, MAX_INPUT_LEN);
    let original_ext = extract_extension(name);
    let mut ext = format!(".{}", clean_extension(original_ext));
    if ext == "." {
        ext = sniffed_ext.to_string();
    }
    if ext.len() > MAX_EXT_LEN {
        // ASCII only after cleaning, so byte slicing is safe
        ext = format!(".{}", ext[ext.len() - MAX_EXT_LEN..].trim_matches('.'));
    }
    let base_src = name.strip_suffix(original_ext).unwrap_or(name).trim_matches('.');
    let mut base = snakecase(base_src);
    if base.len() < MIN_BASE_LEN {
        // too short to be meaningful: pad with an extra random part
        base.push_str(&random_part());
    } else if base.len() > MAX_BASE_LEN {
        base.truncate(MAX_BASE_LEN);
    }
    format!("{base}_{}{ext}", random_part())
}

fn random_part() -> String {
    random_string(10, LOWER_ALPHANUMERIC)
}

/// The last `max` bytes of `s`, moved forward to a char boundary.
fn keep_last_bytes(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut start = s.len() - max;
    while !s.is_char_boundary(start) {
        start += 1;
    }
    &s[start..]
}

/// The extension with its leading dot, supporting double extensions (`.tar.gz`).
pub fn extract_extension(name: &str) -> &str {
    let Some(primary) = name.rfind('.') else { return "" };
    match name[..primary].rfind('.') {
        Some(secondary) => &name[secondary..],
        None => &name[primary..],
    }
}

fn is_word_byte(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Drops characters outside `[\w.*\-+=#]` and surrounding dots.
fn clean_extension(ext: &str) -> String {
    let kept: String = ext.chars().filter(|c| is_word_byte(*c) || matches!(c, '.' | '*' | '-' | '+' | '=' | '#')).collect();
    kept.trim_matches('.').to_string()
}

/// PocketBase's `inflector.Snakecase`: split on non-word characters and `_`, put `_` before an
/// uppercase letter that follows a non-uppercase one, lower-case everything.
pub fn snakecase(s: &str) -> String {
    let mut out = String::new();
    for word in s.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push('_');
        }
        let mut prev_upper = true;
        for (i, c) in word.chars().enumerate() {
            let upper = c.is_ascii_uppercase();
            if upper && i > 0 && !prev_upper {
                out.push('_');
            }
            out.push(c);
            prev_upper = upper;
        }
    }
    out.to_ascii_lowercase()
}

/// Loose validity check of a stored name (`^[^\./\\][^/\\]+$`, 1–150 chars).
pub fn is_valid_stored_name(name: &str) -> bool {
    let len = name.chars().count();
    let mut chars = name.chars();
    let first_ok = chars.next().map(|c| !matches!(c, '.' | '/' | '\\')).unwrap_or(false);
    (2..=150).contains(&len) && first_ok && chars.all(|c| !matches!(c, '/' | '\\'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(name: &str) -> String {
        // replace the random parts so results can be compared
        let re = regex::Regex::new(r"_[a-z0-9]{10}(\.|$)").unwrap();
        re.replace(name, "_R$1").to_string()
    }

    #[test]
    fn names_follow_pocketbase() {
        assert_eq!(shape(&normalize_file_name("My Photo (1).PNG", "")), "my_photo_1_R.PNG");
        assert_eq!(shape(&normalize_file_name("img.png", "")), "img_R.png");
        assert_eq!(shape(&normalize_file_name("archive.tar.gz", "")), "archive_R.tar.gz");
        assert_eq!(shape(&normalize_file_name("myTestDB.txt", "")), "my_test_db_R.txt");
        assert_eq!(shape(&normalize_file_name("héllo wörld.tar.gz", "")), "h_llo_w_rld_R.tar.gz");
        assert_eq!(shape(&normalize_file_name("noext", ".png")), "noext_R.png");
        assert_eq!(shape(&normalize_file_name("bin", "")), "bin_R");
    }

    #[test]
    fn short_names_get_an_extra_random_part() {
        let n = normalize_file_name("a.txt", "");
        assert!(regex::Regex::new(r"^a[a-z0-9]{10}_[a-z0-9]{10}\.txt$").unwrap().is_match(&n), "{n}");
        let hidden = normalize_file_name(".hidden", "");
        assert!(regex::Regex::new(r"^[a-z0-9]{10}_[a-z0-9]{10}\.hidden$").unwrap().is_match(&hidden), "{hidden}");
    }

    #[test]
    fn long_parts_are_cut() {
        let n = normalize_file_name(&format!("{}.{}", "a".repeat(200), "b".repeat(30)), "");
        let (base, ext) = n.split_once('.').unwrap();
        assert_eq!(base.len(), 100 + 11);
        assert_eq!(ext.len(), 20);
        assert!(is_valid_stored_name(&n));
        assert!(!is_valid_stored_name(".x"));
        assert!(!is_valid_stored_name("a/b"));
    }
}
