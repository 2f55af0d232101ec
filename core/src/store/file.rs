//! (being written)
/// File store.
pub struct FileStore;
