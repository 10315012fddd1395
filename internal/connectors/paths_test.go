package connectors

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// mkfile writes a file (and its parents) under dir and returns its path.
func mkfile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

func TestResolve(t *testing.T) {
	base := t.TempDir()
	root := filepath.Join(base, "root")
	outside := filepath.Join(base, "outside")
	granted := filepath.Join(base, "granted")
	mkfile(t, root, "in.txt", "x")
	mkfile(t, root, "sub/deep.txt", "x")
	mkfile(t, outside, "secret.txt", "x")
	mkfile(t, granted, "data.txt", "x")
	symlink(t, filepath.Join(outside, "secret.txt"), filepath.Join(root, "escape.txt"))
	symlink(t, outside, filepath.Join(root, "escapedir"))
	symlink(t, filepath.Join(outside, "new.txt"), filepath.Join(root, "dangling.txt"))
	symlink(t, "sub/deep.txt", filepath.Join(root, "inner.txt"))
	symlink(t, "loop2", filepath.Join(root, "loop1"))
	symlink(t, "loop1", filepath.Join(root, "loop2"))
	symlink(t, root, filepath.Join(base, "rootlink"))

	tests := []struct {
		name    string
		paths   Paths
		path    string
		want    string // resolved path, or "" when refused
		wantErr error
	}{
		{"relative file", Paths{Root: root}, "in.txt", filepath.Join(root, "in.txt"), nil},
		{"relative in subdir", Paths{Root: root}, "sub/deep.txt", filepath.Join(root, "sub/deep.txt"), nil},
		{"not yet existing", Paths{Root: root}, "new/out.txt", filepath.Join(root, "new/out.txt"), nil},
		{"root itself", Paths{Root: root}, ".", root, nil},
		{"absolute inside", Paths{Root: root}, filepath.Join(root, "in.txt"), filepath.Join(root, "in.txt"), nil},
		{"dot dot inside", Paths{Root: root}, "sub/../in.txt", filepath.Join(root, "in.txt"), nil},
		{"dot dot outside", Paths{Root: root}, "../outside/secret.txt", "", ErrPathRefused},
		{"absolute outside", Paths{Root: root}, filepath.Join(outside, "secret.txt"), "", ErrPathRefused},
		{"sibling with root as prefix", Paths{Root: root}, root + "2/x.txt", "", ErrPathRefused},
		{"symlink escaping", Paths{Root: root}, "escape.txt", "", ErrPathRefused},
		{"through symlinked dir", Paths{Root: root}, "escapedir/secret.txt", "", ErrPathRefused},
		{"new file in symlinked dir", Paths{Root: root}, "escapedir/new.txt", "", ErrPathRefused},
		{"dangling symlink escaping", Paths{Root: root}, "dangling.txt", "", ErrPathRefused},
		{"symlink inside", Paths{Root: root}, "inner.txt", filepath.Join(root, "sub/deep.txt"), nil},
		{"root given through a symlink", Paths{Root: filepath.Join(base, "rootlink")}, "in.txt", filepath.Join(root, "in.txt"), nil},
		{"granted dir", Paths{Root: root, Allow: []string{granted}}, filepath.Join(granted, "data.txt"), filepath.Join(granted, "data.txt"), nil},
		{"granted relative dir", Paths{Root: root, Allow: []string{"../granted"}}, "../granted/data.txt", filepath.Join(granted, "data.txt"), nil},
		{"grant does not cover others", Paths{Root: root, Allow: []string{granted}}, filepath.Join(outside, "secret.txt"), "", ErrPathRefused},
		{"symlink granted by its target", Paths{Root: root, Allow: []string{outside}}, "escape.txt", filepath.Join(outside, "secret.txt"), nil},
		{"symlink loop", Paths{Root: root}, "loop1", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.paths.Resolve(tt.path)
			if tt.want == "" {
				if err == nil {
					t.Fatalf("Resolve(%q) = %q, want an error", tt.path, got)
				}
				if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
					t.Fatalf("Resolve(%q) error %v, want %v", tt.path, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Resolve(%q) = %q, %v; want %q", tt.path, got, err, tt.want)
			}
		})
	}
}

func TestResolveRefusedMessage(t *testing.T) {
	root := t.TempDir()
	_, err := Paths{Root: root}.Resolve("../x.txt")
	for _, want := range []string{"../x.txt", root, "pass --allow-path DIR to grant it"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not contain %q", err, want)
		}
	}
}

func TestResolveDefaultsToWorkingDir(t *testing.T) {
	root := t.TempDir()
	mkfile(t, root, "in.txt", "x")
	t.Chdir(root)
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	got, err := Paths{}.Resolve("in.txt")
	if err != nil || got != filepath.Join(wd, "in.txt") {
		t.Fatalf("Resolve = %q, %v", got, err)
	}
	if _, err := (Paths{}).Resolve("../elsewhere.txt"); !errors.Is(err, ErrPathRefused) {
		t.Fatalf("Resolve(../elsewhere.txt) error %v, want ErrPathRefused", err)
	}
}
