package flowspec

import (
	"os"
	"strings"
)

// SplitTarget separates a run target into the module path and the flow
// spec. It splits after the first ".wasm:" if there is one, so colons in
// the spec stay in the spec:
//
//	wc.wasm:get_flow('a:b')  ->  "wc.wasm", "get_flow('a:b')"
//
// Otherwise it splits at the first ':' if the part before it names an
// existing file, and else returns the whole target as the module path with
// an empty spec (which Parse reads as DefaultFlow).
func SplitTarget(arg string) (module, spec string) {
	const ext = ".wasm:"
	if i := strings.Index(arg, ext); i >= 0 {
		cut := i + len(ext)
		return arg[:cut-1], arg[cut:]
	}
	i := strings.IndexByte(arg, ':')
	if i <= 0 {
		return arg, ""
	}
	if st, err := os.Stat(arg[:i]); err == nil && !st.IsDir() {
		return arg[:i], arg[i+1:]
	}
	return arg, ""
}
