package bidding

import (
	"context"
	"errors"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"

	"github.com/ggzy/ggzy/trading"
)

// First registrations that arrive while a statement is writing others
// wait for the next one and are written together: under a burst (the
// registration benchmark, 2,000 bidders for one lot) a statement writes
// dozens of registrations and their audit records for the cost of a few,
// and a lone registration is written at once. Each registration is still
// decided on its own: the statement writes those whose lot and project
// still have the versions they were admitted on and whose bidder has no
// row yet, and leaves every other one to register, which decides it in a
// transaction of its own. A statement that fails leaves all of its
// registrations to register, so a failure costs time, never a wrong answer.
//
// The writers are shared by every lot, so a statement never waits long on
// anyone: a project locked by other work (a suspension, a publication) is
// skipped, its registrations left to register, which waits for it; any
// other lock is given up after batchLockWait, the whole batch left to
// register. The queue is bounded; past it registrations go to register
// directly, as they all did before.
const (
	batchWriters  = 2    // statements writing at once
	batchMax      = 64   // registrations in one statement
	batchQueueMax = 1024 // registrations waiting
	// batchLockWait bounds a statement's wait for a lock (under
	// PostgreSQL's deadlock_timeout, so a would-be deadlock ends here).
	batchLockWait = "500ms"
)

// regRequest is one admitted registration waiting to be written.
type regRequest struct {
	row   *lotRow       // the lot and project it was admitted on, with their versions
	reg   *Registration // completed with its id when written
	audit trading.AuditValues
	hooks []int     // the hooks of Service.OnRegister that apply
	taken bool      // a statement has it (under regBatcher.mu)
	done  chan bool // true: written; false: left to register
}

// regBatcher queues registrations for the statements that write them.
type regBatcher struct {
	mu      sync.Mutex
	queue   []*regRequest
	writers int
	written int // the most registrations one statement wrote
}

// write queues r and waits until a statement has written it (true) or left
// it to register (false). A caller that gives up (its context ends) before
// a statement took its registration takes it back; once taken, it is
// written or not, and the caller is told.
func (b *regBatcher) write(ctx context.Context, s *Service, r *regRequest) (bool, error) {
	r.done = make(chan bool, 1)
	b.mu.Lock()
	if len(b.queue) >= batchQueueMax {
		b.mu.Unlock()
		return false, nil
	}
	b.queue = append(b.queue, r)
	if b.writers < batchWriters {
		b.writers++
		// The writer outlives this request: it writes the queue, other
		// callers' registrations too. It keeps this request's values but not
		// its cancellation (context.WithoutCancel); each statement bounds
		// itself (writeRegistrations).
		go b.run(context.WithoutCancel(ctx), s)
	}
	b.mu.Unlock()
	select {
	case ok := <-r.done:
		return ok, nil
	case <-ctx.Done():
	}
	b.mu.Lock()
	if !r.taken {
		b.queue = slices.DeleteFunc(b.queue, func(q *regRequest) bool { return q == r })
		b.mu.Unlock()
		return false, ctx.Err()
	}
	b.mu.Unlock()
	return <-r.done, nil
}

// mostWritten is the most registrations one statement has written.
func (b *regBatcher) mostWritten() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.written
}

// run writes what is queued, batchMax at a time, until the queue is empty.
func (b *regBatcher) run(ctx context.Context, s *Service) {
	for {
		b.mu.Lock()
		n := min(len(b.queue), batchMax)
		if n == 0 {
			b.writers--
			b.mu.Unlock()
			return
		}
		batch := make([]*regRequest, n)
		copy(batch, b.queue)
		rest := copy(b.queue, b.queue[n:])
		clear(b.queue[rest:]) // no stale pointers behind the queue
		b.queue = b.queue[:rest]
		for _, r := range batch {
			r.taken = true
		}
		b.mu.Unlock()
		written := s.writeSafely(ctx, batch)
		n = 0
		for i, r := range batch {
			if written[i] {
				n++
			}
			r.done <- written[i]
		}
		b.mu.Lock()
		b.written = max(b.written, n)
		b.mu.Unlock()
	}
}

// writeSafely is writeRegistrations, which may run a hook: a panic in it
// leaves the batch to register (and is logged) instead of ending the
// server, as it would outside the request's own recovery.
func (s *Service) writeSafely(ctx context.Context, batch []*regRequest) (written []bool) {
	defer func() {
		if p := recover(); p != nil {
			if s.Log != nil {
				s.Log.Error("registration batch panicked", "panic", p, "stack", string(debug.Stack()))
			}
			written = make([]bool, len(batch))
		}
	}()
	return s.writeRegistrations(ctx, batch)
}

// writeRegistrations writes a batch in one statement and tells which were
// written. Two registrations of one bidder for one lot in the batch: the
// second is left to register, which finds the first.
func (s *Service) writeRegistrations(ctx context.Context, batch []*regRequest) []bool {
	written := make([]bool, len(batch))
	type key struct{ lot, bidder int64 }
	index := make(map[key]int, len(batch))
	var (
		projectIDs, lotIDs, bidderIDs                                []int64
		projectVersions, lotVersions, kinds, statuses, names, phones []string
		declarations                                                 []*string
		at, auditAt                                                  []time.Time
		actorIDs                                                     []*int64
		actors, roles, ips, summaries                                []string
	)
	for i, r := range batch {
		k := key{r.reg.LotID, r.reg.BidderID}
		if _, twice := index[k]; twice {
			continue
		}
		index[k] = i
		var decl *string
		if r.reg.Declarations != nil {
			d := string(r.reg.Declarations)
			decl = &d
		}
		projectIDs, projectVersions = append(projectIDs, r.row.P.ID), append(projectVersions, r.row.ProjXmin)
		lotIDs, lotVersions = append(lotIDs, r.reg.LotID), append(lotVersions, r.row.LotXmin)
		bidderIDs, kinds, statuses = append(bidderIDs, r.reg.BidderID), append(kinds, string(r.reg.Kind)), append(statuses, string(r.reg.Status))
		names, phones, declarations = append(names, r.reg.ContactName), append(phones, r.reg.ContactPhone), append(declarations, decl)
		at, auditAt, actorIDs = append(at, r.reg.CreatedAt), append(auditAt, r.audit.At), append(actorIDs, r.audit.ActorID)
		actors, roles, ips, summaries = append(actors, r.audit.Actor), append(roles, r.audit.Role), append(ips, r.audit.IP), append(summaries, r.audit.Summary)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	args := []any{projectIDs, projectVersions, lotIDs, lotVersions, bidderIDs, kinds, statuses, names, phones, declarations,
		at, auditAt, actorIDs, actors, roles, ips, summaries}
	insert := func(pool gorm.ConnPool) error {
		rows, err := pool.QueryContext(ctx, writeRegistrationsSQL, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id, lot, bidder, auditID int64
			if err := rows.Scan(&id, &lot, &bidder, &auditID); err != nil {
				return err
			}
			i := index[key{lot, bidder}]
			batch[i].reg.ID = id // its times are the clock's, as register answers them
			written[i] = true
		}
		return rows.Err() // an error here: the statement failed and wrote nothing
	}
	// One transaction: the lock wait is bounded in it, and the hooks' work
	// commits with the registrations or not at all.
	err := s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec("SET LOCAL lock_timeout = '" + batchLockWait + "'").Error; err != nil {
			return err
		}
		if err := insert(tx.Statement.ConnPool); err != nil {
			return err
		}
		for h, hook := range s.OnRegister {
			var regs []Registered
			for i, r := range batch {
				if written[i] && slices.Contains(r.hooks, h) {
					regs = append(regs, Registered{Reg: r.reg, P: &r.row.P, Lot: &r.row.Lot, W: WindowOf(&r.row.P, &r.row.Lot, openedAt(&r.row.P))})
				}
			}
			if len(regs) > 0 {
				if err := hook.Run(ctx, tx, regs); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		s.logBatch(err, len(batch))
		clear(written)
	}
	return written
}

func (s *Service) logBatch(err error, n int) {
	var pe *pgconn.PgError
	lockWait := errors.As(err, &pe) && pe.Code == "55P03" // lock_timeout: expected, register waits instead
	if !trading.IsRetryable(err) && !lockWait && s.Log != nil {
		s.Log.Warn("registration batch left to single transactions", "registrations", n, "err", err)
	}
}

// writeRegistrationsSQL inserts the registrations whose project (locked
// key-share, as register locks it; skipped if another transaction holds it
// locked more strongly) and lot still have the versions (xmin) they were
// admitted on and whose bidder has no row for the lot, and
// appends their audit records, with the chains' heads locked in ascending
// order so that two statements never wait for each other.
const writeRegistrationsSQL = `WITH v AS (
	SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::text[], $5::bigint[], $6::text[], $7::text[],
		$8::text[], $9::text[], $10::text[], $11::timestamptz[], $12::timestamptz[], $13::bigint[], $14::text[],
		$15::text[], $16::text[], $17::text[])
	AS v(project_id, project_version, lot_id, lot_version, bidder_id, kind, status, contact_name, contact_phone,
		declarations, at, audit_at, actor_id, actor, role, ip, summary)),
p AS (SELECT id, xmin::text AS version FROM projects WHERE id IN (SELECT project_id FROM v) FOR KEY SHARE SKIP LOCKED),
l AS (SELECT id, xmin::text AS version FROM lots WHERE id IN (SELECT lot_id FROM v)),
ins AS (
	INSERT INTO registrations (lot_id, bidder_id, kind, status, contact_name, contact_phone, declarations, created_at, updated_at)
	SELECT v.lot_id, v.bidder_id, v.kind, v.status, v.contact_name, v.contact_phone, v.declarations::jsonb, v.at, v.at
	FROM v JOIN p ON p.id = v.project_id AND p.version = v.project_version
		JOIN l ON l.id = v.lot_id AND l.version = v.lot_version
	ON CONFLICT (lot_id, bidder_id) DO NOTHING
	RETURNING id, lot_id, bidder_id, created_at),
r AS MATERIALIZED (
	SELECT ins.*, v.audit_at, v.actor_id, v.actor, v.role, v.ip, v.summary, audit_chain('registration', ins.id::text) AS chain
	FROM ins JOIN v ON v.lot_id = ins.lot_id AND v.bidder_id = ins.bidder_id
	ORDER BY chain, ins.id)
SELECT r.id, r.lot_id, r.bidder_id,
	audit_append(r.chain, r.audit_at, r.actor_id, r.actor, r.role, 'registration.create', 'registration', r.id::text, r.ip, r.summary)
FROM r`
