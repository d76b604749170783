package trading

import (
	"context"
	"time"
)

// Alert is one thing on the supervisor's dashboard (统一现场监督) that needs
// a look: a deposit in suspense, an overdue refund, a K1 collusion signal,
// a late contract (E14)… Packages that trading must not import (bidding,
// deposits) report theirs through a SupervisionSource.
type Alert struct {
	Kind        string    `json:"kind"`           // stable code, e.g. "refund_overdue", "k1", "contract_late"
	Rule        string    `json:"rule,omitempty"` // rule id from RULES.md, when a rule is the reason
	Title       string    `json:"title"`          // Chinese, one line
	Detail      string    `json:"detail,omitempty"`
	ProjectCode string    `json:"project_code,omitempty"` // links the item to its project
	At          time.Time `json:"at"`
	Link        string    `json:"link,omitempty"` // the page where a supervisor acts on it
}

// TimelineEvent is one entry of a project's supervision timeline.
type TimelineEvent struct {
	At     time.Time `json:"at"`
	Kind   string    `json:"kind"`  // "announcement", "registration", "document", "deposit", "result", "audit"…
	Title  string    `json:"title"` // Chinese, one line
	Detail string    `json:"detail,omitempty"`
	Link   string    `json:"link,omitempty"`
}

// SupervisionSource is what bidding and deposits contribute to the
// supervisor's dashboard and to a project's timeline; cmd wires them into
// Service.Supervision.
type SupervisionSource interface {
	// Alerts lists open alerts as of now, newest first, at most limit.
	Alerts(ctx context.Context, now time.Time, limit int) ([]Alert, error)
	// Timeline lists the source's events of one project.
	Timeline(ctx context.Context, projectID int64) ([]TimelineEvent, error)
}

// SectionedSource is a SupervisionSource that says which dashboard section
// its alerts belong in ("deposits"); alerts of other sources are listed as
// rule-book items (a late contract under E14, …).
type SectionedSource interface {
	SupervisionSource
	Section() string
}

// SectionDeposits is the dashboard section of deposit alerts.
const SectionDeposits = "deposits"
