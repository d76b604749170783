// Package bidding is unified online registration (统一网上报名) and tender
// documents online (网上下载标书): registering for a lot the way its
// category requires, the secrecy of who registered (K4/K5), the documents
// in MinIO with their clarifications, and each bidder's page of their
// registrations.
package bidding

import (
	"encoding/json"
	"time"

	"github.com/ggzy/ggzy/trading"
)

// RegistrationKind is what registering means in a category (RULES.md K5).
type RegistrationKind string

const (
	KindDownload     RegistrationKind = "download"     // engineering: 获取文件登记 — obtaining the documents is the registration
	KindRegistration RegistrationKind = "registration" // procurement: 报名 with the supplier's declarations
	KindApplication  RegistrationKind = "application"  // land, property: 竞买申请, reviewed by the agent
)

// KindFor is the registration kind of a category.
func KindFor(c trading.Category) RegistrationKind {
	switch c {
	case "engineering":
		return KindDownload
	case "procurement":
		return KindRegistration
	}
	return KindApplication
}

// Name is the Chinese name of the kind.
func (k RegistrationKind) Name() string {
	return map[RegistrationKind]string{KindDownload: "获取招标文件登记", KindRegistration: "报名", KindApplication: "竞买申请"}[k]
}

// RegistrationStatus is where a registration stands.
type RegistrationStatus string

const (
	StatusActive    RegistrationStatus = "active"    // registered (engineering, procurement)
	StatusPending   RegistrationStatus = "pending"   // application waiting for the agent
	StatusApproved  RegistrationStatus = "approved"  // application approved: may bid once the deposit is paid
	StatusRejected  RegistrationStatus = "rejected"  // application rejected, with a reason
	StatusWithdrawn RegistrationStatus = "withdrawn" // withdrawn before the deadline (D6)
)

// Name is the Chinese name of the status.
func (s RegistrationStatus) Name() string {
	return map[RegistrationStatus]string{StatusActive: "已报名", StatusPending: "待审核", StatusApproved: "审核通过",
		StatusRejected: "未通过", StatusWithdrawn: "已撤回"}[s]
}

// Live reports whether the registration still counts.
func (s RegistrationStatus) Live() bool {
	return s == StatusActive || s == StatusPending || s == StatusApproved
}

// Registration is one bidder's registration for one lot.
type Registration struct {
	ID           int64              `gorm:"column:id;primaryKey" json:"id"`
	LotID        int64              `gorm:"column:lot_id" json:"lot_id"`
	BidderID     int64              `gorm:"column:bidder_id" json:"bidder_id"`
	Kind         RegistrationKind   `gorm:"column:kind" json:"kind"`
	Status       RegistrationStatus `gorm:"column:status" json:"status"`
	ContactName  string             `gorm:"column:contact_name" json:"contact_name"`
	ContactPhone string             `gorm:"column:contact_phone" json:"contact_phone"`
	Declarations json.RawMessage    `gorm:"column:declarations;type:jsonb" json:"declarations,omitempty"`
	RejectReason string             `gorm:"column:reject_reason" json:"reject_reason,omitempty"`
	ReviewedBy   *int64             `gorm:"column:reviewed_by" json:"-"`
	ReviewedAt   *time.Time         `gorm:"column:reviewed_at" json:"reviewed_at,omitempty"`
	WithdrawnAt  *time.Time         `gorm:"column:withdrawn_at" json:"withdrawn_at,omitempty"`
	CreatedAt    time.Time          `gorm:"column:created_at" json:"created_at"`
	UpdatedAt    time.Time          `gorm:"column:updated_at" json:"updated_at"`
}

func (Registration) TableName() string { return "registrations" }

// DocumentKind is what a document is.
type DocumentKind string

const (
	DocTender        DocumentKind = "tender"        // 招标文件/采购文件/出让文件
	DocDrawing       DocumentKind = "drawing"       // 图纸
	DocClarification DocumentKind = "clarification" // 澄清/修改
	DocMaterial      DocumentKind = "material"      // 竞买申请材料 (uploaded by the bidder)
)

// Name is the Chinese name of the kind.
func (k DocumentKind) Name() string {
	return map[DocumentKind]string{DocTender: "招标/采购/出让文件", DocDrawing: "图纸", DocClarification: "澄清/修改文件", DocMaterial: "申请材料"}[k]
}

// Document is a file of a lot kept in MinIO under a generated key.
type Document struct {
	ID             int64        `gorm:"column:id;primaryKey" json:"id"`
	LotID          int64        `gorm:"column:lot_id" json:"lot_id"`
	Version        int          `gorm:"column:version" json:"version"`
	Kind           DocumentKind `gorm:"column:kind" json:"kind"`
	RegistrationID *int64       `gorm:"column:registration_id" json:"-"`
	ReplacesID     *int64       `gorm:"column:replaces_id" json:"replaces_id,omitempty"`
	Filename       string       `gorm:"column:filename" json:"filename"`
	ContentType    string       `gorm:"column:content_type" json:"content_type"`
	Size           int64        `gorm:"column:size" json:"size"`
	SHA256         string       `gorm:"column:sha256" json:"sha256"`
	ObjectKey      string       `gorm:"column:object_key" json:"-"`
	UploadedBy     int64        `gorm:"column:uploaded_by" json:"-"`
	CreatedAt      time.Time    `gorm:"column:created_at" json:"created_at"`
	ReleasedAt     *time.Time   `gorm:"column:released_at" json:"released_at,omitempty"`
}

func (Document) TableName() string { return "documents" }

// Download records one download of a document.
type Download struct {
	ID         int64     `gorm:"column:id;primaryKey"`
	DocumentID int64     `gorm:"column:document_id"`
	AccountID  int64     `gorm:"column:account_id"`
	At         time.Time `gorm:"column:at"`
	IP         string    `gorm:"column:ip"`
}

func (Download) TableName() string { return "downloads" }

// Notification tells a person something happened to a lot they follow.
type Notification struct {
	ID        int64      `gorm:"column:id;primaryKey" json:"id"`
	AccountID int64      `gorm:"column:account_id" json:"-"`
	Title     string     `gorm:"column:title" json:"title"`
	Body      string     `gorm:"column:body" json:"body"`
	Link      string     `gorm:"column:link" json:"link"`
	CreatedAt time.Time  `gorm:"column:created_at" json:"created_at"`
	ReadAt    *time.Time `gorm:"column:read_at" json:"read_at,omitempty"`
}

func (Notification) TableName() string { return "notifications" }
