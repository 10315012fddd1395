package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"strconv"
	"time"

	"github.com/alecthomas/kong"

	"github.com/bxwasm/bxwasm/host"
	"github.com/bxwasm/bxwasm/internal/connectors"
	"github.com/bxwasm/bxwasm/internal/flowspec"
)

// streams are the process's standard streams.
type streams struct {
	in       io.Reader
	out, err io.Writer
	args     []string    // the command line, for the processes of a local cluster
	intr     *interrupts // SIGINT and SIGTERM; nil in tests that send none
}

// cli is the command line.
type cli struct {
	Version  kong.VersionFlag `help:"Print the version and exit."`
	Run      runCmd           `cmd:"" help:"Run a dataflow until its inputs end."`
	Inspect  inspectCmd       `cmd:"" help:"Describe a module: its flows, ABI version and imports."`
	Recovery recoveryCmd      `cmd:"" help:"Create or describe a recovery store."`
}

const description = `Run Bytewax-style dataflows whose logic is a WebAssembly module.

Every flag can also be set with the environment variable shown next to it.`

// runDetail is the long help of `bxwasm run`.
const runDetail = `MODULE[:FLOW] names a module and a flow in it, as Bytewax's
"python -m bytewax.run module:flow" does. FLOW is a flow's name ("flow" if
left out) or a call of a flow factory with literal arguments: strings in
quotes, ints, floats, true and false. Quote it for the shell:

    bxwasm run wc.wasm:"get_flow('in.txt')" -w2

Guests do no I/O of their own: files are read and written by the host, which
only touches the working directory and the directories given with
--allow-path.

With -r DIR the run snapshots its state into SQLite files in DIR at the end
of every epoch and, started again with the same DIR after a crash, resumes
from the last epoch every worker finished, on any number of processes and
workers. A missing or empty DIR gets a new store with one partition file per
worker of the run (or create one first with "bxwasm recovery init DIR").
With -r, the first Ctrl-C (SIGINT or SIGTERM) finishes the current epoch,
snapshots it and exits 0; a second one stops at once.`

// runCmd is `bxwasm run`.
type runCmd struct {
	Target            string        `arg:"" name:"MODULE[:FLOW]" help:"Module path, then optionally ':' and a flow name or factory call."`
	WorkersPerProcess int           `short:"w" default:"${workers_per_process}" env:"BXWASM_WORKERS_PER_PROCESS" help:"Number of workers, each with its own guest instance (at most ${max_workers_per_process})."`
	EpochInterval     epochInterval `short:"s" aliases:"snapshot-interval" default:"${epoch_interval}" env:"BXWASM_EPOCH_INTERVAL" help:"How often inputs close an epoch, and state is snapshotted with -r (alias --snapshot-interval): a duration (500ms, 1m) or seconds (0.5); at least ${min_epoch_interval}."`
	RecoveryDirectory string        `short:"r" aliases:"sqlite-directory" type:"path" env:"BXWASM_RECOVERY_DIRECTORY" placeholder:"DIR" help:"Snapshot state into the SQLite store in DIR every epoch, and resume from it (created if missing or empty; alias --sqlite-directory)."`
	BackupInterval    time.Duration `default:"0s" env:"BXWASM_BACKUP_INTERVAL" help:"With -r, how long to keep snapshots after newer ones replaced them."`
	ResetSource       []string      `sep:"," env:"BXWASM_RESET_SOURCES" placeholder:"STEP" help:"With -r, read input step STEP from the start of its files instead of its stored position (after a file changed); repeatable."`
	moduleFlags
	resourceFlags
	AllowPath       []string `sep:"," env:"BXWASM_ALLOW_PATHS" placeholder:"DIR" help:"Directories host connectors may read and write besides the working directory."`
	Connection      []string `sep:";" env:"BXWASM_CONNECTIONS" placeholder:"NAME=URL" help:"Let the flow's stream connectors reach the server at URL under NAME (nats://HOST:4222, tls://..., kafka://HOST:9092, several URLs comma-separated); repeatable, or ';'-separated. A flow reaches no other server."`
	ConnectionCreds []string `sep:";" env:"BXWASM_CONNECTION_CREDS" placeholder:"NAME=FILE" help:"NATS credentials file (user JWT and NKey seed) of connection NAME; repeatable, or ';'-separated."`
	DeadLetter      string   `placeholder:"SUBJECT" env:"BXWASM_DEAD_LETTER" help:"Publish each message of a JetStream, NATS or Kafka source that the step reading it fails on to SUBJECT (a topic for Kafka), on the source's connection (with the error and where it was read in headers), and go on; without it such a message fails the run."`
	connections     connectors.Connections
	CPUProfile      string `name:"cpuprofile" type:"path" env:"BXWASM_CPUPROFILE" placeholder:"FILE" help:"Write a pprof CPU profile of the process that runs the guests to FILE (process N of a -p run: FILE.N), for go tool pprof."`
	clusterFlags
}

// clusterFlags are the flags of a run on several processes.
type clusterFlags struct {
	Processes   int           `short:"p" default:"${processes}" env:"BXWASM_PROCESSES" help:"Number of processes to start on this machine (at most ${max_local_processes}), each with --workers-per-process workers; an embedded NATS server carries data between them."`
	ProcessID   int           `short:"i" default:"-1" env:"BXWASM_PROCESS_ID" help:"This process's index in a manual cluster (with -a). In Kubernetes it may come from BXWASM_POD_NAME minus BXWASM_STATEFULSET_NAME-."`
	Addresses   string        `short:"a" env:"BXWASM_ADDRESSES" placeholder:"HOST:PORT[/ROUTEPORT];..." help:"Addresses of every process of a manual cluster, ';'-separated; each process embeds a NATS server at its own address, and takes routes from the others at ROUTEPORT (default: the first port above PORT that no listed address uses). May come from a file named by BXWASM_HOSTFILE_PATH."`
	NATS        string        `name:"nats" env:"BXWASM_NATS_URL" placeholder:"URL" help:"Use this NATS deployment instead of embedding one; credentials may be in the URL (nats://user:pass@host:4222, nats://token@host:4222)."`
	NATSCreds   string        `name:"nats-creds" type:"existingfile" env:"BXWASM_NATS_CREDS" placeholder:"FILE" help:"NATS credentials file (user JWT and NKey seed) for --nats."`
	JoinTimeout time.Duration `default:"${join_timeout}" env:"BXWASM_JOIN_TIMEOUT" help:"How long the processes of a cluster wait for each other to come up."`
	Stats       bool          `env:"BXWASM_STATS" help:"When a -p run ends, print what its embedded NATS server carried."`
	// The secret itself may come from BXWASM_CLUSTER_SECRET, which is no
	// flag: a secret on the command line is visible to every user.
	ClusterSecretFile string `type:"existingfile" env:"BXWASM_CLUSTER_SECRET_FILE" placeholder:"FILE" help:"File holding a secret every process of a manual cluster shares (or set the secret itself in BXWASM_CLUSTER_SECRET); their NATS servers refuse clients and routes without it. Required when -a lists addresses that are not loopback."`
	TLSCert           string `name:"tls-cert" type:"existingfile" env:"BXWASM_TLS_CERT" placeholder:"FILE" help:"PEM certificate of this process, for TLS between the processes of a manual cluster (clients and routes) and to --nats; with --tls-key and --tls-ca."`
	TLSKey            string `name:"tls-key" type:"existingfile" env:"BXWASM_TLS_KEY" placeholder:"FILE" help:"PEM private key of --tls-cert."`
	TLSCA             string `name:"tls-ca" type:"existingfile" env:"BXWASM_TLS_CA" placeholder:"FILE" help:"PEM certificate of the CA that signed every process's (and --nats's) certificate."`
}

// inspectCmd is `bxwasm inspect`.
type inspectCmd struct {
	Module string `arg:"" name:"MODULE" help:"Path of the module."`
	moduleFlags
}

// moduleFlags are the flags of every command that loads a module.
type moduleFlags struct {
	MemoryLimit int    `default:"${memory_limit}" env:"BXWASM_MEMORY_LIMIT" help:"Memory limit of each guest instance, in MiB (at most ${max_memory_limit})."`
	CacheDir    string `env:"BXWASM_CACHE_DIR" placeholder:"DIR" help:"Cache of compiled code; '-' turns it off (default: the user cache directory/bxwasm)."`
	limitFlags
}

// resourceFlags bound what a run may use.
type resourceFlags struct {
	MemoryTotal int `env:"BXWASM_MEMORY_TOTAL" placeholder:"MiB" help:"Guest memory all processes of the run on this machine may use together, in MiB: processes × workers × --memory-limit must fit (default: the machine's memory, on Linux)."`
	MaxItemSize int `default:"${max_item_size}" env:"BXWASM_MAX_ITEM_SIZE" help:"Largest item, key and value, a step may send to another worker, in MiB (at most ${max_max_item_size}); a bigger one fails the run."`
}

// defaultVars give the flags their defaults and bounds, from host's.
var defaultVars = kong.Vars{
	"workers_per_process":     strconv.Itoa(host.DefaultWorkersPerProcess),
	"max_workers_per_process": strconv.Itoa(host.MaxWorkersPerProcess),
	"epoch_interval":          host.DefaultEpochInterval.String(),
	"min_epoch_interval":      host.MinEpochInterval.String(),
	"processes":               strconv.Itoa(host.DefaultProcesses),
	"max_local_processes":     strconv.Itoa(host.MaxLocalProcesses),
	"join_timeout":            host.DefaultJoinTimeout.String(),
	"memory_limit":            strconv.Itoa(host.DefaultMemoryLimitMiB),
	"max_memory_limit":        strconv.Itoa(host.MaxMemoryLimitMiB),
	"max_item_size":           strconv.Itoa(host.DefaultMaxItemSizeMiB),
	"max_max_item_size":       strconv.Itoa(host.MaxItemSizeMiB),
}

// Help is the long help of the run command.
func (c *runCmd) Help() string { return runDetail }

// Validate checks every flag of the run, and the guest memory of the
// processes it would start on this machine, before anything starts.
func (c *runCmd) Validate() error {
	for _, err := range []error{
		flagRange("--workers-per-process", c.WorkersPerProcess, 1, host.MaxWorkersPerProcess),
		flagRange("--processes", c.Processes, 1, host.MaxLocalProcesses),
		c.moduleFlags.Validate(),
		flagRange("--memory-total", c.MemoryTotal, 0, math.MaxInt32),
		flagRange("--max-item-size", c.MaxItemSize, 1, host.MaxItemSizeMiB),
		c.validateDurations(),
		c.parseConnections(),
	} {
		if err != nil {
			return err
		}
	}
	return host.CheckMemory(c.localProcesses(), c.WorkersPerProcess, c.MemoryLimit, c.MemoryTotal)
}

func (c *runCmd) validateDurations() error {
	switch d := time.Duration(c.EpochInterval); {
	case d < host.MinEpochInterval:
		return fmt.Errorf("--epoch-interval must be at least %s, got %s", host.MinEpochInterval, d)
	case c.BackupInterval < 0:
		return fmt.Errorf("--backup-interval must not be negative, got %s", c.BackupInterval)
	case c.JoinTimeout < 0:
		return fmt.Errorf("--join-timeout must not be negative, got %s", c.JoinTimeout)
	}
	return nil
}

// Validate checks the flags of every command that loads a module.
func (f moduleFlags) Validate() error {
	if err := flagRange("--memory-limit", f.MemoryLimit, 1, host.MaxMemoryLimitMiB); err != nil {
		return err
	}
	return f.limitFlags.Validate()
}

// flagRange checks that a flag's value is in [lo, hi].
func flagRange(flag string, v, lo, hi int) error {
	if v < lo || v > hi {
		return fmt.Errorf("%s must be between %d and %d, got %d", flag, lo, hi, v)
	}
	return nil
}

// localProcesses is the number of processes of the run on this machine:
// -p's, or in a manual cluster the addresses on loopback (at least this
// process).
func (c *runCmd) localProcesses() int {
	addrs, err := c.addresses()
	if err != nil || len(addrs) == 0 {
		return c.Processes
	}
	n := 0
	for _, a := range addrs {
		if loopback(a) {
			n++
		}
	}
	return max(n, 1)
}

// loopback reports whether host:port names this machine's loopback.
func loopback(addr string) bool {
	h, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// parseConnections reads --connection and --connection-creds.
func (c *runCmd) parseConnections() error {
	var err error
	c.connections, err = connectors.ParseConnections(c.Connection, c.ConnectionCreds)
	return err
}

// options turns the flags into host options.
func (c *runCmd) options(s streams) host.Options {
	o := c.moduleFlags.options(s)
	o.WorkersPerProcess = c.WorkersPerProcess
	o.EpochInterval = time.Duration(c.EpochInterval)
	o.AllowPaths = c.AllowPath
	o.Connections = c.connections
	o.DeadLetter = c.DeadLetter
	o.RecoveryDir = c.RecoveryDirectory
	o.BackupInterval = c.BackupInterval
	o.ResetSources = c.ResetSource
	o.MemoryTotalMiB = c.MemoryTotal
	o.LocalProcesses = c.localProcesses()
	o.MaxItemSizeMiB = c.MaxItemSize
	return o
}

func (f moduleFlags) options(s streams) host.Options {
	return host.Options{MemoryLimitMiB: f.MemoryLimit, CacheDir: f.CacheDir, MaxModuleSize: int64(f.MaxModuleSize) << 20,
		Stdin: s.in, Stdout: s.out, Stderr: s.err}
}

// Run runs the flow: here, as one process of a cluster, or by starting
// the processes of a local cluster.
func (c *runCmd) Run(ctx context.Context, s streams) error {
	module, spec := flowspec.SplitTarget(c.Target)
	o := c.options(s)
	if c.RecoveryDirectory != "" || !watched() {
		// A graceful stop: this process finishes the epoch, or the
		// supervisor passes the signal on to its processes.
		o.Stop = s.intr.graceful()
	}
	if !watched() && !c.supervising() {
		return watchChild(ctx, s, c.WorkersPerProcess+1, c.limits())
	}
	if err := openWatchdog(&o); err != nil {
		return err
	}
	supervise, err := c.cluster(ctx, s, &o)
	if err != nil || supervise {
		return err
	}
	stop, err := startProfile(profileFile(c.CPUProfile, o.ProcessID))
	if err != nil {
		return err
	}
	err = host.Run(ctx, module, spec, o)
	if perr := stop(); err == nil && perr != nil {
		err = fmt.Errorf("--cpuprofile: %w", perr)
	}
	var remote *host.RemoteError
	if errors.As(err, &remote) {
		return errReported // the failing process prints it
	}
	return err
}

// epochInterval is a duration given as Go does ("1m30s") or as seconds
// ("0.5"), like Bytewax's --snapshot-interval.
type epochInterval time.Duration

// Decode reads the flag's value.
func (e *epochInterval) Decode(ctx *kong.DecodeContext) error {
	var s string
	if err := ctx.Scan.PopValueInto("duration", &s); err != nil {
		return err
	}
	d, err := parseInterval(s)
	if err != nil {
		return err
	}
	*e = epochInterval(d)
	return nil
}

var errInterval = errors.New("expected a positive duration like 500ms or 1m, or seconds like 0.5")

func parseInterval(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		secs, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil || !(secs > 0) || secs > (1<<63-1)/float64(time.Second) {
			return 0, fmt.Errorf("%w, got %q", errInterval, s)
		}
		d = time.Duration(secs * float64(time.Second))
	}
	if d <= 0 {
		return 0, fmt.Errorf("%w, got %q", errInterval, s)
	}
	return d, nil
}
