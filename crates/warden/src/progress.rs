//! Progress bars for long operations (uploads, downloads and digests of model files,
//! verifying a long ledger), drawn on standard error only when it is a terminal: piped
//! or redirected output stays free of them.

use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A bar over `total` bytes: done, total, rate and time left.
pub fn bytes(label: &str, total: Option<u64>) -> ProgressBar {
    let style = match total {
        Some(_) => "{msg} [{bar:20}] {bytes}/{total_bytes} {binary_bytes_per_sec} eta {eta}",
        None => "{msg} {bytes} {binary_bytes_per_sec}",
    };
    bar(label, total, style)
}

/// A bar over `total` things (ledger entries): done, total, rate and time left.
pub fn count(label: &str, total: u64) -> ProgressBar {
    bar(label, Some(total), "{msg} [{bar:20}] {human_pos}/{human_len} {per_sec} eta {eta}")
}

fn bar(label: &str, total: Option<u64>, template: &str) -> ProgressBar {
    let style = ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar());
    let bar =
        ProgressBar::with_draw_target(total, ProgressDrawTarget::stderr()).with_style(style.progress_chars("=> "));
    bar.set_message(label.to_string());
    bar
}

/// The client's transfers as bars, one at a time.
#[derive(Default)]
pub struct Bars(Mutex<Option<ProgressBar>>);

impl warden_client::Progress for Bars {
    fn begin(&self, label: &str, total: Option<u64>) {
        if let Ok(mut b) = self.0.lock() {
            *b = Some(bytes(label, total));
        }
    }
    fn at(&self, done: u64) {
        if let Ok(b) = self.0.lock() {
            if let Some(b) = b.as_ref() {
                b.set_position(done);
            }
        }
    }
    fn end(&self) {
        if let Ok(mut b) = self.0.lock() {
            if let Some(b) = b.take() {
                b.finish_and_clear();
            }
        }
    }
}
