//! Item mutations; each records a change in its drive's log.

use super::*;

impl World {
    // ----- item mutations (each records a change) ---------------------

    /// Appends a change for `id` to its drive's log.
    pub(super) fn record(&mut self, id: &str) {
        self.record_move(id, None);
    }

    /// Appends a change for `id`, noting its path before a move.
    fn record_move(&mut self, id: &str, moved_from: Option<String>) {
        self.seq += 1;
        let seq = self.seq;
        let now = Utc::now();
        let Some(item) = self.items.get_mut(id) else {
            return;
        };
        item.change_seq = seq;
        let drive_id = item.drive_id.clone();
        if let Some(drive) = self.drives.get_mut(&drive_id) {
            drive.changes.push(ChangeEntry {
                seq,
                item_id: id.to_string(),
                time: now,
                moved_from,
            });
        }
    }

    fn live_folder(&self, id: &str) -> Result<&Item, WorldError> {
        match self.items.get(id) {
            Some(i) if i.is_folder() && !i.deleted => Ok(i),
            Some(_) => Err(WorldError::BadRequest(format!("'{id}' is not a folder"))),
            None => Err(WorldError::NotFound(format!("no folder '{id}'"))),
        }
    }

    /// Creates an item under `parent` and records the change.
    pub fn create_item(
        &mut self,
        parent: &str,
        name: &str,
        kind: ItemKind,
        mime_type: &str,
        content: Content,
    ) -> Result<ItemId, WorldError> {
        let drive_id = self.live_folder(parent)?.drive_id.clone();
        let provider = self.drive_provider(&drive_id)?;
        World::check_name(provider, name)?;
        if provider != Provider::Google && self.child_named(parent, name).is_some() {
            return Err(WorldError::Conflict(format!(
                "{provider} does not allow a second item named '{name}' in one folder"
            )));
        }
        self.insert_item(parent, &drive_id, provider, name, kind, mime_type, content)
    }

    /// Creates an item without the duplicate-name check (for `generate`).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn insert_item(
        &mut self,
        parent: &str,
        drive_id: &str,
        provider: Provider,
        name: &str,
        kind: ItemKind,
        mime_type: &str,
        content: Content,
    ) -> Result<ItemId, WorldError> {
        let drive_id = drive_id.to_string();
        let id = self.new_id(provider, IdKind::Item);
        let now = Utc::now();
        self.items.insert(
            id.clone(),
            Item {
                id: id.clone(),
                drive_id,
                parent_id: Some(parent.to_string()),
                name: name.to_string(),
                kind,
                mime_type: mime_type.to_string(),
                content,
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
        self.children
            .entry(parent.to_string())
            .or_default()
            .push(id.clone());
        self.record(&id);
        self.set_placed(&id);
        Ok(id)
    }

    fn set_placed(&mut self, id: &str) {
        if let Some(item) = self.items.get_mut(id) {
            item.placed = item.change_seq;
        }
    }

    pub(super) fn drive_provider(&self, drive: &str) -> Result<Provider, WorldError> {
        self.drives
            .get(drive)
            .map(|d| d.provider)
            .ok_or_else(|| WorldError::NotFound(format!("no drive '{drive}'")))
    }

    /// Creates a folder under `parent`.
    pub fn create_folder(&mut self, parent: &str, name: &str) -> Result<ItemId, WorldError> {
        let drive = self.live_folder(parent)?.drive_id.clone();
        let mime = folder_mime(self.drive_provider(&drive)?);
        self.create_item(parent, name, ItemKind::Folder, mime, Content::Empty)
    }

    /// The folder at `segments` below the drive root, creating missing ones.
    pub fn ensure_folders(&mut self, drive: &str, segments: &[&str]) -> Result<ItemId, WorldError> {
        let mut current = self
            .drives
            .get(drive)
            .ok_or_else(|| WorldError::NotFound(format!("no drive '{drive}'")))?
            .root_id
            .clone();
        for segment in segments {
            let existing = self
                .child_named(&current, segment)
                .map(|i| (i.id.clone(), i.is_folder()));
            current = match existing {
                Some((id, true)) => id,
                Some((_, false)) => {
                    return Err(WorldError::Conflict(format!(
                        "'{segment}' exists and is not a folder"
                    )));
                }
                None => self.create_folder(&current, segment)?,
            };
        }
        Ok(current)
    }

    /// Writes a file at `path` (parents made as needed): overwrites the
    /// first item of that name, or creates one (always with `duplicate`).
    pub fn put_path(
        &mut self,
        drive: &str,
        path: &str,
        bytes: Bytes,
        options: PutOptions,
    ) -> Result<ItemId, WorldError> {
        let segments = split_path(path);
        let Some((last, parents)) = segments.split_last() else {
            return Err(WorldError::BadRequest("the path names no file".into()));
        };
        let name = options.name.clone().unwrap_or_else(|| (*last).to_string());
        let provider = self.drive_provider(drive)?;
        if options.mime_type.as_deref() == Some(folder_mime(provider)) {
            let parent = self.ensure_folders(drive, parents)?;
            return match self.child_named(&parent, &name) {
                Some(i) if i.is_folder() && !options.duplicate => Ok(i.id.clone()),
                _ => self.create_folder(&parent, &name),
            };
        }
        if options.duplicate && provider != Provider::Google {
            return Err(WorldError::Conflict(format!(
                "{provider} does not allow duplicate names"
            )));
        }
        let parent = self.ensure_folders(drive, parents)?;
        let content = self
            .blobs
            .put(bytes)
            .map_err(|e| WorldError::BadRequest(format!("storing bytes: {e:#}")))?;
        let existing = self
            .child_named(&parent, &name)
            .map(|i| (i.id.clone(), i.is_folder()));
        match existing {
            Some((_, true)) if !options.duplicate => {
                Err(WorldError::Conflict(format!("'{name}' is a folder")))
            }
            Some((id, false)) if !options.duplicate => {
                self.set_content(&id, content, options.mime_type.as_deref())?;
                Ok(id)
            }
            _ => {
                let mime = options
                    .mime_type
                    .clone()
                    .unwrap_or_else(|| mime_from_name(&name).to_string());
                self.create_item(&parent, &name, ItemKind::File, &mime, content)
            }
        }
    }

    /// Replaces the bytes of file `id` (and its mime type if given).
    pub fn set_content(
        &mut self,
        id: &str,
        content: Content,
        mime_type: Option<&str>,
    ) -> Result<(), WorldError> {
        let item = self.live_item_mut(id)?;
        if item.is_folder() {
            return Err(WorldError::BadRequest(format!("'{id}' is a folder")));
        }
        item.content = content;
        if let Some(m) = mime_type {
            item.mime_type = m.to_string();
        }
        item.hashes.clear();
        item.version += 1;
        item.content_version += 1;
        item.modified = Utc::now();
        self.record(id);
        Ok(())
    }

    fn live_item_mut(&mut self, id: &str) -> Result<&mut Item, WorldError> {
        match self.items.get_mut(id) {
            Some(i) if !i.deleted => Ok(i),
            _ => Err(WorldError::NotFound(format!("no item '{id}'"))),
        }
    }

    /// Adds a Google shortcut named `name` in `parent` pointing at `target`.
    pub fn create_shortcut(
        &mut self,
        parent: &str,
        name: &str,
        target: &str,
    ) -> Result<ItemId, WorldError> {
        let target_mime = self
            .items
            .get(target)
            .filter(|i| !i.deleted)
            .map(|i| i.mime_type.clone())
            .ok_or_else(|| WorldError::NotFound(format!("no shortcut target '{target}'")))?;
        self.create_item(
            parent,
            name,
            ItemKind::Shortcut {
                target_id: target.to_string(),
                target_mime_type: target_mime,
            },
            GOOGLE_SHORTCUT,
            Content::Empty,
        )
    }

    /// Renames and/or moves `id` to `new_parent` (same drive) as `new_name`.
    pub fn move_item(
        &mut self,
        id: &str,
        new_parent: &str,
        new_name: &str,
    ) -> Result<(), WorldError> {
        let parent_drive = self.live_folder(new_parent)?.drive_id.clone();
        let item = self.live_item_mut(id)?;
        if item.parent_id.is_none() {
            return Err(WorldError::BadRequest("the root cannot be moved".into()));
        }
        if item.drive_id != parent_drive {
            return Err(WorldError::BadRequest(
                "moves across drives are not supported".into(),
            ));
        }
        if self.is_within(new_parent, id) {
            return Err(WorldError::BadRequest(
                "a folder cannot move into itself".into(),
            ));
        }
        let provider = self.provider_of_item(id);
        World::check_name(provider, new_name)?;
        if provider != Provider::Google
            && self
                .child_named(new_parent, new_name)
                .is_some_and(|other| other.id != id)
        {
            return Err(WorldError::Conflict(format!(
                "'{new_name}' exists in the target folder"
            )));
        }
        let from = self.path_of(id);
        let item = self.live_item_mut(id)?;
        let old_parent = item.parent_id.replace(new_parent.to_string());
        item.name = new_name.to_string();
        item.version += 1;
        item.modified = Utc::now();
        if let Some(old) = old_parent
            && let Some(list) = self.children.get_mut(&old)
        {
            list.retain(|c| c != id);
        }
        self.children
            .entry(new_parent.to_string())
            .or_default()
            .push(id.to_string());
        self.record_move(id, Some(from));
        self.set_placed(id);
        Ok(())
    }

    /// Moves the item at path `from` to path `to` (parents made as needed).
    pub fn move_path(&mut self, drive: &str, from: &str, to: &str) -> Result<ItemId, WorldError> {
        let id = self
            .resolve_path(drive, from)
            .filter(|i| i.parent_id.is_some())
            .map(|i| i.id.clone())
            .ok_or_else(|| WorldError::NotFound(format!("no item at '{from}'")))?;
        let segments = split_path(to);
        let Some((last, parents)) = segments.split_last() else {
            return Err(WorldError::BadRequest("'to' names no item".into()));
        };
        let parent = self.ensure_folders(drive, parents)?;
        self.move_item(&id, &parent, last)?;
        Ok(id)
    }

    /// Ids of `id` and everything below it, parents first.
    pub fn subtree(&self, id: &str) -> Vec<ItemId> {
        let mut out = vec![id.to_string()];
        let mut i = 0;
        while i < out.len() {
            let kids = self.children(&out[i]).to_vec();
            out.extend(kids);
            i += 1;
        }
        out
    }

    /// Trashes (or restores) `id` and everything below it.
    pub fn set_trashed(&mut self, id: &str, trashed: bool) -> Result<(), WorldError> {
        if self.live_item_mut(id)?.parent_id.is_none() {
            return Err(WorldError::BadRequest("the root cannot be trashed".into()));
        }
        let now = Utc::now();
        for sub in self.subtree(id) {
            if let Some(item) = self.items.get_mut(&sub) {
                item.trashed = trashed;
                item.explicitly_trashed = trashed && sub == id;
                item.trashed_time = trashed.then_some(now);
                item.version += 1;
            }
            self.record(&sub);
        }
        Ok(())
    }

    /// Deletes `id` and everything below it for good (tombstones remain
    /// for the change feeds).
    pub fn delete_item(&mut self, id: &str) -> Result<(), WorldError> {
        let parent = self
            .live_item_mut(id)?
            .parent_id
            .clone()
            .ok_or_else(|| WorldError::BadRequest("the root cannot be deleted".into()))?;
        let subtree = self.subtree(id);
        for sub in subtree.iter().rev() {
            if let Some(item) = self.items.get_mut(sub) {
                item.deleted = true;
                item.version += 1;
            }
            self.children.remove(sub);
            self.record(sub);
        }
        if let Some(list) = self.children.get_mut(&parent) {
            list.retain(|c| c != id);
        }
        Ok(())
    }

    /// Deletes the item at `path` (folders recursively).
    pub fn delete_path(&mut self, drive: &str, path: &str) -> Result<ItemId, WorldError> {
        let id = self
            .resolve_path(drive, path)
            .filter(|i| i.parent_id.is_some())
            .map(|i| i.id.clone())
            .ok_or_else(|| WorldError::NotFound(format!("no item at '{path}'")))?;
        self.delete_item(&id)?;
        Ok(id)
    }
}
