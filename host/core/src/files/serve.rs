//! Response headers for serving a stored file (PocketBase's `filesystem.Serve`).

/// Content types served inline; everything else is an attachment.
const INLINE_CONTENT_TYPES: &[&str] = &[
    "image/png", "image/jpg", "image/jpeg", "image/gif", "image/webp", "image/x-icon", "image/bmp",
    "video/webm", "video/mp4", "video/3gpp", "video/quicktime", "video/x-ms-wmv",
    "audio/basic", "audio/aiff", "audio/mpeg", "audio/midi", "audio/mp3", "audio/wave",
    "audio/wav", "audio/x-wav", "audio/x-mpeg", "audio/x-m4a", "audio/aac",
    "application/pdf", "application/x-pdf",
];

/// Extensions whose content type is forced because sniffing gets them wrong.
const EXTENSION_CONTENT_TYPES: &[(&str, &str)] = &[
    (".svg", "image/svg+xml"),
    (".css", "text/css"),
    (".js", "text/javascript"),
    (".mjs", "text/javascript"),
    (".xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    (".docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    (".pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
];

pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; media-src 'self'; style-src 'unsafe-inline'; sandbox";
pub const CACHE_CONTROL: &str = "max-age=2592000, stale-while-revalidate=86400";

/// `inline; filename="x"` or `attachment; filename="x"`.
pub fn content_disposition(stored_content_type: &str, name: &str, force_download: bool) -> String {
    let inline = !force_download && INLINE_CONTENT_TYPES.contains(&stored_content_type);
    let kind = if inline { "inline" } else { "attachment" };
    format!("{kind}; filename=\"{}\"", name.replace(['"', '\\'], "_"))
}

/// The served Content-Type: the stored one unless the extension forces another.
pub fn content_type(stored_content_type: &str, name: &str) -> String {
    let ext = name.rfind('.').map(|i| &name[i..]).unwrap_or_default();
    EXTENSION_CONTENT_TYPES
        .iter()
        .find(|(e, _)| *e == ext)
        .map(|(_, t)| t.to_string())
        .unwrap_or_else(|| stored_content_type.to_string())
}

/// Go's `strconv.ParseBool` truthy values (used for `?download=`).
pub fn is_truthy(raw: &str) -> bool {
    matches!(raw, "1" | "t" | "T" | "true" | "TRUE" | "True")
}

/// A single satisfiable byte range of a `Range: bytes=...` header, as `(start, end_inclusive)`.
/// `None` for no/unsupported ranges (multi-range); `Some(Err(()))` when unsatisfiable.
pub fn parse_range(header: &str, len: u64) -> Option<Result<(u64, u64), ()>> {
    let spec = header.trim().strip_prefix("bytes=")?;
    if spec.contains(',') {
        return None;
    }
    let (start, end) = spec.split_once('-')?;
    let (start, end) = (start.trim(), end.trim());
    if start.is_empty() {
        let suffix: u64 = end.parse().ok()?;
        if suffix == 0 || len == 0 {
            return Some(Err(()));
        }
        return Some(Ok((len.saturating_sub(suffix), len - 1)));
    }
    let start: u64 = start.parse().ok()?;
    if start >= len {
        return Some(Err(()));
    }
    let end = if end.is_empty() { len - 1 } else { end.parse::<u64>().ok()?.min(len - 1) };
    if end < start {
        return None;
    }
    Some(Ok((start, end)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_follow_pocketbase() {
        assert_eq!(content_disposition("image/png", "a.png", false), "inline; filename=\"a.png\"");
        assert_eq!(content_disposition("image/png", "a.png", true), "attachment; filename=\"a.png\"");
        assert_eq!(content_disposition("text/plain; charset=utf-8", "a.txt", false), "attachment; filename=\"a.txt\"");
        assert_eq!(content_type("text/plain; charset=utf-8", "x.svg"), "image/svg+xml");
        assert_eq!(content_type("image/png", "x.png"), "image/png");
    }

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=0-3", 10), Some(Ok((0, 3))));
        assert_eq!(parse_range("bytes=5-", 10), Some(Ok((5, 9))));
        assert_eq!(parse_range("bytes=-4", 10), Some(Ok((6, 9))));
        assert_eq!(parse_range("bytes=20-", 10), Some(Err(())));
        assert_eq!(parse_range("bytes=0-1,3-4", 10), None);
    }
}
