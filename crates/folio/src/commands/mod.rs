pub mod keys;
pub mod migrate;
pub mod serve;
pub mod sync;
pub mod token;
pub mod user;
