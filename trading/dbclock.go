package trading

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// The deciding clock. Services read time from their Clock for what they
// show and schedule; anything that decides a deadline or an order (a quote,
// a sealed bid's finalisation, the end of a countdown) reads PostgreSQL's
// ggzy_now() inside the statement that decides it, so every instance agrees
// and a request's travel time cannot move it (migration 00016).

// DBNow returns the database clock, read in tx (or db).
func DBNow(tx *gorm.DB) (time.Time, error) {
	var t time.Time
	if err := tx.Raw("SELECT ggzy_now()").Scan(&t).Error; err != nil {
		return time.Time{}, fmt.Errorf("read the database clock: %w", err)
	}
	return t, nil
}

// DBClock is a Clock that reads the database clock; a page that shows "the
// server's time" shows this one.
type DBClock struct{ DB *gorm.DB }

// Now returns the database clock, or the machine's if the database cannot
// be read (a display must not fail for it; no decision is taken on it).
func (c DBClock) Now() time.Time {
	t, err := DBNow(c.DB)
	if err != nil {
		return time.Now()
	}
	return t
}

// SetDBClockOffset shifts the database clock by d from real time (demos:
// GGZY_CLOCK_OFFSET) and unfreezes it.
func SetDBClockOffset(ctx context.Context, db *gorm.DB, d time.Duration) error {
	return db.WithContext(ctx).Exec("UPDATE platform_clock SET offset_us = ?, frozen_at = NULL", d.Microseconds()).Error
}

// FreezeDBClock stops the database clock at t (tests and rehearsals only);
// a zero t lets it run again from real time plus its offset.
func FreezeDBClock(ctx context.Context, db *gorm.DB, t time.Time) error {
	if t.IsZero() {
		return db.WithContext(ctx).Exec("UPDATE platform_clock SET frozen_at = NULL").Error
	}
	return db.WithContext(ctx).Exec("UPDATE platform_clock SET frozen_at = ?", t).Error
}
