//! Accounts, drives and SharePoint sites.

use super::*;

impl World {
    // ----- accounts, drives, sites ------------------------------------

    /// Adds an account with its own drive. Returns (account id, drive id).
    pub fn add_account(
        &mut self,
        provider: Provider,
        email: &str,
        display_name: &str,
    ) -> Result<(AccountId, DriveId), WorldError> {
        if self.account_by_email(provider, email).is_some() {
            return Err(WorldError::Conflict(format!(
                "{provider} account '{email}' exists"
            )));
        }
        let account_id = self.new_id(provider, IdKind::Account);
        let drive_id = self.add_drive(
            provider,
            DriveKind::Personal {
                owner: account_id.clone(),
            },
            if provider == Provider::Microsoft {
                "OneDrive"
            } else {
                "My Drive"
            },
            vec![account_id.clone()],
        );
        self.accounts.insert(
            account_id.clone(),
            Account {
                id: account_id.clone(),
                provider,
                email: email.to_string(),
                display_name: display_name.to_string(),
                drive_id: drive_id.clone(),
                created: Utc::now(),
            },
        );
        Ok((account_id, drive_id))
    }

    /// Adds a drive with an empty root folder. For Google the drive id is the
    /// root folder's id, as in Drive.
    fn add_drive(
        &mut self,
        provider: Provider,
        kind: DriveKind,
        name: &str,
        members: Vec<AccountId>,
    ) -> DriveId {
        let root_id = self.new_id(provider, IdKind::Item);
        let drive_id = if provider == Provider::Google {
            root_id.clone()
        } else {
            self.new_id(provider, IdKind::Drive)
        };
        let now = Utc::now();
        let folder_mime = folder_mime(provider);
        self.items.insert(
            root_id.clone(),
            Item {
                id: root_id.clone(),
                drive_id: drive_id.clone(),
                parent_id: None,
                name: if provider == Provider::Google {
                    name.to_string()
                } else {
                    "root".to_string()
                },
                kind: ItemKind::Folder,
                mime_type: folder_mime.to_string(),
                content: Content::Empty,
                created: now,
                modified: now,
                version: 1,
                content_version: 1,
                trashed: false,
                explicitly_trashed: false,
                trashed_time: None,
                deleted: false,
                change_seq: 0,
                placed: 0,
                hashes: BTreeMap::new(),
            },
        );
        self.drives.insert(
            drive_id.clone(),
            Drive {
                id: drive_id.clone(),
                provider,
                kind,
                name: name.to_string(),
                members,
                root_id,
                created: now,
                cursor_floor: 0,
                changes: Vec::new(),
                onedrive_personal: false,
            },
        );
        drive_id
    }

    /// Makes a Microsoft account's own drive a personal (consumer)
    /// OneDrive. Only at creation: the control API's `driveType`.
    pub fn make_onedrive_personal(&mut self, drive: &str) -> Result<(), WorldError> {
        match self.drives.get_mut(drive) {
            Some(d)
                if d.provider == Provider::Microsoft
                    && matches!(d.kind, DriveKind::Personal { .. }) =>
            {
                d.onedrive_personal = true;
                Ok(())
            }
            _ => Err(WorldError::BadRequest(format!(
                "'{drive}' is not a Microsoft account's own drive"
            ))),
        }
    }

    fn check_members(&self, provider: Provider, members: &[AccountId]) -> Result<(), WorldError> {
        for m in members {
            match self.accounts.get(m) {
                Some(a) if a.provider == provider => {}
                _ => {
                    return Err(WorldError::BadRequest(format!(
                        "member '{m}' is not a {provider} account"
                    )));
                }
            }
        }
        Ok(())
    }

    /// Adds a Google shared drive visible to `members`.
    pub fn add_shared_drive(
        &mut self,
        name: &str,
        members: Vec<AccountId>,
    ) -> Result<DriveId, WorldError> {
        self.check_members(Provider::Google, &members)?;
        Ok(self.add_drive(Provider::Google, DriveKind::SharedDrive, name, members))
    }

    /// Adds a SharePoint site with one document library visible to `members`.
    /// Returns (site id, drive id).
    pub fn add_site(
        &mut self,
        name: &str,
        members: Vec<AccountId>,
    ) -> Result<(SiteId, DriveId), WorldError> {
        self.check_members(Provider::Microsoft, &members)?;
        let site_id = self.new_id(Provider::Microsoft, IdKind::Site);
        let drive_id = self.add_drive(
            Provider::Microsoft,
            DriveKind::SharePoint {
                site_id: site_id.clone(),
            },
            "Documents",
            members.clone(),
        );
        self.sites.insert(
            site_id.clone(),
            Site {
                id: site_id.clone(),
                name: name.to_string(),
                drive_id: drive_id.clone(),
                members,
                created: Utc::now(),
            },
        );
        Ok((site_id, drive_id))
    }

    /// Adds another document library named `name` to site `site_id`,
    /// visible to the site's members. The site's first library stays its
    /// default (`/sites/{id}/drive`).
    pub fn add_site_library(&mut self, site_id: &str, name: &str) -> Result<DriveId, WorldError> {
        let site = self
            .sites
            .get(site_id)
            .ok_or_else(|| WorldError::NotFound(format!("no site '{site_id}'")))?;
        let taken = self.site_libraries(site_id).iter().any(|d| d.name == name);
        if taken {
            return Err(WorldError::Conflict(format!(
                "site '{}' has a library named '{name}'",
                site.name
            )));
        }
        let members = site.members.clone();
        Ok(self.add_drive(
            Provider::Microsoft,
            DriveKind::SharePoint {
                site_id: site_id.to_string(),
            },
            name,
            members,
        ))
    }

    /// Rejects all feed positions of `drive` taken before now (Graph
    /// 410 resyncRequired, Dropbox `reset`).
    pub fn invalidate_cursors(&mut self, drive: &str) -> Result<(), WorldError> {
        // A new position, so cursors taken from now on differ from all older ones.
        self.seq += 1;
        let seq = self.seq;
        let d = self
            .drives
            .get_mut(drive)
            .ok_or_else(|| WorldError::NotFound(format!("no drive '{drive}'")))?;
        d.cursor_floor = seq;
        Ok(())
    }
}
