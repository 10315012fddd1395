package bx

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// versioned is a getter that returns "<key>#<n>" for its n-th call.
func versioned() func(string) string {
	n := 0
	return func(key string) string {
		n++
		return fmt.Sprintf("%s#%d", key, n)
	}
}

func TestEnrichCached(t *testing.T) {
	join := func(c *TTLCache[string], item string) string { return item + "=" + c.Get(item) }
	tests := []struct {
		name string
		in   []string
		ttl  time.Duration
		want []string
	}{{
		// batches [a b] at 1s, [a a] at 2s, [b] at 3s
		name: "values older than the ttl are fetched again",
		in:   strs("a", "b", "a", "a", "b"),
		ttl:  1500 * time.Millisecond,
		want: strs("a=a#1", "b=b#2", "a=a#1", "a=a#1", "b=b#3"),
	}, {
		name: "a value as old as the ttl is still fresh",
		in:   strs("a", "x", "a"),
		ttl:  time.Second,
		want: strs("a=a#1", "x=x#2", "a=a#1"),
	}, {
		name: "zero ttl never expires",
		in:   strs("a", "b", "a", "b", "a"),
		want: strs("a=a#1", "b=b#2", "a=a#1", "b=b#2", "a=a#1"),
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			g := buildFlow(t, func() *Dataflow {
				clk := newFakeClock()
				tick := func() time.Time { clk.now = clk.now.Add(time.Second); return clk.now }
				f := NewDataflow("f")
				s := Input("inp", f, TestingSource(tt.in, 2))
				Output("out", enrichCached("enrich", s, versioned(), join, tt.ttl, tick), captureSink(&got))
				return f
			})
			if ids := stepIDs(g); !slices.Equal(ids, strs("f.inp", "f.enrich.flat_map_batch", "f.out")) {
				t.Errorf("steps = %q", ids)
			}
			simulate(t, g, simOpts{})
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestEnrichCachedUsesWallClock(t *testing.T) {
	var got []string
	runFlow(t, func() *Dataflow {
		f := NewDataflow("f")
		s := Input("inp", f, TestingSource(strs("a", "a"), 1))
		Output("out", EnrichCached("enrich", s, versioned(), func(c *TTLCache[string], item string) string {
			return c.Get(item)
		}, time.Hour), captureSink(&got))
		return f
	}, simOpts{})
	if want := strs("a#1", "a#1"); !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestTTLCache(t *testing.T) {
	type op struct {
		advance time.Duration
		get     string // key to get, or
		remove  string // key to remove
		want    string
	}
	tests := []struct {
		name string
		ttl  time.Duration
		ops  []op
	}{{
		name: "expiry",
		ttl:  time.Minute,
		ops: []op{
			{get: "a", want: "a#1"},
			{advance: time.Minute, get: "a", want: "a#1"},
			{advance: time.Nanosecond, get: "a", want: "a#2"},
			{get: "b", want: "b#3"},
		},
	}, {
		name: "remove",
		ttl:  time.Hour,
		ops: []op{
			{get: "a", want: "a#1"},
			{remove: "a"},
			{remove: "never cached"},
			{get: "a", want: "a#2"},
			{get: "a", want: "a#2"},
		},
	}, {
		name: "negative ttl never expires",
		ttl:  -time.Second,
		ops: []op{
			{get: "a", want: "a#1"},
			{advance: 1000 * time.Hour, get: "a", want: "a#1"},
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newFakeClock()
			c := NewTTLCache(versioned(), clk.Now, tt.ttl)
			for i, o := range tt.ops {
				clk.now = clk.now.Add(o.advance)
				if o.get == "" {
					c.Remove(o.remove)
					continue
				}
				if got := c.Get(o.get); got != o.want {
					t.Errorf("op %d: Get(%q) = %q, want %q", i, o.get, got, o.want)
				}
			}
		})
	}
}

func TestTTLCacheDefaultClock(t *testing.T) {
	c := NewTTLCache(versioned(), nil, time.Hour)
	if a, b := c.Get("k"), c.Get("k"); a != "k#1" || b != "k#1" {
		t.Errorf("Get twice = %q, %q; want k#1 both times", a, b)
	}
}
