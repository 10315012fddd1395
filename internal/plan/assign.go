package plan

import "sort"

// AssignParts gives each partition to exactly one worker. reach[w] lists the
// partitions worker w can reach. As in Bytewax, partitions reachable by the
// fewest workers are placed first, each on the reaching worker that has the
// fewest so far (lowest index on ties). The result maps partition name to
// worker; partitions nobody reaches are absent.
func AssignParts(reach [][]string) map[string]int {
	reachers := map[string][]int{}
	for w, parts := range reach {
		for _, p := range parts {
			reachers[p] = append(reachers[p], w)
		}
	}
	names := make([]string, 0, len(reachers))
	for p := range reachers {
		names = append(names, p)
	}
	sort.Slice(names, func(i, j int) bool {
		a, b := len(reachers[names[i]]), len(reachers[names[j]])
		if a != b {
			return a < b
		}
		return names[i] < names[j]
	})
	load := make([]int, len(reach))
	out := make(map[string]int, len(names))
	for _, p := range names {
		best := -1
		for _, w := range reachers[p] {
			if best < 0 || load[w] < load[best] || (load[w] == load[best] && w < best) {
				best = w
			}
		}
		out[p] = best
		load[best]++
	}
	return out
}
