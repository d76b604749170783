package trading

import (
	"log/slog"
	"sync"
	"time"

	"github.com/alexedwards/argon2id"
	"gorm.io/gorm"
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

	dummyOnce sync.Once
	dummy     string
}

// NewService returns a service with default settings.
func NewService(db *gorm.DB, clock Clock, log *slog.Logger) *Service {
	if log == nil {
		log = slog.Default()
	}
	return &Service{DB: db, Clock: clock, Log: log, Passwords: DefaultPasswordParams,
		WebSessionTTL: 12 * time.Hour, APITokenTTL: 24 * time.Hour}
}

// dummyHash is compared against when a username is unknown, so a login for
// a missing account costs as much as one with a wrong password.
func (s *Service) dummyHash() string {
	s.dummyOnce.Do(func() {
		s.dummy, _ = argon2id.CreateHash("ggzy-dummy-password-1", &s.Passwords)
	})
	return s.dummy
}
