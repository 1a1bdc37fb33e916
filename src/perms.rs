//! File ownership for new stacks: who should own them and whether we may give them away.
//!
//! The check runs before anything is written, so a user who may not chown learns it up
//! front. The owner is applied by `files`, on each open descriptor as it is created: never by
//! path, so no symlink planted in between can redirect a chown.

use crate::error::{Error, Result};

/// A resolved owner.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Owner {
    pub uid: u32,
    pub gid: u32,
}

/// Look up `user` and `group` (names or numeric ids) and check that this process may give
/// files to them: root may give them to anyone; others only to themselves and to groups they
/// belong to.
pub fn resolve(user: &str, group: &str) -> Result<Owner> {
    let uid = match uzers::get_user_by_name(user) {
        Some(u) => u.uid(),
        None => user.parse().map_err(|_| {
            Error::invalid(
                "default user",
                format!("user `{user}` does not exist; set STACKWIZ_DEFAULT_USER"),
            )
        })?,
    };
    let gid = match uzers::get_group_by_name(group) {
        Some(g) => g.gid(),
        None => group.parse().map_err(|_| {
            Error::invalid(
                "default group",
                format!("group `{group}` does not exist; set STACKWIZ_DEFAULT_GROUP"),
            )
        })?,
    };
    let euid = uzers::get_effective_uid();
    if euid == 0 {
        return Ok(Owner { uid, gid });
    }
    let me = uzers::get_current_username()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if uid != euid {
        return Err(Error::Permission {
            message: format!(
                "stackwiz runs as `{me}` and may not give stack files to user `{user}`"
            ),
            hint: Some(format!("run as root, or set STACKWIZ_DEFAULT_USER={me}").into()),
        });
    }
    let in_group = gid == uzers::get_effective_gid()
        || uzers::group_access_list()
            .map(|gs| gs.iter().any(|g| g.gid() == gid))
            .unwrap_or(false);
    if !in_group {
        return Err(Error::Permission {
            message: format!(
                "`{me}` is not a member of group `{group}` and may not give stack files to it"
            ),
            hint: Some(
                "run as root, join the group, or set STACKWIZ_DEFAULT_GROUP to one of your groups"
                    .into(),
            ),
        });
    }
    Ok(Owner { uid, gid })
}
