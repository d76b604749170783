package trading

import (
	"context"
	"testing"
	"time"
)

func TestDBClockFreezeAndOffset(t *testing.T) {
	t.Parallel()
	s, _ := newTestService(t)
	ctx := context.Background()

	at := time.Date(2026, 12, 28, 9, 30, 0, 1000, Shanghai) // a microsecond matters
	if err := FreezeDBClock(ctx, s.DB, at); err != nil {
		t.Fatal(err)
	}
	got, err := DBNow(s.DB)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Equal(at) {
		t.Fatalf("frozen clock reads %v, want %v", got, at)
	}
	if now := (DBClock{DB: s.DB}).Now(); !now.Equal(at) {
		t.Fatalf("DBClock reads %v, want %v", now, at)
	}

	// An offset shifts real time and unfreezes.
	if err := SetDBClockOffset(ctx, s.DB, 720*time.Hour); err != nil {
		t.Fatal(err)
	}
	got, err = DBNow(s.DB)
	if err != nil {
		t.Fatal(err)
	}
	var real time.Time
	if err := s.DB.Raw("SELECT clock_timestamp()").Scan(&real).Error; err != nil {
		t.Fatal(err)
	}
	if d := real.Sub(got) + 720*time.Hour; d < 0 || d > time.Minute {
		t.Fatalf("offset clock %v is not 720h ahead of %v", got, real)
	}
	// The clock runs: two reads differ.
	again, _ := DBNow(s.DB)
	if !again.After(got) {
		t.Fatalf("running clock did not advance: %v then %v", got, again)
	}
}
