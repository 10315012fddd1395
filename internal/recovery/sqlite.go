package recovery

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"sync"

	_ "modernc.org/sqlite" // database/sql driver "sqlite"
)

// SQLiteOptions configures OpenSQLite.
type SQLiteOptions struct {
	// FlowID names the flow; a store that already belongs to another flow is refused. Empty skips the check
	// (as `bxwasm recovery inspect` does). It is recorded at the first Begin.
	FlowID string
	// Create creates the directory and Partitions partition files when the directory holds none.
	Create bool
	// Partitions is the partition count used by Create (default 1).
	Partitions int
	// Process is the id (0-based) of this OS process in its run (default 0). Each process of a run opens the
	// store with its own id and locks only that id, so the processes of one run share the store while two
	// runs (both have a process 0) cannot. Process 0 calls Begin; the others Commit with the execution
	// number it got.
	Process int
}

// Validate checks the options.
func (o SQLiteOptions) Validate() error {
	if o.Process < 0 {
		return fmt.Errorf("%w: %d", ErrBadProcess, o.Process)
	}
	if o.Partitions < 0 {
		return fmt.Errorf("%w: %d", ErrBadPartitionCount, o.Partitions)
	}
	return nil
}

// SQLite is a Store in a directory of SQLite partition files. Its methods are safe for concurrent use.
type SQLite struct {
	dir    string
	flowID string
	parts  []*sql.DB
	lock   *dirLock // nil for a read-only store (Inspect)
	format string   // of the partition files
	mu     struct {
		sync.Mutex
		closed    bool
		flowSaved bool
	}
}

// partMeta is the meta table of one partition file.
type partMeta struct {
	format, storeID, flowID string
	partition, n            int
}

// OpenSQLite opens the store in dir. Every check runs before anything is written: a missing directory,
// no partition files, a gap in the numbering, a read-only directory or file, a held lock, a corrupted
// file (PRAGMA quick_check), files of different stores, a store of an older format and a store of another
// flow are each an error. With Create, a directory that holds no partition files but other files is
// refused (ErrNotStore), and the partitions are created under the lock, so of two runs racing to create
// one store the loser gets ErrLocked.
func OpenSQLite(ctx context.Context, dir string, opts SQLiteOptions) (*SQLite, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if err := prepareDir(dir, opts); err != nil {
		return nil, err
	}
	lock, err := lockDir(dir, opts.Process)
	if err != nil {
		return nil, err
	}
	s := &SQLite{dir: dir, flowID: opts.FlowID, lock: lock}
	if err := s.openLocked(ctx, opts); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// openLocked creates the partitions if opts.Create and there are none yet, then checks and opens them.
func (s *SQLite) openLocked(ctx context.Context, opts SQLiteOptions) error {
	n, err := partitionsLocked(s.dir, opts)
	if err != nil {
		return err
	}
	if err := s.openParts(ctx, n, readWrite); err != nil {
		return err
	}
	if s.format == oldFormat {
		return fmt.Errorf("%w: %s; finish its run with the bxwasm that wrote it, or start afresh with an "+
			"empty recovery directory", ErrOldFormat, s.dir)
	}
	return s.addIndexes(ctx)
}

// prepareDir runs the checks that need no lock, creating the directory with opts.Create.
func prepareDir(dir string, opts SQLiteOptions) error {
	if opts.Create {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("recovery: create %s: %w", dir, err)
		}
	}
	if err := checkDir(dir); err != nil {
		return err
	}
	found, err := listPartitions(dir)
	if err != nil {
		return err
	}
	switch {
	case len(found) > 0:
	case !opts.Create:
		return fmt.Errorf("%w in %s (create them with `bxwasm recovery init %s --partitions N`)",
			ErrNoPartitions, dir, dir)
	default:
		if err := checkForeign(dir); err != nil {
			return err
		}
	}
	return writable(dir)
}

// partitionsLocked creates the store (with opts.Create, when dir holds no partition files yet) and checks
// the partition files; it returns their count. The caller holds the lock, so no other run creates or
// opens the store meanwhile.
func partitionsLocked(dir string, opts SQLiteOptions) (int, error) {
	found, err := listPartitions(dir)
	if err != nil {
		return 0, err
	}
	if opts.Create && interruptedInit(dir, found) {
		for _, i := range found {
			removeFile(filepath.Join(dir, PartitionFile(i)))
		}
		found = nil
	}
	if len(found) == 0 && opts.Create {
		if err := Init(dir, max(opts.Partitions, 1)); err != nil {
			return 0, err
		}
		if found, err = listPartitions(dir); err != nil {
			return 0, err
		}
	}
	if len(found) == 0 {
		return 0, fmt.Errorf("%w in %s (create them with `bxwasm recovery init %s --partitions N`)",
			ErrNoPartitions, dir, dir)
	}
	if err := checkNumbering(dir, found); err != nil {
		return 0, err
	}
	return len(found), checkWritable(dir, len(found))
}

// Connection parameters of the partition files. Transactions begin IMMEDIATE: they take the write lock at
// BEGIN, waiting up to busy_timeout for other processes of the run, where a deferred transaction that reads
// then writes would fail with SQLITE_BUSY when another connection wrote in between.
// A read-only open of a file in WAL mode creates its -wal and -shm files when they are missing, so Inspect
// opens a partition without a -wal (no connection has it open) as immutable, which creates nothing.
// The wait is long because a GC of a large store holds a partition's write lock for seconds, and a
// Write that gives up fails the run.
const (
	readWrite = "?_pragma=busy_timeout(60000)&_pragma=cache_size(-65536)&_pragma=synchronous(NORMAL)&_txlock=immediate"
	readOnly  = "?mode=ro&_pragma=busy_timeout(5000)"
	idle      = "?mode=ro&immutable=1"
)

func (s *SQLite) openParts(ctx context.Context, n int, params string) error {
	metas := make([]partMeta, n)
	for i := range n {
		path := filepath.Join(s.dir, PartitionFile(i))
		db, m, err := openPart(ctx, path, partParams(path, params))
		if err != nil {
			return err
		}
		s.parts = append(s.parts, db)
		metas[i] = m
	}
	return s.checkMetas(metas)
}

// partParams is params for the file at path: idle instead of readOnly when the file has no -wal.
func partParams(path, params string) string {
	if _, err := os.Stat(path + "-wal"); params == readOnly && errors.Is(err, fs.ErrNotExist) {
		return idle
	}
	return params
}

// openPart opens one partition file with params, checks its integrity and reads its meta table.
func openPart(ctx context.Context, path, params string) (*sql.DB, partMeta, error) {
	db, err := sql.Open("sqlite", fileURI(path)+params)
	if err != nil {
		return nil, partMeta{}, fmt.Errorf("recovery: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	m, err := checkPart(ctx, db)
	if err != nil {
		db.Close()
		return nil, partMeta{}, fmt.Errorf("%w: %s: %v", ErrCorrupt, path, err)
	}
	return db, m, nil
}

// fileURI is path as an SQLite URI filename (which the read-only mode needs), with the characters URIs give
// a meaning escaped.
func fileURI(path string) string {
	return "file:" + strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
}

func checkPart(ctx context.Context, db *sql.DB) (partMeta, error) {
	if err := quickCheck(ctx, db); err != nil {
		return partMeta{}, err
	}
	return readMeta(ctx, db)
}

// quickCheck runs PRAGMA quick_check and returns its first findings as an error.
func quickCheck(ctx context.Context, db *sql.DB) error {
	rows, err := db.QueryContext(ctx, `PRAGMA quick_check(4)`)
	if err != nil {
		return err
	}
	defer rows.Close()
	var found []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return err
		}
		found = append(found, strings.TrimSpace(line))
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(found) == 1 && found[0] == "ok" {
		return nil
	}
	return errors.New(strings.Join(found, "; "))
}

func readMeta(ctx context.Context, db *sql.DB) (partMeta, error) {
	rows, err := db.QueryContext(ctx, `SELECT k, v FROM meta`)
	if err != nil {
		return partMeta{}, err
	}
	defer rows.Close()
	kv := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return partMeta{}, err
		}
		kv[k] = v
	}
	if err := rows.Err(); err != nil {
		return partMeta{}, err
	}
	if f := kv["format"]; f != formatVersion && f != oldFormat {
		return partMeta{}, fmt.Errorf("unknown format %q (want %s)", f, formatVersion)
	}
	m := partMeta{format: kv["format"], storeID: kv["store_id"], flowID: kv["flow_id"]}
	m.partition, err = strconv.Atoi(kv["partition"])
	if err == nil {
		m.n, err = strconv.Atoi(kv["partitions"])
	}
	return m, err
}

// checkMetas checks that the files are the partitions of one store, of this flow.
func (s *SQLite) checkMetas(metas []partMeta) error {
	first := metas[0]
	for i, m := range metas {
		if m.storeID != first.storeID || m.partition != i {
			return fmt.Errorf("%w: %s is partition %d of store %s, %s is partition 0 of store %s", ErrMixedPartitions,
				PartitionFile(i), m.partition, m.storeID, PartitionFile(0), first.storeID)
		}
		if m.n != len(metas) {
			return fmt.Errorf("%w: %s: store has %d partitions, found %d files", ErrMissingPartition,
				s.dir, m.n, len(metas))
		}
		if m.format != first.format {
			return fmt.Errorf("%w: %s has format %s, %s format %s", ErrMixedPartitions,
				PartitionFile(i), m.format, PartitionFile(0), first.format)
		}
	}
	flowID, complete, err := storeFlow(metas)
	if err != nil {
		return err
	}
	if flowID != "" && s.flowID != "" && flowID != s.flowID {
		return fmt.Errorf("%w: %s belongs to flow %q, not %q", ErrFlowMismatch, s.dir, flowID, s.flowID)
	}
	s.mu.flowSaved = complete || s.flowID == ""
	s.format = first.format
	return nil
}

// storeFlow is the flow id the partitions record, and whether every partition records it. Partitions
// without one are those a crash kept saveFlow from reaching (it writes them one by one); two different
// ids are two flows' files.
func storeFlow(metas []partMeta) (id string, complete bool, err error) {
	complete = true
	for _, m := range metas {
		switch {
		case m.flowID == "":
			complete = false
		case id == "":
			id = m.flowID
		case m.flowID != id:
			return "", false, fmt.Errorf("%w: partitions disagree: %q and %q", ErrMixedPartitions, id, m.flowID)
		}
	}
	return id, complete && id != "", nil
}

// addIndexes creates the indexes a store created before them lacks (after every check passed).
func (s *SQLite) addIndexes(ctx context.Context) error {
	for i, db := range s.parts {
		if _, err := db.ExecContext(ctx, indexes); err != nil {
			return fmt.Errorf("recovery: index %s: %w", PartitionFile(i), err)
		}
	}
	return nil
}

// Dir is the store's directory.
func (s *SQLite) Dir() string { return s.dir }

// Close closes the partition files and releases the lock; it is idempotent.
func (s *SQLite) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mu.closed {
		return nil
	}
	s.mu.closed = true
	var errs []error
	for _, db := range s.parts {
		errs = append(errs, db.Close())
	}
	if s.lock != nil {
		errs = append(errs, s.lock.Close())
	}
	return errors.Join(errs...)
}

// open returns ErrClosed once the store is closed.
func (s *SQLite) open() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mu.closed {
		return ErrClosed
	}
	return nil
}
