package bidding

// 不见面开标: the online opening hall of an engineering or procurement lot
// (EB4–EB9, EB13, EB14). The agent hosts; bidders sign in and decrypt from
// their browsers (the content key is unwrapped there, from the key file,
// and handed in over TLS); supervisors watch. Every step is published live
// on the lot's hall topic (trading/live) in the transaction that takes it,
// and audited with the address and the time (EB10). Prices are published
// only when every bid is decrypted or the window has closed (EB5), all at
// once, in an order drawn at random and recorded; the opening record is
// generated from what happened (EB7) and feeds the result flow.

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
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
	"unicode/utf8"

	"github.com/minio/minio-go/v7"
	"github.com/shopspring/decimal"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/ggzy/ggzy/bidding/sealed"
	"github.com/ggzy/ggzy/trading"
	"github.com/ggzy/ggzy/trading/live"
)

// OpeningStatus is where an opening stands.
type OpeningStatus string

const (
	OpeningDecrypting OpeningStatus = "decrypting" // the decryption window is open (EB13)
	OpeningPaused     OpeningStatus = "paused"     // the host paused it, with a reason
	OpeningRevealed   OpeningStatus = "revealed"   // prices read out (唱标, EB5); objections (EB9)
	OpeningConcluded  OpeningStatus = "concluded"  // the record is generated and stored (EB7)
	OpeningFailed     OpeningStatus = "failed"     // fewer than E7's bids: not opened (EB8)
)

// Name is the Chinese name of the status.
func (s OpeningStatus) Name() string {
	return map[OpeningStatus]string{OpeningDecrypting: "解密中", OpeningPaused: "已暂停", OpeningRevealed: "已唱标",
		OpeningConcluded: "开标结束", OpeningFailed: "投标人不足，不予开标"}[s]
}

// Opening is a lot's online opening.
type Opening struct {
	LotID         int64           `gorm:"column:lot_id;primaryKey" json:"lot_id"`
	HostID        int64           `gorm:"column:host_id" json:"-"`
	Status        OpeningStatus   `gorm:"column:status" json:"status"`
	StartedAt     time.Time       `gorm:"column:started_at" json:"started_at"`
	WindowMinutes int             `gorm:"column:window_minutes" json:"window_minutes"`
	WindowEndsAt  time.Time       `gorm:"column:window_ends_at" json:"window_ends_at"`
	PausedAt      *time.Time      `gorm:"column:paused_at" json:"paused_at,omitempty"`
	RevealedAt    *time.Time      `gorm:"column:revealed_at" json:"revealed_at,omitempty"`
	RevealOrder   json.RawMessage `gorm:"column:reveal_order;type:jsonb" json:"reveal_order,omitempty"`
	RevealSeed    *string         `gorm:"column:reveal_seed" json:"reveal_seed,omitempty"`
	ConcludedAt   *time.Time      `gorm:"column:concluded_at" json:"concluded_at,omitempty"`
	RecordKey     *string         `gorm:"column:record_key" json:"-"`
	RecordSHA256  *string         `gorm:"column:record_sha256" json:"record_sha256,omitempty"`
}

func (Opening) TableName() string { return "openings" }

// Outcomes of a bid at the opening.
const (
	OutcomePending   = "pending"
	OutcomeDecrypted = "decrypted"
	OutcomeBackup    = "backup"    // opened from the backup copy (EB14)
	OutcomeRevoked   = "revoked"   // not decrypted, the bidder's fault: 撤销 (EB6)
	OutcomeWithdrawn = "withdrawn" // not decrypted, another cause: 撤回, with the host's reason (EB6)
)

// OutcomeName is the Chinese name of an outcome.
func OutcomeName(o string) string {
	return map[string]string{OutcomePending: "待解密", OutcomeDecrypted: "解密成功", OutcomeBackup: "备用副本解密",
		OutcomeRevoked: "视为撤销投标（投标人原因未解密）", OutcomeWithdrawn: "视为撤回投标（非投标人原因未解密）"}[o]
}

// OpeningBid is one bid at the opening.
type OpeningBid struct {
	BidID       int64            `gorm:"column:bid_id;primaryKey" json:"-"`
	LotID       int64            `gorm:"column:lot_id" json:"-"`
	BidderID    int64            `gorm:"column:bidder_id" json:"-"`
	SignedInAt  *time.Time       `gorm:"column:signed_in_at" json:"signed_in_at,omitempty"`
	Outcome     string           `gorm:"column:outcome" json:"outcome"`
	OutcomeAt   *time.Time       `gorm:"column:outcome_at" json:"outcome_at,omitempty"`
	Reason      string           `gorm:"column:reason" json:"reason,omitempty"`
	Failures    int              `gorm:"column:failures" json:"failures"`
	Price       *decimal.Decimal `gorm:"column:price;type:numeric(18,2)" json:"price,omitempty"`
	Items       json.RawMessage  `gorm:"column:items;type:jsonb" json:"items,omitempty"`
	Parts       json.RawMessage  `gorm:"column:parts;type:jsonb" json:"-"`
	ConfirmedAt *time.Time       `gorm:"column:confirmed_at" json:"confirmed_at,omitempty"`
	BidderName  string           `gorm:"->;column:bidder_name;-:migration" json:"bidder_name"`
	IDNumber    string           `gorm:"->;column:id_number;-:migration" json:"id_number"`
}

func (OpeningBid) TableName() string { return "opening_bids" }

// Objection is an objection raised at the opening and its answer (EB9).
type Objection struct {
	ID         int64      `gorm:"column:id;primaryKey" json:"id"`
	LotID      int64      `gorm:"column:lot_id" json:"-"`
	BidderID   int64      `gorm:"column:bidder_id" json:"-"`
	Text       string     `gorm:"column:text" json:"text"`
	RaisedAt   time.Time  `gorm:"column:raised_at" json:"raised_at"`
	Answer     *string    `gorm:"column:answer" json:"answer,omitempty"`
	AnsweredAt *time.Time `gorm:"column:answered_at" json:"answered_at,omitempty"`
	BidderName string     `gorm:"->;column:bidder_name;-:migration" json:"bidder_name"`
}

func (Objection) TableName() string { return "opening_objections" }

// PartOpened is what the opening learned of one decrypted part.
type PartOpened struct {
	Part      int    `json:"part"`
	Name      string `json:"name"`
	Size      int64  `json:"size"`
	SHA256    string `json:"sha256"`     // of the plaintext (K1: identical files)
	ObjectKey string `json:"object_key"` // the plaintext, for the evaluation
	Producer  string `json:"producer,omitempty"`
	Author    string `json:"author,omitempty"`
}

// HallTopic is the live topic of a lot's hall.
func HallTopic(lotID int64) string { return fmt.Sprintf("hall/%d", lotID) }

// hallLot locks the opening of a lot (the project and lot first, as the
// result steps lock them).
func (s *Service) hallLot(tx *gorm.DB, lotID int64) (*trading.Project, *trading.Lot, *Opening, error) {
	p, lot, err := lotLite(tx, lotID)
	if err != nil {
		return nil, nil, nil, err
	}
	var o Opening
	err = tx.Clauses(clause.Locking{Strength: "UPDATE"}).Where("lot_id = ?", lotID).Take(&o).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return p, lot, nil, nil
	}
	return p, lot, &o, err
}

func isHost(p *trading.Project, a trading.Actor) bool {
	return a.Role == trading.RoleAgent && p.AgentID == a.AccountID
}

// hallEvent publishes a step on the hall's topic (last in the transaction).
func hallEvent(ctx context.Context, tx *gorm.DB, lotID int64, kind string, data map[string]any) error {
	_, err := live.Publish(ctx, tx, HallTopic(lotID), kind, data)
	return err
}

// OpenHall opens a lot's hall at its deadline (E6, EB4), hosted by the
// project's agent: the bids come in from the submitted versions (an upload
// never finalised counts as withdrawn, EB2). Fewer than E7's number fails
// the lot through the result flow with no decryption at all (EB8);
// otherwise the decryption window opens for windowMinutes (0: the rule
// book's EB13).
func (s *Service) OpenHall(ctx context.Context, a trading.Actor, lotID int64, windowMinutes int) (*Opening, error) {
	book, err := s.Trading.RuleBook(ctx)
	if err != nil {
		return nil, err
	}
	if windowMinutes == 0 {
		windowMinutes = book.EB13Minutes
	}
	if windowMinutes < 5 || windowMinutes > 480 {
		return nil, trading.Invalid("window_minutes", "解密时限应为5至480分钟（EB13）")
	}
	var out *Opening
	err = trading.Transact(ctx, s.DB, func(tx *gorm.DB) error {
		p, lot, o, err := s.hallLot(tx, lotID)
		if err != nil {
			return err
		}
		if !isHost(p, a) {
			return trading.Forbidden("只有本项目的代理机构可以主持开标")
		}
		if !isBidTender(p.Category) {
			return trading.Invalid("lot_id", "%s不开标", p.Category.Name())
		}
		if paper, err := isPaperLot(tx, lotID); err != nil || paper {
			if err == nil {
				err = trading.Conflict("lot_id", "本标段为纸质投标，请在开标记录页面录入")
			}
			return err
		}
		if o != nil {
			return trading.Conflict("lot_id", "开标大厅已开启")
		}
		now, err := trading.DBNow(tx)
		if err != nil {
			return err
		}
		if lot.BidDeadline == nil || now.Before(*lot.BidDeadline) {
			return trading.RuleBroken("E6", "lot_id", "投标截止时间未到，不能开标（E6、EB4）")
		}
		// EB2: uploads never finalised count as withdrawn.
		if err := tx.Model(&SealedBid{}).Where("lot_id = ? AND status = ?", lotID, BidUploading).
			Updates(map[string]any{"status": BidAbandoned, "ended_at": now}).Error; err != nil {
			return err
		}
		var bids []SealedBid
		if err := tx.Where("lot_id = ? AND status = ?", lotID, BidSubmitted).Order("finalized_at, id").Find(&bids).Error; err != nil {
			return err
		}
		out = &Opening{LotID: lotID, HostID: a.AccountID, Status: OpeningDecrypting, StartedAt: now, WindowMinutes: windowMinutes,
			WindowEndsAt: now.Add(time.Duration(windowMinutes) * time.Minute)}
		if len(bids) < book.E7MinBidders {
			out.Status = OpeningFailed
		}
		if err := tx.Create(out).Error; err != nil {
			return err
		}
		for _, b := range bids {
			if err := tx.Create(&OpeningBid{BidID: b.ID, LotID: lotID, BidderID: b.BidderID, Outcome: OutcomePending}).Error; err != nil {
				return err
			}
		}
		summary := fmt.Sprintf("项目 %s 标段%d 开标大厅开启：递交投标文件%d份，数据库时钟 %s", p.Code, lot.Seq, len(bids), sealed.ReceiptTime(now))
		if out.Status == OpeningFailed {
			// EB8/E7: not opened; the lot fails through the result flow,
			// with the bidders named and no price.
			in := OpeningInput{fromHall: true}
			for _, b := range bids {
				var idn string
				if err := tx.Table("bidders").Where("account_id = ?", b.BidderID).Select("id_number").Scan(&idn).Error; err != nil {
					return err
				}
				in.Bids = append(in.Bids, BidInput{IDNumber: idn})
			}
			if _, err := s.recordOpeningTx(ctx, tx, a, lotID, in, book.E7MinBidders, book.G10MinSuppliers, now); err != nil {
				return err
			}
			summary += fmt.Sprintf("，少于%d份，不予开标、不解密（E7、EB8）", book.E7MinBidders)
		} else {
			summary += fmt.Sprintf("；解密时限%d分钟，至 %s（EB13）", windowMinutes, sealed.ReceiptTime(out.WindowEndsAt))
		}
		if err := trading.Audit(tx, now, a, "opening.open", "lot", fmt.Sprint(lotID), summary); err != nil {
			return err
		}
		return hallEvent(ctx, tx, lotID, "hall.opened", map[string]any{"status": out.Status, "bids": len(bids),
			"window_ends_at": out.WindowEndsAt, "text": summary})
	})
	return out, err
}

// myOpeningBid locks the bidder's bid at an opening.
func myOpeningBid(tx *gorm.DB, a trading.Actor, lotID int64) (*OpeningBid, error) {
	var ob OpeningBid
	err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Where("lot_id = ? AND bidder_id = ?", lotID, a.AccountID).Take(&ob).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, trading.NotFound("您在本次开标中的投标文件")
	}
	return &ob, err
}

// seat is a bidder's anonymous number in the hall's events until the reveal.
func seat(bidID int64) string { return fmt.Sprintf("%04d", bidID%10000) }

// SignIn is a bidder's 签到 at the opening.
func (s *Service) SignIn(ctx context.Context, a trading.Actor, lotID int64) error {
	return trading.Transact(ctx, s.DB, func(tx *gorm.DB) error {
		_, _, o, err := s.hallLot(tx, lotID)
		if err != nil {
			return err
		}
		if o == nil || o.Status == OpeningFailed {
			return trading.Conflict("lot_id", "开标大厅尚未开启")
		}
		ob, err := myOpeningBid(tx, a, lotID)
		if err != nil {
			return err
		}
		if ob.SignedInAt != nil {
			return nil
		}
		now, err := trading.DBNow(tx)
		if err != nil {
			return err
		}
		if err := tx.Model(ob).Update("signed_in_at", now).Error; err != nil {
			return err
		}
		if err := trading.Audit(tx, now, a, "opening.signin", "lot", fmt.Sprint(lotID), "投标人签到"); err != nil {
			return err
		}
		return hallEvent(ctx, tx, lotID, "hall.signin", map[string]any{"seat": seat(ob.BidID), "text": "投标人 " + seat(ob.BidID) + " 已签到"})
	})
}

// HallHeader is the header of the bidder's price-form envelope: what its
// browser unwraps the content key from with the key file.
func (s *Service) HallHeader(ctx context.Context, a trading.Actor, lotID int64) (*sealed.Header, error) {
	var p SealedPart
	err := s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var ob OpeningBid
		if err := tx.Where("lot_id = ? AND bidder_id = ?", lotID, a.AccountID).Take(&ob).Error; err != nil {
			return trading.NotFound("您在本次开标中的投标文件")
		}
		return tx.Where("bid_id = ? AND part = 0", ob.BidID).Take(&p).Error
	})
	if err != nil {
		return nil, err
	}
	r, _, err := s.Storage.Get(ctx, p.ObjectKey)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	h, err := sealed.ReadHeader(r)
	if err != nil {
		return nil, err
	}
	return &h, nil
}

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
	h := sha256.New()
	meta := &docMeta{}
	done := make(chan error, 1)
	go func() {
		_, err := s.Storage.Client.PutObject(ctx, s.Storage.Bucket, key, pr, -1, minio.PutObjectOptions{ContentType: "application/octet-stream", PartSize: partSize})
		pr.CloseWithError(err)
		done <- err
	}()
	res, oerr := sealed.Open(r, ck, io.MultiWriter(pw, h, meta))
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
	po.Name, po.Size, po.SHA256, po.ObjectKey = res.Name, res.ContentSize, hex.EncodeToString(h.Sum(nil)), key
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
		return hallEvent(ctx, tx, lotID, "hall.concluded", map[string]any{"sha256": digest, "text": "开标结束，开标记录已生成，SHA-256 " + digest})
	})
	if err != nil && key != "" {
		s.removeObject(ctx, key, true)
	}
	return out, err
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
	fmt.Fprintf(&b, "# 开标记录\n\n项目：%s（%s）  \n标段：%d %s  \n开标方式：网上开标（不见面开标），平台生成（EB7）  \n", p.Title, p.Code, lot.Seq, lot.Name)
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
