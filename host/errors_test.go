package host_test

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/bxwasm/bxwasm/host"
)

// TestWrappedGuestErrorIsHosts fails a flow factory: the error keeps its
// message, and errors.As finds host's GuestError inside it.
func TestWrappedGuestErrorIsHosts(t *testing.T) {
	module := flows(t)
	err := host.Run(context.Background(), module, "factory(-1, 'a', 1.0, true)", opts(t, 1))
	want := `building flow "factory" of ` + module + ": flow factory failed: factory: n must not be negative"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v, want %q", err, want)
	}
	var ge *host.GuestError
	if !errors.As(err, &ge) || ge.Message != "flow factory failed: factory: n must not be negative" || ge.HasKey {
		t.Errorf("got guest error %+v, want one with the factory's message", ge)
	}
	var se *host.StepError
	if errors.As(err, &se) {
		t.Errorf("a build error is not a step error: %+v", se)
	}
	if errors.Is(err, host.ErrStoreLocked) || errors.Is(err, host.ErrItemTooLarge) {
		t.Errorf("%v matches a sentinel it is not", err)
	}
}

// TestErrorTypesAreHosts checks that the error types host returns are its
// own, with fields of types any caller can name.
func TestErrorTypesAreHosts(t *testing.T) {
	hostPath := reflect.TypeOf(host.Options{}).PkgPath()
	errorType := reflect.TypeOf((*error)(nil)).Elem()
	for _, v := range []any{host.StepError{}, host.GuestError{}, host.RemoteError{}, host.MemoryError{}} {
		typ := reflect.TypeOf(v)
		if typ.PkgPath() != hostPath {
			t.Errorf("%s is defined in %s, not in host", typ, typ.PkgPath())
		}
		for i := range typ.NumField() {
			f := typ.Field(i)
			if f.Type != errorType && f.Type.PkgPath() != "" {
				t.Errorf("%s.%s has type %s of package %s", typ.Name(), f.Name, f.Type, f.Type.PkgPath())
			}
		}
	}
}
