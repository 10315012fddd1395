package host

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/nats-io/nats.go"
)

// Options configure a run. The zero value of each field means its default;
// call Validate (Run does) to fill defaults and check values.
type Options struct {
	// WorkersPerProcess is the number of workers, each with its own guest
	// instance (default 1).
	WorkersPerProcess int
	// EpochInterval is how often inputs close an epoch (default 10s).
	EpochInterval time.Duration
	// MemoryLimitMiB bounds each guest instance's linear memory (default 256).
	MemoryLimitMiB int
	// CacheDir holds wazero's compiled code between runs; "" uses the user
	// cache directory, "-" disables the cache.
	CacheDir string
	// WorkDir is the directory host connectors resolve relative paths
	// against and may touch (default the current directory).
	WorkDir string
	// AllowPaths are further directories host connectors may read or write.
	AllowPaths []string
	// Processes is the number of processes of a clustered run (default
	// 1). With more than one, this process runs workers
	// ProcessID*WorkersPerProcess onwards and exchanges data with the others
	// over the NATS at NATSURL, on subjects namespaced by RunID.
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

// Validate fills in defaults and checks the options.
func (o *Options) Validate() error {
	if o.WorkersPerProcess == 0 {
		o.WorkersPerProcess = 1
	}
	if o.WorkersPerProcess < 0 || o.WorkersPerProcess > 1024 {
		return fmt.Errorf("%w: workers per process must be between 1 and 1024, got %d", ErrBadOptions, o.WorkersPerProcess)
	}
	if o.EpochInterval == 0 {
		o.EpochInterval = 10 * time.Second
	}
	if o.EpochInterval < 0 {
		return fmt.Errorf("%w: epoch interval must be positive, got %s", ErrBadOptions, o.EpochInterval)
	}
	if o.BackupInterval < 0 {
		return fmt.Errorf("%w: backup interval must not be negative, got %s", ErrBadOptions, o.BackupInterval)
	}
	if o.MemoryLimitMiB == 0 {
		o.MemoryLimitMiB = 256
	}
	if o.MemoryLimitMiB < 1 || o.MemoryLimitMiB > 4096 {
		return fmt.Errorf("%w: memory limit must be between 1 and 4096 MiB, got %d", ErrBadOptions, o.MemoryLimitMiB)
	}
	if err := o.validateCluster(); err != nil {
		return err
	}
	return o.defaultStreams()
}

func (o *Options) validateCluster() error {
	if o.Processes == 0 {
		o.Processes = 1
	}
	if o.JoinTimeout == 0 {
		o.JoinTimeout = 30 * time.Second
	}
	switch {
	case o.Processes < 1 || o.Processes > 1024:
		return fmt.Errorf("%w: processes must be between 1 and 1024, got %d", ErrBadOptions, o.Processes)
	case o.ProcessID < 0 || o.ProcessID >= o.Processes:
		return fmt.Errorf("%w: process id %d is not between 0 and %d", ErrBadOptions, o.ProcessID, o.Processes-1)
	case o.Processes > 1 && (o.NATSURL == "" || o.RunID == ""):
		return fmt.Errorf("%w: a run of %d processes needs a NATS URL and a run id", ErrBadOptions, o.Processes)
	}
	return nil
}

func (o *Options) defaultStreams() error {
	if o.WorkDir == "" {
		wd, err := os.Getwd()
		if err != nil {
			return fmt.Errorf("%w: %v", ErrBadOptions, err)
		}
		o.WorkDir = wd
	}
	if o.Stdin == nil {
		o.Stdin = os.Stdin
	}
	if o.Stdout == nil {
		o.Stdout = os.Stdout
	}
	if o.Stderr == nil {
		o.Stderr = os.Stderr
	}
	return nil
}
