//! On-demand thumbnails (PocketBase's `filesystem.CreateThumb` with `disintegration/imaging`):
//! `WxH` fill + center crop, `WxHt`/`WxHb` fill + top/bottom crop, `WxHf` fit, `0xH`/`Wx0`
//! proportional resize; linear resampling, EXIF orientation applied. JPEG stays JPEG, GIF
//! (first frame) stays GIF, everything else (PNG, WebP) is encoded as PNG.
//!
//! Generation runs on the blocking pool, at most `PB_THUMBS_MAX_WORKERS` (default CPUs + 2) at
//! a time, waiting at most `PB_THUMBS_MAX_WAIT` seconds (default 60) for a slot, and is
//! de-duplicated per thumb key: concurrent requests for the same thumb generate it once.

use image::imageops::FilterType;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::io::Cursor;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use super::{FileMeta, FileSource, FileStorage};

/// Originals that can have thumbnails.
pub const IMAGE_CONTENT_TYPES: &[&str] = &["image/png", "image/jpg", "image/jpeg", "image/gif", "image/webp"];

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Mode {
    Center,
    Top,
    Bottom,
    Fit,
}

/// Parses `^(\d+)x(\d+)(t|b|f)?$`.
pub fn parse_size(size: &str) -> Option<(u32, u32, Mode)> {
    let (w, rest) = size.split_once('x')?;
    let (h, mode) = match rest.chars().last() {
        Some('t') => (&rest[..rest.len() - 1], Mode::Top),
        Some('b') => (&rest[..rest.len() - 1], Mode::Bottom),
        Some('f') => (&rest[..rest.len() - 1], Mode::Fit),
        _ => (rest, Mode::Center),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(w) || !digits(h) {
        return None;
    }
    Some((w.parse().ok()?, h.parse().ok()?, mode))
}

fn round(v: f64) -> u32 {
    (v + 0.5).floor().max(1.0) as u32
}

/// `imaging.Resize`: a zero dimension keeps the aspect ratio.
fn resize(img: &DynamicImage, w: u32, h: u32) -> DynamicImage {
    let (sw, sh) = (img.width(), img.height());
    let (w, h) = match (w, h) {
        (0, h) => (round(h as f64 * sw as f64 / sh as f64), h),
        (w, 0) => (w, round(w as f64 * sh as f64 / sw as f64)),
        wh => wh,
    };
    if (w, h) == (sw, sh) {
        return img.clone();
    }
    img.resize_exact(w, h, FilterType::Triangle)
}

/// `imaging.Fill`: cover W×H, then crop at the anchor.
fn fill(img: &DynamicImage, w: u32, h: u32, mode: Mode) -> DynamicImage {
    let (sw, sh) = (img.width(), img.height());
    if (sw, sh) == (w, h) {
        return img.clone();
    }
    let tmp = if (sw as f64 / sh as f64) < (w as f64 / h as f64) { resize(img, w, 0) } else { resize(img, 0, h) };
    let (tw, th) = (tmp.width(), tmp.height());
    let (w, h) = (w.min(tw), h.min(th));
    let x = (tw - w) / 2;
    let y = match mode {
        Mode::Top => 0,
        Mode::Bottom => th - h,
        _ => (th - h) / 2,
    };
    tmp.crop_imm(x, y, w, h)
}

/// `imaging.Fit`: inside W×H keeping the aspect ratio, never enlarging.
fn fit(img: &DynamicImage, w: u32, h: u32) -> DynamicImage {
    let (sw, sh) = (img.width(), img.height());
    if sw <= w && sh <= h {
        return img.clone();
    }
    let src_aspect = sw as f64 / sh as f64;
    if src_aspect > w as f64 / h as f64 {
        resize(img, w, round(w as f64 / src_aspect))
    } else {
        resize(img, round(h as f64 * src_aspect), h)
    }
}

/// Renders the thumbnail of `original` (of the stored `content_type`) at `size`.
pub fn render(original: &[u8], content_type: &str, size: &str) -> Result<Vec<u8>, String> {
    let (w, h, mode) = parse_size(size).ok_or("invalid thumb size")?;
    if w == 0 && h == 0 {
        return Err("invalid thumb size".into());
    }
    let reader = ImageReader::new(Cursor::new(original)).with_guessed_format().map_err(|e| e.to_string())?;
    let mut decoder = reader.into_decoder().map_err(|e| e.to_string())?;
    let orientation = decoder.orientation().ok();
    let mut img = DynamicImage::from_decoder(decoder).map_err(|e| e.to_string())?;
    if let Some(o) = orientation {
        img.apply_orientation(o);
    }
    let thumb = if w == 0 || h == 0 {
        resize(&img, w, h)
    } else if mode == Mode::Fit {
        fit(&img, w, h)
    } else {
        fill(&img, w, h, mode)
    };
    let mut out = Cursor::new(Vec::new());
    match content_type {
        "image/jpeg" | "image/jpg" => {
            let rgb = DynamicImage::ImageRgb8(thumb.to_rgb8());
            let enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 75);
            rgb.write_with_encoder(enc).map_err(|e| e.to_string())?;
        }
        "image/gif" => {
            DynamicImage::ImageRgba8(thumb.to_rgba8()).write_to(&mut out, ImageFormat::Gif).map_err(|e| e.to_string())?;
        }
        _ => thumb.write_to(&mut out, ImageFormat::Png).map_err(|e| e.to_string())?,
    }
    Ok(out.into_inner())
}

/// The stored content type of a thumb: its encoded format (WebP thumbs are PNGs).
fn thumb_content_type(original: &str) -> &str {
    match original {
        "image/jpeg" | "image/jpg" | "image/gif" => original,
        _ => "image/png",
    }
}

struct Pool {
    inflight: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    workers: tokio::sync::Semaphore,
    max_wait: Duration,
}

fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| {
        let env = |name: &str| std::env::var(name).ok().and_then(|v| v.trim().parse::<usize>().ok()).filter(|v| *v > 0);
        let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        Pool {
            inflight: Mutex::new(HashMap::new()),
            workers: tokio::sync::Semaphore::new(env("PB_THUMBS_MAX_WORKERS").unwrap_or(cpus + 2)),
            max_wait: Duration::from_secs(env("PB_THUMBS_MAX_WAIT").unwrap_or(60) as u64),
        }
    })
}

/// Makes sure the thumb at `thumb_key` exists, generating it from `original` when missing.
/// Returns whether it exists afterwards (generation failures are only logged).
pub async fn ensure(
    store: Arc<dyn FileStorage>,
    original: Arc<Vec<u8>>,
    content_type: String,
    thumb_key: String,
    size: String,
) -> bool {
    let p = pool();
    let lock = p.inflight.lock().entry(thumb_key.clone()).or_insert_with(|| Arc::new(tokio::sync::Mutex::new(()))).clone();
    let guard = lock.lock().await;
    let exists = {
        let (store, key) = (store.clone(), thumb_key.clone());
        tokio::task::spawn_blocking(move || store.exists(&key).unwrap_or(false)).await.unwrap_or(false)
    };
    let ok = if exists {
        true
    } else {
        match tokio::time::timeout(p.max_wait, p.workers.acquire()).await {
            Ok(Ok(_permit)) => {
                let key = thumb_key.clone();
                tokio::task::spawn_blocking(move || {
                    let bytes = render(&original, &content_type, &size)?;
                    let content_type = thumb_content_type(&content_type).to_string();
                    let meta = FileMeta { content_type, original_name: String::new() };
                    store.upload(&key, &FileSource::memory(bytes), &meta).map_err(|e| e.to_string())
                })
                .await
                .map_err(|e| e.to_string())
                .and_then(|r| r)
                .inspect_err(|e| tracing::warn!("thumb {thumb_key} generation failed: {e}"))
                .is_ok()
            }
            _ => {
                tracing::warn!("thumb {thumb_key}: no generation worker available in time");
                false
            }
        }
    };
    drop(guard);
    let mut map = p.inflight.lock();
    if map.get(&thumb_key).is_some_and(|l| Arc::ptr_eq(l, &lock)) && Arc::strong_count(&lock) <= 2 {
        map.remove(&thumb_key);
    }
    ok
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32) -> Vec<u8> {
        let img = DynamicImage::ImageRgb8(image::RgbImage::from_fn(w, h, |x, y| image::Rgb([x as u8, y as u8, 0])));
        let mut out = Cursor::new(Vec::new());
        img.write_to(&mut out, ImageFormat::Png).unwrap();
        out.into_inner()
    }

    fn dims(bytes: &[u8]) -> (u32, u32) {
        let img = image::load_from_memory(bytes).unwrap();
        (img.width(), img.height())
    }

    #[test]
    fn sizes_and_modes() {
        assert_eq!(parse_size("100x50t"), Some((100, 50, Mode::Top)));
        assert_eq!(parse_size("0x50"), Some((0, 50, Mode::Center)));
        assert_eq!(parse_size("x50"), None);
        assert_eq!(parse_size("10x5q"), None);
        let src = png(400, 200);
        let t = "image/png";
        assert_eq!(dims(&render(&src, t, "100x100").unwrap()), (100, 100));
        assert_eq!(dims(&render(&src, t, "100x100t").unwrap()), (100, 100));
        assert_eq!(dims(&render(&src, t, "100x100b").unwrap()), (100, 100));
        assert_eq!(dims(&render(&src, t, "100x100f").unwrap()), (100, 50));
        assert_eq!(dims(&render(&src, t, "0x50").unwrap()), (100, 50));
        assert_eq!(dims(&render(&src, t, "50x0").unwrap()), (50, 25));
        assert_eq!(dims(&render(&src, t, "1000x1000f").unwrap()), (400, 200));
        assert!(render(b"not an image", t, "10x10").is_err());
    }

    #[tokio::test(flavor = "current_thread")]
    async fn concurrent_requests_generate_once() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        struct Counting(super::super::local::LocalStorage, AtomicUsize);
        impl FileStorage for Counting {
            fn upload(&self, key: &str, content: &FileSource, meta: &FileMeta) -> std::io::Result<()> {
                self.1.fetch_add(1, Ordering::SeqCst);
                self.0.upload(key, content, meta)
            }
            fn read(&self, key: &str) -> std::io::Result<Option<super::super::StoredFile>> {
                self.0.read(key)
            }
            fn exists(&self, key: &str) -> std::io::Result<bool> {
                self.0.exists(key)
            }
            fn delete(&self, key: &str) -> std::io::Result<()> {
                self.0.delete(key)
            }
            fn delete_prefix(&self, prefix: &str) -> std::io::Result<()> {
                self.0.delete_prefix(prefix)
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Counting(super::super::local::LocalStorage::new(dir.path().to_path_buf()), AtomicUsize::new(0)));
        let original = Arc::new(png(300, 300));
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let store: Arc<dyn FileStorage> = store.clone();
                tokio::spawn(ensure(store, original.clone(), "image/png".into(), "c/r/thumbs_a.png/10x10_a.png".into(), "10x10".into()))
            })
            .collect();
        for t in tasks {
            assert!(t.await.unwrap());
        }
        assert_eq!(store.1.load(Ordering::SeqCst), 1);
        assert_eq!(dims(&store.read("c/r/thumbs_a.png/10x10_a.png").unwrap().unwrap().content), (10, 10));
    }

    /// Writes the 400×200 images the SDK file tests upload (`FIXTURE_DIR=… cargo test -p
    /// pocketbun-core write_sdk_fixture_images -- --ignored`).
    #[test]
    #[ignore]
    fn write_sdk_fixture_images() {
        let dir = std::path::PathBuf::from(std::env::var("FIXTURE_DIR").expect("FIXTURE_DIR"));
        let img = DynamicImage::ImageRgb8(image::RgbImage::from_fn(400, 200, |x, y| {
            image::Rgb([(x * 255 / 400) as u8, (y * 255 / 200) as u8, if y < 100 { 40 } else { 200 }])
        }));
        let save = |name: &str, bytes: Vec<u8>| std::fs::write(dir.join(name), bytes).unwrap();
        let encode = |img: &DynamicImage, fmt: ImageFormat| {
            let mut out = Cursor::new(Vec::new());
            img.write_to(&mut out, fmt).unwrap();
            out.into_inner()
        };
        save("photo.png", encode(&img, ImageFormat::Png));
        save("photo.jpg", encode(&img, ImageFormat::Jpeg));
        save("photo.gif", encode(&DynamicImage::ImageRgba8(img.to_rgba8()), ImageFormat::Gif));
        save("photo.webp", encode(&DynamicImage::ImageRgba8(img.to_rgba8()), ImageFormat::WebP));
    }
}
