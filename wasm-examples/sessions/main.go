// Command sessions cuts a file of click events into sessions per user by
// event time: clicks less than Gap apart belong to one session. It prints
// one line per session, with its user, id, open and close time and the
// pages visited in time order, and one line per click that came too late
// to be counted.
//
// Build it as a bxwasm guest and run it with the CLI:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o sessions.wasm .
//	bxwasm run sessions.wasm:"get_flow('testdata/clicks.txt')" -w2
package main

import (
	"strconv"
	"strings"
	"time"

	bx "github.com/bxwasm/bxwasm/guest-sdk/go/bx"
)

// Gap is the longest pause between two clicks of one session.
const Gap = 5 * time.Minute

// Wait is how long after a newer click of the same user a click may come
// and still be counted; an older one is late.
const Wait = 2 * time.Minute

func init() {
	bx.Register("get_flow", sessions, "path")
}

// Click is one line of the input: "user,unix_millis,page".
type Click struct {
	User string    `json:"user"`
	At   time.Time `json:"at"`
	Page string    `json:"page"`
}

// Session is what the flow knows of a session: its pages from the window,
// its bounds from the window's metadata; the join puts the two together.
type Session struct {
	User  string    `json:"user"`
	ID    int64     `json:"id"`
	Pages []string  `json:"pages,omitempty"`
	Open  time.Time `json:"open"`
	Close time.Time `json:"close"`
}

// sessions builds the flow over the file at path.
func sessions(path string) *bx.Dataflow {
	flow := bx.NewDataflow("sessions")
	lines := bx.Input("inp", flow, bx.FileSource(path))
	clicks := bx.KeyOn("user", bx.FilterMap("parse", lines, parse), func(c Click) string { return c.User })
	clock := bx.EventClock(func(c Click) time.Time { return c.At }, Wait)
	win := bx.CollectWindow("session", clicks, clock, bx.SessionWindower(Gap))
	pages := bx.Map("pages", win.Down, pagesOf)
	bounds := bx.Map("bounds", win.Meta, boundsOf)
	joined := bx.Join("join", bx.JoinFirst, bx.JoinComplete, pages, bounds)
	done := bx.Map("format", joined, formatSession)
	late := bx.Map("format_late", win.Late, formatLate)
	bx.Output("out", bx.Merge("all", done, late), bx.StdOutSink())
	return flow
}

// parse reads "user,unix_millis,page"; it reports false for anything else.
func parse(line string) (Click, bool) {
	f := strings.Split(strings.TrimSpace(line), ",")
	if len(f) != 3 || f[0] == "" {
		return Click{}, false
	}
	ms, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return Click{}, false
	}
	return Click{User: f[0], At: time.UnixMilli(ms).UTC(), Page: f[2]}, true
}

// sessionKey keys the two halves of a session alike, so they meet in the
// join: the user and the session id.
func sessionKey(user string, id int64) string { return user + "/" + strconv.FormatInt(id, 10) }

// pagesOf turns a closed session's clicks (in time order) into its pages.
func pagesOf(kv bx.KV[bx.Windowed[[]Click]]) bx.KV[Session] {
	s := Session{User: kv.Key, ID: kv.Value.ID}
	for _, c := range kv.Value.Value {
		s.Pages = append(s.Pages, c.Page)
	}
	return bx.KV[Session]{Key: sessionKey(kv.Key, s.ID), Value: s}
}

// boundsOf turns a closed session's metadata into its bounds.
func boundsOf(kv bx.KV[bx.Windowed[bx.WindowMetadata]]) bx.KV[Session] {
	m := kv.Value.Value
	s := Session{User: kv.Key, ID: kv.Value.ID, Open: m.OpenTime, Close: m.CloseTime}
	return bx.KV[Session]{Key: sessionKey(kv.Key, s.ID), Value: s}
}

// formatSession renders a joined session as
// "session USER ID OPEN CLOSE PAGE,PAGE,...".
func formatSession(kv bx.KV[[]*Session]) string {
	pages, bounds := kv.Value[0], kv.Value[1]
	return strings.Join([]string{"session", bounds.User, strconv.FormatInt(bounds.ID, 10),
		bounds.Open.Format(time.RFC3339), bounds.Close.Format(time.RFC3339), strings.Join(pages.Pages, ",")}, " ")
}

// formatLate renders a late click as "late USER TIME PAGE".
func formatLate(kv bx.KV[bx.Windowed[Click]]) string {
	c := kv.Value.Value
	return strings.Join([]string{"late", c.User, c.At.Format(time.RFC3339), c.Page}, " ")
}

func main() {}
