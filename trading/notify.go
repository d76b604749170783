package trading

// Notifications (消息通知) tell a person that something happened that
// concerns them: a bidder's application reviewed, a deposit arrived, a
// announcement of theirs approved. Every one is written in the transaction of its
// event, by the package where the event happens (hooks wired in
// cmd/ggzy/platform.Wire carry events across packages). A notification is
// the person's own: its id outside is opaque and its text never says how
// many others did anything.

import (
	"context"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Notification tells a person something happened that concerns them.
type Notification struct {
	ID        int64      `gorm:"column:id;primaryKey" json:"-"`
	PublicID  string     `gorm:"column:public_id;->" json:"id"` // opaque (uuid), set by the database
	AccountID int64      `gorm:"column:account_id" json:"-"`
	Key       *string    `gorm:"column:key" json:"-"` // once per person per key, when set
	Title     string     `gorm:"column:title" json:"title"`
	Body      string     `gorm:"column:body" json:"body"`
	Link      string     `gorm:"column:link" json:"link"`
	CreatedAt time.Time  `gorm:"column:created_at" json:"created_at"`
	ReadAt    *time.Time `gorm:"column:read_at" json:"read_at,omitempty"`
}

func (Notification) TableName() string { return "notifications" }

// Message is what a notification says.
type Message struct {
	Title, Body, Link string
	// Key, when set, makes the message once per person: a second Notify
	// with the same key adds nothing (a sweep run twice, an event retried).
	Key string
}

// Notify writes m to each of the accounts, in tx, at now.
func Notify(tx *gorm.DB, now time.Time, m Message, accountIDs ...int64) error {
	if len(accountIDs) == 0 {
		return nil
	}
	rows := make([]Notification, 0, len(accountIDs))
	seen := map[int64]bool{}
	for _, id := range accountIDs {
		if id == 0 || seen[id] {
			continue
		}
		seen[id] = true
		n := Notification{AccountID: id, Title: m.Title, Body: m.Body, Link: m.Link, CreatedAt: now}
		if m.Key != "" {
			k := m.Key
			n.Key = &k
		}
		rows = append(rows, n)
	}
	if len(rows) == 0 {
		return nil
	}
	q := tx.Omit("public_id")
	if m.Key != "" {
		// Equivalent SQL: INSERT … ON CONFLICT (account_id, key) WHERE key IS NOT NULL DO NOTHING
		q = q.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "account_id"}, {Name: "key"}},
			TargetWhere: clause.Where{Exprs: []clause.Expression{clause.Expr{SQL: "key IS NOT NULL"}}}, DoNothing: true})
	}
	return q.Create(&rows).Error
}

// NotifyRole writes m to every active account of role (the supervisors of
// the centre: a K1 alert, a refund overdue).
func NotifyRole(tx *gorm.DB, now time.Time, m Message, role Role) error {
	var ids []int64
	if err := tx.Model(&Account{}).Where("role = ? AND NOT disabled", role).Pluck("id", &ids).Error; err != nil {
		return err
	}
	return Notify(tx, now, m, ids...)
}

// Notifications lists a person's notifications, newest first.
func (s *Service) Notifications(ctx context.Context, a Actor) ([]Notification, error) {
	var out []Notification
	return out, s.DB.WithContext(ctx).Where("account_id = ?", a.AccountID).Order("created_at DESC, title, id DESC").Limit(100).Find(&out).Error
}

// UnreadCount is how many of the person's own notifications are unread
// (the count in the header).
func (s *Service) UnreadCount(ctx context.Context, accountID int64) (int64, error) {
	var n int64
	return n, s.DB.WithContext(ctx).Model(&Notification{}).Where("account_id = ? AND read_at IS NULL", accountID).Count(&n).Error
}

// MarkRead marks all of a person's notifications read.
func (s *Service) MarkRead(ctx context.Context, a Actor) error {
	return s.DB.WithContext(ctx).Model(&Notification{}).Where("account_id = ? AND read_at IS NULL", a.AccountID).
		Update("read_at", s.Clock.Now()).Error
}
