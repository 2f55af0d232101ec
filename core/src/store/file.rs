//! [`FileStore`]: one JSON file per connection in a directory, safe to share between processes.
//!
//! - File names are `conn-<hex SHA-256 of the key>.json`, so any account id / owner (slashes,
//!   dots, unicode) maps to a safe, fixed-length name. The document inside names its key, and a
//!   mismatch is a `Store` error.
//! - Writes go to a temporary file in the same directory, are fsynced, then renamed over the
//!   target (atomic replace) and the directory is fsynced: a reader never sees half a document.
//! - Files are created with mode 0600; a directory the store creates gets 0700 (Unix). An
//!   existing directory is never chmod-ed.
//! - Compare-and-swap holds an exclusive advisory lock (`flock(2)`) on `conn-<hash>.lock` around
//!   read-compare-write, so concurrent `save`s from several processes (or several `FileStore`
//!   instances) on one directory are serialised. Lock files are never removed (removing one while
//!   another process holds it would let a third process lock a new inode).
//!
//! All file I/O runs on tokio's blocking pool.

use std::fs::{File, OpenOptions};
use std::io::{ErrorKind as IoKind, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use futures_util::future::BoxFuture;
use rand::RngCore;
use sha2::{Digest, Sha256};

use super::{ConnectionDocument, ConnectionKey, SaveOutcome, TokenStore};
use crate::error::Error;

/// A directory of connection documents. See the module docs.
#[derive(Debug, Clone)]
pub struct FileStore {
    dir: Arc<PathBuf>,
}

impl FileStore {
    /// Uses `dir`, creating it (and any missing parents) with mode 0700 when it does not exist.
    /// An existing directory keeps its permissions (the store never chmods a directory it did not
    /// create, such as `/tmp` or a home directory); the documents inside are 0600 either way.
    /// Errors: `Store` when it cannot be created or is not a directory.
    pub fn new(dir: impl AsRef<Path>) -> Result<FileStore, Error> {
        let dir = dir.as_ref().to_path_buf();
        if !dir.exists() {
            let mut builder = std::fs::DirBuilder::new();
            builder.recursive(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::DirBuilderExt;
                builder.mode(0o700);
            }
            builder.create(&dir).map_err(|e| {
                Error::store(format!(
                    "cannot create the token directory {}: {e}",
                    dir.display()
                ))
            })?;
        }
        let meta = std::fs::metadata(&dir).map_err(|e| {
            Error::store(format!(
                "cannot read the token directory {}: {e}",
                dir.display()
            ))
        })?;
        if !meta.is_dir() {
            return Err(Error::store(format!(
                "{} is not a directory",
                dir.display()
            )));
        }
        Ok(FileStore { dir: Arc::new(dir) })
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The document path of `key` (`conn-<sha256 hex>.json`).
    pub fn path_for(&self, key: &ConnectionKey) -> PathBuf {
        self.dir.join(format!("conn-{}.json", key_hash(key)))
    }

    fn lock_path(&self, key: &ConnectionKey) -> PathBuf {
        self.dir.join(format!("conn-{}.lock", key_hash(key)))
    }
}

fn key_hash(key: &ConnectionKey) -> String {
    let mut h = Sha256::new();
    // Length-prefixed so ("a/b","c") and ("a","b/c") never collide.
    h.update((key.account_id.len() as u64).to_be_bytes());
    h.update(key.account_id.as_bytes());
    h.update((key.owner.len() as u64).to_be_bytes());
    h.update(key.owner.as_bytes());
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

fn open_private(path: &Path, create_new: bool) -> std::io::Result<File> {
    let mut o = OpenOptions::new();
    o.read(true).write(true);
    if create_new {
        o.create_new(true);
    } else {
        o.create(true);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    o.open(path)
}

/// An exclusive `flock(2)` held until drop.
struct FileLock {
    file: File,
}

impl FileLock {
    fn acquire(path: &Path) -> std::io::Result<FileLock> {
        let file = open_private(path, false)?;
        #[cfg(unix)]
        {
            use std::os::fd::AsRawFd;
            loop {
                // SAFETY: flock on a file descriptor we own for the lifetime of `file`.
                let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) };
                if rc == 0 {
                    break;
                }
                let err = std::io::Error::last_os_error();
                if err.kind() != IoKind::Interrupted {
                    return Err(err);
                }
            }
        }
        Ok(FileLock { file })
    }
}

impl Drop for FileLock {
    fn drop(&mut self) {
        #[cfg(unix)]
        {
            use std::os::fd::AsRawFd;
            // SAFETY: unlocking our own descriptor; closing it would release the lock anyway.
            unsafe {
                libc::flock(self.file.as_raw_fd(), libc::LOCK_UN);
            }
        }
    }
}

fn read_doc(path: &Path, key: &ConnectionKey) -> Result<Option<ConnectionDocument>, Error> {
    let mut f = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == IoKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::store(format!("cannot read {}: {e}", path.display()))),
    };
    let mut text = String::new();
    f.read_to_string(&mut text)
        .map_err(|e| Error::store(format!("cannot read {}: {e}", path.display())))?;
    let doc = ConnectionDocument::from_json(&text)?;
    if doc.account_id != key.account_id || doc.owner != key.owner {
        return Err(Error::store(format!(
            "{} holds another connection's document",
            path.display()
        )));
    }
    Ok(Some(doc))
}

fn sync_dir(dir: &Path) {
    // Makes the rename durable; not supported everywhere, and the data is already fsynced.
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

fn write_atomic(dir: &Path, path: &Path, text: &str) -> Result<(), Error> {
    let mut rnd = [0u8; 8];
    rand::rng().fill_bytes(&mut rnd);
    let tmp = dir.join(format!(
        ".tmp-{}",
        rnd.iter().map(|b| format!("{b:02x}")).collect::<String>()
    ));
    let res = (|| -> std::io::Result<()> {
        let mut f = open_private(&tmp, true)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)?;
        Ok(())
    })();
    if let Err(e) = res {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::store(format!(
            "cannot write {}: {e}",
            path.display()
        )));
    }
    sync_dir(dir);
    Ok(())
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, Error> + Send + 'static,
) -> Result<T, Error> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::store(format!("file store task failed: {e}")))?
}

impl TokenStore for FileStore {
    fn load<'a>(
        &'a self,
        key: &'a ConnectionKey,
    ) -> BoxFuture<'a, Result<Option<ConnectionDocument>, Error>> {
        let path = self.path_for(key);
        let key = key.clone();
        Box::pin(blocking(move || read_doc(&path, &key)))
    }

    fn save<'a>(
        &'a self,
        doc: &'a ConnectionDocument,
        expected_version: Option<u64>,
    ) -> BoxFuture<'a, Result<SaveOutcome, Error>> {
        let key = doc.key();
        let path = self.path_for(&key);
        let lock = self.lock_path(&key);
        let dir = self.dir.clone();
        let text = doc.to_json();
        Box::pin(blocking(move || {
            let _guard = FileLock::acquire(&lock)
                .map_err(|e| Error::store(format!("cannot lock {}: {e}", lock.display())))?;
            let current = read_doc(&path, &key)?.map(|d| d.version);
            if current != expected_version {
                return Ok(SaveOutcome::Conflict);
            }
            write_atomic(&dir, &path, &text)?;
            Ok(SaveOutcome::Saved)
        }))
    }

    fn delete<'a>(&'a self, key: &'a ConnectionKey) -> BoxFuture<'a, Result<bool, Error>> {
        let path = self.path_for(key);
        let lock = self.lock_path(key);
        let dir = self.dir.clone();
        Box::pin(blocking(move || {
            let _guard = FileLock::acquire(&lock)
                .map_err(|e| Error::store(format!("cannot lock {}: {e}", lock.display())))?;
            match std::fs::remove_file(&path) {
                Ok(()) => {
                    sync_dir(&dir);
                    Ok(true)
                }
                Err(e) if e.kind() == IoKind::NotFound => Ok(false),
                Err(e) => Err(Error::store(format!(
                    "cannot delete {}: {e}",
                    path.display()
                ))),
            }
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_doc;

    #[tokio::test]
    async fn cas_permissions_and_safe_names() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("tokens");
        let s = FileStore::new(&dir).unwrap();
        let mut d = test_doc("../../etc/passwd", "ü/ser\0x", 1);
        assert_eq!(s.save(&d, Some(0)).await.unwrap(), SaveOutcome::Conflict);
        assert_eq!(s.save(&d, None).await.unwrap(), SaveOutcome::Saved);
        assert_eq!(s.save(&d, None).await.unwrap(), SaveOutcome::Conflict);
        let p = s.path_for(&d.key());
        assert_eq!(p.parent().unwrap(), dir);
        let name = p.file_name().unwrap().to_str().unwrap().to_owned();
        assert!(name.starts_with("conn-") && name.ends_with(".json") && name.len() == 5 + 64 + 5);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
                0o600
            );
            assert_eq!(
                std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
                0o700
            );
        }
        d.version = 2;
        assert_eq!(s.save(&d, Some(1)).await.unwrap(), SaveOutcome::Saved);
        let back = s.load(&d.key()).await.unwrap().unwrap();
        assert_eq!(back, d);
        // No temp files left behind.
        let leftovers: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().starts_with(".tmp-"))
            .collect();
        assert!(leftovers.is_empty());
        assert!(s.delete(&d.key()).await.unwrap());
        assert!(!s.delete(&d.key()).await.unwrap());
        assert!(s.load(&d.key()).await.unwrap().is_none());
    }

    #[cfg(unix)]
    #[test]
    fn an_existing_directory_keeps_its_mode_and_a_new_one_is_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let shared = tmp.path().join("shared");
        std::fs::create_dir(&shared).unwrap();
        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o755)).unwrap();
        FileStore::new(&shared).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&shared), 0o755, "an existing directory (think /tmp) is not chmod-ed");
        let nested = shared.join("a").join("tokens");
        FileStore::new(&nested).unwrap();
        assert_eq!(mode(&nested), 0o700);
        assert_eq!(mode(&shared.join("a")), 0o700);
        let file = tmp.path().join("file");
        std::fs::write(&file, "x").unwrap();
        assert_eq!(FileStore::new(&file).unwrap_err().kind(), crate::ErrorKind::Store);
    }

    #[tokio::test]
    async fn garbage_and_foreign_documents_are_store_errors() {
        let tmp = tempfile::tempdir().unwrap();
        let s = FileStore::new(tmp.path()).unwrap();
        let d = test_doc("a", "u", 1);
        std::fs::write(s.path_for(&d.key()), "{not json").unwrap();
        assert_eq!(
            s.load(&d.key()).await.unwrap_err().kind(),
            crate::ErrorKind::Store
        );
        let other = test_doc("b", "u", 1);
        std::fs::write(s.path_for(&d.key()), other.to_json()).unwrap();
        assert_eq!(
            s.load(&d.key()).await.unwrap_err().kind(),
            crate::ErrorKind::Store
        );
    }
}
