package trading

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// OpenDB connects GORM to PostgreSQL. Every write that matters runs in an
// explicit transaction (Transact), so GORM's implicit ones are switched off.
func OpenDB(url string) (*gorm.DB, error) {
	db, err := gorm.Open(postgres.Open(url), &gorm.Config{
		SkipDefaultTransaction: true,
		NowFunc:                func() time.Time { return time.Now().UTC() },
		Logger:                 logger.Discard,
		TranslateError:         false,
	})
	if err != nil {
		return nil, err
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, err
	}
	// Idle as many as open: a connection closed after a burst costs a SCRAM
	// handshake (thousands of hash rounds) to open again.
	sqlDB.SetMaxOpenConns(20)
	sqlDB.SetMaxIdleConns(20)
	sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	return db, nil
}

// First loads into dest the first row (by primary key) that tx and conds
// select; a missing row is the domain error NotFound(what) (404). This is
// the one place gorm.ErrRecordNotFound is translated (with Take and Lookup).
//
//	SELECT * FROM <dest's table> WHERE <conds> ORDER BY id LIMIT 1
func First(tx *gorm.DB, dest any, what string, conds ...any) error {
	return missing(tx.First(dest, conds...).Error, what)
}

// Take is First without the ORDER BY, for joined or non-model rows.
func Take(tx *gorm.DB, dest any, what string, conds ...any) error {
	return missing(tx.Take(dest, conds...).Error, what)
}

// Lookup is First for a row that may well be absent: found is false, and
// err nil, when there is none.
func Lookup(tx *gorm.DB, dest any, conds ...any) (found bool, err error) {
	err = tx.First(dest, conds...).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return false, nil
	}
	return err == nil, err
}

func missing(err error, what string) error {
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return NotFound(what)
	}
	return err
}

// Transact runs fn in a transaction, retrying when PostgreSQL reports a
// serialization failure or deadlock (the transaction never half-applies).
func Transact(ctx context.Context, db *gorm.DB, fn func(tx *gorm.DB) error) error {
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		err = db.WithContext(ctx).Transaction(fn)
		if !IsRetryable(err) {
			return err
		}
		time.Sleep(time.Duration(attempt+1) * 10 * time.Millisecond)
	}
	return err
}

// IsRetryable reports whether err is a serialization failure or deadlock:
// the transaction can be run again.
func IsRetryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01")
}

// IsUniqueViolation reports whether err is a unique-constraint failure,
// optionally on the named constraint.
func IsUniqueViolation(err error, constraint string) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505" && (constraint == "" || pe.ConstraintName == constraint)
}
