package main

import (
	"bufio"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
)

// The recovery figures: wasm-w1-recovery is wasm-w1 snapshotting into a
// fresh store every recoveryInterval; the resume figure reruns the keys
// guest (internal/bench/keys) on the store its first run wrote.
const (
	recoveryInterval = "1s"
	// recoveryAim is the least throughput of wasm-w1-recovery relative
	// to wasm-w1.
	recoveryAim = 0.8
	// resumeAim is the most seconds a resume of the keys store may take.
	resumeAim = 5.0
	// keysMemoryMiB is the keys guest's memory limit: at 1M keys its
	// state does not fit the default 256 MiB.
	keysMemoryMiB = "1024"
	// keysInterval is the keys runs' epoch interval (bxwasm's default):
	// the write is not the figure under test, and with 1s epochs its
	// per-epoch garbage collection of the store takes minutes.
	keysInterval = "10s"
)

// measureRecovery times wordcount on one worker with -r, each run in a
// fresh store, keeping the best time and the size of that run's store.
func (b binaries) measureRecovery(dir, corpus string, runs int) (measurement, error) {
	var best measurement
	out := filepath.Join(dir, "wasm-w1-recovery.out")
	for i := range runs {
		store := filepath.Join(dir, fmt.Sprintf("wc-store-%d", i))
		argv := b.wasmArgs(dir, corpus, 1, "-r", store, "--epoch-interval", recoveryInterval)
		m, err := measure("wasm-w1-recovery", 1, out, argv)
		if err != nil {
			return best, err
		}
		if m.storeBytes, err = dirSize(store); err != nil {
			return best, err
		}
		rss := max(best.maxRSS, m.maxRSS)
		if i == 0 || m.seconds < best.seconds {
			best = m
		}
		best.maxRSS = rss
	}
	return best, nil
}

// resumeRun is the keys guest's first run on a fresh store and its rerun
// on the same store, which resumes at the end of the input.
type resumeRun struct {
	keys    int
	write   measurement
	resume  measurement
	resume2 measurement // the same resume on two workers, restoring in parallel
	inspect string      // what `bxwasm recovery inspect` printed after the rerun
}

// measureResume writes a file of n distinct keys, runs the keys guest on
// it with a fresh store, then runs the same command again and reads the
// store's summary.
func (b binaries) measureResume(dir string, n int) (resumeRun, error) {
	r := resumeRun{keys: n}
	keys := filepath.Join(dir, "keys.txt")
	if err := writeKeys(keys, n); err != nil {
		return r, err
	}
	store := filepath.Join(dir, "keys-store")
	argv := []string{b.bxwasm, "run", b.keysWasm + ":get_flow('" + keys + "')", "-w", "1",
		"-r", store, "--epoch-interval", keysInterval, "--memory-limit", keysMemoryMiB,
		"--allow-path", dir, "--cache-dir", b.cache}
	var err error
	fmt.Printf("running keys: write %d keys\n", n)
	if r.write, err = keysRun("keys-write", dir, store, argv); err != nil {
		return r, err
	}
	fmt.Println("running keys: resume")
	if r.resume, err = keysRun("keys-resume", dir, store, argv); err != nil {
		return r, err
	}
	fmt.Println("running keys: resume on two workers")
	argv2 := append([]string(nil), argv...)
	argv2[4] = "2" // -w
	if r.resume2, err = keysRun("keys-resume-w2", dir, store, argv2); err != nil {
		return r, err
	}
	out, err := exec.Command(b.bxwasm, "recovery", "inspect", store).CombinedOutput()
	if err != nil {
		return r, fmt.Errorf("recovery inspect %s: %w\n%s", store, err, out)
	}
	r.inspect = string(out)
	return r, nil
}

// keysRun runs the keys guest once, checks that it printed nothing (every
// key is distinct), and measures the store.
func keysRun(name, dir, store string, argv []string) (measurement, error) {
	out := filepath.Join(dir, name+".out")
	m, err := measure(name, 1, out, argv)
	if err != nil {
		return m, err
	}
	if fi, err := os.Stat(out); err != nil || fi.Size() != 0 {
		return m, fmt.Errorf("%s: printed repeated keys into %s (or %v); every key is distinct", name, out, err)
	}
	m.storeBytes, err = dirSize(store)
	return m, err
}

// writeKeys writes n distinct keys to path, one a line.
func writeKeys(path string, n int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)
	var buf []byte
	for i := range n {
		buf = append(strconv.AppendInt(append(buf[:0], "key-"...), int64(i), 10), '\n')
		w.Write(buf)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}

// dirSize returns the total size of the regular files under dir.
func dirSize(dir string) (int64, error) {
	var total int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		fi, err := d.Info()
		if err == nil {
			total += fi.Size()
		}
		return err
	})
	return total, err
}
