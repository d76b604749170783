package auction

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/shopspring/decimal"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/ggzy/ggzy/trading"
	"github.com/ggzy/ggzy/trading/rules"
)

// Record is the bidding record (竞价记录) as published: anonymised (codes,
// never names), every quote accepted or refused with its rule, countdown
// restarts, phases, suspensions and the settlement (issue 15 §8). Its
// SHA-256 is in the audit chain (action auction.record).
type Record struct {
	Format     string           `json:"format"` // "ggzy-auction-record/1"
	LotID      int64            `json:"lot_id"`
	Project    string           `json:"project"`
	Lot        string           `json:"lot"`
	Mode       string           `json:"mode"`
	StartPrice decimal.Decimal  `json:"start_price"`
	Increment  *decimal.Decimal `json:"increment,omitempty"`
	Multiple   bool             `json:"increment_multiple,omitempty"`
	PriceCap   *decimal.Decimal `json:"price_cap,omitempty"`
	Outcome    string           `json:"outcome"`
	Winner     string           `json:"winner,omitempty"` // code
	Price      *decimal.Decimal `json:"price,omitempty"`
	Reason     string           `json:"reason,omitempty"`
	SettledAt  time.Time        `json:"settled_at"`
	// After the bidding: 资格后审's fallback ("next", "no_sale") and whether
	// the announcement named a priority-right holder (P7).
	PostQualification string  `json:"post_qualification,omitempty"`
	PriorityRight     bool    `json:"priority_right,omitempty"`
	Entries           []Entry `json:"entries"`
}

const recordFormat = "ggzy-auction-record/1"

// RecordKey is where a lot's record is stored in the bucket.
func RecordKey(lotID int64) string { return fmt.Sprintf("auction-records/%d.json", lotID) }

// buildRecord reads a settled lot's record: the log up to its settlement,
// in the order it was written (later refusals of late quotes are not part
// of it, nor a refusal decided before the settlement whose group was
// written after it, refusals.go), so every instance builds the same bytes.
func buildRecord(tx *gorm.DB, l *Lot) ([]byte, error) {
	if l.State != StateSettled {
		return nil, ErrNotSettled
	}
	var head struct {
		Code string `gorm:"column:code"`
		Name string `gorm:"column:name"`
	}
	if err := tx.Raw(`SELECT p.code, l.name FROM lots l JOIN projects p ON p.id = l.project_id WHERE l.id = ?`, l.LotID).Scan(&head).Error; err != nil {
		return nil, err
	}
	var last int64
	if err := tx.Raw(`SELECT COALESCE(max(id), 0) FROM auction_log WHERE lot_id = ? AND kind = 'settled'`, l.LotID).Scan(&last).Error; err != nil {
		return nil, err
	}
	r := Record{Format: recordFormat, LotID: l.LotID, Project: head.Code, Lot: head.Name, Mode: l.Mode, StartPrice: l.StartPrice,
		Increment: l.Increment, Multiple: l.IncrementMultiple, PriceCap: l.PriceCap, Outcome: *l.Outcome, Price: l.DealPrice,
		Reason: l.NoSaleReason, SettledAt: l.SettledAt.UTC(), PostQualification: l.PostQualification, PriorityRight: l.PriorityHolder != ""}
	if l.WinnerReg != nil {
		r.Winner = codeOfReg(tx, *l.WinnerReg)
	}
	if err := tx.Where("lot_id = ? AND id <= ?", l.LotID, last).Order("id").Find(&r.Entries).Error; err != nil {
		return nil, err
	}
	for i := range r.Entries {
		r.Entries[i].At = r.Entries[i].At.UTC()
		if r.Entries[i].Until != nil {
			u := r.Entries[i].Until.UTC()
			r.Entries[i].Until = &u
		}
	}
	b, err := json.MarshalIndent(r, "", " ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

func codeOfReg(tx *gorm.DB, reg int64) string {
	var code string
	tx.Raw("SELECT code FROM auction_bidders WHERE registration_id = ?", reg).Scan(&code)
	return code
}

// PublishRecords stores the record of every settled lot that has none yet
// in the object store and puts its SHA-256 in the audit chain. Each lot is
// claimed by one instance (FOR UPDATE SKIP LOCKED).
func (s *Service) PublishRecords(ctx context.Context) error {
	for {
		did := false
		err := trading.Transact(ctx, s.DB, func(tx *gorm.DB) error {
			var l Lot
			res := tx.Clauses(clause.Locking{Strength: "NO KEY UPDATE", Options: "SKIP LOCKED"}).
				Where("state = 'settled' AND record_key IS NULL").Limit(1).Find(&l)
			if res.Error != nil || res.RowsAffected == 0 {
				return res.Error
			}
			did = true
			b, err := buildRecord(tx, &l)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(b)
			hexSum := hex.EncodeToString(sum[:])
			key := RecordKey(l.LotID)
			if _, err := s.Storage.Client.PutObject(ctx, s.Storage.Bucket, key, bytes.NewReader(b), int64(len(b)),
				minio.PutObjectOptions{ContentType: "application/json"}); err != nil {
				return fmt.Errorf("store the record of lot %d: %w", l.LotID, err)
			}
			now, err := trading.DBNow(tx)
			if err != nil {
				return err
			}
			if err := tx.Model(&l).Updates(map[string]any{"record_key": key, "record_sha256": hexSum}).Error; err != nil {
				return err
			}
			return trading.Audit(tx, now, trading.SystemActor, "auction.record", "lot", fmt.Sprint(l.LotID),
				fmt.Sprintf("竞价记录已发布 sha256=%s", hexSum))
		})
		if err != nil || !did {
			return err
		}
	}
}

// RecordBytes returns a lot's published record as stored.
func (s *Service) RecordBytes(ctx context.Context, lotID int64) ([]byte, error) {
	l, err := s.Get(ctx, lotID)
	if err != nil {
		return nil, err
	}
	if l.RecordKey == nil {
		return nil, trading.Conflict("lot", "竞价记录尚未发布（竞价结束后发布）")
	}
	rc, _, err := s.Storage.Get(ctx, *l.RecordKey)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(io.LimitReader(rc, 64<<20))
}

// Verification is what VerifyRecord found.
type Verification struct {
	LotID    int64
	SHA256   string
	Audited  bool   // an auction.record event of the lot carries this hash
	Chain    bool   // the audit chain verifies
	Winner   string // recomputed from the entries
	Price    *decimal.Decimal
	Problems []string
}

// OK reports whether the record checks out.
func (v *Verification) OK() bool { return v.Audited && v.Chain && len(v.Problems) == 0 }

// VerifyRecord checks a record: its SHA-256 against the audit chain (and
// the chain itself), and its result against the one recomputed from its
// own entries (L8, L11, L15, L16, P7: the last accepted ascending quote,
// or the best sealed one, earliest first). Only the reserve is not in the
// record, so a no-sale with a best quote must say the reserve was not met.
func VerifyRecord(ctx context.Context, db *gorm.DB, data []byte) (*Verification, error) {
	var r Record
	if err := json.Unmarshal(data, &r); err != nil || r.Format != recordFormat {
		return nil, fmt.Errorf("not a bidding record (%s): %v", recordFormat, err)
	}
	sum := sha256.Sum256(data)
	v := &Verification{LotID: r.LotID, SHA256: hex.EncodeToString(sum[:])}
	v.Winner, v.Price, v.Problems = recompute(&r)
	var n int64
	if err := db.WithContext(ctx).Model(&trading.AuditEvent{}).Where("action = 'auction.record' AND object_type = 'lot' AND object_id = ? AND summary LIKE ?",
		fmt.Sprint(r.LotID), "%sha256="+v.SHA256+"%").Count(&n).Error; err != nil {
		return nil, err
	}
	v.Audited = n > 0
	if !v.Audited {
		v.Problems = append(v.Problems, "审计日志中没有此文件的 SHA-256（文件被改动，或不是平台发布的记录）")
	}
	_, problem, err := trading.VerifyAudit(ctx, db)
	if err != nil {
		return nil, err
	}
	v.Chain = problem == nil
	if problem != nil {
		v.Problems = append(v.Problems, "审计链校验失败："+problem.Error())
	}
	return v, nil
}

// recompute replays the record's accepted quotes, then what followed the
// bidding: candidates disqualified by 资格后审 (the next one, or 流拍, as
// the record's fallback says) and a priority right exercised (P7: the
// holder's code at the same price).
func recompute(r *Record) (winner string, price *decimal.Decimal, problems []string) {
	type ranked struct {
		code   string
		amount decimal.Decimal
		n      int64
	}
	best := map[string]*ranked{} // each code's best quote, the earlier of equal ones
	capBest := map[string]*ranked{}
	var last *Entry
	capped := false
	disqualified := map[string]bool{}
	var exercised *Entry
	for i := range r.Entries {
		e := &r.Entries[i]
		switch e.Kind {
		case "capped":
			capped = true
		case "disqualified":
			disqualified[e.Code] = true
		case "priority_exercised":
			exercised = e
		}
		if e.Kind != "quote" || e.Amount == nil {
			continue
		}
		into := best
		switch e.Detail {
		case "open", "timed":
			if last != nil && !capped {
				least := last.Amount.Add(incOf(r))
				atCap := r.PriceCap != nil && e.Amount.Equal(*r.PriceCap)
				if e.Amount.LessThan(least) && !atCap {
					problems = append(problems, fmt.Sprintf("第%d条报价 %s 低于当时最高价加幅度 %s", e.ID, e.Amount, least))
				}
			}
			last = e
		case "capped":
			into = capBest
		}
		if b := into[e.Code]; b == nil || e.Amount.GreaterThan(b.amount) {
			into[e.Code] = &ranked{code: e.Code, amount: *e.Amount, n: e.ID}
		}
	}
	rank := func(m map[string]*ranked) []*ranked {
		out := make([]*ranked, 0, len(m))
		for _, b := range m {
			out = append(out, b)
		}
		sort.Slice(out, func(i, j int) bool {
			if !out[i].amount.Equal(out[j].amount) {
				return out[i].amount.GreaterThan(out[j].amount)
			}
			return out[i].n < out[j].n
		})
		return out
	}
	order := rank(best)
	if capped && r.PriceCap != nil && len(capBest) > 0 {
		order = rank(capBest)
	}
	// The bidding's result, then the candidates the agent turned down.
	failed := false
	for _, b := range order {
		if disqualified[b.code] {
			failed = true
			continue
		}
		if failed && r.PostQualification != rules.PostQualNext {
			break
		}
		winner, price = b.code, &b.amount
		if capped && r.PriceCap != nil {
			price = r.PriceCap
		}
		break
	}
	if exercised != nil && winner != "" {
		winner = exercised.Code
		if exercised.Amount == nil || price == nil || !exercised.Amount.Equal(*price) {
			problems = append(problems, "优先购买权的行使价格与最终报价不符")
		}
	}
	switch {
	case r.Outcome == "sold" && (winner != r.Winner || price == nil || r.Price == nil || !price.Equal(*r.Price)):
		problems = append(problems, fmt.Sprintf("记录的结果（%s，%v）与报价推算的结果（%s，%v）不符", r.Winner, r.Price, winner, price))
	case r.Outcome == "no_sale" && winner != "" && !strings.Contains(r.Reason, "底价"):
		problems = append(problems, "有有效报价却流拍，且原因不是未达底价")
	case r.Outcome == "no_sale" && winner == "" && failed && !strings.Contains(r.Reason, "资格后审"):
		problems = append(problems, "竞得候选人资格后审不合格后流拍，但记录的原因不是资格后审")
	case r.Outcome != "sold" && r.Outcome != "no_sale":
		problems = append(problems, "结果未知："+r.Outcome)
	}
	return winner, price, problems
}

func incOf(r *Record) decimal.Decimal {
	if r.Increment != nil {
		return *r.Increment
	}
	return decimal.New(1, -2)
}

var _ = errors.New
