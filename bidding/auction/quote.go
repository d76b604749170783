package auction

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"
	"time"
	"unicode"

	"github.com/shopspring/decimal"
	"gorm.io/gorm"

	"github.com/ggzy/ggzy/trading"
	"github.com/ggzy/ggzy/trading/live"
	"github.com/ggzy/ggzy/trading/rules"
)

// QuoteInput is a quote as sent. Key is the idempotency key of the quote
// (the page draws one per quote box): the same key counts once.
type QuoteInput struct {
	Amount string `json:"amount" form:"amount"`
	Key    string `json:"key" form:"key"`
	Device string `json:"device" form:"device"` // the browser's device id, for the K1 alert
}

// QuoteResult is an accepted quote (or the earlier one of the same key).
type QuoteResult struct {
	Quote        *Quote     `json:"quote"`
	Code         string     `json:"code"`
	Duplicate    bool       `json:"duplicate"`
	State        string     `json:"state"`
	CountdownEnd *time.Time `json:"countdown_end,omitempty"`
}

// QuoteEvent is a quote on the lot's public topic: the code, never the name.
type QuoteEvent struct {
	Code         string           `json:"code,omitempty"`
	Amount       *decimal.Decimal `json:"amount,omitempty"`
	At           time.Time        `json:"at"`
	State        string           `json:"state"`
	CountdownEnd *time.Time       `json:"countdown_end,omitempty"`
	Quotes       int              `json:"quotes"`
	Next         *decimal.Decimal `json:"next,omitempty"` // the lowest acceptable next quote
}

// Quote takes a bidder's quote on the lot in one transaction that locks
// the lot's bidding row and decides with ggzy_now() read under the lock
// (issue 15 §3–§5, L8–L16). A refusal is a 4xx naming the rule; only the
// refusal is recorded.
func (s *Service) Quote(ctx context.Context, a trading.Actor, lotID int64, in QuoteInput) (*QuoteResult, error) {
	key := strings.TrimSpace(in.Key)
	if key == "" || len(key) > 64 || strings.ContainsFunc(key, unicode.IsControl) {
		return nil, s.refuse(ctx, lotID, "", nil, key, refusal(http.StatusBadRequest, "L8", "key", "缺少报价的幂等键，或其含控制字符（每次报价一个，1至64个可见字符）"))
	}
	amount, err := trading.ParseAmount(strings.TrimSpace(in.Amount))
	if err != nil || !amount.IsPositive() {
		return nil, s.refuse(ctx, lotID, "", nil, key, refusal(http.StatusBadRequest, "L8", "amount", "报价应为大于0、最多两位小数的金额（元），实际为“%s”", trading.Clip(in.Amount, 40)))
	}
	// The rate count (overRate), who may quote, and an amount already
	// outbid, in one statement without the lot's lock (outbid.go).
	b, code, v, err := s.beforeLock(ctx, a, lotID, amount, key)
	if err != nil {
		if errors.Is(err, ErrRefused) {
			return nil, s.refuse(ctx, lotID, code, &amount, key, err)
		}
		return nil, err
	}
	device := trading.Clip(in.Device, 100)
	if v != nil {
		// The common case in one statement (fast.go); what it does not
		// take goes on to the locked path.
		res, err := s.quickQuote(ctx, a, v, b, amount, key, device)
		if errors.Is(err, ErrRefused) {
			return nil, err // recorded by quickQuote
		}
		if err != nil || res != nil {
			return res, err
		}
	}
	var res *QuoteResult
	err = trading.Transact(ctx, s.DB, func(tx *gorm.DB) error {
		var err error
		res, code, err = s.quoteTx(ctx, tx, a, lotID, b, amount, key, device)
		return err
	})
	if err != nil {
		if errors.Is(err, ErrRefused) {
			return nil, s.refuse(ctx, lotID, code, &amount, key, err)
		}
		return nil, err
	}
	return res, nil
}

// refuse records a refused quote in the bidding record, outside the
// quote's transaction (rolled back), grouped with the instance's other
// refusals (refusals.go), and returns err once it is recorded.
func (s *Service) refuse(ctx context.Context, lotID int64, code string, amount *decimal.Decimal, key string, err error) error {
	row := refusalRow{Lot: lotID, Code: code, Amount: amount, Key: trading.Clip(key, 64)}
	if d := (*decidedAt)(nil); errors.As(err, &d) {
		row.At, err = &d.at, d.err // the caller gets the refusal itself
	}
	te := trading.AsError(err)
	if te == nil {
		return err
	}
	row.Rule, row.Detail = te.Rule, trading.Clip(te.Message, 500)
	s.logRefusal(ctx, row)
	return err
}

// quoteTx decides and writes one quote in the round trips it needs (the
// quote path's cost: BENCHMARKS.md, cost_test.go): the lot's lock with the
// database's time and the key's earlier quote (lockNow), one statement that writes
// the quote, its record entries and the lot's new state and finds other
// codes quoting from the same address or device, the audit record and the
// live event. Who may quote was read before the transaction (beforeLock);
// b is nil when it is read here (a bidder's first code is given in the
// quote's transaction).
func (s *Service) quoteTx(ctx context.Context, tx *gorm.DB, a trading.Actor, lotID int64, b *Bidder, amount decimal.Decimal, key, device string) (*QuoteResult, string, error) {
	// Who may quote is read before the lot's lock, so the lock is held only
	// for what decides between quotes (the clock, the highest, the phase).
	b, err := s.useBidder(ctx, tx, a, lotID, b)
	if err != nil {
		return nil, "", err
	}
	l, now, prev, err := lockNow(tx, lotID, b.RegistrationID, key)
	if err != nil {
		return nil, b.Code, err
	}
	if prev != nil {
		// A double click, or a retry after a lost answer: counted once.
		return &QuoteResult{Quote: prev, Code: b.Code, Duplicate: true, State: l.State, CountdownEnd: l.CountdownEnd}, b.Code, nil
	}
	phase, atCap, err := l.check(tx, now, amount, b.RegistrationID)
	if err != nil {
		return nil, b.Code, decided(now, err)
	}
	q := &Quote{LotID: lotID, RegistrationID: b.RegistrationID, Phase: phase, Amount: amount, At: now, IdemKey: key, IP: a.IP, Device: device}
	prevReg := l.HighestReg
	switch phase {
	case "open", "timed":
		l.Highest, l.HighestReg = &amount, &b.RegistrationID
	case "sealed":
		if l.Highest == nil || amount.GreaterThan(*l.Highest) { // ties: the earlier (L16)
			l.Highest, l.HighestReg = &amount, &b.RegistrationID
		}
	}
	l.Quotes++
	entries := []Entry{{LotID: lotID, At: now, Kind: "quote", Code: b.Code, Amount: &amount, IdemKey: key, Detail: phase}}
	if phase == "timed" {
		end := now.Add(time.Duration(l.CountdownS) * time.Second)
		l.CountdownEnd = &end
		entries = append(entries, Entry{LotID: lotID, At: now, Kind: "restart", Until: &end, Rule: "L11", Detail: restartDetail(l.CountdownS)})
	}
	if atCap {
		end := now.Add(time.Duration(l.CapPeriodS) * time.Second)
		l.State, l.CountdownEnd = StateCapped, &end
		entries = append(entries, Entry{LotID: lotID, At: now, Kind: "capped", Until: &end, Rule: "L15", Amount: &amount,
			Detail: "报价达到最高限价，转入第二标准：各竞买人一次密封报价"})
	}
	sameOrigin, err := writeQuote(tx, l, q, entries)
	if err != nil {
		return nil, b.Code, err
	}
	if err := trading.Audit(tx, now, a, "auction.quote", "lot", fmt.Sprint(lotID), quoteSummary(b.Code, phase)); err != nil {
		return nil, b.Code, err
	}
	ev := QuoteEvent{At: now, State: l.State, CountdownEnd: l.CountdownEnd, Quotes: l.Quotes}
	kind := "sealed"
	if phase == "open" || phase == "timed" {
		kind, ev.Code, ev.Amount, ev.Next = "quote", b.Code, &amount, l.next()
	}
	// The public topic first, then the supervisors' (always in this order).
	if _, err := live.Publish(ctx, tx, topic(lotID), kind, ev); err != nil {
		return nil, b.Code, err
	}
	self := (phase == "open" || phase == "timed") && prevReg != nil && *prevReg == b.RegistrationID
	if err := s.alerts(ctx, tx, lotID, b, q, self, sameOrigin); err != nil {
		return nil, b.Code, err
	}
	return &QuoteResult{Quote: q, Code: b.Code, State: l.State, CountdownEnd: l.CountdownEnd}, b.Code, nil
}

// locked is what lockNow reads in one statement.
type locked struct {
	Now       time.Time        `gorm:"column:now"`
	Seen      int              `gorm:"column:seen"`
	KeyID     *int64           `gorm:"column:key_id"`
	KeyPhase  *string          `gorm:"column:key_phase"`
	KeyAmount *decimal.Decimal `gorm:"column:key_amount"`
	KeyAt     *time.Time       `gorm:"column:key_at"`
	KeyIP     *string          `gorm:"column:key_ip"`
	KeyDevice *string          `gorm:"column:key_device"`
	Lot       `gorm:"embedded"`
}

// lockNow takes the lot's lock (as lock does), reads ggzy_now() after the
// lock is granted (a quote's time is when the database accepted it, A2,
// L16; fast.go says why a column of a SELECT over the locking CTE is read
// then) and the bidder's earlier quote with this key, in one statement.
// The key is read from the statement's snapshot, taken before the lock
// wait; a double click that committed meanwhile is not in it, so when a
// quote was accepted between the snapshot and the lock (the lot's quotes
// count differs), the key is read again, after the lock.
func lockNow(tx *gorm.DB, lotID, regID int64, key string) (*Lot, time.Time, *Quote, error) {
	var rows []locked
	// Equivalent SQL: the lot's row FOR NO KEY UPDATE, then the clock, the
	// quotes count as of the snapshot, and the key's quote.
	if err := tx.Raw(`WITH lk AS (SELECT * FROM auction_lots WHERE lot_id = ? FOR NO KEY UPDATE),
		d AS (SELECT lk.*, ggzy_now() AS now, (SELECT quotes FROM auction_lots WHERE lot_id = ?) AS seen FROM lk)
		SELECT d.*, q.id AS key_id, q.phase AS key_phase, q.amount AS key_amount, q.at AS key_at, q.ip AS key_ip, q.device AS key_device
		FROM d LEFT JOIN auction_quotes q ON q.registration_id = ? AND q.idem_key = ?`,
		lotID, lotID, regID, key).Scan(&rows).Error; err != nil {
		return nil, time.Time{}, nil, err
	}
	if len(rows) != 1 {
		_, err := lock(tx, lotID) // not bid online: its error says so
		if err == nil {
			err = fmt.Errorf("auction: lock lot %d", lotID)
		}
		return nil, time.Time{}, nil, err
	}
	r := &rows[0]
	if r.KeyID != nil {
		return &r.Lot, r.Now, &Quote{ID: *r.KeyID, LotID: lotID, RegistrationID: regID, Phase: *r.KeyPhase, Amount: *r.KeyAmount,
			At: *r.KeyAt, IdemKey: key, IP: *r.KeyIP, Device: *r.KeyDevice}, nil
	}
	if r.Seen != r.Quotes {
		var prev Quote
		res := tx.Where("registration_id = ? AND idem_key = ?", regID, key).Limit(1).Find(&prev)
		if res.Error != nil || res.RowsAffected == 0 {
			return &r.Lot, r.Now, nil, res.Error
		}
		return &r.Lot, r.Now, &prev, nil
	}
	return &r.Lot, r.Now, nil, nil
}

// writeQuote writes an accepted quote, its record entries and the lot's
// new state in one statement, and returns the other codes that quoted on
// the lot from the quote's address or device (the K1/K3 alert), "、"-joined.
func writeQuote(tx *gorm.DB, l *Lot, q *Quote, entries []Entry) (string, error) {
	var sql strings.Builder
	args := []any{q.LotID, q.RegistrationID, q.Phase, q.Amount, q.At, q.IdemKey, q.IP, q.Device}
	sql.WriteString(`WITH q AS (INSERT INTO auction_quotes (lot_id, registration_id, phase, amount, at, idem_key, ip, device)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id),
	e AS (INSERT INTO auction_log (lot_id, at, kind, code, amount, rule, detail, idem_key, until) VALUES `)
	for i, e := range entries {
		if i > 0 {
			sql.WriteString(", ")
		}
		sql.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?)")
		args = append(args, e.LotID, e.At, e.Kind, e.Code, e.Amount, e.Rule, e.Detail, e.IdemKey, e.Until)
	}
	// The probe reads the quotes committed before this statement: all the
	// lot's earlier quotes, as the lot's lock was taken before it.
	sql.WriteString(`),
	l AS (UPDATE auction_lots SET state = ?, highest = ?, highest_reg = ?, quotes = ?, countdown_end = ? WHERE lot_id = ?)
	SELECT q.id, auction_same_origin(?, ?, ?, ?, ?) AS same
	FROM q`)
	args = append(args, l.State, l.Highest, l.HighestReg, l.Quotes, l.CountdownEnd, l.LotID, q.LotID, q.RegistrationID, q.IP, q.Device, int64(math.MaxInt64))
	var row []struct {
		ID   int64  `gorm:"column:id"`
		Same string `gorm:"column:same"`
	}
	if err := tx.Raw(sql.String(), args...).Scan(&row).Error; err != nil {
		return "", err
	}
	if len(row) != 1 {
		return "", fmt.Errorf("auction: write quote on lot %d", l.LotID)
	}
	q.ID = row[0].ID
	return row[0].Same, nil
}

// quoteSummary is the audit record of an accepted quote.
func quoteSummary(code, phase string) string {
	return fmt.Sprintf("竞买号牌 %s 报价（%s）", code, phaseName(phase))
}

// restartDetail is the record entry of a countdown restarted by a quote (L11).
func restartDetail(countdownS int) string {
	return fmt.Sprintf("有效报价，倒计时重新计为%d秒", countdownS)
}

func phaseName(p string) string {
	return map[string]string{"open": "挂牌/自由报价", "timed": "限时竞价", "sealed": "一次报价（密封）", "capped": "最高限价第二标准（密封）"}[p]
}

// next is the lowest acceptable next ascending quote (L8); nil when the
// lot's price is not shown (sealed).
func (l *Lot) next() *decimal.Decimal {
	if l.Sealed() || l.pastBidding() {
		return nil
	}
	n := l.StartPrice
	if l.Highest != nil {
		n = l.Highest.Add(l.inc())
	}
	if l.PriceCap != nil && n.GreaterThan(*l.PriceCap) && (l.Highest == nil || l.Highest.LessThan(*l.PriceCap)) {
		n = *l.PriceCap
	}
	return &n
}

func (l *Lot) inc() decimal.Decimal {
	if l.Increment != nil {
		return *l.Increment
	}
	return decimal.New(1, -2)
}

// check decides a quote against the lot's state at now (the database's
// time): the phase it falls in, whether it reaches the cap (L15), or the
// refusal naming the rule. The reserve price is never part of a refusal (L9).
func (l *Lot) check(tx *gorm.DB, now time.Time, amount decimal.Decimal, regID int64) (phase string, atCap bool, err error) {
	switch l.State {
	case StateSettled, StateQualifying, StatePriority:
		return "", false, refusal(http.StatusConflict, "L11", "lot", "本标的竞价已结束，不再接受报价")
	case StateSuspended:
		return "", false, refusal(http.StatusConflict, "L13", "lot", "本标的已中止交易（%s），恢复前不接受报价", l.SuspendReason)
	case StateOpen:
		if now.Before(l.OpensAt) {
			return "", false, refusal(http.StatusConflict, "L8", "lot", "报价期尚未开始（%s 开始，以平台数据库接收时间为准）", fmtTime(l.OpensAt))
		}
		if !now.Before(l.ClosesAt) {
			return "", false, refusal(http.StatusConflict, "L10", "lot", "报价期已于 %s 截止：报价到达平台数据库时已过截止时间，无论何时发出均不接受", fmtTime(l.ClosesAt))
		}
		if l.LastHourS > 0 && !now.Before(l.ClosesAt.Add(-time.Duration(l.LastHourS)*time.Second)) {
			return "", false, refusal(http.StatusConflict, "L12", "lot", "挂牌截止前%d分钟内不接受挂牌报价；如愿继续竞价，请在挂牌截止前申请参加限时竞价", l.LastHourS/60)
		}
		if l.Mode == rules.ModeSealed {
			if err := once(tx, regID, "sealed", "P7", "一次报价每名竞买人只能报价一次，报价不可撤回或更改"); err != nil {
				return "", false, err
			}
			if amount.LessThan(l.StartPrice) {
				return "", false, refusal(http.StatusUnprocessableEntity, "P7", "amount", "报价 %s 元低于挂牌价（起始价）%s 元", yuan(amount), yuan(l.StartPrice))
			}
			return "sealed", false, nil
		}
		atCap, err := l.ascending(amount)
		return "open", atCap, err
	case StateTimed:
		if now.Before(l.OpensAt) {
			return "", false, refusal(http.StatusConflict, "L11", "lot", "竞价尚未开始（%s 开始，以平台数据库接收时间为准）", fmtTime(l.OpensAt))
		}
		if !now.Before(*l.CountdownEnd) {
			return "", false, refusal(http.StatusConflict, "L11", "lot", "倒计时已于 %s 结束：报价到达平台数据库时已过结束时间，无论何时发出均不接受", fmtTime(*l.CountdownEnd))
		}
		atCap, err := l.ascending(amount)
		return "timed", atCap, err
	case StateCapped:
		if !now.Before(*l.CountdownEnd) {
			return "", false, refusal(http.StatusConflict, "L15", "lot", "第二标准报价期已于 %s 结束", fmtTime(*l.CountdownEnd))
		}
		if err := once(tx, regID, "capped", "L15", "第二标准每名竞买人只能密封报价一次"); err != nil {
			return "", false, err
		}
		return "capped", false, nil
	}
	return "", false, fmt.Errorf("auction: lot %d in state %q", l.LotID, l.State)
}

func once(tx *gorm.DB, regID int64, phase, rule, msg string) error {
	var n int64
	if err := tx.Model(&Quote{}).Where("registration_id = ? AND phase = ?", regID, phase).Count(&n).Error; err != nil {
		return err
	}
	if n > 0 {
		return refusal(http.StatusConflict, rule, "amount", "%s", msg)
	}
	return nil
}

// ascending applies L8 (first ≥ start, then ≥ highest + increment, whole
// increments where the lot says so) and L15 (never above the cap; reaching
// it switches to the second criterion).
func (l *Lot) ascending(amount decimal.Decimal) (atCap bool, err error) {
	if l.PriceCap != nil {
		if amount.GreaterThan(*l.PriceCap) {
			return false, refusal(http.StatusUnprocessableEntity, "L15", "amount", "报价 %s 元超过最高限价 %s 元", yuan(amount), yuan(*l.PriceCap))
		}
		atCap = amount.Equal(*l.PriceCap) && (l.Highest == nil || amount.GreaterThan(*l.Highest))
	}
	if atCap {
		return true, nil
	}
	if l.Highest == nil {
		if amount.LessThan(l.StartPrice) {
			return false, refusal(http.StatusUnprocessableEntity, "L8", "amount", "首次报价 %s 元低于起始价 %s 元", yuan(amount), yuan(l.StartPrice))
		}
	} else if least := l.Highest.Add(l.inc()); amount.LessThan(least) {
		return false, refusal(http.StatusUnprocessableEntity, "L8", "amount", "报价 %s 元低于当前最高报价 %s 元加一个加价幅度 %s 元（至少 %s 元）",
			yuan(amount), yuan(*l.Highest), yuan(l.inc()), yuan(least))
	}
	if l.IncrementMultiple && !amount.Sub(l.StartPrice).Mod(l.inc()).IsZero() {
		return false, refusal(http.StatusUnprocessableEntity, "L8", "amount", "本标的报价须为起始价 %s 元加整数倍加价幅度 %s 元", yuan(l.StartPrice), yuan(l.inc()))
	}
	return false, nil
}

// WantTimed records that the bidder wants to go on to timed bidding at the
// listing's close (L10). Allowed until the close, also in the last hour.
func (s *Service) WantTimed(ctx context.Context, a trading.Actor, lotID int64) error {
	return trading.Transact(ctx, s.DB, func(tx *gorm.DB) error {
		l, err := lock(tx, lotID)
		if err != nil {
			return err
		}
		now, err := trading.DBNow(tx)
		if err != nil {
			return err
		}
		b, err := s.qualify(ctx, tx, a, lotID, now)
		if err != nil {
			return err
		}
		if l.Mode != rules.ModeListing || l.State != StateOpen || !now.Before(l.ClosesAt) {
			return trading.Conflict("lot", "只有挂牌期内可以申请参加限时竞价（L10）")
		}
		if b.WantsTimedAt != nil {
			return nil
		}
		if err := tx.Model(b).Update("wants_timed_at", now).Error; err != nil {
			return err
		}
		if err := logEntry(tx, &Entry{LotID: lotID, At: now, Kind: "wants_timed", Code: b.Code, Rule: "L10"}); err != nil {
			return err
		}
		return trading.Audit(tx, now, a, "auction.wants_timed", "lot", fmt.Sprint(lotID), "竞买号牌 "+b.Code+" 申请参加限时竞价")
	})
}
