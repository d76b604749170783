// Command ggzy is the public resource trading platform: one binary that
// serves the web pages and API, migrates the schema, and runs the admin
// commands.
//
//	ggzy serve [--demo]           serve (embedded PostgreSQL + MinIO by default)
//	ggzy migrate up|down|status   change or show the schema
//	ggzy user add --role R --username U [--name N] --password-stdin
//	ggzy demo                     load the demo data (idempotent)
//	ggzy audit verify             check the audit log's hash chain
//	ggzy auction verify-record F  check a published bidding record against the audit chain
//	ggzy report savings --year Y  print the savings report's summary paragraph
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/ggzy/ggzy/trading/report"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
	"github.com/shopspring/decimal"

	"github.com/ggzy/ggzy/bidding/auction"
	"github.com/ggzy/ggzy/migrations"
	"github.com/ggzy/ggzy/trading"
)

const usage = `ggzy — 公共资源交易平台 (public resource trading platform)

Usage:
  ggzy serve [--demo] [flags]       serve the platform (embedded PostgreSQL and MinIO unless DATABASE_URL / S3_ENDPOINT are set)
  ggzy migrate up|down|status       apply, roll back one, or list schema migrations
  ggzy user add --role ROLE --username NAME [--name DISPLAY] --password-stdin
  ggzy demo                         load the deterministic demo data set (idempotent)
  ggzy audit verify                 verify the audit log's hash chain; exit 1 naming the first broken row
  ggzy deposits import FILE         import a bank statement (CSV UTF-8/GBK or camt.053); refused whole on any bad line
  ggzy deposits verify [--balance X]  check the deposit books; exit 1 listing what does not balance
  ggzy auction verify-record FILE   check a published bidding record (竞价记录): its SHA-256 in the audit chain, the chain,
                                    and the result recomputed from its quotes; exit 1 naming what does not hold
  ggzy report savings [--year Y [--quarter Q | --month M] | --from D --to D] [--category C] [--region R]
                                    print the savings report's summary paragraph (节约率/溢价率)
  ggzy receipt verify FILE --key PUBKEY  check a bid receipt offline against the platform's published key (EB3)
  ggzy receipt keygen --keyring PATH     add a receipt-signing key to the keyring (the new key signs)

Every command takes the configuration flags (see 'ggzy serve -h'); each has an environment variable.
`

func main() {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	if err := run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, log); err != nil {
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintln(os.Stderr, err)
			fmt.Fprint(os.Stderr, usage)
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "ggzy:", err)
		os.Exit(1)
	}
}

type usageError string

func (u usageError) Error() string { return string(u) }

func run(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer, log *slog.Logger) error {
	if len(args) == 0 {
		return usageError("missing command")
	}
	cmd, args := args[0], args[1:]
	switch cmd {
	case "serve":
		return cmdServe(ctx, args, stdout, log)
	case "migrate":
		return cmdMigrate(ctx, args, stdout, log)
	case "user":
		return cmdUser(ctx, args, stdin, stdout, log)
	case "demo":
		return cmdDemo(ctx, args, stdout, log)
	case "audit":
		return cmdAudit(ctx, args, stdout, log)
	case "deposits":
		return cmdDeposits(ctx, args, stdout, log)
	case "auction":
		return cmdAuction(ctx, args, stdout, log)
	case "report":
		return cmdReport(ctx, args, stdout, log)
	case "receipt":
		return cmdReceipt(args, stdout)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	return usageError("unknown command " + cmd)
}

func cmdServe(ctx context.Context, args []string, stdout io.Writer, log *slog.Logger) error {
	var cfg Config
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	cfg.bindFlags(fs)
	demo := fs.Bool("demo", false, "load the demo data before serving")
	if err := fs.Parse(args); err != nil {
		return usageError(err.Error())
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	app, err := OpenApp(ctx, cfg, modeServe, log)
	if err != nil {
		return err
	}
	defer app.Close()
	// What statement imports that died (kill -9) left in staging goes now;
	// imports running on other instances keep theirs (their locks).
	if _, err := app.Deposits.ClearAbandonedStaging(ctx); err != nil {
		return err
	}
	if *demo {
		if err := loadDemo(ctx, app, stdout); err != nil {
			return err
		}
	}
	e, err := NewServer(app)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	// Approved announcements with a publication time go out when it comes; every
	// instance runs this, SKIP LOCKED keeps them from publishing one twice.
	go app.Trading.RunPublisher(ctx, 15*time.Second)
	go app.Deposits.RunK1Sweeper(ctx, 10*time.Second)
	go runReminders(ctx, app, time.Minute)
	srv := &http.Server{Handler: e, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	// Shutdown waits for requests to end, and live streams end only when
	// the hub closes.
	srv.RegisterOnShutdown(app.Live.Close)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("ggzy serving", "url", "http://"+ln.Addr().String(), "database", redact(app.Cfg.DatabaseURL), "s3", app.Cfg.S3Endpoint)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Error("graceful shutdown", "err", err)
	}
	return app.Close()
}

// redact hides the password of a database URL in logs.
func redact(url string) string {
	if i := strings.Index(url, "://"); i >= 0 {
		if j := strings.Index(url[i+3:], "@"); j >= 0 {
			return url[:i+3] + "***@" + url[i+3+j+1:]
		}
	}
	return url
}

func cmdMigrate(ctx context.Context, args []string, stdout io.Writer, log *slog.Logger) error {
	var cfg Config
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	cfg.bindFlags(fs)
	// The action may come before or after the flags.
	action := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		action, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return usageError(err.Error())
	}
	if action == "" && fs.NArg() == 1 {
		action = fs.Arg(0)
	} else if fs.NArg() != 0 {
		return usageError("migrate needs one of: up, down, status")
	}
	switch action {
	case "up", "down", "status":
	default:
		return usageError("migrate needs one of: up, down, status")
	}
	app, err := OpenApp(ctx, cfg, modeMigrate, log)
	if err != nil {
		return err
	}
	defer app.Close()
	p, err := migrations.Provider(app.SQL, nil)
	if err != nil {
		return err
	}
	switch action {
	case "up":
		res, err := p.Up(ctx)
		for _, r := range res {
			fmt.Fprintf(stdout, "applied %s (%s)\n", r.Source.Path, r.Duration.Round(time.Millisecond))
		}
		if err == nil && len(res) == 0 {
			fmt.Fprintln(stdout, "schema is up to date")
		}
		return err
	case "down":
		r, err := p.Down(ctx)
		if r != nil {
			fmt.Fprintf(stdout, "rolled back %s\n", r.Source.Path)
		}
		return err
	case "status":
		st, err := p.Status(ctx)
		if err != nil {
			return err
		}
		for _, s := range st {
			at := "pending"
			if !s.AppliedAt.IsZero() {
				at = s.AppliedAt.Format(time.RFC3339)
			}
			fmt.Fprintf(stdout, "%-45s %s\n", s.Source.Path, at)
		}
		return nil
	}
	return usageError("migrate needs one of: up, down, status")
}

func cmdUser(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer, log *slog.Logger) error {
	if len(args) == 0 || args[0] != "add" {
		return usageError("usage: ggzy user add --role ROLE --username NAME [--name DISPLAY] --password-stdin")
	}
	var cfg Config
	fs := flag.NewFlagSet("user add", flag.ContinueOnError)
	cfg.bindFlags(fs)
	role := fs.String("role", "", "agent, supervisor or admin")
	username := fs.String("username", "", "login name")
	name := fs.String("name", "", "display name (defaults to the username)")
	pwStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input")
	if err := fs.Parse(args[1:]); err != nil {
		return usageError(err.Error())
	}
	if !*pwStdin {
		return usageError("--password-stdin is required (passwords are never taken on the command line)")
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	password := strings.TrimRight(line, "\r\n")
	app, err := OpenApp(ctx, cfg, modeAdmin, log)
	if err != nil {
		return err
	}
	defer app.Close()
	acc, err := app.Trading.CreateAccount(ctx, trading.SystemActor, trading.NewAccount{
		Role: trading.Role(*role), Username: *username, DisplayName: *name, Password: password})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "created %s account %q (id %d)\n", acc.Role, acc.Username, acc.ID)
	return nil
}

func cmdDemo(ctx context.Context, args []string, stdout io.Writer, log *slog.Logger) error {
	var cfg Config
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	cfg.bindFlags(fs)
	if err := fs.Parse(args); err != nil {
		return usageError(err.Error())
	}
	app, err := OpenApp(ctx, cfg, modeAdmin, log)
	if err != nil {
		return err
	}
	defer app.Close()
	return loadDemo(ctx, app, stdout)
}

func cmdAudit(ctx context.Context, args []string, stdout io.Writer, log *slog.Logger) error {
	if len(args) == 0 || args[0] != "verify" {
		return usageError("usage: ggzy audit verify")
	}
	var cfg Config
	fs := flag.NewFlagSet("audit verify", flag.ContinueOnError)
	cfg.bindFlags(fs)
	if err := fs.Parse(args[1:]); err != nil {
		return usageError(err.Error())
	}
	app, err := OpenApp(ctx, cfg, modeAdmin, log)
	if err != nil {
		return err
	}
	defer app.Close()
	n, problem, err := trading.VerifyAudit(ctx, app.DB)
	if err != nil {
		return err
	}
	if problem != nil {
		return problem
	}
	fmt.Fprintf(stdout, "audit log intact: %d records verified\n", n)
	return nil
}

func cmdDeposits(ctx context.Context, args []string, stdout io.Writer, log *slog.Logger) error {
	if len(args) == 0 || (args[0] != "import" && args[0] != "verify") {
		return usageError("usage: ggzy deposits import FILE | ggzy deposits verify [--balance YUAN]")
	}
	action := args[0]
	var cfg Config
	fs := flag.NewFlagSet("deposits "+action, flag.ContinueOnError)
	cfg.bindFlags(fs)
	balance := fs.String("balance", "", "the bank statement's closing balance, to compare with the books")
	rest := args[1:]
	var file string
	if action == "import" && len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		file, rest = rest[0], rest[1:]
	}
	if err := fs.Parse(rest); err != nil {
		return usageError(err.Error())
	}
	if action == "import" && file == "" {
		if fs.NArg() != 1 {
			return usageError("usage: ggzy deposits import FILE")
		}
		file = fs.Arg(0)
	}
	app, err := OpenApp(ctx, cfg, modeAdmin, log)
	if err != nil {
		return err
	}
	defer app.Close()
	if action == "import" {
		r, err := app.Deposits.ImportStatement(ctx, trading.SystemActor, func() (io.ReadCloser, error) { return os.Open(file) })
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%d lines: %d new (held %d, late %d, third party %d, suspense %d), %d already booked, %d K1 alerts\n",
			r.Lines, r.New, r.Held, r.Late, r.Third, r.Suspense, r.Repeated, r.Alerts)
		return nil
	}
	var want *decimal.Decimal
	if *balance != "" {
		d, err := trading.ParseAmount(*balance)
		if err != nil && !errors.Is(err, trading.ErrZeroAmount) {
			return usageError("--balance: " + err.Error())
		}
		want = &d
	}
	rep, err := app.Deposits.Verify(ctx, want)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%d inflows, %d journals; bank %s, owed %s\n", rep.Inflows, rep.Journals, rep.Bank.StringFixed(2), rep.Owed.StringFixed(2))
	if len(rep.Problems) > 0 {
		for _, p := range rep.Problems {
			fmt.Fprintf(stdout, "  %s: %s\n", p.What, p.Detail)
		}
		return fmt.Errorf("deposit books do not balance: %d problems", len(rep.Problems))
	}
	fmt.Fprintln(stdout, "deposit books balance")
	return nil
}

// cmdReport prints the summary paragraph of the savings report, the words
// the centre's annual report uses, with the period as its first line.
func cmdReport(ctx context.Context, args []string, stdout io.Writer, log *slog.Logger) error {
	if len(args) == 0 || args[0] != "savings" {
		return usageError("usage: ggzy report savings [--year Y [--quarter Q | --month M] | --from YYYY-MM-DD --to YYYY-MM-DD] [--category C] [--region CODE]")
	}
	var cfg Config
	fs := flag.NewFlagSet("report savings", flag.ContinueOnError)
	cfg.bindFlags(fs)
	params := map[string]*string{}
	for _, p := range []struct{ name, help string }{
		{"year", "calendar year (default: the current year)"}, {"quarter", "quarter 1-4 of the year"},
		{"month", "month 1-12 of the year"}, {"from", "first decision date, YYYY-MM-DD (with --to)"},
		{"to", "last decision date, inclusive"}, {"category", "engineering, procurement, land or property"},
		{"region", "region code; 350000 / 350100 include their sub-regions"},
	} {
		params[p.name] = fs.String(p.name, "", p.help)
	}
	if err := fs.Parse(args[1:]); err != nil {
		return usageError(err.Error())
	}
	if fs.NArg() != 0 {
		return usageError("report savings takes no arguments besides flags")
	}
	app, err := OpenApp(ctx, cfg, modeAdmin, log)
	if err != nil {
		return err
	}
	defer app.Close()
	q, err := report.ParseQuery(func(k string) string { return *params[k] }, app.Clock.Now())
	if err != nil {
		return err
	}
	rep, err := report.Savings(ctx, app.Trading, q)
	if err != nil {
		return err
	}
	// Standard output is the paragraph alone, in the shape RULES.md quotes,
	// so it can be pasted or compared as is; the period goes to stderr.
	fmt.Fprintln(os.Stderr, q.Label())
	fmt.Fprintln(stdout, report.Paragraph(rep))
	return nil
}

// runReminders writes the notifications that the passing of time causes
// (an agent's lot past its deadline, a refund past its due date) every
// interval until ctx ends. Each is keyed, so instances running it at once
// and repeated runs add nothing twice.
func runReminders(ctx context.Context, app *App, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := app.Bidding.NotifyDeadlines(ctx); err != nil && ctx.Err() == nil {
			app.Log.Error("deadline reminders", "err", err)
		}
		if _, err := app.Deposits.NotifyOverdueRefunds(ctx); err != nil && ctx.Err() == nil {
			app.Log.Error("overdue refund reminders", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// cmdAuction: ggzy auction verify-record FILE (issue 15 §8).
func cmdAuction(ctx context.Context, args []string, stdout io.Writer, log *slog.Logger) error {
	if len(args) == 0 || args[0] != "verify-record" {
		return usageError("usage: ggzy auction verify-record FILE")
	}
	var cfg Config
	fs := flag.NewFlagSet("auction verify-record", flag.ContinueOnError)
	cfg.bindFlags(fs)
	if err := fs.Parse(args[1:]); err != nil {
		return usageError(err.Error())
	}
	if fs.NArg() != 1 {
		return usageError("usage: ggzy auction verify-record FILE")
	}
	data, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		return err
	}
	app, err := OpenApp(ctx, cfg, modeAdmin, log)
	if err != nil {
		return err
	}
	defer app.Close()
	v, err := auction.VerifyRecord(ctx, app.DB, data)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "lot %d record sha256 %s\n", v.LotID, v.SHA256)
	fmt.Fprintf(stdout, "in the audit chain: %v; audit chain intact: %v\n", v.Audited, v.Chain)
	if v.Winner != "" {
		fmt.Fprintf(stdout, "recomputed: bidder code %s at %s yuan\n", v.Winner, v.Price.StringFixed(2))
	} else {
		fmt.Fprintln(stdout, "recomputed: no valid quote")
	}
	if !v.OK() {
		for _, p := range v.Problems {
			fmt.Fprintln(stdout, "problem:", p)
		}
		return fmt.Errorf("bidding record of lot %d does not verify", v.LotID)
	}
	fmt.Fprintln(stdout, "record verified")
	return nil
}
