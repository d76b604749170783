package auction

import (
	"context"
	"errors"
	"time"

	"github.com/shopspring/decimal"
	"gorm.io/gorm"

	"github.com/ggzy/ggzy/trading"
	"github.com/ggzy/ggzy/trading/live"
	"github.com/ggzy/ggzy/trading/rules"
)

// PublicQuote is an accepted quote as anyone may see it (not in a sealed
// period): code, amount, the database's time.
type PublicQuote struct {
	Code   string          `json:"code"`
	Amount decimal.Decimal `json:"amount"`
	At     time.Time       `json:"at"`
	Phase  string          `json:"phase"`
}

// View is a lot's bidding as a page shows it. For a bidder: its own code,
// or why it may not quote. Never names, never the reserve.
type View struct {
	Lot          *Lot             `json:"lot"`
	Category     trading.Category `json:"-"` // names the lot on the page: 地块, 标的
	ProjectCode  string           `json:"project_code"`
	ProjectTitle string           `json:"project_title"`
	LotName      string           `json:"lot_name"`
	ModeName     string           `json:"mode_name"`
	Now          time.Time        `json:"now"` // the database's clock
	Seq          int64            `json:"seq"` // the live topic's last event
	Highest      *decimal.Decimal `json:"highest,omitempty"`
	HighestCode  string           `json:"highest_code,omitempty"`
	Next         *decimal.Decimal `json:"next,omitempty"`
	Quotes       []PublicQuote    `json:"quotes"`
	Code         string           `json:"code,omitempty"`    // the viewer's bidder code
	Refusal      string           `json:"refusal,omitempty"` // why the viewer may not quote
	WantsTimed   bool             `json:"wants_timed"`
	CanWantTimed bool             `json:"can_want_timed"`
	Won          bool             `json:"won"`          // 竞得确认: the viewer won
	Candidate    bool             `json:"candidate"`    // the viewer's qualification is being checked (资格后审)
	Holder       bool             `json:"holder"`       // the viewer holds the lot's priority right (P7)
	CanExercise  bool             `json:"can_exercise"` // … and may answer now
	WinnerCode   string           `json:"winner_code,omitempty"`
	Topic        string           `json:"topic"`
}

// View reads a lot's bidding for a (a zero actor: the public).
func (s *Service) View(ctx context.Context, a trading.Actor, lotID int64) (*View, error) {
	v := &View{Topic: topic(lotID)}
	err := trading.Transact(ctx, s.DB, func(tx *gorm.DB) error {
		var l Lot
		if err := tx.First(&l, "lot_id = ?", lotID).Error; err != nil {
			return trading.NotFound("网上竞价标的")
		}
		v.Lot = &l
		var err error
		if v.Seq, err = live.Last(ctx, tx, topic(lotID)); err != nil {
			return err
		}
		if v.Now, err = trading.DBNow(tx); err != nil {
			return err
		}
		var head struct {
			Category trading.Category `gorm:"column:category"`
			Code     string           `gorm:"column:code"`
			Title    string           `gorm:"column:title"`
			Name     string           `gorm:"column:name"`
		}
		if err := tx.Raw(`SELECT p.category, p.code, p.title, l.name FROM lots l JOIN projects p ON p.id = l.project_id WHERE l.id = ?`, lotID).Scan(&head).Error; err != nil {
			return err
		}
		v.Category, v.ProjectCode, v.ProjectTitle, v.LotName, v.ModeName = head.Category, head.Code, head.Title, head.Name, rules.ModeName(l.Mode)
		sealed := l.Sealed() && !l.pastBidding()
		if !sealed && l.Mode != rules.ModeSealed {
			v.Highest, v.HighestCode, v.Next = l.Highest, codeOfRegPtr(tx, l.HighestReg), l.next()
		}
		if !sealed {
			// Equivalent SQL: the lot's quotes with codes, in acceptance order.
			if err := tx.Raw(`SELECT b.code, q.amount, q.at, q.phase FROM auction_quotes q JOIN auction_bidders b ON b.registration_id = q.registration_id
				WHERE q.lot_id = ? ORDER BY q.id`, lotID).Scan(&v.Quotes).Error; err != nil {
				return err
			}
		}
		if l.WinnerReg != nil {
			v.WinnerCode = codeOfReg(tx, *l.WinnerReg)
		}
		if a.Role == trading.RoleBidder {
			b, err := s.bidderOf(ctx, tx, a, &l, v.Now)
			if errors.Is(err, ErrRefused) {
				v.Refusal = trading.AsError(err).Message
				return nil
			} else if err != nil {
				return err
			}
			v.Code, v.WantsTimed = b.Code, b.WantsTimedAt != nil
			v.Won = l.WinnerReg != nil && *l.WinnerReg == b.RegistrationID
			v.Candidate = l.State == StateQualifying && *l.CandidateReg == b.RegistrationID
			if l.PriorityHolder != "" {
				holder, _, _, err := priorityHolderReg(tx, &l)
				if err != nil {
					return err
				}
				v.Holder = holder == b.RegistrationID
				v.CanExercise = v.Holder && l.State == StatePriority && v.Now.Before(*l.CountdownEnd)
			}
			v.CanWantTimed = l.Mode == rules.ModeListing && l.State == StateOpen && v.Now.Before(l.ClosesAt) && !v.WantsTimed
		}
		return nil
	})
	return v, err
}

func codeOfRegPtr(tx *gorm.DB, reg *int64) string {
	if reg == nil {
		return ""
	}
	return codeOfReg(tx, *reg)
}

// bidderOf is the viewer's code: once the bidding is settled, the code it
// had (its deposit may have become part of the price meanwhile, L5);
// before, what qualify says.
func (s *Service) bidderOf(ctx context.Context, tx *gorm.DB, a trading.Actor, l *Lot, now time.Time) (*Bidder, error) {
	if l.State == StateSettled {
		var b Bidder
		err := tx.Raw(`SELECT ab.* FROM auction_bidders ab JOIN registrations r ON r.id = ab.registration_id
			WHERE ab.lot_id = ? AND r.bidder_id = ?`, l.LotID, a.AccountID).Scan(&b).Error
		if err != nil {
			return nil, err
		}
		if b.RegistrationID == 0 {
			return nil, refusal(403, "L8", "registration", "本标的竞价已结束")
		}
		return &b, nil
	}
	return s.qualify(ctx, tx, a, l.LotID, now)
}

// Confirmation is the deal confirmation (成交确认书, L14) of a sold lot, for
// the buyer, the project's agent and supervisors to print.
type Confirmation struct {
	Category     trading.Category // names the lot (地块, 标的) and the seller (出让人, 转让方)
	ProjectCode  string
	ProjectTitle string
	OwnerName    string
	LotName      string
	ModeName     string
	BuyerName    string
	BuyerID      string
	Code         string
	Price        decimal.Decimal
	StartPrice   decimal.Decimal
	SettledAt    time.Time
	RecordSHA256 string
}

// Confirmation returns the deal confirmation; anyone else gets 404.
func (s *Service) Confirmation(ctx context.Context, a trading.Actor, lotID int64) (*Confirmation, error) {
	l, err := s.Get(ctx, lotID)
	if err != nil {
		return nil, err
	}
	if !l.Sold() {
		return nil, trading.NotFound("成交确认书")
	}
	var row struct {
		Category  trading.Category `gorm:"column:category"`
		Code      string           `gorm:"column:code"`
		Title     string           `gorm:"column:title"`
		Owner     string           `gorm:"column:owner_name"`
		AgentID   int64            `gorm:"column:agent_id"`
		LotName   string           `gorm:"column:lot_name"`
		BidderID  int64            `gorm:"column:bidder_id"`
		BuyerName string           `gorm:"column:buyer_name"`
		BuyerID   string           `gorm:"column:buyer_id"`
		BidCode   string           `gorm:"column:bid_code"`
	}
	// Equivalent SQL: the project, the lot and the buyer of the winning registration.
	if err := s.DB.WithContext(ctx).Raw(`SELECT p.category, p.code, p.title, p.owner_name, p.agent_id, l.name AS lot_name, r.bidder_id,
			b.name AS buyer_name, b.id_number AS buyer_id, ab.code AS bid_code
		FROM lots l JOIN projects p ON p.id = l.project_id JOIN registrations r ON r.id = ?
		JOIN bidders b ON b.account_id = r.bidder_id JOIN auction_bidders ab ON ab.registration_id = r.id
		WHERE l.id = ?`, *l.WinnerReg, lotID).Scan(&row).Error; err != nil {
		return nil, err
	}
	allowed := a.Role == trading.RoleSupervisor || (a.Role == trading.RoleAgent && a.AccountID == row.AgentID) ||
		(a.Role == trading.RoleBidder && a.AccountID == row.BidderID)
	if !allowed {
		return nil, trading.NotFound("成交确认书")
	}
	return &Confirmation{Category: row.Category, ProjectCode: row.Code, ProjectTitle: row.Title, OwnerName: row.Owner, LotName: row.LotName,
		ModeName: rules.ModeName(l.Mode), BuyerName: row.BuyerName, BuyerID: row.BuyerID, Code: row.BidCode, Price: *l.DealPrice,
		StartPrice: l.StartPrice, SettledAt: *l.SettledAt, RecordSHA256: l.SHA()}, nil
}
