package auction

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"gorm.io/gorm"

	"github.com/ggzy/ggzy/trading"
	"github.com/ggzy/ggzy/trading/rules"
)

// Most quotes under load are refused under L8: outbid by the time they
// arrive (BENCHMARKS.md, "Online bidding"). Each used to be a transaction
// queued on the lot's row lock only to learn that. beforeLock answers them
// without the lock, from the lot's bidding row as last committed, read in
// the same statement as who the bidder is and the database's time.
//
// Why the locked path could only refuse such a quote too. A plain read
// never waits for the row lock (MVCC) and sees one committed version of the
// row: its state, period, countdown and highest belong together, and the
// quote is in the database when it runs (A2). Every later version is a
// state that refuses the amount as well:
//   - the highest never goes down: writeQuote is the only writer of
//     auction_lots.highest, an ascending quote sets it at least one
//     increment higher and a sealed one only raises it; the start price,
//     increment and whole-increments rule never change once the lot is
//     open; so L8 (and L15 above the cap) refuse the amount again;
//   - an ascending state (listing / free-quote / timed) only moves on to
//     another ascending one with the same highest (timed bidding starts
//     from the listing's highest, L11; a resumption returns to the state
//     it suspended, L13), or to one that takes no quote at all (suspended,
//     qualifying, priority, settled);
//   - the exception is a lot with a price cap: reaching the cap turns the
//     lot into the second criterion (L15), where any amount is a sealed
//     value, so such lots always take the locked path.
// So beforeLock refuses only the amount (L8, L15) and only when the row's
// state is ascending, not sealed, without a cap, with the database's time
// inside its period. Everything else (a key
// accepted before, a state or period the row does not show as ascending)
// goes on to the locked path, which stays the authority. In a race with a
// suspension or the end committed meanwhile, the refusal names L8 where the
// lock might have named L13 or L11: a refusal either way, as the locked
// path itself answers depending on which transaction gets the lock first.
//
// Who may quote is decided first, as on the locked path: an unqualified
// bidder's outbid quote is refused for its qualification, not for its
// amount, so the deposit is read before an outbid refusal although the
// refusal does not depend on it.

// ahead is what beforeLock reads in one statement.
type ahead struct {
	RegID        *int64     `gorm:"column:reg_id"`
	RegStatus    *string    `gorm:"column:reg_status"`
	Code         *string    `gorm:"column:code"`
	WantsTimedAt *time.Time `gorm:"column:wants_timed_at"`
	CodeAt       *time.Time `gorm:"column:code_at"`
	KeyQuote     *int64     `gorm:"column:key_quote"`
	RateN        int        `gorm:"column:rate_n"`  // the quote's rate count (overRate)
	KeyAny       bool       `gorm:"column:key_any"` // a quote of the bidder's with this key was accepted
	Covered      *bool      `gorm:"column:covered"` // deposit_cover: the deposit covered the amount by its deadline
	Now          time.Time  `gorm:"column:now"`
	Lot          `gorm:"embedded"`
}

// beforeLock decides what it can of a quote without the lot's lock. It
// returns the bidder when it may quote (nil: the locked path reads who
// may quote itself, e.g. to give a first code), or a refusal (with the
// bidder's code, if any, for the record). It returns the lot's committed
// row too when the quote is the common case the one statement of fast.go
// takes: an ascending quote, acceptable against that row, by a bidder who
// has its code, with a key not used before.
func (s *Service) beforeLock(ctx context.Context, a trading.Actor, lotID int64, amount decimal.Decimal, key string) (*Bidder, string, *Lot, error) {
	// The agent and the auctioneer never quote (A1): refused for that
	// before anything else, the rate included.
	if err := mayQuote(a); err != nil {
		return nil, "", nil, err
	}
	db := s.DB.WithContext(ctx)
	var rows []ahead
	// Equivalent SQL: the lot's bidding row as committed (no lock), the
	// bidder's latest registration with its code, the bidder's accepted
	// quote with this key, and the database's time.
	sql := `SELECT r.id AS reg_id, r.status AS reg_status, ab.code, ab.wants_timed_at, ab.created_at AS code_at,
			kq.id AS key_quote, ggzy_now() AS now, al.*
		FROM auction_lots al
		LEFT JOIN LATERAL (SELECT id, status FROM registrations WHERE lot_id = al.lot_id AND bidder_id = ? ORDER BY id DESC LIMIT 1) r ON true
		LEFT JOIN auction_bidders ab ON ab.registration_id = r.id
		LEFT JOIN auction_quotes kq ON kq.registration_id = r.id AND kq.idem_key = ?`
	args := []any{a.AccountID, key}
	rate := s.params().L8MaxQuotesPerSecond
	if s.QualifiedByDepositCover {
		// …with whether its deposit covered the amount by the deadline
		// (deposit_cover, migration 00034: what Qualified decides by; one
		// round trip fewer per quote), not computed for a quote over the
		// rate, which is refused for that (a one-time filter).
		gate := ""
		args = append(args, s.Trading.Clock.Now().In(trading.Shanghai).Format("2006-01-02"))
		if rate > 0 {
			gate = ` WHERE (SELECT n FROM rate) <= ?`
			args = append(args, rate)
		}
		sql = strings.Replace(sql, "ggzy_now() AS now", "dc.covered, ggzy_now() AS now", 1) + `
		LEFT JOIN LATERAL (SELECT * FROM deposit_cover(r.id, ?::date)` + gate + `) dc ON true`
	}
	sql += `
		WHERE al.lot_id = ?`
	args = append(args, lotID)
	if rate > 0 {
		// …and, first, the quote's rate count (overRate's, in the same
		// autocommitted statement: one round trip fewer per quote), with
		// whether the bidder's quote with this key was accepted already.
		sql = `WITH rate AS (` + countSQL + `) ` + strings.Replace(sql, "SELECT ", `SELECT (SELECT n FROM rate) AS rate_n,
			EXISTS (SELECT 1 FROM auction_quotes q JOIN registrations rr ON rr.id = q.registration_id
				WHERE q.lot_id = al.lot_id AND rr.bidder_id = ? AND q.idem_key = ?) AS key_any, `, 1)
		args = append([]any{lotID, a.AccountID, key, rate, a.AccountID, key}, args...)
	}
	if err := db.Raw(sql, args...).Scan(&rows).Error; err != nil {
		return nil, "", nil, err
	}
	if len(rows) != 1 {
		return nil, "", nil, nil // not bid online: the locked path says so
	}
	h := &rows[0]
	if rate > 0 && h.RateN > rate && !h.KeyAny {
		return nil, "", nil, decided(h.Now, refusal(http.StatusTooManyRequests, "L8", "amount",
			"报价过于频繁：每名竞买人每秒至多%d次报价（按平台数据库时钟的每一秒、各服务器合计）", rate))
	}
	reg := &registered{ID: h.RegID, Status: h.RegStatus, Post: h.PostQualification, Code: h.Code, WantsTimedAt: h.WantsTimedAt, CodeAt: h.CodeAt,
		Covered: h.Covered != nil && *h.Covered}
	regID, err := s.admit(ctx, db, reg)
	if err != nil {
		return nil, "", nil, decided(h.Now, err)
	}
	var b *Bidder
	if h.Code == nil && h.Lot.pastBidding() {
		return nil, "", nil, nil // no code after the bidding: the locked path refuses
	}
	if h.Code == nil {
		// A qualified bidder's code is given here, in statements of its
		// own, as its quote page gives it (view.go). It used to be given in
		// the quote's transaction, so a refused first quote took its code
		// back with it: under load most first quotes are refused, and
		// every later quote of that bidder went to the locked path again.
		if b, err = ensureBidder(db, lotID, regID, h.Now); err != nil {
			return nil, "", nil, err
		}
	} else {
		b = &Bidder{RegistrationID: regID, LotID: lotID, Code: *h.Code, WantsTimedAt: h.WantsTimedAt, CreatedAt: *h.CodeAt}
	}
	if h.KeyQuote != nil || !h.Lot.ascendingNow(h.Now) {
		return b, b.Code, nil, nil
	}
	if _, err := h.Lot.ascending(amount); err != nil {
		return nil, b.Code, nil, decided(h.Now, err)
	}
	return b, b.Code, &h.Lot, nil
}

// ascendingNow tells whether, at now, the lot takes ascending quotes and
// can only go on taking them or none (see above): the states and periods
// in which check goes on to ascending, on a lot without a price cap.
func (l *Lot) ascendingNow(now time.Time) bool {
	from, until, ok := l.ascendingPeriod()
	return ok && !now.Before(from) && now.Before(until)
}

// ascendingPeriod is the period [from, until) in which check takes an
// ascending quote on the lot as it is, and ok when the lot is ascending at
// all (not sealed, without a price cap, listing / free-quote / timed): the
// open period less the last hour (L12), or the countdown (L11).
func (l *Lot) ascendingPeriod() (from, until time.Time, ok bool) {
	if l.Mode == rules.ModeSealed || l.PriceCap != nil {
		return time.Time{}, time.Time{}, false
	}
	switch l.State {
	case StateOpen:
		until = l.ClosesAt
		if l.LastHourS > 0 {
			until = l.ClosesAt.Add(-time.Duration(l.LastHourS) * time.Second)
		}
		return l.OpensAt, until, true
	case StateTimed:
		if l.CountdownEnd == nil {
			return time.Time{}, time.Time{}, false
		}
		return l.OpensAt, *l.CountdownEnd, true
	}
	return time.Time{}, time.Time{}, false
}

// periodEnd is the column an ascending period ends by: closes_at while
// open, countdown_end while timed (see fast.go).
func (l *Lot) periodEnd() time.Time {
	if l.State == StateTimed && l.CountdownEnd != nil {
		return *l.CountdownEnd
	}
	return l.ClosesAt
}

// useBidder is who may quote as beforeLock found it, with its code given
// now if it had none, or, when beforeLock did not read it, as read now.
func (s *Service) useBidder(ctx context.Context, tx *gorm.DB, a trading.Actor, lotID int64, b *Bidder) (*Bidder, error) {
	switch {
	case b == nil:
		return s.qualify(ctx, tx, a, lotID, time.Time{})
	case b.Code == "":
		now, err := trading.DBNow(tx)
		if err != nil {
			return nil, err
		}
		return ensureBidder(tx, lotID, b.RegistrationID, now)
	}
	return b, nil
}
