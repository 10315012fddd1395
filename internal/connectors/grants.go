package connectors

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// Connection is a server the operator granted a flow under a name
// (--connection NAME=URL): the module names it, never the address.
type Connection struct {
	Name string
	// URL is nats://, tls://, ws:// or wss:// (one or several, comma
	// separated) for NATS, kafka://HOST:PORT[,HOST:PORT] for Kafka.
	// Credentials may be in it (user:password@, or a NATS token@).
	URL string
	// Creds is a NATS credentials file (user JWT and NKey seed), if any.
	Creds string
}

// Protocols a connection speaks.
const (
	ProtoNATS  = "nats"
	ProtoKafka = "kafka"
)

// Proto is the protocol of the connection's URL.
func (c Connection) Proto() string {
	if strings.HasPrefix(c.URL, "kafka://") {
		return ProtoKafka
	}
	return ProtoNATS
}

// Redacted is the URL without passwords or tokens, for messages.
func (c Connection) Redacted() string {
	parts := strings.Split(c.URL, ",")
	for i, p := range parts {
		if u, err := url.Parse(strings.TrimSpace(p)); err == nil && u.User != nil {
			u.User = url.User("xxxxx")
			parts[i] = u.String()
		}
	}
	return strings.Join(parts, ",")
}

// Connections are the granted connections, by name.
type Connections map[string]Connection

// ErrNoConnection is returned for a connection name the operator did not
// grant.
var ErrNoConnection = errors.New("connectors: no such connection")

// ErrBadConnection is returned for a malformed --connection or
// --connection-creds entry.
var ErrBadConnection = errors.New("connectors: bad connection")

// Lookup returns the connection named name, checking that it speaks proto.
func (c Connections) Lookup(name, proto string) (Connection, error) {
	conn, ok := c[name]
	if !ok {
		granted := make([]string, 0, len(c))
		for n := range c {
			granted = append(granted, n)
		}
		slices.Sort(granted)
		have := "none is granted"
		if len(granted) > 0 {
			have = "granted: " + strings.Join(granted, ", ")
		}
		return conn, fmt.Errorf("%w %q (%s); bind it with --connection %s=URL", ErrNoConnection, name, have, name)
	}
	if conn.Proto() != proto {
		return conn, fmt.Errorf("%w: connection %q is %s, a %s server, but the step needs a %s one",
			ErrBadConnection, name, conn.Redacted(), conn.Proto(), proto)
	}
	return conn, nil
}

// ParseConnections reads NAME=URL entries and NAME=FILE credentials.
func ParseConnections(entries, creds []string) (Connections, error) {
	if len(entries) == 0 && len(creds) == 0 {
		return nil, nil
	}
	out := Connections{}
	for _, e := range entries {
		name, u, err := splitEntry(e, "--connection", "URL")
		if err != nil {
			return nil, err
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("%w: connection %q is bound twice", ErrBadConnection, name)
		}
		if err := checkURL(name, u); err != nil {
			return nil, err
		}
		out[name] = Connection{Name: name, URL: u}
	}
	for _, e := range creds {
		name, file, err := splitEntry(e, "--connection-creds", "FILE")
		if err != nil {
			return nil, err
		}
		c, ok := out[name]
		if !ok {
			return nil, fmt.Errorf("%w: --connection-creds %s names no connection bound with --connection", ErrBadConnection, e)
		}
		if c.Proto() != ProtoNATS {
			return nil, fmt.Errorf("%w: --connection-creds is for NATS connections; %q is %s", ErrBadConnection, name, c.Redacted())
		}
		c.Creds = file
		out[name] = c
	}
	return out, nil
}

func splitEntry(e, flag, what string) (string, string, error) {
	name, v, ok := strings.Cut(e, "=")
	name, v = strings.TrimSpace(name), strings.TrimSpace(v)
	if !ok || name == "" || v == "" {
		return "", "", fmt.Errorf("%w: %s %q is not NAME=%s", ErrBadConnection, flag, e, what)
	}
	return name, v, nil
}

// checkURL accepts nats, tls, ws, wss and kafka URLs with a host.
func checkURL(name, s string) error {
	for _, p := range strings.Split(s, ",") {
		u, err := url.Parse(strings.TrimSpace(p))
		if err != nil || u.Host == "" {
			return fmt.Errorf("%w: connection %q: %q is not a URL like nats://HOST:4222 or kafka://HOST:9092", ErrBadConnection, name, p)
		}
		switch u.Scheme {
		case "nats", "tls", "ws", "wss", "kafka":
		default:
			return fmt.Errorf("%w: connection %q: scheme %q is not nats, tls, ws, wss or kafka", ErrBadConnection, name, u.Scheme)
		}
	}
	if strings.Contains(s, "kafka://") && strings.Count(s, "kafka://") != len(strings.Split(s, ",")) {
		return fmt.Errorf("%w: connection %q mixes kafka:// with other schemes", ErrBadConnection, name)
	}
	return nil
}
