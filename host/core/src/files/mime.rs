//! Content sniffing for uploads (a small subset of the `mimetype` detector PocketBase uses:
//! the common image/document/archive signatures plus text, JSON, HTML, XML and SVG).

/// A detected content type and its usual extension (with dot, empty when unknown).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sniffed {
    pub content_type: &'static str,
    pub extension: &'static str,
}

const fn sniffed(content_type: &'static str, extension: &'static str) -> Sniffed {
    Sniffed { content_type, extension }
}

const OCTET_STREAM: Sniffed = sniffed("application/octet-stream", "");

/// Magic-byte signatures checked in order: (offset, bytes, result).
const SIGNATURES: &[(usize, &[u8], Sniffed)] = &[
    (0, b"\x89PNG\r\n\x1a\n", sniffed("image/png", ".png")),
    (0, b"\xff\xd8\xff", sniffed("image/jpeg", ".jpg")),
    (0, b"GIF87a", sniffed("image/gif", ".gif")),
    (0, b"GIF89a", sniffed("image/gif", ".gif")),
    (0, b"%PDF-", sniffed("application/pdf", ".pdf")),
    (0, b"PK\x03\x04", sniffed("application/zip", ".zip")),
    (0, b"\x1f\x8b", sniffed("application/gzip", ".gz")),
    (0, b"BM", sniffed("image/bmp", ".bmp")),
    (0, b"\x00\x00\x01\x00", sniffed("image/x-icon", ".ico")),
    (0, b"OggS", sniffed("application/ogg", ".ogg")),
    (0, b"ID3", sniffed("audio/mpeg", ".mp3")),
    (0, b"\x1a\x45\xdf\xa3", sniffed("video/webm", ".webm")),
    (0, b"7z\xbc\xaf\x27\x1c", sniffed("application/x-7z-compressed", ".7z")),
    (4, b"ftyp", sniffed("video/mp4", ".mp4")),
];

pub fn sniff(content: &[u8]) -> Sniffed {
    if content.is_empty() {
        return sniffed("text/plain", ".txt");
    }
    if content.len() >= 12 && &content[0..4] == b"RIFF" {
        match &content[8..12] {
            b"WEBP" => return sniffed("image/webp", ".webp"),
            b"WAVE" => return sniffed("audio/wav", ".wav"),
            b"AVI " => return sniffed("video/x-msvideo", ".avi"),
            _ => {}
        }
    }
    for (offset, magic, result) in SIGNATURES {
        if content.len() >= offset + magic.len() && &content[*offset..offset + magic.len()] == *magic {
            return *result;
        }
    }
    if !looks_like_text(content) {
        return OCTET_STREAM;
    }
    sniff_text(content)
}

/// Text without control characters (other than whitespace) and valid UTF-8.
fn looks_like_text(content: &[u8]) -> bool {
    let sample = &content[..content.len().min(3072)];
    let binary = sample.iter().any(|b| *b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0c | 0x1b));
    !binary && (std::str::from_utf8(content).is_ok() || std::str::from_utf8(sample).is_ok())
}

fn sniff_text(content: &[u8]) -> Sniffed {
    let text = String::from_utf8_lossy(&content[..content.len().min(3072)]);
    let trimmed = text.trim_start_matches(['\u{feff}', ' ', '\t', '\r', '\n']);
    let lower = trimmed.chars().take(256).collect::<String>().to_ascii_lowercase();
    if lower.starts_with("<svg") || (lower.starts_with("<?xml") && text.contains("<svg")) {
        return sniffed("image/svg+xml", ".svg");
    }
    if lower.starts_with("<?xml") {
        return sniffed("text/xml; charset=utf-8", ".xml");
    }
    const HTML_STARTS: &[&str] = &["<!doctype html", "<html", "<head", "<body", "<script", "<iframe", "<h1", "<div", "<font", "<table", "<a ", "<style", "<title", "<b>", "<br", "<p>", "<!--"];
    if HTML_STARTS.iter().any(|p| lower.starts_with(p)) {
        return sniffed("text/html; charset=utf-8", ".html");
    }
    if trimmed.starts_with(['{', '[']) && serde_json::from_slice::<serde::de::IgnoredAny>(content).is_ok() {
        return sniffed("application/json", ".json");
    }
    sniffed("text/plain; charset=utf-8", ".txt")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_common_types() {
        assert_eq!(sniff(b"hello world").content_type, "text/plain; charset=utf-8");
        assert_eq!(sniff(b"").content_type, "text/plain");
        assert_eq!(sniff(b"{\"a\":1}").content_type, "application/json");
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n0000"), sniffed("image/png", ".png"));
        assert_eq!(sniff(b"\x00\x01\x02"), OCTET_STREAM);
        assert_eq!(sniff(b"<svg xmlns='x'></svg>").content_type, "image/svg+xml");
        assert_eq!(sniff(b"RIFF\x00\x00\x00\x00WEBPVP8 ").content_type, "image/webp");
    }
}
