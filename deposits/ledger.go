package deposits

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"gorm.io/gorm"

	"github.com/ggzy/ggzy/trading"
)

// StatementProblems refuses a statement file whole: no line of it is booked.
type StatementProblems struct {
	Problems []LineError
}

func (e *StatementProblems) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "对账单有 %d 处错误，整份文件未导入", len(e.Problems))
	for i, p := range e.Problems {
		if i == 10 {
			b.WriteString("；……")
			break
		}
		b.WriteString("；")
		b.WriteString(p.Error())
	}
	return b.String()
}

// isCamt tells a camt.053 XML file from a CSV one by its first byte.
func isCamt(r *bufio.Reader) bool {
	head, _ := r.Peek(512)
	head = bytes.TrimPrefix(head, []byte("\xef\xbb\xbf"))
	return len(bytes.TrimSpace(head)) > 0 && bytes.TrimSpace(head)[0] == '<'
}

// ImportStatement books a bank statement (the documented CSV layout, UTF-8
// or GBK, or camt.053). The file is read once: each line is checked as it
// is streamed by COPY into staging, and a single bad line refuses all of
// it with a line-numbered report (the staged lines are dropped, nothing is
// booked); a good file is matched in one transaction. Importing the same
// file again changes nothing.
func (s *Service) ImportStatement(ctx context.Context, a trading.Actor, open func() (io.ReadCloser, error)) (Result, error) {
	if a.Role != trading.RoleSupervisor && a.Role != trading.SystemActor.Role {
		return Result{}, trading.Forbidden("只有交易中心监督可以导入银行对账单")
	}
	t0 := time.Now()
	f, err := open()
	if err != nil {
		return Result{}, err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 1<<16)
	refuse := func(problems []LineError) error {
		return &trading.Error{Status: http.StatusUnprocessableEntity, Code: "statement_invalid", Field: "file",
			Message: (&StatementProblems{problems}).Error(), Err: &StatementProblems{problems}}
	}
	var src interface {
		next() (Inflow, []LineError, error)
	}
	var txnColumn, dupReason string
	if isCamt(br) {
		cr, err := NewCamt053Reader(br)
		if err != nil {
			return Result{}, refuse([]LineError{*asLineError(err)})
		}
		cr.KeepDuplicates()
		src, txnColumn, dupReason = cr, camtNames.txnID, "交易流水号 %s 与第 %d 行的分录重复但内容不同"
	} else {
		sr, err := NewStatementReader(br)
		if err != nil {
			return Result{}, refuse([]LineError{*asLineError(err)})
		}
		sr.KeepDuplicates()
		src, txnColumn, dupReason = sr, statementColumns[colTxnID], "交易流水号 %s 与第 %d 行重复但内容不同"
	}
	var problems problemList
	next := func() (Inflow, error) {
		for {
			in, lineProblems, err := src.next()
			if err == io.EOF {
				return Inflow{}, io.EOF
			}
			if err != nil { // the rest of the file cannot be read
				problems.add(*asLineError(err))
				return Inflow{}, io.EOF
			}
			if len(lineProblems) > 0 { // keep reading: the report lists them all
				problems.add(lineProblems...)
				continue
			}
			if problems.total > 0 {
				continue // refused anyway: stage nothing more
			}
			return in, nil
		}
	}
	var batch int64
	if err := s.DB.WithContext(ctx).Raw("SELECT nextval('inflow_batch_seq')").Scan(&batch).Error; err != nil {
		return Result{}, err
	}
	if _, err := s.stage(ctx, batch, next); err != nil {
		s.DB.Exec("DELETE FROM inflow_staging WHERE batch_id = ?", batch)
		return Result{}, fmt.Errorf("stage statement: %w", err)
	}
	s.Log.Debug("statement staged", "took", time.Since(t0))
	if problems.total == 0 {
		// Repeated transaction ids, found in staging rather than in memory:
		// an identical re-send is dropped, a different one refuses the file.
		if err := s.stagedDuplicates(ctx, batch, txnColumn, dupReason, &problems); err != nil {
			s.DB.Exec("DELETE FROM inflow_staging WHERE batch_id = ?", batch)
			return Result{}, err
		}
	}
	if problems.total > 0 {
		s.DB.Exec("DELETE FROM inflow_staging WHERE batch_id = ?", batch)
		return Result{}, refuse(problems.result())
	}
	now := s.now()
	var r Result
	err = transactRetryingDuplicates(ctx, s.DB, func(tx *gorm.DB) error {
		var err error
		r, err = s.receive(tx, batch, SourceStatement, a, now)
		return err
	})
	if err != nil {
		s.DB.Exec("DELETE FROM inflow_staging WHERE batch_id = ?", batch)
	}
	return r, err
}

// stagedDuplicates finds transaction ids staged more than once in a batch.
// A line identical to the first with its id is a re-sent line and is
// dropped from staging; one that differs is a problem of the file, named by
// its line and the first's.
func (s *Service) stagedDuplicates(ctx context.Context, batch int64, column, reason string, problems *problemList) error {
	db := s.DB.WithContext(ctx)
	var n int64
	if err := db.Raw(`SELECT count(*) FROM (SELECT 1 FROM inflow_staging WHERE batch_id = ? GROUP BY bank_txn_id HAVING count(*) > 1) d`, batch).
		Scan(&n).Error; err != nil || n == 0 {
		return err
	}
	var rows []struct {
		Line      int    `gorm:"column:line"`
		TxnID     string `gorm:"column:bank_txn_id"`
		FirstLine int    `gorm:"column:first_line"`
		Identical bool   `gorm:"column:identical"`
	}
	// Equivalent: every later line of a repeated id, compared field by field
	// with the first line of that id.
	if err := db.Raw(`WITH d AS (
			SELECT bank_txn_id FROM inflow_staging WHERE batch_id = ? GROUP BY bank_txn_id HAVING count(*) > 1
		), r AS (
			SELECT st.line, st.bank_txn_id,
				row(st.value_time, st.account_number, st.payer_name, st.payer_account, st.payer_bank, st.amount, st.memo)::text AS c,
				first_value(st.line) OVER w AS first_line,
				first_value(row(st.value_time, st.account_number, st.payer_name, st.payer_account, st.payer_bank, st.amount, st.memo)::text) OVER w AS first_c
			FROM inflow_staging st JOIN d ON d.bank_txn_id = st.bank_txn_id
			WHERE st.batch_id = ?
			WINDOW w AS (PARTITION BY st.bank_txn_id ORDER BY st.line)
		)
		SELECT line, bank_txn_id, first_line, c = first_c AS identical FROM r WHERE line <> first_line ORDER BY line`, batch, batch).
		Scan(&rows).Error; err != nil {
		return err
	}
	var resent []int
	for _, r := range rows {
		if r.Identical {
			resent = append(resent, r.Line)
			continue
		}
		problems.add(LineError{Line: r.Line, Column: column, Reason: fmt.Sprintf(reason, r.TxnID, r.FirstLine)})
	}
	if problems.total > 0 || len(resent) == 0 {
		return nil
	}
	return db.Exec("DELETE FROM inflow_staging WHERE batch_id = ? AND line IN ?", batch, resent).Error
}

// Problem is one thing `ggzy deposits verify` found wrong.
type Problem struct {
	What, Detail string
}

// VerifyReport is the outcome of Verify.
type VerifyReport struct {
	Inflows  int64
	Journals int64
	Bank     decimal.Decimal // the bank account's balance by the journal
	Owed     decimal.Decimal // held for bidders, late, third-party and suspense
	Problems []Problem
}

// Verify checks the books: every journal sums to zero; every virtual
// account's ledger balance equals the money of its inflows still owed
// (received = refunded + forfeited + converted + held, the rest owed);
// suspense likewise; and, given the bank statement's balance, that the
// journal's bank balance equals it.
func (s *Service) Verify(ctx context.Context, statementBalance *decimal.Decimal) (*VerifyReport, error) {
	db := s.DB.WithContext(ctx)
	rep := &VerifyReport{}
	db.Raw("SELECT count(*) FROM inflows").Scan(&rep.Inflows)
	db.Raw("SELECT count(DISTINCT journal_id) FROM ledger_entries").Scan(&rep.Journals)
	var unbalanced []struct {
		JournalID string          `gorm:"column:journal_id"`
		Sum       decimal.Decimal `gorm:"column:sum"`
	}
	if err := db.Raw(`SELECT journal_id, sum(amount) AS sum FROM ledger_entries GROUP BY journal_id HAVING sum(amount) <> 0 ORDER BY journal_id LIMIT 100`).
		Scan(&unbalanced).Error; err != nil {
		return nil, err
	}
	for _, u := range unbalanced {
		rep.Problems = append(rep.Problems, Problem{"分录不平衡", fmt.Sprintf("凭证 %s 借贷差额 %s", u.JournalID, u.Sum.StringFixed(2))})
	}
	var accounts []struct {
		Account string          `gorm:"column:account"`
		Ledger  decimal.Decimal `gorm:"column:ledger"`
		Owed    decimal.Decimal `gorm:"column:owed"`
	}
	// Equivalent: per liability account, −(ledger balance) against the sum of
	// its inflows that are still owed.
	if err := db.Raw(`
WITH ledger AS (
	SELECT account, -sum(amount) AS ledger FROM ledger_entries WHERE account LIKE 'va:%' OR account = 'suspense' GROUP BY account
), owed AS (
	SELECT CASE WHEN status = 'suspense' THEN 'suspense' ELSE 'va:' || account_number END AS account, sum(amount) AS owed
	FROM inflows WHERE status IN ('held', 'late', 'third_party', 'suspense') GROUP BY 1
)
SELECT coalesce(l.account, o.account) AS account, coalesce(l.ledger, 0) AS ledger, coalesce(o.owed, 0) AS owed
FROM ledger l FULL JOIN owed o ON o.account = l.account
WHERE coalesce(l.ledger, 0) <> coalesce(o.owed, 0) ORDER BY 1 LIMIT 100`).Scan(&accounts).Error; err != nil {
		return nil, err
	}
	for _, x := range accounts {
		rep.Problems = append(rep.Problems, Problem{"账户不平", fmt.Sprintf("%s：账上 %s，应付 %s", x.Account, x.Ledger.StringFixed(2), x.Owed.StringFixed(2))})
	}
	db.Raw("SELECT coalesce(sum(amount), 0) FROM ledger_entries WHERE account = 'bank'").Scan(&rep.Bank)
	db.Raw("SELECT coalesce(sum(amount), 0) FROM inflows WHERE status IN ('held', 'late', 'third_party', 'suspense')").Scan(&rep.Owed)
	// What came in and did not go out: the money owed, plus what was
	// forfeited or converted into a deal price (L5, still in the account
	// until paid over), less the interest and G7 fees paid out on refunds.
	var forfeited, converted, interest, fees decimal.Decimal
	db.Raw("SELECT coalesce(sum(amount), 0) FROM inflows WHERE status = 'forfeited'").Scan(&forfeited)
	db.Raw("SELECT coalesce(sum(amount), 0) FROM inflows WHERE status = 'converted'").Scan(&converted)
	db.Raw("SELECT coalesce(sum(interest), 0), coalesce(sum(fee), 0) FROM refunds WHERE status = 'paid'").Row().Scan(&interest, &fees)
	if want := rep.Owed.Add(forfeited).Add(converted).Sub(interest).Sub(fees); !rep.Bank.Equal(want) {
		rep.Problems = append(rep.Problems, Problem{"银行余额与应付不符",
			fmt.Sprintf("账上银行存款 %s，应为 %s（应付 %s + 没收 %s + 转为成交价款 %s − 已付利息 %s − 已付资金占用费 %s）",
				rep.Bank.StringFixed(2), want.StringFixed(2), rep.Owed.StringFixed(2), forfeited.StringFixed(2), converted.StringFixed(2),
				interest.StringFixed(2), fees.StringFixed(2))})
	}
	if statementBalance != nil && !statementBalance.Equal(rep.Bank) {
		rep.Problems = append(rep.Problems, Problem{"与银行对账单余额不符", fmt.Sprintf("对账单余额 %s，账上 %s", statementBalance.StringFixed(2), rep.Bank.StringFixed(2))})
	}
	return rep, nil
}

// DepositView is one of a bidder's virtual accounts: what to pay, where, by
// when, and what has arrived.
type DepositView struct {
	Account     VirtualAccount
	ProjectCode string
	Title       string
	LotSeq      int
	LotName     string
	Received    decimal.Decimal // valid money held
	Inflows     []StoredInflow
}

// Shortfall is what is still to pay (zero when paid in full).
func (d *DepositView) Shortfall() decimal.Decimal {
	if short := d.Account.Required.Sub(d.Received); short.IsPositive() {
		return short
	}
	return decimal.Zero
}

// State says in Chinese where the deposit stands at now.
func (d *DepositView) State(now time.Time) string {
	switch {
	case !d.Shortfall().IsPositive():
		return "已足额缴纳"
	case d.Received.IsPositive() && now.Before(d.Account.Deadline):
		return "缴纳不足，可补缴差额"
	case now.Before(d.Account.Deadline):
		return "未缴纳"
	}
	return "截止时未足额缴纳"
}

// MyDeposits lists the bidder's virtual accounts with their inflows.
func (s *Service) MyDeposits(ctx context.Context, a trading.Actor) ([]DepositView, error) {
	db := s.DB.WithContext(ctx)
	var out []DepositView
	var vas []VirtualAccount
	if err := db.Where("bidder_id = ?", a.AccountID).Order("id DESC").Limit(200).Find(&vas).Error; err != nil {
		return nil, err
	}
	for _, va := range vas {
		v := DepositView{Account: va}
		db.Raw(`SELECT p.code, p.title, l.seq, l.name FROM lots l JOIN projects p ON p.id = l.project_id WHERE l.id = ?`, va.LotID).
			Row().Scan(&v.ProjectCode, &v.Title, &v.LotSeq, &v.LotName)
		if err := db.Where("virtual_account_id = ?", va.ID).Order("value_time").Find(&v.Inflows).Error; err != nil {
			return nil, err
		}
		for _, in := range v.Inflows {
			if in.Status == InflowHeld {
				v.Received = v.Received.Add(in.Amount)
			}
		}
		out = append(out, v)
	}
	return out, nil
}

// InflowFilter selects inflows for the supervisors' list.
type InflowFilter struct {
	Status   InflowStatus
	Query    string // bank transaction id, account number or payer
	BeforeID int64
	Limit    int
}

// Inflows lists inflows newest first (supervisors).
func (s *Service) Inflows(ctx context.Context, a trading.Actor, f InflowFilter) ([]StoredInflow, error) {
	if a.Role != trading.RoleSupervisor {
		return nil, trading.Forbidden("只有交易中心监督可以查看到账明细")
	}
	q := s.DB.WithContext(ctx).Model(&StoredInflow{})
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	if f.Query != "" {
		q = q.Where("bank_txn_id = ? OR account_number = ? OR payer_account = ? OR payer_name = ?", f.Query, f.Query, f.Query, f.Query)
	}
	if f.BeforeID > 0 {
		q = q.Where("id < ?", f.BeforeID)
	}
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	var out []StoredInflow
	return out, q.Order("id DESC").Limit(f.Limit).Find(&out).Error
}

// Alert is a deposit alert for supervisors.
type Alert struct {
	ID           int64      `gorm:"column:id;primaryKey" json:"id"`
	Kind         string     `gorm:"column:kind" json:"kind"`
	LotID        int64      `gorm:"column:lot_id" json:"lot_id"`
	PayerAccount string     `gorm:"column:payer_account" json:"payer_account"`
	Detail       string     `gorm:"column:detail" json:"detail"`
	CreatedAt    time.Time  `gorm:"column:created_at" json:"created_at"`
	ResolvedAt   *time.Time `gorm:"column:resolved_at" json:"resolved_at,omitempty"`
}

func (Alert) TableName() string { return "deposit_alerts" }

// Alerts lists the open alerts (supervisors).
func (s *Service) Alerts(ctx context.Context, a trading.Actor) ([]Alert, error) {
	if a.Role != trading.RoleSupervisor {
		return nil, trading.Forbidden("只有交易中心监督可以查看预警")
	}
	var out []Alert
	return out, s.DB.WithContext(ctx).Where("resolved_at IS NULL").Order("id DESC").Limit(200).Find(&out).Error
}
