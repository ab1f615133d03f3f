pub mod backup;
pub mod keys;
pub mod migrate;
pub mod restore;
pub mod serve;
pub mod sync;
pub mod token;
pub mod user;
