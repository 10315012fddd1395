package bx

import (
	"math"
	"time"
)

// The window machinery computes in Unix nanoseconds (int64), saturating at
// the ends of the range: minTime is "the beginning of time" (Bytewax's
// UTC_MIN, the watermark before any item) and maxTime "the end of time"
// (UTC_MAX, the watermark at EOF). Times outside 1678..2262 are clamped to
// the ends.
const (
	minTime int64 = math.MinInt64
	maxTime int64 = math.MaxInt64
)

// callNow is the host's clock (Unix nanoseconds) of the stateful call
// running now, 0 when the call carried none.
var callNow int64

// hostNow is the system clock windows use: the host's clock of the
// current call, so that watermarks and the host's timers agree, or the
// guest's wall clock when the host sent none.
func hostNow() time.Time {
	if callNow != 0 {
		return time.Unix(0, callNow).UTC()
	}
	return time.Now()
}

// toNanos converts t to Unix nanoseconds, clamping to the int64 range.
func toNanos(t time.Time) int64 {
	switch s := t.Unix(); {
	case s >= maxTime/int64(time.Second):
		return maxTime
	case s <= minTime/int64(time.Second):
		return minTime
	}
	return t.UnixNano()
}

// fromNanos converts Unix nanoseconds to a UTC time.
func fromNanos(n int64) time.Time { return time.Unix(0, n).UTC() }

// addSat returns a+b, saturating at the ends of the int64 range.
func addSat(a, b int64) int64 {
	s := a + b
	switch {
	case b > 0 && s < a:
		return maxTime
	case b < 0 && s > a:
		return minTime
	}
	return s
}

// subSat returns a-b, saturating at the ends of the int64 range.
func subSat(a, b int64) int64 {
	if b == minTime {
		if a >= 0 {
			return maxTime
		}
		return a - b // a < 0: a - MinInt64 fits
	}
	return addSat(a, -b)
}

// floorDiv divides rounding towards minus infinity (d > 0).
func floorDiv(n, d int64) int64 {
	q := n / d
	if n%d != 0 && n < 0 {
		q--
	}
	return q
}
