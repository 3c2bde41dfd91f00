//! A content-addressed blob store on the `object_store` crate: a local folder by default,
//! S3-compatible or Azure Blob when built with those backends.
//!
//! Uploads stream: each chunk is hashed and written under `uploads/`, so memory stays
//! bounded by a few chunks whatever the size. In a local folder a thread of its own
//! writes (overlapping the hashing; direct I/O where allowed, see `local`) and the file
//! is synced before it counts;
//! other backends take an `object_store` multipart upload. Only when the SHA-256 of
//! what arrived equals the declared digest is the object published at `sha256/<hex>`;
//! otherwise it is deleted. An interrupted upload never becomes visible.

#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing))]

use std::fmt;
use std::path::{Path as FsPath, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use object_store::path::Path;
use object_store::{ObjectStore, WriteMultipart};
use sha2::{Digest as _, Sha256};

mod local;

/// Chunk size handed to the object store; with at most two chunks in flight this bounds
/// an upload's memory.
const CHUNK: usize = 8 * 1024 * 1024;
const IN_FLIGHT: usize = 2;
/// Chunks queued for a local upload's writer thread (each as the body delivered it).
const LOCAL_IN_FLIGHT: usize = 16;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest(pub [u8; 32]);

impl Digest {
    /// Parses `sha256:<64 lowercase hex>`.
    pub fn parse(s: &str) -> Result<Self, BlobError> {
        let hex_part = s.strip_prefix("sha256:").ok_or_else(|| BlobError::BadDigest(s.to_string()))?;
        if hex_part.len() != 64 || hex_part.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(BlobError::BadDigest(s.to_string()));
        }
        let raw = hex::decode(hex_part).map_err(|_| BlobError::BadDigest(s.to_string()))?;
        <[u8; 32]>::try_from(raw.as_slice()).map(Digest).map_err(|_| BlobError::BadDigest(s.to_string()))
    }

    pub fn hex(&self) -> String {
        hex::encode(self.0)
    }

    fn path(&self) -> Path {
        Path::from(format!("sha256/{}", self.hex()))
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256:{}", self.hex())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("`{0}` is not a digest; expected sha256: and 64 lowercase hex digits")]
    BadDigest(String),
    #[error("the content's digest is {actual}, not the declared {declared}; nothing was stored")]
    DigestMismatch { declared: Digest, actual: Digest },
    #[error("the upload exceeds the {0}-byte limit; nothing was stored")]
    TooLarge(u64),
    #[error("the upload was interrupted: {0}; nothing was stored")]
    Interrupted(String),
    #[error("blob {0} does not exist")]
    NotFound(Digest),
    #[error("object store: {0}")]
    Store(String),
}

impl From<object_store::Error> for BlobError {
    fn from(e: object_store::Error) -> Self {
        BlobError::Store(e.to_string())
    }
}

/// A private local folder for copies of blobs, removed when dropped.
pub struct Spool {
    dir: tempfile::TempDir,
}

impl Spool {
    /// Copies `digest` into the folder as `name` (a plain file name) and returns its path.
    pub async fn copy(&self, blobs: &BlobStore, digest: &Digest, name: &str) -> Result<std::path::PathBuf, BlobError> {
        let safe: String = name.chars().map(|c| if c == '/' || c == '\\' { '_' } else { c }).collect();
        let path = self.dir.path().join(safe);
        blobs.spool(digest, &path).await?;
        Ok(path)
    }
}

/// What an upload stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub digest: Digest,
    pub size: u64,
    /// False when the same content was already stored (deduplicated).
    pub created: bool,
}

#[derive(Clone)]
pub struct BlobStore {
    store: Arc<dyn ObjectStore>,
    /// For a local folder: its path, so uploads can be written by a thread of their own
    /// (overlapping the hashing) and flushed to disk before they are published.
    local: Option<PathBuf>,
}

impl fmt::Debug for BlobStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BlobStore({})", self.store)
    }
}

impl BlobStore {
    /// A store in a local folder (created if missing).
    pub fn local(dir: &FsPath) -> Result<Self, BlobError> {
        std::fs::create_dir_all(dir).map_err(|e| BlobError::Store(format!("{}: {e}", dir.display())))?;
        let fs = object_store::local::LocalFileSystem::new_with_prefix(dir)?;
        let root = std::fs::canonicalize(dir).map_err(|e| BlobError::Store(format!("{}: {e}", dir.display())))?;
        Ok(Self { store: Arc::new(fs), local: Some(root) })
    }

    /// A store named by URL: `file:///path`, `s3://bucket/prefix` (credentials, region
    /// and endpoint from the usual `AWS_*` variables) or `az://container/prefix`
    /// (`AZURE_*` variables).
    pub fn from_url(url: &str) -> Result<Self, BlobError> {
        let parsed = url::Url::parse(url).map_err(|e| BlobError::Store(format!("`{url}` is not a URL: {e}")))?;
        match parsed.scheme() {
            "file" => Self::local(FsPath::new(parsed.path())),
            "s3" | "s3a" => {
                let store = object_store::aws::AmazonS3Builder::from_env().with_url(url).build()?;
                Ok(Self::with_prefix(Arc::new(store), parsed.path()))
            }
            "az" | "azure" | "abfs" | "abfss" => {
                let store = object_store::azure::MicrosoftAzureBuilder::from_env().with_url(url).build()?;
                Ok(Self::with_prefix(Arc::new(store), parsed.path()))
            }
            other => Err(BlobError::Store(format!("unsupported blob store scheme `{other}` (file, s3, az)"))),
        }
    }

    fn with_prefix(store: Arc<dyn ObjectStore>, prefix: &str) -> Self {
        let prefix = prefix.trim_matches('/');
        if prefix.is_empty() {
            Self { store, local: None }
        } else {
            Self { store: Arc::new(object_store::prefix::PrefixStore::new(store, prefix)), local: None }
        }
    }

    /// A store over any `object_store` backend.
    pub fn new(store: Arc<dyn ObjectStore>) -> Self {
        Self { store, local: None }
    }

    /// Streams `body` in, verifying it against `declared` (when given) and `max_bytes`.
    pub async fn put<S, E>(&self, declared: Option<Digest>, max_bytes: u64, body: S) -> Result<Stored, BlobError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: fmt::Display,
    {
        let temp = Path::from(format!("uploads/{}", ulid::Ulid::new()));
        let (digest, size) = self.write_object(&temp, max_bytes, body).await?;
        let stored = self.publish(temp, declared, digest, size).await?;
        if let Some(root) = &self.local {
            // The new name must survive a crash too.
            let dir = root.join("sha256");
            tokio::task::spawn_blocking(move || std::fs::File::open(dir)?.sync_all())
                .await
                .map_err(|e| BlobError::Store(e.to_string()))?
                .map_err(|e| BlobError::Store(format!("syncing the blob directory: {e}")))?;
        }
        Ok(stored)
    }

    /// Streams `body` into object `path` (under `uploads/`), returning its digest and
    /// size; on any failure nothing is left there.
    async fn write_object<S, E>(&self, path: &Path, max_bytes: u64, body: S) -> Result<(Digest, u64), BlobError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: fmt::Display,
    {
        if let Some(root) = &self.local {
            let file = root.join(path.as_ref());
            return match Self::write_local(&file, max_bytes, body).await {
                Ok(done) => Ok(done),
                Err(e) => {
                    let _ = tokio::fs::remove_file(&file).await;
                    Err(e)
                }
            };
        }
        let upload = self.store.put_multipart(path).await?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, CHUNK);
        match Self::stream_into(&mut writer, max_bytes, body).await {
            Ok(done) => {
                writer.finish().await?;
                Ok(done)
            }
            Err(e) => {
                let _ = writer.abort().await;
                Err(e)
            }
        }
    }

    /// Stores one part of a chunked upload as its own object; returns the object's name
    /// and size. Parts are never served; [`BlobStore::assemble`] turns them into a blob.
    pub async fn put_part<S, E>(
        &self,
        upload: &str,
        offset: u64,
        max_bytes: u64,
        body: S,
    ) -> Result<(String, u64), BlobError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: fmt::Display,
    {
        if upload.is_empty() || !upload.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(BlobError::Store(format!("`{upload}` is not an upload id")));
        }
        let path = Path::from(format!("uploads/{upload}/{offset:020}-{}", ulid::Ulid::new()));
        let (_, size) = self.write_object(&path, max_bytes, body).await?;
        Ok((path.to_string(), size))
    }

    /// Streams the parts, in order, through the same verification as [`BlobStore::put`]:
    /// the blob is published only if the whole content's digest is `declared`. The
    /// parts stay; delete them with [`BlobStore::delete_parts`].
    pub async fn assemble(&self, declared: Digest, max_bytes: u64, parts: &[String]) -> Result<Stored, BlobError> {
        use futures_util::TryStreamExt;
        let mut paths = Vec::with_capacity(parts.len());
        for p in parts {
            if !p.starts_with("uploads/") {
                return Err(BlobError::Store(format!("`{p}` is not an upload part")));
            }
            paths.push(Path::from(p.as_str()));
        }
        let store = self.store.clone();
        // Boxed to a plain `'static + Send` stream: callers' futures stay `Send` without
        // naming the closure types inside.
        let body: PartStream =
            futures_util::stream::iter(paths).then(move |p| open_part(store.clone(), p)).try_flatten().boxed();
        self.put(Some(declared), max_bytes, body).await
    }

    /// Deletes a published blob (retention; the caller has made sure nothing holds it).
    pub async fn delete(&self, digest: &Digest) -> Result<(), BlobError> {
        match self.store.delete(&digest.path()).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(BlobError::Store(e.to_string())),
        }
    }

    /// Deletes upload parts (best effort: what remains is never served).
    pub async fn delete_parts(&self, parts: &[String]) {
        for p in parts.iter().filter(|p| p.starts_with("uploads/")) {
            let _ = self.store.delete(&Path::from(p.as_str())).await;
        }
    }

    /// A local upload: this task hashes while a blocking thread writes, with a few
    /// chunks between them, and the file is on disk (fdatasync) before it returns.
    async fn write_local<S, E>(file: &FsPath, max_bytes: u64, mut body: S) -> Result<(Digest, u64), BlobError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: fmt::Display,
    {
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Bytes>(LOCAL_IN_FLIGHT);
        let path = file.to_path_buf();
        let writer = tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            let mut out = local::Writer::create(&path)?;
            while let Some(chunk) = rx.blocking_recv() {
                out.write(&chunk)?;
            }
            out.finish()
        });
        let mut meter = Meter::new(max_bytes);
        let fed = async {
            while let Some(chunk) = body.next().await {
                let chunk = meter.take(chunk)?;
                // A closed channel means the writer failed; its error is reported below.
                if tx.send(chunk).await.is_err() {
                    break;
                }
            }
            Ok::<(), BlobError>(())
        }
        .await;
        drop(tx);
        let written = writer.await.map_err(|e| BlobError::Store(e.to_string()))?;
        fed?;
        written.map_err(|e| BlobError::Store(format!("writing the upload: {e}")))?;
        Ok(meter.finish())
    }

    async fn stream_into<S, E>(
        writer: &mut WriteMultipart,
        max_bytes: u64,
        mut body: S,
    ) -> Result<(Digest, u64), BlobError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: fmt::Display,
    {
        let mut meter = Meter::new(max_bytes);
        while let Some(chunk) = body.next().await {
            let chunk = meter.take(chunk)?;
            writer.wait_for_capacity(IN_FLIGHT).await?;
            writer.put(chunk);
        }
        Ok(meter.finish())
    }

    async fn publish(
        &self,
        temp: Path,
        declared: Option<Digest>,
        digest: Digest,
        size: u64,
    ) -> Result<Stored, BlobError> {
        if let Some(d) = declared.filter(|d| *d != digest) {
            let _ = self.store.delete(&temp).await;
            return Err(BlobError::DigestMismatch { declared: d, actual: digest });
        }
        let target = digest.path();
        match self.store.rename_if_not_exists(&temp, &target).await {
            Ok(()) => Ok(Stored { digest, size, created: true }),
            Err(object_store::Error::AlreadyExists { .. }) => {
                let _ = self.store.delete(&temp).await;
                Ok(Stored { digest, size, created: false })
            }
            // Object stores without conditional copy: the content is addressed by its
            // digest, so an unconditional copy can only ever write the same bytes.
            Err(object_store::Error::NotSupported { .. } | object_store::Error::NotImplemented) => {
                let existed = self.store.head(&target).await.is_ok();
                if !existed {
                    if let Err(e) = self.store.copy(&temp, &target).await {
                        let _ = self.store.delete(&temp).await;
                        return Err(e.into());
                    }
                }
                let _ = self.store.delete(&temp).await;
                Ok(Stored { digest, size, created: !existed })
            }
            Err(e) => {
                let _ = self.store.delete(&temp).await;
                Err(e.into())
            }
        }
    }

    /// A small state object under `state/NAME` (not a blob; replicas share it through
    /// the object store), or `None` when there is none.
    pub async fn read_state(&self, name: &str) -> Result<Option<Bytes>, BlobError> {
        let path = object_store::path::Path::from(format!("state/{name}"));
        match self.store.get(&path).await {
            Ok(r) => Ok(Some(r.bytes().await?)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Replaces the state object `state/NAME`.
    pub async fn write_state(&self, name: &str, bytes: Vec<u8>) -> Result<(), BlobError> {
        let path = object_store::path::Path::from(format!("state/{name}"));
        self.store.put(&path, Bytes::from(bytes).into()).await?;
        Ok(())
    }

    /// Writes `state/NAME` only if it does not exist yet (write-once; an existing object
    /// is left as it is). True when this call wrote it.
    pub async fn write_state_once(&self, name: &str, bytes: Vec<u8>) -> Result<bool, BlobError> {
        let path = object_store::path::Path::from(format!("state/{name}"));
        let opts = object_store::PutOptions { mode: object_store::PutMode::Create, ..Default::default() };
        match self.store.put_opts(&path, Bytes::from(bytes).into(), opts).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::AlreadyExists { .. }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// The size of a stored blob, or `None`.
    pub async fn size(&self, digest: &Digest) -> Result<Option<u64>, BlobError> {
        match self.store.head(&digest.path()).await {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Streams a stored blob.
    pub async fn get(
        &self,
        digest: &Digest,
    ) -> Result<impl Stream<Item = Result<Bytes, BlobError>> + Send + use<>, BlobError> {
        match self.store.get(&digest.path()).await {
            Ok(r) => Ok(r.into_stream().map(|c| c.map_err(BlobError::from))),
            Err(object_store::Error::NotFound { .. }) => Err(BlobError::NotFound(*digest)),
            Err(e) => Err(e.into()),
        }
    }

    /// A private local folder for copies of blobs (scanners read files and seek); it
    /// and every copy in it are removed when the [`Spool`] is dropped.
    pub fn spool_dir(&self) -> Result<Spool, BlobError> {
        tempfile::tempdir().map(|dir| Spool { dir }).map_err(|e| BlobError::Store(format!("spool folder: {e}")))
    }

    /// Copies a stored blob into a local file (for scanners that need to seek).
    pub async fn spool(&self, digest: &Digest, to: &FsPath) -> Result<u64, BlobError> {
        use tokio::io::AsyncWriteExt;
        let mut stream = self.get(digest).await?;
        let mut f = tokio::fs::File::create(to).await.map_err(|e| BlobError::Store(e.to_string()))?;
        let mut n = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk?;
            n += chunk.len() as u64;
            f.write_all(&chunk).await.map_err(|e| BlobError::Store(e.to_string()))?;
        }
        f.flush().await.map_err(|e| BlobError::Store(e.to_string()))?;
        Ok(n)
    }

    /// Uploads in progress or abandoned (not yet verified). Nothing here is ever served.
    pub async fn pending_uploads(&self) -> Result<usize, BlobError> {
        let mut n = 0;
        let mut list = self.store.list(Some(&Path::from("uploads")));
        while let Some(item) = list.next().await {
            item?;
            n += 1;
        }
        Ok(n)
    }
}

/// Hashes and counts an upload's chunks as they pass, refusing a broken body or one
/// over the limit.
struct Meter {
    hasher: Sha256,
    size: u64,
    max_bytes: u64,
}

impl Meter {
    fn new(max_bytes: u64) -> Self {
        Self { hasher: Sha256::new(), size: 0, max_bytes }
    }

    fn take<E: fmt::Display>(&mut self, chunk: Result<Bytes, E>) -> Result<Bytes, BlobError> {
        let chunk = chunk.map_err(|e| BlobError::Interrupted(e.to_string()))?;
        self.size = self.size.saturating_add(chunk.len() as u64);
        if self.size > self.max_bytes {
            return Err(BlobError::TooLarge(self.max_bytes));
        }
        self.hasher.update(&chunk);
        Ok(chunk)
    }

    fn finish(self) -> (Digest, u64) {
        (Digest(self.hasher.finalize().into()), self.size)
    }
}

type PartStream = futures_util::stream::BoxStream<'static, Result<Bytes, object_store::Error>>;

/// Opens one upload part for reading (a named function so the future is `'static`).
fn open_part(
    store: Arc<dyn ObjectStore>,
    path: Path,
) -> futures_util::future::BoxFuture<'static, Result<PartStream, object_store::Error>> {
    Box::pin(async move { store.get(&path).await.map(|r| r.into_stream()) })
}

#[cfg(test)]
mod tests;
