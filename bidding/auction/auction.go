// Package auction is online bidding for land and property (网上挂牌、限时竞价、
// 网络竞价, issue 15): listing quotes, timed bidding with a countdown, online
// auctions, property 多次报价 and sealed 一次报价.
//
// One lot, one row (auction_lots), one lock: every quote, countdown end,
// suspension and settlement of a lot takes its row FOR UPDATE and decides
// with PostgreSQL's ggzy_now() read under the lock (migration 00016), so
// every instance agrees on the order and on the end. A quote's time is when
// the database accepted it (A2, L16).
//
// What happens is written to auction_log in the same transaction: the
// bidding record (竞价记录), published anonymised with the result, stored in
// the object store with its SHA-256 in the audit chain (record.go). Live
// pages follow the lot's topic on trading/live ("auction/<lot id>"), which
// carries bidder codes (竞买号牌), never names.
//
// Hooks (connected in cmd/ggzy/platform.Wire, so this package imports
// neither deposits nor bidding): Qualified (the deposit covers the
// registration, deposits.DepositCovered; with QualifiedByDepositCover a
// quote's first statement reads the same database function, deposit_cover,
// itself), Settle (the deal or no-sale goes through bidding's result path),
// SamePayers (K1 pairs).
package auction

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/shopspring/decimal"

	"github.com/ggzy/ggzy/trading"
	"github.com/ggzy/ggzy/trading/rules"
)

// States of a lot's bidding.
const (
	StateOpen   = "open"   // listing / free-quote / sealed period
	StateTimed  = "timed"  // 限时竞价: countdown
	StateCapped = "capped" // L15: the second criterion, one sealed value each
	// After the bidding, before the deal (migration 00026):
	StateQualifying = "qualifying" // 资格后审: the agent checks the candidate
	StatePriority   = "priority"   // P7: the priority-right holder's window
	StateSuspended  = "suspended"  // L13 中止 (or frozen by a late settlement)
	StateSettled    = "settled"
)

// Lot is a lot's bidding (auction_lots).
type Lot struct {
	LotID             int64            `gorm:"column:lot_id;primaryKey" json:"lot_id"`
	Mode              string           `gorm:"column:mode" json:"mode"`
	State             string           `gorm:"column:state" json:"state"`
	OpensAt           time.Time        `gorm:"column:opens_at" json:"opens_at"`
	ClosesAt          time.Time        `gorm:"column:closes_at" json:"closes_at"`
	LastHourS         int              `gorm:"column:last_hour_s" json:"last_hour_s"`
	CountdownS        int              `gorm:"column:countdown_s" json:"countdown_s"`
	CapPeriodS        int              `gorm:"column:cap_period_s" json:"cap_period_s"`
	CountdownEnd      *time.Time       `gorm:"column:countdown_end" json:"countdown_end,omitempty"`
	StartPrice        decimal.Decimal  `gorm:"column:start_price;type:numeric(18,2)" json:"start_price"`
	Increment         *decimal.Decimal `gorm:"column:increment;type:numeric(18,2)" json:"increment,omitempty"`
	IncrementMultiple bool             `gorm:"column:increment_multiple" json:"increment_multiple"`
	PriceCap          *decimal.Decimal `gorm:"column:price_cap;type:numeric(18,2)" json:"price_cap,omitempty"`
	Highest           *decimal.Decimal `gorm:"column:highest;type:numeric(18,2)" json:"-"`
	HighestReg        *int64           `gorm:"column:highest_reg" json:"-"`
	Quotes            int              `gorm:"column:quotes" json:"quotes"`
	SuspendedAt       *time.Time       `gorm:"column:suspended_at" json:"suspended_at,omitempty"`
	SuspendedState    *string          `gorm:"column:suspended_state" json:"-"`
	SuspendReason     string           `gorm:"column:suspend_reason" json:"suspend_reason,omitempty"`
	SettledAt         *time.Time       `gorm:"column:settled_at" json:"settled_at,omitempty"`
	Outcome           *string          `gorm:"column:outcome" json:"outcome,omitempty"`
	WinnerReg         *int64           `gorm:"column:winner_reg" json:"-"`
	DealPrice         *decimal.Decimal `gorm:"column:deal_price;type:numeric(18,2)" json:"deal_price,omitempty"`
	NoSaleReason      string           `gorm:"column:no_sale_reason" json:"no_sale_reason,omitempty"`
	RecordKey         *string          `gorm:"column:record_key" json:"-"`
	RecordSHA256      *string          `gorm:"column:record_sha256" json:"record_sha256,omitempty"`
	// After the bidding (qualify.go, priority.go): 资格后审 and its fallback
	// ("next", "no_sale"; "" 资格前审), the priority-right holder's id
	// number (P7; never shown) and window, and the candidate buyer while the
	// lot is qualifying or in the priority window.
	PostQualification string           `gorm:"column:post_qualification" json:"post_qualification,omitempty"`
	PriorityHolder    string           `gorm:"column:priority_holder" json:"-"`
	PriorityS         int              `gorm:"column:priority_s" json:"priority_s,omitempty"`
	CandidateReg      *int64           `gorm:"column:candidate_reg" json:"-"`
	CandidatePrice    *decimal.Decimal `gorm:"column:candidate_price;type:numeric(18,2)" json:"candidate_price,omitempty"`
}

func (Lot) TableName() string { return "auction_lots" }

// Sealed tells whether quotes are hidden until the close (一次报价, L15's
// second criterion).
func (l *Lot) Sealed() bool { return l.Mode == rules.ModeSealed || l.State == StateCapped }

// StateName is the Chinese name of the lot's state, as the pages show it.
func (l *Lot) StateName() string {
	return map[string]string{StateOpen: "报价期", StateTimed: "限时竞价", StateCapped: "达到最高限价·第二标准密封报价",
		StateQualifying: "竞价结束·竞得候选人资格后审中", StatePriority: "竞价结束·等待优先购买权人决定（P7）",
		StateSuspended: "已中止", StateSettled: "已结束"}[l.State]
}

// pastBidding tells a lot whose bidding has ended: settled, or waiting for
// the agent's check (资格后审) or the priority-right holder (P7).
func (l *Lot) pastBidding() bool {
	return l.State == StateSettled || l.State == StateQualifying || l.State == StatePriority
}

// Sold tells a lot settled with a buyer.
func (l *Lot) Sold() bool { return l.Outcome != nil && *l.Outcome == "sold" }

// SHA is the published record's SHA-256 ("" before it is published).
func (l *Lot) SHA() string {
	if l.RecordSHA256 == nil {
		return ""
	}
	return *l.RecordSHA256
}

// Bidder is a qualified bidder's code on a lot (竞买号牌).
type Bidder struct {
	RegistrationID int64      `gorm:"column:registration_id;primaryKey"`
	LotID          int64      `gorm:"column:lot_id"`
	Code           string     `gorm:"column:code"`
	WantsTimedAt   *time.Time `gorm:"column:wants_timed_at"`
	CreatedAt      time.Time  `gorm:"column:created_at"`
}

func (Bidder) TableName() string { return "auction_bidders" }

// Quote is an accepted quote; ID is the database's acceptance order (L16).
type Quote struct {
	ID             int64           `gorm:"column:id;primaryKey" json:"id"`
	LotID          int64           `gorm:"column:lot_id" json:"lot_id"`
	RegistrationID int64           `gorm:"column:registration_id" json:"-"`
	Phase          string          `gorm:"column:phase" json:"phase"`
	Amount         decimal.Decimal `gorm:"column:amount;type:numeric(18,2)" json:"amount"`
	At             time.Time       `gorm:"column:at" json:"at"`
	IdemKey        string          `gorm:"column:idem_key" json:"-"`
	IP             string          `gorm:"column:ip" json:"-"`
	Device         string          `gorm:"column:device" json:"-"`
}

func (Quote) TableName() string { return "auction_quotes" }

// Entry is one line of the bidding record (auction_log).
type Entry struct {
	ID      int64            `gorm:"column:id;primaryKey" json:"n"`
	LotID   int64            `gorm:"column:lot_id" json:"-"`
	At      time.Time        `gorm:"column:at" json:"at"`
	Kind    string           `gorm:"column:kind" json:"kind"`
	Code    string           `gorm:"column:code" json:"code,omitempty"`
	Amount  *decimal.Decimal `gorm:"column:amount;type:numeric(18,2)" json:"amount,omitempty"`
	Rule    string           `gorm:"column:rule" json:"rule,omitempty"`
	Detail  string           `gorm:"column:detail" json:"detail,omitempty"`
	IdemKey string           `gorm:"column:idem_key" json:"-"`
	Until   *time.Time       `gorm:"column:until" json:"until,omitempty"`
}

func (Entry) TableName() string { return "auction_log" }

// ErrRefused is wrapped by every refused quote.
var ErrRefused = errors.New("报价被拒绝")

// refusal is a refused quote: a 4xx naming the rule. Only the refusal is
// recorded (auction_log, kind refused), nothing else is written.
func refusal(status int, rule, field, format string, args ...any) *trading.Error {
	code := "quote_refused"
	if status == http.StatusTooManyRequests {
		code = "rate_limited"
	}
	msg := fmt.Sprintf(format, args...)
	var e *trading.Error
	switch status {
	case http.StatusTooManyRequests:
		e = trading.RateLimited(msg)
	case http.StatusUnprocessableEntity:
		e = trading.RuleBroken(rule, field, "%s", msg)
	case http.StatusConflict:
		e = trading.Conflict(field, "%s", msg)
	case http.StatusForbidden:
		e = trading.Forbidden(msg)
	case http.StatusNotFound:
		e = trading.NotFound(msg)
	default:
		e = trading.Invalid(field, "%s", msg)
	}
	e.Field = field
	if rule != "" {
		e.WithRule(rule)
	}
	return e.WithCode(code).Wrapping(ErrRefused)
}

// topic is the lot's public live topic: codes and prices, never names, never
// the reserve; in sealed periods only that a quote arrived.
func topic(lotID int64) string { return fmt.Sprintf("auction/%d", lotID) }

// supTopic is the supervisors' topic of the lot's alerts.
func supTopic(lotID int64) string { return fmt.Sprintf("auction/%d/sup", lotID) }

func yuan(d decimal.Decimal) string { return d.StringFixed(2) }

func fmtTime(t time.Time) string { return t.In(trading.Shanghai).Format("2006-01-02 15:04:05") }
