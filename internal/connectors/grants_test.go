package connectors

import (
	"errors"
	"strings"
	"testing"
)

// TestParseConnections: what --connection and --connection-creds refuse.
func TestParseConnections(t *testing.T) {
	for _, tc := range []struct {
		entries, creds []string
		want           string
	}{
		{[]string{"a"}, nil, `--connection "a" is not NAME=URL`},
		{[]string{"=nats://h:1"}, nil, `is not NAME=URL`},
		{[]string{"a=nats://h:1", "a=nats://h:2"}, nil, `"a" is bound twice`},
		{[]string{"a=http://h:1"}, nil, `scheme "http" is not nats, tls, ws, wss or kafka`},
		{[]string{"a=nats://"}, nil, `is not a URL like nats://HOST:4222`},
		{[]string{"a=kafka://h:1,nats://h:2"}, nil, `mixes kafka:// with other schemes`},
		{[]string{"a=nats://h:1"}, []string{"b=/x"}, `names no connection bound with --connection`},
		{[]string{"a=kafka://h:1"}, []string{"a=/x"}, `--connection-creds is for NATS connections`},
	} {
		_, err := ParseConnections(tc.entries, tc.creds)
		if !errors.Is(err, ErrBadConnection) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q %q: %v, want %q", tc.entries, tc.creds, err, tc.want)
		}
	}
}

// TestLookup: an ungranted name lists the granted ones; a connection of
// the wrong protocol is refused; passwords never show.
func TestLookup(t *testing.T) {
	c, err := ParseConnections([]string{"n=nats://u:secret@h:1", "k=kafka://h:2"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Lookup("x", ProtoNATS); !errors.Is(err, ErrNoConnection) || !strings.Contains(err.Error(), "granted: k, n") {
		t.Errorf("unknown name: %v", err)
	}
	_, err = c.Lookup("n", ProtoKafka)
	if !errors.Is(err, ErrBadConnection) || strings.Contains(err.Error(), "secret") || !strings.Contains(err.Error(), "nats://xxxxx@h:1") {
		t.Errorf("wrong protocol: %v", err)
	}
	if got, err := c.Lookup("k", ProtoKafka); err != nil || got.URL != "kafka://h:2" {
		t.Errorf("k: %+v %v", got, err)
	}
}
