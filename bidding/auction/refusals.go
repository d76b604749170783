package auction

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/shopspring/decimal"
)

// Most quotes under load are refused (BENCHMARKS.md, "Online bidding"), and
// each refusal is recorded in the bidding record (issue 15 §10: only the
// refusal is written). One statement per refusal was half of every refused
// quote's round trips, each waiting for a connection of the pool. So the
// refusals of an instance are written in groups, as PostgreSQL commits WAL:
// the first refusal to arrive leads a group, waits for the group before it
// to be written, then writes its group (every refusal that arrived
// meanwhile) in one statement; the others wait for that write. A refusal is
// answered only once it is recorded, as before. When nothing else is being
// written, a group is one refusal and costs what it did.

// refusalRow is one refusal for the record.
type refusalRow struct {
	Lot    int64            `json:"lot"`
	At     *time.Time       `json:"at"` // when it was decided (database time); nil: when written
	Code   string           `json:"code"`
	Amount *decimal.Decimal `json:"amount"`
	Rule   string           `json:"rule"`
	Detail string           `json:"detail"`
	Key    string           `json:"key"`
}

// decidedAt carries the database time a refusal was decided at (read in
// the statement or under the lock that decided it) to refuse, which
// records the refusal with that time rather than the time of its group's
// write: a refusal decided before a close is recorded before it.
type decidedAt struct {
	err error
	at  time.Time
}

func (d *decidedAt) Error() string { return d.err.Error() }
func (d *decidedAt) Unwrap() error { return d.err }

// decided wraps a refusal with the time it was decided; other errors pass.
func decided(now time.Time, err error) error {
	if errors.Is(err, ErrRefused) {
		return &decidedAt{err: err, at: now}
	}
	return err
}

// groupWrite bounds one group's write: a stuck write (a lock on the
// record's table) holds up the instance's refusals for this long at most.
const groupWrite = 10 * time.Second

// refusalSQL writes the refusals of a JSON array in their order, each if
// its lot is bid online at all, stamped with its deciding time or else the
// database's time now.
const refusalSQL = `INSERT INTO auction_log (lot_id, at, kind, code, amount, rule, detail, idem_key)
	SELECT (e.v->>'lot')::bigint, coalesce((e.v->>'at')::timestamptz, ggzy_now()), 'refused', e.v->>'code',
		(e.v->>'amount')::numeric, e.v->>'rule', e.v->>'detail', e.v->>'key'
	FROM jsonb_array_elements(?::jsonb) WITH ORDINALITY e(v, n)
	WHERE EXISTS (SELECT 1 FROM auction_lots WHERE lot_id = (e.v->>'lot')::bigint)
	ORDER BY e.n`

// refusalGroup is the refusals written by one statement.
type refusalGroup struct {
	rows []refusalRow
	done chan struct{} // closed once written (or failed, which is logged)
}

// refusalLog groups an instance's refusal records; the zero value is ready.
type refusalLog struct {
	mu    sync.Mutex
	open  *refusalGroup // the group refusals join, until its leader writes it
	write sync.Mutex    // one group written at a time
}

// logRefusal records r in the bidding record and returns once it is
// written (a failure is logged: the refusal is answered either way), or
// when ctx ends: the group's leader writes it all the same.
func (s *Service) logRefusal(ctx context.Context, r refusalRow) {
	// PostgreSQL's text (and jsonb) refuse NUL, which a malformed amount
	// or key may carry into the refusal's text.
	r.Code, r.Detail, r.Key = noNUL(r.Code), noNUL(r.Detail), noNUL(r.Key)
	l := &s.refusals
	l.mu.Lock()
	g := l.open
	leader := g == nil
	if leader {
		g = &refusalGroup{done: make(chan struct{})}
		l.open = g
	}
	g.rows = append(g.rows, r)
	l.mu.Unlock()
	if !leader {
		select {
		case <-g.done:
		case <-ctx.Done():
		}
		return
	}
	defer close(g.done)
	l.write.Lock()
	defer l.write.Unlock()
	l.mu.Lock()
	l.open = nil // later refusals start the next group
	rows := g.rows
	l.mu.Unlock()
	// The group's write goes on if this request's client leaves (the other
	// refusals in it are waiting for it), within groupWrite.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), groupWrite)
	defer cancel()
	if err := s.writeRefusals(wctx, rows); err != nil && len(rows) > 1 {
		// One bad row must not lose the others: each on its own, with a
		// bound of its own if the group's ran out.
		if wctx.Err() != nil {
			var cancel2 context.CancelFunc
			wctx, cancel2 = context.WithTimeout(context.WithoutCancel(ctx), groupWrite)
			defer cancel2()
		}
		for _, r := range rows {
			err = s.writeRefusals(wctx, []refusalRow{r})
			if err != nil && s.Log != nil {
				s.Log.Warn("auction: record a refusal", "lot", r.Lot, "err", err)
			}
		}
	} else if err != nil && s.Log != nil {
		s.Log.Warn("auction: record a refusal", "lot", rows[0].Lot, "err", err)
	}
}

func (s *Service) writeRefusals(ctx context.Context, rows []refusalRow) error {
	data, err := json.Marshal(rows)
	if err != nil {
		return err
	}
	return s.DB.WithContext(ctx).Exec(refusalSQL, string(data)).Error
}

func noNUL(s string) string { return strings.ReplaceAll(s, "\x00", "") }
