package trading

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
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
	ID         int64     `gorm:"column:id;primaryKey"`
	OccurredAt time.Time `gorm:"column:occurred_at"`
	ActorID    *int64    `gorm:"column:actor_id"`
	Actor      string    `gorm:"column:actor"`
	Role       string    `gorm:"column:role"`
	Action     string    `gorm:"column:action"`
	ObjectType string    `gorm:"column:object_type"`
	ObjectID   string    `gorm:"column:object_id"`
	IP         string    `gorm:"column:ip"`
	Summary    string    `gorm:"column:summary"`
	PrevHash   string    `gorm:"column:prev_hash"`
	Hash       string    `gorm:"column:hash"`
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
		e.PrevHash, strconv.FormatInt(e.ID, 10),
		e.OccurredAt.UTC().Truncate(time.Microsecond).Format(time.RFC3339Nano),
		actorID, e.Actor, e.Role, e.Action, e.ObjectType, e.ObjectID, e.IP, e.Summary,
	}
	h := sha256.Sum256([]byte(strings.Join(fields, "\x1f")))
	return hex.EncodeToString(h[:])
}

// Audit appends a record to the audit log inside tx, the transaction of the
// change it records, so a change and its record commit or fail together.
// Writers queue on the chain head's row lock, which keeps the chain linear.
func Audit(tx *gorm.DB, now time.Time, a Actor, action, objectType, objectID, summary string) error {
	var head auditHead
	if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).First(&head, 1).Error; err != nil {
		return fmt.Errorf("lock audit head: %w", err)
	}
	var id int64
	if err := tx.Raw("SELECT nextval('audit_events_id_seq')").Scan(&id).Error; err != nil {
		return err
	}
	e := AuditEvent{
		ID: id, OccurredAt: now.UTC().Truncate(time.Microsecond), Actor: a.Username, Role: string(a.Role),
		Action: action, ObjectType: objectType, ObjectID: objectID, IP: a.IP,
		Summary: truncateRunes(summary, 2000), PrevHash: head.LastHash,
	}
	if a.AccountID != 0 {
		id := a.AccountID
		e.ActorID = &id
	}
	if e.Actor == "" {
		e.Actor = "anonymous"
	}
	e.Hash = e.contentHash()
	if err := tx.Create(&e).Error; err != nil {
		return fmt.Errorf("write audit record: %w", err)
	}
	return tx.Model(&auditHead{}).Where("id = 1").Updates(map[string]any{
		"last_id": e.ID, "last_hash": e.Hash, "row_count": gorm.Expr("row_count + 1"),
	}).Error
}

// AuditProblem names the first row where the chain breaks.
type AuditProblem struct {
	ID     int64
	Reason string
}

func (p *AuditProblem) Error() string {
	return fmt.Sprintf("审计日志第 %d 条记录异常：%s (audit row %d: %s)", p.ID, p.Reason, p.ID, p.Reason)
}

// VerifyAudit walks the chain in order and returns the number of rows
// checked and the first problem: a row whose content no longer matches its
// hash (edited), a row whose predecessor is not the previous row (deleted or
// inserted), or a head that does not match the last row (tail deleted).
func VerifyAudit(ctx context.Context, db *gorm.DB) (int64, *AuditProblem, error) {
	var head auditHead
	if err := db.WithContext(ctx).First(&head, 1).Error; err != nil {
		return 0, nil, err
	}
	prev := strings.Repeat("0", 64)
	var n, lastID int64
	var problem *AuditProblem
	var batch []AuditEvent
	err := db.WithContext(ctx).Order("id").FindInBatches(&batch, 1000, func(tx *gorm.DB, _ int) error {
		for i := range batch {
			e := &batch[i]
			switch {
			case e.PrevHash != prev:
				problem = &AuditProblem{e.ID, "与前一条记录的哈希链接不符（前面的记录被删除、插入或修改）"}
			case e.contentHash() != e.Hash:
				problem = &AuditProblem{e.ID, "内容与其哈希不符（记录被修改）"}
			}
			if problem != nil {
				return errStopWalk
			}
			prev, lastID = e.Hash, e.ID
			n++
		}
		return nil
	}).Error
	if err != nil && err != errStopWalk {
		return n, nil, err
	}
	if problem == nil && (head.LastHash != prev || head.RowCount != n) {
		problem = &AuditProblem{lastID, fmt.Sprintf("链尾与记录头不符：应有 %d 条、最后一条为 %d，实有 %d 条（末尾记录被删除）", head.RowCount, head.LastID, n)}
	}
	return n, problem, nil
}

var errStopWalk = fmt.Errorf("stop")

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
