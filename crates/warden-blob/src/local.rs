//! Durable writes of a local upload.
//!
//! A buffered write followed by fdatasync leaves the kernel's writeback, not the disk,
//! to set the pace: on the machines this was measured on it managed a quarter of what
//! the same disk takes with direct I/O (`dd` 2 GiB: 338 MB/s against 1.3 GB/s). So where
//! the filesystem allows it the file is written with `O_DIRECT` from an aligned staging
//! buffer, in large blocks; the last partial block goes through the page cache; and the
//! file is synced at the end either way (direct I/O does not flush the disk's own cache).
//! Where `O_DIRECT` is refused (tmpfs, some network filesystems, other systems) it falls
//! back to buffered writes with an fdatasync every `SYNC_EVERY` bytes, which keeps the
//! disk busy instead of handing it the whole file at the end.

use std::fs::File;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// Alignment direct I/O needs for buffers, offsets and lengths (a page covers the
/// logical block size of common disks).
const ALIGN: usize = 4096;
/// Bytes per direct write.
const STAGE: usize = 4 * 1024 * 1024;
/// Buffered writes: bytes between syncs.
const SYNC_EVERY: u64 = 64 * 1024 * 1024;

pub(crate) struct Writer {
    path: PathBuf,
    file: File,
    mode: Mode,
    /// Bytes in the file so far.
    written: u64,
}

enum Mode {
    /// `stage[start..start + STAGE]` is aligned; `filled` bytes of it are waiting.
    Direct {
        stage: Vec<u8>,
        start: usize,
        filled: usize,
    },
    Buffered {
        unsynced: u64,
    },
}

impl Writer {
    pub(crate) fn create(path: &Path) -> std::io::Result<Writer> {
        if let Some(file) = open_direct(path) {
            let stage = vec![0u8; STAGE + ALIGN];
            let start = stage.as_ptr().align_offset(ALIGN);
            return Ok(Writer {
                path: path.to_path_buf(),
                file,
                mode: Mode::Direct { stage, start, filled: 0 },
                written: 0,
            });
        }
        Ok(Writer {
            path: path.to_path_buf(),
            file: File::create(path)?,
            mode: Mode::Buffered { unsynced: 0 },
            written: 0,
        })
    }

    pub(crate) fn write(&mut self, mut data: &[u8]) -> std::io::Result<()> {
        while !data.is_empty() {
            match &mut self.mode {
                Mode::Buffered { unsynced } => {
                    self.file.write_all(data)?;
                    self.written += data.len() as u64;
                    *unsynced += data.len() as u64;
                    if *unsynced >= SYNC_EVERY {
                        self.file.sync_data()?;
                        *unsynced = 0;
                    }
                    return Ok(());
                }
                Mode::Direct { stage, start, filled } => {
                    let room = STAGE - *filled;
                    let n = room.min(data.len());
                    let (now, rest) = data.split_at(n);
                    let at = *start + *filled;
                    stage.get_mut(at..at + n).ok_or_else(out_of_range)?.copy_from_slice(now);
                    *filled += n;
                    data = rest;
                    if *filled == STAGE {
                        self.flush_direct(STAGE)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Writes the first `len` (a multiple of `ALIGN`) staged bytes directly and moves
    /// what follows them to the front. A filesystem that turns out to refuse direct
    /// writes gets the rest buffered, from exactly where the direct writes stopped.
    fn flush_direct(&mut self, len: usize) -> std::io::Result<()> {
        let Mode::Direct { stage, start, filled } = &mut self.mode else { return Ok(()) };
        let mut done = 0;
        while done < len {
            let block = stage.get(*start + done..*start + len).ok_or_else(out_of_range)?;
            match self.file.write(block) {
                Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
                Ok(n) => {
                    done += n;
                    self.written += n as u64;
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) if e.raw_os_error() == Some(EINVAL) => {
                    let waiting = self.switch_to_buffered(done)?;
                    return self.write(&waiting);
                }
                Err(e) => return Err(e),
            }
        }
        stage.copy_within(*start + len..*start + *filled, *start);
        *filled -= len;
        Ok(())
    }

    /// Continues with buffered writes from the last byte known to have landed (whatever
    /// a refused direct write may have left past it goes) and returns the staged bytes
    /// from `from` on, still to be written.
    fn switch_to_buffered(&mut self, from: usize) -> std::io::Result<Vec<u8>> {
        let Mode::Direct { stage, start, filled } = &self.mode else { return Ok(Vec::new()) };
        let waiting = stage.get(*start + from..*start + *filled).ok_or_else(out_of_range)?.to_vec();
        let file = std::fs::OpenOptions::new().append(true).open(&self.path)?;
        file.set_len(self.written)?;
        self.file = file;
        self.mode = Mode::Buffered { unsynced: 0 };
        Ok(waiting)
    }

    /// Writes what is staged and syncs: the file is durable when this returns.
    pub(crate) fn finish(mut self) -> std::io::Result<()> {
        if let Mode::Direct { filled, .. } = self.mode {
            let aligned = filled - filled % ALIGN;
            if aligned > 0 {
                self.flush_direct(aligned)?;
            }
            // The tail, shorter than a block, goes through the page cache.
            let tail = self.switch_to_buffered(0)?;
            self.write(&tail)?;
        }
        self.file.sync_all()
    }
}

fn out_of_range() -> std::io::Error {
    std::io::Error::other("staging buffer out of range")
}

#[cfg(target_os = "linux")]
const EINVAL: i32 = libc::EINVAL;
#[cfg(not(target_os = "linux"))]
const EINVAL: i32 = 22;

/// Creates `path` for direct I/O, if this system and filesystem allow it.
#[cfg(target_os = "linux")]
fn open_direct(path: &Path) -> Option<File> {
    use std::os::unix::fs::OpenOptionsExt as _;
    std::fs::OpenOptions::new().write(true).create(true).truncate(true).custom_flags(libc::O_DIRECT).open(path).ok()
}

#[cfg(not(target_os = "linux"))]
fn open_direct(_: &Path) -> Option<File> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sizes around the block and staging boundaries, written in uneven pieces, read
    /// back byte for byte.
    #[test]
    fn what_is_written_is_what_is_read_back() {
        let dir = tempfile::tempdir().unwrap();
        for size in [0, 1, ALIGN - 1, ALIGN, ALIGN + 1, STAGE - 1, STAGE, STAGE + 1, 2 * STAGE + 12_345] {
            let data: Vec<u8> = (0..size).map(|i| (i * 31 % 251) as u8).collect();
            let path = dir.path().join(format!("f{size}"));
            let mut w = Writer::create(&path).unwrap();
            for piece in data.chunks(65_521) {
                w.write(piece).unwrap();
            }
            w.finish().unwrap();
            assert_eq!(std::fs::read(&path).unwrap(), data, "size {size}");
        }
    }

    /// The buffered path, and the switch to it when a direct write is refused (here: a
    /// staging buffer that is not aligned, which the kernel refuses with EINVAL), write
    /// the same bytes.
    #[test]
    fn buffered_writes_and_refused_direct_writes_give_the_same_file() {
        let dir = tempfile::tempdir().unwrap();
        let data: Vec<u8> = (0..2 * STAGE + 77).map(|i| (i % 13) as u8).collect();

        let path = dir.path().join("buffered");
        let mut w = Writer {
            path: path.clone(),
            file: File::create(&path).unwrap(),
            mode: Mode::Buffered { unsynced: 0 },
            written: 0,
        };
        w.write(&data).unwrap();
        w.finish().unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), data);

        let path = dir.path().join("refused");
        let mut w = Writer::create(&path).unwrap();
        if let Mode::Direct { start, .. } = &mut w.mode {
            *start += 1;
        } else {
            return; // no direct I/O here: nothing to refuse
        }
        w.write(&data).unwrap();
        assert!(matches!(w.mode, Mode::Buffered { .. }), "the refused write switched to buffered");
        w.finish().unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), data);
    }
}
