package connectors

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ErrPathRefused is returned for a path outside the directories a run may
// touch.
var ErrPathRefused = errors.New("connectors: path refused")

// errLinkLoop is returned when resolving a path meets too many symlinks.
var errLinkLoop = errors.New("connectors: too many levels of symbolic links")

// Paths says where host connectors may read and write.
type Paths struct {
	// Root is the working directory: relative paths are resolved against
	// it and everything under it may be touched ("" = the current
	// directory).
	Root string
	// Allow are further directories that may be touched; relative ones
	// are resolved against Root.
	Allow []string
}

// Resolve returns the absolute path that path names, with every symbolic
// link of its existing part evaluated, or ErrPathRefused unless that path
// is Root, an Allow directory, or under one of them. Callers open the
// returned path, so what was checked is what is touched.
func (p Paths) Resolve(path string) (string, error) {
	abs, err := p.abs(path)
	if err != nil {
		return "", err
	}
	real, err := evalExisting(abs, 0)
	if err != nil {
		return "", fmt.Errorf("connectors: resolving %s: %w", path, err)
	}
	for _, dir := range append([]string{p.Root}, p.Allow...) {
		if ok, err := p.within(dir, real); err != nil || ok {
			return real, err
		}
	}
	root, _ := p.abs(p.Root)
	return "", fmt.Errorf("%w: %s is outside the working directory %s; pass --allow-path DIR to grant it",
		ErrPathRefused, path, root)
}

// abs makes path absolute against Root.
func (p Paths) abs(path string) (string, error) {
	if filepath.IsAbs(path) {
		return filepath.Clean(path), nil
	}
	root := p.Root
	if root == "" {
		wd, err := os.Getwd()
		if err != nil {
			return "", fmt.Errorf("connectors: working directory: %w", err)
		}
		root = wd
	}
	return filepath.Abs(filepath.Join(root, path))
}

// within reports whether real is dir or under it, once dir is resolved.
func (p Paths) within(dir, real string) (bool, error) {
	abs, err := p.abs(dir)
	if err != nil {
		return false, err
	}
	d, err := evalExisting(abs, 0)
	if err != nil {
		return false, fmt.Errorf("connectors: resolving allowed directory %s: %w", dir, err)
	}
	rel, err := filepath.Rel(d, real)
	if err != nil {
		return false, nil
	}
	return rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)), nil
}

// maxLinks bounds the symbolic links evalExisting follows by hand.
const maxLinks = 255

// evalExisting evaluates the symbolic links of the longest existing prefix
// of the clean absolute path abs and appends the rest. A dangling link is
// followed to its target, so a file created through it is checked where it
// will really be.
func evalExisting(abs string, links int) (string, error) {
	real, err := filepath.EvalSymlinks(abs)
	if err == nil {
		return real, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	dir, base := filepath.Split(abs)
	dir = filepath.Clean(dir)
	if dir == abs {
		return abs, nil
	}
	parent, err := evalExisting(dir, links)
	if err != nil {
		return "", err
	}
	path := filepath.Join(parent, base)
	target, err := os.Readlink(path)
	if err != nil {
		return path, nil // does not exist: nothing more to evaluate
	}
	if links >= maxLinks {
		return "", errLinkLoop
	}
	if !filepath.IsAbs(target) {
		target = filepath.Join(parent, target)
	}
	return evalExisting(filepath.Clean(target), links+1)
}
