package main

import (
	"fmt"
	"os"
	"runtime/pprof"
	"strconv"
)

// profileFile is where process id of a run writes its CPU profile when
// --cpuprofile names path: path itself for process 0 (and for a run on one
// process), path.N for process N of a cluster, nothing ("") without
// --cpuprofile. Every process that runs guests writes its own: with the
// watchdog that is the watched child, not the command the user started.
func profileFile(path string, id int) string {
	if id <= 0 || path == "" {
		return path
	}
	return path + "." + strconv.Itoa(id)
}

// startProfile starts a CPU profile into path, if path is not empty, and
// returns what stops it and closes the file.
func startProfile(path string) (func() error, error) {
	if path == "" {
		return func() error { return nil }, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("--cpuprofile: %w (give a path in a directory that exists and can be written)", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("--cpuprofile %s: %w", path, err)
	}
	return func() error {
		pprof.StopCPUProfile()
		return f.Close()
	}, nil
}
