package hostile

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
)

// nestedBlocks is a valid module of one function made of depth nested
// empty blocks: small on disk, and slow for an optimising compiler.
func nestedBlocks(depth int) []byte {
	var body bytes.Buffer
	body.WriteByte(0) // no locals
	for range depth {
		body.Write([]byte{0x02, 0x40}) // block (no result)
	}
	for range depth {
		body.WriteByte(0x0b) // end
	}
	body.WriteByte(0x0b) // end of the function
	var m bytes.Buffer
	m.Write([]byte("\x00asm\x01\x00\x00\x00"))
	section(&m, 1, []byte{1, 0x60, 0, 0}) // type: () -> ()
	section(&m, 3, []byte{1, 0})          // function 0 has type 0
	code := binary.AppendUvarint([]byte{1}, uint64(body.Len()))
	section(&m, 10, append(code, body.Bytes()...))
	return m.Bytes()
}

// section appends a section of id with its payload.
func section(m *bytes.Buffer, id byte, payload []byte) {
	m.WriteByte(id)
	m.Write(binary.AppendUvarint(nil, uint64(len(payload))))
	m.Write(payload)
}

// writeModule writes b into a file in a test's temporary directory.
func writeModule(t *testing.T, name string, b []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
