package deposits

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"math/big"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/shopspring/decimal"
	"gorm.io/gorm"

	"github.com/ggzy/ggzy/bidding"
	"github.com/ggzy/ggzy/trading"
)

// Service collects deposits (网上收退保证金): virtual accounts, inflows from
// statements, webhooks and manual entries, matching, and the ledger.
type Service struct {
	DB       *gorm.DB
	Trading  *trading.Service
	Log      *slog.Logger
	Accounts VirtualAccounts
	// The centre's deposit account, shown to bidders.
	AccountName, BankName string
	// WebhookSecret signs the bank's notifications (HMAC-SHA256).
	WebhookSecret []byte
	// Rates is the bank's demand-deposit rate over time and Basis its day
	// count: the interest refunds carry (D5, D8).
	Rates RateSchedule
	Basis DayCount
	// LoanRates and G7Uplift price the occupation fee (资金占用费) a late
	// procurement refund owes on top (G7: loan rate + 20 %).
	LoanRates RateSchedule
	G7Uplift  decimal.Decimal
	// BankFile is the encoding of the refund instruction file.
	BankFile BankFileEncoding

	k1Mu    sync.Mutex
	k1Swept int64 // the highest inflow id the K1 sweep has covered
}

// DefaultRates is the demand-deposit (活期) benchmark rate, 0.35 %, until a
// centre configures its bank's rates (GGZY_DEPOSIT_RATES).
var DefaultRates = RateSchedule{{From: time.Date(2000, 1, 1, 0, 0, 0, 0, trading.Shanghai), AnnualRate: decimal.RequireFromString("0.0035")}}

// DefaultLoanRates is the one-year loan prime rate (LPR) history used for
// the G7 fee until a centre configures its own (GGZY_LOAN_RATES): 4.35 %
// (the old benchmark) before the reformed LPR, then 3.85 %, 3.10 %, 3.00 %.
var DefaultLoanRates = RateSchedule{
	{From: time.Date(2000, 1, 1, 0, 0, 0, 0, trading.Shanghai), AnnualRate: decimal.RequireFromString("0.0435")},
	{From: time.Date(2019, 8, 20, 0, 0, 0, 0, trading.Shanghai), AnnualRate: decimal.RequireFromString("0.0425")},
	{From: time.Date(2023, 8, 21, 0, 0, 0, 0, trading.Shanghai), AnnualRate: decimal.RequireFromString("0.0345")},
	{From: time.Date(2024, 7, 22, 0, 0, 0, 0, trading.Shanghai), AnnualRate: decimal.RequireFromString("0.0335")},
	{From: time.Date(2024, 10, 21, 0, 0, 0, 0, trading.Shanghai), AnnualRate: decimal.RequireFromString("0.031")},
	{From: time.Date(2025, 5, 20, 0, 0, 0, 0, trading.Shanghai), AnnualRate: decimal.RequireFromString("0.03")},
}

// NewService builds deposits on the trading service. It touches no other
// service: platform.Wire attaches its hooks, so that each new registration
// that needs a deposit gets its virtual account in the same transaction,
// and withdrawals, terminations and results refund what they must.
func NewService(ts *trading.Service, prefix string) *Service {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	s := &Service{DB: ts.DB, Trading: ts, Log: ts.Log, Accounts: VirtualAccounts{Prefix: prefix},
		AccountName: "公共资源交易中心保证金专户", Rates: DefaultRates, Basis: ACT360,
		LoanRates: DefaultLoanRates, G7Uplift: decimal.RequireFromString("0.20")}
	return s
}

func (s *Service) now() time.Time { return s.Trading.Clock.Now() }

// DefaultPrefix starts virtual account numbers when none is configured.
const DefaultPrefix = "3501001"

// VirtualAccount is a registration's own sub-account number.
type VirtualAccount struct {
	ID             int64           `gorm:"column:id;primaryKey" json:"id"`
	Number         string          `gorm:"column:number" json:"number"`
	RegistrationID int64           `gorm:"column:registration_id" json:"registration_id"`
	LotID          int64           `gorm:"column:lot_id" json:"lot_id"`
	BidderID       int64           `gorm:"column:bidder_id" json:"bidder_id"`
	Required       decimal.Decimal `gorm:"column:required;type:numeric(18,2)" json:"required"`
	Deadline       time.Time       `gorm:"column:deadline" json:"deadline"`
	CreatedAt      time.Time       `gorm:"column:created_at" json:"created_at"`
}

func (VirtualAccount) TableName() string { return "virtual_accounts" }

// InflowStatus is what became of money that arrived.
type InflowStatus string

const (
	InflowHeld       InflowStatus = "held"        // valid deposit, held for the bidder
	InflowLate       InflowStatus = "late"        // arrived after the deadline: not valid, to be refunded
	InflowThirdParty InflowStatus = "third_party" // paid by someone else (D2): not valid, refunded to the payer
	InflowSuspense   InflowStatus = "suspense"    // no such virtual account: a supervisor matches or returns it
	InflowRefunded   InflowStatus = "refunded"
	InflowForfeited  InflowStatus = "forfeited"
	InflowConverted  InflowStatus = "converted"
	InflowReturned   InflowStatus = "returned"
)

// Name is the Chinese name of the status.
func (s InflowStatus) Name() string {
	return trading.LabelOrEmpty(trading.LabelInflowStatus, string(s)) // the one label table; "" for an unknown status
}

// StoredInflow is a row of inflows.
type StoredInflow struct {
	ID               int64           `gorm:"column:id;primaryKey" json:"id"`
	BankTxnID        string          `gorm:"column:bank_txn_id" json:"bank_txn_id"`
	Source           string          `gorm:"column:source" json:"source"`
	ValueTime        time.Time       `gorm:"column:value_time" json:"value_time"`
	AccountNumber    string          `gorm:"column:account_number" json:"account_number"`
	VirtualAccountID *int64          `gorm:"column:virtual_account_id" json:"virtual_account_id,omitempty"`
	PayerName        string          `gorm:"column:payer_name" json:"payer_name"`
	PayerAccount     string          `gorm:"column:payer_account" json:"payer_account"`
	PayerBank        string          `gorm:"column:payer_bank" json:"payer_bank"`
	Amount           decimal.Decimal `gorm:"column:amount;type:numeric(18,2)" json:"amount"`
	Currency         string          `gorm:"column:currency" json:"currency"`
	Memo             string          `gorm:"column:memo" json:"memo"`
	Status           InflowStatus    `gorm:"column:status" json:"status"`
	Reason           string          `gorm:"column:reason" json:"reason"`
	CreatedAt        time.Time       `gorm:"column:created_at" json:"created_at"`
	CreatedBy        *int64          `gorm:"column:created_by" json:"-"`
}

func (StoredInflow) TableName() string { return "inflows" }

// Every category's deposit may be paid by bank transfer into a virtual
// account. For procurement that is one of G5's non-cash forms (a transfer
// from the supplier's account, like a cheque or draft, never cash paid in
// at a counter); a guarantee may replace it in every category (D9, G5).

// NeedsAccount (where the OnRegister hook of bidding applies): a lot that asks for a deposit opens a virtual account for
// each registration.
func NeedsAccount(p *trading.Project, lot *trading.Lot) bool { return lot.Deposit.IsPositive() }

// OpenAccounts gives registrations their virtual accounts (an OnRegister
// hook of bidding): one, or those written together under a burst, in two statements.
// The deposit deadline is the bid deadline, or for land and property the
// close of applications.
func (s *Service) OpenAccounts(ctx context.Context, tx *gorm.DB, regs []bidding.Registered) error {
	seqs, err := s.drawAccountSeqs(tx, len(regs))
	if err != nil {
		return err
	}
	var numbers, required []string
	var regIDs, lotIDs, bidderIDs []int64
	var deadlines []time.Time
	for i, r := range regs {
		number, err := s.Accounts.Number(seqs[i])
		if err != nil {
			return err
		}
		deadline := r.W.Deadline
		if r.Reg.Kind == bidding.KindApplication && !r.W.Closes.IsZero() {
			deadline = r.W.Closes
		}
		numbers, required, deadlines = append(numbers, number), append(required, r.Lot.Deposit.String()), append(deadlines, deadline)
		regIDs, lotIDs, bidderIDs = append(regIDs, r.Reg.ID), append(lotIDs, r.Lot.ID), append(bidderIDs, r.Reg.BidderID)
	}
	// Arrays as parameters, past GORM (which would spread a slice into a
	// list). A revived registration keeps the account it had.
	res, err := tx.Statement.ConnPool.ExecContext(tx.Statement.Context, `INSERT INTO virtual_accounts
		(number, registration_id, lot_id, bidder_id, required, deadline, created_at)
		SELECT v.*, $7::timestamptz FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::numeric[], $6::timestamptz[]) v
		ON CONFLICT (registration_id) DO NOTHING`, numbers, regIDs, lotIDs, bidderIDs, required, deadlines, s.now())
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n == int64(len(regs)) {
		return err // all new: nothing to revive
	}
	return s.reviveDeposits(tx, regs)
}

// drawAccountSeqs draws n distinct sequence parts of virtual sub-account
// numbers at random among the ten-digit range, none in use yet. A number
// from a platform-wide sequence would tell a bidder how many accounts were
// opened since its competitor's (K4/K5, issue 13 item 3); a random one
// tells nothing. The unique number column still refuses a number drawn by
// two transactions at once (with 10^10 numbers, rare enough to be an error).
func (s *Service) drawAccountSeqs(tx *gorm.DB, n int) ([]int64, error) {
	out := make([]int64, 0, n)
	seen := map[int64]bool{}
	for tries := 0; len(out) < n; tries++ {
		if tries > 20 {
			return nil, fmt.Errorf("virtual accounts: no free number after %d draws", tries)
		}
		var draw []int64
		var numbers []string
		for len(draw) < n-len(out) {
			v, err := rand.Int(rand.Reader, big.NewInt(maxSeq))
			if err != nil {
				return nil, err
			}
			seq := v.Int64() + 1
			if seen[seq] {
				continue
			}
			seen[seq] = true
			number, err := s.Accounts.Number(seq)
			if err != nil {
				return nil, err
			}
			draw, numbers = append(draw, seq), append(numbers, number)
		}
		var taken []string
		if err := tx.Raw("SELECT number FROM virtual_accounts WHERE number IN ?", numbers).Scan(&taken).Error; err != nil {
			return nil, err
		}
		for i, seq := range draw {
			if !slices.Contains(taken, numbers[i]) {
				out = append(out, seq)
			}
		}
	}
	return out, nil
}

// Source is how an inflow reached the platform.
type Source string

const (
	SourceStatement Source = "statement"
	SourceWebhook   Source = "webhook"
	SourceManual    Source = "manual"
)

// Result says what one call of Receive did.
type Result struct {
	Lines    int   `json:"lines"`    // inflows offered
	New      int   `json:"new"`      // stored now
	Repeated int   `json:"repeated"` // already stored (same bank transaction id): nothing doubled
	Held     int   `json:"held"`
	Late     int   `json:"late"`
	Third    int   `json:"third_party"`
	Suspense int   `json:"suspense"`
	Alerts   int   `json:"k1_alerts"`
	from, to int64 // the ids of this batch's new inflows lie in (from, to]
}

// checkK1 raises K1 alerts (deposits of different bidders of one lot from
// the same account) for the new inflows whose ids lie in (from, to]. Two
// forms of one check, by batch size: a statement groups all payments of
// the payers it contains in one pass; a single notification probes,
// through the payer index, for another bidder of its lot, which does not
// grow with the payer's history. (One form for both was tried: without
// statistics on fresh rows the planner turned it quadratic on a large
// statement.) Ids in the range from other batches are checked too, which
// is harmless: an alert is raised once.
//
// payers, when not empty, is a query for the payers of the batch's matched
// money (a large statement gathers them as it goes): it replaces reading
// them back from the id range.
func checkK1(tx *gorm.DB, n int, from, to int64, payers string, now time.Time) *gorm.DB {
	const k1Detail = `'同一账户 ' || %s || ' 为 ' || %s || ' 缴纳保证金（K1：视为串通投标，实施条例第四十条）'`
	// The range as literals (two integers read from the database): with
	// parameters, a cached generic plan guesses a tenth of the table and
	// scans it all for every notification.
	idRange := fmt.Sprintf("id BETWEEN %d AND %d", from+1, to)
	if payers == "" {
		payers = "SELECT payer_account FROM inflows WHERE " + idRange + " AND virtual_account_id IS NOT NULL"
	}
	if n > 100 {
		return tx.Exec(`INSERT INTO deposit_alerts (kind, lot_id, payer_account, detail, created_at)
			SELECT 'K1', va.lot_id, i.payer_account, `+fmt.Sprintf(k1Detail, "i.payer_account", "string_agg(DISTINCT b.name, '、')")+`, ?
			FROM inflows i JOIN virtual_accounts va ON va.id = i.virtual_account_id JOIN bidders b ON b.account_id = va.bidder_id
			WHERE i.virtual_account_id IS NOT NULL -- the payer index holds matched money only
				AND i.payer_account IN (`+payers+`)
			GROUP BY va.lot_id, i.payer_account HAVING count(DISTINCT va.bidder_id) > 1
			ON CONFLICT (kind, lot_id, payer_account) WHERE kind = 'K1' DO NOTHING`, now)
	}
	return tx.Exec(`INSERT INTO deposit_alerts (kind, lot_id, payer_account, detail, created_at)
		SELECT DISTINCT ON (nva.lot_id, n.payer_account) 'K1', nva.lot_id, n.payer_account,
			`+fmt.Sprintf(k1Detail, "n.payer_account", `(SELECT string_agg(DISTINCT b.name, '、') FROM inflows o
				JOIN virtual_accounts ova ON ova.id = o.virtual_account_id JOIN bidders b ON b.account_id = ova.bidder_id
				WHERE o.payer_account = n.payer_account AND o.virtual_account_id IS NOT NULL AND ova.lot_id = nva.lot_id)`)+`, ?
		FROM inflows n JOIN virtual_accounts nva ON nva.id = n.virtual_account_id
		WHERE n.`+idRange+` AND EXISTS (
			-- The payer's few payments first (OFFSET 0 keeps this through
			-- the payer index), not every payment of the lot.
			SELECT 1 FROM (SELECT o.virtual_account_id FROM inflows o
				WHERE o.payer_account = n.payer_account AND o.virtual_account_id IS NOT NULL OFFSET 0) o
			JOIN virtual_accounts ova ON ova.id = o.virtual_account_id
			WHERE ova.lot_id = nva.lot_id AND ova.bidder_id <> nva.bidder_id)
		ON CONFLICT (kind, lot_id, payer_account) WHERE kind = 'K1' DO NOTHING`, now)
}

// transactRetryingDuplicates is trading.Transact, run again (up to 5
// times) when a concurrent batch booked one of the same bank transactions
// first: the retry sees it and books only the rest.
func transactRetryingDuplicates(ctx context.Context, db *gorm.DB, fn func(tx *gorm.DB) error) error {
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		if err = trading.Transact(ctx, db, fn); !trading.IsUniqueViolation(err, "inflows_bank_txn_id_key") {
			return err
		}
	}
	return err
}

// k1SweepOverlap is how far below the last sweep's highest id a sweep
// starts again: ids are handed out at insert, so a batch that committed
// late (a long statement) may hold ids below ones already swept.
const k1SweepOverlap = 20000

// SweepK1 runs the K1 check over the inflows booked since the last sweep
// (and an overlap before it). Each batch checks its own payments inside its
// transaction, which cannot see a batch committing at the same moment; the
// sweep, after both have committed, sees the pair. It returns the alerts
// raised.
func (s *Service) SweepK1(ctx context.Context) (int, error) {
	var top int64
	if err := s.DB.WithContext(ctx).Raw("SELECT coalesce(max(id), 0) FROM inflows").Scan(&top).Error; err != nil {
		return 0, err
	}
	s.k1Mu.Lock()
	from := max(s.k1Swept-k1SweepOverlap, 0)
	s.k1Mu.Unlock()
	if top <= from {
		return 0, nil
	}
	var raised int64
	err := trading.Transact(ctx, s.DB, func(tx *gorm.DB) error {
		res := checkK1(tx, int(top-from), from, top, "", s.now())
		if res.Error != nil || res.RowsAffected == 0 {
			return res.Error
		}
		raised = res.RowsAffected
		return notifyK1(tx, s.now())
	})
	if err != nil {
		return 0, err
	}
	s.k1Mu.Lock()
	s.k1Swept = max(s.k1Swept, top)
	s.k1Mu.Unlock()
	return int(raised), nil
}

// RunK1Sweeper sweeps every interval until ctx ends (started by serve).
func (s *Service) RunK1Sweeper(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if n, err := s.SweepK1(ctx); err != nil && ctx.Err() == nil {
			s.Log.Error("K1 sweep", "err", err)
		} else if n > 0 {
			s.Log.Info("K1 sweep raised alerts", "alerts", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// VerifySignature checks the bank's HMAC-SHA256 over the raw body (hex).
func (s *Service) VerifySignature(body []byte, signature string) bool {
	if len(s.WebhookSecret) == 0 {
		return false // no secret configured: nothing is accepted
	}
	want, err := hex.DecodeString(strings.TrimPrefix(strings.TrimSpace(signature), "sha256="))
	if err != nil {
		return false
	}
	mac := hmac.New(sha256.New, s.WebhookSecret)
	mac.Write(body)
	return hmac.Equal(mac.Sum(nil), want)
}
