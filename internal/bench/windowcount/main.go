// Command windowcount is the guest of the benchmark's window figure: it
// reads "key,unix_millis" lines from a file, counts them per key in
// 1-minute tumbling windows of event time (CountWindow, EventClock with
// a wait of Wait, TumblingWindower aligned to the Unix epoch) and writes
// one "key window_id count" line per key and window to a file as each
// window closes. Lines that do not parse are dropped; late events go to
// the Late stream, which the flow ignores.
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o windowcount.wasm .
//	bxwasm run windowcount.wasm:"flow('events.txt', 'counts.txt')" -w2
package main

import (
	"encoding/binary"
	"errors"
	"strconv"
	"strings"
	"time"

	bx "github.com/bxwasm/bxwasm/guest-sdk/go/bx"
)

// Wait is how far behind the newest event of a key an event may come and
// still be counted.
const Wait = 30 * time.Second

// Length is the length of a window; window ids count Lengths from the
// Unix epoch.
const Length = time.Minute

func init() {
	bx.Register("flow", windowcount, "in", "out")
}

// windowcount builds the flow from the file in to the file out.
func windowcount(in, out string) *bx.Dataflow {
	flow := bx.NewDataflow("windowcount")
	lines := bx.Input("inp", flow, bx.FileSource(in))
	events := bx.FilterMap("parse", lines, parse)
	clock := bx.EventClock(Event.time, Wait)
	win := bx.TumblingWindower(Length, time.Unix(0, 0))
	counts := bx.CountWindow("count", events, clock, win, Event.key)
	bx.Output("out", bx.Map("format", counts.Down, format), bx.FileSink(out))
	return flow
}

// Event is one parsed line.
type Event struct {
	Key    string
	Millis int64
}

func (e Event) key() string { return e.Key }

func (e Event) time() time.Time { return time.UnixMilli(e.Millis) }

// AppendBinary encodes the event as the millis (zig-zag varint) and the
// key, so events cross between steps without JSON.
func (e Event) AppendBinary(dst []byte) ([]byte, error) {
	return append(binary.AppendVarint(dst, e.Millis), e.Key...), nil
}

// MarshalBinary encodes the event.
func (e Event) MarshalBinary() ([]byte, error) { return e.AppendBinary(nil) }

// UnmarshalBinary decodes an event AppendBinary encoded.
func (e *Event) UnmarshalBinary(b []byte) error {
	ms, n := binary.Varint(b)
	if n <= 0 {
		return errors.New("windowcount: truncated event")
	}
	e.Millis, e.Key = ms, string(b[n:])
	return nil
}

// parse reads "key,unix_millis"; it reports false for anything else.
func parse(line string) (Event, bool) {
	key, ms, ok := strings.Cut(line, ",")
	n, err := strconv.ParseInt(ms, 10, 64)
	if !ok || key == "" || err != nil {
		return Event{}, false
	}
	return Event{Key: key, Millis: n}, true
}

// format renders one window's count as "key window_id count".
func format(kv bx.KV[bx.Windowed[int]]) string {
	return kv.Key + " " + strconv.FormatInt(kv.Value.ID, 10) + " " + strconv.Itoa(kv.Value.Value)
}

func main() {}
