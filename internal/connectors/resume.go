package connectors

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// ErrBadResume is returned when a partition cannot continue from the
// resume state it is given.
var ErrBadResume = errors.New("connectors: bad resume state")

// ErrUnknownPart is returned by Open for a partition the connector does
// not have.
var ErrUnknownPart = errors.New("connectors: unknown partition")

// encodeOffset is the resume state of a position: a uvarint.
func encodeOffset(off int64) []byte { return binary.AppendUvarint(nil, uint64(off)) }

// decodeOffset reads the resume state of a position; no state is 0.
// limit is the largest position that makes sense (the size of the data).
func decodeOffset(part string, resume []byte, limit int64) (int64, error) {
	if len(resume) == 0 {
		return 0, nil
	}
	v, n := binary.Uvarint(resume)
	if n != len(resume) {
		return 0, fmt.Errorf("%w: %s: %d bytes are not an offset", ErrBadResume, part, len(resume))
	}
	if v > uint64(limit) {
		return 0, fmt.Errorf("%w: %s: offset %d is past the end (%d); was it changed since the snapshot?", ErrBadResume, part, v, limit)
	}
	return int64(v), nil
}
