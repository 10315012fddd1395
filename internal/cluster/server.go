package cluster

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// ErrServer is wrapped by every error StartServer returns.
var ErrServer = errors.New("cluster: nats server")

// DefaultClusterName is the NATS cluster name the embedded servers share
// when ServerConfig.ClusterName is empty.
const DefaultClusterName = "bxwasm"

// serverReadyTimeout bounds how long StartServer waits for the listeners.
const serverReadyTimeout = 10 * time.Second

// ServerConfig configures an embedded nats-server.
type ServerConfig struct {
	// Listen is the host:port clients connect to; port 0 picks a free port
	// ("127.0.0.1:0").
	Listen string
	// ClusterListen is the host:port other servers of a manual cluster
	// route to; empty for a server on its own. Port 0 picks a free port.
	ClusterListen string
	// Routes are the other servers' cluster addresses (host:port, or
	// nats-route:// URLs). Servers retry routes until the others are up.
	Routes []string
	// Name is the server's name, unique in the cluster; empty lets the
	// server use its generated id.
	Name string
	// ClusterName is the NATS cluster's name; DefaultClusterName if empty.
	ClusterName string
	// Token, when set, is required of every client (nats.Token) and, as the
	// password of user RouteUser, of every route; Routes carry it.
	Token string
	// TLS, when enabled, is required of every client and route.
	TLS TLSFiles
}

// RouteUser is the user name routes between embedded servers use.
const RouteUser = "bxwasm"

// ErrAddrInUse is wrapped by StartServer's error when a listener cannot
// bind its address because another socket holds it.
var ErrAddrInUse = errors.New("address in use")

// StartServer starts an embedded nats-server and waits until it accepts
// connections. It returns the running server and the URL clients connect to.
// The caller shuts the server down (Shutdown, then WaitForShutdown).
func StartServer(cfg ServerConfig) (*server.Server, string, error) {
	opts, err := cfg.options()
	if err != nil {
		return nil, "", err
	}
	s, err := server.NewServer(opts)
	if err != nil {
		return nil, "", fmt.Errorf("%w: %w", ErrServer, err)
	}
	fatal := &fatalLogger{errs: make(chan error, 2), cfg: cfg}
	s.SetLogger(fatal, false, false)
	go s.Start()
	if err := fatal.waitReady(s); err != nil {
		s.Shutdown()
		return nil, "", err
	}
	return s, clientURL(s), nil
}

// options translates cfg into nats-server options.
func (cfg ServerConfig) options() (*server.Options, error) {
	host, port, err := splitListen(cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("%w: listen: %w", ErrServer, err)
	}
	opts := &server.Options{
		ServerName: cfg.Name,
		Host:       host,
		Port:       port,
		NoSigs:     true,
		NoLog:      true,
		// Authorization is required of clients when set.
		Authorization: cfg.Token,
	}
	if cfg.ClusterListen == "" && len(cfg.Routes) > 0 {
		return nil, fmt.Errorf("%w: routes need a cluster listen address", ErrServer)
	}
	if cfg.ClusterListen != "" {
		if err := cfg.clusterOptions(opts); err != nil {
			return nil, err
		}
	}
	if err := cfg.TLS.secure(opts); err != nil {
		return nil, err
	}
	return opts, nil
}

// clusterOptions fills the cluster listener and the routes into opts.
func (cfg ServerConfig) clusterOptions(opts *server.Options) error {
	host, port, err := splitListen(cfg.ClusterListen)
	if err != nil {
		return fmt.Errorf("%w: cluster listen: %w", ErrServer, err)
	}
	name := cfg.ClusterName
	if name == "" {
		name = DefaultClusterName
	}
	opts.Cluster = server.ClusterOpts{Name: name, Host: host, Port: port}
	if cfg.Token != "" {
		opts.Cluster.Username, opts.Cluster.Password = RouteUser, cfg.Token
	}
	for _, r := range cfg.Routes {
		u, err := routeURL(r)
		if err != nil {
			return fmt.Errorf("%w: route %q: %w", ErrServer, r, err)
		}
		if cfg.Token != "" {
			u.User = url.UserPassword(RouteUser, cfg.Token)
		}
		opts.Routes = append(opts.Routes, u)
	}
	return nil
}

// splitListen parses host:port; port 0 becomes nats-server's random port.
func splitListen(addr string) (string, int, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.Atoi(p)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("bad port %q", p)
	}
	if port == 0 {
		port = server.RANDOM_PORT
	}
	if host == "" {
		host = "0.0.0.0"
	}
	return host, port, nil
}

// routeURL turns "host:port" (or a full URL) into a route URL.
func routeURL(r string) (*url.URL, error) {
	if !strings.Contains(r, "://") {
		r = "nats-route://" + r
	}
	u, err := url.Parse(r)
	if err != nil {
		return nil, err
	}
	if u.Hostname() == "" || u.Port() == "" {
		return nil, errors.New("want host:port")
	}
	return u, nil
}

// clientURL is the server's client URL, with a wildcard listen address
// replaced by loopback so that it can be dialled.
func clientURL(s *server.Server) string {
	addr, ok := s.Addr().(*net.TCPAddr)
	if !ok {
		return s.ClientURL()
	}
	host := addr.IP.String()
	if addr.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "nats://" + net.JoinHostPort(host, strconv.Itoa(addr.Port))
}
