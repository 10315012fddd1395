package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/bxwasm/bxwasm/internal/testutil"
)

// envOf reads a variable from /proc/pid/environ: what any process of the
// same user can see.
func envOf(t *testing.T, pid int, name string) string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	for _, kv := range bytes.Split(b, []byte{0}) {
		if v, ok := bytes.CutPrefix(kv, []byte(name+"=")); ok {
			return string(v)
		}
	}
	t.Fatalf("process %d has no %s", pid, name)
	return ""
}

// refused connects to url with opts and fails the test unless the server
// refuses, with an error containing want.
func refused(t *testing.T, url, want string, opts ...nats.Option) {
	t.Helper()
	nc, err := nats.Connect(url, append(opts, nats.Timeout(5*time.Second))...)
	if err == nil {
		nc.Publish("bxwasm.>", []byte("injected"))
		nc.Close()
		t.Fatalf("a stranger connected to %s", url)
	}
	if !strings.Contains(strings.ToLower(err.Error()), want) {
		t.Fatalf("connect %s: %v, want %q", url, err, want)
	}
}

// started runs the binary in the background, its stdout in out.
func started(t *testing.T, env []string, out *testutil.Buffer, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(binary(t), args...)
	cmd.Dir = t.TempDir()
	cmd.Env = append(append(cleanEnv(), cacheEnv(t)), env...)
	var errOut testutil.Buffer
	cmd.Stdout, cmd.Stderr = out, &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	return cmd
}

// finished waits for cmd and fails the test unless it exits 0.
func finished(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("%v; stderr:\n%s", err, cmd.Stderr.(*testutil.Buffer).String())
		}
	case <-time.After(60 * time.Second):
		t.Fatal("still running after 60s")
	}
}

// TestLocalClusterRefusesStrangers attacks a -p run's embedded NATS server
// as another local process would, with the URL from a child's environment:
// without the run's secret, and with a wrong one, the connection is
// refused, and the run ends as it would have.
func TestLocalClusterRefusesStrangers(t *testing.T) {
	flows := testutil.BuildWasm(t, "../../host/testdata/flows")
	var out testutil.Buffer
	cmd := started(t, nil, &out, "run", flows+":timer(10000)", "-p2")
	kids := waitChildren(t, cmd.Process.Pid, 2)
	waitFor(t, 60*time.Second, func() bool { return strings.Contains(out.String(), "notified") })
	url := envOf(t, kids[0], "BXWASM_NATS_URL")
	refused(t, url, "authorization violation")
	refused(t, url, "authorization violation", nats.Token("a guess"))
	refused(t, strings.Replace(url, "nats://", "nats://a:guess@", 1), "authorization violation")
	finished(t, cmd)
	if got := out.String(); got != "k=notified\n" {
		t.Fatalf("stdout %q, want %q", got, "k=notified\n")
	}
}

// freeRun finds n consecutive free loopback ports and returns the first.
func freeRun(t *testing.T, n int) int {
	t.Helper()
	for tries := 0; tries < 200; tries++ {
		first := 20000 + rand.IntN(40000)
		ok := true
		for p := first; p < first+n && ok; p++ {
			ok = free(p)
		}
		if ok {
			return first
		}
	}
	t.Fatalf("no %d consecutive free ports", n)
	return 0
}

// adjacent is a manual cluster's -a of two adjacent loopback ports, with
// the two above them free for the routes.
func adjacent(t *testing.T) string {
	p := freeRun(t, 4)
	return fmt.Sprintf("127.0.0.1:%d;127.0.0.1:%d", p, p+1)
}

func TestManualClusterAdjacentPorts(t *testing.T) {
	wc := testutil.BuildWasm(t, "../../wasm-examples/wordcount")
	work, want := wordcountInput(t)
	addrs := adjacent(t)
	out := together(t, 2, func(i int) result {
		return bxwasm(t, work, "", []string{cacheEnv(t)}, "run", wc+`:get_flow("in.txt")`, "-i", strconv.Itoa(i), "-a", addrs, "-w2", "--join-timeout=20s")
	})
	if got := sortedLines(out); !slices.Equal(got, want) {
		t.Errorf("%d lines, want %d", len(got), len(want))
	}
}

// TestManualClusterSecretAndTLS runs a manual cluster with a shared secret
// and TLS, attacks it while it runs, and expects its exact output.
func TestManualClusterSecretAndTLS(t *testing.T) {
	flows := testutil.BuildWasm(t, "../../host/testdata/flows")
	files := testutil.NewTLSFiles(t)
	addrs := adjacent(t)
	var out testutil.Buffer
	env := []string{"BXWASM_CLUSTER_SECRET=a secret the two processes share"}
	tlsFlags := []string{"--tls-cert", files.Cert, "--tls-key", files.Key, "--tls-ca", files.CA}
	var cmds []*exec.Cmd
	for i := range 2 {
		args := append([]string{"run", flows + ":timer(10000)", "-i", strconv.Itoa(i), "-a", addrs}, tlsFlags...)
		cmds = append(cmds, started(t, env, &out, args...))
	}
	waitFor(t, 60*time.Second, func() bool { return strings.Contains(out.String(), "notified") })
	url := "nats://" + strings.Split(addrs, ";")[0]
	refused(t, url, "tls") // no CA: the server's certificate is unknown
	refused(t, url, "authorization violation", nats.RootCAs(files.CA), nats.ClientCert(files.Cert, files.Key))
	refused(t, url, "authorization violation", nats.RootCAs(files.CA), nats.ClientCert(files.Cert, files.Key), nats.Token("a guess"))
	for _, cmd := range cmds {
		finished(t, cmd)
	}
	if got := out.String(); got != "k=notified\n" {
		t.Fatalf("stdout %q, want %q", got, "k=notified\n")
	}
}

// TestManualClusterRefusesAtOnce checks the configurations a manual
// cluster refuses before it waits for anyone.
func TestManualClusterRefusesAtOnce(t *testing.T) {
	wc := testutil.BuildWasm(t, "../../wasm-examples/wordcount")
	work, _ := wordcountInput(t)
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	p := freeRun(t, 3)
	secretFile := work + "/secret"
	os.WriteFile(secretFile, []byte("short\n"), 0o600)
	for _, tc := range []struct {
		name  string
		env   []string
		args  []string
		wants []string
	}{
		{"off loopback without a secret", nil, []string{"-a", "10.255.0.1:2101;10.255.0.2:2101"},
			[]string{"10.255.0.1:2101", "--cluster-secret-file FILE", "BXWASM_CLUSTER_SECRET"}},
		{"a short secret", nil, []string{"-a", "10.255.0.1:2101;10.255.0.2:2101", "--cluster-secret-file", secretFile},
			[]string{"the cluster secret has 5 bytes"}},
		{"a route port on a listed address", nil, []string{"-a", fmt.Sprintf("127.0.0.1:%d/%d;127.0.0.1:%d", p, p+1, p+1)},
			[]string{fmt.Sprintf("127.0.0.1:%d (process 1) and 127.0.0.1:%d (route of process 0)", p+1, p+1)}},
		{"address in use", nil, []string{"-a", taken.Addr().String() + fmt.Sprintf(";127.0.0.1:%d", p)},
			[]string{"address in use: " + taken.Addr().String()}},
		{"TLS files apart", nil, []string{"-a", fmt.Sprintf("127.0.0.1:%d", p), "--tls-cert", secretFile},
			[]string{"--tls-cert, --tls-key and --tls-ca go together"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"run", wc + `:get_flow("in.txt")`, "-i0"}, tc.args...)
			start := time.Now()
			r := bxwasm(t, work, "", append([]string{cacheEnv(t)}, tc.env...), args...)
			if r.code == 0 {
				t.Fatalf("exit 0, stderr %q", r.err)
			}
			for _, w := range tc.wants {
				if !strings.Contains(r.err, w) {
					t.Errorf("stderr %q, want %q", r.err, w)
				}
			}
			// Before: "did not join" after the 30s join timeout.
			if d := time.Since(start); d > 20*time.Second {
				t.Errorf("refused after %s, want at once", d)
			}
		})
	}
}

// natsWithAuth starts a nats-server in the test process with opts'
// authentication, and returns its host:port.
func natsWithAuth(t *testing.T, opts *server.Options) string {
	t.Helper()
	opts.Host, opts.Port, opts.NoLog, opts.NoSigs = "127.0.0.1", -1, true, true
	s, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server not ready")
	}
	t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
	return s.Addr().String()
}

// TestExternalNATSCredentials runs a local cluster on a NATS that requires
// credentials, given in the URL, and checks a wrong password is refused
// without being printed.
func TestExternalNATSCredentials(t *testing.T) {
	wc := testutil.BuildWasm(t, "../../wasm-examples/wordcount")
	work, want := wordcountInput(t)
	userAddr := natsWithAuth(t, &server.Options{Username: "flow", Password: "s3cret-pass"})
	tokenAddr := natsWithAuth(t, &server.Options{Authorization: "s3cret-token"})
	for _, tc := range []struct{ name, url, refused string }{
		{"user and password", "nats://flow:s3cret-pass@" + userAddr, ""},
		{"token", "nats://s3cret-token@" + tokenAddr, ""},
		{"wrong password", "nats://flow:wrong-pass@" + userAddr, "wrong-pass"},
		{"wrong token", "nats://wrong-token@" + tokenAddr, "wrong-token"},
		{"no credentials", "nats://" + userAddr, "flow"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := bxwasm(t, work, "", []string{cacheEnv(t), "BXWASM_NATS_URL=" + tc.url}, "run", wc+`:get_flow("in.txt")`, "-p2")
			if tc.refused == "" {
				if r.code != 0 || !slices.Equal(sortedLines(r.stdout), want) {
					t.Fatalf("exit %d, %d lines; stderr %q", r.code, len(sortedLines(r.stdout)), r.err)
				}
				return
			}
			if r.code == 0 || !strings.Contains(strings.ToLower(r.err), "authorization violation") || strings.Contains(r.err, tc.refused) {
				t.Fatalf("exit %d, stderr %q: want a refusal that does not print %q", r.code, r.err, tc.refused)
			}
		})
	}
}

// TestExternalNATSCredsFile runs a local cluster on a NATS in operator
// mode, with a credentials file made for the test.
func TestExternalNATSCredsFile(t *testing.T) {
	opKey, _ := nkeys.CreateOperator()
	opPub, _ := opKey.PublicKey()
	op := jwt.NewOperatorClaims(opPub)
	acKey, _ := nkeys.CreateAccount()
	acPub, _ := acKey.PublicKey()
	acJWT, err := jwt.NewAccountClaims(acPub).Encode(opKey)
	if err != nil {
		t.Fatal(err)
	}
	userKey, _ := nkeys.CreateUser()
	userPub, _ := userKey.PublicKey()
	userJWT, err := jwt.NewUserClaims(userPub).Encode(acKey)
	if err != nil {
		t.Fatal(err)
	}
	seed, _ := userKey.Seed()
	creds, err := jwt.FormatUserConfig(userJWT, seed)
	if err != nil {
		t.Fatal(err)
	}
	resolver := &server.MemAccResolver{}
	resolver.Store(acPub, acJWT)
	addr := natsWithAuth(t, &server.Options{TrustedOperators: []*jwt.OperatorClaims{op}, AccountResolver: resolver})

	wc := testutil.BuildWasm(t, "../../wasm-examples/wordcount")
	work, want := wordcountInput(t)
	credsFile := work + "/user.creds"
	os.WriteFile(credsFile, creds, 0o600)
	env := []string{cacheEnv(t), "BXWASM_NATS_URL=nats://" + addr}
	r := bxwasm(t, work, "", env, "run", wc+`:get_flow("in.txt")`, "-p2", "--nats-creds", credsFile)
	if r.code != 0 || !slices.Equal(sortedLines(r.stdout), want) {
		t.Fatalf("with the credentials file: exit %d, %d lines; stderr %q", r.code, len(sortedLines(r.stdout)), r.err)
	}
	r = bxwasm(t, work, "", env, "run", wc+`:get_flow("in.txt")`, "-p2")
	if r.code == 0 || !strings.Contains(strings.ToLower(r.err), "authorization violation") {
		t.Fatalf("without it: exit %d, stderr %q; want a refusal", r.code, r.err)
	}
}
