// Package testenv is the test harness: one throwaway PostgreSQL cluster and
// one MinIO server per test binary (started on first use, on free ports, in
// temp directories, torn down by Main), a freshly migrated database per test
// (cloned from a migrated template) and a bucket per test.
//
// Use it from a package's TestMain:
//
//	func TestMain(m *testing.M) { testenv.Main(m) }
//
// No test skips because a service is missing: a missing server binary fails
// the test with what to install.
package testenv

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/ggzy/ggzy/cmd/ggzy/stack"
	"github.com/ggzy/ggzy/migrations"
)

var (
	mu      sync.Mutex
	tmpDir  string
	pg      *stack.Postgres
	pgErr   error
	mio     *stack.MinIO
	mioErr  error
	counter atomic.Int64
	logFile io.Writer = io.Discard
)

const (
	templateDB = "ggzy_template"
	s3Access   = "ggzytest"
	s3Secret   = "ggzytest-secret-key"
)

// Main runs the package's tests and stops the servers afterwards.
func Main(m *testing.M) {
	code := m.Run()
	mu.Lock()
	if mio != nil {
		mio.Stop()
	}
	if pg != nil {
		pg.Stop()
	}
	if tmpDir != "" {
		os.RemoveAll(tmpDir)
	}
	if pgDir != "" {
		os.RemoveAll(pgDir)
	}
	mu.Unlock()
	os.Exit(code)
}

// pgDir is the cluster's data directory when it is not under tmpDir.
var pgDir string

// shm is where the cluster's files go when it can: a memory file system.
// Every test creates and drops a database of a few hundred files, and on
// ext4 creating files among so many recently deleted ones cost more than
// half the CPU time of the tests (perf: ext4_create → recently_deleted).
// GGZY_TEST_PGDATA names another parent directory; "-" keeps the cluster
// under the system temp directory.
func pgDataDir(tmp string) (string, error) {
	parent := os.Getenv("GGZY_TEST_PGDATA")
	if parent == "-" {
		return filepath.Join(tmp, "pg"), nil
	}
	if parent == "" {
		parent = "/dev/shm"
		if fi, err := os.Stat(parent); err != nil || !fi.IsDir() {
			return filepath.Join(tmp, "pg"), nil
		}
	}
	sweepDeadClusters(parent)
	d, err := os.MkdirTemp(parent, "ggzy-test-pg-*")
	if err == nil {
		// Held until the process ends: the directory is in use.
		var f *os.File
		if f, err = os.Create(filepath.Join(d, "lock")); err == nil {
			if err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err == nil {
				pgLock = f
			}
		}
		if err != nil {
			os.RemoveAll(d)
		}
	}
	if err != nil {
		if os.Getenv("GGZY_TEST_PGDATA") == "" {
			return filepath.Join(tmp, "pg"), nil // /dev/shm not usable here
		}
		return "", err
	}
	pgDir = d
	return filepath.Join(d, "pg"), nil
}

// pgLock is the lock file of pgDir, locked while this process runs.
var pgLock *os.File

// sweepDeadClusters removes the data directories of test binaries that
// were killed before they could, so memory is not kept by clusters nobody
// runs. A directory is in use while its lock file is locked (the lock goes
// with the process, in whatever PID namespace it ran); one whose lock can
// be taken is abandoned. Directories without a lock file are left alone.
func sweepDeadClusters(parent string) {
	matches, _ := filepath.Glob(filepath.Join(parent, "ggzy-test-pg-*"))
	for _, m := range matches {
		f, err := os.OpenFile(filepath.Join(m, "lock"), os.O_RDWR, 0)
		if err != nil {
			continue
		}
		if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) == nil {
			os.RemoveAll(m)
		}
		f.Close()
	}
}

func ensureTmp() (string, error) {
	if tmpDir != "" {
		return tmpDir, nil
	}
	d, err := os.MkdirTemp("", "ggzy-test-*")
	if err != nil {
		return "", err
	}
	tmpDir = d
	if f, err := os.Create(filepath.Join(d, "servers.log")); err == nil {
		logFile = f
	}
	return d, nil
}

// startPostgres starts the cluster and migrates the template database once.
func startPostgres() (*stack.Postgres, error) {
	mu.Lock()
	defer mu.Unlock()
	if pg != nil || pgErr != nil {
		return pg, pgErr
	}
	dir, err := ensureTmp()
	if err != nil {
		pgErr = err
		return nil, err
	}
	data, err := pgDataDir(dir)
	if err != nil {
		pgErr = fmt.Errorf("testenv: GGZY_TEST_PGDATA: %w", err)
		return nil, pgErr
	}
	ctx := context.Background()
	p, err := stack.StartPostgres(ctx, stack.PostgresOptions{
		DataDir: data, Password: "ggzytest", Throwaway: true, Log: logFile})
	if err != nil {
		pgErr = fmt.Errorf("testenv: start PostgreSQL: %w", err)
		return nil, pgErr
	}
	if err := exec(ctx, p.URL("postgres"), "CREATE DATABASE "+templateDB); err != nil {
		p.Stop()
		pgErr = err
		return nil, err
	}
	db, err := sql.Open("pgx", p.URL(templateDB))
	if err == nil {
		err = migrations.Up(ctx, db)
		db.Close()
	}
	if err != nil {
		p.Stop()
		pgErr = fmt.Errorf("testenv: migrate template: %w", err)
		return nil, pgErr
	}
	pg = p
	return pg, nil
}

func exec(ctx context.Context, url, stmt string) error {
	db, err := sql.Open("pgx", url)
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, stmt)
	return err
}

// DatabaseURL creates a freshly migrated database for this test and returns
// its URL; the database is dropped when the test ends.
func DatabaseURL(t testing.TB) string {
	t.Helper()
	p, err := startPostgres()
	if err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("t_%d_%d", os.Getpid(), counter.Add(1))
	if err := exec(context.Background(), p.URL("postgres"),
		fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s", name, templateDB)); err != nil {
		t.Fatalf("testenv: create database: %v", err)
	}
	t.Cleanup(func() {
		_ = exec(context.Background(), p.URL("postgres"), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	return p.URL(name)
}

// AdminURL is the superuser URL of the cluster's maintenance database.
func AdminURL(t testing.TB) string {
	t.Helper()
	p, err := startPostgres()
	if err != nil {
		t.Fatal(err)
	}
	return p.URL("postgres")
}

// S3 is where a test keeps its objects.
type S3 struct {
	Endpoint, AccessKey, SecretKey, Bucket string
}

func startMinIO() (*stack.MinIO, error) {
	mu.Lock()
	defer mu.Unlock()
	if mio != nil || mioErr != nil {
		return mio, mioErr
	}
	dir, err := ensureTmp()
	if err != nil {
		mioErr = err
		return nil, err
	}
	m, err := stack.StartMinIO(context.Background(), stack.MinIOOptions{
		DataDir: filepath.Join(dir, "minio"), AccessKey: s3Access, SecretKey: s3Secret, Log: logFile})
	if err != nil {
		mioErr = fmt.Errorf("testenv: start MinIO: %w", err)
		return nil, mioErr
	}
	mio = m
	return mio, nil
}

// MinIOCPU is the CPU time the shared MinIO server has used so far.
func MinIOCPU() (time.Duration, error) {
	m, err := startMinIO()
	if err != nil {
		return 0, err
	}
	return m.CPU()
}

// Storage creates a fresh bucket for this test on the shared MinIO server.
func Storage(t testing.TB) S3 {
	t.Helper()
	m, err := startMinIO()
	if err != nil {
		t.Fatal(err)
	}
	s := S3{Endpoint: m.Endpoint(), AccessKey: s3Access, SecretKey: s3Secret,
		Bucket: fmt.Sprintf("t-%d-%d", os.Getpid(), counter.Add(1))}
	c, err := minio.New(s.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(s3Access, s3Secret, "")})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.MakeBucket(ctx, s.Bucket, minio.MakeBucketOptions{}); err != nil {
		t.Fatalf("testenv: make bucket: %v", err)
	}
	t.Cleanup(func() {
		ctx := context.Background()
		for o := range c.ListObjects(ctx, s.Bucket, minio.ListObjectsOptions{Recursive: true}) {
			if o.Err == nil {
				c.RemoveObject(ctx, s.Bucket, o.Key, minio.RemoveObjectOptions{})
			}
		}
		c.RemoveBucket(ctx, s.Bucket)
	})
	return s
}

// Name is a short unique name for test data (usernames and the like).
func Name(prefix string) string {
	return strings.ToLower(fmt.Sprintf("%s%d", prefix, counter.Add(1)))
}

// Fixture is a database and a bucket filled once per test binary (by the
// first caller of Clone) and copied for every test that asks: a test gets
// the filled data in the time it takes PostgreSQL to copy a database from
// a template and MinIO to copy the objects, instead of building it again.
// The fixture's own database and bucket live as long as the cluster.
type Fixture struct {
	name string
	fill func(url string, s3 S3) error

	once sync.Once
	db   string
	s3   S3
	err  error
}

// NewFixture names a fixture and the function that fills it. fill must
// close every connection it opened before it returns: PostgreSQL copies a
// database only while nobody is connected to it.
func NewFixture(name string, fill func(url string, s3 S3) error) *Fixture {
	return &Fixture{name: name, fill: fill}
}

func (f *Fixture) build() {
	p, err := startPostgres()
	if err != nil {
		f.err = err
		return
	}
	m, err := startMinIO()
	if err != nil {
		f.err = err
		return
	}
	f.db = fmt.Sprintf("fixture_%s_%d", f.name, os.Getpid())
	if err := exec(context.Background(), p.URL("postgres"),
		fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s", f.db, templateDB)); err != nil {
		f.err = fmt.Errorf("testenv: fixture %s: create database: %w", f.name, err)
		return
	}
	f.s3 = S3{Endpoint: m.Endpoint(), AccessKey: s3Access, SecretKey: s3Secret,
		Bucket: fmt.Sprintf("fixture-%s-%d", strings.ReplaceAll(f.name, "_", "-"), os.Getpid())}
	c, err := s3Client(f.s3)
	if err == nil {
		err = c.MakeBucket(context.Background(), f.s3.Bucket, minio.MakeBucketOptions{})
	}
	if err != nil {
		f.err = fmt.Errorf("testenv: fixture %s: make bucket: %w", f.name, err)
		return
	}
	if err := f.fill(p.URL(f.db), f.s3); err != nil {
		f.err = fmt.Errorf("testenv: fixture %s: %w", f.name, err)
	}
}

// Clone gives the test its own copy of the fixture: a database created
// from the fixture's and a bucket holding a copy of every object, both
// removed when the test ends like DatabaseURL's and Storage's.
func (f *Fixture) Clone(t testing.TB) (url string, s3 S3) {
	t.Helper()
	f.once.Do(f.build)
	if f.err != nil {
		t.Fatal(f.err)
	}
	p, err := startPostgres()
	if err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("t_%d_%d", os.Getpid(), counter.Add(1))
	if err := exec(context.Background(), p.URL("postgres"),
		fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s", name, f.db)); err != nil {
		t.Fatalf("testenv: clone fixture %s: %v", f.name, err)
	}
	t.Cleanup(func() {
		_ = exec(context.Background(), p.URL("postgres"), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	s3 = Storage(t)
	c, err := s3Client(s3)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for o := range c.ListObjects(ctx, f.s3.Bucket, minio.ListObjectsOptions{Recursive: true}) {
		if o.Err != nil {
			t.Fatalf("testenv: clone fixture %s: list: %v", f.name, o.Err)
		}
		if _, err := c.CopyObject(ctx, minio.CopyDestOptions{Bucket: s3.Bucket, Object: o.Key},
			minio.CopySrcOptions{Bucket: f.s3.Bucket, Object: o.Key}); err != nil {
			t.Fatalf("testenv: clone fixture %s: copy %s: %v", f.name, o.Key, err)
		}
	}
	return p.URL(name), s3
}

func s3Client(s S3) (*minio.Client, error) {
	return minio.New(s.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(s.AccessKey, s.SecretKey, "")})
}
