// Command windows is a guest whose flows count events per key and window
// with an event clock, for the host's end-to-end window tests. Every flow
// reads "key,unix_millis" lines from a file and writes to a file one line
// per output of each windower:
//
//	WINDOWER count KEY ID COUNT         a window's count (Down)
//	WINDOWER meta KEY ID OPEN CLOSE     its bounds in Unix ms (Meta)
//	WINDOWER late KEY ID TS             a late event (Late)
//
// WINDOWER is tumbling (1 minute), sliding (1 minute every 20 s) or
// session (30 s gap); windows are aligned to Align. The flow "windows"
// runs all three, and "collect": an ordered CollectWindow over the
// tumbling windows, whose count lines list the event times of each window
// instead of a count. The factory arguments
// are the input path, the output path and the clock's wait in seconds.
package main

import (
	"strconv"
	"strings"
	"time"

	bx "github.com/bxwasm/bxwasm/guest-sdk/go/bx"
)

func main() {}

// Align is the alignTo of the tumbling and sliding windowers.
var Align = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// windowers are the windowers by the name the output lines give them.
var windowers = map[string]func() bx.Windower{
	"tumbling": func() bx.Windower { return bx.TumblingWindower(time.Minute, Align) },
	"sliding":  func() bx.Windower { return bx.SlidingWindower(time.Minute, 20*time.Second, Align) },
	"session":  func() bx.Windower { return bx.SessionWindower(30 * time.Second) },
}

func init() {
	for name := range windowers {
		bx.Register(name, func(inp, out string, waitS int) *bx.Dataflow {
			return countFlow(name, inp, out, waitS, name)
		}, "inp", "out", "wait_s")
	}
	bx.Register("windows", func(inp, out string, waitS int) *bx.Dataflow {
		return countFlow("windows", inp, out, waitS, "tumbling", "sliding", "session", "collect")
	}, "inp", "out", "wait_s")
}

// event is one input line.
type event struct {
	Key string `json:"k"`
	At  int64  `json:"at"` // Unix ms
}

// parse reads "key,unix_millis"; other lines are dropped.
func parse(line string) (event, bool) {
	k, at, ok := strings.Cut(strings.TrimSpace(line), ",")
	ms, err := strconv.ParseInt(at, 10, 64)
	return event{Key: k, At: ms}, ok && k != "" && err == nil
}

// countFlow counts the events of inp per key and window of each named
// windower into out.
func countFlow(id, inp, out string, waitS int, names ...string) *bx.Dataflow {
	flow := bx.NewDataflow(id)
	events := bx.FilterMap("parse", bx.Input("inp", flow, bx.FileSource(inp)), parse)
	clock := bx.EventClock(func(e event) time.Time { return time.UnixMilli(e.At) }, time.Duration(waitS)*time.Second)
	var lines []*bx.Stream[string]
	for _, name := range names {
		if name == "collect" {
			lines = append(lines, collectLines(events, clock))
			continue
		}
		lines = append(lines, countLines(name, events, clock, windowers[name]()))
	}
	bx.Output("out", bx.Merge("lines", lines...), bx.FileSink(out))
	return flow
}

// countLines runs CountWindow and formats its three streams.
func countLines(name string, events *bx.Stream[event], clock bx.Clock[event], w bx.Windower) *bx.Stream[string] {
	o := bx.CountWindow(name, events, clock, w, func(e event) string { return e.Key })
	return windowLines(name, o, func(n int) string { return strconv.Itoa(n) })
}

// collectLines runs CollectWindow (ordered) over tumbling windows, as
// "collect": its count lines list the event times of each window in the
// order the window received them.
func collectLines(events *bx.Stream[event], clock bx.Clock[event]) *bx.Stream[string] {
	keyed := bx.KeyOn("collect_key", events, func(e event) string { return e.Key })
	o := bx.CollectWindow("collect", keyed, clock, windowers["tumbling"]())
	return windowLines("collect", o, func(es []event) string {
		ats := make([]string, len(es))
		for i, e := range es {
			ats[i] = strconv.FormatInt(e.At, 10)
		}
		return strings.Join(ats, ",")
	})
}

// windowLines formats the three streams of a window operator, the values
// of its windows with format.
func windowLines[W any](name string, o bx.WindowOut[event, W], format func(W) string) *bx.Stream[string] {
	counts := bx.Map(name+"_counts", o.Down, func(kv bx.KV[bx.Windowed[W]]) string {
		return line(name, "count", kv.Key, kv.Value.ID) + " " + format(kv.Value.Value)
	})
	metas := bx.Map(name+"_metas", o.Meta, func(kv bx.KV[bx.Windowed[bx.WindowMetadata]]) string {
		m := kv.Value.Value
		return line(name, "meta", kv.Key, kv.Value.ID, m.OpenTime.UnixMilli(), m.CloseTime.UnixMilli())
	})
	late := bx.Map(name+"_late", o.Late, func(kv bx.KV[bx.Windowed[event]]) string {
		return line(name, "late", kv.Key, kv.Value.ID, kv.Value.Value.At)
	})
	return bx.Merge(name+"_lines", counts, metas, late)
}

// line formats one output line.
func line(windower, kind, key string, id int64, nums ...int64) string {
	var b strings.Builder
	b.WriteString(windower + " " + kind + " " + key + " " + strconv.FormatInt(id, 10))
	for _, n := range nums {
		b.WriteString(" " + strconv.FormatInt(n, 10))
	}
	return b.String()
}
