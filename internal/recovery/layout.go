package recovery

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
)

// schema creates the tables of one partition file. Executions and commits are used in part-0 only.
const schema = `
CREATE TABLE meta (k TEXT PRIMARY KEY, v TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE snaps (
	step_id TEXT NOT NULL, state_key TEXT NOT NULL, epoch INTEGER NOT NULL, state BLOB, crc INTEGER NOT NULL,
	PRIMARY KEY (step_id, state_key, epoch)
) WITHOUT ROWID;
CREATE TABLE executions (ex INTEGER PRIMARY KEY, workers INTEGER NOT NULL, start_epoch INTEGER NOT NULL);
CREATE TABLE commits (
	ex INTEGER NOT NULL, worker INTEGER NOT NULL, epoch INTEGER NOT NULL, PRIMARY KEY (ex, worker)
) WITHOUT ROWID;
`

// indexes serve GC (and Begin's drop of uncommitted epochs); OpenSQLite adds them to stores created before
// them.
const indexes = `
CREATE INDEX IF NOT EXISTS snaps_epoch ON snaps (epoch);
CREATE INDEX IF NOT EXISTS snaps_tombstones ON snaps (epoch) WHERE state IS NULL;
`

// formatVersion is the layout version recorded in every partition's meta table. Format 2 added the crc
// column of snaps (see Checksum) and keys file positions by the path the flow gave; stores of format 1
// are refused by OpenSQLite (Inspect still reads them).
const formatVersion = "2"

// oldFormat is the layout before checksums.
const oldFormat = "1"

var partName = regexp.MustCompile(`^part-(0|[1-9][0-9]*)\.sqlite3$`)

// PartitionFile is the name of partition i's file in a store directory.
func PartitionFile(i int) string { return fmt.Sprintf("part-%d.sqlite3", i) }

// Init creates a store of partitions partition files in dir (created if missing); it refuses a directory
// that already holds partition files. A crash part way leaves no partition file that a run would take for
// a store: each file is written whole under a temporary name, then the files are renamed into place with
// partition 0 last (see interruptedInit).
func Init(dir string, partitions int) error {
	if partitions < 1 {
		return fmt.Errorf("%w: %d", ErrBadPartitionCount, partitions)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("recovery: create %s: %w", dir, err)
	}
	found, err := listPartitions(dir)
	if err != nil {
		return err
	}
	if len(found) > 0 {
		return fmt.Errorf("%w: %s has %d partition files", ErrNotEmpty, dir, len(found))
	}
	id, err := newStoreID()
	if err != nil {
		return err
	}
	for i := range partitions {
		tmp := filepath.Join(dir, PartitionFile(i)+initSuffix)
		removeFile(tmp)
		if err := initPartition(tmp, id, i, partitions); err != nil {
			return err
		}
	}
	for i := partitions - 1; i >= 0; i-- {
		final := filepath.Join(dir, PartitionFile(i))
		if err := os.Rename(final+initSuffix, final); err != nil {
			return fmt.Errorf("recovery: create %s: %w", final, err)
		}
	}
	return nil
}

// initSuffix marks a partition file Init is still writing.
const initSuffix = ".init"

// removeFile removes a SQLite file and its journals, if there.
func removeFile(path string) {
	for _, p := range []string{path, path + "-journal", path + "-wal", path + "-shm"} {
		_ = os.Remove(p)
	}
}

func newStoreID() (string, error) {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("recovery: store id: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// initPartition writes a partition file's tables and meta in one transaction.
func initPartition(path, storeID string, i, n int) error {
	db, err := sql.Open("sqlite", path)
	if err != nil {
		return fmt.Errorf("recovery: create %s: %w", path, err)
	}
	defer db.Close()
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, `PRAGMA journal_mode = WAL`); err != nil {
		return fmt.Errorf("recovery: create %s: %w", path, err)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("recovery: create %s: %w", path, err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, schema+indexes); err != nil {
		return fmt.Errorf("recovery: create %s: %w", path, err)
	}
	meta := map[string]string{
		"format": formatVersion, "store_id": storeID, "flow_id": "",
		"partition": strconv.Itoa(i), "partitions": strconv.Itoa(n),
	}
	for k, v := range meta {
		if _, err := tx.ExecContext(ctx, `INSERT INTO meta (k, v) VALUES (?, ?)`, k, v); err != nil {
			return fmt.Errorf("recovery: create %s: %w", path, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("recovery: create %s: %w", path, err)
	}
	return db.Close()
}

// interruptedInit reports whether the partition files found in dir are what a crashed Init left: some
// renamed into place, but not partition 0, which Init renames last, and none ever used by a flow. Such
// files hold no data and may be removed to create the store again.
func interruptedInit(dir string, found []int) bool {
	if len(found) == 0 || found[0] == 0 {
		return false
	}
	for _, i := range found {
		if !unused(filepath.Join(dir, PartitionFile(i))) {
			return false
		}
	}
	return true
}

// unused reports whether a partition file is readable and was never used by a flow: no flow id recorded
// (saveFlow writes it into every partition before anything else), no snapshot, no execution.
func unused(path string) bool {
	db, err := sql.Open("sqlite", fileURI(path)+partParams(path, readOnly))
	if err != nil {
		return false
	}
	defer db.Close()
	var n int
	err = db.QueryRowContext(context.Background(), `SELECT (SELECT count(*) FROM meta WHERE k = 'flow_id' AND v != '')
		+ (SELECT count(*) FROM snaps) + (SELECT count(*) FROM executions)`).Scan(&n)
	return err == nil && n == 0
}

// listPartitions returns the partition indices found in dir, sorted.
func listPartitions(dir string) ([]int, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("recovery: read %s: %w", dir, err)
	}
	var found []int
	for _, e := range entries {
		if m := partName.FindStringSubmatch(e.Name()); m != nil {
			i, err := strconv.Atoi(m[1])
			if err != nil {
				continue
			}
			found = append(found, i)
		}
	}
	slices.Sort(found)
	return found, nil
}

// checkDir reports a missing store directory with how to create it.
func checkDir(dir string) error {
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%w: %s (create it with `bxwasm recovery init %s --partitions N`)", ErrNoDir, dir, dir)
	case err != nil:
		return fmt.Errorf("recovery: %w", err)
	case !st.IsDir():
		return fmt.Errorf("%w: %s", ErrNotDir, dir)
	}
	return nil
}

// checkForeign refuses to create a store in a directory that holds entries other than a store's lock
// files: a user pointing the run at a directory of their own data.
func checkForeign(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("recovery: read %s: %w", dir, err)
	}
	var foreign []string
	for _, e := range entries {
		if !isStoreFile(e.Name()) {
			foreign = append(foreign, e.Name())
		}
	}
	if len(foreign) == 0 {
		return nil
	}
	slices.Sort(foreign)
	return fmt.Errorf("%w: %s holds %s but no partition files; a new store needs an empty or missing "+
		"directory: choose another --recovery-directory", ErrNotStore, dir, listSome(foreign, 3))
}

// isStoreFile reports whether name is a file a store holds: a partition (another run may be creating
// the store at this moment), one Init is writing, the lock, its holder files, and SQLite's journal files.
func isStoreFile(name string) bool {
	if name == LockFile || strings.HasPrefix(name, LockFile+".") || partName.MatchString(name) {
		return true
	}
	name = strings.Replace(name, ".sqlite3"+initSuffix, ".sqlite3", 1)
	if partName.MatchString(name) {
		return true
	}
	base, _, ok := strings.Cut(name, ".sqlite3-")
	return ok && partName.MatchString(base+".sqlite3")
}

// listSome names up to n of names, and how many more there are.
func listSome(names []string, n int) string {
	if len(names) <= n {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:n], ", "), len(names)-n)
}

// checkNumbering reports gaps in the partition numbering 0..n-1.
func checkNumbering(dir string, found []int) error {
	var missing []string
	next := 0
	for _, i := range found {
		for ; next < i; next++ {
			missing = append(missing, PartitionFile(next))
		}
		next = i + 1
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: %s lacks %s (found %d files up to %s)", ErrMissingPartition, dir,
			strings.Join(missing, ", "), len(found), PartitionFile(found[len(found)-1]))
	}
	return nil
}

// checkWritable refuses a directory or a partition file (or its WAL files) that cannot be written.
func checkWritable(dir string, n int) error {
	paths := []string{dir}
	for i := range n {
		p := filepath.Join(dir, PartitionFile(i))
		paths = append(paths, p, p+"-wal", p+"-shm")
	}
	for _, p := range paths {
		if err := writable(p); err != nil {
			return err
		}
	}
	return nil
}

// writable fails for a path whose owner write bit is clear (even for root) or that access(2) refuses;
// a missing path is fine.
func writable(path string) error {
	st, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("recovery: %w", err)
	}
	if st.Mode().Perm()&0o200 == 0 || syscall.Access(path, 2) != nil {
		return fmt.Errorf("%w: %s is not writable (mode %v)", ErrReadOnly, path, st.Mode().Perm())
	}
	return nil
}
