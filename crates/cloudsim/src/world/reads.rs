//! Looking things up: items, drives, accounts, paths, name rules.

use super::*;

impl World {
    // ----- reads -------------------------------------------------------

    /// The item with `id`, tombstones included.
    pub fn item(&self, id: &str) -> Option<&Item> {
        self.items.get(id)
    }

    /// The live (not deleted) children of folder `id`, trashed ones included,
    /// in creation order.
    pub fn children(&self, id: &str) -> &[ItemId] {
        self.children.get(id).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The drive with `id`.
    pub fn drive(&self, id: &str) -> Option<&Drive> {
        self.drives.get(id)
    }

    /// The account with `id`.
    pub fn account(&self, id: &str) -> Option<&Account> {
        self.accounts.get(id)
    }

    /// The site with `id`.
    pub fn site(&self, id: &str) -> Option<&Site> {
        self.sites.get(id)
    }

    /// The document libraries of site `site_id`, the default one first.
    pub fn site_libraries(&self, site_id: &str) -> Vec<&Drive> {
        let default = self.sites.get(site_id).map(|s| s.drive_id.as_str());
        let mut libraries: Vec<&Drive> = self
            .drives
            .values()
            .filter(|d| matches!(&d.kind, DriveKind::SharePoint { site_id: s } if s == site_id))
            .collect();
        libraries.sort_by_key(|d| (Some(d.id.as_str()) != default, d.created, d.id.clone()));
        libraries
    }

    /// Accounts of `provider`, oldest first (the first is the default).
    pub fn accounts_of(&self, provider: Provider) -> Vec<&Account> {
        let mut v: Vec<&Account> = self
            .accounts
            .values()
            .filter(|a| a.provider == provider)
            .collect();
        v.sort_by_key(|a| (a.created, a.id.clone()));
        v
    }

    /// The account of `provider` with this email (case-insensitive).
    pub fn account_by_email(&self, provider: Provider, email: &str) -> Option<&Account> {
        self.accounts
            .values()
            .find(|a| a.provider == provider && a.email.eq_ignore_ascii_case(email))
    }

    /// Drives `account` may read: its own and those it is a member of.
    pub fn drives_of(&self, account: &str) -> Vec<&Drive> {
        self.drives
            .values()
            .filter(|d| d.members.iter().any(|m| m == account))
            .collect()
    }

    /// True when `account` may read `drive`.
    pub fn can_access(&self, account: &str, drive: &str) -> bool {
        self.drives
            .get(drive)
            .is_some_and(|d| d.members.iter().any(|m| m == account))
    }

    /// Resolves a control-API drive reference: an account id (its own
    /// drive), a drive id, or a site id (its library), of `provider`.
    pub fn resolve_drive(
        &self,
        provider: Provider,
        reference: &str,
    ) -> Result<DriveId, WorldError> {
        let id = if let Some(account) = self.accounts.get(reference) {
            Some(account.drive_id.clone())
        } else if self.drives.contains_key(reference) {
            Some(reference.to_string())
        } else {
            self.sites.get(reference).map(|s| s.drive_id.clone())
        };
        match id.and_then(|id| self.drives.get(&id)) {
            Some(d) if d.provider == provider => Ok(d.id.clone()),
            Some(_) => Err(WorldError::BadRequest(format!(
                "drive '{reference}' does not belong to {provider}"
            ))),
            None => Err(WorldError::NotFound(format!("no drive '{reference}'"))),
        }
    }

    /// The first live child of `parent` named `name`.
    /// Names compare exactly on Google Drive and case-insensitively on
    /// OneDrive/SharePoint and Dropbox.
    pub fn same_name(provider: Provider, a: &str, b: &str) -> bool {
        match provider {
            Provider::Google => a == b,
            _ => a == b || a.to_lowercase() == b.to_lowercase(),
        }
    }

    /// Checks a name against the provider's rules: Drive takes any
    /// non-empty name (`/`, `..` included); OneDrive/SharePoint refuse
    /// `" * : < > ? / \ |`, `.`, `..` and a trailing dot or space; Dropbox
    /// refuses `/`, `.`, `..` and a trailing space.
    pub fn check_name(provider: Provider, name: &str) -> Result<(), WorldError> {
        let bad = match provider {
            Provider::Google => name.is_empty(),
            Provider::Microsoft => {
                name.is_empty()
                    || name == "."
                    || name == ".."
                    || name.ends_with('.')
                    || name.ends_with(' ')
                    || name.contains(['"', '*', ':', '<', '>', '?', '/', '\\', '|'])
            }
            Provider::Dropbox => {
                name.is_empty()
                    || name == "."
                    || name == ".."
                    || name.ends_with(' ')
                    || name.contains('/')
            }
        };
        if bad {
            return Err(WorldError::BadRequest(format!(
                "'{name}' is not a valid {provider} item name"
            )));
        }
        Ok(())
    }

    pub(super) fn provider_of_item(&self, id: &str) -> Provider {
        self.items
            .get(id)
            .and_then(|i| self.drives.get(&i.drive_id))
            .map(|d| d.provider)
            .unwrap_or(Provider::Google)
    }

    /// The first live, untrashed child of `parent` named `name` (see [`World::same_name`]).
    pub fn child_named(&self, parent: &str, name: &str) -> Option<&Item> {
        let provider = self.provider_of_item(parent);
        self.children(parent)
            .iter()
            .filter_map(|id| self.items.get(id))
            .find(|i| !i.trashed && World::same_name(provider, &i.name, name))
    }

    /// The item at `path` (segments separated by `/`) below the drive root.
    /// An empty path is the root. Dropbox-style case-insensitive matching
    /// is applied for Dropbox drives.
    pub fn resolve_path(&self, drive: &str, path: &str) -> Option<&Item> {
        let drive = self.drives.get(drive)?;
        let mut current = self.items.get(&drive.root_id)?;
        for segment in split_path(path) {
            current = self.child_named(&current.id, segment)?;
        }
        Some(current)
    }

    /// The `/`-joined names from the drive root to `id` (root is `""`,
    /// a child of root is `/name`).
    pub fn path_of(&self, id: &str) -> String {
        let mut names = Vec::new();
        let mut current = self.items.get(id);
        while let Some(item) = current {
            let Some(parent) = &item.parent_id else { break };
            names.push(item.name.as_str());
            current = self.items.get(parent);
        }
        names.reverse();
        let mut out = String::new();
        for n in names {
            out.push('/');
            out.push_str(n);
        }
        out
    }

    /// A handle on the bytes of `item`, usable without the world lock.
    pub fn source(&self, item: &Item) -> ContentSource {
        self.blobs.source(&item.content)
    }

    /// True when `id` is `ancestor` or lies below it.
    pub fn is_within(&self, id: &str, ancestor: &str) -> bool {
        let mut current = Some(id.to_string());
        while let Some(c) = current {
            if c == ancestor {
                return true;
            }
            current = self.items.get(&c).and_then(|i| i.parent_id.clone());
        }
        false
    }
}
