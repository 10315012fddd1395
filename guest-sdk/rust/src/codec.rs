//! How values and states cross the wire: the `Codec` trait and its
//! implementations for the standard types.
//!
//! Encodings (values only round-trip through this SDK, except strings,
//! which host connectors read and write):
//!
//! | type | bytes |
//! |---|---|
//! | `String` | the raw UTF-8, no framing |
//! | `Vec<u8>` (`Bytes`) | the raw bytes |
//! | `i64`, `i32`, `isize` | zig-zag varint |
//! | `u64`, `u32`, `usize` | uvarint |
//! | `f64` | 8 bytes little-endian |
//! | `bool` | one byte 0 or 1 |
//! | `()` | nothing |
//! | `(A, B)`, `(A, B, C)` | each element as length-prefixed bytes |
//! | `Vec<T>` | uvarint count, then each element as length-prefixed bytes |
//! | `Option<T>` | `0`, or `1` then the value |
//!
//! On a stream, a `(String, V)` item is keyed: the string is the item key
//! (which routes it to a worker) and `V` is the value.

use crate::wire::{put_uvarint, put_varint, Reader};
use std::any::Any;

/// A type that can be a stream item, a value of a keyed stream or a state.
/// `decode` must accept exactly what `encode` writes and refuse trailing
/// bytes.
pub trait Codec: Sized + 'static {
    /// Appends the encoding of `self` to `out`.
    fn encode(&self, out: &mut Vec<u8>);
    /// Decodes a value from all of `b`.
    fn decode(b: &[u8]) -> Result<Self, String>;

    /// The item key of `self` on a stream: `Some` for a `(String, V)`
    /// pair. Not meant to be overridden.
    #[doc(hidden)]
    fn item_key(&self) -> Option<&str> {
        None
    }
    /// Appends the item value of `self` (the `V` of a keyed pair).
    #[doc(hidden)]
    fn encode_item(&self, out: &mut Vec<u8>) {
        self.encode(out)
    }
    /// Decodes an item from its key and value.
    #[doc(hidden)]
    fn decode_item(key: Option<&[u8]>, value: &[u8]) -> Result<Self, String> {
        let _ = key;
        Self::decode(value)
    }
    /// Whether items of this type are keyed.
    #[doc(hidden)]
    fn keyed() -> bool {
        false
    }
}

/// Bytes as a value: `Vec<u8>` encodes as its raw bytes.
pub type Bytes = Vec<u8>;

fn exact<T>(r: &Reader, v: T, what: &str) -> Result<T, String> {
    if r.rest() != 0 {
        return Err(format!("bx: cannot decode {}: {} trailing bytes", what, r.rest()));
    }
    Ok(v)
}

/// Turns bytes into a String, replacing invalid UTF-8 with U+FFFD.
pub(crate) fn utf8(b: &[u8]) -> String {
    match std::str::from_utf8(b) {
        Ok(s) => s.to_owned(),
        Err(_) => String::from_utf8_lossy(b).into_owned(),
    }
}

impl Codec for String {
    #[inline]
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.as_bytes());
    }
    #[inline]
    fn decode(b: &[u8]) -> Result<Self, String> {
        Ok(utf8(b))
    }
}

impl Codec for Vec<u8> {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self);
    }
    fn decode(b: &[u8]) -> Result<Self, String> {
        Ok(b.to_vec())
    }
}

macro_rules! signed_codec {
    ($($t:ty),*) => {$(
        impl Codec for $t {
            #[inline]
            fn encode(&self, out: &mut Vec<u8>) {
                put_varint(out, *self as i64);
            }
            fn decode(b: &[u8]) -> Result<Self, String> {
                let mut r = Reader::new(b);
                let v = r.varint().map_err(|e| format!("bx: cannot decode {}: {}", stringify!($t), e))?;
                if v < <$t>::MIN as i64 || v > <$t>::MAX as i64 {
                    return Err(format!("bx: cannot decode {}: {} is out of range", stringify!($t), v));
                }
                exact(&r, v as $t, stringify!($t))
            }
        }
    )*};
}
signed_codec!(i64, i32, isize);

macro_rules! unsigned_codec {
    ($($t:ty),*) => {$(
        impl Codec for $t {
            #[inline]
            fn encode(&self, out: &mut Vec<u8>) {
                put_uvarint(out, *self as u64);
            }
            fn decode(b: &[u8]) -> Result<Self, String> {
                let mut r = Reader::new(b);
                let v = r.uvarint().map_err(|e| format!("bx: cannot decode {}: {}", stringify!($t), e))?;
                if v > <$t>::MAX as u64 {
                    return Err(format!("bx: cannot decode {}: {} is out of range", stringify!($t), v));
                }
                exact(&r, v as $t, stringify!($t))
            }
        }
    )*};
}
unsigned_codec!(u64, u32, usize);

impl Codec for f64 {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_bits().to_le_bytes());
    }
    fn decode(b: &[u8]) -> Result<Self, String> {
        let mut r = Reader::new(b);
        let v = r.f64().map_err(|e| format!("bx: cannot decode f64: {}", e))?;
        exact(&r, v, "f64")
    }
}

impl Codec for bool {
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(*self as u8);
    }
    fn decode(b: &[u8]) -> Result<Self, String> {
        match b {
            [0] => Ok(false),
            [1] => Ok(true),
            _ => Err(format!("bx: cannot decode bool from {} bytes {:?}", b.len(), b)),
        }
    }
}

impl Codec for () {
    fn encode(&self, _: &mut Vec<u8>) {}
    fn decode(b: &[u8]) -> Result<Self, String> {
        exact(&Reader::new(b), (), "()")
    }
}

/// Appends `v` as length-prefixed bytes, for containers. The value is
/// encoded in place, then its length is inserted in front of it.
pub(crate) fn put_nested<T: Codec>(out: &mut Vec<u8>, v: &T) {
    let start = out.len();
    v.encode(out);
    let n = out.len() - start;
    if n < 0x80 {
        out.insert(start, n as u8);
        return;
    }
    let mut head = Vec::with_capacity(10);
    put_uvarint(&mut head, n as u64);
    out.splice(start..start, head);
}

fn get_nested<T: Codec>(r: &mut Reader) -> Result<T, String> {
    T::decode(r.bytes()?)
}

impl<A: Codec, B: Codec> Codec for (A, B) {
    fn encode(&self, out: &mut Vec<u8>) {
        put_nested(out, &self.0);
        put_nested(out, &self.1);
    }
    fn decode(b: &[u8]) -> Result<Self, String> {
        let mut r = Reader::new(b);
        let a = get_nested(&mut r)?;
        let b2 = get_nested(&mut r)?;
        exact(&r, (a, b2), "a pair")
    }
    #[inline]
    fn item_key(&self) -> Option<&str> {
        (&self.0 as &dyn Any).downcast_ref::<String>().map(|s| s.as_str())
    }
    #[inline]
    fn encode_item(&self, out: &mut Vec<u8>) {
        if Self::keyed() {
            self.1.encode(out)
        } else {
            self.encode(out)
        }
    }
    #[inline]
    fn decode_item(key: Option<&[u8]>, value: &[u8]) -> Result<Self, String> {
        if !Self::keyed() {
            return Self::decode(value);
        }
        let k = match key {
            Some(k) => utf8(k),
            None => return Err("bx: cannot decode: item of a keyed stream has no key".to_string()),
        };
        let mut slot = Some(k);
        let a = (&mut slot as &mut dyn Any)
            .downcast_mut::<Option<A>>()
            .and_then(|s| s.take())
            .expect("keyed pair has a String key");
        Ok((a, B::decode(value)?))
    }
    #[inline]
    fn keyed() -> bool {
        std::any::TypeId::of::<A>() == std::any::TypeId::of::<String>()
    }
}

impl<A: Codec, B: Codec, C: Codec> Codec for (A, B, C) {
    fn encode(&self, out: &mut Vec<u8>) {
        put_nested(out, &self.0);
        put_nested(out, &self.1);
        put_nested(out, &self.2);
    }
    fn decode(b: &[u8]) -> Result<Self, String> {
        let mut r = Reader::new(b);
        let a = get_nested(&mut r)?;
        let b2 = get_nested(&mut r)?;
        let c = get_nested(&mut r)?;
        exact(&r, (a, b2, c), "a triple")
    }
}

impl<T: Codec> Codec for Vec<T> {
    fn encode(&self, out: &mut Vec<u8>) {
        put_uvarint(out, self.len() as u64);
        for v in self {
            put_nested(out, v);
        }
    }
    fn decode(b: &[u8]) -> Result<Self, String> {
        let mut r = Reader::new(b);
        let n = r.count(1).map_err(|e| format!("bx: cannot decode a Vec: {}", e))?;
        let mut v = Vec::with_capacity(n);
        for _ in 0..n {
            v.push(get_nested(&mut r)?);
        }
        exact(&r, v, "a Vec")
    }
}

impl<T: Codec> Codec for Option<T> {
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            None => out.push(0),
            Some(v) => {
                out.push(1);
                v.encode(out);
            }
        }
    }
    fn decode(b: &[u8]) -> Result<Self, String> {
        match b.split_first() {
            Some((0, rest)) => exact(&Reader::new(rest), None, "an Option"),
            Some((1, rest)) => Ok(Some(T::decode(rest)?)),
            _ => Err("bx: cannot decode an Option: want a 0 or 1 tag".to_string()),
        }
    }
}

/// Encodes `v` into a new Vec.
pub fn to_bytes<T: Codec>(v: &T) -> Vec<u8> {
    let mut out = Vec::new();
    v.encode(&mut out);
    out
}
