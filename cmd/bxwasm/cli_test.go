package main

import (
	"bytes"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/bxwasm/bxwasm/host"
	"github.com/bxwasm/bxwasm/internal/connectors"
	"github.com/bxwasm/bxwasm/internal/watchdog"
)

// TestOptions checks how flags and environment variables become
// host.Options.
func TestOptions(t *testing.T) {
	base := host.Options{WorkersPerProcess: 1, EpochInterval: 10 * time.Second, MemoryLimitMiB: 256,
		LocalProcesses: 1, MaxItemSizeMiB: 64, MaxModuleSize: 64 << 20}
	with := func(f func(o *host.Options)) host.Options {
		o := base
		f(&o)
		return o
	}
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want host.Options
	}{
		{"defaults", nil, nil, base},
		{"short workers", []string{"-w2"}, nil, with(func(o *host.Options) { o.WorkersPerProcess = 2 })},
		{"long workers", []string{"--workers-per-process=3"}, nil, with(func(o *host.Options) { o.WorkersPerProcess = 3 })},
		{"workers from env", nil, map[string]string{"BXWASM_WORKERS_PER_PROCESS": "4"}, with(func(o *host.Options) { o.WorkersPerProcess = 4 })},
		{"flag beats env", []string{"-w5"}, map[string]string{"BXWASM_WORKERS_PER_PROCESS": "4"}, with(func(o *host.Options) { o.WorkersPerProcess = 5 })},
		{"epoch as duration", []string{"--epoch-interval=1m30s"}, nil, with(func(o *host.Options) { o.EpochInterval = 90 * time.Second })},
		{"epoch as seconds", []string{"--epoch-interval", "0.5"}, nil, with(func(o *host.Options) { o.EpochInterval = 500 * time.Millisecond })},
		{"epoch from env", nil, map[string]string{"BXWASM_EPOCH_INTERVAL": "250ms"}, with(func(o *host.Options) { o.EpochInterval = 250 * time.Millisecond })},
		{"memory limit", []string{"--memory-limit=64"}, nil, with(func(o *host.Options) { o.MemoryLimitMiB = 64 })},
		{"memory limit from env", nil, map[string]string{"BXWASM_MEMORY_LIMIT": "32"}, with(func(o *host.Options) { o.MemoryLimitMiB = 32 })},
		{"allow paths", []string{"--allow-path=/a,/b", "--allow-path", "/c"}, nil, with(func(o *host.Options) { o.AllowPaths = []string{"/a", "/b", "/c"} })},
		{"allow paths from env", nil, map[string]string{"BXWASM_ALLOW_PATHS": "/x,/y"}, with(func(o *host.Options) { o.AllowPaths = []string{"/x", "/y"} })},
		{"connections", []string{"--connection", "a=nats://h1:4222,nats://h2:4222", "--connection", "b=kafka://k:9092", "--connection-creds", "a=/c.creds", "--dead-letter", "dead"}, nil,
			with(func(o *host.Options) {
				o.Connections = connectors.Connections{"a": {Name: "a", URL: "nats://h1:4222,nats://h2:4222", Creds: "/c.creds"},
					"b": {Name: "b", URL: "kafka://k:9092"}}
				o.DeadLetter = "dead"
			})},
		{"connections from env", nil, map[string]string{"BXWASM_CONNECTIONS": "a=nats://h:1;b=tls://h:2"},
			with(func(o *host.Options) {
				o.Connections = connectors.Connections{"a": {Name: "a", URL: "nats://h:1"}, "b": {Name: "b", URL: "tls://h:2"}}
			})},
		{"cache dir", []string{"--cache-dir=/tmp/c"}, nil, with(func(o *host.Options) { o.CacheDir = "/tmp/c" })},
		{"cache off from env", nil, map[string]string{"BXWASM_CACHE_DIR": "-"}, with(func(o *host.Options) { o.CacheDir = "-" })},
		{"max module size", []string{"--max-module-size=2"}, nil, with(func(o *host.Options) { o.MaxModuleSize = 2 << 20 })},
		{"memory total", []string{"--memory-total=1024"}, nil, with(func(o *host.Options) { o.MemoryTotalMiB = 1024 })},
		{"memory total from env", nil, map[string]string{"BXWASM_MEMORY_TOTAL": "2048"}, with(func(o *host.Options) { o.MemoryTotalMiB = 2048 })},
		{"max item size", []string{"--max-item-size=3"}, nil, with(func(o *host.Options) { o.MaxItemSizeMiB = 3 })},
		{"max item size from env", nil, map[string]string{"BXWASM_MAX_ITEM_SIZE": "5"}, with(func(o *host.Options) { o.MaxItemSizeMiB = 5 })},
		{"local processes", []string{"-p3"}, nil, with(func(o *host.Options) { o.LocalProcesses = 3 })},
		{"loopback addresses are local", []string{"-a", "127.0.0.1:2101;localhost:2103;[::1]:2105;10.1.1.1:2101"}, nil,
			with(func(o *host.Options) { o.LocalProcesses = 3 })},
		{"remote addresses count this process", []string{"-a", "10.1.1.1:2101;10.1.1.2:2101"}, nil,
			with(func(o *host.Options) { o.LocalProcesses = 1 })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range []string{"BXWASM_WORKERS_PER_PROCESS", "BXWASM_EPOCH_INTERVAL", "BXWASM_MEMORY_LIMIT", "BXWASM_ALLOW_PATHS",
				"BXWASM_CACHE_DIR", "BXWASM_MEMORY_TOTAL", "BXWASM_MAX_ITEM_SIZE", "BXWASM_PROCESSES", "BXWASM_ADDRESSES", "BXWASM_HOSTFILE_PATH",
				"BXWASM_CONNECTIONS", "BXWASM_CONNECTION_CREDS", "BXWASM_DEAD_LETTER"} {
				t.Setenv(k, tt.env[k])
				if _, ok := tt.env[k]; !ok {
					unsetenv(t, k)
				}
			}
			var out bytes.Buffer
			s := streams{out: &out, err: &out}
			var c cli
			k, err := parser(&c, s)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := k.Parse(append([]string{"run", "m.wasm:flow"}, tt.args...)); err != nil {
				t.Fatalf("Parse: %v", err)
			}
			got := c.Run.options(s)
			got.Stdin, got.Stdout, got.Stderr = nil, nil, nil
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("options\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// TestLimits checks the flags of the limits the watching process keeps.
func TestLimits(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want watchdog.Limits
		err  string
	}{
		{"defaults", nil, nil, watchdog.Limits{Call: time.Minute, Compile: time.Minute}, ""},
		{"flags", []string{"--call-timeout=2s", "--compile-timeout=0"}, nil, watchdog.Limits{Call: 2 * time.Second}, ""},
		{"env", nil, map[string]string{"BXWASM_CALL_TIMEOUT": "0", "BXWASM_COMPILE_TIMEOUT": "90s"}, watchdog.Limits{Compile: 90 * time.Second}, ""},
		{"negative call timeout", []string{"--call-timeout=-1s"}, nil, watchdog.Limits{}, "--call-timeout must not be negative"},
		{"negative compile timeout", []string{"--compile-timeout=-1s"}, nil, watchdog.Limits{}, "--compile-timeout must not be negative"},
		{"module size zero", []string{"--max-module-size=0"}, nil, watchdog.Limits{}, "--max-module-size must be between 1 and 4096 MiB, got 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range []string{"BXWASM_CALL_TIMEOUT", "BXWASM_COMPILE_TIMEOUT"} {
				t.Setenv(k, tt.env[k])
				if _, ok := tt.env[k]; !ok {
					unsetenv(t, k)
				}
			}
			var out bytes.Buffer
			var c cli
			k, err := parser(&c, streams{out: &out, err: &out})
			if err != nil {
				t.Fatal(err)
			}
			_, err = k.Parse(append([]string{"inspect", "m.wasm"}, tt.args...))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("Parse: %v, want an error saying %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got := c.Inspect.limits(); got != tt.want {
				t.Fatalf("limits %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParseInterval(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		{"10s", 10 * time.Second, false},
		{"1h2m", time.Hour + 2*time.Minute, false},
		{"0.5", 500 * time.Millisecond, false},
		{"3", 3 * time.Second, false},
		{"1e-3", time.Millisecond, false},
		{"0", 0, true},
		{"-1s", 0, true},
		{"-2", 0, true},
		{"1e300", 0, true},
		{"NaN", 0, true},
		{"soon", 0, true},
		{"", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseInterval(tt.in)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("parseInterval(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

// unsetenv removes an environment variable for the rest of the test;
// t.Setenv restores it afterwards.
func unsetenv(t *testing.T, key string) {
	t.Helper()
	if err := os.Unsetenv(key); err != nil {
		t.Fatal(err)
	}
}
