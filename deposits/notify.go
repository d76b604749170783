package deposits

// Who deposits tells what (issue 14 item 6), in the transaction of the
// event: each bidder what became of their payment and their refund; the
// supervisors K1 alerts and overdue refunds. Bulk events (a statement of
// thousands of lines) notify in one INSERT … SELECT. Texts name the
// person's own lot and money only.

import (
	"context"
	"time"

	"gorm.io/gorm"

	"github.com/ggzy/ggzy/trading"
)

// notifyInflows tells each bidder what became of their payments booked by
// batch (ids in (from, to]): received in full, short, invalid (D2) or late (D1).
func notifyInflows(tx *gorm.DB, now time.Time, batch, from, to int64) error {
	return tx.Exec(`INSERT INTO notifications (account_id, title, body, link, created_at, key)
		SELECT va.bidder_id,
			CASE WHEN i.status = 'late' THEN '保证金逾期到账'
				WHEN i.status = 'third_party' THEN '保证金缴纳无效'
				WHEN paid.total < va.required THEN '保证金缴纳不足'
				ELSE '保证金已到账' END,
			'项目 ' || p.code || ' ' || `+sqlLotNoun+` || l.seq || '：' || `+sqlWhen2("i.value_time")+` || ' 到账 ' || `+sqlMoney2("i.amount")+` || '，' ||
			CASE WHEN i.status = 'late' THEN '晚于缴纳截止时间，缴纳无效，将原路退回（D1）。'
				WHEN i.status = 'third_party' THEN '非本单位基本账户缴纳，缴纳无效，将退回付款人（D2）。'
				WHEN paid.total < va.required THEN '有效缴纳合计 ' || `+sqlMoney2("paid.total")+` || '，尚差 ' || `+sqlMoney2("va.required - paid.total")+` || '，请于 ' || `+sqlWhen2("va.deadline")+` || ' 前补足（D1）。'
				ELSE '保证金已足额缴纳。' END,
			'/my/deposits', ?, 'inflow:' || i.id
		FROM inflows i JOIN virtual_accounts va ON va.id = i.virtual_account_id
			JOIN lots l ON l.id = va.lot_id JOIN projects p ON p.id = l.project_id
			CROSS JOIN LATERAL (SELECT coalesce(sum(dp.amount) FILTER (WHERE dp.counts), 0) AS total
				FROM deposit_positions dp WHERE dp.virtual_account_id = va.id) paid
		WHERE i.id > ? AND i.id <= ? AND i.batch_id = ? AND i.virtual_account_id IS NOT NULL
		ON CONFLICT (account_id, key) WHERE key IS NOT NULL DO NOTHING`, now, from, to, batch).Error
}

// sqlLotNoun is rules.Category.LotNoun in SQL, of the project p: what the
// category calls a lot (标段, 包, 地块, 标的; TestSQLLotNounIsLotNoun).
var sqlLotNoun = trading.SQLLotNoun("p.category")

// sqlMoney2 and sqlWhen2 render an amount and a time in SQL as pages do:
// 千分位 and two decimals; Shanghai time.
func sqlMoney2(x string) string { return "to_char(" + x + ", 'FM999,999,999,999,990.00') || ' 元'" }
func sqlWhen2(x string) string {
	return "to_char(" + x + " AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI')"
}

// notifyK1 tells every supervisor of each K1 alert not told yet.
func notifyK1(tx *gorm.DB, now time.Time) error {
	return tx.Exec(`INSERT INTO notifications (account_id, title, body, link, created_at, key)
		SELECT a.id, 'K1 预警：同一账户为多家投标人缴纳保证金',
			'项目 ' || p.code || ' ' || `+sqlLotNoun+` || l.seq || '：' || da.detail, '/supervise', ?, 'k1:' || da.id
		FROM deposit_alerts da JOIN lots l ON l.id = da.lot_id JOIN projects p ON p.id = l.project_id
			JOIN accounts a ON a.role = 'supervisor' AND NOT a.disabled
		WHERE da.kind = 'K1' AND NOT EXISTS (SELECT 1 FROM notifications n WHERE n.account_id = a.id AND n.key = 'k1:' || da.id)
		ON CONFLICT (account_id, key) WHERE key IS NOT NULL DO NOTHING`, now).Error
}

// refundNotice is the notification of the refunds in q (a query or CTE
// yielding refunds' id, inflow_id, principal, due_on), titled title.
func refundNotice(q, title, text string) string {
	return `INSERT INTO notifications (account_id, title, body, link, created_at, key)
		SELECT va.bidder_id, '` + title + `',
			'项目 ' || p.code || ' ' || ` + sqlLotNoun + ` || l.seq || '的保证金 ' || ` + sqlMoney2("q.principal") + ` || ` + text + `,
			'/my/deposits', ?, 'refund:' || q.id || ':` + title + `'
		FROM ` + q + ` q JOIN inflows i ON i.id = q.inflow_id JOIN virtual_accounts va ON va.id = i.virtual_account_id
			JOIN lots l ON l.id = va.lot_id JOIN projects p ON p.id = l.project_id
		ON CONFLICT (account_id, key) WHERE key IS NOT NULL DO NOTHING`
}

// notifyRefundPaid tells the bidder their refund was paid.
func notifyRefundPaid(tx *gorm.DB, now time.Time, refundID int64) error {
	return tx.Exec(refundNotice("(SELECT id, inflow_id, principal, due_on FROM refunds WHERE id = ?)", "保证金已退还",
		`'已退还至原付款账户（利息另计，以银行入账为准）。'`), now, refundID).Error
}

// notifyFeeWaiver tells the supplier what a supervisor recorded (or took
// back) of its own delay of a late refund (G7), with what is recorded:
// every such step is told (no key: never deduplicated).
func notifyFeeWaiver(tx *gorm.DB, now time.Time, refundID int64, what string) error {
	return tx.Exec(`INSERT INTO notifications (account_id, title, body, link, created_at)
		SELECT va.bidder_id, '保证金退还：资金占用费（G7）',
			'项目 ' || p.code || ' ' || `+sqlLotNoun+` || l.seq || '的保证金 ' || `+sqlMoney2("r.principal")+` || '：' || ? ||
			'。如有异议，请向交易中心提出。',
			'/my/deposits', ?
		FROM refunds r JOIN inflows i ON i.id = r.inflow_id JOIN virtual_accounts va ON va.id = i.virtual_account_id
			JOIN lots l ON l.id = va.lot_id JOIN projects p ON p.id = l.project_id
		WHERE r.id = ?`, what, now, refundID).Error
}

// NotifyOverdueRefunds tells the supervisors, once per refund, of refunds
// past their due date and not paid (D5, D6: within 5 days). Run by the
// reminder sweep; it returns the refunds told about.
func (s *Service) NotifyOverdueRefunds(ctx context.Context) (int, error) {
	now := s.now()
	today := now.In(trading.Shanghai).Format("2006-01-02")
	var n int
	err := trading.Transact(ctx, s.DB, func(tx *gorm.DB) error {
		res := tx.Exec(`INSERT INTO notifications (account_id, title, body, link, created_at, key)
			SELECT a.id, '保证金退还逾期', '退款（' || r.rule || '）应于 ' || to_char(r.due_on, 'YYYY-MM-DD') || ' 前退还，尚未退还：' ||
				coalesce('项目 ' || p.code || ' ' || `+sqlLotNoun+` || l.seq || '，', '') || '收款人 ' || r.payee_name || '，' || `+sqlMoney2("r.principal")+`,
				'/supervisor/refunds', ?, 'refund-overdue:' || r.id
			FROM refunds r JOIN inflows i ON i.id = r.inflow_id
				LEFT JOIN virtual_accounts va ON va.id = i.virtual_account_id LEFT JOIN lots l ON l.id = va.lot_id
				LEFT JOIN projects p ON p.id = l.project_id
				JOIN accounts a ON a.role = 'supervisor' AND NOT a.disabled
			WHERE r.status IN ('pending', 'sent', 'failed') AND r.due_on < ?::date
			ON CONFLICT (account_id, key) WHERE key IS NOT NULL DO NOTHING`, now, today)
		n = int(res.RowsAffected)
		return res.Error
	})
	return n, err
}
