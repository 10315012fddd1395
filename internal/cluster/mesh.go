package cluster

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
)

// Defaults of MeshConfig.
const (
	DefaultHeartbeat = 250 * time.Millisecond
	DefaultLostAfter = 5 * time.Second
)

// flushTimeout bounds how long Abort and Done wait for the server.
const flushTimeout = 2 * time.Second

// MeshConfig configures one process's membership in a run.
type MeshConfig struct {
	Run       string        // run id; namespaces the subjects
	Process   int           // this process's id, in [0, Processes)
	Processes int           // how many processes the run has
	Hello     []byte        // opaque bytes every other process receives
	Names     []string      // nil, or each process's address for errors
	Timeout   time.Duration // join timeout; <= 0 waits until ctx is done
	Heartbeat time.Duration // DefaultHeartbeat if 0
	LostAfter time.Duration // DefaultLostAfter if 0
}

// withDefaults fills in the zero durations.
func (c MeshConfig) withDefaults() MeshConfig {
	if c.Heartbeat == 0 {
		c.Heartbeat = DefaultHeartbeat
	}
	if c.LostAfter == 0 {
		c.LostAfter = DefaultLostAfter
	}
	return c
}

// Validate reports what is wrong with c (after defaults), wrapping ErrConfig.
func (c MeshConfig) Validate() error {
	if err := validRun(c.Run); err != nil {
		return err
	}
	switch {
	case c.Processes < 1:
		return fmt.Errorf("%w: %d processes", ErrConfig, c.Processes)
	case c.Process < 0 || c.Process >= c.Processes:
		return fmt.Errorf("%w: process id %d out of range [0, %d)", ErrConfig, c.Process, c.Processes)
	case c.Names != nil && len(c.Names) != c.Processes:
		return fmt.Errorf("%w: %d addresses for %d processes", ErrConfig, len(c.Names), c.Processes)
	case c.Heartbeat <= 0 || c.LostAfter <= c.Heartbeat:
		return fmt.Errorf("%w: heartbeat %s must be positive and below lost-after %s", ErrConfig, c.Heartbeat, c.LostAfter)
	}
	return nil
}

// Mesh is one process's membership in a run: it has said hello to the
// others, sends heartbeats, and watches the others' heartbeats and aborts.
type Mesh struct {
	nc        *nats.Conn
	cfg       MeshConfig
	prefix    string
	instance  uint64
	sub       *nats.Subscription
	joinDone  chan struct{} // closed when joined or when joining failed
	watch     chan error    // the first reason to stop; buffered
	stop      chan struct{}
	wg        sync.WaitGroup
	doneOnce  sync.Once
	closeOnce sync.Once

	mu struct {
		sync.Mutex
		hellos    [][]byte
		have      []bool
		instances []uint64
		count     int
		joined    bool
		joinErr   error
		live      *liveness
		cutOff    time.Time // when the connection went down; zero if up
		reported  bool
	}
}

// Join announces this process on the run's mesh subjects and waits until
// every one of the processes has said hello, re-announcing periodically so
// that late joiners hear it. It returns every process's hello, by process
// id. If some never come within timeout it fails with ErrJoinTimeout naming
// them (and their addresses when names is non-nil). A process that aborts
// while the others join fails the join with its *RemoteError.
func Join(ctx context.Context, nc *nats.Conn, run string, process, processes int, hello []byte,
	names []string, timeout time.Duration) (*Mesh, [][]byte, error) {
	return JoinMesh(ctx, nc, MeshConfig{
		Run: run, Process: process, Processes: processes, Hello: hello, Names: names, Timeout: timeout,
	})
}

// JoinMesh is Join with every setting, including the heartbeat period and
// how long a silent process may stay silent.
func JoinMesh(ctx context.Context, nc *nats.Conn, cfg MeshConfig) (*Mesh, [][]byte, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, nil, err
	}
	m := newMesh(nc, cfg)
	if err := m.start(); err != nil {
		return nil, nil, err
	}
	hellos, err := m.waitJoined(ctx)
	if err != nil {
		m.Close()
		return nil, nil, err
	}
	return m, hellos, nil
}

// newMesh prepares a mesh that knows only its own hello.
func newMesh(nc *nats.Conn, cfg MeshConfig) *Mesh {
	m := &Mesh{
		nc: nc, cfg: cfg, prefix: meshPrefix(cfg.Run), instance: rand.Uint64() | 1,
		joinDone: make(chan struct{}), watch: make(chan error, 1), stop: make(chan struct{}),
	}
	n := cfg.Processes
	m.mu.hellos, m.mu.have, m.mu.instances = make([][]byte, n), make([]bool, n), make([]uint64, n)
	m.mu.live = newLiveness(cfg.Process, n, cfg.LostAfter, time.Now())
	m.recordLocked(cfg.Process, hello{instance: m.instance, body: append([]byte{}, cfg.Hello...)}, time.Now())
	return m
}

// start subscribes, announces this process and starts the heartbeat loop.
func (m *Mesh) start() error {
	sub, err := m.nc.Subscribe(m.prefix+">", m.handle)
	if err != nil {
		return fmt.Errorf("cluster: subscribe to %s>: %w", m.prefix, err)
	}
	m.sub = sub
	if err := m.nc.FlushTimeout(flushTimeout); err != nil {
		sub.Unsubscribe()
		return fmt.Errorf("cluster: subscribe to %s>: %w", m.prefix, err)
	}
	m.announce(!m.joined(), false)
	m.wg.Add(1)
	go m.loop()
	return nil
}

// waitJoined waits for every hello, a failure, the timeout or ctx.
func (m *Mesh) waitJoined(ctx context.Context) ([][]byte, error) {
	var timeout <-chan time.Time
	if m.cfg.Timeout > 0 {
		t := time.NewTimer(m.cfg.Timeout)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-m.joinDone:
		return m.joinResult()
	case <-timeout:
		return nil, m.timeoutError()
	case <-ctx.Done():
		return nil, fmt.Errorf("cluster: join: %w", ctx.Err())
	}
}

// joinResult is the hellos, or why joining failed.
func (m *Mesh) joinResult() ([][]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.mu.joinErr != nil {
		return nil, m.mu.joinErr
	}
	return append([][]byte{}, m.mu.hellos...), nil
}

// Watch returns a channel that receives the first reason this process must
// stop because of another: a *RemoteError when another process aborted, a
// *LostError when one stopped sending heartbeats without saying Done, or
// ErrDuplicateProcess or ErrDisconnected. Only one error is ever sent.
func (m *Mesh) Watch() <-chan error { return m.watch }

// Abort tells every other process that this one failed with err; err's
// text travels and arrives as a *RemoteError.
func (m *Mesh) Abort(err error) {
	PublishAbort(m.nc, m.cfg.Run, m.cfg.Process, err)
}

// PublishAbort is Abort for a process that has no Mesh, for example because
// it failed before joining: the others' Join fails with its *RemoteError,
// or their Watch receives it.
func PublishAbort(nc *nats.Conn, run string, process int, cause error) error {
	if err := validRun(run); err != nil {
		return err
	}
	text := "aborted"
	if cause != nil {
		text = cause.Error()
	}
	if err := nc.Publish(subject(meshPrefix(run), kindAbort, process), []byte(text)); err != nil {
		return fmt.Errorf("cluster: abort: %w", err)
	}
	if err := nc.FlushTimeout(flushTimeout); err != nil {
		return fmt.Errorf("cluster: abort: %w", err)
	}
	return nil
}

// Done tells the others that this process finished normally, so that its
// silence from now on is not taken for a loss.
func (m *Mesh) Done() {
	m.doneOnce.Do(func() {
		m.nc.Publish(subject(m.prefix, kindDone, m.cfg.Process), nil)
		m.nc.FlushTimeout(flushTimeout)
	})
}

// Close stops the heartbeats and the watching. It does not close the NATS
// connection, and without Done the others will report this process lost.
func (m *Mesh) Close() {
	m.closeOnce.Do(func() {
		close(m.stop)
		m.wg.Wait()
		m.sub.Unsubscribe()
	})
}
