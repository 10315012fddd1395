package cluster

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// joinResult is what one process's Join returned.
type joinResult struct {
	mesh   *Mesh
	hellos [][]byte
	err    error
}

// joinAll joins processes in goroutines, each with its own connection to
// the url for its id, after delay*id, and returns their results by id.
func joinAll(t *testing.T, urls []string, cfg MeshConfig, delay time.Duration) []joinResult {
	t.Helper()
	out := make([]joinResult, cfg.Processes)
	var wg sync.WaitGroup
	for p := range cfg.Processes {
		nc := connect(t, urls[p%len(urls)])
		c := cfg
		c.Process, c.Hello = p, []byte(fmt.Sprintf("hello from %d", p))
		wg.Go(func() {
			time.Sleep(time.Duration(p) * delay)
			m, h, err := JoinMesh(context.Background(), nc, c)
			out[p] = joinResult{m, h, err}
		})
	}
	wg.Wait()
	for _, r := range out {
		if r.mesh != nil {
			t.Cleanup(r.mesh.Close)
		}
	}
	return out
}

// joinOK is joinAll for a join that must succeed.
func joinOK(t *testing.T, urls []string, cfg MeshConfig) []*Mesh {
	t.Helper()
	var meshes []*Mesh
	for p, r := range joinAll(t, urls, cfg, 0) {
		if r.err != nil {
			t.Fatalf("process %d: Join: %v", p, r.err)
		}
		meshes = append(meshes, r.mesh)
	}
	return meshes
}

// checkHellos checks that every process got every hello.
func checkHellos(t *testing.T, results []joinResult) {
	t.Helper()
	for p, r := range results {
		if r.err != nil {
			t.Fatalf("process %d: Join: %v", p, r.err)
		}
		for q, h := range r.hellos {
			if want := fmt.Sprintf("hello from %d", q); string(h) != want {
				t.Errorf("process %d got hello[%d] = %q, want %q", p, q, h, want)
			}
		}
		if len(r.hellos) != len(results) {
			t.Errorf("process %d got %d hellos, want %d", p, len(r.hellos), len(results))
		}
	}
}

func TestJoinThreeProcesses(t *testing.T) {
	_, url := startServer(t, ServerConfig{Listen: "127.0.0.1:0"})
	for _, tc := range []struct {
		name  string
		delay time.Duration
	}{
		{"together", 0},
		{"staggered late joiners", 400 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := MeshConfig{Run: "r-" + strings.ReplaceAll(tc.name, " ", "-"), Processes: 3, Timeout: 10 * time.Second}
			checkHellos(t, joinAll(t, []string{url}, cfg, tc.delay))
		})
	}
}

func TestJoinAcrossRoutedServers(t *testing.T) {
	a, urlA := startServer(t, ServerConfig{Listen: "127.0.0.1:0", ClusterListen: "127.0.0.1:0"})
	_, urlB := startServer(t, ServerConfig{
		Listen: "127.0.0.1:0", ClusterListen: "127.0.0.1:0", Routes: []string{a.ClusterAddr().String()},
	})
	cfg := MeshConfig{Run: "routed", Processes: 2, Timeout: 10 * time.Second}
	checkHellos(t, joinAll(t, []string{urlA, urlB}, cfg, 0))
}

func TestJoinSingleProcess(t *testing.T) {
	_, url := startServer(t, ServerConfig{Listen: "127.0.0.1:0"})
	checkHellos(t, joinAll(t, []string{url}, MeshConfig{Run: "alone", Processes: 1, Timeout: time.Second}, 0))
}

func TestJoinTimeoutNamesMissing(t *testing.T) {
	_, url := startServer(t, ServerConfig{Listen: "127.0.0.1:0"})
	for _, tc := range []struct {
		name  string
		names []string
		n     int
		want  string
	}{
		{"with address", []string{"10.0.0.1:2101", "10.0.0.2:2101"}, 2,
			"process 1 (10.0.0.2:2101) did not join within 300ms"},
		{"without addresses", nil, 3, "processes 1, 2 did not join within 300ms"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nc := connect(t, url)
			m, _, err := Join(context.Background(), nc, "lonely", 0, tc.n, nil, tc.names, 300*time.Millisecond)
			if err == nil {
				m.Close()
				t.Fatal("Join succeeded, want a timeout")
			}
			if !errors.Is(err, ErrJoinTimeout) || !strings.HasSuffix(err.Error(), tc.want) {
				t.Fatalf("err = %q, want ErrJoinTimeout ending %q", err, tc.want)
			}
		})
	}
}

func TestJoinCancelled(t *testing.T) {
	_, url := startServer(t, ServerConfig{Listen: "127.0.0.1:0"})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, _, err := Join(ctx, connect(t, url), "cancelled", 0, 2, nil, nil, 0)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want context.DeadlineExceeded", err)
	}
}

func TestJoinFailsOnAbortBeforeJoining(t *testing.T) {
	_, url := startServer(t, ServerConfig{Listen: "127.0.0.1:0"})
	errc := make(chan error, 1)
	nc := connect(t, url)
	go func() {
		_, _, err := Join(context.Background(), nc, "early", 0, 2, nil, nil, 10*time.Second)
		errc <- err
	}()
	other := connect(t, url)
	var err error
	waitFor(t, 5*time.Second, "Join to fail", func() bool {
		if e := PublishAbort(other, "early", 1, errors.New("cannot load flow.wasm")); e != nil {
			t.Fatal(e)
		}
		select {
		case err = <-errc:
			return true
		case <-time.After(50 * time.Millisecond):
			return false
		}
	})
	var re *RemoteError
	if !errors.As(err, &re) || re.Process != 1 || re.Message != "cannot load flow.wasm" {
		t.Fatalf("err = %v, want RemoteError from process 1", err)
	}
}

func TestJoinDuplicateProcessID(t *testing.T) {
	_, url := startServer(t, ServerConfig{Listen: "127.0.0.1:0"})
	cfg := MeshConfig{Run: "dup", Processes: 2, Timeout: 10 * time.Second}
	first := make(chan joinResult, 1)
	nc0 := connect(t, url)
	go func() {
		m, h, err := JoinMesh(context.Background(), nc0, cfg)
		first <- joinResult{m, h, err}
	}()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	for range 2 { // two processes that both claim id 1
		c, nc := cfg, connect(t, url)
		c.Process = 1
		wg.Go(func() {
			if m, _, err := JoinMesh(ctx, nc, c); err == nil {
				m.Close()
			}
		})
	}
	r := <-first
	err := r.err
	if err == nil {
		defer r.mesh.Close()
		select {
		case err = <-r.mesh.Watch():
		case <-time.After(5 * time.Second):
		}
	}
	if !errors.Is(err, ErrDuplicateProcess) || !strings.Contains(err.Error(), "process 1 joined twice") {
		t.Fatalf("err = %v, want ErrDuplicateProcess naming process 1", err)
	}
}

// expectWatch waits for an error on m's Watch.
func expectWatch(t *testing.T, m *Mesh, within time.Duration) error {
	t.Helper()
	select {
	case err := <-m.Watch():
		return err
	case <-time.After(within):
		t.Fatalf("nothing on Watch within %s", within)
		return nil
	}
}

// expectQuiet checks that nothing arrives on m's Watch for d.
func expectQuiet(t *testing.T, m *Mesh, d time.Duration) {
	t.Helper()
	select {
	case err := <-m.Watch():
		t.Fatalf("Watch: %v, want nothing", err)
	case <-time.After(d):
	}
}

func TestAbortReachesWatch(t *testing.T) {
	_, url := startServer(t, ServerConfig{Listen: "127.0.0.1:0"})
	meshes := joinOK(t, []string{url}, MeshConfig{Run: "abort", Processes: 3, Timeout: 10 * time.Second})
	meshes[1].Abort(errors.New(`error calling mapper in step flow.explode for key "x"`))
	for _, p := range []int{0, 2} {
		err := expectWatch(t, meshes[p], 5*time.Second)
		var re *RemoteError
		if !errors.As(err, &re) || re.Process != 1 {
			t.Fatalf("process %d: Watch = %v, want a RemoteError from process 1", p, err)
		}
		want := `process 1 failed: error calling mapper in step flow.explode for key "x"`
		if err.Error() != want {
			t.Errorf("process %d: %q, want %q", p, err, want)
		}
	}
	expectQuiet(t, meshes[1], 300*time.Millisecond)
}

func TestSilentProcessIsLost(t *testing.T) {
	_, url := startServer(t, ServerConfig{Listen: "127.0.0.1:0"})
	cfg := MeshConfig{Run: "lost", Processes: 3, Timeout: 10 * time.Second,
		Names: []string{"h0:2101", "h1:2101", "h2:2101"}}
	meshes := joinOK(t, []string{url}, cfg)
	meshes[2].Close() // no Done: silence
	err := expectWatch(t, meshes[0], 2*DefaultLostAfter)
	// Process 0 last heard from 2 before the Close (its last heartbeat):
	// the loss may come no sooner than LostAfter after that, whenever the
	// test's own clock started.
	meshes[0].mu.Lock()
	last := meshes[0].mu.live.last[2]
	meshes[0].mu.Unlock()
	if silent := time.Since(last); silent <= DefaultLostAfter {
		t.Errorf("lost after %s of silence, not more than LostAfter %s", silent, DefaultLostAfter)
	}
	var le *LostError
	want := "process 2 (h2:2101) stopped responding (lost its heartbeat)"
	if !errors.As(err, &le) || le.Process != 2 || err.Error() != want {
		t.Fatalf("Watch = %v, want %q", err, want)
	}
	if err := expectWatch(t, meshes[1], time.Second); !errors.As(err, &le) || le.Process != 2 {
		t.Fatalf("process 1: Watch = %v, want process 2 lost", err)
	}
}

func TestDoneIsNotLost(t *testing.T) {
	_, url := startServer(t, ServerConfig{Listen: "127.0.0.1:0"})
	cfg := MeshConfig{Run: "done", Processes: 2, Timeout: 10 * time.Second,
		Heartbeat: 50 * time.Millisecond, LostAfter: 500 * time.Millisecond}
	meshes := joinOK(t, []string{url}, cfg)
	meshes[1].Done()
	meshes[1].Close()
	expectQuiet(t, meshes[0], 1500*time.Millisecond)
}

func TestMeshConfigValidate(t *testing.T) {
	ok := MeshConfig{Run: "r", Process: 1, Processes: 2}.withDefaults()
	for _, tc := range []struct {
		name string
		edit func(*MeshConfig)
		want string // "" for valid
	}{
		{"valid", func(*MeshConfig) {}, ""},
		{"dotted run", func(c *MeshConfig) { c.Run = "team.flow-7" }, ""},
		{"empty run", func(c *MeshConfig) { c.Run = "" }, "empty run"},
		{"wildcard run", func(c *MeshConfig) { c.Run = "a.*" }, "subject token"},
		{"space in run", func(c *MeshConfig) { c.Run = "a b" }, "subject token"},
		{"empty token", func(c *MeshConfig) { c.Run = "a..b" }, "subject token"},
		{"no processes", func(c *MeshConfig) { c.Processes = 0 }, "0 processes"},
		{"id too big", func(c *MeshConfig) { c.Process = 2 }, "out of range"},
		{"negative id", func(c *MeshConfig) { c.Process = -1 }, "out of range"},
		{"names mismatch", func(c *MeshConfig) { c.Names = []string{"a"} }, "1 addresses for 2"},
		{"lost before beat", func(c *MeshConfig) { c.LostAfter = c.Heartbeat }, "heartbeat"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := ok
			tc.edit(&c)
			err := c.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate = %v, want ErrConfig mentioning %q", err, tc.want)
			}
		})
	}
}
