package trading

import (
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/ggzy/ggzy/trading/rules"
)

// Category is one of the four kinds of trading (交易类别); the rule book
// owns the list.
type Category = rules.Category

// Categories returns the four categories in display order (a fresh slice).
func Categories() []Category { return slices.Clone(rules.Categories) }

// ProjectStatus is where a project stands as a whole.
type ProjectStatus string

const (
	ProjectDraft      ProjectStatus = "draft"      // no announcement published yet: lots freely editable
	ProjectActive     ProjectStatus = "active"     // an announcement is out: changes only by amendment
	ProjectTerminated ProjectStatus = "terminated" // 终止
)

// Name is the Chinese name of the status.
func (s ProjectStatus) Name() string {
	return Label(LabelProjectStatus, string(s))
}

// Region is an administrative region (行政区划).
type Region struct {
	Code string `gorm:"column:code;primaryKey" json:"code"`
	Name string `gorm:"column:name" json:"name"`
}

func (Region) TableName() string { return "regions" }

// Project is a transaction of one category (交易项目).
type Project struct {
	ID            int64         `gorm:"column:id;primaryKey"`
	Code          string        `gorm:"column:code"` // 统一交易编码
	Category      Category      `gorm:"column:category"`
	SubType       SubType       `gorm:"column:sub_type"` // 交易子类 (施工, 货物, 挂牌…)
	Title         string        `gorm:"column:title"`
	OwnerName     string        `gorm:"column:owner_name"` // 招标人/采购人/出让人/转让方
	OwnerContact  string        `gorm:"column:owner_contact"`
	RegionCode    string        `gorm:"column:region_code"`
	Region        Region        `gorm:"foreignKey:RegionCode;references:Code"`
	AgentID       int64         `gorm:"column:agent_id"`
	Agent         Account       `gorm:"foreignKey:AgentID"`
	StateFunded   bool          `gorm:"column:state_funded"` // 国有资金占控股或主导地位 (E13)
	Status        ProjectStatus `gorm:"column:status"`
	OpenedAt      *time.Time    `gorm:"column:opened_at"`    // the opening announcement's publication
	SuspendedAt   *time.Time    `gorm:"column:suspended_at"` // 暂停 by a supervisor; nil when running
	SuspendedBy   *int64        `gorm:"column:suspended_by"`
	SuspendReason string        `gorm:"column:suspend_reason"`
	CreatedAt     time.Time     `gorm:"column:created_at"`
	UpdatedAt     time.Time     `gorm:"column:updated_at"`
	Lots          []Lot         `gorm:"foreignKey:ProjectID"`
	// Finished: running, and every lot has its outcome (awarded, sold,
	// failed). Read only, computed by projectColumns.
	Finished bool `gorm:"->;column:finished"`
}

func (Project) TableName() string { return "projects" }

// ProjectCompleted is the status people read of a finished project; the
// column keeps "active" (only the lists filter on it).
const ProjectCompleted ProjectStatus = "completed"

// StatusName is the status people read: 已完成 for a finished project.
func (p Project) StatusName() string {
	if p.Status == ProjectActive && p.Finished {
		return Label(LabelProjectStatus, string(ProjectCompleted))
	}
	return p.Status.Name()
}

// projectFinished is true when a running project has lots and each of them
// has an outcome.
const projectFinished = `(projects.status = 'active' AND EXISTS (SELECT 1 FROM lots fl WHERE fl.project_id = projects.id)
	AND NOT EXISTS (SELECT 1 FROM lots fl WHERE fl.project_id = projects.id
		AND NOT EXISTS (SELECT 1 FROM lot_outcomes fo WHERE fo.lot_id = fl.id)))`

// projectColumns selects a project with its Finished flag.
const projectColumns = "projects.*, " + projectFinished + " AS finished"

// ErrSuspended is the refusal of anything a suspended project stops.
var ErrSuspended = errors.New("项目已暂停")

// CheckRunning refuses registration, uploads and results while a
// supervisor has the project suspended (暂停), saying why.
func (p *Project) CheckRunning() error {
	if p.SuspendedAt == nil {
		return nil
	}
	return Conflict("project", "项目 %s 已被交易中心暂停：%s。恢复前不能报名、上传文件、录入结果或发布公告", p.Code, strings.TrimRight(strings.TrimSpace(p.SuspendReason), "。.；;，, ")).
		WithCode("suspended").Wrapping(ErrSuspended)
}

// Lot is a 标段/包/地块/标的: money of its category and its schedule.
// Nil money and nil times are "not set".
type Lot struct {
	ID               int64            `gorm:"column:id;primaryKey"`
	ProjectID        int64            `gorm:"column:project_id"`
	Seq              int              `gorm:"column:seq"`
	Name             string           `gorm:"column:name"`
	ControlPrice     *decimal.Decimal `gorm:"column:control_price;type:numeric(18,2)"`
	EstimatedPrice   *decimal.Decimal `gorm:"column:estimated_price;type:numeric(18,2)"`
	Budget           *decimal.Decimal `gorm:"column:budget;type:numeric(18,2)"`
	StartingPrice    *decimal.Decimal `gorm:"column:starting_price;type:numeric(18,2)"`
	ReservePrice     *decimal.Decimal `gorm:"column:reserve_price;type:numeric(18,2)"` // 底价: secret (agent and supervisors only)
	Increment        *decimal.Decimal `gorm:"column:increment;type:numeric(18,2)"`
	ListingPrice     *decimal.Decimal `gorm:"column:listing_price;type:numeric(18,2)"`
	AppraisedValue   *decimal.Decimal `gorm:"column:appraised_value;type:numeric(18,2)"`
	Deposit          decimal.Decimal  `gorm:"column:deposit;type:numeric(18,2)"`
	DocIssueStart    *time.Time       `gorm:"column:doc_issue_start"`
	DocIssueEnd      *time.Time       `gorm:"column:doc_issue_end"`
	RegistrationEnd  *time.Time       `gorm:"column:registration_end"`
	BidDeadline      *time.Time       `gorm:"column:bid_deadline"` // = opening time (E6)
	ListingStart     *time.Time       `gorm:"column:listing_start"`
	ListingEnd       *time.Time       `gorm:"column:listing_end"`
	AuctionAt        *time.Time       `gorm:"column:auction_at"`
	OpeningPlace     string           `gorm:"column:opening_place"`
	Prequalification bool             `gorm:"column:prequalification"`
	SurveyDesign     bool             `gorm:"column:survey_design"`
	Relisting        bool             `gorm:"column:relisting"`
	ListingApproved  bool             `gorm:"column:listing_approved"`
	// Online bidding (bidding/auction, migration 00017): the mode chosen at
	// creation, the L15 price cap and whether quotes go in whole increments.
	BiddingMode       string           `gorm:"column:bidding_mode"`
	PriceCap          *decimal.Decimal `gorm:"column:price_cap;type:numeric(18,2)"`
	IncrementMultiple bool             `gorm:"column:increment_multiple"`
	// After the bidding (migration 00026): 资格后审 and what a failed check
	// leads to ('next' bidder or 'no_sale'; '' = 资格前审), and the holder of
	// a priority right (P7, property: its credit code or resident id).
	PostQualification string `gorm:"column:post_qualification"`
	PriorityHolder    string `gorm:"column:priority_holder"`
}

func (Lot) TableName() string { return "lots" }

// RuleLot is the lot as the rule book sees it.
func (l *Lot) RuleLot(category Category) rules.Lot {
	d := func(p *decimal.Decimal) decimal.Decimal {
		if p == nil {
			return decimal.Zero
		}
		return *p
	}
	t := func(p *time.Time) time.Time {
		if p == nil {
			return time.Time{}
		}
		return *p
	}
	return rules.Lot{Category: category,
		ControlPrice: d(l.ControlPrice), EstimatedPrice: d(l.EstimatedPrice), Budget: d(l.Budget),
		StartingPrice: d(l.StartingPrice), ReservePrice: d(l.ReservePrice), Increment: d(l.Increment),
		ListingPrice: d(l.ListingPrice), AppraisedValue: d(l.AppraisedValue), Deposit: l.Deposit,
		DocIssueStart: t(l.DocIssueStart), DocIssueEnd: t(l.DocIssueEnd), RegistrationEnd: t(l.RegistrationEnd),
		BidDeadline: t(l.BidDeadline), ListingStart: t(l.ListingStart), ListingEnd: t(l.ListingEnd), AuctionAt: t(l.AuctionAt),
		Prequalification: l.Prequalification, SurveyDesign: l.SurveyDesign, Relisting: l.Relisting, ListingApproved: l.ListingApproved,
		BiddingMode: l.BiddingMode, PriceCap: d(l.PriceCap), PostQualification: l.PostQualification, PriorityHolder: l.PriorityHolder,
	}
}

// PublicLot is a lot as anyone may see it: everything but the reserve
// price (底价), which only the project's agent and supervisors see (E17).
type PublicLot struct {
	ID              int64            `json:"id"`
	Seq             int              `json:"seq"`
	Name            string           `json:"name"`
	ControlPrice    *decimal.Decimal `json:"control_price,omitempty"`
	EstimatedPrice  *decimal.Decimal `json:"estimated_price,omitempty"`
	Budget          *decimal.Decimal `json:"budget,omitempty"`
	StartingPrice   *decimal.Decimal `json:"starting_price,omitempty"`
	Increment       *decimal.Decimal `json:"increment,omitempty"`
	ListingPrice    *decimal.Decimal `json:"listing_price,omitempty"`
	AppraisedValue  *decimal.Decimal `json:"appraised_value,omitempty"`
	Deposit         decimal.Decimal  `json:"deposit"`
	DocIssueStart   *time.Time       `json:"doc_issue_start,omitempty"`
	DocIssueEnd     *time.Time       `json:"doc_issue_end,omitempty"`
	RegistrationEnd *time.Time       `json:"registration_end,omitempty"`
	BidDeadline     *time.Time       `json:"bid_deadline,omitempty"`
	ListingStart    *time.Time       `json:"listing_start,omitempty"`
	ListingEnd      *time.Time       `json:"listing_end,omitempty"`
	AuctionAt       *time.Time       `json:"auction_at,omitempty"`
	OpeningPlace    string           `json:"opening_place,omitempty"`
	// Online bidding (issue 15): the mode, the cap, whole increments.
	BiddingMode       string           `json:"bidding_mode,omitempty"`
	PriceCap          *decimal.Decimal `json:"price_cap,omitempty"`
	IncrementMultiple bool             `json:"increment_multiple,omitempty"`
	// 资格后审 and its fallback; whether a priority right is declared (P7:
	// the announcement says so; who holds it is not published here).
	PostQualification string `json:"post_qualification,omitempty"`
	PriorityRight     bool   `json:"priority_right,omitempty"`
}

// PostQualName says in Chinese how the lot checks qualification.
func (l PublicLot) PostQualName() string { return rules.PostQualName(l.PostQualification) }

// ModeName is the Chinese name of the lot's bidding mode ("" if none).
func (l PublicLot) ModeName() string { return rules.ModeName(l.BiddingMode) }

// Online tells a lot bid on the platform (bidding/auction's pages).
func (l PublicLot) Online() bool { return rules.Online(l.BiddingMode) }

// Public drops the secret fields.
func (l *Lot) Public() PublicLot {
	return PublicLot{ID: l.ID, Seq: l.Seq, Name: l.Name, ControlPrice: l.ControlPrice, EstimatedPrice: l.EstimatedPrice,
		Budget: l.Budget, StartingPrice: l.StartingPrice, Increment: l.Increment, ListingPrice: l.ListingPrice,
		AppraisedValue: l.AppraisedValue, Deposit: l.Deposit, DocIssueStart: l.DocIssueStart, DocIssueEnd: l.DocIssueEnd,
		RegistrationEnd: l.RegistrationEnd, BidDeadline: l.BidDeadline, ListingStart: l.ListingStart,
		ListingEnd: l.ListingEnd, AuctionAt: l.AuctionAt, OpeningPlace: l.OpeningPlace,
		BiddingMode: l.BiddingMode, PriceCap: l.PriceCap, IncrementMultiple: l.IncrementMultiple,
		PostQualification: l.PostQualification, PriorityRight: l.PriorityHolder != ""}
}

// PublicProject is a project as anyone may see it.
type PublicProject struct {
	Code       string   `json:"code"`
	Category   Category `json:"category"`
	SubType    SubType  `json:"sub_type"`
	Title      string   `json:"title"`
	OwnerName  string   `json:"owner_name"`
	RegionCode string   `json:"region_code"`
	RegionName string   `json:"region_name"`
	AgentName  string   `json:"agent_name"`
	Status     string   `json:"status"`
	// A suspension (暂停) is public, with its reason: bidders must know why
	// they cannot register or upload.
	SuspendedAt   *time.Time  `json:"suspended_at,omitempty"`
	SuspendReason string      `json:"suspend_reason,omitempty"`
	Lots          []PublicLot `json:"lots"`
}

// SubTypeName is the Chinese name of the project's sub-type.
func (p PublicProject) SubTypeName() string { return p.SubType.Name() }

// Public drops the secret fields of every lot.
func (p *Project) Public() PublicProject {
	out := PublicProject{Code: p.Code, Category: p.Category, SubType: p.SubType, Title: p.Title, OwnerName: p.OwnerName,
		RegionCode: p.RegionCode, RegionName: p.Region.Name, AgentName: p.Agent.DisplayName, Status: string(p.Status),
		SuspendedAt: p.SuspendedAt, SuspendReason: p.SuspendReason}
	for i := range p.Lots {
		out.Lots = append(out.Lots, p.Lots[i].Public())
	}
	return out
}

// The four categories, so that no code spells their values.
const (
	Engineering = rules.Engineering // 工程建设招标
	Procurement = rules.Procurement // 政府采购
	Land        = rules.Land        // 土地矿权出让
	Property    = rules.Property    // 国有产权交易
)
