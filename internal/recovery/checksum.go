package recovery

import (
	"encoding/binary"
	"hash/crc32"
)

// castagnoli is the CRC-32C table (hardware-accelerated on amd64 and arm64).
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Checksum is the CRC-32C of a snapshot as stored: step id and key (each
// preceded by its length as a uvarint), the epoch (8 bytes, big endian), a
// tombstone flag (1 for a nil State, else 0) and the state's bytes. The
// SQLite store keeps it beside every row and checks it when it loads the
// row, so a row altered outside bxwasm (state, tombstone, epoch, step or
// key) stops a resume instead of restoring wrong state.
//
//	uvarint(len(step)) step uvarint(len(key)) key epoch[8] tombstone[1] state...
func Checksum(s Snapshot) uint32 {
	var hdr [2*binary.MaxVarintLen64 + 9]byte
	b := binary.AppendUvarint(hdr[:0], uint64(len(s.StepID)))
	crc := crc32.Update(0, castagnoli, b)
	crc = crc32.Update(crc, castagnoli, []byte(s.StepID))
	b = binary.AppendUvarint(hdr[:0], uint64(len(s.Key)))
	crc = crc32.Update(crc, castagnoli, b)
	crc = crc32.Update(crc, castagnoli, []byte(s.Key))
	b = binary.BigEndian.AppendUint64(hdr[:0], s.Epoch)
	if s.State == nil {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	crc = crc32.Update(crc, castagnoli, b)
	return crc32.Update(crc, castagnoli, s.State)
}
