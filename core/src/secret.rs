//! [`Secret`]: a string that never shows itself in `Debug`/`Display` output or logs.

use serde::{Deserialize, Serialize};

/// A secret string (access token, refresh token, authorization code, client secret, key material).
///
/// `Debug` prints `Secret(***)` so tokens never reach logs, errors or `{:?}` output. Read the value
/// only where it is sent on the wire or stored: [`Secret::expose`]. Serializes as the plain string
/// (the store sees plaintext unless it is wrapped in [`crate::store::SealedStore`]).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }
    /// The plain value. Call sites are the only places a secret leaves this type.
    pub fn expose(&self) -> &str {
        &self.0
    }
    /// True when the value is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Self {
        Secret(s)
    }
}
impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Secret(s.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn debug_hides_value() {
        let s = Secret::new("00DFAKE!TOKEN1");
        assert_eq!(format!("{s:?}"), "Secret(***)");
        assert_eq!(s.expose(), "00DFAKE!TOKEN1");
    }
}
