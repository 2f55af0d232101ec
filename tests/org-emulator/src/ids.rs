//! Salesforce record Ids: 15-char case-sensitive Ids plus the 3-char case-checksum suffix that makes
//! the 18-char case-insensitive form.
//!
//! Emulator Ids are `<key prefix:3><pod:3><index:9 base62>` + checksum. Base62 uses the ASCII-ordered
//! alphabet `0-9A-Za-z`, so the ascending byte order of Ids equals creation (index) order, like the
//! monotonically allocated Ids of a real org (keyset pagination on `Id` relies on that).

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const CHECKSUM_ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";

/// The 3-char suffix of an 18-char Id: for each 5-char chunk of the 15-char Id, bit `i` is set when
/// char `i` is an upper-case ASCII letter; the 5-bit value indexes `A..Z0..5`.
pub fn checksum(id15: &[u8; 15]) -> [u8; 3] {
    let mut out = [0u8; 3];
    for (chunk, slot) in id15.chunks(5).zip(out.iter_mut()) {
        let mut bits = 0usize;
        for (i, c) in chunk.iter().enumerate() {
            if c.is_ascii_uppercase() {
                bits |= 1 << i;
            }
        }
        *slot = CHECKSUM_ALPHABET[bits];
    }
    out
}

/// An 18-char Id held inline (no allocation).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct IdBuf(pub [u8; 18]);

impl IdBuf {
    /// The Id text.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("ids are ASCII")
    }
}

impl std::fmt::Debug for IdBuf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Build the 18-char Id of record `index` (0-based) for key prefix `prefix` (e.g. `b"003"`).
pub fn make_id(prefix: &[u8; 3], pod: &[u8; 3], index: u64) -> String {
    make_id_buf(prefix, pod, index).as_str().to_string()
}

/// [`make_id`] without allocating.
pub fn make_id_buf(prefix: &[u8; 3], pod: &[u8; 3], index: u64) -> IdBuf {
    let mut id15 = [b'0'; 15];
    id15[..3].copy_from_slice(prefix);
    id15[3..6].copy_from_slice(pod);
    let mut n = index + 1; // Salesforce never issues the all-zero Id
    for slot in id15[6..].iter_mut().rev() {
        *slot = BASE62[(n % 62) as usize];
        n /= 62;
    }
    let cs = checksum(&id15);
    let mut out = [0u8; 18];
    out[..15].copy_from_slice(&id15);
    out[15..].copy_from_slice(&cs);
    IdBuf(out)
}

/// Inverse of [`make_id`]: the record index of an Id with this prefix/pod, accepting the 15-char and
/// the 18-char form (the checksum must be correct). `None` for anything else.
pub fn parse_index(prefix: &[u8; 3], pod: &[u8; 3], id: &str) -> Option<u64> {
    let b = id.as_bytes();
    if b.len() != 15 && b.len() != 18 {
        return None;
    }
    let id15: [u8; 15] = b[..15].try_into().ok()?;
    if b.len() == 18 && !b[15..].eq_ignore_ascii_case(&checksum(&id15)) {
        return None;
    }
    if &id15[..3] != prefix || &id15[3..6] != pod {
        return None;
    }
    let mut n: u64 = 0;
    for &c in &id15[6..] {
        let d = BASE62.iter().position(|&x| x == c)? as u64;
        n = n.checked_mul(62)?.checked_add(d)?;
    }
    n.checked_sub(1)
}

/// True when `s` has the shape of a 15- or 18-char Salesforce Id (alphanumeric).
pub fn looks_like_id(s: &str) -> bool {
    (s.len() == 15 || s.len() == 18) && s.bytes().all(|c| c.is_ascii_alphanumeric())
}

/// Normalise a 15-char Id to its 18-char form (18-char input is returned unchanged).
pub fn to_18(s: &str) -> String {
    if s.len() == 15 {
        let id15: [u8; 15] = s.as_bytes().try_into().expect("len 15");
        let cs = checksum(&id15);
        format!("{s}{}", std::str::from_utf8(&cs).expect("ascii"))
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_salesforce_checksum() {
        // Public example: 001A0000006Vm9r -> 001A0000006Vm9rIAC
        let id: [u8; 15] = *b"001A0000006Vm9r";
        assert_eq!(&checksum(&id), b"IAC");
    }

    #[test]
    fn ids_sort_in_creation_order_and_round_trip() {
        let mut prev = String::new();
        for i in [0u64, 1, 9, 10, 35, 36, 61, 62, 63, 999, 1_000_000, 56_800_235_583] {
            let id = make_id(b"003", b"5g0", i);
            assert_eq!(id.len(), 18);
            assert!(id > prev, "{id} !> {prev}");
            assert_eq!(parse_index(b"003", b"5g0", &id), Some(i));
            assert_eq!(parse_index(b"003", b"5g0", &id[..15]), Some(i));
            prev = id;
        }
        assert_eq!(parse_index(b"006", b"5g0", &make_id(b"003", b"5g0", 4)), None);
    }
}
