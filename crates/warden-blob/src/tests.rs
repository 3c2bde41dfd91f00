use futures_util::stream;

use super::*;

fn chunks(data: &[u8], size: usize) -> impl Stream<Item = Result<Bytes, std::io::Error>> + Unpin {
    let v: Vec<Result<Bytes, std::io::Error>> = data.chunks(size).map(|c| Ok(Bytes::copy_from_slice(c))).collect();
    stream::iter(v)
}

fn sha(data: &[u8]) -> Digest {
    Digest(Sha256::digest(data).into())
}

async fn collect(s: &BlobStore, d: &Digest) -> Vec<u8> {
    let mut out = Vec::new();
    let mut st = s.get(d).await.unwrap();
    while let Some(c) = st.next().await {
        out.extend_from_slice(&c.unwrap());
    }
    out
}

#[tokio::test]
async fn stores_by_digest_and_deduplicates() {
    let dir = tempfile::tempdir().unwrap();
    let s = BlobStore::local(dir.path()).unwrap();
    let data: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    let d = sha(&data);
    let stored = s.put(Some(d), u64::MAX, chunks(&data, 65536)).await.unwrap();
    assert_eq!(stored, Stored { digest: d, size: data.len() as u64, created: true });
    assert_eq!(collect(&s, &d).await, data);
    assert_eq!(s.size(&d).await.unwrap(), Some(data.len() as u64));
    let again = s.put(None, u64::MAX, chunks(&data, 1000)).await.unwrap();
    assert!(!again.created, "same content is stored once");
    assert_eq!(s.pending_uploads().await.unwrap(), 0);
    assert!(dir.path().join("sha256").join(d.hex()).is_file());
}

#[tokio::test]
async fn a_wrong_digest_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let s = BlobStore::local(dir.path()).unwrap();
    let declared = sha(b"what the client said");
    let err = s.put(Some(declared), u64::MAX, chunks(b"what arrived", 4)).await.unwrap_err();
    assert!(matches!(err, BlobError::DigestMismatch { .. }), "{err}");
    assert_eq!(s.size(&sha(b"what arrived")).await.unwrap(), None);
    assert_eq!(s.pending_uploads().await.unwrap(), 0);
}

#[tokio::test]
async fn interrupted_and_oversize_uploads_leave_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let s = BlobStore::local(dir.path()).unwrap();
    let broken = stream::iter(vec![
        Ok(Bytes::from_static(b"first part")),
        Err(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "client went away")),
    ]);
    let err = s.put(None, u64::MAX, broken).await.unwrap_err();
    assert!(matches!(err, BlobError::Interrupted(_)), "{err}");
    let err = s.put(None, 10, chunks(&[0u8; 100], 7)).await.unwrap_err();
    assert!(matches!(err, BlobError::TooLarge(10)));
    assert_eq!(s.pending_uploads().await.unwrap(), 0);
    let visible: Vec<_> = walk(dir.path());
    assert!(visible.is_empty(), "nothing visible: {visible:?}");
}

fn walk(p: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(p).unwrap() {
        let path = e.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn digests_parse_strictly() {
    let d = sha(b"x");
    assert_eq!(Digest::parse(&d.to_string()).unwrap(), d);
    for bad in ["sha256:", "md5:abc", "sha256:XYZ", &d.to_string().to_uppercase(), &format!("{}0", d)] {
        assert!(Digest::parse(bad).is_err(), "{bad}");
    }
}

/// Against an S3-compatible server: `WARDEN_TEST_S3_URL` names a bucket there
/// (`.ci/run` starts moto and sets `AWS_ENDPOINT`, `AWS_ALLOW_HTTP` and credentials).
#[tokio::test]
#[ignore = "needs WARDEN_TEST_S3_URL (s3://bucket/prefix on an S3-compatible server); .ci/run sets it and runs ignored tests"]
async fn s3_backend_by_url() {
    let url = std::env::var("WARDEN_TEST_S3_URL")
        .expect("WARDEN_TEST_S3_URL must name a bucket on an S3-compatible server for this test");
    backend_by_url(&url).await;
}

/// Against Azure Blob Storage's emulator: `WARDEN_TEST_AZURE_URL` names a container
/// there (`.ci/run` starts Azurite and sets `AZURE_STORAGE_USE_EMULATOR` and
/// `AZURITE_BLOB_STORAGE_URL`).
#[tokio::test]
#[ignore = "needs WARDEN_TEST_AZURE_URL (az://container/prefix on Azurite or Azure); .ci/run sets it and runs ignored tests"]
async fn azure_backend_by_url() {
    let url = std::env::var("WARDEN_TEST_AZURE_URL")
        .expect("WARDEN_TEST_AZURE_URL must name an Azure Blob container (Azurite) for this test");
    backend_by_url(&url).await;
}

async fn backend_by_url(url: &str) {
    let s = BlobStore::from_url(&format!("{url}/{}", ulid::Ulid::new())).unwrap();
    // Larger than one multipart part, so the upload really is multipart.
    let data: Vec<u8> = (0..(CHUNK as u32 + 3_000_000)).map(|i| (i % 253) as u8).collect();
    let d = sha(&data);
    let stored = s.put(Some(d), u64::MAX, chunks(&data, 1 << 20)).await.unwrap();
    assert!(stored.created);
    assert_eq!(collect(&s, &d).await, data);
    assert!(!s.put(Some(d), u64::MAX, chunks(&data, 1 << 20)).await.unwrap().created, "deduplicated");
    let err = s.put(Some(sha(b"declared")), u64::MAX, chunks(b"actual", 3)).await.unwrap_err();
    assert!(matches!(err, BlobError::DigestMismatch { .. }));
    assert_eq!(s.size(&sha(b"actual")).await.unwrap(), None);
    assert_eq!(s.pending_uploads().await.unwrap(), 0, "nothing left under uploads/");
    // Chunked uploads: parts as objects, assembled through verification.
    let (a, _) = s.put_part("upl_backend", 0, u64::MAX, chunks(&data[..1000], 100)).await.unwrap();
    let (b, _) = s.put_part("upl_backend", 1000, u64::MAX, chunks(&data[1000..5000], 1000)).await.unwrap();
    let parts = vec![a, b];
    let stored = s.assemble(sha(&data[..5000]), u64::MAX, &parts).await.unwrap();
    assert_eq!(stored.size, 5000);
    assert_eq!(collect(&s, &sha(&data[..5000])).await, data[..5000].to_vec());
    s.delete_parts(&parts).await;
    assert_eq!(s.pending_uploads().await.unwrap(), 0);
}

#[test]
fn urls_pick_a_backend() {
    let dir = tempfile::tempdir().unwrap();
    assert!(BlobStore::from_url(&format!("file://{}", dir.path().display())).is_ok());
    assert!(BlobStore::from_url("ftp://example.test/x").is_err());
    assert!(BlobStore::from_url("not a url").is_err());
}

/// The object-store path (multipart upload, verify, publish) that S3 and Azure take,
/// over `object_store`'s in-memory backend; local folders take their own writer.
#[tokio::test]
async fn object_store_path_verifies_before_publishing() {
    let s = BlobStore::new(Arc::new(object_store::memory::InMemory::new()));
    let data: Vec<u8> = (0..(CHUNK as u32 + 1_000_000)).map(|i| (i % 241) as u8).collect();
    let d = sha(&data);
    let stored = s.put(Some(d), u64::MAX, chunks(&data, 1 << 20)).await.unwrap();
    assert_eq!(stored, Stored { digest: d, size: data.len() as u64, created: true });
    assert_eq!(collect(&s, &d).await, data);
    assert!(!s.put(None, u64::MAX, chunks(&data, 1 << 19)).await.unwrap().created, "deduplicated");
    let err = s.put(Some(sha(b"declared")), u64::MAX, chunks(b"actual", 3)).await.unwrap_err();
    assert!(matches!(err, BlobError::DigestMismatch { .. }), "{err}");
    assert_eq!(s.size(&sha(b"actual")).await.unwrap(), None);
    let err = s.put(None, 10, chunks(&[0u8; 100], 7)).await.unwrap_err();
    assert!(matches!(err, BlobError::TooLarge(10)));
    assert_eq!(s.pending_uploads().await.unwrap(), 0, "nothing left under uploads/");
}

/// Parts stored one by one become one blob only when the whole content matches the
/// declared digest, on a local folder and on an object store alike.
#[tokio::test]
async fn parts_assemble_into_a_verified_blob() {
    let dir = tempfile::tempdir().unwrap();
    for s in [BlobStore::local(dir.path()).unwrap(), BlobStore::new(Arc::new(object_store::memory::InMemory::new()))] {
        let data: Vec<u8> = (0..2_500_000u32).map(|i| (i % 239) as u8).collect();
        let mut parts = Vec::new();
        for (i, piece) in data.chunks(1_000_000).enumerate() {
            let (object, size) =
                s.put_part("upl_test", (i * 1_000_000) as u64, u64::MAX, chunks(piece, 65536)).await.unwrap();
            assert_eq!(size, piece.len() as u64);
            parts.push(object);
        }
        assert_eq!(s.size(&sha(&data)).await.unwrap(), None, "parts are not blobs");
        let err = s.assemble(sha(b"something else"), u64::MAX, &parts).await.unwrap_err();
        assert!(matches!(err, BlobError::DigestMismatch { .. }), "{err}");
        assert_eq!(s.size(&sha(&data)).await.unwrap(), None);
        let err = s.assemble(sha(&data), 1000, &parts).await.unwrap_err();
        assert!(matches!(err, BlobError::TooLarge(1000)), "{err}");
        let stored = s.assemble(sha(&data), u64::MAX, &parts).await.unwrap();
        assert_eq!((stored.digest, stored.size), (sha(&data), data.len() as u64));
        assert_eq!(collect(&s, &sha(&data)).await, data);
        s.delete_parts(&parts).await;
        assert_eq!(s.pending_uploads().await.unwrap(), 0);
        // A broken part body leaves nothing behind.
        let broken = stream::iter(vec![Ok(Bytes::from_static(b"abc")), Err(std::io::Error::other("gone"))]);
        assert!(s.put_part("upl_test", 0, u64::MAX, broken).await.is_err());
        assert_eq!(s.pending_uploads().await.unwrap(), 0);
        assert!(s.put_part("../etc", 0, u64::MAX, chunks(b"x", 1)).await.is_err(), "upload ids are plain");
        assert!(s.assemble(sha(b"x"), 10, &["sha256/abc".to_string()]).await.is_err(), "only parts");
    }
}
