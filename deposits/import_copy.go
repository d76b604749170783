package deposits

import (
	"context"
	"database/sql"
	"io"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/stdlib"
	"github.com/shopspring/decimal"
)

// stageChunks streams inflows into the staging table by COPY, chunkLines
// at a time, each chunk under a staging id of its own, recorded as the
// import's (importID) before its lines, and committed at once, on a
// connection of its own; each staged chunk is sent to out. The rows are
// sent as COPY's text format, written straight from the parsed lines.
func (s *Service) stageChunks(ctx context.Context, importID int64, next func() (Inflow, error), out chan<- stagedChunk) error {
	raw, err := s.DB.DB()
	if err != nil {
		return err
	}
	conn, err := raw.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	src := &copyText{next: next}
	for !src.eof {
		var id int64
		if err := conn.QueryRowContext(ctx, `INSERT INTO inflow_import_chunks (chunk_id, import_id)
			SELECT nextval('inflow_batch_seq'), $1 RETURNING chunk_id`, importID).Scan(&id); err != nil {
			return err
		}
		src.chunk, src.left = id, chunkLines
		var n int64
		err := conn.Raw(func(dc any) error {
			tag, err := dc.(*stdlib.Conn).Conn().PgConn().CopyFrom(ctx, src,
				"COPY inflow_staging (batch_id, line, bank_txn_id, value_time, account_number, payer_name, payer_account, payer_bank, amount, memo) FROM STDIN")
			n = tag.RowsAffected()
			return err
		})
		if err != nil {
			return err
		}
		if n == 0 {
			continue
		}
		if err := classifyChunk(ctx, conn, id); err != nil {
			return err
		}
		s.Log.Debug("chunk staged", "chunk", id, "lines", n)
		select {
		case out <- stagedChunk{id: id, lines: int(n), classified: true}:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// classifyChunk classifies a staged chunk into inflow_classified, on the
// staging connection, leaving out the lines booked before (committed):
// the matching transaction then only inserts them.
func classifyChunk(ctx context.Context, conn *sql.Conn, chunk int64) error {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	// Index probes line by line, as in matchStatement.
	for _, q := range []string{"SET LOCAL enable_hashjoin = off", "SET LOCAL enable_mergejoin = off", "SET LOCAL jit = off"} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO inflow_classified `+classifiedLines+`
		WHERE st.batch_id = $1 AND NOT EXISTS (SELECT 1 FROM inflows x WHERE x.bank_txn_id = st.bank_txn_id)`, chunk); err != nil {
		return err
	}
	return tx.Commit()
}

// copyText is an io.Reader of COPY text-format rows (tab-separated,
// backslash escapes), at most left rows from next.
type copyText struct {
	next  func() (Inflow, error)
	chunk int64
	left  int
	eof   bool // next is exhausted
	buf   []byte
	off   int
}

func (c *copyText) Read(p []byte) (int, error) {
	if c.off == len(c.buf) {
		c.buf, c.off = c.buf[:0], 0
	}
	for len(c.buf)-c.off < len(p) && c.left > 0 && !c.eof {
		in, err := c.next()
		if err == io.EOF {
			c.eof = true
			break
		}
		if err != nil {
			return 0, err
		}
		c.buf = appendCopyRow(c.buf, c.chunk, &in)
		c.left--
	}
	if c.off == len(c.buf) {
		return 0, io.EOF
	}
	n := copy(p, c.buf[c.off:])
	c.off += n
	return n, nil
}

// appendCopyRow writes one staging row in COPY's text format.
func appendCopyRow(b []byte, chunk int64, in *Inflow) []byte {
	b = strconv.AppendInt(b, chunk, 10)
	b = append(b, '\t')
	b = strconv.AppendInt(b, int64(in.Line), 10)
	b = append(b, '\t')
	b = appendCopyText(b, in.BankTxnID)
	b = append(b, '\t')
	b = appendCopyTime(b, in.ValueTime)
	for _, f := range [...]string{in.VirtualAccount, in.PayerName, in.PayerAccount, in.PayerBank} {
		b = append(b, '\t')
		b = appendCopyText(b, f)
	}
	b = append(b, '\t')
	b = appendYuan(b, in.Amount)
	b = append(b, '\t')
	b = appendCopyText(b, in.Memo)
	return append(b, '\n')
}

// appendCopyText escapes a field for COPY's text format. The parsers let
// no control character through but a line break in a memo; backslash,
// tab and the line breaks are escaped all the same.
func appendCopyText(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		switch ch := s[i]; ch {
		case '\\':
			b = append(b, '\\', '\\')
		case '\t':
			b = append(b, '\\', 't')
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		default:
			b = append(b, ch)
		}
	}
	return b
}

// appendCopyTime writes t as timestamptz input, 2006-01-02 15:04:05.000000+08:00
// (the fraction only when there is one), without time.Format's layout parsing.
func appendCopyTime(b []byte, t time.Time) []byte {
	y, mo, d := t.Date()
	h, mi, sec := t.Clock()
	b = appendDigits(b, y, 4)
	b = append(b, '-')
	b = appendDigits(b, int(mo), 2)
	b = append(b, '-')
	b = appendDigits(b, d, 2)
	b = append(b, ' ')
	b = appendDigits(b, h, 2)
	b = append(b, ':')
	b = appendDigits(b, mi, 2)
	b = append(b, ':')
	b = appendDigits(b, sec, 2)
	if us := t.Nanosecond() / 1000; us != 0 {
		b = append(b, '.')
		b = appendDigits(b, us, 6)
	}
	_, off := t.Zone()
	if off < 0 {
		b, off = append(b, '-'), -off
	} else {
		b = append(b, '+')
	}
	b = appendDigits(b, off/3600, 2)
	b = append(b, ':')
	b = appendDigits(b, off%3600/60, 2)
	if s := off % 60; s != 0 {
		b = append(b, ':')
		b = appendDigits(b, s, 2)
	}
	return b
}

// appendDigits writes n (≥ 0) zero-padded to width digits.
func appendDigits(b []byte, n, width int) []byte {
	var buf [20]byte
	i := len(buf)
	for n > 0 || i > len(buf)-width {
		i--
		buf[i] = byte('0' + n%10)
		n /= 10
	}
	return append(b, buf[i:]...)
}

// appendYuan writes an amount of at most two decimals as 1234.50, from
// its int64 coefficient (StringFixed goes through big.Int). The amounts
// staged come from ParseAmount: at most 16 integer digits and 2 decimals,
// so the coefficient has at most 18 digits and fits; anything else takes
// the slow way.
func appendYuan(b []byte, d decimal.Decimal) []byte {
	coef, exp := d.CoefficientInt64(), d.Exponent()
	if exp < -2 || exp > 0 || coef < 0 || coef >= 1e16 && exp == 0 || coef >= 1e17 && exp == -1 || coef >= 1e18 {
		return append(b, d.StringFixed(2)...)
	}
	for ; exp > -2; exp-- {
		coef *= 10
	}
	b = strconv.AppendInt(b, coef/100, 10)
	b = append(b, '.')
	return appendDigits(b, int(coef%100), 2)
}
