package auction

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"github.com/ggzy/ggzy/trading"
)

// The common accepted quote in one statement (BENCHMARKS.md, "Online
// bidding"). Under load nearly every quote reaches the lot's row lock, and
// the locked path (quoteTx) holds it for several round trips and the
// commit; the lot takes quotes no faster than that. An ascending quote by a bidder
// who has its code, with a key not used before, on a lot without a price
// cap (beforeLock says so and returns the row it read) is instead taken by
// one autocommitted statement, so the lock is held only while that
// statement runs and commits:
//
//	lk  locks the lot's row (FOR NO KEY UPDATE, as lock does): under READ
//	    COMMITTED it waits for the holder and returns the newest version;
//	d   reads ggzy_now() from that row, so after the lock is granted (a
//	    SELECT over a CTE computes its columns when the row comes out of
//	    it): a quote's time is when the database accepted it, and times
//	    follow acceptance order (A2, L16). Not in lk's own columns, nor in
//	    the UPDATE's SET: a scan computes them before the row lock is
//	    waited for, and recomputes them (EvalPlanQual) only when the row
//	    was changed meanwhile, not when it was only locked
//	    (TestQuoteTimeReadAfterTheLock and
//	    TestQuoteReachingTheLockAfterTheEndRefused fail with ggzy_now()
//	    read in lk; an UPDATE … SET … = ggzy_now() that waited behind a
//	    transaction that only locked the row returned a time earlier than
//	    one that transaction read before releasing it: tried, not kept);
//	ok  re-checks the decision beforeLock took on the row it read (below);
//	q   inserts the quote, ON CONFLICT DO NOTHING: a key accepted while
//	    this statement waited (a double click) writes nothing;
//	u   moves the lot (highest, quotes, the L11 countdown restart), only
//	    when q inserted; everything else depends on u's row: the record
//	    entries (e), the audit record (a, audit_append), the public event
//	    (pt, pe) and the alerts (so, ar, st, se), with the trigger's NOTIFY
//	    as live.Publish's. Nothing is written when ok or q has no row.
//
// Locks are taken in quoteTx's order (the lot, the audit chain's head, the
// public topic, the supervisors' topic): each CTE reads the one before.
//
// Why ok accepts only what check would accept on the locked row at the
// time read under the lock. beforeLock found the quote acceptable, by
// check's own rules (ascendingPeriod and ascending), on a committed version
// V of the row. The locked version L is V or a later one. ok requires:
//   - L's state is V's (open or timed). The mode, opening time, last hour,
//     start price, increment, whole-increments rule and price cap never
//     change once the lot is open, so check reads the same ones on L;
//   - now inside V's period [from, until), and L's period end (closes_at
//     while open, countdown_end while timed) not before V's: L's period
//     then holds V's, and check's period test passes on L;
//   - L's highest is V's (check's amount test is the one beforeLock ran),
//     or the amount is at least L's highest plus the increment (check's
//     test on L; whole increments depend only on the constants).
// So the quote is accepted where the locked path, given the lock at that
// moment, would accept it. When ok or q has no row, the locked path decides
// (quoteTx), except that an amount outbid by L itself, at a time inside L's
// ascending period, is refused at once: L is a committed version and the
// locked path can only refuse that amount on it or any later one
// (outbid.go's argument) — unless the key was accepted meanwhile, which
// outbidLocked checks first.
//
// The same-origin probe (K1/K3) cannot read the statement's snapshot,
// taken before the lock wait: it would miss the quotes accepted during the
// wait. It calls auction_same_origin (migration 00033), a VOLATILE function,
// which takes a fresh snapshot when so runs, after the lock was granted; so
// the alerts go out in the quote's own statement, exact and in quote order.

// taken is what the statement returns: the row version it locked and the
// time read under the lock, and the quote when it was accepted.
type taken struct {
	Now       time.Time  `gorm:"column:now"`
	QuoteID   *int64     `gorm:"column:quote_id"`
	QuoteAt   *time.Time `gorm:"column:quote_at"`
	NewQuotes int        `gorm:"column:new_quotes"`
	NewEnd    *time.Time `gorm:"column:new_end"`
	Self      bool       `gorm:"column:self"`
	Lot       `gorm:"embedded"`
}

// jsonTime is SQL for a timestamptz as Go's encoding/json writes a UTC
// time (RFC 3339, fractional seconds without trailing zeros), as
// audit_append formats it (migration 00009).
func jsonTime(x string) string {
	us := "(extract(microseconds FROM " + x + ")::bigint % 1000000)"
	return "to_char(" + x + ` AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS') || CASE WHEN ` + us + " = 0 THEN '' ELSE '.' || rtrim(lpad(" +
		us + "::text, 6, '0'), '0') END || 'Z'"
}

// fastSQL is the statement. Its arguments are named (gorm's @name, which
// ends at a space, comma or parenthesis: hence CAST(@x AS t), not @x::t).
var fastSQL = `WITH lk AS (
	SELECT * FROM auction_lots WHERE lot_id = @lot FOR NO KEY UPDATE),
d AS (
	SELECT lk.*, ggzy_now() AS now FROM lk),
ok AS (
	SELECT d.* FROM d
	WHERE d.state = @state AND d.now >= @from AND d.now < @until
		AND CASE d.state WHEN 'timed' THEN d.countdown_end ELSE d.closes_at END >= @end0
		AND (d.highest IS NOT DISTINCT FROM CAST(@h0 AS numeric) OR CAST(@amount AS numeric) >= d.highest + CAST(@inc AS numeric))),
q AS (
	INSERT INTO auction_quotes (lot_id, registration_id, phase, amount, at, idem_key, ip, device)
	SELECT ok.lot_id, @reg, ok.state, @amount, ok.now, @key, @ip, @device FROM ok
	ON CONFLICT DO NOTHING
	RETURNING id, at),
u AS (
	UPDATE auction_lots al SET highest = @amount, highest_reg = @reg, quotes = al.quotes + 1,
		countdown_end = CASE WHEN al.state = 'timed' THEN q.at + al.countdown_s * interval '1 second' ELSE al.countdown_end END
	FROM q WHERE al.lot_id = @lot
	RETURNING q.id, q.at, al.quotes, al.countdown_end),
e AS (
	INSERT INTO auction_log (lot_id, at, kind, code, amount, rule, detail, idem_key, until)
	SELECT @lot, u.at, v.kind, v.code, v.amount, v.rule, v.detail, v.idem_key, v.until
	FROM u CROSS JOIN LATERAL (VALUES
		(1, 'quote', CAST(@code AS text), CAST(@amount AS numeric), '', CAST(@state AS text), CAST(@key AS text), NULL::timestamptz),
		(2, 'restart', '', NULL, 'L11', CAST(@restart AS text), '', u.countdown_end)) v(n, kind, code, amount, rule, detail, idem_key, until)
	WHERE v.n = 1 OR @state = 'timed'
	ORDER BY v.n
	RETURNING id),
a AS (
	SELECT audit_append(audit_chain('lot', @lot_text), u.at, CAST(@actor_id AS bigint), @actor, @role, 'auction.quote', 'lot', @lot_text,
		@aip, @summary) AS id FROM u),
pt AS (
	INSERT INTO live_topics AS t (topic, last_seq) SELECT @topic, 1 FROM a
	ON CONFLICT (topic) DO UPDATE SET last_seq = t.last_seq + 1 RETURNING last_seq),
pe AS (
	INSERT INTO live_events (topic, seq, kind, data, created_at)
	SELECT @topic, pt.last_seq, 'quote', CAST(@ev AS jsonb) || jsonb_build_object('at', ` + jsonTime("u.at") + `, 'quotes', u.quotes)
		|| CASE WHEN u.countdown_end IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('countdown_end', ` + jsonTime("u.countdown_end") + `) END,
		clock_timestamp()
	FROM pt, u RETURNING seq),
so AS (
	SELECT auction_same_origin(@lot, @reg, @ip, @device, u.id) AS same,
		COALESCE(ok.highest_reg = @reg, false) AS self, u.at
	FROM ok, u),
` + alertsSQL(", pe") + `
SELECT d.*, u.id AS quote_id, u.at AS quote_at, u.quotes AS new_quotes, u.countdown_end AS new_end,
	COALESCE(so.self, false) AS self,
	(SELECT count(*) FROM e) + (SELECT count(*) FROM se) AS written
FROM d LEFT JOIN u ON true LEFT JOIN so ON true`

// alertsSQL publishes a quote's alerts on the supervisors' topic, as
// alerts does, from a CTE so (same: the other codes from the quote's
// address or device, self: it outbid only itself, at: the quote's time)
// that precedes it, after the relations whose locks come
// first (the public topic's). One live event per alert, numbered as
// live.Publish numbers them: the topic's counter moves by their count,
// under its row lock until the statement commits.
func alertsSQL(after string) string {
	return `ar AS (
	SELECT so.at, v.n, v.kind, v.text, row_number() OVER (ORDER BY v.n) AS i, count(*) OVER () AS k
	FROM so CROSS JOIN LATERAL (VALUES
		(1, 'same_origin', CASE WHEN so.same <> '' THEN format(CAST(@same_fmt AS text), CAST(@code AS text), so.same) END),
		(2, 'self_outbid', CASE WHEN so.self THEN CAST(@self_text AS text) END)) v(n, kind, text)
	WHERE v.text IS NOT NULL),
st AS (
	INSERT INTO live_topics AS t (topic, last_seq) SELECT @sup, count(*) FROM ar` + after + ` HAVING count(*) > 0
	ON CONFLICT (topic) DO UPDATE SET last_seq = t.last_seq + EXCLUDED.last_seq RETURNING last_seq),
se AS (
	INSERT INTO live_events (topic, seq, kind, data, created_at)
	SELECT @sup, st.last_seq - ar.k + ar.i, 'alert', jsonb_build_object('at', ` + jsonTime("ar.at") + `, 'kind', ar.kind, 'text', ar.text),
		clock_timestamp()
	FROM st, ar ORDER BY ar.i RETURNING seq)`
}

// quickQuote takes a common quote in one statement (above). It returns the
// accepted quote, or a refusal of an amount outbid by the locked row, or
// neither (res and err nil): then the locked path decides.
func (s *Service) quickQuote(ctx context.Context, a trading.Actor, v *Lot, b *Bidder, amount decimal.Decimal, key, device string) (*QuoteResult, error) {
	from, until, ok := v.ascendingPeriod()
	if !ok {
		return nil, nil
	}
	phase := v.State
	after := *v
	after.Highest = &amount
	ev, err := json.Marshal(QuoteEvent{Code: b.Code, Amount: &amount, State: v.State, Next: after.next()})
	if err != nil {
		return nil, err
	}
	av := trading.AuditValuesOf(time.Time{}, a, quoteSummary(b.Code, phase))
	args := map[string]any{
		"lot": v.LotID, "lot_text": fmt.Sprint(v.LotID), "state": v.State, "from": from, "until": until, "end0": v.periodEnd(),
		"h0": v.Highest, "amount": amount, "inc": v.inc(), "reg": b.RegistrationID, "key": key, "ip": a.IP, "device": device,
		"code": b.Code, "restart": restartDetail(v.CountdownS), "actor_id": av.ActorID, "actor": av.Actor, "role": av.Role,
		"aip": av.IP, "summary": av.Summary, "topic": topic(v.LotID), "sup": supTopic(v.LotID), "ev": string(ev),
		"same_fmt": sameOriginText, "self_text": selfOutbidText(b.Code, amount),
	}
	var rows []taken
	if err := s.DB.WithContext(ctx).Raw(fastSQL, args).Scan(&rows).Error; err != nil {
		if trading.IsRetryable(err) {
			return nil, nil // a deadlock or serialization failure wrote nothing: the locked path retries
		}
		return nil, fmt.Errorf("auction: quote on lot %d: %w", v.LotID, err)
	}
	if len(rows) != 1 {
		return nil, nil
	}
	t := &rows[0]
	if t.QuoteID == nil {
		return nil, s.outbidLocked(ctx, &t.Lot, t.Now, b, amount, key)
	}
	q := &Quote{ID: *t.QuoteID, LotID: v.LotID, RegistrationID: b.RegistrationID, Phase: phase, Amount: amount, At: *t.QuoteAt,
		IdemKey: key, IP: a.IP, Device: device}
	return &QuoteResult{Quote: q, Code: b.Code, State: v.State, CountdownEnd: t.NewEnd}, nil
}

// outbidLocked is a quote the statement did not take: refused at once when
// the row it locked, at the time read under that lock, outbids the amount
// in an ascending period (outbid.go's rule on a later committed version),
// unless the key was accepted meanwhile (a double click: the locked path
// answers with the earlier quote). The refusal is recorded in the same
// statement that looks for the key, with a snapshot taken after the lock
// was released. nil: the locked path decides.
func (s *Service) outbidLocked(ctx context.Context, l *Lot, now time.Time, b *Bidder, amount decimal.Decimal, key string) error {
	if !l.ascendingNow(now) {
		return nil
	}
	_, refused := l.ascending(amount)
	te := trading.AsError(refused)
	if te == nil {
		return nil
	}
	// Equivalent SQL: the refusal, unless the bidder's quote with this key
	// was accepted.
	// Stamped with the time read under the lock that decided it, as refuse
	// stamps its refusals (refusals.go).
	res := s.DB.WithContext(ctx).Exec(`INSERT INTO auction_log (lot_id, at, kind, code, amount, rule, detail, idem_key)
		SELECT ?, ?, 'refused', ?, ?, ?, ?, ?
		WHERE NOT EXISTS (SELECT 1 FROM auction_quotes WHERE registration_id = ? AND idem_key = ?)`,
		l.LotID, now, b.Code, amount, te.Rule, trading.Clip(te.Message, 500), trading.Clip(key, 64), b.RegistrationID, key)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return nil
	}
	return refused
}
