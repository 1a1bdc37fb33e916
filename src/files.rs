//! Files inside the base dir, reached only through directory handles.
//!
//! Anyone who may write in the base dir can plant a symlink or a FIFO where stackwiz is about
//! to look, or swap one in between two calls. So below the base dir nothing is reached by path:
//! folders are opened `O_DIRECTORY|O_NOFOLLOW` relative to their parent's handle, files are
//! created `O_CREAT|O_EXCL|O_NOFOLLOW` and get their mode and owner on the open descriptor,
//! files read back are opened `O_NOFOLLOW|O_NONBLOCK` and must be regular files, and folders
//! move with a no-replace rename between two handles. A symlink is refused with one line naming
//! its path. The base dir itself is the administrator's setting: a symlink in its own path is
//! followed, as any configured path is.

use std::io::{Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};

use rustix::fs::{AtFlags, FileType, Mode, OFlags, RenameFlags};
use rustix::io::Errno;

use crate::error::{Error, Result};
use crate::perms::Owner;

/// An open folder and the path it was opened at (for messages only).
#[derive(Debug)]
pub struct Dir {
    fd: OwnedFd,
    path: PathBuf,
}

/// The one-line error for a symlink where stackwiz wants a real file or folder.
pub fn symlink_error(path: &Path) -> Error {
    Error::other(format!(
        "{} is a symlink; stackwiz does not follow symlinks inside the base dir",
        path.display()
    ))
}

fn mode(bits: u32) -> Mode {
    Mode::from_raw_mode(bits)
}

impl Dir {
    /// Open a configured folder (the base dir), following symlinks in its own path.
    pub fn open(path: &Path) -> Result<Dir> {
        let fd = rustix::fs::open(
            path,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| Error::io("open folder", path, e.into()))?;
        Ok(Dir {
            fd,
            path: path.to_path_buf(),
        })
    }

    /// A second handle on the same folder.
    pub fn try_clone(&self) -> Result<Dir> {
        let fd = self
            .fd
            .try_clone()
            .map_err(|e| Error::io("open folder", &self.path, e))?;
        Ok(Dir {
            fd,
            path: self.path.clone(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn join(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// The folder `name` directly inside this one; a symlink there is refused.
    pub fn sub(&self, name: &str) -> Result<Dir> {
        let path = self.join(name);
        match rustix::fs::openat(
            &self.fd,
            name,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        ) {
            Ok(fd) => Ok(Dir { fd, path }),
            Err(Errno::LOOP) => Err(symlink_error(&path)),
            Err(Errno::NOTDIR) if self.is_symlink(name) => Err(symlink_error(&path)),
            Err(e) => Err(Error::io("open folder", path, e.into())),
        }
    }

    /// Create the folder `name` (it must not exist) with `bits` as its mode, and open it.
    pub fn create_dir(&self, name: &str, bits: u32) -> Result<Dir> {
        rustix::fs::mkdirat(&self.fd, name, mode(0o700))
            .map_err(|e| Error::io("create folder", self.join(name), e.into()))?;
        let dir = self.sub(name)?;
        dir.set_mode(bits)?;
        Ok(dir)
    }

    /// The folder `name`, created with mode `bits` if missing (then the flag is true); an
    /// existing one is kept as it is, but must be a real folder.
    pub fn ensure_dir(&self, name: &str, bits: u32) -> Result<(Dir, bool)> {
        let created = match rustix::fs::mkdirat(&self.fd, name, mode(bits)) {
            Ok(()) => true,
            Err(Errno::EXIST) => false,
            Err(e) => return Err(Error::io("create folder", self.join(name), e.into())),
        };
        Ok((self.sub(name)?, created))
    }

    /// Remove the empty folder `name`.
    pub fn remove_empty_dir(&self, name: &str) -> std::io::Result<()> {
        rustix::fs::unlinkat(&self.fd, name, AtFlags::REMOVEDIR).map_err(Into::into)
    }

    pub fn set_mode(&self, bits: u32) -> Result<()> {
        rustix::fs::fchmod(&self.fd, mode(bits))
            .map_err(|e| Error::io("set the mode of", &self.path, e.into()))
    }

    pub fn set_owner(&self, owner: Owner) -> Result<()> {
        set_owner(&self.fd, owner).map_err(|e| Error::io("set the owner of", &self.path, e))
    }

    /// Create the file `name` (it must not exist: `O_EXCL`, and never through a symlink),
    /// write `bytes`, then set mode and owner on the open descriptor.
    pub fn create_file(
        &self,
        name: &str,
        bytes: &[u8],
        bits: u32,
        owner: Option<Owner>,
    ) -> Result<()> {
        let path = self.join(name);
        let fd = rustix::fs::openat(
            &self.fd,
            name,
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            mode(0o600),
        )
        .map_err(|e| Error::io("create", &path, e.into()))?;
        let mut file = std::fs::File::from(fd);
        file.write_all(bytes)
            .and_then(|()| file.sync_all())
            .map_err(|e| Error::io("write", &path, e))?;
        if let Some(owner) = owner {
            set_owner(file.as_fd(), owner).map_err(|e| Error::io("set the owner of", &path, e))?;
        }
        // After the chown, which clears set-id bits: the mode asked for is the mode kept.
        rustix::fs::fchmod(&file, mode(bits))
            .map_err(|e| Error::io("set the mode of", &path, e.into()))
    }

    /// Read the regular file `name` as text. A symlink, a FIFO or a device is refused (and a
    /// FIFO never blocks the read).
    pub fn read_to_string(&self, name: &str) -> Result<String> {
        let path = self.join(name);
        let fd = match rustix::fs::openat(
            &self.fd,
            name,
            OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC,
            Mode::empty(),
        ) {
            Ok(fd) => fd,
            Err(Errno::LOOP) => return Err(symlink_error(&path)),
            Err(e) => return Err(Error::io("read", &path, e.into())),
        };
        let stat = rustix::fs::fstat(&fd).map_err(|e| Error::io("inspect", &path, e.into()))?;
        if FileType::from_raw_mode(stat.st_mode) != FileType::RegularFile {
            return Err(Error::other(format!(
                "{} is not a regular file; stackwiz reads only regular files inside the base dir",
                path.display()
            )));
        }
        let mut text = String::new();
        std::fs::File::from(fd)
            .read_to_string(&mut text)
            .map_err(|e| Error::io("read", &path, e))?;
        Ok(text)
    }

    /// The regular file at `rel` (a path below this folder, e.g. `app/docker-compose.yml`),
    /// or None when it is missing, not a regular file, or reached through a symlink at any
    /// step. One `openat2` with `RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS` checks the whole path
    /// (a scan of a thousand stacks is a thousand opens, not two thousand); kernels before
    /// 5.6 get the same answer folder by folder.
    pub fn read_beneath(&self, rel: &str) -> Option<String> {
        use rustix::fs::ResolveFlags;
        let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
        let resolve =
            ResolveFlags::BENEATH | ResolveFlags::NO_SYMLINKS | ResolveFlags::NO_MAGICLINKS;
        let fd = match rustix::fs::openat2(&self.fd, rel, flags, Mode::empty(), resolve) {
            Ok(fd) => fd,
            Err(Errno::NOSYS) => {
                let (folder, name) = rel.rsplit_once('/').unwrap_or((".", rel));
                return self.sub(folder).ok()?.read_to_string(name).ok();
            }
            Err(_) => return None,
        };
        let stat = rustix::fs::fstat(&fd).ok()?;
        if FileType::from_raw_mode(stat.st_mode) != FileType::RegularFile {
            return None;
        }
        // Sized from the fstat and read through `Take`, which std does not specialise: no
        // second stat and no seek to learn the size again.
        let mut bytes = Vec::with_capacity(usize::try_from(stat.st_size).unwrap_or(0) + 1);
        std::fs::File::from(fd)
            .take(u64::MAX)
            .read_to_end(&mut bytes)
            .ok()?;
        String::from_utf8(bytes).ok()
    }

    /// What `name` is, without following a symlink; None when nothing is there.
    pub fn kind(&self, name: &str) -> Result<Option<FileType>> {
        match rustix::fs::statat(&self.fd, name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(stat) => Ok(Some(FileType::from_raw_mode(stat.st_mode))),
            Err(Errno::NOENT) => Ok(None),
            Err(e) => Err(Error::io("inspect", self.join(name), e.into())),
        }
    }

    fn is_symlink(&self, name: &str) -> bool {
        matches!(self.kind(name), Ok(Some(FileType::Symlink)))
    }

    /// The device this folder lives on (a rename cannot cross devices).
    pub fn device(&self) -> Result<u64> {
        rustix::fs::fstat(&self.fd)
            .map(|s| s.st_dev)
            .map_err(|e| Error::io("inspect", &self.path, e.into()))
    }

    /// Whether `name` in this folder is the very folder `other` (same device and inode).
    pub fn holds(&self, name: &str, other: &Dir) -> bool {
        let (Ok(here), Ok(there)) = (
            rustix::fs::statat(&self.fd, name, AtFlags::SYMLINK_NOFOLLOW),
            rustix::fs::fstat(&other.fd),
        ) else {
            return false;
        };
        (here.st_dev, here.st_ino) == (there.st_dev, there.st_ino)
    }

    /// Whether this process may create and rename entries here (effective ids).
    pub fn writable(&self) -> bool {
        rustix::fs::accessat(
            &self.fd,
            ".",
            rustix::fs::Access::WRITE_OK | rustix::fs::Access::EXEC_OK,
            AtFlags::EACCESS,
        )
        .is_ok()
    }

    /// Whether the folder lies on a file system mounted read-only (no owner or mode helps).
    pub fn on_read_only_fs(&self) -> bool {
        rustix::fs::fstatvfs(&self.fd)
            .is_ok_and(|v| v.f_flag.contains(rustix::fs::StatVfsMountFlags::RDONLY))
    }

    /// The names of the entries, `.` and `..` left out; names that are not UTF-8 skipped.
    pub fn names(&self) -> Result<Vec<String>> {
        Ok(self.entries()?.into_iter().map(|(name, _)| name).collect())
    }

    /// The entries with their types as the folder lists them (`Unknown` where the file
    /// system does not say), `.` and `..` left out; names that are not UTF-8 skipped.
    pub fn entries(&self) -> Result<Vec<(String, FileType)>> {
        let dup = self
            .fd
            .try_clone()
            .map_err(|e| Error::io("read", &self.path, e))?;
        let mut dir =
            rustix::fs::Dir::new(dup).map_err(|e| Error::io("read", &self.path, e.into()))?;
        let mut names = Vec::new();
        while let Some(entry) = dir.read() {
            let entry = entry.map_err(|e| Error::io("read", &self.path, e.into()))?;
            if let Ok(name) = entry.file_name().to_str() {
                if name != "." && name != ".." {
                    names.push((name.to_string(), entry.file_type()));
                }
            }
        }
        Ok(names)
    }

    /// Remove the folder `name` and everything in it, never following a symlink (std's
    /// `remove_dir_all` works through directory handles and `O_NOFOLLOW` on Linux).
    pub fn remove_all(&self, name: &str) -> std::io::Result<()> {
        // Through /proc/self/fd, the handle's folder even if it was moved since.
        let here = PathBuf::from(format!(
            "/proc/self/fd/{}",
            std::os::fd::AsRawFd::as_raw_fd(&self.fd)
        ));
        let base = if here.exists() {
            here
        } else {
            self.path.clone()
        };
        std::fs::remove_dir_all(base.join(name))
    }
}

fn set_owner(fd: impl AsFd, owner: Owner) -> std::io::Result<()> {
    rustix::fs::fchown(
        fd,
        Some(rustix::fs::Uid::from_raw(owner.uid)),
        Some(rustix::fs::Gid::from_raw(owner.gid)),
    )
    .map_err(Into::into)
}

/// Why a no-replace rename failed.
#[derive(Debug)]
pub enum RenameError {
    /// Something (a folder, a file, a symlink) is already at the destination.
    Exists,
    Other(std::io::Error),
}

/// Move `from/from_name` to `to/to_name`, never replacing anything there
/// (`renameat2(RENAME_NOREPLACE)`). On a filesystem without it, the name is claimed with
/// `mkdirat` (atomic, fails if anything is there) and the folder's entries are moved in.
pub fn rename_noreplace(
    from: &Dir,
    from_name: &str,
    to: &Dir,
    to_name: &str,
) -> std::result::Result<(), RenameError> {
    match rustix::fs::renameat_with(&from.fd, from_name, &to.fd, to_name, RenameFlags::NOREPLACE) {
        Ok(()) => Ok(()),
        Err(Errno::EXIST | Errno::NOTEMPTY) => Err(RenameError::Exists),
        Err(Errno::INVAL | Errno::NOSYS) => move_entries(from, from_name, to, to_name),
        Err(e) => Err(RenameError::Other(e.into())),
    }
}

fn move_entries(
    from: &Dir,
    from_name: &str,
    to: &Dir,
    to_name: &str,
) -> std::result::Result<(), RenameError> {
    let other = |e: Error| RenameError::Other(std::io::Error::other(e.to_string()));
    let src = from.sub(from_name).map_err(other)?;
    let stat = rustix::fs::fstat(&src.fd).map_err(|e| RenameError::Other(e.into()))?;
    match rustix::fs::mkdirat(&to.fd, to_name, mode(0o700)) {
        Ok(()) => {}
        Err(Errno::EXIST) => return Err(RenameError::Exists),
        Err(e) => return Err(RenameError::Other(e.into())),
    }
    let moved = (|| -> std::io::Result<()> {
        let dest = to
            .sub(to_name)
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        for name in src
            .names()
            .map_err(|e| std::io::Error::other(e.to_string()))?
        {
            rustix::fs::renameat(&src.fd, name.as_str(), &dest.fd, name.as_str())?;
        }
        rustix::fs::fchown(
            &dest.fd,
            Some(rustix::fs::Uid::from_raw(stat.st_uid)),
            Some(rustix::fs::Gid::from_raw(stat.st_gid)),
        )?;
        rustix::fs::fchmod(&dest.fd, Mode::from_raw_mode(stat.st_mode & 0o7777))?;
        rustix::fs::unlinkat(&from.fd, from_name, AtFlags::REMOVEDIR)?;
        Ok(())
    })();
    moved.map_err(|e| {
        let _ = to.remove_all(to_name);
        RenameError::Other(e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    fn temp() -> (tempfile::TempDir, Dir) {
        let t = tempfile::tempdir().unwrap();
        let d = Dir::open(t.path()).unwrap();
        (t, d)
    }

    #[test]
    fn a_file_is_created_with_its_mode_and_never_through_a_symlink() {
        let (t, d) = temp();
        d.create_file("a", b"x", 0o640, None).unwrap();
        let meta = std::fs::metadata(t.path().join("a")).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o640);
        let victim = t.path().join("victim");
        std::fs::write(&victim, "keep").unwrap();
        std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o600)).unwrap();
        std::os::unix::fs::symlink(&victim, t.path().join("link")).unwrap();
        assert!(d.create_file("link", b"evil", 0o666, None).is_err());
        assert!(d.create_file("a", b"again", 0o600, None).is_err());
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
        assert_eq!(
            std::fs::metadata(&victim).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }

    #[test]
    fn symlinks_fifos_and_folders_are_not_read() {
        let (t, d) = temp();
        std::fs::write(t.path().join("secret"), "s").unwrap();
        std::os::unix::fs::symlink(t.path().join("secret"), t.path().join("link")).unwrap();
        let e = d.read_to_string("link").unwrap_err().to_string();
        assert_eq!(
            e,
            format!(
                "{} is a symlink; stackwiz does not follow symlinks inside the base dir",
                t.path().join("link").display()
            )
        );
        rustix::fs::mkfifoat(&d.fd, "fifo", mode(0o600)).unwrap();
        let e = d.read_to_string("fifo").unwrap_err().to_string();
        assert!(e.contains("is not a regular file"), "{e}");
        std::fs::create_dir(t.path().join("sub")).unwrap();
        assert!(d.read_to_string("sub").is_err());
        assert_eq!(d.read_to_string("secret").unwrap(), "s");
    }

    #[test]
    fn a_symlinked_folder_is_not_opened() {
        let (t, d) = temp();
        let outside = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path(), t.path().join("link")).unwrap();
        let e = d.sub("link").unwrap_err().to_string();
        assert!(e.ends_with("is a symlink; stackwiz does not follow symlinks inside the base dir"));
        let e = d.ensure_dir("link", 0o700).unwrap_err().to_string();
        assert!(e.contains("is a symlink"), "{e}");
        assert_ne!(
            std::fs::metadata(outside.path()).unwrap().mode() & 0o777,
            0o700
        );
    }

    #[test]
    fn a_rename_never_replaces() {
        let (t, d) = temp();
        d.create_dir("a", 0o750).unwrap();
        d.create_dir("b", 0o750).unwrap();
        assert!(matches!(
            rename_noreplace(&d, "a", &d, "b"),
            Err(RenameError::Exists)
        ));
        rename_noreplace(&d, "a", &d, "c").unwrap();
        assert!(t.path().join("c").is_dir());
        // The fallback for filesystems without RENAME_NOREPLACE.
        d.sub("c")
            .unwrap()
            .create_file("f", b"1", 0o600, None)
            .unwrap();
        move_entries(&d, "c", &d, "e").unwrap();
        assert_eq!(std::fs::read_to_string(t.path().join("e/f")).unwrap(), "1");
        assert!(!t.path().join("c").exists());
        assert!(matches!(
            move_entries(&d, "e", &d, "b"),
            Err(RenameError::Exists)
        ));
    }
}
