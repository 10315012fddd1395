package connectors

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"io"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
)

// MaxLine is the longest line, without its line ending, that a line source
// reads. A longer line fails the run with ErrLineTooLong.
const MaxLine = 1 << 20

// readBufSize is the size of a line source's read buffer. Lines longer
// than the buffer are gathered from several reads.
const readBufSize = 256 << 10

// ErrLineTooLong is returned by a line source that meets a line longer
// than MaxLine.
var ErrLineTooLong = errors.New("connectors: line longer than 1 MiB")

// lineReader splits a stream into lines and counts the bytes it consumed,
// which is the resume position.
type lineReader struct {
	name    string // file name for errors
	r       *bufio.Reader
	off     int64  // bytes consumed, from the start of the stream
	crc     uint32 // CRC-32C of the bytes consumed, when hash is set
	hash    bool
	line    int64 // lines read so far, counting from start
	resumed bool  // started after offset 0: line numbers are unknown
	long    []byte
	eof     bool
}

func newLineReader(name string, r io.Reader, off int64) *lineReader {
	return &lineReader{name: name, r: bufio.NewReaderSize(r, readBufSize), off: off, resumed: off > 0}
}

// read appends up to max lines to b (at least one, unless the stream
// ended), calling each (if not nil) after every line it appends, and
// reports whether the stream ended.
func (l *lineReader) read(b *abi.Batch, max int, each func()) (bool, error) {
	if l.eof {
		return true, nil
	}
	for n := 0; n < max || n == 0; n++ {
		line, err := l.readLine()
		if err != nil && err != io.EOF {
			return false, err
		}
		if len(line) > 0 || err == nil {
			b.Append(nil, false, line)
			if each != nil {
				each()
			}
		}
		if err == io.EOF {
			l.eof = true
			return true, nil
		}
	}
	return false, nil
}

// readLine returns the next line without its "\n" or "\r\n", valid until
// the next read. At the end of the stream it returns the last, unended
// line (maybe empty) with io.EOF.
func (l *lineReader) readLine() ([]byte, error) {
	frag, err := l.r.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		frag, err = l.readLong(frag)
	}
	switch {
	case errors.Is(err, ErrLineTooLong):
		return nil, err
	case err != nil && err != io.EOF:
		return nil, fmt.Errorf("connectors: reading %s: %w", l.name, err)
	}
	line := trimEOL(frag)
	if len(line) > MaxLine {
		return nil, l.tooLong()
	}
	l.off += int64(len(frag))
	if l.hash {
		l.crc = crc32.Update(l.crc, castagnoli, frag)
	}
	if len(frag) > 0 {
		l.line++
	}
	return line, err
}

// readLong gathers a line longer than the read buffer, giving up once it
// is longer than MaxLine.
func (l *lineReader) readLong(frag []byte) ([]byte, error) {
	l.long = append(l.long[:0], frag...)
	for {
		frag, err := l.r.ReadSlice('\n')
		l.long = append(l.long, frag...)
		if err != bufio.ErrBufferFull {
			return l.long, err
		}
		if len(l.long) > MaxLine+2 {
			return nil, l.tooLong()
		}
	}
}

// tooLong names the line being read: by number, or by offset when the
// reader started in the middle of the stream.
func (l *lineReader) tooLong() error {
	if l.resumed {
		return fmt.Errorf("%w: %s, the line at byte offset %d", ErrLineTooLong, l.name, l.off)
	}
	return fmt.Errorf("%w: %s line %d", ErrLineTooLong, l.name, l.line+1)
}

func trimEOL(p []byte) []byte {
	if !bytes.HasSuffix(p, []byte{'\n'}) {
		return p
	}
	p = p[:len(p)-1]
	return bytes.TrimSuffix(p, []byte{'\r'})
}
