package bx

import (
	"slices"
	"time"
)

// TTLCache caches values by key: Get returns the cached value while it is
// younger than the TTL and fetches it again with the getter otherwise, as
// Bytewax's TTLCache does. It has no size bound. It is not safe for
// concurrent use (a guest runs one call at a time).
type TTLCache[V any] struct {
	getter  func(key string) V
	now     func() time.Time
	ttl     time.Duration
	entries map[string]cacheEntry[V]
}

type cacheEntry[V any] struct {
	at    time.Time
	value V
}

// NewTTLCache returns an empty cache that fetches missing and expired
// values with getter. now is its clock (time.Now when nil). A ttl of zero
// or less means values never expire (Bytewax's default, timedelta.max).
func NewTTLCache[V any](getter func(key string) V, now func() time.Time, ttl time.Duration) *TTLCache[V] {
	if now == nil {
		now = time.Now
	}
	return &TTLCache[V]{getter: getter, now: now, ttl: ttl, entries: map[string]cacheEntry[V]{}}
}

// Get returns the value for key, calling the getter when the key is not
// cached or its value is older than the TTL.
func (c *TTLCache[V]) Get(key string) V {
	now := c.now()
	if e, ok := c.entries[key]; ok && (c.ttl <= 0 || now.Sub(e.at) <= c.ttl) {
		return e.value
	}
	v := c.getter(key)
	c.entries[key] = cacheEntry[V]{at: now, value: v}
	return v
}

// Remove forgets the value for key, if any.
func (c *TTLCache[V]) Remove(key string) { delete(c.entries, key) }

// EnrichCached joins items with data pulled from outside the flow:
// mapper is called with every item and a TTLCache whose getter is getter,
// and each of its results is emitted. The cache is the step's, one per
// worker (each worker runs its own guest instance); it is not part of
// snapshots, so a resumed flow fetches again. Its clock is the guest's
// wall clock (time.Now), read once per batch as in Bytewax, so all items of
// a batch see the same entries. A ttl of zero or less never expires
// values. Its core step is "<id>.flat_map_batch".
func EnrichCached[T, V, U any](id string, up *Stream[T], getter func(string) V, mapper func(cache *TTLCache[V], item T) U, ttl time.Duration) *Stream[U] {
	return enrichCached(id, up, getter, mapper, ttl, time.Now)
}

// enrichCached is EnrichCached with its clock passed in.
func enrichCached[T, V, U any](id string, up *Stream[T], getter func(string) V, mapper func(cache *TTLCache[V], item T) U, ttl time.Duration, now func() time.Time) *Stream[U] {
	checkLibFunc("EnrichCached", id, getter == nil || mapper == nil)
	var batchNow time.Time
	cache := NewTTLCache(getter, func() time.Time { return batchNow }, ttl)
	return batchOp(up, func(xs []T, out []U) []U {
		batchNow = now()
		out = slices.Grow(out, len(xs))
		for _, x := range xs {
			out = append(out, mapper(cache, x))
		}
		return out
	}, id)
}
