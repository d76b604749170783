package bidding

// Notifications tell bidders what happened to the lots they registered for.

import (
	"context"
	"time"

	"github.com/ggzy/ggzy/trading"
)

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

// Notifications lists a person's notifications, newest first.
func (s *Service) Notifications(ctx context.Context, a trading.Actor) ([]Notification, error) {
	var out []Notification
	return out, s.DB.WithContext(ctx).Where("account_id = ?", a.AccountID).Order("created_at DESC, id DESC").Limit(100).Find(&out).Error
}

// MarkRead marks all of a person's notifications read.
func (s *Service) MarkRead(ctx context.Context, a trading.Actor) error {
	return s.DB.WithContext(ctx).Model(&Notification{}).Where("account_id = ? AND read_at IS NULL", a.AccountID).
		Update("read_at", s.Clock.Now()).Error
}
