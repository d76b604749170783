package trading

import (
	"context"
	"time"

	"gorm.io/gorm"

	"github.com/ggzy/ggzy/trading/live"
)

// SupervisionTopic is the live topic of the supervisors' dashboard
// (现场监督工作台): what a supervisor should notice at once. Supervisors
// only (cmd/ggzy's route /supervise/events), so it may name projects.
const SupervisionTopic = "supervision"

// FeedItem is one line of the dashboard's live feed.
type FeedItem struct {
	At      time.Time `json:"at"`
	Text    string    `json:"text"`
	Link    string    `json:"link,omitempty"`
	Project string    `json:"project,omitempty"`
}

// publishSupervision adds a line to the dashboard's feed in tx. Kinds:
// project.suspended, project.resumed, announcement.submitted.
func publishSupervision(ctx context.Context, tx *gorm.DB, kind string, item FeedItem) error {
	_, err := live.Publish(ctx, tx, SupervisionTopic, kind, item)
	return err
}
