package deposits

import (
	"context"
	"database/sql/driver"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/ggzy/ggzy/trading"
)

// The COPY text written for staging: amounts with two decimals, times
// with their offset, fields escaped.
func TestCopyRowEncoding(t *testing.T) {
	for in, want := range map[string]string{
		"0.01": "0.01", "1": "1.00", "1000.5": "1000.50", "200000.50": "200000.50",
		"9999999999999999.99": "9999999999999999.99", "9999999999999999": "9999999999999999.00",
	} {
		d, err := trading.ParseAmount(in)
		if err != nil {
			t.Fatal(in, err)
		}
		if got := string(appendYuan(nil, d)); got != want || got != d.StringFixed(2) {
			t.Errorf("appendYuan(%s) = %s, want %s", in, got, want)
		}
	}
	for _, tm := range []time.Time{
		time.Date(2026, 3, 2, 9, 5, 7, 0, trading.Shanghai),
		time.Date(2026, 3, 2, 9, 5, 7, 120000000, time.UTC),
		time.Date(1999, 12, 31, 23, 59, 59, 999999000, time.FixedZone("x", -(3*3600+30*60))),
	} {
		got := string(appendCopyTime(nil, tm))
		back, err := time.Parse("2006-01-02 15:04:05.999999-07:00", got)
		if err != nil || !back.Equal(tm) {
			t.Errorf("appendCopyTime(%v) = %s (%v, %v)", tm, got, back, err)
		}
	}
	in := Inflow{Line: 7, BankTxnID: `T\1`, ValueTime: time.Date(2026, 3, 2, 9, 0, 0, 0, trading.Shanghai),
		VirtualAccount: "123", PayerName: "甲\t公司", PayerAccount: "6222", PayerBank: "", Amount: decimal.RequireFromString("5.5"),
		Memo: "两行\n摘要\r"}
	want := "42\t7\tT\\\\1\t2026-03-02 09:00:00+08:00\t123\t甲\\t公司\t6222\t\t5.50\t两行\\n摘要\\r\n"
	if got := string(appendCopyRow(nil, 42, &in)); got != want {
		t.Errorf("row:\n got %q\nwant %q", got, want)
	}
}

// Issue 13, item 9: an import that dies (kill -9) leaves its staged and
// classified lines behind; the next import and start-up clear them, but
// never the lines of an import still running (on another instance: it
// holds its lock).
func TestAbandonedStagingClearedRunningImportKept(t *testing.T) {
	defer func(n int) { chunkLines = n }(chunkLines)
	chunkLines = 3
	e := newDepEnv(t)
	ctx := context.Background()
	_, va := e.bidder("福建暂存建设有限公司")
	raw, _ := e.Dep.DB.DB()
	lines := func(prefix string, n int) func() (Inflow, error) {
		i := 0
		return func() (Inflow, error) {
			if i == n {
				return Inflow{}, io.EOF
			}
			i++
			in := inflow(fmt.Sprintf("%s-%d", prefix, i), va, "福建暂存建设有限公司", "10.00", e.Clock.Now())
			in.Line = i + 1
			return in, nil
		}
	}
	// stage runs the staging half of an import under id, as a running
	// import does, and returns its chunks.
	stage := func(id int64, next func() (Inflow, error)) []int64 {
		out := make(chan stagedChunk, 100)
		if err := e.Dep.stageChunks(ctx, id, next, out); err != nil {
			t.Fatal(err)
		}
		close(out)
		var ids []int64
		for c := range out {
			ids = append(ids, c.id)
		}
		return ids
	}
	scratch := func(chunks []int64) (staged, classified int64) {
		e.Dep.DB.Table("inflow_staging").Where("batch_id IN ?", chunks).Count(&staged)
		e.Dep.DB.Table("inflow_classified").Where("chunk_id IN ?", chunks).Count(&classified)
		return
	}
	nextID := func() (id int64) {
		e.Dep.DB.Raw("SELECT nextval('inflow_batch_seq')").Scan(&id)
		return
	}

	// An import that dies: its lock goes with its connection, its lines stay.
	dead := nextID()
	conn, err := raw.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1::int, $2::int)", importLockClass, importLockKey(dead)); err != nil {
		t.Fatal(err)
	}
	deadChunks := stage(dead, lines("DEAD", 10))
	if s, c := scratch(deadChunks); len(deadChunks) != 4 || s != 10 || c != 10 {
		t.Fatalf("the dead import staged %d chunks, %d lines, %d classified", len(deadChunks), s, c)
	}
	conn.Raw(func(any) error { return driver.ErrBadConn }) // the process is gone: so is its session
	conn.Close()
	for i := 0; ; i++ { // the server ends the session a moment after
		var held bool
		e.Dep.DB.Raw("SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND classid = ? AND objid = ?)",
			importLockClass, importLockKey(dead)).Scan(&held)
		if !held {
			break
		}
		if i == 1000 {
			t.Fatal("the dead import's lock stays")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// An import running (on another instance): locked, lines staged.
	live := nextID()
	release, err := e.Dep.lockImport(ctx, live)
	if err != nil {
		t.Fatal(err)
	}
	liveChunks := stage(live, lines("LIVE", 5))
	// Lines of a version that did not record its chunks.
	if err := e.Dep.DB.Exec(`INSERT INTO inflow_staging (batch_id, line, bank_txn_id, value_time, account_number, payer_name,
		payer_account, payer_bank, amount, memo) VALUES (?, 2, 'OLD-1', now(), ?, '某', '1', '', 1, '')`, nextID(), va).Error; err != nil {
		t.Fatal(err)
	}

	// The next import clears the dead one's lines, not the running one's.
	r, err := e.Dep.ImportStatement(ctx, sup, csvFile("T1,2026-03-04,10:00:00,"+va+",福建暂存建设有限公司,6222010,某银行,200000.00,CNY,"))
	if err != nil || r.New != 1 || r.Held != 1 {
		t.Fatalf("import: %+v %v", r, err)
	}
	if s, c := scratch(deadChunks); s != 0 || c != 0 {
		t.Fatalf("the dead import left %d staged, %d classified", s, c)
	}
	if s, c := scratch(liveChunks); s != 5 || c != 5 {
		t.Fatalf("the running import lost lines: %d staged, %d classified", s, c)
	}
	var old int64
	e.Dep.DB.Table("inflow_staging").Where("bank_txn_id = 'OLD-1'").Count(&old)
	if old != 0 {
		t.Fatal("unclaimed lines stay")
	}
	// Once it has ended (here: died too), start-up clears the rest.
	release()
	n, err := e.Dep.ClearAbandonedStaging(ctx)
	if err != nil || n != 10 {
		t.Fatalf("cleared %d lines: %v", n, err)
	}
	var left int64
	e.Dep.DB.Raw("SELECT (SELECT count(*) FROM inflow_staging) + (SELECT count(*) FROM inflow_classified) + (SELECT count(*) FROM inflow_import_chunks)").Scan(&left)
	if left != 0 {
		t.Fatalf("%d scratch rows left", left)
	}
	e.verifyClean()
	if n, problem, err := trading.VerifyAudit(ctx, e.Dep.DB); err != nil || problem != nil {
		t.Fatalf("audit chain after %d rows: %v %v", n, problem, err)
	}
}
