package cluster

import "syscall"

// childAttr puts a child in its own process group, so that a terminal's
// Ctrl-C reaches only the supervisor, which forwards it once; and has the
// kernel kill the child if the supervisor dies without cleaning up.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
