//! (being written)
/// The SDK client.
#[derive(Clone)]
pub struct Client {}
