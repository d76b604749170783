package bidding

// Notifications tell bidders what happened to the lots they registered for
// (the table and its helpers are trading's: every package notifies).

import (
	"context"

	"github.com/ggzy/ggzy/trading"
)

// Notification is trading's: a person told that something happened.
type Notification = trading.Notification

// Notifications lists a person's notifications, newest first.
func (s *Service) Notifications(ctx context.Context, a trading.Actor) ([]Notification, error) {
	return s.Trading.Notifications(ctx, a)
}

// MarkRead marks all of a person's notifications read.
func (s *Service) MarkRead(ctx context.Context, a trading.Actor) error {
	return s.Trading.MarkRead(ctx, a)
}
