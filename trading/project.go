package trading

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/shopspring/decimal"

	"github.com/ggzy/ggzy/trading/rules"
)

// Category is one of the four kinds of trading (交易类别); the rule book
// owns the list.
type Category = rules.Category

// ProjectStatus is where a project stands as a whole.
type ProjectStatus string

const (
	ProjectDraft      ProjectStatus = "draft"      // no notice published yet: lots freely editable
	ProjectActive     ProjectStatus = "active"     // a notice is out: changes only by amendment
	ProjectTerminated ProjectStatus = "terminated" // 终止
)

// Name is the Chinese name of the status.
func (s ProjectStatus) Name() string {
	return map[ProjectStatus]string{ProjectDraft: "草稿", ProjectActive: "进行中", ProjectTerminated: "已终止"}[s]
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
	Title         string        `gorm:"column:title"`
	OwnerName     string        `gorm:"column:owner_name"` // 招标人/采购人/出让人/转让方
	OwnerContact  string        `gorm:"column:owner_contact"`
	RegionCode    string        `gorm:"column:region_code"`
	Region        Region        `gorm:"foreignKey:RegionCode;references:Code"`
	AgentID       int64         `gorm:"column:agent_id"`
	Agent         Account       `gorm:"foreignKey:AgentID"`
	StateFunded   bool          `gorm:"column:state_funded"` // 国有资金占控股或主导地位 (E13)
	Status        ProjectStatus `gorm:"column:status"`
	OpenedAt      *time.Time    `gorm:"column:opened_at"`    // the opening notice's publication
	SuspendedAt   *time.Time    `gorm:"column:suspended_at"` // 暂停 by a supervisor; nil when running
	SuspendedBy   *int64        `gorm:"column:suspended_by"`
	SuspendReason string        `gorm:"column:suspend_reason"`
	CreatedAt     time.Time     `gorm:"column:created_at"`
	UpdatedAt     time.Time     `gorm:"column:updated_at"`
	Lots          []Lot         `gorm:"foreignKey:ProjectID"`
}

func (Project) TableName() string { return "projects" }

// ErrSuspended is the refusal of anything a suspended project stops.
var ErrSuspended = errors.New("项目已暂停")

// CheckRunning refuses registration, uploads and results while a
// supervisor has the project suspended (暂停), saying why.
func (p *Project) CheckRunning() error {
	if p.SuspendedAt == nil {
		return nil
	}
	return &Error{Status: http.StatusConflict, Code: "suspended", Field: "project",
		Message: fmt.Sprintf("项目 %s 已被交易中心暂停：%s。恢复前不能报名、上传文件、录入结果或发布公告", p.Code, p.SuspendReason),
		Err:     ErrSuspended}
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
}

func (Lot) TableName() string { return "lots" }

// AnnouncementType is the kind of notice (公告类型).
type AnnouncementType string

const (
	NoticeTender      AnnouncementType = "tender"      // 招标公告
	NoticeProcurement AnnouncementType = "procurement" // 采购公告
	NoticeTransfer    AnnouncementType = "transfer"    // 出让公告
	NoticeListing     AnnouncementType = "listing"     // 挂牌公告
	NoticeAmendment   AnnouncementType = "amendment"   // 变更公告/澄清
	NoticeCandidates  AnnouncementType = "candidates"  // 中标候选人公示
	NoticeResult      AnnouncementType = "result"      // 中标/成交结果公告
	NoticeTermination AnnouncementType = "termination" // 终止公告
)

// AnnouncementTypes in display order.
var AnnouncementTypes = []AnnouncementType{NoticeTender, NoticeProcurement, NoticeTransfer, NoticeListing,
	NoticeAmendment, NoticeCandidates, NoticeResult, NoticeTermination}

// Name is the Chinese name of the type.
func (t AnnouncementType) Name() string {
	return map[AnnouncementType]string{
		NoticeTender: "招标公告", NoticeProcurement: "采购公告", NoticeTransfer: "出让公告", NoticeListing: "挂牌公告",
		NoticeAmendment: "变更公告", NoticeCandidates: "中标候选人公示", NoticeResult: "结果公告", NoticeTermination: "终止公告",
	}[t]
}

// Valid reports whether t is a known type.
func (t AnnouncementType) Valid() bool { return t.Name() != "" }

// IsOpening tells the first notice of a transaction (it starts the schedule).
func (t AnnouncementType) IsOpening() bool {
	return t == NoticeTender || t == NoticeProcurement || t == NoticeTransfer || t == NoticeListing
}

// AnnouncementStatus is where a notice is in the review workflow.
type AnnouncementStatus string

const (
	NoticeDraft     AnnouncementStatus = "draft"
	NoticeSubmitted AnnouncementStatus = "submitted" // waiting for a supervisor
	NoticeScheduled AnnouncementStatus = "scheduled" // approved, publishes at PublishAt
	NoticePublished AnnouncementStatus = "published" // immutable
	NoticeRejected  AnnouncementStatus = "rejected"  // back to the agent with a reason
)

// Name is the Chinese name of the status.
func (s AnnouncementStatus) Name() string {
	return map[AnnouncementStatus]string{NoticeDraft: "草稿", NoticeSubmitted: "待审核", NoticeScheduled: "已批准待发布",
		NoticePublished: "已发布", NoticeRejected: "已退回"}[s]
}

// Announcement is a notice (公告).
type Announcement struct {
	ID           int64              `gorm:"column:id;primaryKey"`
	ProjectID    int64              `gorm:"column:project_id"`
	Project      *Project           `gorm:"foreignKey:ProjectID"`
	Type         AnnouncementType   `gorm:"column:type"`
	Title        string             `gorm:"column:title"`
	Body         string             `gorm:"column:body"`      // Markdown subset, as written
	BodyHTML     string             `gorm:"column:body_html"` // rendered once, safe by construction
	Status       AnnouncementStatus `gorm:"column:status"`
	AmendsID     *int64             `gorm:"column:amends_id"`
	Changes      *LotChanges        `gorm:"column:changes;serializer:json"` // amendments: new schedules
	AuthorID     int64              `gorm:"column:author_id"`
	ReviewerID   *int64             `gorm:"column:reviewer_id"`
	RejectReason string             `gorm:"column:reject_reason"`
	CreatedAt    time.Time          `gorm:"column:created_at"`
	UpdatedAt    time.Time          `gorm:"column:updated_at"`
	SubmittedAt  *time.Time         `gorm:"column:submitted_at"`
	ReviewedAt   *time.Time         `gorm:"column:reviewed_at"`
	PublishAt    *time.Time         `gorm:"column:publish_at"`
	PublishedAt  *time.Time         `gorm:"column:published_at"`
	PublishedSeq *int64             `gorm:"column:published_seq"`
}

func (Announcement) TableName() string { return "announcements" }

// LotChanges are the schedule changes an amendment makes, by lot id.
type LotChanges struct {
	Lots []LotChange `json:"lots"`
}

// LotChange moves the times of one lot; nil leaves a time as it is.
type LotChange struct {
	LotID           int64      `json:"lot_id"`
	DocIssueEnd     *time.Time `json:"doc_issue_end,omitempty"`
	RegistrationEnd *time.Time `json:"registration_end,omitempty"`
	BidDeadline     *time.Time `json:"bid_deadline,omitempty"`
	ListingEnd      *time.Time `json:"listing_end,omitempty"`
	AuctionAt       *time.Time `json:"auction_at,omitempty"`
	OpeningPlace    *string    `json:"opening_place,omitempty"`
}

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
		BiddingMode: l.BiddingMode, PriceCap: d(l.PriceCap),
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
}

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
		BiddingMode: l.BiddingMode, PriceCap: l.PriceCap, IncrementMultiple: l.IncrementMultiple}
}

// PublicProject is a project as anyone may see it.
type PublicProject struct {
	Code       string   `json:"code"`
	Category   Category `json:"category"`
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

// Public drops the secret fields of every lot.
func (p *Project) Public() PublicProject {
	out := PublicProject{Code: p.Code, Category: p.Category, Title: p.Title, OwnerName: p.OwnerName,
		RegionCode: p.RegionCode, RegionName: p.Region.Name, AgentName: p.Agent.DisplayName, Status: string(p.Status),
		SuspendedAt: p.SuspendedAt, SuspendReason: p.SuspendReason}
	for i := range p.Lots {
		out.Lots = append(out.Lots, p.Lots[i].Public())
	}
	return out
}

// PublicAnnouncement is a published notice for the portal, feeds and API.
type PublicAnnouncement struct {
	ID          int64            `json:"id"`
	Seq         int64            `json:"seq"`
	Type        AnnouncementType `json:"type"`
	TypeName    string           `json:"type_name"`
	Title       string           `json:"title"`
	BodyHTML    string           `json:"body_html"`
	PublishedAt time.Time        `json:"published_at"`
	AmendsID    *int64           `json:"amends_id,omitempty"`
	ProjectCode string           `json:"project_code"`
	Category    Category         `json:"category"`
	RegionCode  string           `json:"region_code"`
	RegionName  string           `json:"region_name"`
}
