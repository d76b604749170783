package trading

import (
	"github.com/ggzy/ggzy/trading/rules"

	"time"
)

// Announcements (公告): their types and statuses, the record, an
// amendment's lot changes, and the public view of a published one. The
// workflow is in announcement_service.go, publication in
// announcement_publish.go, the pages in announcement_http.go.

// AnnouncementType is the kind of announcement (公告类型).
type AnnouncementType string

const (
	AnnouncementTender      AnnouncementType = "tender"      // 招标公告
	AnnouncementProcurement AnnouncementType = "procurement" // 采购公告
	AnnouncementTransfer    AnnouncementType = "transfer"    // 出让公告
	AnnouncementListing     AnnouncementType = "listing"     // 挂牌公告
	AnnouncementAmendment   AnnouncementType = "amendment"   // 变更公告/澄清
	AnnouncementCandidates  AnnouncementType = "candidates"  // 中标候选人公示
	AnnouncementResult      AnnouncementType = "result"      // 中标/成交结果公告
	AnnouncementTermination AnnouncementType = "termination" // 终止公告
	// AnnouncementFailure makes a lot's failure public (流标公告 / 废标公告,
	// E7, G10, all bids rejected). A land or property no-sale is told by
	// its result announcement (未成交公告, L10); a project's end by a termination.
	AnnouncementFailure  AnnouncementType = "failure"  // 流标（废标）公告
	AnnouncementContract AnnouncementType = "contract" // 合同公告 (procurement, G13)
	// AnnouncementOpening publishes the opening record a lot's online
	// opening hall generated (开标记录公告, EB7).
	AnnouncementOpening AnnouncementType = "opening" // 开标记录公告
)

// AnnouncementTypes in display order.
var AnnouncementTypes = []AnnouncementType{AnnouncementTender, AnnouncementProcurement, AnnouncementTransfer, AnnouncementListing,
	AnnouncementAmendment, AnnouncementCandidates, AnnouncementResult, AnnouncementFailure, AnnouncementTermination, AnnouncementContract, AnnouncementOpening}

// Name is the Chinese name of the type.
func (t AnnouncementType) Name() string {
	return map[AnnouncementType]string{
		AnnouncementTender: "招标公告", AnnouncementProcurement: "采购公告", AnnouncementTransfer: "出让公告", AnnouncementListing: "挂牌公告",
		AnnouncementAmendment: "变更公告", AnnouncementCandidates: "中标候选人公示", AnnouncementResult: "结果公告", AnnouncementTermination: "终止公告",
		AnnouncementFailure: "流标（废标）公告", AnnouncementContract: "合同公告", AnnouncementOpening: "开标记录公告",
	}[t]
}

// Valid reports whether t is a known type.
func (t AnnouncementType) Valid() bool { return t.Name() != "" }

// IsOpening tells the first announcement of a transaction (it starts the schedule).
func (t AnnouncementType) IsOpening() bool {
	return t == AnnouncementTender || t == AnnouncementProcurement || t == AnnouncementTransfer || t == AnnouncementListing
}

// IsGenerated tells the announcements written from a lot's result record (the
// 开标与结果 page) or its opening hall, never drafted or edited by hand.
func (t AnnouncementType) IsGenerated() bool {
	return t == AnnouncementCandidates || t == AnnouncementResult || t == AnnouncementFailure || t == AnnouncementContract ||
		t == AnnouncementOpening
}

// AnnouncementStatus is where an announcement is in the review workflow.
type AnnouncementStatus string

const (
	AnnouncementDraft     AnnouncementStatus = "draft"
	AnnouncementSubmitted AnnouncementStatus = "submitted" // waiting for a supervisor
	AnnouncementScheduled AnnouncementStatus = "scheduled" // approved, publishes at PublishAt
	AnnouncementPublished AnnouncementStatus = "published" // immutable
	AnnouncementRejected  AnnouncementStatus = "rejected"  // back to the agent with a reason
)

// Name is the Chinese name of the status.
func (s AnnouncementStatus) Name() string {
	return map[AnnouncementStatus]string{AnnouncementDraft: "草稿", AnnouncementSubmitted: "待审核", AnnouncementScheduled: "已批准待发布",
		AnnouncementPublished: "已发布", AnnouncementRejected: "已退回"}[s]
}

// Announcement is an announcement (公告).
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
	// RuleNotes: what the rule book noted at submission without refusing
	// (按暂行日历计算, HOL warnings); not stored, the review page checks again.
	RuleNotes []rules.Note `gorm:"-"`
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

// PublicAnnouncement is a published announcement for the portal, feeds and API.
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
