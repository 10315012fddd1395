package cluster

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Environment variables of Bytewax's Kubernetes convention, with our prefix.
const (
	EnvPodName         = "BXWASM_POD_NAME"
	EnvStatefulSetName = "BXWASM_STATEFULSET_NAME"
	EnvHostfilePath    = "BXWASM_HOSTFILE_PATH"
)

// ErrNoAddresses is returned by AddressesFromFile for a file without any.
var ErrNoAddresses = errors.New("cluster: no addresses")

// ProcessIDFromEnv returns this process's id from the environment:
// BXWASM_PROCESS_ID (set by Supervise), or else, by Bytewax's Kubernetes
// convention, BXWASM_POD_NAME minus the prefix BXWASM_STATEFULSET_NAME + "-"
// ("flow-2" in statefulset "flow" is process 2). It reports false when
// neither is set or the value is not an id; ParseProcessID tells why.
func ProcessIDFromEnv() (int, bool) {
	id, ok, err := ParseProcessID(os.Getenv)
	return id, ok && err == nil
}

// ParseProcessID is ProcessIDFromEnv reading variables with getenv; it
// returns an error when a variable is set but holds no valid id.
func ParseProcessID(getenv func(string) string) (int, bool, error) {
	if v := getenv(EnvProcessID); v != "" {
		id, err := parseID(v)
		if err != nil {
			return 0, false, fmt.Errorf("%w: %s=%q: %w", ErrConfig, EnvProcessID, v, err)
		}
		return id, true, nil
	}
	pod, set := getenv(EnvPodName), getenv(EnvStatefulSetName)
	if pod == "" || set == "" {
		return 0, false, nil
	}
	num, ok := strings.CutPrefix(pod, set+"-")
	id, err := parseID(num)
	if !ok || err != nil {
		return 0, false, fmt.Errorf("%w: pod name %q is not %q followed by -<id>", ErrConfig, pod, set)
	}
	return id, true, nil
}

// parseID parses a non-negative decimal process id.
func parseID(s string) (int, error) {
	id, err := strconv.Atoi(s)
	if err != nil || id < 0 || strings.HasPrefix(s, "+") {
		return 0, errors.New("not a process id")
	}
	return id, nil
}

// AddressesFromFile reads a hostfile (BXWASM_HOSTFILE_PATH): one process
// address per line, in process id order; surrounding spaces and blank lines
// are ignored.
func AddressesFromFile(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cluster: hostfile: %w", err)
	}
	var addrs []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if a := strings.TrimSpace(sc.Text()); a != "" {
			addrs = append(addrs, a)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("cluster: hostfile %s: %w", path, err)
	}
	if len(addrs) == 0 {
		return nil, fmt.Errorf("%w in hostfile %s", ErrNoAddresses, path)
	}
	return addrs, nil
}
