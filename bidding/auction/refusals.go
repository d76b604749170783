package auction

import (
	"context"
	"encoding/json"
	"sync"

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
	Code   string           `json:"code"`
	Amount *decimal.Decimal `json:"amount"`
	Rule   string           `json:"rule"`
	Detail string           `json:"detail"`
	Key    string           `json:"key"`
}

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
// written (a failure is logged: the refusal is answered either way).
func (s *Service) logRefusal(ctx context.Context, r refusalRow) {
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
		<-g.done
		return
	}
	defer close(g.done)
	l.write.Lock()
	defer l.write.Unlock()
	l.mu.Lock()
	l.open = nil // later refusals start the next group
	rows := g.rows
	l.mu.Unlock()
	// The group's write goes on if this request's client leaves: the other
	// refusals in it are waiting for it.
	ctx = context.WithoutCancel(ctx)
	data, err := json.Marshal(rows)
	if err == nil {
		// Equivalent SQL: the refusals in their order, each if its lot is
		// bid online at all, stamped with the database's time.
		err = s.DB.WithContext(ctx).Exec(`INSERT INTO auction_log (lot_id, at, kind, code, amount, rule, detail, idem_key)
			SELECT (e.v->>'lot')::bigint, ggzy_now(), 'refused', e.v->>'code', (e.v->>'amount')::numeric, e.v->>'rule', e.v->>'detail', e.v->>'key'
			FROM jsonb_array_elements(?::jsonb) WITH ORDINALITY e(v, n)
			WHERE EXISTS (SELECT 1 FROM auction_lots WHERE lot_id = (e.v->>'lot')::bigint)
			ORDER BY e.n`, string(data)).Error
	}
	if err != nil && s.Log != nil {
		s.Log.Warn("auction: record refusals", "n", len(rows), "err", err)
	}
}
