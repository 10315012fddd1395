//! The ABI v1 wire primitives (docs/abi.md sections 6 and 8): varints,
//! floats, length-prefixed bytes and the batch frame. Readers check every
//! bound; callers check that a body was consumed exactly with `end`.

/// Appends `v` as an unsigned LEB128 varint.
#[inline]
pub fn put_uvarint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Appends `v` as a zig-zag varint.
#[inline]
pub fn put_varint(out: &mut Vec<u8>, v: i64) {
    put_uvarint(out, ((v << 1) ^ (v >> 63)) as u64);
}

/// Appends `v` as 8 little-endian bytes.
pub fn put_f64(out: &mut Vec<u8>, v: f64) {
    out.extend_from_slice(&v.to_bits().to_le_bytes());
}

/// Appends a uvarint length and then `b`.
#[inline]
pub fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    put_uvarint(out, b.len() as u64);
    out.extend_from_slice(b);
}

/// Appends a bool as 0 or 1.
pub fn put_bool(out: &mut Vec<u8>, b: bool) {
    out.push(b as u8);
}

/// Reads a request or value body; every read checks its bounds.
pub struct Reader<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// Starts reading `b`.
    pub fn new(b: &'a [u8]) -> Reader<'a> {
        Reader { b, pos: 0 }
    }

    /// The bytes not read yet.
    pub fn rest(&self) -> usize {
        self.b.len() - self.pos
    }

    /// Reads one byte.
    pub fn byte(&mut self) -> Result<u8, String> {
        match self.b.get(self.pos) {
            Some(&c) => {
                self.pos += 1;
                Ok(c)
            }
            None => Err("unexpected end of data".to_string()),
        }
    }

    /// Reads a bool (any non-zero byte is true).
    pub fn bool(&mut self) -> Result<bool, String> {
        Ok(self.byte()? != 0)
    }

    /// Reads an unsigned varint of at most 10 bytes.
    #[inline]
    pub fn uvarint(&mut self) -> Result<u64, String> {
        let mut v: u64 = 0;
        let mut shift = 0u32;
        for i in 0..10 {
            let c = match self.b.get(self.pos) {
                Some(&c) => c,
                None => return Err("varint runs past the end of the data".to_string()),
            };
            self.pos += 1;
            if i == 9 && c > 1 {
                return Err("varint overflows 64 bits".to_string());
            }
            v |= ((c & 0x7f) as u64) << shift;
            if c < 0x80 {
                return Ok(v);
            }
            shift += 7;
        }
        Err("varint longer than 10 bytes".to_string())
    }

    /// Reads a uvarint that must fit 32 bits (steps, chains, handles).
    pub fn u32(&mut self) -> Result<u32, String> {
        let v = self.uvarint()?;
        if v > u32::MAX as u64 {
            return Err(format!("value {} does not fit 32 bits", v));
        }
        Ok(v as u32)
    }

    /// Reads a zig-zag varint.
    pub fn varint(&mut self) -> Result<i64, String> {
        let u = self.uvarint()?;
        Ok(((u >> 1) as i64) ^ -((u & 1) as i64))
    }

    /// Reads 8 little-endian bytes as an f64.
    pub fn f64(&mut self) -> Result<f64, String> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(f64::from_bits(u64::from_le_bytes(a)))
    }

    /// Reads `n` raw bytes.
    #[inline]
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        if n > self.rest() {
            return Err(format!("length {} runs past the end of the data ({} bytes left)", n, self.rest()));
        }
        let s = &self.b[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    /// Reads length-prefixed bytes.
    #[inline]
    pub fn bytes(&mut self) -> Result<&'a [u8], String> {
        let n = self.uvarint()?;
        if n > self.rest() as u64 {
            return Err(format!("length {} runs past the end of the data ({} bytes left)", n, self.rest()));
        }
        self.take(n as usize)
    }

    /// Reads a length-prefixed string (bytes that must be UTF-8).
    pub fn string(&mut self) -> Result<String, String> {
        let b = self.bytes()?;
        Ok(String::from_utf8_lossy(b).into_owned())
    }

    /// Reads a count of elements of at least `min` bytes each, refusing
    /// one the rest of the data cannot hold.
    pub fn count(&mut self, min: usize) -> Result<usize, String> {
        let n = self.uvarint()?;
        if n > (self.rest() / min.max(1)) as u64 {
            return Err(format!("count {} cannot fit in the {} bytes left", n, self.rest()));
        }
        Ok(n as usize)
    }

    /// Reads a batch frame (section 8), checking its items.
    pub fn batch(&mut self) -> Result<Batch<'a>, String> {
        let count = self.uvarint()?;
        let body = self.bytes()?;
        let b = Batch { count: count as usize, body };
        if count > body.len() as u64 / 2 {
            return Err("abi: batch count does not match its items".to_string());
        }
        b.check()?;
        Ok(b)
    }

    /// Fails when bytes are left over.
    pub fn end(&self, what: &str) -> Result<(), String> {
        if self.rest() != 0 {
            return Err(format!("bx: malformed request: {}: {} trailing bytes", what, self.rest()));
        }
        Ok(())
    }
}

/// One item of a batch: its key (None for an unkeyed item) and value, both
/// borrowed from the request.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Item<'a> {
    /// The item key, if it has one.
    pub key: Option<&'a [u8]>,
    /// The encoded value.
    pub value: &'a [u8],
}

/// A batch frame borrowed from a request.
#[derive(Debug, Clone, Copy)]
pub struct Batch<'a> {
    /// How many items the body holds.
    pub count: usize,
    /// The items.
    pub body: &'a [u8],
}

impl<'a> Batch<'a> {
    /// Checks that the body holds exactly `count` well-formed items.
    fn check(&self) -> Result<(), String> {
        let mut it = self.iter();
        let mut n = 0;
        while let Some(r) = it.next_item() {
            r?;
            n += 1;
        }
        if n != self.count {
            return Err("abi: batch count does not match its items".to_string());
        }
        Ok(())
    }

    /// Iterates the items.
    pub fn iter(&self) -> BatchIter<'a> {
        BatchIter { r: Reader::new(self.body) }
    }
}

/// Iterates the items of a batch.
pub struct BatchIter<'a> {
    r: Reader<'a>,
}

impl<'a> BatchIter<'a> {
    /// Returns the next item, None at the end, or an error for a malformed
    /// item.
    #[inline]
    pub fn next_item(&mut self) -> Option<Result<Item<'a>, String>> {
        if self.r.rest() == 0 {
            return None;
        }
        Some(self.read())
    }

    #[inline]
    fn read(&mut self) -> Result<Item<'a>, String> {
        let tag = self.r.uvarint()?;
        let key = if tag == 0 {
            None
        } else {
            if tag - 1 > self.r.rest() as u64 {
                return Err("abi: batch count does not match its items".to_string());
            }
            Some(self.r.take((tag - 1) as usize)?)
        };
        let value = self.r.bytes().map_err(|_| "abi: batch count does not match its items".to_string())?;
        Ok(Item { key, value })
    }
}

impl<'a> Iterator for BatchIter<'a> {
    type Item = Item<'a>;
    /// Yields items of a batch already checked by `Reader::batch`.
    #[inline]
    fn next(&mut self) -> Option<Item<'a>> {
        match self.next_item() {
            Some(Ok(it)) => Some(it),
            _ => None,
        }
    }
}

/// Builds a batch frame: items go into a body, the frame is written with
/// its count and length once complete.
#[derive(Default)]
pub struct BatchWriter {
    /// The items encoded so far.
    pub body: Vec<u8>,
    /// How many items the body holds.
    pub count: usize,
}

impl BatchWriter {
    /// Empties the batch, keeping its memory.
    pub fn reset(&mut self) {
        self.body.clear();
        self.count = 0;
    }

    /// Starts an item with `key` (None: unkeyed); the caller appends the
    /// value with `finish_value`.
    #[inline]
    pub fn push(&mut self, key: Option<&[u8]>, value: &[u8]) {
        match key {
            None => self.body.push(0),
            Some(k) => {
                put_uvarint(&mut self.body, k.len() as u64 + 1);
                self.body.extend_from_slice(k);
            }
        }
        put_bytes(&mut self.body, value);
        self.count += 1;
    }

    /// Adds an item with `key` whose value `enc` appends in place; its
    /// length prefix is fixed up afterwards.
    #[inline]
    pub fn push_with<F: FnOnce(&mut Vec<u8>)>(&mut self, key: Option<&[u8]>, enc: F) {
        match key {
            None => self.body.push(0),
            Some(k) => {
                put_uvarint(&mut self.body, k.len() as u64 + 1);
                self.body.extend_from_slice(k);
            }
        }
        let at = self.body.len();
        self.body.push(0);
        enc(&mut self.body);
        let n = self.body.len() - at - 1;
        if n < 0x80 {
            self.body[at] = n as u8;
        } else {
            let mut head = [0u8; 10];
            let mut len = 0;
            let mut v = n as u64;
            while v >= 0x80 {
                head[len] = (v as u8) | 0x80;
                v >>= 7;
                len += 1;
            }
            head[len] = v as u8;
            len += 1;
            self.body[at] = head[0];
            self.body.splice(at + 1..at + 1, head[1..len].iter().cloned());
        }
        self.count += 1;
    }

    /// Appends the frame (count, length, body) to `out`.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        put_uvarint(out, self.count as u64);
        put_bytes(out, &self.body);
    }
}
