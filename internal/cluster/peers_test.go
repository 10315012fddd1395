package cluster

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestParsePeers(t *testing.T) {
	for _, tc := range []struct {
		name   string
		addrs  string
		routes string // the route addresses, ';'-separated
	}{
		{"apart", "127.0.0.1:2101;127.0.0.1:2103", "127.0.0.1:2102;127.0.0.1:2104"},
		{"adjacent", "127.0.0.1:2101;127.0.0.1:2102", "127.0.0.1:2103;127.0.0.1:2104"},
		{"three adjacent", "127.0.0.1:2101;127.0.0.1:2102;127.0.0.1:2103", "127.0.0.1:2104;127.0.0.1:2105;127.0.0.1:2106"},
		{"hosts of their own", "host1:2101;host2:2101", "host1:2102;host2:2102"},
		{"localhost is loopback", "localhost:2101;127.0.0.1:2102", "localhost:2103;127.0.0.1:2104"},
		{"a wildcard takes the port everywhere", "0.0.0.0:2101;10.0.0.2:2102", "0.0.0.0:2103;10.0.0.2:2104"},
		{"route ports given", "127.0.0.1:2101/3101;127.0.0.1:2102/3102", "127.0.0.1:3101;127.0.0.1:3102"},
		{"a given route port is skipped", "127.0.0.1:2101;127.0.0.1:2103/2102", "127.0.0.1:2104;127.0.0.1:2102"},
		{"ipv6", "[::1]:2101;[::1]:2102", "[::1]:2103;[::1]:2104"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			peers, err := ParsePeers(strings.Split(tc.addrs, ";"))
			if err != nil {
				t.Fatal(err)
			}
			var routes []string
			for _, p := range peers {
				routes = append(routes, p.Route)
			}
			if want := strings.Split(tc.routes, ";"); !slices.Equal(routes, want) {
				t.Fatalf("routes %q, want %q", routes, want)
			}
			clients := strings.Split(tc.addrs, ";")
			for i, c := range clients {
				clients[i], _, _ = strings.Cut(c, "/")
			}
			if got := Clients(peers); !slices.Equal(got, clients) {
				t.Fatalf("clients %q, want %q", got, clients)
			}
		})
	}
}

func TestParsePeersErrors(t *testing.T) {
	for _, tc := range []struct {
		name, addrs, want string
	}{
		{"same address twice", "127.0.0.1:2101;127.0.0.1:2101", "127.0.0.1:2101 (process 0) and 127.0.0.1:2101 (process 1)"},
		{"localhost and 127.0.0.1", "localhost:2101;127.0.0.1:2101", "localhost:2101 (process 0) and 127.0.0.1:2101 (process 1)"},
		{"route on a listed address", "127.0.0.1:2101/2102;127.0.0.1:2102", "127.0.0.1:2102 (process 1) and 127.0.0.1:2102 (route of process 0)"},
		{"route on its own address", "127.0.0.1:2101/2101", "127.0.0.1:2101 (process 0) and 127.0.0.1:2101 (route of process 0)"},
		{"wildcard and a host", "0.0.0.0:2101/3000;10.0.0.1:3000", "10.0.0.1:3000 (process 1) and 0.0.0.0:3000 (route of process 0)"},
		{"no port", "127.0.0.1", "want host:port"},
		{"bad port", "127.0.0.1:0", "not between 1 and 65535"},
		{"bad route port", "127.0.0.1:2101/x", "route port"},
		{"no room for a route", "127.0.0.1:65535", "no free route port above 127.0.0.1:65535"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParsePeers(strings.Split(tc.addrs, ";"))
			if !errors.Is(err, ErrAddresses) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want ErrAddresses with %q", err, tc.want)
			}
		})
	}
}

func TestNotLoopback(t *testing.T) {
	for _, tc := range []struct{ addrs, want string }{
		{"127.0.0.1:2101;localhost:2102;[::1]:2103;127.0.0.5:2104", ""},
		{"127.0.0.1:2101;10.0.0.2:2101", "10.0.0.2:2101"},
		{"127.0.0.1:2101;:2102", ":2102"},
		{"0.0.0.0:2101", "0.0.0.0:2101"},
		{"node1:2101", "node1:2101"},
	} {
		peers, err := ParsePeers(strings.Split(tc.addrs, ";"))
		if err != nil {
			t.Fatal(err)
		}
		if got := NotLoopback(peers); got != tc.want {
			t.Errorf("NotLoopback(%s) = %q, want %q", tc.addrs, got, tc.want)
		}
	}
}
