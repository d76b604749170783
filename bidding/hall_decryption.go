package bidding

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"gorm.io/gorm"

	"github.com/ggzy/ggzy/bidding/sealed"
	"github.com/ggzy/ggzy/trading"
)

// decryptWindow checks the opening takes decryptions now: the window open
// by the database clock, not paused, the bid still pending.
func decryptWindow(tx *gorm.DB, o *Opening, ob *OpeningBid) (time.Time, error) {
	now, err := trading.DBNow(tx)
	if err != nil {
		return now, err
	}
	switch {
	case o == nil || o.Status == OpeningFailed:
		return now, trading.Conflict("lot_id", "开标大厅尚未开启")
	case o.Status == OpeningPaused:
		return now, trading.Conflict("lot_id", "开标已暂停，请等待主持人恢复")
	case o.Status != OpeningDecrypting:
		return now, trading.Conflict("lot_id", "解密已结束")
	case !now.Before(o.WindowEndsAt):
		return now, trading.RuleBroken("EB13", "lot_id", "解密时限已过（%s），不能再解密（EB13）", o.WindowEndsAt.In(trading.Shanghai).Format("15:04:05"))
	case ob.Outcome != OutcomePending:
		return now, trading.Conflict("lot_id", "您的投标文件已%s", OutcomeName(ob.Outcome))
	}
	return now, nil
}

// Decrypt opens the bidder's bid with the content key its browser
// unwrapped ("ck1.…"): every part is decrypted streaming and checked
// against its commitment (a failed check is a failed decryption, never a
// silent skip); the plaintexts go to the store for the evaluation.
func (s *Service) Decrypt(ctx context.Context, a trading.Actor, lotID int64, token string) error {
	ck, err := sealed.ParseContentKey(strings.TrimSpace(token))
	if err != nil {
		return trading.Invalid("key", "解密密钥格式不正确")
	}
	var ob *OpeningBid
	var bid SealedBid
	var parts []SealedPart
	err = s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		_, _, o, err := s.hallLot(tx, lotID)
		if err != nil {
			return err
		}
		if ob, err = myOpeningBid(tx, a, lotID); err != nil {
			return err
		}
		if _, err := decryptWindow(tx, o, ob); err != nil {
			return err
		}
		if err := tx.Take(&bid, ob.BidID).Error; err != nil {
			return err
		}
		return tx.Where("bid_id = ?", ob.BidID).Order("part").Find(&parts).Error
	})
	if err != nil {
		return err
	}
	opened := make([]PartOpened, 0, len(parts))
	var form []byte
	var derr error
	for _, p := range parts {
		po, data, err := s.openPart(ctx, bid, p, ck)
		if err != nil {
			derr = err
			break
		}
		if p.Part == 0 {
			form = data
		}
		opened = append(opened, *po)
	}
	if derr == nil {
		return s.opened(ctx, a, lotID, ob.BidID, OutcomeDecrypted, form, opened)
	}
	for _, po := range opened {
		if po.ObjectKey != "" {
			s.removeObject(ctx, po.ObjectKey, true)
		}
	}
	rule, msg := sealed.Explain(derr)
	if !isSealedError(derr) && !errors.Is(derr, sealed.ErrWrongKey) && !errors.Is(derr, sealed.ErrKeyForOtherBid) && !errors.Is(derr, sealed.ErrCommitment) {
		var de *trading.Error
		if errors.As(derr, &de) {
			rule, msg = de.Rule, de.Message
		} else {
			return derr
		}
	}
	// The failed attempt is recorded (the bidder may try again within the window).
	if err := trading.Transact(ctx, s.DB, func(tx *gorm.DB) error {
		if err := tx.Model(&OpeningBid{}).Where("bid_id = ?", ob.BidID).Update("failures", gorm.Expr("failures + 1")).Error; err != nil {
			return err
		}
		return trading.Audit(tx, s.Clock.Now(), a, "opening.decrypt_failed", "lot", fmt.Sprint(lotID), "解密失败："+msg)
	}); err != nil {
		return err
	}
	return trading.RuleBroken(rule, "key", "%s", "解密失败："+msg).WithCode("decrypt_failed").Wrapping(derr)
}

// openPart decrypts one stored envelope: the price form into memory, a bid
// file into the store (streaming), with its SHA-256 and document metadata.
func (s *Service) openPart(ctx context.Context, bid SealedBid, p SealedPart, ck sealed.ContentKey) (*PartOpened, []byte, error) {
	r, _, err := s.Storage.Get(ctx, p.ObjectKey)
	if err != nil {
		return nil, nil, err
	}
	defer r.Close()
	po := &PartOpened{Part: p.Part}
	if p.Part == 0 {
		var buf bytes.Buffer
		res, err := sealed.Open(r, ck, &limitedWriter{w: &buf, n: maxPriceEnvelope})
		if err != nil {
			return nil, nil, err
		}
		if hex.EncodeToString(res.Commitment[:]) != *p.Commitment {
			return nil, nil, sealed.ErrCommitment
		}
		sum := sha256.Sum256(buf.Bytes())
		po.Name, po.Size, po.SHA256 = res.Name, int64(buf.Len()), hex.EncodeToString(sum[:])
		return po, buf.Bytes(), nil
	}
	key := fmt.Sprintf("opened/%d/%d/%d", bid.LotID, bid.ID, p.Part)
	pr, pw := io.Pipe()
	meta := &docMeta{}
	done := make(chan error, 1)
	go func() {
		_, err := s.Storage.Client.PutObject(ctx, s.Storage.Bucket, key, pr, -1, minio.PutObjectOptions{ContentType: "application/octet-stream", PartSize: partSize})
		pr.CloseWithError(err)
		done <- err
	}()
	// The plain SHA-256 (K3's identical files) is taken beside the
	// decryption, in parallel with the commitment's.
	res, oerr := sealed.OpenHashing(r, ck, io.MultiWriter(pw, meta))
	pw.CloseWithError(oerr)
	perr := <-done
	if oerr == nil && hex.EncodeToString(res.Commitment[:]) != *p.Commitment {
		oerr = sealed.ErrCommitment
	}
	if oerr != nil || perr != nil {
		s.removeObject(ctx, key, perr == nil)
		if oerr != nil {
			return nil, nil, oerr
		}
		return nil, nil, perr
	}
	po.Name, po.Size, po.SHA256, po.ObjectKey = res.Name, res.ContentSize, hex.EncodeToString(res.SHA256[:]), key
	po.Producer, po.Author = meta.producer(), meta.author()
	return po, nil, nil
}

// limitedWriter refuses more than n bytes.
type limitedWriter struct {
	w io.Writer
	n int64
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if int64(len(p)) > l.n {
		return 0, fmt.Errorf("%w: price form too large", sealed.ErrMalformed)
	}
	l.n -= int64(len(p))
	return l.w.Write(p)
}

// PriceForm is the sealed 开标一览表.
type PriceForm struct {
	Price    string `json:"price"`
	Period   string `json:"period,omitempty"`   // engineering: 工期
	Quality  string `json:"quality,omitempty"`  // engineering: 质量
	Manager  string `json:"manager,omitempty"`  // engineering: 项目经理
	Delivery string `json:"delivery,omitempty"` // procurement: 交货期
	Service  string `json:"service,omitempty"`  // procurement: 服务
}

// opened records a decrypted (or backup-opened) bid; the reveal follows
// at once when it was the last.
func (s *Service) opened(ctx context.Context, a trading.Actor, lotID, bidID int64, outcome string, form []byte, parts []PartOpened) error {
	var pf PriceForm
	if err := json.Unmarshal(form, &pf); err != nil {
		return trading.RuleBroken("EB6", "price", "解密成功，但开标一览表不是有效的表单").WithCode("decrypt_failed").Wrapping(err)
	}
	price, err := trading.ParseAmount(pf.Price)
	if err != nil || !price.IsPositive() {
		return trading.RuleBroken("EB6", "price", "%s", "解密成功，但开标一览表中的投标报价无效："+pf.Price).WithCode("decrypt_failed")
	}
	items, _ := json.Marshal(pf)
	pj, _ := json.Marshal(parts)
	return trading.Transact(ctx, s.DB, func(tx *gorm.DB) error {
		_, _, o, err := s.hallLot(tx, lotID)
		if err != nil {
			return err
		}
		ob, err := myOpeningBid(tx, a, lotID)
		if err != nil {
			return err
		}
		if ob.BidID != bidID {
			return trading.Conflict("lot_id", "投标文件已变化")
		}
		now, err := decryptWindow(tx, o, ob)
		if err != nil {
			return err
		}
		upd := map[string]any{"outcome": outcome, "outcome_at": now, "price": price, "items": string(items), "parts": string(pj)}
		if ob.SignedInAt == nil {
			upd["signed_in_at"] = now
		}
		if err := tx.Model(ob).Updates(upd).Error; err != nil {
			return err
		}
		if err := trading.Audit(tx, now, a, "opening.decrypt", "lot", fmt.Sprint(lotID),
			fmt.Sprintf("%s（%d部分，承诺值校验通过）", OutcomeName(outcome), len(parts))); err != nil {
			return err
		}
		if err := hallEvent(ctx, tx, lotID, "hall.decrypted", map[string]any{"seat": seat(bidID), "outcome": outcome,
			"text": "投标人 " + seat(bidID) + " " + OutcomeName(outcome)}); err != nil {
			return err
		}
		var pending int64
		if err := tx.Model(&OpeningBid{}).Where("lot_id = ? AND outcome = ?", lotID, OutcomePending).Count(&pending).Error; err != nil {
			return err
		}
		if pending == 0 {
			return s.reveal(ctx, tx, a, o, now)
		}
		return nil
	})
}

// SubmitBackup takes a bidder's backup copy of one part (EB14): the
// plaintext and the commitment nonce it kept; accepted only if it matches
// the commitment made at submission. When every part is in, the bid counts
// as opened from the backup.
func (s *Service) SubmitBackup(ctx context.Context, a trading.Actor, lotID int64, part int, nonce string, plaintext io.Reader) error {
	var ob *OpeningBid
	var p SealedPart
	var bid SealedBid
	err := s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		_, _, o, err := s.hallLot(tx, lotID)
		if err != nil {
			return err
		}
		if ob, err = myOpeningBid(tx, a, lotID); err != nil {
			return err
		}
		if _, err := decryptWindow(tx, o, ob); err != nil {
			return err
		}
		if err := tx.Take(&bid, ob.BidID).Error; err != nil {
			return err
		}
		err = tx.Where("bid_id = ? AND part = ?", ob.BidID, part).Take(&p).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return trading.NotFound("投标文件部分")
		}
		return err
	})
	if err != nil {
		return err
	}
	// Stream the backup to a staging object while checking it.
	key := fmt.Sprintf("opened/%d/%d/%d", lotID, bid.ID, part)
	pr, pw := io.Pipe()
	var buf bytes.Buffer
	h := sha256.New()
	meta := &docMeta{}
	done := make(chan error, 1)
	go func() {
		_, err := s.Storage.Client.PutObject(ctx, s.Storage.Bucket, key, pr, -1, minio.PutObjectOptions{PartSize: partSize})
		pr.CloseWithError(err)
		done <- err
	}()
	var w io.Writer = io.MultiWriter(pw, h, meta)
	if part == 0 {
		w = io.MultiWriter(pw, h, &limitedWriter{w: &buf, n: maxPriceEnvelope})
	}
	counted := &countWriter{}
	verr := sealed.VerifyBackup(io.TeeReader(plaintext, io.MultiWriter(w, counted)), nonce, *p.Commitment)
	pw.CloseWithError(verr)
	perr := <-done
	if verr != nil || perr != nil {
		s.removeObject(ctx, key, perr == nil)
		if verr != nil {
			if err := trading.Transact(ctx, s.DB, func(tx *gorm.DB) error {
				return trading.Audit(tx, s.Clock.Now(), a, "opening.backup_refused", "lot", fmt.Sprint(lotID),
					fmt.Sprintf("备用副本第%d部分与递交时的承诺值不符，不予接受（EB14）", part))
			}); err != nil {
				return err
			}
			return trading.RuleBroken("EB14", "file", "备用副本与递交投标文件时的承诺值不符，不予接受（EB14）").WithCode("backup_refused").Wrapping(verr)
		}
		return perr
	}
	po := PartOpened{Part: part, Size: counted.n, SHA256: hex.EncodeToString(h.Sum(nil)), ObjectKey: key, Producer: meta.producer(), Author: meta.author()}
	// The parts accepted so far live in the bid's parts list until all are in.
	var have []PartOpened
	if len(ob.Parts) > 0 {
		json.Unmarshal(ob.Parts, &have)
	}
	kept := have[:0]
	for _, x := range have {
		if x.Part != part {
			kept = append(kept, x)
		}
	}
	have = append(kept, po)
	sort.Slice(have, func(i, j int) bool { return have[i].Part < have[j].Part })
	if part == 0 {
		// keep the form beside the parts until the last part is in
		have[0].Name = "开标一览表"
	}
	var total int64
	if err := s.DB.WithContext(ctx).Model(&SealedPart{}).Where("bid_id = ?", bid.ID).Count(&total).Error; err != nil {
		return err
	}
	var form []byte
	if part == 0 {
		form = buf.Bytes()
	} else {
		var items []byte
		if err := s.DB.WithContext(ctx).Raw("SELECT items::text FROM opening_bids WHERE bid_id = ? AND items IS NOT NULL", bid.ID).Row().Scan(&items); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		form = items
	}
	if int64(len(have)) < total || form == nil {
		pj, _ := json.Marshal(have)
		upd := map[string]any{"parts": string(pj)}
		if part == 0 {
			upd["items"] = string(buf.Bytes())
		}
		return trading.Transact(ctx, s.DB, func(tx *gorm.DB) error {
			if err := tx.Model(&OpeningBid{}).Where("bid_id = ? AND outcome = ?", bid.ID, OutcomePending).Updates(upd).Error; err != nil {
				return err
			}
			return trading.Audit(tx, s.Clock.Now(), a, "opening.backup_part", "lot", fmt.Sprint(lotID),
				fmt.Sprintf("递交备用副本第%d部分，与承诺值一致（EB14）", part))
		})
	}
	return s.opened(ctx, a, lotID, bid.ID, OutcomeBackup, form, have)
}

type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }
