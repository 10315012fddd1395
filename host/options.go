package host

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/bxwasm/bxwasm/internal/connectors"
	"github.com/bxwasm/bxwasm/internal/transport"
	"github.com/nats-io/nats.go"
)

// Defaults of Options, and of the bxwasm command's flags, which take theirs
// from here. A zero field of Options means its default.
const (
	DefaultWorkersPerProcess = 1
	DefaultEpochInterval     = 10 * time.Second
	DefaultMemoryLimitMiB    = 256
	DefaultProcesses         = 1
	DefaultJoinTimeout       = 30 * time.Second
	DefaultMaxItemSizeMiB    = 64
)

// Limits Options.Validate enforces.
const (
	// MaxWorkersPerProcess bounds Options.WorkersPerProcess.
	MaxWorkersPerProcess = 1024
	// MaxProcesses bounds Options.Processes, the processes of a cluster.
	MaxProcesses = 1024
	// MaxLocalProcesses bounds Options.LocalProcesses, the processes of a
	// run on one machine (and `bxwasm run -p`).
	MaxLocalProcesses = 256
	// MinEpochInterval is the shortest Options.EpochInterval.
	MinEpochInterval = time.Millisecond
	// MaxMemoryLimitMiB bounds Options.MemoryLimitMiB: a 32-bit guest
	// addresses at most 4 GiB.
	MaxMemoryLimitMiB = 4096
	// MaxItemSizeMiB bounds Options.MaxItemSizeMiB.
	MaxItemSizeMiB = transport.MaxItemSize >> 20
)

// Options configure a run. The zero value of each field means its default
// (the Default constants); Validate checks them, and Run validates them
// before it starts anything.
type Options struct {
	// WorkersPerProcess is the number of workers, each with its own guest
	// instance (default 1, at most MaxWorkersPerProcess).
	WorkersPerProcess int
	// EpochInterval is how often inputs close an epoch (default 10s, at
	// least MinEpochInterval).
	EpochInterval time.Duration
	// MemoryLimitMiB bounds each guest instance's linear memory (default
	// 256, at most MaxMemoryLimitMiB).
	MemoryLimitMiB int
	// MemoryTotalMiB bounds the guest memory of every worker of the run on
	// this machine: LocalProcesses × WorkersPerProcess × MemoryLimitMiB
	// must not exceed it. 0 means the machine's memory where it can be read
	// (Linux's /proc/meminfo), and no bound elsewhere.
	MemoryTotalMiB int
	// LocalProcesses is the number of processes of the run on this machine,
	// counted against MemoryTotalMiB (default 1, at most
	// MaxLocalProcesses).
	LocalProcesses int
	// MaxItemSizeMiB is the largest item, key and value together, a step
	// may send to another worker (default 64, at most MaxItemSizeMiB). A
	// bigger one fails the run with a *StepError wrapping ErrItemTooLarge,
	// whether the workers share a process or not.
	MaxItemSizeMiB int
	// CacheDir holds wazero's compiled code between runs; "" uses the user
	// cache directory, "-" disables the cache.
	CacheDir string
	// WorkDir is the directory host connectors resolve relative paths
	// against and may touch (default the current directory).
	WorkDir string
	// AllowPaths are further directories host connectors may read or write.
	AllowPaths []string
	// Connections are the servers stream connectors (JetStream, NATS,
	// Kafka) may reach, by the name a flow gives them; a flow naming any
	// other fails before it runs.
	Connections connectors.Connections
	// DeadLetter, when set, is the subject (a topic for Kafka) where a
	// stream source publishes, on its own connection, each item the step reading
	// it reports an error for, and the run goes on without it; the message
	// carries the error and where the item was read in its headers. Only a
	// guest's reported error counts: a trap still fails the run.
	DeadLetter string
	// Processes is the number of processes of a clustered run (default
	// 1, at most MaxProcesses). With more than one, this process runs
	// workers ProcessID*WorkersPerProcess onwards and exchanges data with
	// the others over the NATS at NATSURL, on subjects namespaced by RunID.
	Processes int
	// ProcessID is this process's index, 0 to Processes-1.
	ProcessID int
	// NATSURL is the NATS server the processes of a clustered run share.
	// Credentials may be in it (nats://user:pass@host, nats://token@host).
	NATSURL string
	// NATSOptions are further options of the connection to NATSURL, such as
	// nats.Token, nats.UserCredentials, nats.ClientCert and nats.RootCAs.
	NATSOptions []nats.Option
	// RunID namespaces a clustered run's NATS subjects; every process of
	// the run must use the same one, and no other run may.
	RunID string
	// Addresses names the processes in errors (a manual cluster's -a).
	Addresses []string
	// JoinTimeout is how long a clustered run waits for every process to
	// come up (default 30s).
	JoinTimeout time.Duration
	// RecoveryDir, when set, is a directory of SQLite partition files that
	// state is snapshotted into at every epoch and resumed from: a run
	// starts from the last epoch every worker committed. An empty or missing
	// directory gets a new store with one partition per worker of the run.
	// Relative paths are relative to WorkDir.
	RecoveryDir string
	// BackupInterval is how long snapshots stay after newer ones replaced
	// them (default 0: each key keeps only the snapshot of the epoch a run
	// would resume from, and later ones).
	BackupInterval time.Duration
	// ResetSources are ids of input steps that, on a resume, read their
	// files from the start instead of their stored positions: how to accept
	// an input file that changed since the snapshot (ErrSourceChanged).
	// Each must be an input step of the flow; needs RecoveryDir.
	ResetSources []string
	// Stop, when closed, stops the run gracefully: inputs stop reading,
	// every epoch read so far is finished (and snapshotted with
	// RecoveryDir), and Run returns nil without calling on_eof.
	Stop <-chan struct{}
	// MaxModuleSize refuses module files over this many bytes (default
	// 64 MiB).
	MaxModuleSize int64
	// Watchdog, when set, records every guest call where a supervising
	// bxwasm process watches it (see WatchdogFromEnv).
	Watchdog *Watchdog
	// Stdin, Stdout and Stderr are the host's streams for stdin/stdout
	// connectors and guest output (default os.Stdin, os.Stdout, os.Stderr).
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
}

// ErrBadOptions is wrapped by every error Validate returns.
var ErrBadOptions = errors.New("host: bad options")

// Validate checks the options, reading a zero field as its default. It
// changes nothing.
func (o Options) Validate() error { return o.withDefaults().check() }

// withDefaults returns o with every zero field that has a default set to
// it. This is the one place defaults are filled.
func (o Options) withDefaults() Options {
	setDefault(&o.WorkersPerProcess, DefaultWorkersPerProcess)
	setDefault(&o.EpochInterval, DefaultEpochInterval)
	setDefault(&o.MemoryLimitMiB, DefaultMemoryLimitMiB)
	setDefault(&o.LocalProcesses, 1)
	setDefault(&o.MaxItemSizeMiB, DefaultMaxItemSizeMiB)
	setDefault(&o.Processes, DefaultProcesses)
	setDefault(&o.JoinTimeout, DefaultJoinTimeout)
	if o.WorkDir == "" {
		o.WorkDir, _ = os.Getwd() // check reports a failure
	}
	setDefault[io.Reader](&o.Stdin, os.Stdin)
	setDefault[io.Writer](&o.Stdout, os.Stdout)
	setDefault[io.Writer](&o.Stderr, os.Stderr)
	return o
}

// setDefault sets *v to def when it is the zero value.
func setDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}

// check checks options whose defaults are filled in.
func (o Options) check() error {
	for _, err := range []error{
		inRange("workers per process", o.WorkersPerProcess, 1, MaxWorkersPerProcess),
		inRange("memory limit (MiB)", o.MemoryLimitMiB, 1, MaxMemoryLimitMiB),
		inRange("max item size (MiB)", o.MaxItemSizeMiB, 1, MaxItemSizeMiB),
		inRange("local processes", o.LocalProcesses, 1, MaxLocalProcesses),
		inRange("memory total (MiB)", o.MemoryTotalMiB, 0, maxInt),
		checkEpochInterval(o.EpochInterval),
		o.checkDurations(),
		o.checkCluster(),
	} {
		if err != nil {
			return err
		}
	}
	if err := CheckMemory(o.LocalProcesses, o.WorkersPerProcess, o.MemoryLimitMiB, o.MemoryTotalMiB); err != nil {
		return fmt.Errorf("%w: %w", ErrBadOptions, err)
	}
	if o.WorkDir == "" {
		return fmt.Errorf("%w: the working directory cannot be read; set WorkDir", ErrBadOptions)
	}
	return nil
}

const maxInt = int(^uint(0) >> 1)

// inRange checks that v is in [lo, hi].
func inRange(what string, v, lo, hi int) error {
	if v < lo || v > hi {
		return fmt.Errorf("%w: %s must be between %d and %d, got %d", ErrBadOptions, what, lo, hi, v)
	}
	return nil
}

// checkEpochInterval refuses intervals under MinEpochInterval.
func checkEpochInterval(d time.Duration) error {
	if d < MinEpochInterval {
		return fmt.Errorf("%w: epoch interval must be at least %s, got %s", ErrBadOptions, MinEpochInterval, d)
	}
	return nil
}

func (o Options) checkDurations() error {
	switch {
	case o.BackupInterval < 0:
		return fmt.Errorf("%w: backup interval must not be negative, got %s", ErrBadOptions, o.BackupInterval)
	case o.JoinTimeout < 0:
		return fmt.Errorf("%w: join timeout must not be negative, got %s", ErrBadOptions, o.JoinTimeout)
	}
	return nil
}

func (o Options) checkCluster() error {
	switch {
	case o.Processes < 1 || o.Processes > MaxProcesses:
		return fmt.Errorf("%w: processes must be between 1 and %d, got %d", ErrBadOptions, MaxProcesses, o.Processes)
	case o.ProcessID < 0 || o.ProcessID >= o.Processes:
		return fmt.Errorf("%w: process id %d is not between 0 and %d", ErrBadOptions, o.ProcessID, o.Processes-1)
	case o.Processes > 1 && (o.NATSURL == "" || o.RunID == ""):
		return fmt.Errorf("%w: a run of %d processes needs a NATS URL and a run id", ErrBadOptions, o.Processes)
	}
	return nil
}
