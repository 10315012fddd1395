//go:build !linux

package guest

import "context"

// withMemory leaves wazero's default memory allocator in place.
func withMemory(ctx context.Context) context.Context { return ctx }
