package stack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// MinIOOptions says where and how to run a private MinIO server.
type MinIOOptions struct {
	DataDir   string
	AccessKey string
	SecretKey string
	// Port to listen on, 0 for a free one.
	Port int
	Log  io.Writer
}

// MinIO is a running private MinIO server.
type MinIO struct {
	port int
	cmd  *exec.Cmd
	done chan error
}

// MinIOBinary finds the minio server: $GGZY_MINIO_BIN, $PATH, or bin/minio
// in the working directory or any parent holding go.mod (where `make`
// installs it).
func MinIOBinary() (string, error) {
	if p := os.Getenv("GGZY_MINIO_BIN"); p != "" {
		return p, nil
	}
	if p, err := exec.LookPath("minio"); err == nil {
		return p, nil
	}
	dir, _ := os.Getwd()
	if exe, err := os.Executable(); err == nil {
		if p := filepath.Join(filepath.Dir(exe), "minio"); isFile(p) {
			return p, nil
		}
	}
	for d := dir; ; d = filepath.Dir(d) {
		if p := filepath.Join(d, "bin", "minio"); isFile(p) {
			return p, nil
		}
		if isFile(filepath.Join(d, "go.mod")) || d == filepath.Dir(d) {
			break
		}
	}
	return "", errors.New("找不到 MinIO 服务器程序：请运行 `make run` 或 `make test`（会安装到 ./bin/minio） (minio binary not found in $PATH or ./bin)")
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

// StartMinIO starts MinIO as a child process and waits until it is healthy.
func StartMinIO(ctx context.Context, opts MinIOOptions) (*MinIO, error) {
	bin, err := MinIOBinary()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(opts.DataDir, 0o700); err != nil {
		return nil, err
	}
	port := opts.Port
	if port == 0 {
		if port, err = FreePort(); err != nil {
			return nil, err
		}
	}
	console, err := FreePort()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "server", opts.DataDir, "--quiet",
		"--address", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		"--console-address", net.JoinHostPort("127.0.0.1", strconv.Itoa(console)))
	cmd.Env = append(os.Environ(),
		"MINIO_ROOT_USER="+opts.AccessKey,
		"MINIO_ROOT_PASSWORD="+opts.SecretKey,
		"MINIO_BROWSER=off",
		"MINIO_UPDATE=off",
	)
	logw := opts.Log
	if logw == nil {
		logw = io.Discard
	}
	cmd.Stdout, cmd.Stderr = logw, logw
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM, Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start minio: %w", err)
	}
	m := &MinIO{port: port, cmd: cmd, done: make(chan error, 1)}
	go func() { m.done <- cmd.Wait() }()
	if err := m.waitReady(ctx); err != nil {
		_ = m.Stop()
		return nil, err
	}
	return m, nil
}

func (m *MinIO) waitReady(ctx context.Context) error {
	deadline := time.After(60 * time.Second)
	client := &http.Client{Timeout: time.Second}
	for {
		resp, err := client.Get("http://" + m.Endpoint() + "/minio/health/live")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case err := <-m.done:
			m.done <- err
			return fmt.Errorf("minio exited during start-up: %v", err)
		case <-deadline:
			return errors.New("minio did not become healthy within 60s")
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Endpoint is host:port of the S3 API.
func (m *MinIO) Endpoint() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(m.port)) }

// CPU is the user and system CPU time the server has used so far (Linux:
// /proc/PID/stat), for benchmarks that compare work done beside MinIO with
// MinIO's own.
func (m *MinIO) CPU() (time.Duration, error) {
	if m == nil || m.cmd == nil || m.cmd.Process == nil {
		return 0, errors.New("minio is not running")
	}
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", m.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	// The fields after the command's closing parenthesis: state is the
	// first, utime and stime the 12th and 13th (proc(5) fields 14 and 15).
	s := string(raw)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("minio: /proc stat has %d fields", len(f))
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	const ticks = 100 // USER_HZ on Linux
	return time.Duration(ut+st) * time.Second / ticks, nil
}

// Stop terminates the server and waits for it.
func (m *MinIO) Stop() error {
	if m == nil || m.cmd == nil || m.cmd.Process == nil {
		return nil
	}
	_ = m.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-m.done:
		return nil
	case <-time.After(20 * time.Second):
		_ = m.cmd.Process.Kill()
		<-m.done
		return errors.New("minio did not stop within 20s; killed")
	}
}

func pingPostgres(ctx context.Context, url string) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	return conn.Ping(ctx)
}
