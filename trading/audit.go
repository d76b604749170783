package trading

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Actor is who does something: an account (or the system) and where from.
type Actor struct {
	AccountID int64
	Username  string
	Role      Role
	IP        string
}

// SystemActor is the platform itself (demo loader, scheduled publishing).
var SystemActor = Actor{Username: "system", Role: "system"}

// AuditEvent is one row of the hash-chained audit log (审计日志).
type AuditEvent struct {
	ID         int64     `gorm:"column:id;primaryKey" json:"id"`
	Chain      int       `gorm:"column:chain" json:"chain"`
	OccurredAt time.Time `gorm:"column:occurred_at" json:"occurred_at"`
	ActorID    *int64    `gorm:"column:actor_id" json:"actor_id"`
	Actor      string    `gorm:"column:actor" json:"actor"`
	Role       string    `gorm:"column:role" json:"role"`
	Action     string    `gorm:"column:action" json:"action"`
	ObjectType string    `gorm:"column:object_type" json:"object_type"`
	ObjectID   string    `gorm:"column:object_id" json:"object_id"`
	IP         string    `gorm:"column:ip" json:"ip"`
	Summary    string    `gorm:"column:summary" json:"summary"`
	PrevHash   string    `gorm:"column:prev_hash" json:"prev_hash"`
	Hash       string    `gorm:"column:hash" json:"hash"`
}

func (AuditEvent) TableName() string { return "audit_events" }

type auditHead struct {
	ID       int    `gorm:"column:id;primaryKey"`
	LastID   int64  `gorm:"column:last_id"`
	LastHash string `gorm:"column:last_hash"`
	RowCount int64  `gorm:"column:row_count"`
}

func (auditHead) TableName() string { return "audit_head" }

// contentHash is the SHA-256 over the previous hash and every field of the
// row. Times are taken at microsecond precision, as PostgreSQL stores them.
func (e *AuditEvent) contentHash() string {
	actorID := ""
	if e.ActorID != nil {
		actorID = strconv.FormatInt(*e.ActorID, 10)
	}
	fields := []string{
		e.PrevHash, strconv.FormatInt(e.ID, 10), strconv.Itoa(e.Chain),
		e.OccurredAt.UTC().Truncate(time.Microsecond).Format(time.RFC3339Nano),
		actorID, e.Actor, e.Role, e.Action, e.ObjectType, e.ObjectID, e.IP, e.Summary,
	}
	h := sha256.Sum256([]byte(strings.Join(fields, "\x1f")))
	return hex.EncodeToString(h[:])
}

// AuditChains is how many interleaved chains the log has.
const AuditChains = 16

// auditChain is the chain of an object's records: all the records of one
// object are in one chain, and different objects spread over all of them.
func auditChain(objectType, objectID string) int {
	h := fnv.New32a()
	h.Write([]byte(objectType + "\x1f" + objectID))
	return int(h.Sum32() % AuditChains)
}

// Audit appends a record to the audit log inside tx, the transaction of the
// change it records, so a change and its record commit or fail together.
// Writers of a chain queue on its head's row lock, which keeps it linear.
func Audit(tx *gorm.DB, now time.Time, a Actor, action, objectType, objectID, summary string) error {
	// One round trip: audit_append (migration 00009) locks the chain's
	// head, takes the next id, hashes the record as contentHash does,
	// writes it and moves the head. The lock lasts until commit.
	v := AuditValuesOf(now, a, summary)
	err := tx.Exec(`SELECT audit_append(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, auditChain(objectType, objectID), v.At, v.ActorID, v.Actor,
		v.Role, action, objectType, objectID, v.IP, v.Summary).Error
	if err != nil {
		return fmt.Errorf("write audit record: %w", err)
	}
	return nil
}

// AuditValues are the fields of an audit record as audit_append takes
// them, for a statement that writes objects and their records at once
// (their ids exist only inside it, so it computes their chains with
// audit_chain, migration 00011) and must lock the chains' heads in
// ascending order, like any writer of several records in one statement.
type AuditValues struct {
	At      time.Time
	ActorID *int64
	Actor   string
	Role    string
	IP      string
	Summary string
}

// AuditValuesOf is what Audit records of who did something when.
func AuditValuesOf(now time.Time, a Actor, summary string) AuditValues {
	v := AuditValues{At: now.UTC().Truncate(time.Microsecond), Actor: a.Username, Role: string(a.Role), IP: a.IP,
		Summary: truncateRunes(summary, 2000)}
	if a.AccountID != 0 {
		id := a.AccountID
		v.ActorID = &id
	}
	if v.Actor == "" {
		v.Actor = "anonymous"
	}
	return v
}

// auditPage is how many records VerifyAudit reads at a time (a variable:
// the tests page through small logs).
var auditPage = 1000

// AuditProblem names the first row where the chain breaks.
type AuditProblem struct {
	ID     int64
	Reason string
}

func (p *AuditProblem) Error() string {
	return fmt.Sprintf("审计日志第 %d 条记录异常：%s (audit row %d: %s)", p.ID, p.Reason, p.ID, p.Reason)
}

// VerifyAudit walks every chain in order and returns the number of rows
// checked and the first problem (lowest row id): a row whose content no
// longer matches its hash (edited), a row whose predecessor is not the
// previous row of its chain (deleted or inserted), or a head that does not
// match its chain's last row (tail deleted).
func VerifyAudit(ctx context.Context, db *gorm.DB) (total int64, problem *AuditProblem, err error) {
	// One snapshot for the heads and every page: on a live log, a record
	// appended between two reads would look like a deleted tail.
	err = db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var e error
		total, problem, e = verifyAudit(tx)
		return e
	}, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	return total, problem, err
}

func verifyAudit(db *gorm.DB) (int64, *AuditProblem, error) {
	var heads []auditHead
	if err := db.Order("id").Find(&heads).Error; err != nil {
		return 0, nil, err
	}
	type state struct {
		prev    string
		n, last int64
	}
	chains := map[int]*state{}
	for _, h := range heads {
		chains[h.ID] = &state{prev: strings.Repeat("0", 64)}
	}
	var total int64
	var problem *AuditProblem
	note := func(p *AuditProblem) {
		if problem == nil || p.ID < problem.ID {
			problem = p
		}
	}
	// Keyset pages in (chain, id) order. Not FindInBatches: it pages on the
	// id alone, which skips rows of later chains once a page ends past them.
	lastChain, lastID := -1, int64(0)
	for {
		var batch []AuditEvent
		if err := db.Where("(chain, id) > (?, ?)", lastChain, lastID).Order("chain, id").
			Limit(auditPage).Find(&batch).Error; err != nil {
			return total, nil, err
		}
		for i := range batch {
			e := &batch[i]
			st := chains[e.Chain]
			switch {
			case st == nil:
				note(&AuditProblem{e.ID, "所属链不存在"})
				continue
			case st.prev == "broken":
				continue // this chain already failed earlier
			case e.PrevHash != st.prev:
				note(&AuditProblem{e.ID, "与前一条记录的哈希链接不符（前面的记录被删除、插入或修改）"})
				st.prev = "broken"
				continue
			case e.contentHash() != e.Hash:
				note(&AuditProblem{e.ID, "内容与其哈希不符（记录被修改）"})
				st.prev = "broken"
				continue
			}
			st.prev, st.last = e.Hash, e.ID
			st.n++
			total++
		}
		if len(batch) < auditPage {
			break
		}
		lastChain, lastID = batch[len(batch)-1].Chain, batch[len(batch)-1].ID
	}
	for _, h := range heads {
		st := chains[h.ID]
		if st.prev != "broken" && (h.LastHash != st.prev || h.RowCount != st.n) {
			note(&AuditProblem{max(st.last, h.LastID), fmt.Sprintf("第%d条链的链尾与记录头不符：应有 %d 条、最后一条为 %d，实有 %d 条（末尾记录被删除）",
				h.ID, h.RowCount, h.LastID, st.n)})
		}
	}
	return total, problem, nil
}

// AuditFilter selects audit records for the supervisors' log page.
type AuditFilter struct {
	Action     string
	ObjectType string
	ObjectID   string
	Actor      string
	From, To   time.Time
	BeforeID   int64 // keyset pagination: records with id < BeforeID
	Limit      int
}

// ListAudit returns records newest first.
func ListAudit(ctx context.Context, db *gorm.DB, f AuditFilter) ([]AuditEvent, error) {
	q := db.WithContext(ctx).Model(&AuditEvent{})
	// A sealed bid's records (object id "<lot id>/<bid ref>") stay hidden
	// until the lot's bid deadline by the database clock: before it nobody
	// but the bidder may learn whether or how many bids came in (K4/K5).
	q = q.Where(`NOT (object_type = 'sealed_bid' AND EXISTS (SELECT 1 FROM lots l
		WHERE l.id = split_part(audit_events.object_id, '/', 1)::bigint AND (l.bid_deadline IS NULL OR l.bid_deadline > ggzy_now())))`)
	if f.Action != "" {
		q = q.Where("action = ?", f.Action)
	}
	if f.ObjectType != "" {
		q = q.Where("object_type = ?", f.ObjectType)
	}
	if f.ObjectID != "" {
		q = q.Where("object_id = ?", f.ObjectID)
	}
	if f.Actor != "" {
		q = q.Where("actor = ?", f.Actor)
	}
	if !f.From.IsZero() {
		q = q.Where("occurred_at >= ?", f.From)
	}
	if !f.To.IsZero() {
		q = q.Where("occurred_at < ?", f.To)
	}
	if f.BeforeID > 0 {
		q = q.Where("id < ?", f.BeforeID)
	}
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	var out []AuditEvent
	return out, q.Order("id DESC").Limit(f.Limit).Find(&out).Error
}

func truncateRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

// BrowseAudit is a supervisor reading the log. The log shows who
// registered for what, so each look is itself recorded (K4/K5: every
// supervisor look at registrants is audited).
func (s *Service) BrowseAudit(ctx context.Context, a Actor, f AuditFilter) ([]AuditEvent, error) {
	if a.Role != RoleSupervisor {
		return nil, Forbidden("只有交易中心监督可以查看审计日志")
	}
	var out []AuditEvent
	err := Transact(ctx, s.DB, func(tx *gorm.DB) error {
		var err error
		if out, err = ListAudit(ctx, tx, f); err != nil {
			return err
		}
		return Audit(tx, s.Clock.Now(), a, "audit.view", "audit", "log",
			fmt.Sprintf("查看审计日志：操作=%q 对象=%q/%q 操作人=%q，%d条", f.Action, f.ObjectType, f.ObjectID, f.Actor, len(out)))
	})
	return out, err
}
