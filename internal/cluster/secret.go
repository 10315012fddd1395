package cluster

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
)

// EnvSecretFD names the inherited file descriptor from which a child of a
// Supervisor with a Secret reads it.
const EnvSecretFD = "BXWASM_SECRET_FD"

// MaxSecret is the longest secret a Supervisor hands over, or
// SecretFromEnv reads: it must fit a pipe's buffer.
const MaxSecret = 4096

// ErrSecret is wrapped by the errors about a run's secret.
var ErrSecret = errors.New("cluster: secret")

// NewSecret returns a fresh random secret of 32 bytes.
func NewSecret() []byte {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand)
	return b
}

// Token is the NATS token (and route password) that proves a process knows
// secret: the hex SHA-256 of it, which any client and URL can carry.
func Token(secret []byte) string {
	sum := sha256.Sum256(secret)
	return hex.EncodeToString(sum[:])
}

// passSecret hands s.Secret to cmd, when set, on a pipe the child inherits:
// the pipe's read end becomes the next of cmd.ExtraFiles and its number is
// in the child's EnvSecretFD. Call the returned function once cmd has
// started (or failed to): it closes this process's copy of the read end.
func (s Supervisor) passSecret(cmd *exec.Cmd) (func(), error) {
	if s.Secret == nil {
		return func() {}, nil
	}
	if len(s.Secret) > MaxSecret {
		return nil, fmt.Errorf("%w: %d bytes, more than %d", ErrSecret, len(s.Secret), MaxSecret)
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("%w: pipe: %w", ErrSecret, err)
	}
	_, err = w.Write(s.Secret) // fits the pipe's buffer: never blocks
	w.Close()
	if err != nil {
		r.Close()
		return nil, fmt.Errorf("%w: pipe: %w", ErrSecret, err)
	}
	fd := 3 + len(cmd.ExtraFiles) // ExtraFiles[i] is the child's fd 3+i
	cmd.ExtraFiles = append(cmd.ExtraFiles, r)
	cmd.Env = append(cmd.Env, EnvSecretFD+"="+strconv.Itoa(fd))
	return func() { r.Close() }, nil
}

// SecretFromEnv reads the secret a Supervisor handed this process on the
// file descriptor EnvSecretFD names, closes it and unsets the variable. It
// reports false when the variable is not set.
func SecretFromEnv() ([]byte, bool, error) {
	v := os.Getenv(EnvSecretFD)
	if v == "" {
		return nil, false, nil
	}
	os.Unsetenv(EnvSecretFD)
	fd, err := strconv.Atoi(v)
	if err != nil || fd < 3 {
		return nil, false, fmt.Errorf("%w: %s=%q is not an inherited file descriptor", ErrSecret, EnvSecretFD, v)
	}
	f := os.NewFile(uintptr(fd), "secret")
	defer f.Close()
	secret, err := io.ReadAll(io.LimitReader(f, MaxSecret+1))
	switch {
	case err != nil:
		return nil, false, fmt.Errorf("%w: reading fd %d: %w", ErrSecret, fd, err)
	case len(secret) == 0 || len(secret) > MaxSecret:
		return nil, false, fmt.Errorf("%w: fd %d held %d bytes, want 1 to %d", ErrSecret, fd, len(secret), MaxSecret)
	}
	return secret, true, nil
}
