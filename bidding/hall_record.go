package bidding

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/minio/minio-go/v7"
	"gorm.io/gorm"

	"github.com/ggzy/ggzy/trading"
	"github.com/ggzy/ggzy/trading/live"
)

// CloseWindow ends the decryption when the window has closed by the
// database clock (or every bid is done): each bid not decrypted is
// attributed (EB6) — withdrawn (撤回) when the host records another cause
// for it (reasons, by seat), otherwise revoked (撤销) — and the prices are
// revealed.
func (s *Service) CloseWindow(ctx context.Context, a trading.Actor, lotID int64, reasons map[string]string) error {
	return trading.Transact(ctx, s.DB, func(tx *gorm.DB) error {
		p, _, o, err := s.hallLot(tx, lotID)
		if err != nil {
			return err
		}
		if !isHost(p, a) {
			return trading.Forbidden("只有主持人可以结束解密")
		}
		if o == nil || (o.Status != OpeningDecrypting && o.Status != OpeningPaused) {
			return trading.Conflict("lot_id", "当前不在解密阶段")
		}
		now, err := trading.DBNow(tx)
		if err != nil {
			return err
		}
		var pending []OpeningBid
		if err := tx.Where("lot_id = ? AND outcome = ?", lotID, OutcomePending).Find(&pending).Error; err != nil {
			return err
		}
		if len(pending) > 0 && now.Before(o.WindowEndsAt) {
			return trading.RuleBroken("EB13", "lot_id", "解密时限（至 %s）未到，仍有%d份投标文件未解密", o.WindowEndsAt.In(trading.Shanghai).Format("15:04:05"), len(pending))
		}
		for _, ob := range pending {
			outcome, reason := OutcomeRevoked, "解密时限内未解密，也未递交备用副本（投标人原因）"
			if r := strings.TrimSpace(reasons[seat(ob.BidID)]); r != "" {
				if n := utf8.RuneCountInString(r); n < 4 || n > 200 {
					return trading.Invalid("reasons", "非投标人原因的说明应为4至200字")
				}
				outcome, reason = OutcomeWithdrawn, r
			}
			if err := tx.Model(&OpeningBid{}).Where("bid_id = ?", ob.BidID).Updates(map[string]any{"outcome": outcome, "outcome_at": now, "reason": reason}).Error; err != nil {
				return err
			}
			if err := trading.Audit(tx, now, a, "opening.attribute", "lot", fmt.Sprint(lotID),
				fmt.Sprintf("投标人 %s：%s：%s（EB6）", seat(ob.BidID), OutcomeName(outcome), reason)); err != nil {
				return err
			}
		}
		if o.Status == OpeningPaused {
			o.Status, o.PausedAt = OpeningDecrypting, nil
		}
		return s.reveal(ctx, tx, a, o, now)
	})
}

// reveal reads out every price form at once (唱标, EB5) in an order drawn
// at random: the seed is recorded, and the order is the bids sorted by
// HMAC-SHA256(seed, bid id), so anyone can check it from the record.
func (s *Service) reveal(ctx context.Context, tx *gorm.DB, a trading.Actor, o *Opening, now time.Time) error {
	var bids []OpeningBid
	if err := tx.Table("opening_bids ob").Select("ob.*, b.name AS bidder_name, b.id_number").
		Joins("JOIN bidders b ON b.account_id = ob.bidder_id").Where("ob.lot_id = ?", o.LotID).Find(&bids).Error; err != nil {
		return err
	}
	seed := make([]byte, 32)
	if _, err := rand.Read(seed); err != nil {
		return err
	}
	drawn := func(id int64) string {
		m := hmac.New(sha256.New, seed)
		fmt.Fprint(m, id)
		return hex.EncodeToString(m.Sum(nil))
	}
	sort.Slice(bids, func(i, j int) bool { return drawn(bids[i].BidID) < drawn(bids[j].BidID) })
	order := make([]int64, len(bids))
	read := make([]map[string]any, 0, len(bids))
	for i, b := range bids {
		order[i] = b.BidID
		row := map[string]any{"seq": i + 1, "bidder": b.BidderName, "id_number": b.IDNumber, "outcome": b.Outcome, "outcome_name": OutcomeName(b.Outcome)}
		if b.Price != nil {
			row["price"] = b.Price.StringFixed(2)
			row["items"] = b.Items
		} else {
			row["reason"] = b.Reason
		}
		read = append(read, row)
	}
	oj, _ := json.Marshal(order)
	sh := hex.EncodeToString(seed)
	if err := tx.Model(&Opening{}).Where("lot_id = ?", o.LotID).Updates(map[string]any{"status": OpeningRevealed, "paused_at": nil,
		"revealed_at": now, "reveal_order": string(oj), "reveal_seed": sh}).Error; err != nil {
		return err
	}
	if err := trading.Audit(tx, now, a, "opening.reveal", "lot", fmt.Sprint(o.LotID),
		fmt.Sprintf("唱标：%d份投标文件，顺序随机抽取（种子 %s）（EB5）", len(bids), sh)); err != nil {
		return err
	}
	return hallEvent(ctx, tx, o.LotID, "hall.revealed", map[string]any{"bids": read, "seed": sh, "text": fmt.Sprintf("唱标：%d份投标文件", len(bids))})
}

// PauseHall pauses or resumes the decryption with a reason; resuming may
// extend the window (EB13) by extendMinutes.
func (s *Service) PauseHall(ctx context.Context, a trading.Actor, lotID int64, pause bool, extendMinutes int, reason string) error {
	reason = strings.TrimSpace(reason)
	if n := utf8.RuneCountInString(reason); n < 2 || n > 200 {
		return trading.Invalid("reason", "请写明暂停、恢复或延长的理由（2至200字）")
	}
	if extendMinutes < 0 || extendMinutes > 240 {
		return trading.Invalid("extend_minutes", "延长时间应为0至240分钟")
	}
	return trading.Transact(ctx, s.DB, func(tx *gorm.DB) error {
		p, _, o, err := s.hallLot(tx, lotID)
		if err != nil {
			return err
		}
		if !isHost(p, a) {
			return trading.Forbidden("只有主持人可以暂停或延长")
		}
		if o == nil || (o.Status != OpeningDecrypting && o.Status != OpeningPaused) {
			return trading.Conflict("lot_id", "当前不在解密阶段")
		}
		now, err := trading.DBNow(tx)
		if err != nil {
			return err
		}
		upd := map[string]any{}
		var text string
		switch {
		case pause && o.Status == OpeningDecrypting:
			upd["status"], upd["paused_at"] = OpeningPaused, now
			text = "主持人暂停解密：" + reason
		case !pause:
			ends := o.WindowEndsAt
			if o.PausedAt != nil {
				ends = ends.Add(now.Sub(*o.PausedAt)) // the pause does not eat the window
			}
			ends = ends.Add(time.Duration(extendMinutes) * time.Minute)
			upd["status"], upd["paused_at"], upd["window_ends_at"] = OpeningDecrypting, nil, ends
			text = fmt.Sprintf("主持人恢复解密，解密时限至 %s：%s", ends.In(trading.Shanghai).Format("15:04:05"), reason)
		default:
			return trading.Conflict("lot_id", "已暂停")
		}
		if err := tx.Model(&Opening{}).Where("lot_id = ?", lotID).Updates(upd).Error; err != nil {
			return err
		}
		if err := trading.Audit(tx, now, a, "opening.pause", "lot", fmt.Sprint(lotID), text); err != nil {
			return err
		}
		return hallEvent(ctx, tx, lotID, "hall.paused", map[string]any{"paused": pause, "text": text})
	})
}

// Confirm is a bidder's confirmation of the read-out record (EB9).
func (s *Service) Confirm(ctx context.Context, a trading.Actor, lotID int64) error {
	return trading.Transact(ctx, s.DB, func(tx *gorm.DB) error {
		_, _, o, err := s.hallLot(tx, lotID)
		if err != nil {
			return err
		}
		if o == nil || o.Status != OpeningRevealed {
			return trading.Conflict("lot_id", "唱标后方可确认")
		}
		ob, err := myOpeningBid(tx, a, lotID)
		if err != nil {
			return err
		}
		now, err := trading.DBNow(tx)
		if err != nil {
			return err
		}
		if err := tx.Model(ob).Update("confirmed_at", now).Error; err != nil {
			return err
		}
		if err := trading.Audit(tx, now, a, "opening.confirm", "lot", fmt.Sprint(lotID), "投标人确认开标结果"); err != nil {
			return err
		}
		return hallEvent(ctx, tx, lotID, "hall.confirmed", map[string]any{"text": "一位投标人确认了开标结果"})
	})
}

// Object raises an objection at the opening (EB9).
func (s *Service) Object(ctx context.Context, a trading.Actor, lotID int64, text string) (*Objection, error) {
	text = strings.TrimSpace(text)
	if n := utf8.RuneCountInString(text); n < 2 || n > 1000 {
		return nil, trading.Invalid("text", "异议内容应为2至1000字")
	}
	var out *Objection
	err := trading.Transact(ctx, s.DB, func(tx *gorm.DB) error {
		_, _, o, err := s.hallLot(tx, lotID)
		if err != nil {
			return err
		}
		if o == nil || o.Status != OpeningRevealed {
			return trading.Conflict("lot_id", "异议应在唱标后、开标结束前当场提出（EB9）")
		}
		if _, err := myOpeningBid(tx, a, lotID); err != nil {
			return err
		}
		now, err := trading.DBNow(tx)
		if err != nil {
			return err
		}
		out = &Objection{LotID: lotID, BidderID: a.AccountID, Text: text, RaisedAt: now}
		if err := tx.Create(out).Error; err != nil {
			return err
		}
		if err := trading.Audit(tx, now, a, "opening.objection", "lot", fmt.Sprint(lotID), "提出异议："+text); err != nil {
			return err
		}
		return hallEvent(ctx, tx, lotID, "hall.objection", map[string]any{"id": out.ID, "text": "异议：" + text})
	})
	return out, err
}

// Answer is the host's answer to an objection, on the spot (EB9).
func (s *Service) Answer(ctx context.Context, a trading.Actor, lotID, objectionID int64, answer string) error {
	answer = strings.TrimSpace(answer)
	if n := utf8.RuneCountInString(answer); n < 2 || n > 1000 {
		return trading.Invalid("answer", "答复应为2至1000字")
	}
	return trading.Transact(ctx, s.DB, func(tx *gorm.DB) error {
		p, _, o, err := s.hallLot(tx, lotID)
		if err != nil {
			return err
		}
		if !isHost(p, a) {
			return trading.Forbidden("只有主持人可以答复异议")
		}
		if o == nil || o.Status != OpeningRevealed {
			return trading.Conflict("lot_id", "开标已结束")
		}
		now, err := trading.DBNow(tx)
		if err != nil {
			return err
		}
		res := tx.Model(&Objection{}).Where("id = ? AND lot_id = ? AND answer IS NULL", objectionID, lotID).
			Updates(map[string]any{"answer": answer, "answered_at": now})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return trading.NotFound("待答复的异议")
		}
		if err := trading.Audit(tx, now, a, "opening.answer", "lot", fmt.Sprint(lotID), fmt.Sprintf("答复异议%d：%s", objectionID, answer)); err != nil {
			return err
		}
		return hallEvent(ctx, tx, lotID, "hall.answer", map[string]any{"id": objectionID, "text": "主持人答复：" + answer})
	})
}

// Conclude ends the opening: every objection answered, the opening record
// is generated from what happened (EB7), stored in the object store with
// its SHA-256 in the audit chain, and the decrypted bids become the lot's
// opening record in the result flow (candidates, award, contract, refunds).
func (s *Service) Conclude(ctx context.Context, a trading.Actor, lotID int64) (*Opening, error) {
	book, err := s.Trading.RuleBook(ctx)
	if err != nil {
		return nil, err
	}
	var out *Opening
	var key string
	err = trading.Transact(ctx, s.DB, func(tx *gorm.DB) error {
		p, lot, o, err := s.hallLot(tx, lotID)
		if err != nil {
			return err
		}
		if !isHost(p, a) {
			return trading.Forbidden("只有主持人可以结束开标")
		}
		if o == nil || o.Status != OpeningRevealed {
			return trading.Conflict("lot_id", "唱标后方可结束开标")
		}
		var open int64
		if err := tx.Model(&Objection{}).Where("lot_id = ? AND answer IS NULL", lotID).Count(&open).Error; err != nil {
			return err
		}
		if open > 0 {
			return trading.RuleBroken("EB9", "lot_id", "还有%d条异议未答复，应当场答复（EB9）", open)
		}
		now, err := trading.DBNow(tx)
		if err != nil {
			return err
		}
		rec, in, err := s.openingRecord(tx, p, lot, o, now)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(rec)
		digest := hex.EncodeToString(sum[:])
		key = fmt.Sprintf("openings/%d/record-%s.md", lotID, digest[:16])
		if _, err := s.Storage.Client.PutObject(ctx, s.Storage.Bucket, key, bytes.NewReader(rec), int64(len(rec)),
			minio.PutObjectOptions{ContentType: "text/markdown; charset=utf-8"}); err != nil {
			return fmt.Errorf("store the opening record: %w", err)
		}
		in.fromHall = true
		if _, err := s.recordOpeningTx(ctx, tx, a, lotID, in, book.E7MinBidders, book.G10MinSuppliers, now); err != nil {
			return err
		}
		if err := tx.Model(&Opening{}).Where("lot_id = ?", lotID).Updates(map[string]any{"status": OpeningConcluded,
			"concluded_at": now, "record_key": key, "record_sha256": digest}).Error; err != nil {
			return err
		}
		if err := trading.Audit(tx, now, a, "opening.record", "lot", fmt.Sprint(lotID),
			fmt.Sprintf("开标记录由平台生成（EB7），%d 字节，SHA-256 %s", len(rec), digest)); err != nil {
			return err
		}
		out = o
		out.Status, out.ConcludedAt, out.RecordKey, out.RecordSHA256 = OpeningConcluded, &now, &key, &digest
		// The record is the legal fact (EB7); its announcement goes through
		// review afterwards, and a refused draft does not undo the opening.
		if out.AnnouncementID, out.AnnouncementProblem, _, err = s.tryOpeningAnnouncement(ctx, tx, a, p, lot, rec, digest, now); err != nil {
			return err
		}
		return hallEvent(ctx, tx, lotID, "hall.concluded", map[string]any{"sha256": digest, "text": "开标结束，开标记录已生成，SHA-256 " + digest})
	})
	if err != nil && key != "" {
		s.removeObject(ctx, key, true)
	}
	return out, err
}

// maxOpeningAnnouncement keeps the announcement under trading's body limit (100,000
// characters) with room for the closing line.
const maxOpeningAnnouncement = 99000

// draftOpeningAnnouncement publishes the generated opening record as an announcement
// (开标记录公告, EB7): the record itself, with its SHA-256 and where the
// archived original is, goes to the supervisors for review like the result
// announcements; it is never written by hand.
func (s *Service) draftOpeningAnnouncement(ctx context.Context, tx *gorm.DB, a trading.Actor, p *trading.Project, lot *trading.Lot, rec []byte, digest string) (*int64, error) {
	title := fmt.Sprintf("%s %s%d 开标记录公告", p.Title, p.Category.LotNoun(), lot.Seq)
	if p.Category == trading.Procurement {
		title = fmt.Sprintf("%s 包%d 开标记录公告", p.Title, lot.Seq)
	}
	// The record's first line is its own title; the announcement has one already.
	body := strings.TrimPrefix(string(rec), "# 开标记录\n\n")
	if utf8.RuneCountInString(body) > maxOpeningAnnouncement {
		// An announcement has a size limit; the archived original never does.
		cut := string([]rune(body)[:maxOpeningAnnouncement])
		body = cut[:max(strings.LastIndex(cut, "\n"), 0)] + "\n\n（以上为节录，完整内容见存档原件。）\n"
	}
	body += fmt.Sprintf("\n本开标记录由平台根据网上开标过程自动生成（EB7），原件存档于平台，SHA-256 %s，可在 /lots/%d/opening-record 下载核验。\n", digest, lot.ID)
	n, err := s.Trading.DraftAnnouncementTx(ctx, tx, a, p, trading.AnnouncementInput{Type: trading.AnnouncementOpening,
		Title: trading.Clip(title, 200), Body: body})
	if err != nil {
		return nil, err
	}
	if err := tx.Model(&Opening{}).Where("lot_id = ?", lot.ID).Update("announcement_id", n.ID).Error; err != nil {
		return nil, err
	}
	return &n.ID, s.Trading.SubmitAnnouncementTx(ctx, tx, a, n, p)
}

// openingRecord writes the opening record (Markdown) from the rows, and
// the result flow's input: the bids decrypted, with their prices.
func (s *Service) openingRecord(tx *gorm.DB, p *trading.Project, lot *trading.Lot, o *Opening, now time.Time) ([]byte, OpeningInput, error) {
	var bids []OpeningBid
	if err := tx.Table("opening_bids ob").Select("ob.*, b.name AS bidder_name, b.id_number").
		Joins("JOIN bidders b ON b.account_id = ob.bidder_id").Where("ob.lot_id = ?", o.LotID).Find(&bids).Error; err != nil {
		return nil, OpeningInput{}, err
	}
	byID := map[int64]OpeningBid{}
	for _, b := range bids {
		byID[b.BidID] = b
	}
	var order []int64
	json.Unmarshal(o.RevealOrder, &order)
	var objs []Objection
	if err := tx.Table("opening_objections x").Select("x.*, b.name AS bidder_name").Joins("JOIN bidders b ON b.account_id = x.bidder_id").
		Where("x.lot_id = ?", o.LotID).Order("x.id").Find(&objs).Error; err != nil {
		return nil, OpeningInput{}, err
	}
	t := func(x time.Time) string { return x.In(trading.Shanghai).Format("2006-01-02 15:04:05") }
	var b strings.Builder
	fmt.Fprintf(&b, "# 开标记录\n\n项目：%s（%s）  \n%s：%d %s  \n开标方式：网上开标（不见面开标），平台生成（EB7）  \n", p.Title, p.Code, p.Category.LotNoun(), lot.Seq, lot.Name)
	fmt.Fprintf(&b, "投标截止：%s  \n开标开始：%s  \n解密时限：%d分钟，至 %s  \n唱标：%s（顺序随机抽取，种子 %s）  \n开标结束：%s\n\n",
		t(*lot.BidDeadline), t(o.StartedAt), o.WindowMinutes, t(o.WindowEndsAt), t(*o.RevealedAt), deref2(o.RevealSeed), t(now))
	b.WriteString("## 唱标\n\n| 序号 | 投标人 | 统一社会信用代码 | 投标报价（元） | 开标一览表 | 签到 | 解密 | 确认 |\n|---|---|---|---|---|---|---|---|\n")
	var in OpeningInput
	for i, id := range order {
		x := byID[id]
		price, items := "—", "—"
		if x.Price != nil {
			price, items = x.Price.StringFixed(2), string(x.Items)
			in.Bids = append(in.Bids, BidInput{IDNumber: x.IDNumber, Price: x.Price.StringFixed(2)})
		}
		signed, confirmed := "未签到", "未确认"
		if x.SignedInAt != nil {
			signed = t(*x.SignedInAt)
		}
		if x.ConfirmedAt != nil {
			confirmed = t(*x.ConfirmedAt)
		}
		outcome := OutcomeName(x.Outcome)
		if x.Reason != "" {
			outcome += "：" + x.Reason
		}
		if x.OutcomeAt != nil {
			outcome += "（" + t(*x.OutcomeAt) + "）"
		}
		fmt.Fprintf(&b, "| %d | %s | %s | %s | %s | %s | %s | %s |\n", i+1, x.BidderName, x.IDNumber, price, strings.ReplaceAll(items, "|", "/"), signed, outcome, confirmed)
	}
	b.WriteString("\n## 异议与答复（EB9）\n\n")
	if len(objs) == 0 {
		b.WriteString("无。\n")
	}
	for _, x := range objs {
		fmt.Fprintf(&b, "- %s %s：%s  \n  答复（%s）：%s\n", t(x.RaisedAt), x.BidderName, x.Text, t(*x.AnsweredAt), *x.Answer)
	}
	return []byte(b.String()), in, nil
}

func deref2(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// HallView is what the hall page shows to the one looking.
type HallView struct {
	Project    *trading.Project
	Lot        *trading.Lot
	Opening    *Opening
	Bids       []OpeningBid // after the reveal: everyone's; before: the bidder's own
	Mine       *OpeningBid
	Objections []Objection
	IsHost     bool
	Pending    int
	// PendingSeats are the seats not yet decrypted (host and supervisors).
	PendingSeats []string
	Seq          int64 // the hall topic's last event
	Now          time.Time
}

// Hall is the hall as a's page shows it. Before the reveal nobody sees a
// price; a bidder sees only its own bid, the host and supervisors see how
// many are pending (after the deadline, numbers are no secret).
func (s *Service) Hall(ctx context.Context, a trading.Actor, lotID int64) (*HallView, error) {
	db := s.DB.WithContext(ctx)
	p, lot, err := lotLite(db, lotID)
	if err != nil {
		return nil, err
	}
	if !isBidTender(p.Category) || openedAt(p).IsZero() {
		return nil, trading.NotFound("开标大厅")
	}
	v := &HallView{Project: p, Lot: lot, IsHost: isHost(p, a)}
	if v.Seq, err = live.Last(ctx, db, HallTopic(lotID)); err != nil {
		return nil, err
	}
	if v.Now, err = trading.DBNow(db); err != nil {
		return nil, err
	}
	var o Opening
	if err := db.Where("lot_id = ?", lotID).Take(&o).Error; err == nil {
		if !v.IsHost && a.Role != trading.RoleSupervisor {
			o.AnnouncementProblem = nil
		}
		v.Opening = &o
	} else if !errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, err
	}
	if v.Opening == nil {
		return v, nil
	}
	var pending int64
	db.Model(&OpeningBid{}).Where("lot_id = ? AND outcome = ?", lotID, OutcomePending).Count(&pending)
	v.Pending = int(pending)
	if v.IsHost || a.Role == trading.RoleSupervisor {
		var ids []int64
		db.Model(&OpeningBid{}).Where("lot_id = ? AND outcome = ?", lotID, OutcomePending).Order("bid_id").Pluck("bid_id", &ids)
		for _, id := range ids {
			v.PendingSeats = append(v.PendingSeats, seat(id))
		}
	}
	if a.Role == trading.RoleBidder {
		var mine OpeningBid
		if err := db.Where("lot_id = ? AND bidder_id = ?", lotID, a.AccountID).Take(&mine).Error; err == nil {
			v.Mine = &mine
		}
	}
	if o.Status == OpeningRevealed || o.Status == OpeningConcluded {
		if err := db.Table("opening_bids ob").Select("ob.*, b.name AS bidder_name, b.id_number").
			Joins("JOIN bidders b ON b.account_id = ob.bidder_id").Where("ob.lot_id = ?", lotID).Find(&v.Bids).Error; err != nil {
			return nil, err
		}
		var order []int64
		json.Unmarshal(o.RevealOrder, &order)
		pos := map[int64]int{}
		for i, id := range order {
			pos[id] = i
		}
		sort.Slice(v.Bids, func(i, j int) bool { return pos[v.Bids[i].BidID] < pos[v.Bids[j].BidID] })
		if err := db.Table("opening_objections x").Select("x.*, b.name AS bidder_name").Joins("JOIN bidders b ON b.account_id = x.bidder_id").
			Where("x.lot_id = ?", lotID).Order("x.id").Find(&v.Objections).Error; err != nil {
			return nil, err
		}
	}
	return v, nil
}

// OpeningRecord is the stored record and its SHA-256.
func (s *Service) OpeningRecord(ctx context.Context, lotID int64) (io.ReadCloser, string, error) {
	var o Opening
	if err := s.DB.WithContext(ctx).Where("lot_id = ? AND status = ?", lotID, OpeningConcluded).Take(&o).Error; err != nil {
		return nil, "", trading.NotFound("开标记录")
	}
	r, _, err := s.Storage.Get(ctx, *o.RecordKey)
	return r, *o.RecordSHA256, err
}
