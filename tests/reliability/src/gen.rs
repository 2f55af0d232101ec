//! A deterministic input generator for the stable fuzz replay: seeds per target, a dictionary of
//! interesting tokens, and libFuzzer-style mutations (bit flips, byte/token insertion, splices,
//! truncation, repetition). Same seed, same inputs.

/// xorshift64* generator (deterministic, no dependencies).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed` (0 is remapped).
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

/// Tokens that matter to the parsers under test.
pub const DICTIONARY: &[&str] = &[
    "[", "]", "{", "}", "\"", ":", ",", "\\", "\\u0000", "\\ud800", "null", "true", "1e999", "-0",
    "123456789012345678.99", "\"errorCode\"", "\"message\"", "\"error\"", "\"error_description\"",
    "\"fields\"", "INVALID_SESSION_ID", "REQUEST_LIMIT_EXCEEDED", "<html>", "<!DOCTYPE html>", "\r\n",
    "\n", "\t", "\u{0}", "\u{7f}", "\u{1b}", "'", "%", "_", "__", "__c", "__r", ".", "Account.Name",
    "é", "😀", "\u{202e}", "\u{feff}", "eyJhbGciOiJub25lIn0", "eyJhbGciOiJIUzI1NiJ9", "=", "\"schema\"",
    "\"token\"", "\"version\"", "\"access_token\"", "\"refresh_token\"", "\"instance_url\"", "\"owner\"",
    "\"account_id\"", "18446744073709551616", "\"attributes\"", "\"type\"",
];

/// Mutates `input` in place with 1–4 random operations.
pub fn mutate(rng: &mut Rng, input: &mut Vec<u8>) {
    for _ in 0..1 + rng.below(4) {
        match rng.below(7) {
            0 if !input.is_empty() => {
                let i = rng.below(input.len());
                input[i] ^= 1 << rng.below(8);
            }
            1 => {
                let i = rng.below(input.len() + 1);
                input.insert(i, rng.next_u64() as u8);
            }
            2 => {
                let tok = DICTIONARY[rng.below(DICTIONARY.len())].as_bytes();
                let i = rng.below(input.len() + 1);
                input.splice(i..i, tok.iter().copied());
            }
            3 if !input.is_empty() => {
                let n = rng.below(input.len() + 1);
                input.truncate(n);
            }
            4 if input.len() > 1 => {
                let a = rng.below(input.len());
                let b = a + rng.below(input.len() - a);
                let chunk: Vec<u8> = input[a..=b.min(input.len() - 1)].to_vec();
                let i = rng.below(input.len() + 1);
                input.splice(i..i, chunk);
            }
            5 if !input.is_empty() => {
                let i = rng.below(input.len());
                input.remove(i);
            }
            _ => {
                let i = rng.below(input.len() + 1);
                let b = *b"\"'\\{}[]:,\n\0%_.".get(rng.below(14)).unwrap();
                input.insert(i, b);
            }
        }
        if input.len() > 4096 {
            input.truncate(4096);
        }
    }
}

/// Seed inputs for a target (valid and near-valid examples).
pub fn seeds(target: &str) -> Vec<Vec<u8>> {
    let s: Vec<&[u8]> = match target {
        "error_body" => vec![
            b"\x91\x01\x00[{\"message\":\"Session expired or invalid\",\"errorCode\":\"INVALID_SESSION_ID\"}]",
            b"\x90\x01\x00{\"error\":\"invalid_grant\",\"error_description\":\"expired access/refresh token\"}",
            b"\x93\x01\x01<!DOCTYPE html><html><body>Maintenance</body></html>",
            b"\xf4\x01\x02",
            b"\x93\x01\x00[{\"message\":\"a\",\"errorCode\":\"X\",\"fields\":[\"Name\",1,null]},{}]",
            b"\x90\x01\x02plain text error\nsecond line",
        ],
        "record_writer" => vec![
            br#"{"attributes":{"type":"Contact","url":"/x"},"Id":"0035g00000ABCDEAA1","Name":"Zo\u00eb \"Z\", Jr.","Account":{"attributes":{"type":"Account"},"Name":"A\r\nB"},"Amount":123456789012345678.99}"#,
            br#"{"Id":null,"Body":"<p>hi</p>","Emoji":"\ud83d\ude00","N":-0,"B":true}"#,
            br#"{"Account":null,"Account.Name":"dotted key","":"empty key"}"#,
        ],
        "query_page" => vec![
            br#"{"totalSize":2,"done":false,"nextRecordsUrl":"/services/data/v48.0/query/01gx-2000","records":[{"attributes":{"type":"Contact","url":"/services/data/v48.0/sobjects/Contact/003000000000001AAA"},"Id":"003000000000001AAA","Name":"Zo\u00eb","N":1.50},{"Id":"003000000000002AAA","Account":null}]}"#,
            b"{\n \"totalSize\" : 1 ,\r\n \"done\" : true , \"records\" : [ {\n\"Id\" : \"a\\nb\" } ] }",
            br#"{"totalSize":0,"done":true,"records":[]}"#,
            br#"{"totalSize":5,"done":true}"#,
            br#"{"totalSize":1,"done":true,"records":[[1],"x",null]}"#,
        ],
        "bulk_csv" => vec![
            b"\x00\x00Acme\xff\xffO\"Brien, Jr.\xffline1\r\nline2\xff\xf0\x9f\x98\x80",
            b"\x09\x05true\xff12345678901234567.89\xffFALSE\xff\xff2013-05-20T20:49:32.000Z\xff-0.5E+3",
            b"\x11\x01\"Id\",\"Account.Name\",\"Amount\"\n\"003000000000001AAA\",\"A\"\"B\",\"1.50\"\n\"003000000000002AAA\",,\n",
            b"\x13\x00Name\r\n\r\n\"x\ny\"\r\n",
            b"\x10\x02A,B\n1,2,3\n",
            b"\x02\x03\x00\xff\x01\xff|\xff\"",
        ],
        "soql" => vec![
            b"Contact", b"Account.Owner.Alias", b"ns__Invoice__c", b"Invoice__r.Name", b"O'Brien\\ 100%_x",
            b"line\nbreak\ttab", b"\x01ctl", b"Name) OR (Id != null", b"__c", b"a__b__c__d",
        ],
        "state" => vec![
            b"eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJhaWQiOiJhY2MtMSJ9.",
            b"\x10A\x20B\x30.",
            b"not a jwt",
            b"",
        ],
        "connection_document" => vec![
            br#"{"schema":1,"account_id":"a","owner":"o","token":{"access_token":"00DXX!abcdefghij","refresh_token":"5Aep861","issued_at":"1"},"token_invalidated":false,"instance_url":"https://x.my.salesforce.com","version":3,"refresh_lease":{"holder":"h","expires_at_ms":1}}"#,
            br#"{"account_id":"a","owner":"o","token":{"access_token":"t"},"instance_url":"u","version":18446744073709551615}"#,
            br#"{"schema":2,"account_id":"a","owner":"o","token":{"access_token":"t"},"instance_url":"u","version":1}"#,
        ],
        _ => vec![],
    };
    s.into_iter().map(<[u8]>::to_vec).collect()
}

/// `n` generated inputs for `target`: each a seed mutated a few times (deterministic in `seed`).
pub fn inputs(target: &str, n: usize, seed: u64) -> impl Iterator<Item = Vec<u8>> {
    let seeds = seeds(target);
    let mut rng = Rng::new(seed ^ target.bytes().fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(b as u64)));
    let mut pool: Vec<Vec<u8>> = seeds.clone();
    (0..n).map(move |_| {
        let mut x = pool[rng.below(pool.len())].clone();
        mutate(&mut rng, &mut x);
        if pool.len() < 256 && rng.below(4) == 0 {
            pool.push(x.clone());
        }
        x
    })
}
