//! Large generated trees (benchmarks, `/_sim/.../generate`).

use super::*;

impl World {
    /// Makes `files` generated files of `bytes` bytes each under folder
    /// `root` (a path, made as needed), spread over folders `depth` deep.
    /// Folders get about `files^(1/(depth+1))` children each.
    pub fn generate(
        &mut self,
        drive: &str,
        root: &str,
        files: u64,
        bytes: u64,
        depth: u32,
    ) -> Result<Generated, WorldError> {
        let root_id = self.ensure_folders(drive, &split_path(root))?;
        let provider = self.drive_provider(drive)?;
        let fanout = ((files as f64).powf(1.0 / f64::from(depth + 1)).ceil() as u64).max(1);
        let leaves = fanout.pow(depth).max(1);
        let mut folders: HashMap<u64, ItemId> = HashMap::new();
        let mut made_folders = 0u64;
        let salt = mix(self.salt ^ self.next_id);
        for n in 0..files {
            let leaf = if depth == 0 { 0 } else { n % leaves };
            let parent = match folders.get(&leaf) {
                Some(p) => p.clone(),
                None => {
                    let mut parent = root_id.clone();
                    let mut rest = leaf;
                    for level in 0..depth {
                        let digit = rest % fanout;
                        rest /= fanout;
                        let name = format!("dir-{level}-{digit:04}");
                        let existing = self
                            .child_named(&parent, &name)
                            .filter(|i| i.is_folder())
                            .map(|i| i.id.clone());
                        parent = match existing {
                            Some(id) => id,
                            None => {
                                made_folders += 1;
                                self.create_folder(&parent, &name)?
                            }
                        };
                    }
                    folders.insert(leaf, parent.clone());
                    parent
                }
            };
            let content = if bytes == 0 {
                Content::Empty
            } else {
                Content::Generated {
                    seed: mix(salt ^ n),
                    len: bytes,
                }
            };
            let name = format!("file-{n:07}.bin");
            // Names are unique by construction: skip the per-file duplicate scan.
            self.insert_item(
                &parent,
                drive,
                provider,
                &name,
                ItemKind::File,
                "application/octet-stream",
                content,
            )?;
        }
        Ok(Generated {
            root_id,
            files,
            folders: made_folders,
            bytes: files * bytes,
        })
    }
}
