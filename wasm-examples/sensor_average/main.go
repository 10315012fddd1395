// Command sensor_average computes a sliding average of sensor readings by
// event time: every Offset, the average of each sensor's readings over the
// last Length. It reads "sensor,unix_millis,value" lines from a file and
// prints "SENSOR WINDOW_START AVERAGE COUNT" per sensor and window, and
// "late SENSOR TIME VALUE window ID" for each window a reading missed by
// coming too late.
//
// Build it as a bxwasm guest and run it with the CLI:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o sensor_average.wasm .
//	bxwasm run sensor_average.wasm:"get_flow('testdata/readings.txt')" -w2
package main

import (
	"strconv"
	"strings"
	"time"

	bx "github.com/bxwasm/bxwasm/guest-sdk/go/bx"
)

// Windows last Length and one starts every Offset, aligned to AlignTo, so
// every reading is in Length/Offset windows.
const (
	Length = 10 * time.Minute
	Offset = 5 * time.Minute
)

// AlignTo is the start of window 0; window ids count Offsets from it.
var AlignTo = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// Wait is how long after a newer reading of the same sensor a reading may
// come and still be counted.
const Wait = time.Minute

func init() {
	bx.Register("get_flow", sensorAverage, "path")
}

// Reading is one line of the input.
type Reading struct {
	Sensor string    `json:"sensor"`
	At     time.Time `json:"at"`
	Value  float64   `json:"value"`
}

// Mean is the running sum and count of a window's readings.
type Mean struct {
	Sum   float64 `json:"sum"`
	Count int     `json:"count"`
}

// sensorAverage builds the flow over the file at path.
func sensorAverage(path string) *bx.Dataflow {
	flow := bx.NewDataflow("sensor_average")
	lines := bx.Input("inp", flow, bx.FileSource(path))
	readings := bx.KeyOn("sensor", bx.FilterMap("parse", lines, parse), func(r Reading) string { return r.Sensor })
	clock := bx.EventClock(func(r Reading) time.Time { return r.At }, Wait)
	win := bx.FoldWindow("average", readings, clock, bx.SlidingWindower(Length, Offset, AlignTo),
		func() Mean { return Mean{} }, add, merge)
	averages := bx.Map("format", win.Down, format)
	late := bx.Map("format_late", win.Late, formatLate)
	bx.Output("out", bx.Merge("all", averages, late), bx.StdOutSink())
	return flow
}

// parse reads "sensor,unix_millis,value"; it reports false for anything
// else.
func parse(line string) (Reading, bool) {
	f := strings.Split(strings.TrimSpace(line), ",")
	if len(f) != 3 || f[0] == "" {
		return Reading{}, false
	}
	ms, err := strconv.ParseInt(f[1], 10, 64)
	v, err2 := strconv.ParseFloat(f[2], 64)
	if err != nil || err2 != nil {
		return Reading{}, false
	}
	return Reading{Sensor: f[0], At: time.UnixMilli(ms).UTC(), Value: v}, true
}

// add is the folder: it adds a reading to the window's mean.
func add(m Mean, r Reading) Mean { return Mean{Sum: m.Sum + r.Value, Count: m.Count + 1} }

// merge is the merger, for merged windows (sliding windows never merge).
func merge(a, b Mean) Mean { return Mean{Sum: a.Sum + b.Sum, Count: a.Count + b.Count} }

// WindowStart is the start of window id.
func WindowStart(id int64) time.Time { return AlignTo.Add(time.Duration(id) * Offset) }

// format renders a window's mean as "SENSOR WINDOW_START AVERAGE COUNT".
func format(kv bx.KV[bx.Windowed[Mean]]) string {
	m := kv.Value.Value
	return strings.Join([]string{kv.Key, WindowStart(kv.Value.ID).Format(time.RFC3339),
		strconv.FormatFloat(m.Sum/float64(m.Count), 'f', 2, 64), strconv.Itoa(m.Count)}, " ")
}

// formatLate renders a late reading and a window it missed as
// "late SENSOR TIME VALUE window ID": the Late stream carries a late
// reading once per window it would have been in.
func formatLate(kv bx.KV[bx.Windowed[Reading]]) string {
	r := kv.Value.Value
	return strings.Join([]string{"late", r.Sensor, r.At.Format(time.RFC3339), strconv.FormatFloat(r.Value, 'f', -1, 64),
		"window", strconv.FormatInt(kv.Value.ID, 10)}, " ")
}

func main() {}
