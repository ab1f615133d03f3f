fn main() {
    // sqlx::migrate! embeds the migration folders: rebuild when they change.
    println!("cargo:rerun-if-changed=migrations");
}
