package deposits

import (
	"bufio"
	"bytes"
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"

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

// chunkLines is how many lines of a statement are staged, and then
// matched, at a time. While one chunk is matched the next is parsed and
// staged, so the parser, COPY and the matching INSERT work side by side.
var chunkLines = 50_000

// lineSource is a statement reader: CSV or camt.053.
type lineSource interface {
	next() (Inflow, []LineError, error)
}

// errRefused stops the matching transaction when the file has problems.
var errRefused = errors.New("statement refused")

// ImportStatement books a bank statement (the documented CSV layout, UTF-8
// or GBK, or camt.053). The file is read once: each line is checked as it
// is streamed by COPY into staging, chunk by chunk, and each staged chunk
// is matched at once, all of them in one transaction. A single bad line
// refuses all of it with a line-numbered report: the transaction rolls
// back, the staged lines are dropped, nothing is booked. Importing the
// same file again changes nothing.
func (s *Service) ImportStatement(ctx context.Context, a trading.Actor, open func() (io.ReadCloser, error)) (Result, error) {
	if a.Role != trading.RoleSupervisor && a.Role != trading.SystemActor.Role {
		return Result{}, trading.Forbidden("只有交易中心监督可以导入银行对账单")
	}
	f, err := open()
	if err != nil {
		return Result{}, err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 1<<16)
	refuse := func(problems []LineError) error {
		return trading.Unprocessable("file", (&StatementProblems{problems}).Error()).WithCode("statement_invalid").Wrapping(&StatementProblems{problems})
	}
	var src lineSource
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
	var batch int64
	if err := s.DB.WithContext(ctx).Raw("SELECT nextval('inflow_batch_seq')").Scan(&batch).Error; err != nil {
		return Result{}, err
	}
	// The import's lock marks its staged lines as in use until it ends;
	// then clear what imports that died (kill -9, a lost server) left.
	release, err := s.lockImport(ctx, batch)
	if err != nil {
		return Result{}, err
	}
	defer func() {
		s.DB.Exec("DELETE FROM inflow_import_chunks WHERE import_id = ?", batch)
		release()
	}()
	if _, err := s.ClearAbandonedStaging(ctx); err != nil {
		return Result{}, err
	}
	now := s.now()
	t0 := time.Now()

	// The stager reads, checks and stages the file in chunks; problems is
	// its own until chunks is closed, refused may be peeked at any time.
	var problems problemList
	var refused atomic.Bool
	next := func() (Inflow, error) {
		for {
			in, lineProblems, err := src.next()
			if err == io.EOF {
				return Inflow{}, io.EOF
			}
			if err != nil { // the rest of the file cannot be read
				problems.add(*asLineError(err))
				refused.Store(true)
				return Inflow{}, io.EOF
			}
			if len(lineProblems) > 0 { // keep reading: the report lists them all
				problems.add(lineProblems...)
				refused.Store(true)
				continue
			}
			if problems.total > 0 {
				continue // refused anyway: stage nothing more
			}
			return in, nil
		}
	}
	stageCtx, stopStaging := context.WithCancel(ctx)
	defer stopStaging()
	chunks := make(chan stagedChunk, 8)
	var stageErr error
	go func() {
		defer close(chunks)
		stageErr = s.stageChunks(stageCtx, batch, next, chunks)
	}()
	var staged []stagedChunk
	defer func() { // whatever happened, staging is scratch
		if len(staged) > 0 {
			_ = dropStaged(s.DB, chunkIDs(staged))
		}
	}()

	// Scratch rows go while the import runs, on connections of their own:
	// a chunk's classified lines once it is booked, the staged lines once
	// every chunk is (until then a repeated line may send the import down
	// the slow path below, which reads them).
	matched := make(chan int64, 16)
	var allMatched atomic.Bool
	cleaned := make(chan struct{})
	go func() {
		defer close(cleaned)
		var ids []int64
		for id := range matched {
			s.DB.Exec("DELETE FROM inflow_classified WHERE chunk_id = ?", id)
			ids = append(ids, id)
		}
		if allMatched.Load() && len(ids) > 0 {
			s.DB.Exec("DELETE FROM inflow_staging WHERE batch_id IN ?", ids)
		}
	}()
	closeMatched := sync.OnceFunc(func() { close(matched) })

	// Each chunk is matched as soon as it is staged, in one transaction.
	var r Result
	err = s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		m, err := s.matchStatement(tx, batch, a, now)
		if err != nil {
			return err
		}
		for c := range chunks {
			staged = append(staged, c)
			if refused.Load() {
				continue // the file is refused: wait for the full report
			}
			if err := m.chunk(c); err != nil {
				return err
			}
			matched <- c.id
		}
		if stageErr != nil {
			return stageErr
		}
		if problems.total > 0 {
			return errRefused
		}
		if m.r.Repeated > 0 {
			// Lines already booked were passed over; one of them may be
			// repeated within the file, with different content.
			dropped, err := s.stagedDuplicates(tx, chunkIDs(staged), txnColumn, dupReason, &problems)
			if err != nil {
				return err
			}
			if problems.total > 0 {
				return errRefused
			}
			m.r.Lines -= dropped
			m.r.Repeated -= dropped
			// Or repeat a transaction booked before, with other content.
			if err := s.bookedDifferently(tx, chunkIDs(staged), batch, txnColumn, &problems); err != nil {
				return err
			}
			if problems.total > 0 {
				return errRefused
			}
		}
		// Every chunk is booked: what remains cannot need the staged lines.
		allMatched.Store(true)
		closeMatched()
		m.scratchGone = true
		r, err = m.finish()
		return err
	})
	closeMatched()
	<-cleaned
	for c := range chunks { // the transaction stopped early: let staging finish
		staged = append(staged, c)
	}
	if err != nil && !errors.Is(err, errRefused) && stageErr == nil && problems.total == 0 && !allMatched.Load() &&
		(trading.IsUniqueViolation(err, "inflows_bank_txn_id_key") || trading.IsRetryable(err)) {
		// A transaction repeated within the file, or booked by a concurrent
		// batch, or a deadlock: find repeated lines (an identical re-send
		// is dropped, a different one refuses the file), then match the
		// staged chunks again, one after another.
		var dropped int
		dropped, err = s.stagedDuplicates(s.DB.WithContext(ctx), chunkIDs(staged), txnColumn, dupReason, &problems)
		if err == nil && problems.total == 0 {
			err = transactRetryingDuplicates(ctx, s.DB, func(tx *gorm.DB) error {
				m, err := s.matchStatement(tx, batch, a, now)
				if err != nil {
					return err
				}
				for _, c := range staged {
					c.classified = false // classified before the repeats were dropped
					if err := m.chunk(c); err != nil {
						return err
					}
				}
				m.r.Lines -= dropped
				m.r.Repeated -= dropped
				if m.r.Repeated > 0 {
					if err := s.bookedDifferently(tx, chunkIDs(staged), batch, txnColumn, &problems); err != nil {
						return err
					}
					if problems.total > 0 {
						return errRefused
					}
				}
				r, err = m.finish()
				return err
			})
		}
	}
	if problems.total > 0 {
		return Result{}, refuse(problems.result())
	}
	if err != nil {
		return Result{}, err
	}
	staged = nil // deleted in the transaction
	s.Log.Debug("statement imported", "batch", batch, "lines", r.Lines, "took", time.Since(t0))
	return r, nil
}

// importLockClass is the first key of the session advisory lock an
// import holds on its id (the second): "ggzi".
const importLockClass = 0x67677a69

// importLockKey folds an import id into the lock's 32-bit second key. Two
// ids that fold alike only make a clearing wait for the later import.
func importLockKey(id int64) int32 { return int32(id % math.MaxInt32) }

// lockImport takes the import's advisory lock on a connection held until
// release: while it is held, ClearAbandonedStaging leaves the import's
// staged lines alone; when the process dies, PostgreSQL drops the lock with
// the connection.
func (s *Service) lockImport(ctx context.Context, id int64) (release func(), err error) {
	raw, err := s.DB.DB()
	if err != nil {
		return nil, err
	}
	conn, err := raw.Conn(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1::int, $2::int)", importLockClass, importLockKey(id)); err != nil {
		conn.Close()
		return nil, err
	}
	return func() {
		if _, err := conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1::int, $2::int)", importLockClass, importLockKey(id)); err != nil {
			// Never hand a connection that may still hold the lock back to
			// the pool: drop it, and the lock with it.
			conn.Raw(func(any) error { return driver.ErrBadConn })
		}
		conn.Close()
	}, nil
}

// ClearAbandonedStaging deletes the staged and classified lines of
// statement imports that died without cleaning up (a crash, kill -9): those
// whose import no longer holds its advisory lock, and lines no import
// claims. An import running on this or another instance holds its lock,
// so its lines stay. serve runs it at start-up, and every import before it
// stages. It returns the lines deleted.
func (s *Service) ClearAbandonedStaging(ctx context.Context) (int64, error) {
	raw, err := s.DB.DB()
	if err != nil {
		return 0, err
	}
	conn, err := raw.Conn(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	var imports []int64
	rows, err := conn.QueryContext(ctx, "SELECT DISTINCT import_id FROM inflow_import_chunks")
	if err != nil {
		return 0, err
	}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, err
		}
		imports = append(imports, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	var cleared int64
	exec := func(q string, args ...any) error {
		res, err := conn.ExecContext(ctx, q, args...)
		if err == nil && !strings.HasPrefix(q, "DELETE FROM inflow_import_chunks") {
			n, _ := res.RowsAffected()
			cleared += n
		}
		return err
	}
	for _, id := range imports {
		var free bool
		if err := conn.QueryRowContext(ctx, "SELECT pg_try_advisory_lock($1::int, $2::int)", importLockClass, importLockKey(id)).Scan(&free); err != nil {
			return cleared, err
		}
		if !free {
			continue // running
		}
		err := exec("DELETE FROM inflow_staging WHERE batch_id IN (SELECT chunk_id FROM inflow_import_chunks WHERE import_id = $1)", id)
		if err == nil {
			err = exec("DELETE FROM inflow_classified WHERE chunk_id IN (SELECT chunk_id FROM inflow_import_chunks WHERE import_id = $1)", id)
		}
		if err == nil {
			err = exec("DELETE FROM inflow_import_chunks WHERE import_id = $1", id)
		}
		if _, uerr := conn.ExecContext(ctx, "SELECT pg_advisory_unlock($1::int, $2::int)", importLockClass, importLockKey(id)); err == nil {
			err = uerr
		}
		if err != nil {
			conn.Raw(func(any) error { return driver.ErrBadConn }) // it may still hold the lock
			return cleared, err
		}
	}
	// Lines no import claims: an import records its chunk (committed)
	// before it copies a line into it, so only a dead one, or a version
	// before this record, leaves them. (A webhook's lines are never
	// committed: they live and go in its own transaction.)
	if err := exec(`DELETE FROM inflow_staging st WHERE NOT EXISTS (SELECT 1 FROM inflow_import_chunks c WHERE c.chunk_id = st.batch_id)`); err != nil {
		return cleared, err
	}
	if err := exec(`DELETE FROM inflow_classified cl WHERE NOT EXISTS (SELECT 1 FROM inflow_import_chunks c WHERE c.chunk_id = cl.chunk_id)`); err != nil {
		return cleared, err
	}
	if cleared > 0 {
		s.Log.Info("cleared the staged lines of statement imports that died", "lines", cleared)
	}
	return cleared, nil
}

// matchStatement is match for a statement: the planner is told to probe
// the indexes line by line. Chunks are matched while the transaction's own
// inflows grow, which statistics cannot know about; a hash join would read
// all of them again for every chunk.
func (s *Service) matchStatement(tx *gorm.DB, batch int64, a trading.Actor, now time.Time) (*matching, error) {
	if err := tx.Exec("SET LOCAL enable_hashjoin = off").Error; err != nil {
		return nil, err
	}
	if err := tx.Exec("SET LOCAL enable_mergejoin = off").Error; err != nil {
		return nil, err
	}
	if err := tx.Exec("SET LOCAL jit = off").Error; err != nil {
		return nil, err
	}
	// RETURNING keeps a chunk's new inflows for the journal: in memory.
	if err := tx.Exec("SET LOCAL work_mem = '64MB'").Error; err != nil {
		return nil, err
	}
	if err := tx.Exec("CREATE TEMPORARY TABLE k1_payers (payer_account text NOT NULL) ON COMMIT DROP").Error; err != nil {
		return nil, err
	}
	m, err := s.match(tx, batch, SourceStatement, a, now)
	if err != nil {
		return nil, err
	}
	m.k1Payers = true
	return m, nil
}

func chunkIDs(cs []stagedChunk) []int64 {
	ids := make([]int64, len(cs))
	for i, c := range cs {
		ids[i] = c.id
	}
	return ids
}

// bookedDifferently adds a problem for each staged line of chunks that
// repeats a transaction booked by an earlier batch with other content
// (bookedRepeats): the file is refused, as for a repeat within it.
func (s *Service) bookedDifferently(tx *gorm.DB, chunks []int64, batch int64, column string, problems *problemList) error {
	repeats, err := bookedRepeats(tx, chunks, batch, MaxProblems+1)
	for _, r := range repeats {
		problems.add(LineError{Line: r.Line, Column: column,
			Reason: fmt.Sprintf("交易流水号 %s 与已入账的第 %d 笔到账重复但内容不同（%s）", r.TxnID, r.InflowID, r.Diffs)})
	}
	return err
}

// stagedDuplicates finds transaction ids staged more than once in the
// chunks. A line identical to the first with its id is a re-sent line: it
// is dropped from staging and counted in dropped. One that differs is a
// problem of the file, named by its line and the first's.
func (s *Service) stagedDuplicates(db *gorm.DB, chunks []int64, column, reason string, problems *problemList) (dropped int, err error) {
	var n int64
	if err := db.Raw(`SELECT count(*) FROM (SELECT 1 FROM inflow_staging WHERE batch_id IN ? GROUP BY bank_txn_id HAVING count(*) > 1) d`, chunks).
		Scan(&n).Error; err != nil || n == 0 {
		return 0, err
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
			SELECT bank_txn_id FROM inflow_staging WHERE batch_id IN ? GROUP BY bank_txn_id HAVING count(*) > 1
		), r AS (
			SELECT st.line, st.bank_txn_id,
				row(st.value_time, st.account_number, st.payer_name, st.payer_account, st.payer_bank, st.amount, st.memo)::text AS c,
				first_value(st.line) OVER w AS first_line,
				first_value(row(st.value_time, st.account_number, st.payer_name, st.payer_account, st.payer_bank, st.amount, st.memo)::text) OVER w AS first_c
			FROM inflow_staging st JOIN d ON d.bank_txn_id = st.bank_txn_id
			WHERE st.batch_id IN ?
			WINDOW w AS (PARTITION BY st.bank_txn_id ORDER BY st.line)
		)
		SELECT line, bank_txn_id, first_line, c = first_c AS identical FROM r WHERE line <> first_line ORDER BY line`, chunks, chunks).
		Scan(&rows).Error; err != nil {
		return 0, err
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
		return 0, nil
	}
	return len(resent), db.Exec("DELETE FROM inflow_staging WHERE batch_id IN ? AND line IN ?", chunks, resent).Error
}
