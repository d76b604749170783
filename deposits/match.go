package deposits

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/ggzy/ggzy/trading"
)

// stagedChunk is a run of lines in inflow_staging under one staging id.
// A webhook or manual entry is one chunk whose id is its batch's; a
// statement is staged in chunks of chunkLines, all booked under one batch.
type stagedChunk struct {
	id    int64
	lines int
	// classified: its lines not booked before are in inflow_classified
	// (classifyChunk).
	classified bool
}

// classifiedLines classifies staged lines (st), in order: no such
// account → suspense; after the deadline → late; engineering deposit not
// from the bidder itself → third party (D2: from the bidder's own basic
// account); otherwise held. Its columns are inflow_classified's.
const classifiedLines = `
	SELECT st.batch_id AS chunk_id, st.line, st.bank_txn_id, st.value_time, st.account_number, va.id AS virtual_account_id,
		st.payer_name, st.payer_account, st.payer_bank, st.amount, st.memo,
		CASE WHEN va.id IS NULL THEN 'suspense'
		     WHEN st.value_time > va.deadline THEN 'late'
		     WHEN va.category = 'engineering' AND st.payer_name <> va.bidder THEN 'third_party'
		     ELSE 'held' END AS status,
		CASE WHEN va.id IS NULL THEN '收款账号不是本中心有效的虚拟子账号'
		     WHEN st.value_time > va.deadline THEN '到账时间晚于保证金截止时间，缴纳无效，将退还'
		     WHEN va.category = 'engineering' AND st.payer_name <> va.bidder THEN 'D2：付款人“' || st.payer_name || '”不是投标人“' || va.bidder || '”，保证金须从投标人基本账户转出，将退还付款人'
		     ELSE '' END AS reason
	FROM inflow_staging st
	-- The bidder and the project only for a line that names a virtual
	-- account (most of a large file may name none).
	LEFT JOIN (SELECT va.id, va.number, va.deadline, b.name AS bidder, p.category
	           FROM virtual_accounts va LEFT JOIN bidders b ON b.account_id = va.bidder_id
	           JOIN lots l ON l.id = va.lot_id JOIN projects p ON p.id = l.project_id) va ON va.number = st.account_number`

// matching books a batch's staged chunks inside one transaction. It is
// the one path every inflow takes: statement, webhook and manual entry
// alike. Each chunk is one set-based INSERT … SELECT, not a loop.
type matching struct {
	s      *Service
	tx     *gorm.DB
	batch  int64
	source Source
	actor  trading.Actor
	now    time.Time
	before int64 // inflow ids of this batch lie above it
	chunks []int64
	// k1Payers: the payers of the batch's matched money are gathered in a
	// temporary table as chunks are booked, for the K1 check at the end
	// (a statement's); otherwise K1 reads them back from the id range.
	k1Payers bool
	// scratchGone: the staged lines are deleted elsewhere (ImportStatement).
	scratchGone bool
	r           Result
	elapsed     time.Duration
}

// match starts booking batch in tx.
func (s *Service) match(tx *gorm.DB, batch int64, source Source, actor trading.Actor, now time.Time) (*matching, error) {
	m := &matching{s: s, tx: tx, batch: batch, source: source, actor: actor, now: now}
	// The inflows this batch adds get ids above this one: the K1 check
	// looks at that range alone, a short step on the primary key, so a
	// re-imported statement costs nothing there.
	if err := tx.Raw("SELECT coalesce(max(id), 0) FROM inflows").Scan(&m.before).Error; err != nil {
		return nil, err
	}
	return m, nil
}

// chunk books one staged chunk: every line whose bank transaction is not
// booked yet becomes an inflow, classified, and the chunk's money is
// posted to the journal. A transaction booked by another batch is a
// repeat and changes nothing; one repeated within this batch makes the
// unique index refuse the chunk, and the caller then looks for repeated
// lines in staging (ImportStatement) — without the batch_id condition a
// repeat with different content in a later chunk would pass as "already
// booked".
func (m *matching) chunk(c stagedChunk) error {
	t0 := time.Now()
	var createdBy *int64
	if m.source == SourceManual && m.actor.AccountID != 0 {
		createdBy = &m.actor.AccountID // a statement's importer is in its batch's audit record
	}
	var rows []struct {
		Status string `gorm:"column:status"`
		N      int    `gorm:"column:n"`
	}
	journal := fmt.Sprint(c.id)
	k1 := ""
	if m.k1Payers {
		k1 = `, k1 AS (INSERT INTO k1_payers SELECT DISTINCT payer_account FROM ins WHERE status <> 'suspense')`
	}
	from := `(` + classifiedLines + `
	-- A plain insert of what is not there yet (ON CONFLICT's speculative
	-- insertion cost a fifth more on a large statement). A concurrent batch
	-- carrying the same transaction makes the unique index refuse this one
	-- whole; transactRetryingDuplicates runs it again, and then it is seen.
	WHERE st.batch_id = ? AND NOT EXISTS (
		SELECT 1 FROM inflows x WHERE x.bank_txn_id = st.bank_txn_id AND x.batch_id IS DISTINCT FROM ?)) c`
	args := []any{string(m.source), m.now, createdBy, m.batch, c.id, m.batch}
	if c.classified {
		// Classified by the stager already, lines booked before left out:
		// a transaction booked since by a concurrent batch, or repeated in
		// this file, makes the unique index refuse the chunk.
		from = "inflow_classified c WHERE c.chunk_id = ?"
		args = []any{string(m.source), m.now, createdBy, m.batch, c.id}
	}
	err := m.tx.Raw(`
WITH ins AS (
	INSERT INTO inflows (bank_txn_id, source, value_time, account_number, virtual_account_id, payer_name, payer_account,
		payer_bank, amount, currency, memo, status, reason, created_at, created_by, batch_id)
	SELECT c.bank_txn_id, ?, c.value_time, c.account_number, c.virtual_account_id, c.payer_name, c.payer_account, c.payer_bank,
		c.amount, 'CNY', c.memo, c.status, c.reason, ?, ?, ?
	FROM `+from+`
	RETURNING status, amount, account_number, payer_account
)`+k1+`, agg AS (
	SELECT status, CASE WHEN status = 'suspense' THEN 'suspense' ELSE 'va:' || account_number END AS account,
		count(*) AS n, sum(amount) AS total
	FROM ins GROUP BY 1, 2
), journal AS (
	-- One posting per chunk: the bank debited with the chunk's total, each
	-- virtual account (or suspense) credited with what came in for it.
	INSERT INTO ledger_entries (journal_id, at, account, amount, memo)
	SELECT 'inflows:' || ?::text, ?::timestamptz, account, -sum(total), '应付保证金' FROM agg GROUP BY account
	UNION ALL
	SELECT 'inflows:' || ?::text, ?::timestamptz, 'bank', sum(total), '银行到账' FROM agg HAVING count(*) > 0
	RETURNING 1
)
SELECT status, sum(n)::int AS n FROM agg GROUP BY status`,
		append(args, journal, m.now, journal, m.now)...).Scan(&rows).Error
	if err != nil {
		return err
	}
	m.chunks = append(m.chunks, c.id)
	m.r.Lines += c.lines
	for _, x := range rows {
		m.r.New += x.N
		switch InflowStatus(x.Status) {
		case InflowHeld:
			m.r.Held += x.N
		case InflowLate:
			m.r.Late += x.N
		case InflowThirdParty:
			m.r.Third += x.N
		case InflowSuspense:
			m.r.Suspense += x.N
		}
	}
	m.r.Repeated = m.r.Lines - m.r.New
	m.elapsed += time.Since(t0)
	m.s.Log.Debug("chunk matched", "chunk", c.id, "took", time.Since(t0))
	return nil
}

// finish raises K1 alerts for the batch's new inflows, queues refunds of
// invalid payments, drops the staged lines and writes the audit record.
func (m *matching) finish() (Result, error) {
	s, tx, r := m.s, m.tx, &m.r
	s.Log.Debug("batch matched", "batch", m.batch, "chunks", len(m.chunks), "took", m.elapsed)
	if !m.scratchGone {
		if err := dropStaged(tx, m.chunks); err != nil {
			return *r, err
		}
	}
	if r.New == 0 {
		return *r, nil
	}
	t0 := time.Now()
	if err := tx.Raw("SELECT coalesce(max(id), 0) FROM inflows").Scan(&r.to).Error; err != nil {
		return *r, err
	}
	r.from = m.before
	// K1: deposits of different bidders of one lot from the same account.
	payers := ""
	if m.k1Payers {
		payers = "SELECT payer_account FROM k1_payers"
		// The planner's own choice again (matchStatement turned joins
		// into index probes for the chunks).
		if err := tx.Exec("RESET enable_hashjoin").Error; err != nil {
			return *r, err
		}
		if err := tx.Exec("RESET enable_mergejoin").Error; err != nil {
			return *r, err
		}
		if err := tx.Exec("ANALYZE k1_payers").Error; err != nil {
			return *r, err
		}
	}
	res := checkK1(tx, r.New, r.from, r.to, payers, m.now)
	if res.Error != nil {
		return *r, res.Error
	}
	r.Alerts = int(res.RowsAffected)
	if r.Alerts > 0 {
		if err := notifyK1(tx, m.now); err != nil {
			return *r, err
		}
	}
	if err := notifyInflows(tx, m.now, m.batch, r.from, r.to); err != nil {
		return *r, err
	}
	s.Log.Debug("alerts checked", "batch", m.batch, "took", time.Since(t0))
	// Invalid payments go back at once, to whoever paid them.
	if r.Late+r.Third > 0 {
		if _, err := queueRefunds(tx, m.now, dueDays(m.now, refundDueDays), "INVALID", "逾期或非投标人账户缴纳，缴纳无效，原路退回", false,
			`i.status IN ('late', 'third_party') AND i.batch_id = ?`, m.batch); err != nil {
			return *r, err
		}
	}
	return *r, trading.Audit(tx, m.now, m.actor, "deposit.inflow", "inflow_batch", fmt.Sprint(m.batch),
		fmt.Sprintf("%s：%d笔，新入账%d笔（有效%d，逾期%d，非本单位%d，待查%d），重复%d笔，K1预警%d条",
			trading.Label(trading.LabelSource, string(m.source)), r.Lines, r.New, r.Held, r.Late, r.Third, r.Suspense, r.Repeated, r.Alerts))
}

// valueTimeSlack is how far ahead of the platform's clock a bank may date
// a credit (its clock and ours differ by a little); further is refused.
const valueTimeSlack = 10 * time.Minute

// Receive books inflows that arrived by webhook or manual entry: staged and
// matched like a statement, in one transaction. The same bank transaction
// delivered again changes nothing. One delivered again with different
// content is not booked: Receive raises a DUPLICATE alert for the
// supervisors, books the rest, and answers a 409 conflict naming it (as a
// statement file with such a line is refused, "与第N行重复但内容不同").
// A value time before 2000, or before the virtual account it credits was
// opened (before its project could take money), is refused whole (400
// naming value_time); the webhook and manual entry also refuse one in the
// future (notFuture).
func (s *Service) Receive(ctx context.Context, a trading.Actor, source Source, ins []Inflow) (Result, error) {
	now := s.now()
	for _, in := range ins {
		if in.ValueTime.In(trading.Shanghai).Year() < 2000 {
			return Result{}, trading.Invalid("value_time", "到账时间 %s 超出合理范围（须在 2000 年之后），不予入账",
				in.ValueTime.In(trading.Shanghai).Format("2006-01-02 15:04:05"))
		}
	}
	var r Result
	var conflict error
	err := transactRetryingDuplicates(ctx, s.DB, func(tx *gorm.DB) error {
		conflict = nil
		if err := checkOpened(tx, ins); err != nil {
			return err
		}
		var batch int64
		if err := tx.Raw("SELECT nextval('inflow_batch_seq')").Scan(&batch).Error; err != nil {
			return err
		}
		for i, in := range ins {
			if err := tx.Exec(`INSERT INTO inflow_staging (batch_id, line, bank_txn_id, value_time, account_number, payer_name,
				payer_account, payer_bank, amount, memo) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				batch, i+1, in.BankTxnID, in.ValueTime, in.VirtualAccount, in.PayerName, in.PayerAccount, in.PayerBank,
				in.Amount, in.Memo).Error; err != nil {
				return err
			}
		}
		m, err := s.match(tx, batch, source, a, now)
		if err != nil {
			return err
		}
		if err := m.chunk(stagedChunk{id: batch, lines: len(ins)}); err != nil {
			return err
		}
		if m.r.Repeated > 0 {
			if conflict, err = s.repeatedDifferently(tx, a, batch, now); err != nil {
				return err
			}
		}
		r, err = m.finish()
		return err
	})
	if err != nil {
		return r, err
	}
	return r, conflict
}

// notFuture refuses a credit the bank dates ahead of the platform's clock
// (by more than valueTimeSlack): the webhook and manual entry check it
// before Receive. (Tests and the demo book money as of a later day
// through Receive, with the clock where the scenario needs it.)
func (s *Service) notFuture(in Inflow) error {
	if in.ValueTime.After(s.now().Add(valueTimeSlack)) {
		return trading.Invalid("value_time", "到账时间 %s 晚于当前时间，不予入账", in.ValueTime.In(trading.Shanghai).Format("2006-01-02 15:04:05"))
	}
	return nil
}

// checkOpened refuses an inflow dated before the virtual account it
// credits was opened: no money can have been paid into it then.
func checkOpened(tx *gorm.DB, ins []Inflow) error {
	numbers := make([]string, len(ins))
	for i, in := range ins {
		numbers[i] = in.VirtualAccount
	}
	var vas []VirtualAccount
	if err := tx.Where("number IN ?", numbers).Find(&vas).Error; err != nil {
		return err
	}
	opened := map[string]time.Time{}
	for _, va := range vas {
		opened[va.Number] = va.CreatedAt
	}
	for _, in := range ins {
		if at, ok := opened[in.VirtualAccount]; ok && in.ValueTime.Before(at) {
			return trading.Invalid("value_time", "到账时间 %s 早于虚拟子账号 %s 开立（%s），不予入账",
				in.ValueTime.In(trading.Shanghai).Format("2006-01-02 15:04:05"), in.VirtualAccount, at.In(trading.Shanghai).Format("2006-01-02 15:04:05"))
		}
	}
	return nil
}

// bookedRepeat is a staged line whose transaction id is booked already
// (by another batch) with other content.
type bookedRepeat struct {
	Line     int    `gorm:"column:line"`
	TxnID    string `gorm:"column:bank_txn_id"`
	InflowID int64  `gorm:"column:inflow_id"`
	// The booked inflow's lot, when its money matched a virtual account.
	LotID        *int64 `gorm:"column:lot_id"`
	PayerAccount string `gorm:"column:payer_account"`
	Diffs        string `gorm:"column:diffs"`
}

// bookedRepeats finds the staged lines of chunks whose transaction id
// another batch booked with other content: the value time (to the second:
// one bank channel may carry fractions another drops), the account, the
// payer, the bank or the amount. The memo is left out: it is free text,
// which a manual entry fills with its reason. The webhook, manual entry and
// statement imports all check a repeat with it; at most limit are returned.
func bookedRepeats(tx *gorm.DB, chunks []int64, batch int64, limit int) ([]bookedRepeat, error) {
	var out []bookedRepeat
	// Equivalent: staged lines joined to the booked inflow of their
	// transaction id, where a field differs; the differences spelled out.
	err := tx.Raw(`SELECT st.line, st.bank_txn_id, x.id AS inflow_id, va.lot_id, st.payer_account,
			concat_ws('；',
				CASE WHEN date_trunc('second', st.value_time) <> date_trunc('second', x.value_time) THEN '到账时间 原为“' ||
					to_char(x.value_time AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI:SS') || '”，此次为“' ||
					to_char(st.value_time AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI:SS') || '”' END,
				CASE WHEN st.account_number <> x.account_number THEN '收款账号 原为“' || x.account_number || '”，此次为“' || st.account_number || '”' END,
				CASE WHEN st.payer_name <> x.payer_name THEN '付款人名称 原为“' || x.payer_name || '”，此次为“' || st.payer_name || '”' END,
				CASE WHEN st.payer_account <> x.payer_account THEN '付款人账号 原为“' || x.payer_account || '”，此次为“' || st.payer_account || '”' END,
				CASE WHEN st.payer_bank <> x.payer_bank THEN '付款行 原为“' || x.payer_bank || '”，此次为“' || st.payer_bank || '”' END,
				CASE WHEN st.amount <> x.amount THEN '金额 原为“' || to_char(x.amount, 'FM999999999999990.00') || '”，此次为“' ||
					to_char(st.amount, 'FM999999999999990.00') || '”' END) AS diffs
		FROM inflow_staging st JOIN inflows x ON x.bank_txn_id = st.bank_txn_id AND x.batch_id IS DISTINCT FROM ?
		LEFT JOIN virtual_accounts va ON va.id = x.virtual_account_id
		WHERE st.batch_id IN ? AND (date_trunc('second', st.value_time), st.account_number, st.payer_name, st.payer_account, st.payer_bank, st.amount)
			IS DISTINCT FROM (date_trunc('second', x.value_time), x.account_number, x.payer_name, x.payer_account, x.payer_bank, x.amount)
		ORDER BY st.line LIMIT ?`, batch, chunks, limit).Scan(&out).Error
	return out, err
}

// repeatedDifferently raises, in tx, a DUPLICATE alert (once per id and
// content, with an audit record) for each inflow of batch that repeats a
// booked transaction id with other content; the returned conflict (409)
// names the first.
func (s *Service) repeatedDifferently(tx *gorm.DB, a trading.Actor, batch int64, now time.Time) (error, error) {
	repeats, err := bookedRepeats(tx, []int64{batch}, batch, MaxProblems)
	if err != nil || len(repeats) == 0 {
		return nil, err
	}
	for _, r := range repeats {
		detail := fmt.Sprintf("交易流水号 %s 与已入账的第 %d 笔到账重复但内容不同（%s），未入账", r.TxnID, r.InflowID, r.Diffs)
		res := tx.Exec(`INSERT INTO deposit_alerts (kind, lot_id, payer_account, bank_txn_id, detail, created_at)
			VALUES ('DUPLICATE', ?, ?, ?, ?, ?) ON CONFLICT (bank_txn_id, detail) WHERE kind = 'DUPLICATE' DO NOTHING`,
			r.LotID, r.PayerAccount, r.TxnID, detail, now)
		if res.Error != nil {
			return nil, res.Error
		}
		if res.RowsAffected > 0 {
			if err := trading.Audit(tx, now, a, "deposit.duplicate", "inflow", fmt.Sprint(r.InflowID), detail); err != nil {
				return nil, err
			}
		}
	}
	r := repeats[0]
	return trading.Conflict("txn_id", "交易流水号 %s 与已入账的第 %d 笔到账重复但内容不同（%s），未入账，已通知交易中心监督", r.TxnID, r.InflowID, r.Diffs).
		WithCode("duplicate_transaction"), nil
}

// dropStaged deletes the staged and classified lines of chunks.
func dropStaged(db *gorm.DB, chunks []int64) error {
	if err := db.Exec("DELETE FROM inflow_staging WHERE batch_id IN ?", chunks).Error; err != nil {
		return err
	}
	return db.Exec("DELETE FROM inflow_classified WHERE chunk_id IN ?", chunks).Error
}
