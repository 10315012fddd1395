package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/bxwasm/bxwasm/host"
	"github.com/bxwasm/bxwasm/internal/cluster"
	"github.com/bxwasm/bxwasm/internal/watchdog"
)

// envRunID marks the processes a local cluster's supervisor starts, and
// names their run.
const envRunID = "BXWASM_RUN_ID"

var errNoAddresses = errors.New("-i/--process-id needs -a/--addresses (\"host1:2101;host2:2101\")")

// cluster fills the cluster part of o. It reports true when this process
// is a local cluster's supervisor, which has then run the cluster.
func (c *runCmd) cluster(ctx context.Context, s streams, o *host.Options) (bool, error) {
	o.JoinTimeout = c.JoinTimeout
	if err := c.tls().Validate(); err != nil {
		return false, err
	}
	if run := os.Getenv(envRunID); run != "" {
		o.Processes, o.ProcessID, o.RunID, o.NATSURL = c.Processes, c.ProcessID, run, c.NATS
		return false, c.childAuth(o)
	}
	addrs, err := c.addresses()
	if err != nil {
		return false, err
	}
	switch {
	case len(addrs) > 0:
		return false, c.manual(s, o, addrs)
	case c.ProcessID >= 0:
		return false, errNoAddresses
	case c.Processes > 1:
		return true, c.supervise(ctx, s)
	}
	return false, nil
}

// addresses reads -a, or the file BXWASM_HOSTFILE_PATH names.
func (c *runCmd) addresses() ([]string, error) {
	if c.Addresses == "" {
		if path := os.Getenv("BXWASM_HOSTFILE_PATH"); path != "" {
			return cluster.AddressesFromFile(path)
		}
		return nil, nil
	}
	var out []string
	for _, a := range strings.Split(c.Addresses, ";") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out, nil
}

// supervise starts an embedded NATS server (unless --nats names one) and
// the cluster's processes, and waits for them. The embedded server
// requires a secret made for this run, which the processes get on a pipe.
func (c *runCmd) supervise(ctx context.Context, s streams) error {
	url := c.NATS
	var secret []byte
	if url == "" {
		if c.tls().Enabled() {
			fmt.Fprintln(s.err, "bxwasm: warning: --tls-cert/--tls-key/--tls-ca are ignored by a -p run's embedded NATS server, which listens on loopback only")
		}
		secret = cluster.NewSecret()
		srv, u, err := cluster.StartServer(cluster.ServerConfig{Listen: "127.0.0.1:0", Name: "bxwasm", Token: cluster.Token(secret)})
		if err != nil {
			return err
		}
		defer srv.Shutdown()
		if c.Stats {
			defer printStats(s, srv)
		}
		url = u
	}
	env := append(os.Environ(), envRunID+"="+randomID(), "BXWASM_NATS_URL="+url)
	errs := &errorLines{w: s.err}
	sup := cluster.Supervisor{Processes: c.Processes, Args: s.args, Env: env, Stdout: s.out, Stderr: errs, Secret: secret,
		Watch: &cluster.Watch{Slots: c.WorkersPerProcess + 1, Limits: c.limits()}}
	err := sup.Run(ctx)
	var over *watchdog.Overrun
	var stop *watchdog.StopError
	if err != nil && errs.seen() && !errors.As(err, &over) && !errors.As(err, &stop) {
		return errReported // a process printed why
	}
	return err
}

// errorLines passes the processes' stderr on, line by line, printing each
// distinct error line once: processes that fail alike (a module none can
// load) would otherwise repeat it.
type errorLines struct {
	w    io.Writer
	mu   sync.Mutex
	errs map[string]bool
	part []byte
}

func (e *errorLines) Write(p []byte) (int, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.part = append(e.part, p...)
	for {
		i := bytes.IndexByte(e.part, '\n')
		if i < 0 {
			return len(p), nil
		}
		line := string(e.part[:i+1])
		e.part = e.part[i+1:]
		if strings.HasPrefix(line, "bxwasm: error: ") {
			if e.errs[line] {
				continue
			}
			if e.errs == nil {
				e.errs = map[string]bool{}
			}
			e.errs[line] = true
		}
		if _, err := io.WriteString(e.w, line); err != nil {
			return len(p), err
		}
	}
}

func (e *errorLines) seen() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.errs) > 0
}

// manual makes this process one of a manual cluster: it embeds a NATS
// server at its address, routed to the others', unless --nats names one.
func (c *runCmd) manual(s streams, o *host.Options, addrs []string) error {
	if c.Processes > 1 {
		fmt.Fprintln(s.err, "bxwasm: warning: -p/--processes is ignored with -a/--addresses")
	}
	id := c.ProcessID
	if id < 0 {
		var ok bool
		if id, ok = cluster.ProcessIDFromEnv(); !ok {
			return fmt.Errorf("-a/--addresses needs -i/--process-id: which of the %d addresses is this process?", len(addrs))
		}
	}
	if id >= len(addrs) {
		return fmt.Errorf("process id %d is out of range: -a lists %d addresses", id, len(addrs))
	}
	peers, err := cluster.ParsePeers(addrs)
	if err != nil {
		return err
	}
	url := c.NATS
	o.NATSOptions = c.connAuth("").Options()
	if url == "" {
		if url, o.NATSOptions, err = c.embedRouted(peers, id); err != nil {
			return err
		}
	}
	sum := sha256.Sum256([]byte(strings.Join(addrs, ";") + "|" + c.Target))
	o.Processes, o.ProcessID, o.NATSURL, o.Addresses = len(addrs), id, url, cluster.Clients(peers)
	o.RunID = "m" + hex.EncodeToString(sum[:8])
	return nil
}

// embedRouted starts this process's NATS server at peers[id], routed to
// every other peer's route address, requiring the cluster's secret (when
// given) and TLS (when the flags name files) of clients and routes. It
// returns the server's URL and the options to connect to it.
func (c *runCmd) embedRouted(peers []cluster.Peer, id int) (string, []nats.Option, error) {
	secret, err := c.clusterSecret(peers)
	if err != nil {
		return "", nil, err
	}
	var token string
	if secret != nil {
		token = cluster.Token(secret)
	}
	routes := make([]string, 0, len(peers)-1)
	for i, p := range peers {
		if i != id {
			routes = append(routes, "nats-route://"+p.Route)
		}
	}
	cfg := cluster.ServerConfig{Listen: peers[id].Client, ClusterListen: peers[id].Route, Routes: routes,
		Name: "bxwasm-" + strconv.Itoa(id), Token: token, TLS: c.tls()}
	_, url, err := cluster.StartServer(cfg) // lives as long as this process
	if err != nil {
		return "", nil, fmt.Errorf("process %d: embedding NATS at %s: %w", id, peers[id].Client, err)
	}
	return url, c.connAuth(token).Options(), nil
}

func randomID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// printStats reports the traffic of the embedded NATS server.
func printStats(s streams, srv *server.Server) {
	v, err := srv.Varz(nil)
	if err != nil {
		return
	}
	fmt.Fprintf(s.err, "bxwasm: nats carried %d messages, %d bytes\n", v.InMsgs, v.InBytes)
}

// supervising reports whether this process will start a local cluster
// rather than run workers.
func (c *runCmd) supervising() bool {
	return os.Getenv(envRunID) == "" && c.Processes > 1 && c.Addresses == "" && c.ProcessID < 0 &&
		os.Getenv("BXWASM_HOSTFILE_PATH") == ""
}
