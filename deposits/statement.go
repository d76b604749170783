package deposits

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/shopspring/decimal"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/transform"
)

// Inflow is one credit to a virtual sub-account read from a bank file,
// keyed by the bank's transaction id.
type Inflow struct {
	Line           int    // line in the file where the record (CSV) or <Ntry> (camt.053) starts
	BankTxnID      string // 交易流水号
	ValueTime      time.Time
	VirtualAccount string // 虚拟子账号 credited
	PayerName      string // D2: must equal the bidder
	PayerAccount   string // D2, K1
	PayerBank      string
	Amount         decimal.Decimal // > 0, at most two decimals
	Currency       string          // always "CNY"
	Memo           string
}

// checkASCII reports whether v is all ASCII and, if so, whether it is free
// of control characters (a line break allowed where multiline).
func checkASCII(v string, multiline bool) (ascii, ok bool) {
	ok = true
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c >= 0x80:
			return false, false
		case c < 0x20 || c == 0x7f:
			if !(multiline && c == '\n') {
				ok = false
			}
		}
	}
	return true, ok
}

// LineError is one problem found in a bank file.
type LineError struct {
	Line   int    // line in the file (CSV: 1 is the header); 0 for a summary
	Entry  int    // camt.053 only: 1-based number of the <Ntry>; 0 for CSV
	Column string // CSV column name, or camt.053 element path
	Reason string // Chinese, shown to the user
}

func (e *LineError) Error() string {
	var b strings.Builder
	switch {
	case e.Entry > 0:
		fmt.Fprintf(&b, "第 %d 笔分录（第 %d 行）", e.Entry, e.Line)
	case e.Line > 0:
		fmt.Fprintf(&b, "第 %d 行", e.Line)
	}
	if e.Column != "" {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(e.Column)
	}
	if b.Len() > 0 {
		b.WriteString("：")
	}
	b.WriteString(e.Reason)
	return b.String()
}

// MaxProblems caps the problems a validation pass lists; one more summary
// LineError (Line 0) then gives the total.
const MaxProblems = 100

// maxFieldRunes bounds every text field; longer means a broken file.
const (
	maxFieldRunes = 256
	maxTxnIDRunes = 64
)

// statementColumns is the CSV layout, in order; see the StatementReader doc.
var statementColumns = [...]string{
	"交易流水号", "交易日期", "交易时间", "虚拟子账号", "付款人名称",
	"付款人账号", "付款行", "金额", "币种", "摘要",
}

const (
	colTxnID = iota
	colDate
	colTime
	colVirtualAccount
	colPayerName
	colPayerAccount
	colPayerBank
	colAmount
	colCurrency
	colMemo
)

// StatementReader streams a bank statement CSV, one Inflow at a time, so a
// file of millions of lines is read without holding it: the only state that
// grows is duplicate detection, about 50 bytes per distinct transaction id
// (~53 MiB peak heap measured for 1,000,000 lines).
//
// Layout (also in STATEMENT.md). A header row is required and must be exactly
//
//	交易流水号,交易日期,交易时间,虚拟子账号,付款人名称,付款人账号,付款行,金额,币种,摘要
//
// that is: bank txn id (required, ≤ 64 characters); date YYYY-MM-DD; time
// HH:MM:SS (Asia/Shanghai); virtual sub-account (required, digits; its check
// digit is not checked here — an unknown account is an unmatched inflow, not
// a broken file); payer name (required, D2); payer account (required, D2/K1);
// payer bank (optional); amount in yuan as ParseAmount accepts (> 0, ≤ 2
// decimals, no separators); currency "CNY"; memo (optional).
// Fields follow RFC 4180 (encoding/csv): quote a field holding commas, quotes
// or line breaks. Spaces around a field are trimmed; blank lines are skipped.
//
// Encoding: UTF-8 with or without BOM, or GBK/GB18030. The header decides: if
// the header line is valid UTF-8 the file is read as UTF-8 (a later line that
// is not is an error); otherwise the whole file is decoded as GB18030, a
// superset of GBK and GB2312.
//
// Duplicates: a bank txn id seen twice with every field equal is a re-sent
// line and is skipped; the same id with any field different is an error.
type StatementReader struct {
	csv      *csv.Reader
	encoding string
	dup      *dedup
	skipped  int
	done     bool // after a read error only io.EOF follows
}

// NewStatementReader detects the encoding and checks the header. A wrong or
// missing header returns a *LineError for line 1.
func NewStatementReader(r io.Reader) (*StatementReader, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, _ := br.Peek(4096) // a short file or read error resurfaces on Read
	if bytes.HasPrefix(head, utf8BOM) {
		_, _ = br.Discard(len(utf8BOM))
		head = head[len(utf8BOM):]
	}
	if i := bytes.IndexByte(head, '\n'); i >= 0 {
		head = head[:i]
	}
	s := &StatementReader{encoding: "UTF-8", dup: newDedup()}
	var src io.Reader = br
	if !utf8.Valid(head) {
		s.encoding = "GB18030"
		src = transform.NewReader(br, simplifiedchinese.GB18030.NewDecoder())
	}
	s.csv = csv.NewReader(src)
	s.csv.FieldsPerRecord = -1 // counted per line, to report it
	s.csv.ReuseRecord = true
	header, err := s.csv.Read()
	if err == io.EOF {
		return nil, &LineError{Line: 1, Column: "表头", Reason: "文件为空"}
	}
	if err != nil {
		return nil, &LineError{Line: 1, Column: "表头", Reason: "表头无法读取：" + csvReason(err)}
	}
	ok := len(header) == len(statementColumns)
	for i := 0; ok && i < len(header); i++ {
		h := strings.TrimSpace(header[i])
		if i == 0 {
			h = strings.TrimPrefix(h, "\uFEFF") // GB18030 BOM decodes to U+FEFF
		}
		ok = h == statementColumns[i]
	}
	if !ok {
		return nil, &LineError{Line: 1, Column: "表头", Reason: "表头应为 " + strings.Join(statementColumns[:], ",") + "（UTF-8 或 GBK 编码）"}
	}
	return s, nil
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// Encoding names the detected encoding: "UTF-8" or "GB18030".
func (s *StatementReader) Encoding() string { return s.encoding }

// Skipped counts lines skipped as identical re-sends of an earlier line.
func (s *StatementReader) Skipped() int { return s.skipped }

// KeepDuplicates stops the reader from remembering transaction ids (about
// 50 bytes each): repeated ids are returned like any line, and the caller
// finds them, as ImportStatement does in the staging table, so memory
// stays flat however long the file.
func (s *StatementReader) KeepDuplicates() { s.dup = nil }

// Next returns the next inflow, io.EOF at the end, or a *LineError (the first
// problem of a malformed line; reading may continue with the next call).
// Import only a file ValidateStatement passed: streaming cannot take back
// lines already returned when a later line turns out to conflict.
func (s *StatementReader) Next() (Inflow, error) {
	in, problems, err := s.next()
	if err != nil {
		return Inflow{}, err
	}
	if len(problems) > 0 {
		return Inflow{}, &problems[0]
	}
	return in, nil
}

// next returns an inflow, or its problems, or a fatal error (io.EOF at end).
func (s *StatementReader) next() (Inflow, []LineError, error) {
	if s.done {
		return Inflow{}, nil, io.EOF
	}
	for {
		rec, err := s.csv.Read()
		if err == io.EOF {
			s.done = true
			return Inflow{}, nil, io.EOF
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return Inflow{}, []LineError{{Line: pe.StartLine, Reason: "CSV 格式错误：" + csvReason(err)}}, nil
		}
		if err != nil {
			s.done = true
			return Inflow{}, nil, fmt.Errorf("读取对账单失败：%w", err)
		}
		line, _ := s.csv.FieldPos(0)
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // blank line
		}
		if len(rec) != len(statementColumns) {
			return Inflow{}, []LineError{{Line: line, Reason: fmt.Sprintf("应有 %d 列，实有 %d 列", len(statementColumns), len(rec))}}, nil
		}
		in, problems := s.parseRecord(line, rec)
		if len(problems) > 0 {
			return Inflow{}, problems, nil
		}
		if s.dup == nil {
			return in, nil, nil // duplicates are the caller's (ImportStatement)
		}
		first, identical := s.dup.see(&in)
		switch {
		case first == 0:
			return in, nil, nil
		case identical:
			s.skipped++
			continue
		default:
			return Inflow{}, []LineError{{Line: line, Column: statementColumns[colTxnID],
				Reason: fmt.Sprintf("交易流水号 %s 与第 %d 行重复但内容不同", in.BankTxnID, first)}}, nil
		}
	}
}

func (s *StatementReader) parseRecord(line int, rec []string) (Inflow, []LineError) {
	var f [len(statementColumns)]string
	for i := range rec {
		f[i] = strings.TrimSpace(rec[i])
	}
	raw := rawInflow{
		line: line, txnID: f[colTxnID], virtualAccount: f[colVirtualAccount],
		payerName: f[colPayerName], payerAccount: f[colPayerAccount], payerBank: f[colPayerBank],
		amount: f[colAmount], currency: f[colCurrency], memo: f[colMemo],
	}
	in, problems := raw.check(csvNames)
	bad := func(col int, reason string) {
		problems = append(problems, LineError{Line: line, Column: statementColumns[col], Reason: reason})
	}
	date, errD := parseDate(f[colDate])
	if errD != "" {
		bad(colDate, errD)
	}
	h, m, sec, okT := parseClock(f[colTime])
	if !okT {
		bad(colTime, fmt.Sprintf("交易时间 %q 应为 HH:MM:SS", f[colTime]))
	}
	if len(problems) > 0 {
		return Inflow{}, problems
	}
	in.ValueTime = time.Date(date.Year(), date.Month(), date.Day(), h, m, sec, 0, shanghai)
	return in, nil
}

// parseDate reads a strict YYYY-MM-DD calendar date.
func parseDate(s string) (time.Time, string) {
	if len(s) != len(time.DateOnly) {
		return time.Time{}, fmt.Sprintf("交易日期 %q 应为 YYYY-MM-DD", s)
	}
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, fmt.Sprintf("交易日期 %q 不是有效日期", s)
	}
	if d.Year() < 2000 || d.Year() > 2099 {
		return time.Time{}, fmt.Sprintf("交易日期 %q 超出合理范围", s)
	}
	return d, ""
}

// parseClock reads a strict HH:MM:SS (time.Parse would accept "9:05:00").
func parseClock(s string) (h, m, sec int, ok bool) {
	if len(s) != 8 || s[2] != ':' || s[5] != ':' || !allDigits(s[:2]+s[3:5]+s[6:]) {
		return 0, 0, 0, false
	}
	h = int(s[0]-'0')*10 + int(s[1]-'0')
	m = int(s[3]-'0')*10 + int(s[4]-'0')
	sec = int(s[6]-'0')*10 + int(s[7]-'0')
	return h, m, sec, h < 24 && m < 60 && sec < 60
}

func csvReason(err error) string {
	switch {
	case errors.Is(err, csv.ErrBareQuote):
		return "字段中有未转义的引号（字段内的引号须写作两个引号，整个字段用引号括起）"
	case errors.Is(err, csv.ErrQuote):
		return "引号未闭合，或闭合引号后还有字符"
	}
	return err.Error()
}

// ValidateStatement reads a whole statement CSV and returns how many inflows
// it holds (identical re-sent lines counted once) and every problem, capped
// at MaxProblems plus a summary. Any problem refuses the whole file: import
// it, with NewStatementReader, only when problems is empty.
func ValidateStatement(r io.Reader) (count int, problems []LineError) {
	s, err := NewStatementReader(r)
	if err != nil {
		return 0, []LineError{*asLineError(err)}
	}
	var p problemList
	for {
		_, lineProblems, err := s.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			p.add(LineError{Reason: err.Error()})
			break
		}
		if len(lineProblems) > 0 {
			p.add(lineProblems...)
			continue
		}
		count++
	}
	return count, p.result()
}

func asLineError(err error) *LineError {
	var le *LineError
	if errors.As(err, &le) {
		return le
	}
	return &LineError{Reason: err.Error()}
}

// problemList keeps the first MaxProblems problems and counts the rest.
type problemList struct {
	list  []LineError
	total int
}

func (p *problemList) add(es ...LineError) {
	for _, e := range es {
		p.total++
		if len(p.list) < MaxProblems {
			p.list = append(p.list, e)
		}
	}
}

func (p *problemList) result() []LineError {
	if p.total > len(p.list) {
		return append(p.list, LineError{Reason: fmt.Sprintf("另有 %d 处问题未列出，共 %d 处", p.total-len(p.list), p.total)})
	}
	return p.list
}

// rawInflow holds an inflow's text fields before checking; both file formats
// share these checks.
type rawInflow struct {
	line, entry                                    int
	txnID, virtualAccount, payerName, payerAccount string
	payerBank, amount, currency, memo              string
}

// fieldNames names the fields in problems: CSV header names or XML paths.
type fieldNames struct {
	txnID, virtualAccount, payerName, payerAccount, payerBank, amount, currency, memo string
}

var csvNames = fieldNames{
	txnID: statementColumns[colTxnID], virtualAccount: statementColumns[colVirtualAccount],
	payerName: statementColumns[colPayerName], payerAccount: statementColumns[colPayerAccount],
	payerBank: statementColumns[colPayerBank], amount: statementColumns[colAmount],
	currency: statementColumns[colCurrency], memo: statementColumns[colMemo],
}

// check validates everything but the value time.
func (r rawInflow) check(n fieldNames) (Inflow, []LineError) {
	var problems []LineError
	bad := func(col, reason string) {
		problems = append(problems, LineError{Line: r.line, Entry: r.entry, Column: col, Reason: reason})
	}
	text := func(col, v string, required bool, limit int, multiline bool) {
		if ascii, ok := checkASCII(v, multiline); ascii { // most fields: one pass over the bytes
			switch {
			case required && v == "":
				bad(col, "不能为空")
			case !ok:
				bad(col, "含控制字符")
			case len(v) > limit:
				bad(col, fmt.Sprintf("超过 %d 个字符", limit))
			}
			return
		}
		switch {
		case required && v == "":
			bad(col, "不能为空")
		case !utf8.ValidString(v):
			bad(col, "不是有效的 UTF-8 编码（文件混用了编码？）")
		case strings.ContainsRune(v, utf8.RuneError):
			bad(col, "含无法识别的字符（编码错误）")
		case strings.ContainsFunc(v, func(r rune) bool { return unicode.IsControl(r) && !(multiline && r == '\n') }):
			bad(col, "含控制字符")
		case utf8.RuneCountInString(v) > limit:
			bad(col, fmt.Sprintf("超过 %d 个字符", limit))
		}
	}
	text(n.txnID, r.txnID, true, maxTxnIDRunes, false)
	text(n.virtualAccount, r.virtualAccount, true, maxFieldRunes, false)
	if r.virtualAccount != "" && (!allDigits(r.virtualAccount) || len(r.virtualAccount) > 32) {
		bad(n.virtualAccount, fmt.Sprintf("虚拟子账号 %q 应为不超过 32 位的数字", r.virtualAccount))
	}
	text(n.payerName, r.payerName, true, maxFieldRunes, false)
	text(n.payerAccount, r.payerAccount, true, maxFieldRunes, false)
	text(n.payerBank, r.payerBank, false, maxFieldRunes, false)
	text(n.memo, r.memo, false, maxFieldRunes, true) // a quoted memo may span lines
	amount, err := ParseAmount(r.amount)
	if err != nil {
		bad(n.amount, asAmountReason(err))
	}
	if r.currency != "CNY" {
		bad(n.currency, fmt.Sprintf("币种应为 CNY，实为 %q", r.currency))
	}
	if len(problems) > 0 {
		return Inflow{}, problems
	}
	return Inflow{
		Line: r.line, BankTxnID: r.txnID, VirtualAccount: r.virtualAccount,
		PayerName: r.payerName, PayerAccount: r.payerAccount, PayerBank: r.payerBank,
		Amount: amount, Currency: r.currency, Memo: r.memo,
	}, nil
}

func asAmountReason(err error) string {
	var ae *AmountError
	if errors.As(err, &ae) {
		return fmt.Sprintf("%s（%q）", ae.Reason, ae.Input)
	}
	return err.Error()
}

// dedup remembers, per bank txn id, a hash of the inflow's content and its
// line: a 24-byte map slot per distinct id instead of the line itself. The seed is
// random per file, so the ~n²/2⁶⁵ chance of two ids colliding (a spurious
// "different content" refusal, never a silent skip) does not repeat.
type dedup struct {
	seed maphash.Seed
	seen map[uint64]seenEntry
}

type seenEntry struct {
	content uint64
	line    int32
}

func newDedup() *dedup {
	return &dedup{seed: maphash.MakeSeed(), seen: make(map[uint64]seenEntry)}
}

// see records in and, if its txn id was seen before, returns the earlier
// line and whether all fields are equal.
func (d *dedup) see(in *Inflow) (firstLine int, identical bool) {
	id := maphash.String(d.seed, in.BankTxnID)
	var h maphash.Hash
	h.SetSeed(d.seed)
	for _, s := range []string{in.BankTxnID, in.ValueTime.UTC().Format(time.RFC3339Nano), in.VirtualAccount,
		in.PayerName, in.PayerAccount, in.PayerBank, FormatYuan(in.Amount), in.Currency, in.Memo} {
		h.WriteString(s)
		h.WriteByte(0) // no field contains NUL (control characters are refused)
	}
	content := h.Sum64()
	if prev, ok := d.seen[id]; ok {
		return int(prev.line), prev.content == content
	}
	d.seen[id] = seenEntry{content: content, line: int32(in.Line)}
	return 0, false
}
