//go:build !linux

package cluster

import "syscall"

// childAttr keeps the default process attributes where Linux's parent-death
// signal is not available.
func childAttr() *syscall.SysProcAttr { return nil }
