package deposits

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"
)

const header = "交易流水号,交易日期,交易时间,虚拟子账号,付款人名称,付款人账号,付款行,金额,币种,摘要\n"

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// wantOK is statement_ok.csv: line 4 repeats line 2 exactly and is skipped;
// line 5 is blank; the record at line 6 has padded fields and a two-line memo.
var wantOK = []Inflow{
	{Line: 2, BankTxnID: "B20240305000001", ValueTime: time.Date(2024, 3, 5, 10, 21, 33, 0, shanghai),
		VirtualAccount: "6217008800000000017", PayerName: "华建集团有限公司", PayerAccount: "11050161360000000123",
		PayerBank: "中国建设银行北京西城支行", Amount: dec("100000.00"), Currency: "CNY", Memo: "保证金,标段 A-01"},
	{Line: 3, BankTxnID: "B20240305000002", ValueTime: time.Date(2024, 3, 5, 14, 2, 9, 0, shanghai),
		VirtualAccount: "6217008800000000421", PayerName: `北京"宏达"建设有限公司`, PayerAccount: "0200001234567890123",
		PayerBank: "中国工商银行", Amount: dec("200000.50"), Currency: "CNY"},
	{Line: 6, BankTxnID: "B20240306000003", ValueTime: time.Date(2024, 3, 6, 9, 0, 0, 0, shanghai),
		VirtualAccount: "6217008800000000025", PayerName: "上海申通路桥工程有限公司", PayerAccount: "31001520313050001234",
		Amount: dec("80000"), Currency: "CNY", Memo: "多行\n摘要"},
	{Line: 8, BankTxnID: "B20240306000004", ValueTime: time.Date(2024, 3, 6, 23, 59, 59, 0, shanghai),
		VirtualAccount: "6217008800000000033", PayerName: "浙江省交通工程建设集团有限公司", PayerAccount: "33050161727000000456",
		PayerBank: "招商银行杭州分行", Amount: dec("0.01"), Currency: "CNY", Memo: "测试"},
}

func readAll(t *testing.T, data []byte) ([]Inflow, *StatementReader) {
	t.Helper()
	sr, err := NewStatementReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	var got []Inflow
	for {
		in, err := sr.Next()
		if err == io.EOF {
			return got, sr
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, in)
	}
}

func sameInflows(t *testing.T, got, want []Inflow) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d inflows, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		g, w := got[i], want[i]
		if !g.Amount.Equal(w.Amount) || !g.ValueTime.Equal(w.ValueTime) || g.ValueTime.Location() != shanghai {
			t.Errorf("inflow %d: amount %s time %s, want %s %s", i, g.Amount, g.ValueTime, w.Amount, w.ValueTime)
		}
		g.Amount, g.ValueTime = w.Amount, w.ValueTime
		if g != w {
			t.Errorf("inflow %d:\n got %+v\nwant %+v", i, g, w)
		}
	}
}

func TestStatementEncodings(t *testing.T) {
	utf := readFixture(t, "statement_ok.csv")
	gbk, err := simplifiedchinese.GBK.NewEncoder().Bytes(utf)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, encoding string
		data           []byte
	}{
		{"UTF-8", "UTF-8", utf},
		{"UTF-8 with BOM and CRLF", "UTF-8", append([]byte("\xEF\xBB\xBF"), bytes.ReplaceAll(utf, []byte("\n"), []byte("\r\n"))...)},
		{"GBK (x/text encoder)", "GB18030", gbk},
		{"GB18030 with CRLF (Python encoder, committed)", "GB18030", readFixture(t, "statement_gb18030.csv")},
		{"GB18030 with BOM", "GB18030", append([]byte{0x84, 0x31, 0x95, 0x33}, gbk...)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, sr := readAll(t, c.data)
			if sr.Encoding() != c.encoding {
				t.Errorf("Encoding() = %s, want %s", sr.Encoding(), c.encoding)
			}
			if sr.Skipped() != 1 {
				t.Errorf("Skipped() = %d, want 1", sr.Skipped())
			}
			want := wantOK
			if bytes.Contains(c.data, []byte("\r\n")) {
				want = append([]Inflow(nil), wantOK...)
				want[2].Memo = "多行\n摘要" // encoding/csv turns a quoted CRLF into \n
			}
			sameInflows(t, got, want)
			n, problems := ValidateStatement(bytes.NewReader(c.data))
			if n != len(wantOK) || len(problems) != 0 {
				t.Errorf("ValidateStatement = %d, %v; want %d, none", n, problems, len(wantOK))
			}
		})
	}
}

func TestValidateStatementProblems(t *testing.T) {
	n, problems := ValidateStatement(bytes.NewReader(readFixture(t, "statement_bad.csv")))
	if n != 2 {
		t.Errorf("count = %d, want 2", n)
	}
	want := []LineError{
		{Line: 3, Column: "金额", Reason: `金额最多两位小数（"100.001"）`},
		{Line: 4, Column: "金额", Reason: `金额不能为负数（"-100.00"）`},
		{Line: 5, Column: "交易日期", Reason: `交易日期 "2024-02-30" 不是有效日期`},
		{Line: 6, Column: "交易时间", Reason: `交易时间 "24:00:00" 应为 HH:MM:SS`},
		{Line: 7, Column: "交易流水号", Reason: "不能为空"},
		{Line: 8, Column: "币种", Reason: `币种应为 CNY，实为 "USD"`},
		{Line: 9, Reason: "应有 10 列，实有 9 列"},
		{Line: 10, Column: "交易流水号", Reason: "交易流水号 B1 与第 2 行重复但内容不同"},
		{Line: 11, Column: "金额", Reason: `金额不能含千位分隔符（"1,000.00"）`},
		{Line: 12, Column: "虚拟子账号", Reason: `虚拟子账号 "62170088-0017" 应为不超过 32 位的数字`},
		{Line: 12, Column: "付款人名称", Reason: "不能为空"},
		{Line: 12, Column: "金额", Reason: `金额不能为零（"0.00"）`},
		{Line: 12, Column: "币种", Reason: `币种应为 CNY，实为 "RMB"`},
		{Line: 12, Column: "交易日期", Reason: `交易日期 "2024/03/05" 不是有效日期`},
		{Line: 12, Column: "交易时间", Reason: `交易时间 "10:21" 应为 HH:MM:SS`},
		{Line: 13, Reason: "CSV 格式错误：字段中有未转义的引号（字段内的引号须写作两个引号，整个字段用引号括起）"},
	}
	if len(problems) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%s", len(problems), len(want), dump(problems))
	}
	for i := range want {
		if problems[i] != want[i] {
			t.Errorf("problem %d:\n got %+v\nwant %+v", i, problems[i], want[i])
		}
	}
	if s := problems[0].Error(); s != `第 3 行 金额：金额最多两位小数（"100.001"）` {
		t.Errorf("Error() = %s", s)
	}
}

func dump(ps []LineError) string {
	var b strings.Builder
	for _, p := range ps {
		fmt.Fprintf(&b, "%+v\n", p)
	}
	return b.String()
}

func TestStatementOneLine(t *testing.T) {
	const good = "B1,2024-03-05,10:21:33,6217008800000000017,甲公司,1105,建行,100.00,CNY,摘要"
	gbkLine, _ := simplifiedchinese.GBK.NewEncoder().String("B1,2024-03-05,10:21:33,6217008800000000017,甲公司,1105,建行,100.00,CNY,摘要\n")
	cases := []struct {
		name, body string
		column     string // "" with ok true means the line is fine
		ok         bool
	}{
		{"good", good, "", true},
		{"quoted amount", strings.Replace(good, "100.00", `"100.00"`, 1), "", true},
		{"memo with comma quoted", good[:len(good)-len("摘要")] + `"a,b,c"`, "", true},
		{"exponent", strings.Replace(good, "100.00", "1e2", 1), "金额", false},
		{"full-width digits", strings.Replace(good, "100.00", "１００", 1), "金额", false},
		{"no amount", strings.Replace(good, "100.00", "", 1), "金额", false},
		{"one-digit hour", strings.Replace(good, "10:21:33", "9:21:33", 1), "交易时间", false},
		{"compact date", strings.Replace(good, "2024-03-05", "20240305", 1), "交易日期", false},
		{"year 1900", strings.Replace(good, "2024-03-05", "1900-03-05", 1), "交易日期", false},
		{"lower-case currency", strings.Replace(good, "CNY", "cny", 1), "币种", false},
		{"empty payer account", strings.Replace(good, "1105", "", 1), "付款人账号", false},
		{"tab inside name", strings.Replace(good, "甲公司", "甲\t公司", 1), "付款人名称", false},
		{"long txn id", strings.Replace(good, "B1", strings.Repeat("B", 65), 1), "交易流水号", false},
		{"11 columns", good + ",extra", "", false},
		{"GBK line in a UTF-8 file", strings.TrimSuffix(gbkLine, "\n"), "付款人名称", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n, problems := ValidateStatement(strings.NewReader(header + c.body + "\n"))
			if c.ok {
				if n != 1 || len(problems) != 0 {
					t.Fatalf("got %d, %v; want 1 inflow", n, problems)
				}
				return
			}
			if n != 0 || len(problems) == 0 {
				t.Fatalf("got %d, %v; want a problem", n, problems)
			}
			if problems[0].Line != 2 || problems[0].Column != c.column {
				t.Errorf("problem %+v, want line 2 column %q", problems[0], c.column)
			}
			// Next reports the same first problem as a *LineError and goes on.
			sr, err := NewStatementReader(strings.NewReader(header + c.body + "\n" + good + "2\n"))
			if err != nil {
				t.Fatal(err)
			}
			_, err = sr.Next()
			var le *LineError
			if !errors.As(err, &le) || *le != problems[0] {
				t.Errorf("Next() error = %v, want %v", err, problems[0])
			}
			if in, err := sr.Next(); err != nil || in.Line != 3 {
				t.Errorf("after a bad line Next() = %+v, %v", in, err)
			}
		})
	}
}

func TestStatementHeader(t *testing.T) {
	cases := map[string]string{
		"empty":           "",
		"no header":       "B1,2024-03-05,10:21:33,6217008800000000017,甲公司,1105,建行,100.00,CNY,摘要\n",
		"english":         "txn_id,date,time,virtual_account,payer_name,payer_account,payer_bank,amount,currency,memo\n",
		"missing column":  strings.Replace(header, ",摘要", "", 1),
		"columns swapped": strings.Replace(header, "交易日期,交易时间", "交易时间,交易日期", 1),
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := NewStatementReader(strings.NewReader(data))
			var le *LineError
			if !errors.As(err, &le) || le.Line != 1 || le.Column != "表头" {
				t.Errorf("err = %v, want a header *LineError", err)
			}
			n, problems := ValidateStatement(strings.NewReader(data))
			if n != 0 || len(problems) != 1 || problems[0].Line != 1 {
				t.Errorf("ValidateStatement = %d, %v", n, problems)
			}
		})
	}
	// Header only: a valid, empty statement.
	if n, problems := ValidateStatement(strings.NewReader(header)); n != 0 || len(problems) != 0 {
		t.Errorf("header only: %d, %v", n, problems)
	}
	// Padded header cells are fine.
	if _, err := NewStatementReader(strings.NewReader(strings.ReplaceAll(header, ",", " , "))); err != nil {
		t.Errorf("padded header: %v", err)
	}
}

func TestValidateStatementCap(t *testing.T) {
	var b strings.Builder
	b.WriteString(header)
	for i := range 250 {
		fmt.Fprintf(&b, "B%d,2024-03-05,10:21:33,6217008800000000017,甲公司,1105,建行,1.001,CNY,\n", i)
	}
	n, problems := ValidateStatement(strings.NewReader(b.String()))
	if n != 0 || len(problems) != MaxProblems+1 {
		t.Fatalf("got %d, %d problems; want 0, %d", n, len(problems), MaxProblems+1)
	}
	last := problems[MaxProblems]
	if last.Line != 0 || last.Reason != "另有 150 处问题未列出，共 250 处" {
		t.Errorf("summary = %+v", last)
	}
	if problems[MaxProblems-1].Line != MaxProblems+1 {
		t.Errorf("problem %d is line %d", MaxProblems-1, problems[MaxProblems-1].Line)
	}
}

// genStatement produces a statement of n lines on the fly, so a test of a
// huge file holds none of it in memory.
type genStatement struct {
	n, i int
	buf  []byte
}

func (g *genStatement) Read(p []byte) (int, error) {
	for len(g.buf) == 0 {
		if g.i > g.n {
			return 0, io.EOF
		}
		if g.i == 0 {
			g.buf = []byte(header)
		} else {
			g.buf = fmt.Appendf(g.buf[:0], "B%012d,2024-03-05,10:21:33,62170088%010d7,某某建设工程有限公司,110501613600%08d,中国建设银行,%d.%02d,CNY,保证金\n",
				g.i, g.i, g.i, 1000+g.i%100000, g.i%100)
		}
		g.i++
	}
	n := copy(p, g.buf)
	g.buf = g.buf[n:]
	return n, nil
}

// TestStatementMillionLines streams 1,000,000 lines and checks the heap stays
// flat: no per-line state but the ~24-byte duplicate-detection entry.
func TestStatementMillionLines(t *testing.T) {
	lines, heapCap := 1_000_000, uint64(96<<20)
	if raceEnabled {
		// The race detector makes each line ~10x slower and its shadow
		// memory inflates the heap: a tenth of the lines, the same ceiling.
		lines = 100_000
	}
	sr, err := NewStatementReader(&genStatement{n: lines})
	if err != nil {
		t.Fatal(err)
	}
	var ms runtime.MemStats
	var peak uint64
	count := 0
	for {
		_, err := sr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		count++
		if count%100_000 == 0 {
			runtime.GC()
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc)
		}
	}
	if count != lines {
		t.Fatalf("read %d inflows, want %d", count, lines)
	}
	// The file is ~140 MB; the dedup map is ~40 MB at most.
	if peak > heapCap {
		t.Errorf("heap reached %d MiB reading %d lines", peak>>20, lines)
	}
	t.Logf("peak heap %d MiB for %d lines", peak>>20, lines)
}

func BenchmarkValidateStatement(b *testing.B) {
	for b.Loop() {
		n, problems := ValidateStatement(&genStatement{n: 10_000})
		if n != 10_000 || len(problems) != 0 {
			b.Fatal(n, problems)
		}
	}
}

func FuzzStatement(f *testing.F) {
	f.Add(readFixture(f, "statement_ok.csv"))
	f.Add(readFixture(f, "statement_bad.csv"))
	f.Add(readFixture(f, "statement_gb18030.csv"))
	f.Add([]byte(header + "B1,2024-03-05,10:21:33,1,a,b,,1,CNY,\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		n, problems := ValidateStatement(bytes.NewReader(data))
		if len(problems) > MaxProblems+1 {
			t.Fatalf("%d problems listed", len(problems))
		}
		sr, err := NewStatementReader(bytes.NewReader(data))
		if err != nil {
			if len(problems) == 0 {
				t.Fatalf("reader refused (%v) what validation passed", err)
			}
			return
		}
		got := 0
		for i := 0; ; i++ {
			in, err := sr.Next()
			if err == io.EOF {
				break
			}
			if i > len(data)+1 {
				t.Fatal("Next does not reach EOF")
			}
			if err != nil {
				var le *LineError
				if !errors.As(err, &le) && len(problems) == 0 {
					t.Fatalf("Next: %v on a file validation passed", err)
				}
				continue
			}
			if !in.Amount.IsPositive() || in.Amount.Exponent() < -2 || in.Currency != "CNY" || in.BankTxnID == "" {
				t.Fatalf("bad inflow %+v", in)
			}
			got++
		}
		if len(problems) == 0 && got != n {
			t.Fatalf("validation counted %d, reader returned %d", n, got)
		}
	})
}
