package trading

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/alexedwards/argon2id"
	"github.com/shopspring/decimal"
	"gorm.io/gorm"

	"github.com/ggzy/ggzy/trading/calendar"
	"github.com/ggzy/ggzy/trading/rules"
)

// Service holds the centre's business rules: accounts and sessions, the
// audit log, and (in later files) projects, publishing and supervision.
type Service struct {
	DB        *gorm.DB
	Clock     Clock
	Log       *slog.Logger
	Passwords PasswordParams
	// WebSessionTTL and APITokenTTL bound how long a sign-in lasts.
	WebSessionTTL time.Duration
	APITokenTTL   time.Duration
	// Sessions, when set, keeps checked sessions for a moment
	// (sessioncache.go); the platform sets it with the live hub that keeps
	// it fresh. nil: every request reads its session.
	Sessions *SessionCache
	// Book is the rule book in force: parameters from configuration, the
	// working-day calendar from the embedded data plus an admin's edits.
	Book *rules.Book
	// OCIDPrefix is the centre's registered OCDS prefix (ocds-xxxxxx).
	OCIDPrefix string
	// OnPublish runs inside the transaction that publishes an announcement, after
	// it is published: how bidding and deposits react to a publication
	// (release a clarification's documents, notify registrants) without
	// trading importing them. An error rolls the publication back.
	OnPublish []func(ctx context.Context, tx *gorm.DB, n *Announcement, p *Project) error
	// OnSuspension runs inside the transaction that suspends (suspended)
	// or resumes a project: bidding tells its registrants.
	OnSuspension []func(ctx context.Context, tx *gorm.DB, p *Project, suspended bool, reason string, at time.Time) error
	// CheckAnnouncement adds other packages' rules to the rule book's check of a
	// announcement at submission and publication (bidding: E11–E13 on candidate
	// and result announcements). Violations block like the rule book's own.
	CheckAnnouncement []func(ctx context.Context, tx *gorm.DB, n *Announcement, p *Project, at time.Time) ([]rules.Violation, error)
	// Supervision are the sources of the supervisor's dashboard alerts and
	// of project timelines beyond trading's own.
	Supervision []SupervisionSource
	// LotAwards lists a project's published results for the OCDS export
	// (awards, contracts); bidding provides it.
	LotAwards func(ctx context.Context, projectID int64) ([]LotAward, error)
	// AnnouncementDocuments lists the documents that go out with an announcement, for
	// the supervisor's review page (bidding provides it; a query outside
	// any transaction). nil: none shown.
	AnnouncementDocuments func(ctx context.Context, p *Project, n *Announcement) ([]AnnouncementDocument, error)

	dummyOnce sync.Once
	dummy     string
	calSync   calendarSync // which administrator calendar versions Book holds

	regionsMu    sync.Mutex
	area         string // GGZY_AREA (region.go); "" is DefaultArea
	regions      []Region
	regionsUntil time.Time
}

// NewService returns a service with default settings.
func NewService(db *gorm.DB, clock Clock, log *slog.Logger) *Service {
	if log == nil {
		log = slog.Default()
	}
	cal, err := calendar.Default()
	if err != nil {
		// The embedded files are tested; failing here means a broken build.
		panic(err)
	}
	// GORM stamps created_at/updated_at itself on Save: with the service's
	// clock, so a moved clock (tests, demos) moves them too.
	db = db.Session(&gorm.Session{NowFunc: func() time.Time { return clock.Now().UTC() }})
	return &Service{DB: db, Clock: clock, Log: log, Passwords: DefaultPasswordParams,
		WebSessionTTL: 12 * time.Hour, APITokenTTL: 24 * time.Hour,
		Book: rules.NewBook(rules.DefaultParams(), cal), OCIDPrefix: "ocds-ggzy00"}
}

// dummyHash is compared against when a username is unknown, so a login for
// a missing account costs as much as one with a wrong password.
func (s *Service) dummyHash() string {
	s.dummyOnce.Do(func() {
		s.dummy, _ = argon2id.CreateHash("ggzy-dummy-password-1", &s.Passwords)
	})
	return s.dummy
}

// LotAward is what the results work tells the export about one lot whose
// result is public: its award (the winner or buyer and amount, or no sale)
// once the result announcement is out, and the contract, once signed; or its
// failure (流标/废标) once the failure announcement is out. A lot awarded and then
// failed (the winner would not sign) has both.
type LotAward struct {
	LotID                int64
	ResultAnnouncementID int64 // 0: never awarded
	Successful           bool
	SupplierID           int64 // the winner's account
	SupplierName         string
	Amount               *decimal.Decimal
	Date                 time.Time // the result announcement's publication; zero: never awarded
	ContractDate         *time.Time
	ContractAmount       *decimal.Decimal
	// The failure of an engineering or procurement lot (E7, G10, all
	// bids rejected, every candidate declined), when its announcement is out.
	FailureAnnouncementID int64
	FailedAt              *time.Time // the failure announcement's publication
	FailedRule            string
	FailedReason          string
}
