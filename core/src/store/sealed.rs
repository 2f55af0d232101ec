//! (being written)
/// Sealed store.
pub struct SealedStore;
/// Key.
pub struct SealingKey;
/// Keyring.
pub struct SealingKeyring;
