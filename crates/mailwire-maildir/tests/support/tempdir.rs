//! A temporary directory that is removed when dropped (no `tempfile` dependency needed).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// A fresh directory under the system temp dir, mode 0755 (so that a daemon running as
/// `nobody` can reach files below it), removed with everything in it on drop.
pub(crate) struct TempDir(PathBuf);

impl TempDir {
    /// Creates `$TMPDIR/mailwire-<tag>-<pid>-<n>-<nanos>`.
    pub(crate) fn new(tag: &str) -> TempDir {
        Self::new_in(&std::env::temp_dir(), tag)
    }

    /// Creates a fresh directory inside `parent`.
    pub(crate) fn new_in(parent: &Path, tag: &str) -> TempDir {
        use std::os::unix::fs::PermissionsExt;
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let path = parent.join(format!(
            "mailwire-{tag}-{}-{}-{nanos}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&path).expect("create a temp dir");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
            .expect("chmod the temp dir");
        TempDir(path)
    }

    /// The directory.
    pub(crate) fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
