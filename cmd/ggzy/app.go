package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"gorm.io/gorm"

	"github.com/ggzy/ggzy/bidding"
	"github.com/ggzy/ggzy/bidding/auction"
	"github.com/ggzy/ggzy/bidding/sealed"
	"github.com/ggzy/ggzy/cmd/ggzy/pdf"
	"github.com/ggzy/ggzy/cmd/ggzy/platform"
	"github.com/ggzy/ggzy/cmd/ggzy/stack"
	"github.com/ggzy/ggzy/deposits"
	"github.com/ggzy/ggzy/migrations"
	"github.com/ggzy/ggzy/trading"
	"github.com/ggzy/ggzy/trading/live"
	"github.com/ggzy/ggzy/trading/rules"
)

// Config is the whole configuration: environment variables, overridden by
// the flags of the same name.
type Config struct {
	Addr         string        // GGZY_ADDR
	Data         string        // GGZY_DATA: the embedded stack's directory
	DatabaseURL  string        // DATABASE_URL: external PostgreSQL; empty = embedded
	S3Endpoint   string        // S3_ENDPOINT: external MinIO/S3; empty = embedded
	S3AccessKey  string        // S3_ACCESS_KEY
	S3SecretKey  string        // S3_SECRET_KEY
	S3Bucket     string        // S3_BUCKET
	S3UseSSL     bool          // S3_USE_SSL
	SecureCookie bool          // GGZY_SECURE_COOKIES: set when served over HTTPS
	LoginPerMin  int           // GGZY_LOGIN_RATE: login attempts per minute per client IP
	ClockOffset  time.Duration // GGZY_CLOCK_OFFSET: run the clock shifted (demos)
	PublicCache  time.Duration // GGZY_PUBLIC_CACHE: micro-cache of public pages for anonymous visitors (0 = off)
	MaxUploadMB  int           // GGZY_MAX_UPLOAD_MB: size limit of one uploaded document
	TrustProxies string        // GGZY_TRUSTED_PROXIES: CIDRs of load balancers whose X-Forwarded-For is believed
	BankSecret   string        // GGZY_BANK_SECRET: HMAC-SHA256 key of the bank's notifications
	VAPrefix     string        // GGZY_VA_PREFIX: digits before the sequence of a virtual sub-account number
	DepositRates string        // GGZY_DEPOSIT_RATES: the bank's demand-deposit rates, "2024-01-01=0.0035,2025-05-20=0.0005"
	DepositBasis string        // GGZY_DEPOSIT_BASIS: day count of refund interest, ACT/360 or ACT/365
	LoanRates    string        // GGZY_LOAN_RATES: loan rates for the G7 occupation fee, "2025-05-20=0.03"
	G7Uplift     string        // GGZY_G7_UPLIFT: the G7 mark-up on the loan rate (0.20)
	DepositName  string        // GGZY_DEPOSIT_ACCOUNT_NAME: the deposit account's name shown to bidders
	DepositBank  string        // GGZY_DEPOSIT_BANK: the bank of the deposit account
	Chromium     string        // GGZY_CHROMIUM: Chromium that prints letters to PDF (empty: chromium on $PATH)
	BankFileEnc  string        // GGZY_BANK_FILE_ENCODING: the refund instruction file's encoding, utf-8 (with BOM) or gbk
	Rules        string        // GGZY_RULES: rule-book parameters, "L7.min_ratio=0.3,L2.working_days=false"
	OCIDPrefix   string        // GGZY_OCID_PREFIX: the centre's registered OCDS prefix
	Area         string        // GGZY_AREA: the centre's area, a GB/T 2260 code; its regions are the ones offered
	DBMaxConns   int           // GGZY_DB_MAX_CONNS: PostgreSQL connections of this instance
	LiveStream   time.Duration // GGZY_LIVE_MAX_STREAM: a live stream ends after this, the browser reconnects (spreads clients over instances)
	ReceiptKeys  string        // GGZY_RECEIPT_KEYRING: the receipt-signing keyring file (EB3)
	SessionCache time.Duration // GGZY_SESSION_CACHE: keep a checked session this long at most (0 = off)
}

func env(key, def string) string {
	if v, ok := os.LookupEnv(key); ok {
		return v
	}
	return def
}

func envBool(key string, def bool) bool {
	v, err := strconv.ParseBool(env(key, strconv.FormatBool(def)))
	if err != nil {
		return def
	}
	return v
}

// bindFlags registers the configuration flags with defaults from the
// environment, so a flag beats a variable beats the built-in default.
func (c *Config) bindFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.Addr, "addr", env("GGZY_ADDR", "127.0.0.1:8080"), "HTTP listen address (GGZY_ADDR)")
	fs.StringVar(&c.Data, "data", env("GGZY_DATA", "./.ggzy"), "data directory of the embedded PostgreSQL and MinIO (GGZY_DATA)")
	fs.StringVar(&c.DatabaseURL, "database-url", env("DATABASE_URL", ""), "external PostgreSQL URL; empty starts the embedded one (DATABASE_URL)")
	fs.StringVar(&c.S3Endpoint, "s3-endpoint", env("S3_ENDPOINT", ""), "external S3/MinIO host:port; empty starts the embedded MinIO (S3_ENDPOINT)")
	fs.StringVar(&c.S3AccessKey, "s3-access-key", env("S3_ACCESS_KEY", ""), "S3 access key (S3_ACCESS_KEY)")
	fs.StringVar(&c.S3SecretKey, "s3-secret-key", env("S3_SECRET_KEY", ""), "S3 secret key (S3_SECRET_KEY)")
	fs.StringVar(&c.S3Bucket, "s3-bucket", env("S3_BUCKET", "ggzy"), "S3 bucket (S3_BUCKET)")
	fs.BoolVar(&c.S3UseSSL, "s3-use-ssl", envBool("S3_USE_SSL", false), "use HTTPS to reach S3 (S3_USE_SSL)")
	fs.BoolVar(&c.SecureCookie, "secure-cookies", envBool("GGZY_SECURE_COOKIES", false), "mark cookies Secure (behind HTTPS) (GGZY_SECURE_COOKIES)")
	fs.IntVar(&c.LoginPerMin, "login-rate", envInt("GGZY_LOGIN_RATE", 10), "login attempts per minute per client IP (GGZY_LOGIN_RATE)")
	fs.StringVar(&c.BankSecret, "bank-secret", env("GGZY_BANK_SECRET", ""), "shared secret of the bank's signed notifications; empty refuses them all (GGZY_BANK_SECRET)")
	fs.StringVar(&c.VAPrefix, "va-prefix", env("GGZY_VA_PREFIX", deposits.DefaultPrefix), "6-10 digits that start every virtual sub-account number (GGZY_VA_PREFIX)")
	fs.StringVar(&c.DepositRates, "deposit-rates", env("GGZY_DEPOSIT_RATES", ""), "demand-deposit rates from their dates, e.g. 2024-01-01=0.0035,2025-05-20=0.0005; empty: 0.35 % (GGZY_DEPOSIT_RATES)")
	fs.StringVar(&c.DepositBasis, "deposit-basis", env("GGZY_DEPOSIT_BASIS", "ACT/360"), "day count of refund interest: ACT/360 or ACT/365 (GGZY_DEPOSIT_BASIS)")
	fs.StringVar(&c.LoanRates, "loan-rates", env("GGZY_LOAN_RATES", ""), "one-year loan rates from their dates for the G7 occupation fee, e.g. 2024-10-21=0.031,2025-05-20=0.03; empty: the LPR history built in (GGZY_LOAN_RATES)")
	fs.StringVar(&c.G7Uplift, "g7-uplift", env("GGZY_G7_UPLIFT", "0.20"), "mark-up on the loan rate of the G7 occupation fee (GGZY_G7_UPLIFT)")
	fs.StringVar(&c.DepositName, "deposit-account-name", env("GGZY_DEPOSIT_ACCOUNT_NAME", "公共资源交易中心保证金专户"), "name of the deposit account (GGZY_DEPOSIT_ACCOUNT_NAME)")
	fs.StringVar(&c.Chromium, "chromium", env("GGZY_CHROMIUM", ""), "Chromium that prints letters (中标通知书…) to PDF; empty: chromium on $PATH (GGZY_CHROMIUM)")
	fs.StringVar(&c.DepositBank, "deposit-bank", env("GGZY_DEPOSIT_BANK", ""), "bank of the deposit account (GGZY_DEPOSIT_BANK); unset, administrators see a warning and bidders are told to ask the centre")
	fs.StringVar(&c.BankFileEnc, "bank-file-encoding", env("GGZY_BANK_FILE_ENCODING", "utf-8"), "encoding of the refund instruction file for the bank: utf-8 (with BOM) or gbk (GGZY_BANK_FILE_ENCODING)")
	fs.StringVar(&c.TrustProxies, "trusted-proxies", env("GGZY_TRUSTED_PROXIES", ""), "comma-separated CIDRs of the load balancers in front; their X-Forwarded-For names the client (GGZY_TRUSTED_PROXIES)")
	fs.IntVar(&c.MaxUploadMB, "max-upload-mb", envInt("GGZY_MAX_UPLOAD_MB", 500), "size limit of one uploaded document in MB (GGZY_MAX_UPLOAD_MB)")
	fs.StringVar(&c.Rules, "rules", env("GGZY_RULES", ""), "rule-book parameters as name=value, comma separated; names in the rule book page (GGZY_RULES)")
	fs.IntVar(&c.DBMaxConns, "db-max-conns", envInt("GGZY_DB_MAX_CONNS", 20), "PostgreSQL connections this instance opens at most; instances × this must stay under the server's max_connections (GGZY_DB_MAX_CONNS)")
	fs.StringVar(&c.Area, "area", env("GGZY_AREA", trading.DefaultArea), "the centre's area, the GB/T 2260 code of any province, city or county-level division (province 320000, municipality 110000, city 320100, county 320102): the regions offered in choices and the portal's region filter (GGZY_AREA)")
	fs.StringVar(&c.OCIDPrefix, "ocid-prefix", env("GGZY_OCID_PREFIX", "ocds-ggzy00"), "registered OCDS ocid prefix of the centre (GGZY_OCID_PREFIX)")
	fs.DurationVar(&c.PublicCache, "public-cache", envDuration("GGZY_PUBLIC_CACHE", time.Second), "reuse public pages for anonymous visitors this long; 0 turns it off (GGZY_PUBLIC_CACHE)")
	fs.DurationVar(&c.LiveStream, "live-max-stream", envDuration("GGZY_LIVE_MAX_STREAM", 30*time.Minute), "end a live page's stream after this long, so browsers reconnect and spread over the instances again (GGZY_LIVE_MAX_STREAM)")
	fs.StringVar(&c.ReceiptKeys, "receipt-keyring", env("GGZY_RECEIPT_KEYRING", ""), "receipt-signing keyring of sealed bids, made by `ggzy receipt keygen`; empty: $GGZY_DATA/receipt-keyring.json, made on first start (GGZY_RECEIPT_KEYRING)")
	fs.DurationVar(&c.SessionCache, "session-cache", envDuration("GGZY_SESSION_CACHE", 10*time.Second), "keep a checked sign-in this long at most, so that requests need not read it each time; every instance forgets it as soon as the database notifies a logout or a change of the account (0 turns it off) (GGZY_SESSION_CACHE)")
	fs.DurationVar(&c.ClockOffset, "clock-offset", envDuration("GGZY_CLOCK_OFFSET", 0), "shift the platform clock, e.g. 720h (GGZY_CLOCK_OFFSET)")
}

func envInt(key string, def int) int {
	v, err := strconv.Atoi(env(key, strconv.Itoa(def)))
	if err != nil {
		return def
	}
	return v
}

func envDuration(key string, def time.Duration) time.Duration {
	v, err := time.ParseDuration(env(key, def.String()))
	if err != nil {
		return def
	}
	return v
}

// App is the wired platform: database, object store, services.
type App struct {
	Cfg      Config
	Log      *slog.Logger
	Clock    trading.Clock
	DB       *gorm.DB
	SQL      *sql.DB
	Storage  *trading.Storage
	Trading  *trading.Service
	Bidding  *bidding.Service
	Deposits *deposits.Service
	Auction  *auction.Service
	Live     *live.Hub // the live pages' events (served instances only)
	// PDF prints letters with Chromium, started on the first one.
	PDF *pdf.Printer
	emb *stack.Embedded

	stopAuction context.CancelFunc // the settlement ticker (served instances only)
	auctionDone chan struct{}
	stopPings   context.CancelFunc // the session cache's KeepAlive (served instances only)
	pingsDone   chan struct{}
}

// SetClock moves every service to another clock (tests, demos).
func (a *App) SetClock(c trading.Clock) {
	a.Clock, a.Trading.Clock, a.Bidding.Clock = c, c, c
}

// openMode says what an App may do with the schema.
type openMode int

const (
	// modeServe applies migrations on the embedded stack, and refuses a
	// stale external schema.
	modeServe openMode = iota
	// modeAdmin is an admin command: like serve, but attaches to a running
	// `ggzy serve` on the same data directory.
	modeAdmin
	// modeMigrate connects without checking the schema.
	modeMigrate
)

// OpenApp starts or attaches to the embedded stack where no external
// servers are configured, connects, and makes the schema and bucket ready.
func OpenApp(ctx context.Context, cfg Config, mode openMode, log *slog.Logger) (*App, error) {
	a := &App{Cfg: cfg, Log: log, Clock: trading.SystemClock{Offset: cfg.ClockOffset}}
	embeddedPG, embeddedS3 := cfg.DatabaseURL == "", cfg.S3Endpoint == ""
	if embeddedPG || embeddedS3 {
		role := "admin"
		if mode == modeServe {
			role = "serve"
		}
		var logw io.Writer = io.Discard
		if err := os.MkdirAll(cfg.Data, 0o700); err == nil {
			if f, err := os.OpenFile(filepath.Join(cfg.Data, "servers.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600); err == nil {
				logw = f
			}
		}
		if embeddedPG || embeddedS3 {
			log.Info("starting embedded stack", "data", cfg.Data, "postgres", embeddedPG, "minio", embeddedS3)
		}
		emb, err := stack.Open(ctx, stack.OpenOptions{Dir: cfg.Data, Role: role, Postgres: embeddedPG, MinIO: embeddedS3, Log: logw})
		if err != nil {
			return nil, err
		}
		a.emb = emb
		if embeddedPG {
			if err := ensureDatabase(ctx, emb.AdminURL(), "ggzy"); err != nil {
				a.Close()
				return nil, err
			}
			a.Cfg.DatabaseURL = emb.DatabaseURL("ggzy")
		}
		if embeddedS3 {
			a.Cfg.S3Endpoint, a.Cfg.S3AccessKey, a.Cfg.S3SecretKey = emb.S3Endpoint(), emb.Creds.S3AccessKey, emb.Creds.S3SecretKey
			a.Cfg.S3UseSSL = false
		}
	}
	var err error
	if a.DB, err = trading.OpenDB(a.Cfg.DatabaseURL); err != nil {
		a.Close()
		return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	if a.SQL, err = a.DB.DB(); err != nil {
		a.Close()
		return nil, err
	}
	if cfg.DBMaxConns > 0 {
		a.SQL.SetMaxOpenConns(cfg.DBMaxConns)
		a.SQL.SetMaxIdleConns(cfg.DBMaxConns)
	} else if cfg.DBMaxConns < 0 {
		a.Close()
		return nil, fmt.Errorf("GGZY_DB_MAX_CONNS: %d is negative", cfg.DBMaxConns)
	}
	if err := a.SQL.PingContext(ctx); err != nil {
		a.Close()
		return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	switch {
	case mode == modeMigrate:
	case embeddedPG:
		// The embedded database belongs to this binary: bring it up to date.
		if err := migrations.Up(ctx, a.SQL); err != nil {
			a.Close()
			return nil, err
		}
	default:
		// An external database is migrated deliberately (`ggzy migrate up`),
		// never by whichever instance of a cluster happens to start first.
		if err := migrations.Check(ctx, a.SQL); err != nil {
			a.Close()
			return nil, err
		}
	}
	if mode == modeServe {
		// The deciding clock (ggzy_now, migration 00016) runs with the same
		// offset as the service clock, so a rehearsal shifts both.
		if err := trading.SetDBClockOffset(ctx, a.DB, cfg.ClockOffset); err != nil {
			a.Close()
			return nil, err
		}
	}
	if a.Storage, err = trading.NewStorage(trading.StorageConfig{Endpoint: a.Cfg.S3Endpoint,
		AccessKey: a.Cfg.S3AccessKey, SecretKey: a.Cfg.S3SecretKey, Bucket: a.Cfg.S3Bucket, UseSSL: a.Cfg.S3UseSSL}); err != nil {
		a.Close()
		return nil, err
	}
	if mode != modeMigrate {
		if err := a.Storage.EnsureBucket(ctx); err != nil {
			a.Close()
			return nil, err
		}
	}
	// The three services, wired by platform.Wire: the one place where
	// trading, bidding and deposits are connected.
	p := platform.New(a.DB, a.Clock, a.Storage, log, cfg.VAPrefix)
	a.Trading, a.Bidding, a.Deposits, a.Auction = p.Trading, p.Bidding, p.Deposits, p.Auction
	a.PDF = &pdf.Printer{Path: cfg.Chromium}
	if cfg.OCIDPrefix != "" {
		a.Trading.OCIDPrefix = cfg.OCIDPrefix
	}
	if mode != modeMigrate && cfg.Area != "" {
		if err := a.Trading.SetArea(ctx, cfg.Area); err != nil {
			a.Close()
			return nil, err
		}
	}
	// S/C-confidence numbers of RULES.md are the centre's to set.
	for _, setting := range strings.Split(cfg.Rules, ",") {
		if setting = strings.TrimSpace(setting); setting == "" {
			continue
		}
		if err := a.Trading.Book.Params.Apply(setting); err != nil {
			a.Close()
			return nil, fmt.Errorf("GGZY_RULES: %w (known: %s)", err, strings.Join(rules.ParamNames(), ", "))
		}
	}
	if cfg.MaxUploadMB > 0 {
		a.Bidding.MaxUpload = int64(cfg.MaxUploadMB) << 20
	}
	if mode != modeMigrate {
		if a.Bidding.Receipts, err = loadReceiptKeys(cfg); err != nil {
			a.Close()
			return nil, err
		}
	}
	if _, err := a.Deposits.Accounts.Number(1); err != nil {
		a.Close()
		return nil, fmt.Errorf("GGZY_VA_PREFIX: %w", err)
	}
	a.Deposits.WebhookSecret = []byte(cfg.BankSecret)
	if err := configureOccupationFee(a.Deposits, cfg.LoanRates, cfg.G7Uplift); err != nil {
		a.Close()
		return nil, err
	}
	if err := configureInterest(a.Deposits, cfg.DepositRates, cfg.DepositBasis); err != nil {
		a.Close()
		return nil, err
	}
	if a.Deposits.BankFile, err = deposits.ParseBankFileEncoding(cfg.BankFileEnc); err != nil {
		a.Close()
		return nil, fmt.Errorf("GGZY_BANK_FILE_ENCODING: %w", err)
	}
	if cfg.DepositName != "" {
		a.Deposits.AccountName = cfg.DepositName
	}
	if cfg.DepositBank != "" {
		a.Deposits.BankName = cfg.DepositBank
	}
	if mode == modeServe {
		// One LISTEN connection per instance, outside the pool.
		a.Live = live.NewHub(a.DB, a.Cfg.DatabaseURL, live.Options{Log: log, MaxStream: cfg.LiveStream})
		if cfg.SessionCache > 0 {
			// Kept fresh by the database's notifications on the hub's
			// connection (migration 00035); answers nothing until it listens.
			a.Trading.Sessions = trading.NewSessionCache(cfg.SessionCache)
			a.Live.Watch(trading.AuthChannel, a.Trading.Sessions)
			// Its pings tell a working channel from a silently dead one.
			pctx, cancel := context.WithCancel(context.Background())
			a.stopPings, a.pingsDone = cancel, make(chan struct{})
			go func() { defer close(a.pingsDone); a.Trading.Sessions.KeepAlive(pctx, a.DB) }()
		}
		// The hub lives until Close, not until the caller's ctx ends.
		a.Live.Start(context.WithoutCancel(ctx))
		// Every served instance runs the online bidding's settlement
		// ticker; each countdown end is claimed by one of them (SKIP LOCKED).
		tctx, cancel := context.WithCancel(context.Background())
		a.stopAuction, a.auctionDone = cancel, make(chan struct{})
		go func() { defer close(a.auctionDone); a.Auction.Run(tctx, 250*time.Millisecond) }()
	}
	return a, nil
}

// ensureDatabase creates the named database in the embedded cluster.
func ensureDatabase(ctx context.Context, adminURL, name string) error {
	db, err := sql.Open("pgx", adminURL)
	if err != nil {
		return err
	}
	defer db.Close()
	var exists bool
	if err := db.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return fmt.Errorf("embedded PostgreSQL: %w", err)
	}
	if exists {
		return nil
	}
	_, err = db.ExecContext(ctx, "CREATE DATABASE "+name)
	var exists2 bool
	if err != nil && db.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists2) == nil && exists2 {
		return nil // created concurrently
	}
	return err
}

// Close disconnects and stops the embedded servers this process started.
func (a *App) Close() error {
	var errs []error
	if a.stopAuction != nil {
		a.stopAuction()
		<-a.auctionDone
	}
	if a.stopPings != nil {
		a.stopPings()
		<-a.pingsDone
	}
	if a.Live != nil {
		a.Live.Close()
	}
	if a.PDF != nil {
		a.PDF.Close()
	}
	if a.SQL != nil {
		errs = append(errs, a.SQL.Close())
	}
	if a.emb != nil {
		errs = append(errs, a.emb.Close())
	}
	return errors.Join(errs...)
}

// configureInterest sets the refund interest of D5/D8: the rate schedule
// ("date=rate,…", each rate from its date in Asia/Shanghai) and the day count.
func configureInterest(d *deposits.Service, rates, basis string) error {
	if basis != "" {
		switch deposits.DayCount(basis) {
		case deposits.ACT360, deposits.ACT365:
			d.Basis = deposits.DayCount(basis)
		default:
			return fmt.Errorf("GGZY_DEPOSIT_BASIS: %q is neither ACT/360 nor ACT/365", basis)
		}
	}
	if strings.TrimSpace(rates) == "" {
		return nil
	}
	sched, err := parseRates("GGZY_DEPOSIT_RATES", rates)
	if err != nil {
		return err
	}
	d.Rates = sched
	return nil
}

// configureOccupationFee sets the G7 fee's loan rates and mark-up.
func configureOccupationFee(d *deposits.Service, rates, uplift string) error {
	if strings.TrimSpace(rates) != "" {
		sched, err := parseRates("GGZY_LOAN_RATES", rates)
		if err != nil {
			return err
		}
		d.LoanRates = sched
	}
	if strings.TrimSpace(uplift) != "" {
		u, err := decimal.NewFromString(strings.TrimSpace(uplift))
		if err != nil || u.IsNegative() || u.GreaterThan(decimal.NewFromInt(1)) {
			return fmt.Errorf("GGZY_G7_UPLIFT: %q is not a ratio between 0 and 1", uplift)
		}
		d.G7Uplift = u
	}
	return nil
}

// parseRates reads "date=rate,…" (each rate from its date in Asia/Shanghai).
func parseRates(name, rates string) (deposits.RateSchedule, error) {
	var sched deposits.RateSchedule
	for _, part := range strings.Split(rates, ",") {
		date, rate, ok := strings.Cut(strings.TrimSpace(part), "=")
		from, err := time.ParseInLocation("2006-01-02", strings.TrimSpace(date), trading.Shanghai)
		if !ok || err != nil {
			return nil, fmt.Errorf("%s: %q is not date=rate", name, part)
		}
		r, err := decimal.NewFromString(strings.TrimSpace(rate))
		if err != nil {
			return nil, fmt.Errorf("%s: rate %q: %w", name, rate, err)
		}
		sched = append(sched, deposits.RateChange{From: from, AnnualRate: r})
	}
	if err := sched.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return sched, nil
}

// loadReceiptKeys reads the receipt-signing keyring (EB3): the file of
// GGZY_RECEIPT_KEYRING, which every instance of one platform must share
// (made and rotated with `ggzy receipt keygen`); without it, the one in the
// data directory, made on first start.
func loadReceiptKeys(cfg Config) (*sealed.Keyring, error) {
	path := cfg.ReceiptKeys
	if path == "" {
		if cfg.Data == "" {
			return nil, fmt.Errorf("GGZY_RECEIPT_KEYRING: set the receipt-signing keyring file (ggzy receipt keygen --keyring PATH)")
		}
		path = filepath.Join(cfg.Data, "receipt-keyring.json")
		if _, err := os.Stat(path); os.IsNotExist(err) {
			if err := os.MkdirAll(cfg.Data, 0o700); err != nil {
				return nil, err
			}
			if _, err := sealed.NewKeyringFile(path, time.Now()); err != nil {
				return nil, fmt.Errorf("GGZY_RECEIPT_KEYRING: make %s: %w", path, err)
			}
		}
	}
	k, err := sealed.LoadKeyring(path)
	if err != nil {
		return nil, fmt.Errorf("GGZY_RECEIPT_KEYRING: %w", err)
	}
	return k, nil
}
