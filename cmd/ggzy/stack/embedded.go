package stack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// Embedded is the private stack under one data directory ($GGZY_DATA): a
// PostgreSQL cluster in pg/ and a MinIO server in minio/, with the secrets in
// credentials.json. One process owns the directory at a time (an flock on
// ggzy.lock); other ggzy commands attach to the owner's servers through
// run.json, so `ggzy user add` works whether or not `ggzy serve` is running.
type Embedded struct {
	Dir      string
	Creds    Credentials
	Run      RunInfo
	Owner    bool
	pg       *Postgres
	minio    *MinIO
	lockFile *os.File
}

// Credentials are generated on the first start and kept for the next ones.
type Credentials struct {
	PGPassword  string `json:"pg_password"`
	S3AccessKey string `json:"s3_access_key"`
	S3SecretKey string `json:"s3_secret_key"`
}

// RunInfo tells attaching commands where the owner's servers listen.
type RunInfo struct {
	PID       int    `json:"pid"`
	Role      string `json:"role"` // "serve" or "admin"
	PGPort    int    `json:"pg_port,omitempty"`
	MinIOPort int    `json:"minio_port,omitempty"`
}

// ErrInUse is returned when `ggzy serve` finds the data directory served.
var ErrInUse = errors.New("data directory in use")

// OpenOptions choose which servers the embedded stack provides.
type OpenOptions struct {
	Dir      string
	Role     string // "serve" refuses to share; "admin" attaches to a running owner
	Postgres bool
	MinIO    bool
	Log      io.Writer
}

// Open starts (or, for admin commands, attaches to) the embedded stack.
func Open(ctx context.Context, o OpenOptions) (*Embedded, error) {
	dir, err := filepath.Abs(o.Dir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory %s: %w", dir, err)
	}
	e := &Embedded{Dir: dir}
	f, err := os.OpenFile(filepath.Join(dir, "ggzy.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", f.Name(), err)
		}
		run, rerr := e.readRun()
		if o.Role == "serve" && rerr == nil && run.Role == "serve" {
			f.Close()
			return nil, fmt.Errorf("%w: 数据目录 %s 已被另一个 ggzy serve（进程 %d）使用，不能同时启动两个；请先停止它或用 GGZY_DATA 指定其他目录 (another ggzy serve, pid %d, is using %s)",
				ErrInUse, dir, run.PID, run.PID, dir)
		}
		if o.Role != "serve" && rerr == nil && (!o.Postgres || run.PGPort != 0) && (!o.MinIO || run.MinIOPort != 0) {
			f.Close()
			e.Run = run
			// The owner wrote the credentials before run.json.
			if e.Creds, err = loadCredentials(filepath.Join(dir, "credentials.json")); err != nil {
				return nil, err
			}
			return e, nil // attached to the owner's servers
		}
		if time.Now().After(deadline) {
			f.Close()
			return nil, fmt.Errorf("%w: 数据目录 %s 被另一个 ggzy 进程占用超过60秒 (data directory locked by another ggzy process)", ErrInUse, dir)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	e.lockFile, e.Owner = f, true
	if e.Creds, err = loadCredentials(filepath.Join(dir, "credentials.json")); err != nil {
		e.Close()
		return nil, err
	}
	os.Remove(filepath.Join(dir, "run.json"))
	e.Run = RunInfo{PID: os.Getpid(), Role: o.Role}
	if o.Postgres {
		e.pg, err = StartPostgres(ctx, PostgresOptions{
			DataDir: filepath.Join(dir, "pg"), Password: e.Creds.PGPassword, Log: o.Log})
		if err != nil {
			e.Close()
			return nil, err
		}
		e.Run.PGPort = e.pg.Port()
	}
	if o.MinIO {
		e.minio, err = StartMinIO(ctx, MinIOOptions{
			DataDir: filepath.Join(dir, "minio"), AccessKey: e.Creds.S3AccessKey,
			SecretKey: e.Creds.S3SecretKey, Log: o.Log})
		if err != nil {
			e.Close()
			return nil, err
		}
		e.Run.MinIOPort = e.minio.port
	}
	b, _ := json.Marshal(e.Run)
	if err := writeFileAtomic(filepath.Join(dir, "run.json"), b); err != nil {
		e.Close()
		return nil, err
	}
	return e, nil
}

func (e *Embedded) readRun() (RunInfo, error) {
	var r RunInfo
	b, err := os.ReadFile(filepath.Join(e.Dir, "run.json"))
	if err != nil {
		return r, err
	}
	return r, json.Unmarshal(b, &r)
}

// DatabaseURL of the embedded cluster's ggzy database.
func (e *Embedded) DatabaseURL(database string) string {
	p := &Postgres{opts: PostgresOptions{Password: e.Creds.PGPassword}, port: e.Run.PGPort}
	return p.URL(database)
}

// AdminURL connects to the maintenance database (to create ggzy's).
func (e *Embedded) AdminURL() string { return e.DatabaseURL("postgres") }

// S3Endpoint of the embedded MinIO server.
func (e *Embedded) S3Endpoint() string {
	return (&MinIO{port: e.Run.MinIOPort}).Endpoint()
}

// Close stops the servers this process started and releases the directory.
func (e *Embedded) Close() error {
	if !e.Owner {
		return nil
	}
	var errs []error
	if e.minio != nil {
		errs = append(errs, e.minio.Stop())
	}
	if e.pg != nil {
		errs = append(errs, e.pg.Stop())
	}
	os.Remove(filepath.Join(e.Dir, "run.json"))
	if e.lockFile != nil {
		syscall.Flock(int(e.lockFile.Fd()), syscall.LOCK_UN)
		e.lockFile.Close()
	}
	e.Owner = false
	return errors.Join(errs...)
}

func loadCredentials(path string) (Credentials, error) {
	var c Credentials
	b, err := os.ReadFile(path)
	if err == nil {
		if err := json.Unmarshal(b, &c); err != nil {
			return c, fmt.Errorf("read %s: %w", path, err)
		}
		return c, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return c, err
	}
	c = Credentials{PGPassword: RandomSecret(16), S3AccessKey: "ggzy" + RandomSecret(6), S3SecretKey: RandomSecret(20)}
	b, _ = json.MarshalIndent(c, "", "  ")
	return c, writeFileAtomic(path, b)
}

func writeFileAtomic(path string, b []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
