package trading

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// SessionKind tells a browser session (cookie) from an API token (bearer).
type SessionKind string

const (
	SessionWeb SessionKind = "web"
	SessionAPI SessionKind = "api"
)

// Session is a sign-in stored in PostgreSQL, so every instance behind the
// load balancer shares it and it can be revoked.
type Session struct {
	TokenHash []byte      `gorm:"column:token_hash;primaryKey"`
	AccountID int64       `gorm:"column:account_id"`
	Kind      SessionKind `gorm:"column:kind"`
	CreatedAt time.Time   `gorm:"column:created_at"`
	ExpiresAt time.Time   `gorm:"column:expires_at"`
	RevokedAt *time.Time  `gorm:"column:revoked_at"`
	IP        string      `gorm:"column:ip"`
	UserAgent string      `gorm:"column:user_agent"`
}

func (Session) TableName() string { return "sessions" }

func hashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// Login authenticates and opens a session; it returns the token the client
// keeps (only its hash is stored).
func (s *Service) Login(ctx context.Context, kind SessionKind, username, password, ip, userAgent string) (string, *Account, error) {
	acc, err := s.Authenticate(ctx, username, password)
	if err != nil {
		return "", nil, err
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", nil, err
	}
	token := base64.RawURLEncoding.EncodeToString(raw)
	now := s.Clock.Now()
	ttl := s.WebSessionTTL
	if kind == SessionAPI {
		ttl = s.APITokenTTL
	}
	sess := Session{TokenHash: hashToken(token), AccountID: acc.ID, Kind: kind, CreatedAt: now,
		ExpiresAt: now.Add(ttl), IP: ip, UserAgent: truncateRunes(userAgent, 300)}
	err = Transact(ctx, s.DB, func(tx *gorm.DB) error {
		if err := tx.Create(&sess).Error; err != nil {
			return err
		}
		return Audit(tx, now, Actor{AccountID: acc.ID, Username: acc.Username, Role: acc.Role, IP: ip},
			"session.login", "account", fmt.Sprint(acc.ID), string(kind)+" 登录")
	})
	if err != nil {
		return "", nil, err
	}
	return token, acc, nil
}

// SessionAccount returns the account of a live session token.
func (s *Service) SessionAccount(ctx context.Context, kind SessionKind, token string) (*Account, error) {
	if token == "" || len(token) > 200 {
		return nil, Unauthorized("请先登录")
	}
	hash := hashToken(token)
	now := s.Clock.Now()
	key := sessionKey{kind: kind}
	copy(key.hash[:], hash)
	var gen uint64
	if c := s.Sessions; c != nil {
		if acc, ok := c.get(key, now); ok {
			return acc, nil
		}
		gen = c.begin() // before the read: see SessionCache.put
	}
	sqlDB, err := s.DB.DB()
	if err != nil {
		return nil, err
	}
	// One round trip on every authenticated request the cache does not
	// answer, scanned without GORM's reflection (a third of a
	// registration's Go time in the burst benchmark).
	var acc Account
	var b Bidder
	var isBidder bool
	var expires time.Time
	err = sqlDB.QueryRowContext(ctx, sessionAccountSQL, hash, kind, now).Scan(
		&acc.ID, &acc.Username, &acc.Role, &acc.DisplayName, &acc.Disabled, &acc.CreatedAt, &acc.UpdatedAt,
		&isBidder, &b.Kind, &b.Name, &b.IDNumber, &b.LegalRep, &b.Phone, &b.Email, &b.ChecksumOverride, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, Unauthorized("登录已失效，请重新登录")
	}
	if err != nil {
		return nil, err
	}
	if isBidder {
		b.AccountID = acc.ID
		acc.Bidder = &b
	}
	if c := s.Sessions; c != nil {
		c.put(key, gen, &acc, expires)
	}
	return &acc, nil
}

// sessionAccountSQL reads the account of a live session and its bidder
// profile, if it has one (not its password hash: Authenticate reads that
// itself, and the session cache need not hold it).
const sessionAccountSQL = `SELECT a.id, a.username, a.role, a.display_name, a.disabled, a.created_at, a.updated_at,
	b.account_id IS NOT NULL, coalesce(b.kind, ''), coalesce(b.name, ''), coalesce(b.id_number, ''), coalesce(b.legal_rep, ''),
	coalesce(b.phone, ''), coalesce(b.email, ''), coalesce(b.checksum_override, false), s.expires_at
FROM sessions s JOIN accounts a ON a.id = s.account_id LEFT JOIN bidders b ON b.account_id = a.id
WHERE s.token_hash = $1 AND s.kind = $2 AND s.revoked_at IS NULL AND s.expires_at > $3 AND NOT a.disabled`

// Logout revokes a session token.
func (s *Service) Logout(ctx context.Context, a Actor, token string) error {
	now := s.Clock.Now()
	err := Transact(ctx, s.DB, func(tx *gorm.DB) error {
		res := tx.Model(&Session{}).Where("token_hash = ? AND revoked_at IS NULL", hashToken(token)).Update("revoked_at", now)
		if res.Error != nil || res.RowsAffected == 0 {
			return res.Error
		}
		return Audit(tx, now, a, "session.logout", "account", fmt.Sprint(a.AccountID), "退出登录")
	})
	if err == nil && s.Sessions != nil {
		// At once on this instance; the others hear it from the
		// database (migration 00035).
		s.Sessions.Forget(a.AccountID)
	}
	return err
}
