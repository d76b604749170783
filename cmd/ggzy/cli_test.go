package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ggzy/ggzy/cmd/ggzy/stack"
	"github.com/ggzy/ggzy/cmd/ggzy/stack/testenv"
	"github.com/ggzy/ggzy/migrations"
	"github.com/ggzy/ggzy/trading"
)

// flagsOf turns a configuration into the command-line flags that set it.
func flagsOf(cfg Config) []string {
	f := []string{"--s3-bucket", cfg.S3Bucket}
	if cfg.Data != "" {
		f = append(f, "--data", cfg.Data)
	}
	if cfg.DatabaseURL != "" {
		f = append(f, "--database-url", cfg.DatabaseURL)
	}
	if cfg.S3Endpoint != "" {
		f = append(f, "--s3-endpoint", cfg.S3Endpoint, "--s3-access-key", cfg.S3AccessKey, "--s3-secret-key", cfg.S3SecretKey)
	}
	if cfg.Addr != "" {
		f = append(f, "--addr", cfg.Addr)
	}
	return f
}

func runCmd(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := run(context.Background(), args, strings.NewReader(stdin), &out, quietLog)
	return out.String(), err
}

func TestAuditVerifyCommandFailsOnEditedRow(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	flags := flagsOf(cfg)
	if out, err := runCmd(t, "", append([]string{"demo"}, flags...)...); err != nil || !strings.Contains(out, "toubiao") {
		t.Fatalf("demo: %v\n%s", err, out)
	}
	// The demo is idempotent.
	if out, err := runCmd(t, "", append([]string{"demo"}, flags...)...); err != nil || strings.Contains(out, "created") {
		t.Fatalf("second demo: %v\n%s", err, out)
	}
	out, err := runCmd(t, "", append([]string{"audit", "verify"}, flags...)...)
	if err != nil || !strings.Contains(out, "records verified") {
		t.Fatalf("verify: %v %s", err, out)
	}
	db, err := sql.Open("pgx", cfg.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// The demo has projects of all four categories in every state.
	var categories, drafts, submitted, published, amendments int
	db.QueryRow(`SELECT count(DISTINCT category), count(*) FILTER (WHERE status = 'draft') FROM projects`).Scan(&categories, &drafts)
	db.QueryRow(`SELECT count(*) FILTER (WHERE status = 'submitted'), count(*) FILTER (WHERE status = 'published'),
		count(*) FILTER (WHERE status = 'published' AND type = 'amendment') FROM announcements`).Scan(&submitted, &published, &amendments)
	var released int
	db.QueryRow(`SELECT count(*) FROM documents WHERE released_at IS NOT NULL`).Scan(&released)
	if released < 5 {
		t.Fatalf("demo: %d documents released with the published announcements", released)
	}
	if categories != 4 || drafts < 2 || submitted < 1 || published < 5 || amendments < 1 {
		t.Fatalf("demo: %d categories, %d draft projects, %d submitted, %d published, %d amendments",
			categories, drafts, submitted, published, amendments)
	}
	// A whole year of completed lots in every category, for the savings
	// report: some failed, some won above the control price.
	var yearCats, completed, failed, negative int
	db.QueryRow(`SELECT count(DISTINCT category), count(*) FILTER (WHERE status = 'completed'), count(*) FILTER (WHERE status = 'failed'),
		count(*) FILTER (WHERE category IN ('engineering', 'procurement') AND result > base)
		FROM lot_outcomes WHERE decided_on BETWEEN '2025-01-01' AND '2025-12-31'`).Scan(&yearCats, &completed, &failed, &negative)
	if yearCats != 4 || completed < 30 || failed < 2 || negative < 1 {
		t.Fatalf("demo year: %d categories, %d completed, %d failed, %d negative savings", yearCats, completed, failed, negative)
	}
	if _, err := db.Exec("UPDATE audit_events SET summary = '篡改' WHERE id = 3"); err != nil {
		t.Fatal(err)
	}
	_, err = runCmd(t, "", append([]string{"audit", "verify"}, flags...)...)
	var problem *trading.AuditProblem
	if !errors.As(err, &problem) || problem.ID != 3 {
		t.Fatalf("verify after edit: %v", err)
	}
}

func TestUserAddCommand(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	flags := flagsOf(cfg)
	out, err := runCmd(t, "jiandu-pass-1\n", append([]string{"user", "add", "--role", "supervisor", "--username", "jiandu", "--name", "监督科", "--password-stdin"}, flags...)...)
	if err != nil || !strings.Contains(out, `created supervisor account "jiandu"`) {
		t.Fatalf("user add: %v %s", err, out)
	}
	if _, err := runCmd(t, "short\n", append([]string{"user", "add", "--role", "supervisor", "--username", "jd2", "--password-stdin"}, flags...)...); !errors.Is(err, trading.ErrInvalid) {
		t.Fatalf("weak password accepted: %v", err)
	}
	if _, err := runCmd(t, "", append([]string{"user", "add", "--role", "agent", "--username", "daili"}, flags...)...); err == nil {
		t.Fatal("a password on no stdin flag was accepted")
	}
	app, err := OpenApp(context.Background(), cfg, modeAdmin, quietLog)
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	if _, err := app.Trading.Authenticate(context.Background(), "jiandu", "jiandu-pass-1"); err != nil {
		t.Fatalf("created user cannot sign in: %v", err)
	}
}

func TestServeRefusesStaleExternalSchema(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.DatabaseURL = testenv.EmptyDatabaseURL(t) // no migration applied

	_, err := OpenApp(context.Background(), cfg, modeServe, quietLog)
	var behind *migrations.ErrSchemaBehind
	if !errors.As(err, &behind) || !strings.Contains(err.Error(), "ggzy migrate up") {
		t.Fatalf("stale schema: %v", err)
	}
	out, err := runCmd(t, "", append([]string{"migrate", "status"}, flagsOf(cfg)...)...)
	if err != nil || !strings.Contains(out, "pending") {
		t.Fatalf("status: %v %s", err, out)
	}
	if out, err := runCmd(t, "", append([]string{"migrate", "up"}, flagsOf(cfg)...)...); err != nil || !strings.Contains(out, "applied") {
		t.Fatalf("migrate up: %v %s", err, out)
	}
	app, err := OpenApp(context.Background(), cfg, modeServe, quietLog)
	if err != nil {
		t.Fatalf("after migrate up: %v", err)
	}
	app.Close()
}

func TestUnknownCommandIsUsageError(t *testing.T) {
	t.Parallel()
	var ue usageError
	if _, err := runCmd(t, "", "frobnicate"); !errors.As(err, &ue) {
		t.Fatalf("got %v", err)
	}
	if _, err := runCmd(t, "", "migrate", "sideways", "--database-url", "postgres://127.0.0.1:1/x"); !errors.As(err, &ue) && err == nil {
		t.Fatalf("got %v", err)
	}
}

// The embedded default end to end: serve starts its own PostgreSQL and
// MinIO, a second serve on the same directory is refused, admin commands
// attach to the running one, and a restart keeps the data.
func TestEmbeddedServeRestartKeepsData(t *testing.T) {
	t.Parallel() // its own directory, ports, PostgreSQL and MinIO
	dir := t.TempDir()
	port, err := stack.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Data: dir, Addr: fmt.Sprintf("127.0.0.1:%d", port), S3Bucket: "ggzy"}
	base := "http://" + cfg.Addr

	serve := func() (stop func() error) {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			done <- run(ctx, append([]string{"serve"}, flagsOf(cfg)...), strings.NewReader(""), &bytes.Buffer{}, quietLog)
		}()
		deadline := time.Now().Add(90 * time.Second)
		for {
			resp, err := http.Get(base + "/healthz")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == 200 {
					break
				}
			}
			select {
			case err := <-done:
				cancel()
				t.Fatalf("serve exited: %v", err)
			default:
			}
			if time.Now().After(deadline) {
				cancel()
				t.Fatal("serve did not become healthy")
			}
			time.Sleep(200 * time.Millisecond)
		}
		return func() error { cancel(); return <-done }
	}

	stop := serve()
	cfg2 := cfg
	cfg2.Addr = "127.0.0.1:0"
	if _, err := runCmd(t, "", append([]string{"serve"}, flagsOf(cfg2)...)...); !errors.Is(err, stack.ErrInUse) {
		t.Errorf("second serve on the same directory: %v", err)
	}
	if out, err := runCmd(t, "agent-pass-1\n", append([]string{"user", "add", "--role", "agent", "--username", "daili", "--password-stdin"}, flagsOf(cfg)...)...); err != nil {
		t.Fatalf("user add while serving: %v %s", err, out)
	}
	if err := stop(); err != nil {
		t.Fatalf("serve: %v", err)
	}
	// Shut down means shut down: the servers' ports are closed.
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Fatal("still serving after stop")
	}

	stop = serve()
	defer stop()
	var tok trading.TokenResponse
	if code := call(t, "POST", base+"/api/v1/auth/login", "", map[string]string{"username": "daili", "password": "agent-pass-1"}, &tok); code != 200 {
		t.Fatalf("account lost across restart: %d", code)
	}
	if out, err := runCmd(t, "", append([]string{"audit", "verify"}, flagsOf(cfg)...)...); err != nil || !strings.Contains(out, "verified") {
		t.Fatalf("audit verify while serving: %v %s", err, out)
	}
}

// Rule-book numbers of S/C confidence are configuration (GGZY_RULES).
func TestRuleParamsFromConfiguration(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.Rules = "L7.min_ratio=0.3, E1.min_days=25"
	app, err := OpenApp(context.Background(), cfg, modeAdmin, quietLog)
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	if got := app.Trading.Book.Params.L7MinRatio.String(); got != "0.3" || app.Trading.Book.Params.E1MinDays != 25 {
		t.Fatalf("params: L7 %s, E1 %d", got, app.Trading.Book.Params.E1MinDays)
	}
	cfg.Rules = "Z9.max=1"
	if _, err := OpenApp(context.Background(), cfg, modeAdmin, quietLog); err == nil || !strings.Contains(err.Error(), "L7.min_ratio") {
		t.Fatalf("unknown parameter: %v", err)
	}
}

// Refund interest is the centre's configuration (GGZY_DEPOSIT_RATES/BASIS).
func TestDepositInterestConfiguration(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.DepositRates, cfg.DepositBasis = "2024-01-01=0.0035,2025-05-20=0.0005", "ACT/365"
	app, err := OpenApp(context.Background(), cfg, modeAdmin, quietLog)
	if err != nil {
		t.Fatal(err)
	}
	app.Close()
	if len(app.Deposits.Rates) != 2 || app.Deposits.Rates[1].AnnualRate.String() != "0.0005" || app.Deposits.Basis != "ACT/365" {
		t.Fatalf("rates %+v basis %s", app.Deposits.Rates, app.Deposits.Basis)
	}
	for _, bad := range [][2]string{{"2024-01-01", ""}, {"2025-01-01=0.01,2024-01-01=0.02", ""}, {"", "ACT/366"}} {
		cfg.DepositRates, cfg.DepositBasis = bad[0], bad[1]
		if _, err := OpenApp(context.Background(), cfg, modeAdmin, quietLog); err == nil {
			t.Errorf("accepted rates %q basis %q", bad[0], bad[1])
		}
	}
}
