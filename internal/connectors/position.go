package connectors

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
)

// ErrSourceChanged is returned when an input file is not the file a
// snapshot read: it shrank, or the bytes before the position changed.
var ErrSourceChanged = errors.New("connectors: input file changed since the snapshot")

// castagnoli is the CRC-32C table of file prefixes.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// filePosition is the resume state of a file partition: where to continue,
// and the identity of the file read so far, checked on resume.
//
//	uvarint(offset) uvarint(size) crc[4]
//
// offset is the byte after the last line emitted; size the file's size
// when the position was taken; crc the CRC-32C (big endian) of the file's
// first offset bytes.
type filePosition struct {
	offset, size int64
	crc          uint32
}

func (p filePosition) encode() []byte {
	b := binary.AppendUvarint(nil, uint64(p.offset))
	b = binary.AppendUvarint(b, uint64(p.size))
	return binary.BigEndian.AppendUint32(b, p.crc)
}

// decodePosition reads the resume state of file partition name.
func decodePosition(name string, b []byte) (filePosition, error) {
	off, n := binary.Uvarint(b)
	if n <= 0 {
		return filePosition{}, fmt.Errorf("%w: %s: %d bytes are not a file position", ErrBadResume, name, len(b))
	}
	size, m := binary.Uvarint(b[n:])
	if m <= 0 || len(b) != n+m+4 || off > size || size > 1<<62 {
		return filePosition{}, fmt.Errorf("%w: %s: %d bytes are not a file position", ErrBadResume, name, len(b))
	}
	return filePosition{offset: int64(off), size: int64(size), crc: binary.BigEndian.Uint32(b[n+m:])}, nil
}

// resumeFile checks that f (of partition name) is the file pos was taken
// from — not smaller than it was then, with the same first pos.offset
// bytes — and leaves f at pos.offset.
func resumeFile(f *os.File, name string, pos filePosition) error {
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("connectors: input file: %w", err)
	}
	if st.Size() < pos.size {
		return fmt.Errorf("%w: %s is %d bytes, it was %d when the position (byte %d) was taken: it shrank",
			ErrSourceChanged, name, st.Size(), pos.size, pos.offset)
	}
	h := crc32.New(castagnoli)
	if _, err := io.CopyN(h, f, pos.offset); err != nil {
		return fmt.Errorf("connectors: reading %s: %w", name, err)
	}
	if h.Sum32() != pos.crc {
		return fmt.Errorf("%w: the first %d bytes of %s (read up to the snapshot) are not what was read then",
			ErrSourceChanged, pos.offset, name)
	}
	return nil
}
