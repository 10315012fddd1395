package cluster

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/bxwasm/bxwasm/internal/testutil"
)

// envSecretHelper switches the test binary into a child that reads its
// secret and reports it.
const envSecretHelper = "BXWASM_SECRET_TEST_HELPER"

func init() {
	if os.Getenv(envSecretHelper) != "" {
		os.Exit(secretHelper())
	}
}

// secretHelper prints the fd it was told, the secret in hex, and whether
// the secret (raw, hex, or as the token) shows in its environment or
// arguments.
func secretHelper() int {
	fd := os.Getenv(EnvSecretFD)
	secret, ok, err := SecretFromEnv()
	if err != nil || !ok {
		fmt.Fprintln(os.Stderr, "no secret:", ok, err)
		return 1
	}
	fmt.Printf("fd %s\nsecret %x\n", fd, secret)
	visible := strings.Join(append(os.Environ(), os.Args...), "\n")
	for _, s := range []string{string(secret), hex.EncodeToString(secret), Token(secret), EnvSecretFD} {
		if strings.Contains(visible, s) {
			fmt.Printf("exposed %q\n", s)
		}
	}
	return 0
}

func TestSupervisorHandsEachChildTheSecret(t *testing.T) {
	secret := NewSecret()
	var out, errs testutil.Buffer
	sup := Supervisor{Processes: 2, Env: []string{envSecretHelper + "=1", "GORACE=atexit_sleep_ms=0"}, Stdout: &out, Stderr: &errs, Secret: secret}
	if err := sup.Run(context.Background()); err != nil {
		t.Fatalf("%v; stderr:\n%s", err, errs.String())
	}
	want := fmt.Sprintf("fd 3\nsecret %x\n", secret)
	if got := out.String(); got != want+want {
		t.Fatalf("children printed:\n%s\nwant twice:\n%s", got, want)
	}
}

// TestSecretAfterOtherExtraFiles passes the secret to a child that
// inherits another file first: the secret is on the next descriptor.
func TestSecretAfterOtherExtraFiles(t *testing.T) {
	secret := []byte("not the first extra file")
	other, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), envSecretHelper+"=1", "GORACE=atexit_sleep_ms=0")
	cmd.ExtraFiles = []*os.File{other}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	done, err := Supervisor{Secret: secret}.passSecret(cmd)
	if err != nil {
		t.Fatal(err)
	}
	err = cmd.Run()
	done()
	want := fmt.Sprintf("fd 4\nsecret %x\n", secret)
	if err != nil || out.String() != want {
		t.Fatalf("child: %v, printed:\n%s\nwant:\n%s", err, out.String(), want)
	}
}

func TestSecretFromEnvErrors(t *testing.T) {
	t.Run("unset", func(t *testing.T) {
		t.Setenv(EnvSecretFD, "")
		if s, ok, err := SecretFromEnv(); s != nil || ok || err != nil {
			t.Fatalf("got %q, %v, %v; want nothing", s, ok, err)
		}
	})
	for _, v := range []string{"x", "-1", "2", "100000"} {
		t.Run(v, func(t *testing.T) {
			t.Setenv(EnvSecretFD, v)
			if _, ok, err := SecretFromEnv(); ok || err == nil || !strings.Contains(err.Error(), EnvSecretFD) && !strings.Contains(err.Error(), "fd "+v) {
				t.Fatalf("ok %v, err %v; want an error naming %s or fd %s", ok, err, EnvSecretFD, v)
			}
			if os.Getenv(EnvSecretFD) != "" {
				t.Fatalf("%s is still set", EnvSecretFD)
			}
		})
	}
}
