package bidding

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/ggzy/ggzy/bidding/sealed"
	"github.com/ggzy/ggzy/trading"
)

// Service is registration and tender documents.
type Service struct {
	DB      *gorm.DB
	Clock   trading.Clock
	Trading *trading.Service
	Storage *trading.Storage
	Log     *slog.Logger
	// MaxUpload bounds one uploaded file (default 500 MB), a sealed bid
	// file too.
	MaxUpload int64
	// Receipts signs sealed bids' receipts (EB3); cmd/ggzy loads it from
	// GGZY_RECEIPT_KEYRING.
	Receipts *sealed.Keyring
	// OnRegister runs inside the transaction of a new or revived
	// registration: how deposits opens its virtual account without bidding
	// importing it. An error rolls the registration back.
	OnRegister []RegisterHook
	// OnWithdraw runs inside the transaction of a withdrawal (D6 refunds).
	OnWithdraw []func(ctx context.Context, tx *gorm.DB, reg *Registration, p *trading.Project, lot *trading.Lot) error
	// OnResult runs inside the transaction of a result event (failure,
	// award, contract, sale): deposits refunds and converts on it.
	OnResult []func(ctx context.Context, tx *gorm.DB, ev ResultEvent) error
	// DepositCovered tells whether a registration's deposit is paid or
	// guaranteed (deposits provides it): a land or property buyer must be.
	DepositCovered func(ctx context.Context, tx *gorm.DB, registrationID int64) (bool, string, error)
	// DepositStates says where each live registration's deposit of a lot
	// stands, and any K1 alert on it (deposits provides it), for the
	// opening-record form; nil: not shown.
	DepositStates func(ctx context.Context, tx *gorm.DB, lotID int64) (map[int64]DepositState, error)
	// Waiting lists what waits on a bidder elsewhere (unpaid deposits,
	// rejected guarantees) for "my projects".
	Waiting []WaitingSource
	// PrintLetter prints a 中标通知书, 中标结果通知书 or 成交确认书 to PDF
	// (cmd/ggzy: the letter page through Chromium); nil: not offered.
	PrintLetter LetterPrinter

	lots  lotCache   // lots as registerAtOnce last read them
	batch regBatcher // first registrations written together
	// readBacks counts sealed parts inspected by reading the joined
	// envelope back (submission_inspect.go), for the tests.
	readBacks atomic.Int64
}

// RegisterHook is work done in the transaction of new registrations to a
// lot it Applies to (deposits opens the virtual accounts of a lot that asks
// for a deposit). Run is given the registrations written together: one,
// or under a burst those of one statement (batch.go).
type RegisterHook struct {
	Applies func(p *trading.Project, lot *trading.Lot) bool
	Run     func(ctx context.Context, tx *gorm.DB, regs []Registered) error
}

// Registered is a registration just written, with the lot and project it
// was admitted on and its window.
type Registered struct {
	Reg *Registration
	P   *trading.Project
	Lot *trading.Lot
	W   Window
}

// DefaultMaxUpload is the size limit of one document.
const DefaultMaxUpload = 500 << 20

// NewService builds registration on the trading service (whose clock it
// shares) and the object store. It touches neither: platform.Wire attaches
// its hooks (publication, announcement checks, OCDS awards, supervision).
func NewService(ts *trading.Service, st *trading.Storage) *Service {
	s := &Service{DB: ts.DB, Clock: ts.Clock, Trading: ts, Storage: st, Log: ts.Log, MaxUpload: DefaultMaxUpload}
	return s
}

// Errors of registration.
var (
	ErrClosed            = errors.New("registration closed")
	ErrAlreadyRegistered = errors.New("already registered")
)

// lotOf loads a lot and its project (with lots, region, agent).
func lotOf(tx *gorm.DB, lotID int64) (*trading.Project, *trading.Lot, error) {
	var lot trading.Lot
	if err := trading.First(tx, &lot, trading.AnyLot, lotID); err != nil {
		return nil, nil, err
	}
	var p trading.Project
	err := tx.Preload("Region").Preload("Agent").Preload("Lots", func(db *gorm.DB) *gorm.DB { return db.Order("seq") }).
		First(&p, lot.ProjectID).Error
	if err != nil {
		return nil, nil, err
	}
	return &p, &lot, nil
}

// Window is when a lot takes registrations and when bidding closes.
type Window struct {
	Opens    time.Time // documents first obtainable / applications accepted
	Closes   time.Time // last moment to register
	Deadline time.Time // bid deadline, listing end or auction: withdrawal ends, names may be seen
}

func deref(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

func first(ts ...*time.Time) time.Time {
	for _, t := range ts {
		if t != nil {
			return *t
		}
	}
	return time.Time{}
}

// WindowOf derives a lot's registration window from its schedule:
// engineering registers by obtaining the documents during the issue period
// (E2, K5); procurement until the registration or issue end; land and
// property take applications from the announcement until the registration end or
// the close of listing.
func WindowOf(p *trading.Project, lot *trading.Lot, opened time.Time) Window {
	switch p.Category {
	case trading.Engineering:
		return Window{Opens: first(lot.DocIssueStart, &opened), Closes: first(lot.RegistrationEnd, lot.DocIssueEnd, lot.BidDeadline),
			Deadline: deref(lot.BidDeadline)}
	case trading.Procurement:
		return Window{Opens: first(lot.DocIssueStart, &opened), Closes: first(lot.RegistrationEnd, lot.DocIssueEnd, lot.BidDeadline),
			Deadline: deref(lot.BidDeadline)}
	}
	return Window{Opens: opened, Closes: first(lot.RegistrationEnd, lot.ListingEnd, lot.AuctionAt, lot.BidDeadline),
		Deadline: first(lot.AuctionAt, lot.ListingEnd, lot.BidDeadline)}
}

// openedAt is when the project's opening announcement was published (zero: not).
func openedAt(p *trading.Project) time.Time { return deref(p.OpenedAt) }

// lotLite loads a lot and its project without the project's other lots,
// region and agent: what registering and downloading need, in one query.
func lotLite(tx *gorm.DB, lotID int64, keyShare ...clause.Expression) (*trading.Project, *trading.Lot, error) {
	row, err := lotVersioned(tx, lotID, keyShare...)
	if err != nil {
		return nil, nil, err
	}
	return &row.P, &row.Lot, nil
}

// lotRow is a lot and its project as lotLite reads them, with the row
// versions (xmin) they were read at: a later statement that finds the same
// versions sees the same rows.
type lotRow struct {
	trading.Lot
	P        trading.Project `gorm:"embedded;embeddedPrefix:p_"`
	LotXmin  string          `gorm:"column:lot_xmin"`
	ProjXmin string          `gorm:"column:project_xmin"`
}

func lotVersioned(tx *gorm.DB, lotID int64, keyShare ...clause.Expression) (*lotRow, error) {
	var row lotRow
	// Equivalent SQL: SELECT l.*, p.* (prefixed p_) FROM lots l JOIN projects p ON p.id = l.project_id WHERE l.id = ?
	err := trading.Take(tx.Table("lots l").Select(`l.*, p.id AS p_id, p.code AS p_code, p.category AS p_category, p.title AS p_title,
		p.owner_name AS p_owner_name, p.region_code AS p_region_code, p.agent_id AS p_agent_id, p.status AS p_status,
		p.opened_at AS p_opened_at, p.suspended_at AS p_suspended_at, p.suspended_by AS p_suspended_by,
		p.suspend_reason AS p_suspend_reason, l.xmin::text AS lot_xmin, p.xmin::text AS project_xmin`).
		Joins("JOIN projects p ON p.id = l.project_id").Where("l.id = ?", lotID).Clauses(keyShare...), &row, trading.AnyLot)
	if err != nil {
		return nil, err
	}
	return &row, nil
}

// checkOpen refuses registration outside the window, for unpublished or
// terminated projects, with the reason in Chinese.
func checkOpen(p *trading.Project, w Window, opened, now time.Time) error {
	switch {
	case opened.IsZero() || p.Status == trading.ProjectDraft:
		return trading.NotFound(trading.AnyLot) // a draft is not public: it does not exist for bidders
	case p.Status == trading.ProjectTerminated:
		return trading.Conflict("", "该项目已终止，不再接受报名").WithCode("closed").Wrapping(ErrClosed)
	case now.Before(w.Opens):
		return trading.Conflict("", "报名尚未开始，开始时间为 %s", w.Opens.In(trading.Shanghai).Format("2006-01-02 15:04")).WithCode("closed").Wrapping(ErrClosed)
	case !w.Closes.IsZero() && !now.Before(w.Closes):
		return trading.Conflict("", "报名已截止（截止时间 %s）", w.Closes.In(trading.Shanghai).Format("2006-01-02 15:04")).WithCode("closed").Wrapping(ErrClosed)
	}
	return nil
}
