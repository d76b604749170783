// Package stack starts the private PostgreSQL cluster and MinIO server that
// ggzy runs on when no external servers are configured (the embedded default),
// and that the test harness starts once per test binary.
package stack

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// PostgresOptions says where and how to run a private cluster.
type PostgresOptions struct {
	// DataDir holds the cluster; initdb runs when it has no PG_VERSION.
	DataDir string
	// Password of the superuser "ggzy"; set on initdb, used to connect.
	Password string
	// Port to listen on, 0 for a free one.
	Port int
	// Throwaway turns off durability (fsync, full page writes) for tests.
	Throwaway bool
	// Log receives the server's output; nil discards it.
	Log io.Writer
}

// Postgres is a running private cluster.
type Postgres struct {
	opts PostgresOptions
	port int
	cmd  *exec.Cmd
	done chan error
}

// binDir finds the PostgreSQL 15 server binaries.
func binDir() (string, error) {
	if d := os.Getenv("GGZY_PG_BIN"); d != "" {
		return d, nil
	}
	for _, d := range []string{"/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/17/bin"} {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", errors.New("找不到 PostgreSQL 服务器程序 initdb：请运行 `make run`（会安装 Debian 的 postgresql 软件包） (PostgreSQL server binaries not found)")
}

// PostgresProgram is the path of one of PostgreSQL's client programs
// (pg_dump, psql) beside the server binaries.
func PostgresProgram(name string) (string, error) {
	dir, err := binDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, name), nil
}

// pgCredential returns the credential to run PostgreSQL as: it refuses to
// run as root, so a root process starts it as the postgres OS user.
func pgCredential() (*syscall.Credential, int, int, error) {
	if os.Geteuid() != 0 {
		return nil, -1, -1, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, 0, 0, fmt.Errorf("running as root needs the postgres OS user: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, uid, gid, nil
}

// StartPostgres initialises the cluster if needed, starts it as a child
// process and waits until it accepts connections.
func StartPostgres(ctx context.Context, opts PostgresOptions) (*Postgres, error) {
	bin, err := binDir()
	if err != nil {
		return nil, err
	}
	if opts.Password == "" {
		return nil, errors.New("stack: postgres password required")
	}
	cred, uid, gid, err := pgCredential()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(opts.DataDir, 0o700); err != nil {
		return nil, err
	}
	if cred != nil {
		// The postgres user must reach the data directory through its parents.
		if err := makeTraversable(filepath.Dir(opts.DataDir)); err != nil {
			return nil, err
		}
		if err := os.Chown(opts.DataDir, uid, gid); err != nil {
			return nil, err
		}
	}
	if err := os.Chmod(opts.DataDir, 0o700); err != nil {
		return nil, err
	}
	logw := opts.Log
	if logw == nil {
		logw = io.Discard
	}
	if _, err := os.Stat(filepath.Join(opts.DataDir, "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		if err := initdb(ctx, bin, opts, cred, uid, gid, logw); err != nil {
			return nil, err
		}
	}
	// A server that died without cleaning up leaves postmaster.pid behind;
	// PostgreSQL itself checks whether that pid is still a postmaster, so a
	// stale file is harmless and a live one makes the start fail loudly.
	port := opts.Port
	if port == 0 {
		if port, err = FreePort(); err != nil {
			return nil, err
		}
	}
	args := []string{
		"-D", opts.DataDir,
		"-p", strconv.Itoa(port),
		"-c", "listen_addresses=127.0.0.1",
		"-c", "unix_socket_directories=",
		"-c", "max_connections=200",
	}
	if opts.Throwaway {
		args = append(args, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	}
	cmd := exec.Command(filepath.Join(bin, "postgres"), args...)
	cmd.Stdout, cmd.Stderr = logw, logw
	// SIGINT is PostgreSQL's fast shutdown; if ggzy dies the kernel sends it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGINT, Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	p := &Postgres{opts: opts, port: port, cmd: cmd, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait() }()
	if err := p.waitReady(ctx); err != nil {
		_ = p.Stop()
		return nil, err
	}
	return p, nil
}

func initdb(ctx context.Context, bin string, opts PostgresOptions, cred *syscall.Credential, uid, gid int, logw io.Writer) error {
	pw, err := os.CreateTemp("", "ggzy-pw-*")
	if err != nil {
		return err
	}
	defer os.Remove(pw.Name())
	if _, err := pw.WriteString(opts.Password + "\n"); err != nil {
		return err
	}
	pw.Close()
	if cred != nil {
		if err := os.Chown(pw.Name(), uid, gid); err != nil {
			return err
		}
	}
	args := []string{"-D", opts.DataDir, "-U", "ggzy", "--pwfile", pw.Name(),
		"-E", "UTF8", "--locale=C.UTF-8", "--auth-local=scram-sha-256", "--auth-host=scram-sha-256"}
	if opts.Throwaway {
		args = append(args, "--no-sync")
	}
	cmd := exec.CommandContext(ctx, filepath.Join(bin, "initdb"), args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	out, err := cmd.CombinedOutput()
	logw.Write(out)
	if err != nil {
		return fmt.Errorf("initdb %s: %w\n%s", opts.DataDir, err, out)
	}
	return nil
}

func (p *Postgres) waitReady(ctx context.Context) error {
	deadline := time.After(60 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", p.Addr(), 200*time.Millisecond)
		if err == nil {
			conn.Close()
			// Accepting TCP is not accepting queries yet; a real query is
			// tried by the caller's ping, so give the startup a moment.
			if pingPostgres(ctx, p.URL("postgres")) == nil {
				return nil
			}
		}
		select {
		case err := <-p.done:
			p.done <- err
			return fmt.Errorf("postgres exited during start-up (see its log): %v", err)
		case <-deadline:
			return errors.New("postgres did not become ready within 60s")
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Port is the TCP port the cluster listens on.
func (p *Postgres) Port() int { return p.port }

// Addr is host:port of the cluster.
func (p *Postgres) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(p.port)) }

// URL is a connection URL for the named database as the superuser.
func (p *Postgres) URL(database string) string {
	u := url.URL{Scheme: "postgres", User: url.UserPassword("ggzy", p.opts.Password),
		Host: p.Addr(), Path: "/" + database, RawQuery: "sslmode=disable"}
	return u.String()
}

// Stop shuts the cluster down (fast shutdown) and waits for it.
func (p *Postgres) Stop() error {
	if p == nil || p.cmd == nil || p.cmd.Process == nil {
		return nil
	}
	_ = p.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-p.done:
		return nil
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
		return errors.New("postgres did not stop within 30s; killed")
	}
}

// FreePort asks the kernel for a free loopback TCP port.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// RandomSecret returns n random bytes as hex.
func RandomSecret(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// makeTraversable adds o+x to dir and its parents up to the root so another
// OS user can reach a directory below it (used for the postgres user).
func makeTraversable(dir string) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	for d := abs; ; d = filepath.Dir(d) {
		st, err := os.Stat(d)
		if err != nil {
			return err
		}
		if st.Mode().Perm()&0o001 == 0 {
			if err := os.Chmod(d, st.Mode().Perm()|0o001); err != nil {
				return fmt.Errorf("make %s reachable for the postgres user: %w", d, err)
			}
		}
		if d == filepath.Dir(d) {
			return nil
		}
	}
}
