// Package rules is the rule book of the unified trading rules (统一交易规则):
// given a lot and the moment of an action it returns every rule broken, each
// citing its id from RULES.md (E1, D1, G3, L7, P2 …).
//
// Counting days (RULES.md: 日 = calendar days, 工作日 = working days):
//
//   - "≥ N days from A to B" compares whole calendar dates in Asia/Shanghai:
//     date(B) − date(A) ≥ N, times of day ignored. The day of A is not
//     counted, the day of B is (民法典第二百零一条: 开始的当日不计入). Documents
//     issued on 1 March allow a bid deadline on 21 March (20 days), not on
//     20 March (19 days).
//   - "≥ N working days from A to B" counts the working days d with
//     date(A) < d ≤ date(B) in the working-day calendar, holidays and make-up
//     days (调休) included. Where a year of the calendar is missing the rule
//     is not guessed: a violation with rule "CAL" names the year.
//   - "at least N days before the deadline" (E4, G4) is date(deadline) −
//     date(moment) ≥ N.
package rules

import (
	"errors"
	"fmt"
	"time"

	"github.com/shopspring/decimal"
)

// Category is one of the four kinds of trading (交易类别).
type Category string

const (
	Engineering Category = "engineering" // 工程建设招标
	Procurement Category = "procurement" // 政府采购
	Land        Category = "land"        // 土地矿权出让
	Property    Category = "property"    // 国有产权交易
)

// Categories lists the four categories in display order.
var Categories = []Category{Engineering, Procurement, Land, Property}

// Valid reports whether c is one of the four categories.
func (c Category) Valid() bool {
	switch c {
	case Engineering, Procurement, Land, Property:
		return true
	}
	return false
}

// Name is the Chinese name of the category.
func (c Category) Name() string {
	switch c {
	case Engineering:
		return "工程建设招标"
	case Procurement:
		return "政府采购"
	case Land:
		return "土地矿权出让"
	case Property:
		return "国有产权交易"
	}
	return "未知类别"
}

// LotNoun is what a lot is called in the category: 标段 (engineering), 包
// (procurement), 地块 (land), 标的 (property).
func (c Category) LotNoun() string {
	switch c {
	case Procurement:
		return "包"
	case Land:
		return "地块"
	case Property:
		return "标的"
	}
	return "标段"
}

// BidderRole is what a bidder is called in the category: 投标人
// (engineering), 供应商 (procurement), 竞买人 (land and property).
func (c Category) BidderRole() string {
	switch c {
	case Procurement:
		return "供应商"
	case Land, Property:
		return "竞买人"
	}
	return "投标人"
}

// BuyerRole is what the buyer of a land or property lot is called: 竞得人
// (land, 39号令), 受让方 (property, 32号令); 中标人 otherwise.
func (c Category) BuyerRole() string {
	switch c {
	case Land:
		return "竞得人"
	case Property:
		return "受让方"
	case Procurement:
		return "成交供应商"
	}
	return "中标人"
}

// OwnerRole is what the owner of a project is called in the category:
// 招标人, 采购人, 出让人, 转让方 (32号令 names the seller of state-owned
// property 转让方).
func (c Category) OwnerRole() string {
	switch c {
	case Procurement:
		return "采购人"
	case Land:
		return "出让人"
	case Property:
		return "转让方"
	}
	return "招标人"
}

// Lot is what the rule book needs to know about a lot (标段/包). Money is in
// yuan; a zero amount or a zero time means "not set".
type Lot struct {
	Category Category

	ControlPrice   decimal.Decimal // 招标控制价（最高投标限价）, engineering
	EstimatedPrice decimal.Decimal // 估算价, engineering (D1 base)
	Budget         decimal.Decimal // 预算金额, procurement
	StartingPrice  decimal.Decimal // 起始价, land
	ReservePrice   decimal.Decimal // 底价 (secret), land
	Increment      decimal.Decimal // 加价幅度, land
	ListingPrice   decimal.Decimal // 挂牌价（转让底价）, property
	AppraisedValue decimal.Decimal // 评估值, property
	Deposit        decimal.Decimal // 保证金

	AnnouncementAt  time.Time // 公告发布
	AnnouncementEnd time.Time // 公告期结束 (G2; optional)
	DocIssueStart   time.Time // 招标文件开始发出（发售）
	DocIssueEnd     time.Time // 招标文件停止发出（发售）
	RegistrationEnd time.Time // 报名/资格预审申请/竞买申请截止
	BidDeadline     time.Time // 投标截止 = 开标时间 (E6)
	ListingStart    time.Time // 挂牌（正式披露）开始
	ListingEnd      time.Time // 挂牌（正式披露）截止
	AuctionAt       time.Time // 拍卖会时间

	Prequalification bool // 资格预审 (E3, E4)
	SurveyDesign     bool // 勘察设计招标 (D4 instead of D3)
	Relisting        bool // P2: a new listing after a price cut (重新披露)
	ListingApproved  bool // P2: written approval for a price below 90 % of appraisal

	BiddingMode string          // land/property: listing, auction, multi, sealed, offline (issue 15 §1)
	PriceCap    decimal.Decimal // L15 最高限价 (optional)
	// After the bidding: 资格后审 ('next' or 'no_sale' when the winner
	// fails; '' 资格前审) and the priority-right holder (P7, property).
	PostQualification string
	PriorityHolder    string
}

// Ids of the platform's own checks, beside the ids of RULES.md.
const (
	RuleCalendar = "CAL"  // the working-day calendar lacks a year
	RuleRequired = "REQ"  // a field the category needs is not set
	RuleOrder    = "SEQ"  // a time is before the one it must follow
	RulePast     = "PAST" // a deadline is not after the moment of the action
	RuleAmount   = "AMT"  // an amount is not positive, has > 2 decimals, or is inconsistent
	RuleHoliday  = "HOL"  // a deadline, opening, auction or listing close on a day off: a warning, never a refusal
)

// ProvisionalMark is shown with every rule result that counted working days
// of a year by its provisional calendar (calendar.ProvisionalDays).
const ProvisionalMark = "按暂行日历计算"

// NoteKind tells what a Note is.
type NoteKind string

const (
	// NoteProvisional: a working-day rule held, counted with a provisional
	// year; the official notice, once imported, re-checks it.
	NoteProvisional NoteKind = "provisional"
	// NoteWarning: nothing forbids it, but the agent and supervisor should
	// look (HOL).
	NoteWarning NoteKind = "warning"
)

// Note is what the rule book says without refusing: a rule that held by a
// provisional calendar, or a warning such as HOL.
type Note struct {
	Rule    string   `json:"rule"`
	Kind    NoteKind `json:"kind"`
	Field   string   `json:"field,omitempty"`
	Message string   `json:"message"`
	Source  string   `json:"source,omitempty"`
}

func (n Note) String() string { return n.Rule + " " + n.Message }

// Result is a full check: the violations refuse the action; the notes go
// with it to the agent and the supervisor.
type Result struct {
	Violations []Violation
	Notes      []Note
}

// ErrRuleBroken is wrapped by every Violation, for errors.Is in handlers.
var ErrRuleBroken = errors.New("违反统一交易规则")

// Violation is one rule broken.
type Violation struct {
	Rule        string // "E1", or one of the Rule… constants
	Requirement string // 规则要求, e.g. "自招标文件开始发出之日起至投标截止时间不得少于20日"
	Actual      string // 实际情况, e.g. "实际19日（…）"
	Source      string // e.g. "招标投标法第二十四条"
	Field       string // the lot field concerned, e.g. "bid_deadline"
	// Provisional: counted with a provisional year (ProvisionalMark).
	Provisional bool
}

func (v Violation) Error() string {
	s := fmt.Sprintf("%s %s；%s", v.Rule, v.Requirement, v.Actual)
	if v.Provisional {
		s += "（" + ProvisionalMark + "）"
	}
	if v.Source != "" {
		s += "（" + v.Source + "）"
	}
	return s
}

// Unwrap returns ErrRuleBroken.
func (v Violation) Unwrap() error { return ErrRuleBroken }
