package bidding

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/ggzy/ggzy/trading"
)

// The opening-record announcement (开标记录公告, EB7) after the hall.
//
// Concluding the hall generates the opening record: that is the legal
// fact, and the result flow follows from it. Its announcement is drafted
// in the same transaction and sent to review, but a draft the platform
// refuses (a rule the announcement breaks, a project state) must not undo
// the opening: the draft runs under a savepoint, and its refusal is kept
// on the opening (announcement_problem), audited, and shown to the host,
// who regenerates the announcement once the cause is dealt with. There is
// never more than one: regenerating a hall that has one returns it.

// tryOpeningAnnouncement drafts and submits the opening-record
// announcement under a savepoint. A refusal is recorded on the opening and
// returned as refused, with err nil so the caller's transaction commits;
// err is what must abort it (a retryable conflict, a cancelled request).
func (s *Service) tryOpeningAnnouncement(ctx context.Context, tx *gorm.DB, a trading.Actor, p *trading.Project, lot *trading.Lot,
	rec []byte, digest string, now time.Time) (id *int64, problem *string, refused error, err error) {
	refused = tx.Transaction(func(sp *gorm.DB) error {
		// Equivalent SQL: UPDATE openings SET announcement_problem = NULL WHERE lot_id = ?
		if err := sp.Model(&Opening{}).Where("lot_id = ?", lot.ID).Update("announcement_problem", nil).Error; err != nil {
			return err
		}
		var err error
		id, err = s.draftOpeningAnnouncement(ctx, sp, a, p, lot, rec, digest)
		return err
	})
	if refused == nil {
		return id, nil, nil, nil
	}
	if trading.IsRetryable(refused) || ctx.Err() != nil {
		return nil, nil, nil, refused
	}
	msg := announcementProblem(refused)
	if trading.AsError(refused).Status() >= 500 {
		if s.Log != nil {
			s.Log.Error("draft the opening-record announcement", "lot", lot.ID, "err", refused)
		}
		refused = trading.Unavailable(msg)
	}
	// Equivalent SQL: UPDATE openings SET announcement_problem = ? WHERE lot_id = ?
	if err := tx.Model(&Opening{}).Where("lot_id = ?", lot.ID).Update("announcement_problem", msg).Error; err != nil {
		return nil, nil, nil, err
	}
	if err := trading.Audit(tx, now, a, "opening.announcement_refused", "lot", fmt.Sprint(lot.ID),
		"开标记录公告未能生成（开标记录已生成，不受影响）："+msg); err != nil {
		return nil, nil, nil, err
	}
	return nil, &msg, refused, nil
}

// announcementProblem is a refusal in the host's words: the message and
// every rule broken, with what it requires and what was found.
func announcementProblem(err error) string {
	te := trading.AsError(err)
	if te.Status() >= 500 {
		return "生成公告时发生系统错误，请稍后重新生成；如仍失败请联系平台运维"
	}
	var b strings.Builder
	b.WriteString(te.Message)
	for _, v := range te.Violations {
		fmt.Fprintf(&b, "；%s：%s（实际：%s）", v.Rule, v.Requirement, v.Actual)
	}
	return b.String()
}

// RegenerateOpeningAnnouncement drafts the opening-record announcement of
// a concluded hall from its stored record, and submits it for review: the
// host's action after a refused draft (重新生成开标记录公告). Idempotent:
// a hall that has its announcement gets it back (created false), and the
// opening row's lock makes two requests at once draft one. A refusal is
// recorded as at the conclusion and returned.
func (s *Service) RegenerateOpeningAnnouncement(ctx context.Context, a trading.Actor, lotID int64) (id int64, created bool, err error) {
	var refused error
	err = trading.Transact(ctx, s.DB, func(tx *gorm.DB) error {
		created, refused = false, nil
		p, lot, o, err := s.hallLot(tx, lotID)
		if err != nil {
			return err
		}
		if !isHost(p, a) {
			return trading.Forbidden("只有主持人可以重新生成开标记录公告")
		}
		if o == nil || o.Status != OpeningConcluded || o.RecordKey == nil || o.RecordSHA256 == nil {
			return trading.Conflict("lot_id", "开标结束、开标记录生成后方可生成开标记录公告（EB7）")
		}
		if o.AnnouncementID != nil {
			id = *o.AnnouncementID
			return nil
		}
		rec, err := s.storedRecord(ctx, *o.RecordKey, *o.RecordSHA256)
		if err != nil {
			return err
		}
		now, err := trading.DBNow(tx)
		if err != nil {
			return err
		}
		n, _, ref, err := s.tryOpeningAnnouncement(ctx, tx, a, p, lot, rec, *o.RecordSHA256, now)
		if err != nil {
			return err
		}
		if ref != nil {
			refused = ref
			return nil // the problem is recorded; the caller hears the refusal
		}
		id, created = *n, true
		return trading.Audit(tx, now, a, "opening.announcement_regenerate", "lot", fmt.Sprint(lotID),
			fmt.Sprintf("由存档的开标记录（SHA-256 %s）重新生成开标记录公告，已提交审核", *o.RecordSHA256))
	})
	if err == nil && refused != nil {
		return 0, false, refused
	}
	return id, created, err
}

// storedRecord reads the archived opening record and checks it is the one
// the audit chain names.
func (s *Service) storedRecord(ctx context.Context, key, digest string) ([]byte, error) {
	r, _, err := s.Storage.Get(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("read the opening record %s: %w", key, err)
	}
	defer r.Close()
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, io.LimitReader(r, 16<<20)); err != nil {
		return nil, fmt.Errorf("read the opening record %s: %w", key, err)
	}
	if sum := sha256.Sum256(buf.Bytes()); hex.EncodeToString(sum[:]) != digest {
		return nil, errors.New("the archived opening record " + key + " does not match its SHA-256 in the audit chain")
	}
	return buf.Bytes(), nil
}
