package auction

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/shopspring/decimal"

	"github.com/ggzy/ggzy/trading"
	"github.com/ggzy/ggzy/trading/rules"
)

// Service runs the online bidding of land and property lots.
type Service struct {
	DB      *gorm.DB
	Trading *trading.Service // the rule book, the clock pages show, announcements
	Storage *trading.Storage // the published bidding records
	Log     *slog.Logger

	// Qualified tells, inside tx, whether a registration may quote: its
	// deposit (or a verified guarantee) covered the amount by the deposit
	// deadline (issue 15 §2; deposits.Service.DepositCovered). reason says
	// how when ok, and why not otherwise.
	Qualified func(ctx context.Context, tx *gorm.DB, registrationID int64) (ok bool, reason string, err error)
	// QualifiedByDepositCover says that Qualified decides by the database's
	// deposit_cover (migration 00034) and nothing else, as DepositCovered
	// does. A quote's first statement (outbid.go) then reads that function
	// itself and admits a covered registration without calling Qualified;
	// Qualified still decides, and words, every refusal. Leave it false when
	// Qualified checks anything more.
	QualifiedByDepositCover bool
	// Settle sends a settled lot through the result path inside the
	// settlement's transaction: the deal (winner's registration and price)
	// or no sale (registration 0), its result announcement submitted for review
	// (bidding.Service.RecordOnlineDeal).
	Settle func(ctx context.Context, tx *gorm.DB, lotID, registrationID int64, price decimal.Decimal, reason, note string) error
	// SamePayers lists the lot's registrations whose deposits came from the
	// same payer account (K1), for the supervisors' live view.
	SamePayers func(ctx context.Context, tx *gorm.DB, lotID int64) ([][2]int64, error)

	refusals refusalLog // refused quotes, recorded in groups (refusals.go)
}

// NewService returns the service; the hooks are set by platform.Wire.
func NewService(ts *trading.Service, st *trading.Storage) *Service {
	return &Service{DB: ts.DB, Trading: ts, Storage: st, Log: ts.Log}
}

func (s *Service) params() *rules.Params { return &s.Trading.Book.Params }

// OpenLots is a trading.Service.OnPublish hook: when the opening announcement of
// a land or property project is published, each of its lots bid online gets
// its bidding row, with the rule book's numbers in force (L11, L12, L15,
// P7) and the lot's own (increment, cap, whole increments).
func (s *Service) OpenLots(ctx context.Context, tx *gorm.DB, n *trading.Announcement, p *trading.Project) error {
	if !n.Type.IsOpening() || (p.Category != rules.Land && p.Category != rules.Property) {
		return nil
	}
	var lots []trading.Lot
	if err := tx.Where("project_id = ?", p.ID).Order("seq").Find(&lots).Error; err != nil {
		return err
	}
	par := s.params()
	now, err := trading.DBNow(tx)
	if err != nil {
		return err
	}
	for i := range lots {
		l := &lots[i]
		if !rules.Online(l.BiddingMode) {
			continue
		}
		start := trading.BaseFor(p.Category, l)
		if start == nil {
			return trading.Invalid("starting_price", "网上竞价的标的须设定起始价（挂牌价）")
		}
		a := Lot{LotID: l.ID, Mode: l.BiddingMode, State: StateOpen, LastHourS: par.L12LastHourSeconds,
			CountdownS: par.L11CountdownSeconds, CapPeriodS: max(par.L15CapPeriodSeconds, 1), StartPrice: *start,
			Increment: l.Increment, IncrementMultiple: l.IncrementMultiple, PriceCap: l.PriceCap,
			PostQualification: l.PostQualification, PriorityHolder: l.PriorityHolder, PriorityS: max(par.P7PrioritySeconds, 1)}
		switch l.BiddingMode {
		case rules.ModeAuction:
			if l.AuctionAt == nil {
				return trading.Invalid("auction_at", "网上拍卖须设定拍卖时间")
			}
			end := l.AuctionAt.Add(time.Duration(a.CountdownS) * time.Second)
			a.OpensAt, a.ClosesAt, a.State, a.CountdownEnd, a.LastHourS = *l.AuctionAt, *l.AuctionAt, StateTimed, &end, 0
		default:
			if l.ListingStart == nil || l.ListingEnd == nil {
				return trading.Invalid("listing_start", "%s须设定挂牌（报价）起止时间", rules.ModeName(l.BiddingMode))
			}
			a.OpensAt, a.ClosesAt = *l.ListingStart, *l.ListingEnd
			if l.BiddingMode != rules.ModeListing {
				a.LastHourS = 0 // L12 is a rule of land listings
			}
			if l.BiddingMode == rules.ModeMulti {
				a.CountdownS = par.P7CountdownSeconds
			}
		}
		if a.CountdownS <= 0 {
			a.CountdownS = 240
		}
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&a)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			continue
		}
		if err := logEntry(tx, &Entry{LotID: l.ID, At: now, Kind: "opened", Amount: &a.StartPrice,
			Detail: fmt.Sprintf("%s；报价期 %s 至 %s", rules.ModeName(a.Mode), fmtTime(a.OpensAt), fmtTime(a.ClosesAt))}); err != nil {
			return err
		}
	}
	return nil
}

func logEntry(tx *gorm.DB, e *Entry) error { return tx.Create(e).Error }

// lock takes the lot's bidding row FOR NO KEY UPDATE: every decision about
// the lot queues here. (Not FOR UPDATE: a first quote's new bidder code
// holds a KEY SHARE lock on the row through its foreign key, which FOR
// UPDATE would wait for, and two such quotes would deadlock.)
func lock(tx *gorm.DB, lotID int64) (*Lot, error) {
	var l Lot
	if err := trading.First(tx.Clauses(clause.Locking{Strength: "NO KEY UPDATE"}), &l, "网上竞价标的", "lot_id = ?", lotID); err != nil {
		return nil, err
	}
	return &l, nil
}

// Get reads a lot's bidding (no lock).
func (s *Service) Get(ctx context.Context, lotID int64) (*Lot, error) {
	var l Lot
	if err := trading.First(s.DB.WithContext(ctx), &l, "网上竞价标的", "lot_id = ?", lotID); err != nil {
		return nil, err
	}
	return &l, nil
}

// registered is a bidder's latest registration on a lot as qualify needs
// it: its status, whether the lot uses post-qualification, and the
// bidder's code on the lot if it has one.
type registered struct {
	ID           *int64     `gorm:"column:id"`
	Status       *string    `gorm:"column:status"`
	Post         string     `gorm:"column:post_qualification"`
	Code         *string    `gorm:"column:code"`
	WantsTimedAt *time.Time `gorm:"column:wants_timed_at"`
	CodeAt       *time.Time `gorm:"column:code_at"`
	// Covered is true when the statement that read the registration read
	// deposit_cover too and it said covered: with QualifiedByDepositCover,
	// admit then needs no round trip of its own for the deposit (false:
	// Qualified decides). Only beforeLock reads it; the locked path's
	// qualify (for a registration beforeLock did not admit) calls
	// Qualified.
	Covered bool `gorm:"-"`
}

// registrationOf reads it in one query.
func registrationOf(tx *gorm.DB, lotID, bidderID int64) (*registered, error) {
	var row registered
	// Equivalent SQL: the lot, with the bidder's latest registration and its code if any.
	err := tx.Raw(`SELECT r.id, r.status, COALESCE(al.post_qualification, '') AS post_qualification,
			ab.code, ab.wants_timed_at, ab.created_at AS code_at
		FROM lots l
		LEFT JOIN auction_lots al ON al.lot_id = l.id
		LEFT JOIN LATERAL (SELECT id, status FROM registrations WHERE lot_id = l.id AND bidder_id = ? ORDER BY id DESC LIMIT 1) r ON true
		LEFT JOIN auction_bidders ab ON ab.registration_id = r.id
		WHERE l.id = ?`, bidderID, lotID).Scan(&row).Error
	return &row, err
}

// qualify says whether the actor may quote on the lot (issue 15 §2) and
// gives it its code, created on first use (at now, or the database's time
// when now is zero). The refusal names the reason.
func (s *Service) qualify(ctx context.Context, tx *gorm.DB, a trading.Actor, lotID int64, now time.Time) (*Bidder, error) {
	if err := mayQuote(a); err != nil {
		return nil, err
	}
	reg, err := registrationOf(tx, lotID, a.AccountID)
	if err != nil {
		return nil, err
	}
	regID, err := s.admit(ctx, tx, reg)
	if err != nil {
		return nil, err
	}
	if reg.Code != nil {
		return &Bidder{RegistrationID: regID, LotID: lotID, Code: *reg.Code, WantsTimedAt: reg.WantsTimedAt, CreatedAt: *reg.CodeAt}, nil
	}
	if now.IsZero() {
		if now, err = trading.DBNow(tx); err != nil {
			return nil, err
		}
	}
	return ensureBidder(tx, lotID, regID, now)
}

// mayQuote refuses anyone but a bidder (A1: neither the auctioneer nor the
// consignor may bid).
func mayQuote(a trading.Actor) error {
	switch a.Role {
	case trading.RoleBidder:
		return nil
	case trading.RoleAgent:
		return refusal(http.StatusForbidden, "A1", "actor", "代理机构（拍卖人、出让人）不得报价（A1）")
	default:
		return refusal(http.StatusForbidden, "A1", "actor", "只有竞买人可以报价")
	}
}

// admit applies the rest of who may quote to the bidder's registration on
// the lot: an approved application (or, under 资格后审, a pending one) and
// a deposit that covered the amount by its deadline. It returns the
// registration's id.
func (s *Service) admit(ctx context.Context, tx *gorm.DB, reg *registered) (int64, error) {
	var regID int64
	var status string
	if reg.ID != nil {
		regID, status = *reg.ID, *reg.Status
	}
	if reg.Post != "" && status == "pending" {
		// 资格后审: the deposit alone admits; the agent checks the winner's
		// qualification after the bidding (qualify.go) and has not reviewed
		// the applications, so nobody but supervisors knows who bids.
		status = "approved"
	}
	if regID == 0 || (status != "approved" && status != "active") {
		return 0, refusal(http.StatusForbidden, "L8", "registration", "只有竞买申请已审核通过并足额交纳保证金的竞买人可以报价（您的竞买申请：%s）", regStatusName(status))
	}
	if s.Qualified != nil && !(reg.Covered && s.QualifiedByDepositCover) {
		ok, why, err := s.Qualified(ctx, tx, regID)
		if err != nil {
			return 0, err
		}
		if !ok {
			// Covered by its deadline, not now: money arriving late does not
			// qualify (issue 15 §2).
			msg := "竞买保证金未在缴纳截止时间前足额到账（也无截止前提交并已核验的保函），不能报价"
			if why != "" {
				msg += "：" + why
			}
			return 0, refusal(http.StatusForbidden, "L7", "deposit", "%s", msg)
		}
	}
	return regID, nil
}

func regStatusName(s string) string {
	return map[string]string{"": "未提交", "pending": "待审核", "rejected": "未通过", "withdrawn": "已撤回"}[s]
}

// ensureBidder gives a registration its random 6-digit code on the lot,
// once: codes are drawn until one is free on the lot.
func ensureBidder(tx *gorm.DB, lotID, regID int64, now time.Time) (*Bidder, error) {
	for i := 0; i < 20; i++ {
		var b Bidder
		if err := tx.Where("registration_id = ?", regID).Limit(1).Find(&b).Error; err != nil {
			return nil, err
		}
		if b.RegistrationID != 0 {
			return &b, nil
		}
		n, err := rand.Int(rand.Reader, big.NewInt(900000))
		if err != nil {
			return nil, err
		}
		b = Bidder{RegistrationID: regID, LotID: lotID, Code: fmt.Sprintf("%06d", 100000+n.Int64()), CreatedAt: now}
		// No target: a taken code and a concurrent first visit both do nothing.
		if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&b).Error; err != nil {
			return nil, err
		}
	}
	return nil, fmt.Errorf("auction: no free bidder code on lot %d", lotID)
}

// countSQL counts a quote in its bidder's row for the lot and the current
// second of ggzy_now() (auction_quote_rate, migration 00026) and returns
// the count (args: lot, bidder, key, L8.max_quotes_per_second), to be
// held against L8.max_quotes_per_second (0: no limit). The row is shared
// by every instance, so the limit holds however the bidder's requests are
// spread. beforeLock runs it in its autocommitted statement, before the
// quote's transaction: a quote refused later by a rule still counts, and
// concurrent quotes cannot both see the same count. A repeat of a quote
// already accepted (a double click) is never over: the database answers
// it once. Equivalent SQL: one more quote in this second, unless its key
// was counted already; keys are kept only within the limit.
const countSQL = `INSERT INTO auction_quote_rate AS r (lot_id, bidder_id, sec, n, keys)
		VALUES (?, ?, date_trunc('second', ggzy_now()), 1, ARRAY[?::text])
		ON CONFLICT (lot_id, bidder_id, sec) DO UPDATE SET
			n = r.n + CASE WHEN EXCLUDED.keys[1] = ANY (r.keys) THEN 0 ELSE 1 END,
			keys = CASE WHEN EXCLUDED.keys[1] = ANY (r.keys) OR r.n >= ? THEN r.keys ELSE r.keys || EXCLUDED.keys[1] END
		RETURNING r.n`

// PruneRate forgets the quote counts of seconds more than a minute past.
func (s *Service) PruneRate(ctx context.Context) error {
	return s.DB.WithContext(ctx).Exec(`DELETE FROM auction_quote_rate WHERE sec < ggzy_now() - interval '1 minute'`).Error
}
