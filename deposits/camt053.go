package deposits

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/transform"
)

// Camt053Reader streams the subset of an ISO 20022 camt.053
// (BankToCustomerStatement, any version 001.02 … 001.13) that carries deposit
// inflows, one <Ntry> at a time with an encoding/xml token decoder, so memory
// does not grow with the file except for duplicate detection (about 50 bytes
// per distinct transaction id, as for StatementReader).
//
// Read, per Document/BkToCstmrStmt/Stmt/Ntry (namespaces are not compared
// except that the root's, if any, must be camt.053):
//
//	bank txn id      NtryDtls/TxDtls/Refs/AcctSvcrRef, else Ntry/AcctSvcrRef, else NtryRef
//	value time       BookgDt/DtTm, else BookgDt/Dt (midnight), else ValDt likewise;
//	                 a DtTm without offset is Asia/Shanghai
//	amount, currency Amt and its Ccy attribute (CNY); TxDtls/Amt or
//	                 TxDtls/AmtDtls/TxAmt/Amt, if given, must agree
//	payer name       TxDtls/RltdPties/Dbtr/Nm (≤ 001.07) or Dbtr/Pty/Nm (001.08 +)
//	payer account    TxDtls/RltdPties/DbtrAcct/Id/Othr/Id (or IBAN)
//	virtual account  TxDtls/RltdPties/CdtrAcct/Id/Othr/Id (or IBAN)
//	payer bank       TxDtls/RltdAgts/DbtrAgt/FinInstnId/Nm (or BICFI/BIC), optional
//	memo             TxDtls/RmtInf/Ustrd (joined), else AddtlTxInf, else AddtlNtryInf
//
// Skipped, and counted by Skipped, not errors:
//   - CdtDbtInd DBIT: money going out is a refund this platform initiated; it
//     is confirmed by the refund flow, not by statement import;
//   - RvslInd true: a reversal is a correction (e.g. a refund bounced back),
//     not a new deposit, and needs a person;
//   - Sts other than BOOK (PDNG, INFO): not yet money in the account.
//
// An entry with more than one TxDtls (batch booking) is refused: this subset
// keys one inflow to one bank transaction. Field checks and duplicate handling
// are those of the CSV statement (see StatementReader).
type Camt053Reader struct {
	dec     *xml.Decoder
	stack   []string
	entry   int
	sawStmt bool
	dup     *dedup
	skipped int
	done    bool // after a fatal error only io.EOF follows
}

var camtNames = fieldNames{
	txnID:          "NtryDtls/TxDtls/Refs/AcctSvcrRef",
	virtualAccount: "RltdPties/CdtrAcct/Id/Othr/Id",
	payerName:      "RltdPties/Dbtr/Nm",
	payerAccount:   "RltdPties/DbtrAcct/Id/Othr/Id",
	payerBank:      "RltdAgts/DbtrAgt/FinInstnId/Nm",
	amount:         "Amt",
	currency:       "Amt/@Ccy",
	memo:           "RmtInf/Ustrd",
}

const camtNamespacePrefix = "urn:iso:std:iso:20022:tech:xsd:camt.053."

// NewCamt053Reader checks the root element is a camt.053 Document.
func NewCamt053Reader(r io.Reader) (*Camt053Reader, error) {
	dec := xml.NewDecoder(r)
	dec.CharsetReader = charsetReader
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil, &LineError{Line: 1, Column: "Document", Reason: "不是 XML 文件，或文件为空（没有根元素）"}
		}
		if err != nil {
			return nil, xmlProblem(dec, err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		line, _ := dec.InputPos()
		if se.Name.Local != "Document" || (se.Name.Space != "" && !strings.HasPrefix(se.Name.Space, camtNamespacePrefix)) {
			return nil, &LineError{Line: line, Column: "Document", Reason: fmt.Sprintf("不是 camt.053 对账单（根元素 %s，命名空间 %q）", se.Name.Local, se.Name.Space)}
		}
		return &Camt053Reader{dec: dec, stack: []string{"Document"}, dup: newDedup()}, nil
	}
}

func charsetReader(label string, in io.Reader) (io.Reader, error) {
	switch strings.ToUpper(label) {
	case "GBK", "GB2312", "GB18030", "CP936":
		return transform.NewReader(in, simplifiedchinese.GB18030.NewDecoder()), nil
	}
	return nil, fmt.Errorf("不支持的字符编码 %q", label)
}

// xmlProblem turns a decoder error into a *LineError; io.EOF passes through.
func xmlProblem(dec *xml.Decoder, err error) error {
	if err == io.EOF {
		return err
	}
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		return &LineError{Line: se.Line, Reason: "XML 格式错误：" + se.Msg}
	}
	line, _ := dec.InputPos()
	return &LineError{Line: line, Reason: "XML 无法读取：" + err.Error()}
}

// Skipped counts entries skipped: DBIT, reversals, not booked, identical re-sends.
func (c *Camt053Reader) Skipped() int { return c.skipped }

// KeepDuplicates is StatementReader.KeepDuplicates for camt.053.
func (c *Camt053Reader) KeepDuplicates() { c.dup = nil }

// Next returns the next credit inflow, io.EOF at the end, a *LineError for a
// malformed entry (reading may continue), or a *LineError for broken XML
// (reading may not). As with CSV, import only a file ValidateCamt053 passed.
func (c *Camt053Reader) Next() (Inflow, error) {
	in, problems, err := c.next()
	if err != nil {
		return Inflow{}, err
	}
	if len(problems) > 0 {
		return Inflow{}, &problems[0]
	}
	return in, nil
}

func (c *Camt053Reader) next() (Inflow, []LineError, error) {
	if c.done {
		return Inflow{}, nil, io.EOF
	}
	for {
		tok, err := c.dec.Token()
		if err != nil {
			c.done = true
			if err == io.EOF && !c.sawStmt {
				return Inflow{}, nil, &LineError{Column: "BkToCstmrStmt", Reason: "不是 camt.053 对账单（缺少 BkToCstmrStmt/Stmt）"}
			}
			return Inflow{}, nil, xmlProblem(c.dec, err)
		}
		switch t := tok.(type) {
		case xml.EndElement:
			c.stack = c.stack[:len(c.stack)-1]
		case xml.StartElement:
			if len(c.stack) == 3 && t.Name.Local == "Ntry" && c.stack[1] == "BkToCstmrStmt" && c.stack[2] == "Stmt" {
				c.entry++
				line, _ := c.dec.InputPos()
				var e camtEntry
				if err := c.dec.DecodeElement(&e, &t); err != nil {
					c.done = true
					return Inflow{}, nil, xmlProblem(c.dec, err)
				}
				in, problems, skip := e.inflow(line, c.entry)
				if skip {
					c.skipped++
					continue
				}
				if len(problems) > 0 {
					return Inflow{}, problems, nil
				}
				if c.dup == nil {
					return in, nil, nil // duplicates are the caller's (ImportStatement)
				}
				first, identical := c.dup.see(&in)
				switch {
				case first == 0:
					return in, nil, nil
				case identical:
					c.skipped++
					continue
				default:
					return Inflow{}, []LineError{{Line: line, Entry: c.entry, Column: camtNames.txnID,
						Reason: fmt.Sprintf("交易流水号 %s 与第 %d 行的分录重复但内容不同", in.BankTxnID, first)}}, nil
				}
			}
			if len(c.stack) == 2 && t.Name.Local == "Stmt" && c.stack[1] == "BkToCstmrStmt" {
				c.sawStmt = true
			}
			c.stack = append(c.stack, t.Name.Local)
		}
	}
}

// ValidateCamt053 is ValidateStatement for camt.053: the count of credit
// inflows and every problem, by entry number. Any problem refuses the file.
func ValidateCamt053(r io.Reader) (count int, problems []LineError) {
	c, err := NewCamt053Reader(r)
	if err != nil {
		return 0, []LineError{*asLineError(err)}
	}
	var p problemList
	for {
		_, entryProblems, err := c.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			p.add(*asLineError(err))
			break
		}
		if len(entryProblems) > 0 {
			p.add(entryProblems...)
			continue
		}
		count++
	}
	return count, p.result()
}

type camtEntry struct {
	NtryRef      string     `xml:"NtryRef"`
	Amt          camtAmount `xml:"Amt"`
	CdtDbtInd    string     `xml:"CdtDbtInd"`
	RvslInd      string     `xml:"RvslInd"`
	Sts          camtStatus `xml:"Sts"`
	BookgDt      camtDate   `xml:"BookgDt"`
	ValDt        camtDate   `xml:"ValDt"`
	AcctSvcrRef  string     `xml:"AcctSvcrRef"`
	AddtlNtryInf string     `xml:"AddtlNtryInf"`
	TxDtls       []camtTx   `xml:"NtryDtls>TxDtls"`
}

type camtAmount struct {
	Value string `xml:",chardata"`
	Ccy   string `xml:"Ccy,attr"`
}

// camtStatus is <Sts>BOOK</Sts> (≤ 001.07) or <Sts><Cd>BOOK</Cd></Sts>.
type camtStatus struct {
	Text string `xml:",chardata"`
	Cd   string `xml:"Cd"`
}

type camtDate struct {
	Dt   string `xml:"Dt"`
	DtTm string `xml:"DtTm"`
}

type camtTx struct {
	AcctSvcrRef  string      `xml:"Refs>AcctSvcrRef"`
	Amt          *camtAmount `xml:"Amt"`
	TxAmt        *camtAmount `xml:"AmtDtls>TxAmt>Amt"`
	DbtrNm       string      `xml:"RltdPties>Dbtr>Nm"`
	DbtrPtyNm    string      `xml:"RltdPties>Dbtr>Pty>Nm"`
	DbtrAcctOthr string      `xml:"RltdPties>DbtrAcct>Id>Othr>Id"`
	DbtrAcctIBAN string      `xml:"RltdPties>DbtrAcct>Id>IBAN"`
	CdtrAcctOthr string      `xml:"RltdPties>CdtrAcct>Id>Othr>Id"`
	CdtrAcctIBAN string      `xml:"RltdPties>CdtrAcct>Id>IBAN"`
	DbtrAgtNm    string      `xml:"RltdAgts>DbtrAgt>FinInstnId>Nm"`
	DbtrAgtBICFI string      `xml:"RltdAgts>DbtrAgt>FinInstnId>BICFI"`
	DbtrAgtBIC   string      `xml:"RltdAgts>DbtrAgt>FinInstnId>BIC"`
	Ustrd        []string    `xml:"RmtInf>Ustrd"`
	AddtlTxInf   string      `xml:"AddtlTxInf"`
}

// inflow checks a decoded entry; skip reports an entry that is not a deposit
// inflow (see the Camt053Reader doc).
func (e *camtEntry) inflow(line, entry int) (in Inflow, problems []LineError, skip bool) {
	bad := func(col, reason string) {
		problems = append(problems, LineError{Line: line, Entry: entry, Column: col, Reason: reason})
	}
	switch strings.TrimSpace(e.CdtDbtInd) {
	case "CRDT":
	case "DBIT":
		return Inflow{}, nil, true
	default:
		bad("CdtDbtInd", fmt.Sprintf("借贷标志应为 CRDT 或 DBIT，实为 %q", e.CdtDbtInd))
		return Inflow{}, problems, false
	}
	if rv := strings.TrimSpace(e.RvslInd); rv == "true" || rv == "1" {
		return Inflow{}, nil, true
	}
	if st := firstNonEmpty(e.Sts.Cd, e.Sts.Text); st != "" && st != "BOOK" {
		return Inflow{}, nil, true
	}
	if len(e.TxDtls) > 1 {
		bad("NtryDtls/TxDtls", fmt.Sprintf("批量分录含 %d 笔明细，暂不支持", len(e.TxDtls)))
		return Inflow{}, problems, false
	}
	var tx camtTx
	if len(e.TxDtls) == 1 {
		tx = e.TxDtls[0]
	}
	raw := rawInflow{
		line: line, entry: entry,
		txnID:          firstNonEmpty(tx.AcctSvcrRef, e.AcctSvcrRef, e.NtryRef),
		virtualAccount: firstNonEmpty(tx.CdtrAcctOthr, tx.CdtrAcctIBAN),
		payerName:      firstNonEmpty(tx.DbtrNm, tx.DbtrPtyNm),
		payerAccount:   firstNonEmpty(tx.DbtrAcctOthr, tx.DbtrAcctIBAN),
		payerBank:      firstNonEmpty(tx.DbtrAgtNm, tx.DbtrAgtBICFI, tx.DbtrAgtBIC),
		amount:         strings.TrimSpace(e.Amt.Value),
		currency:       strings.TrimSpace(e.Amt.Ccy),
		memo:           firstNonEmpty(joinTrimmed(tx.Ustrd), tx.AddtlTxInf, e.AddtlNtryInf),
	}
	in, problems = raw.check(camtNames)
	for _, a := range []struct {
		path string
		amt  *camtAmount
	}{{"TxDtls/Amt", tx.Amt}, {"TxDtls/AmtDtls/TxAmt/Amt", tx.TxAmt}} {
		if a.amt == nil {
			continue
		}
		d, err := ParseAmount(strings.TrimSpace(a.amt.Value))
		if err != nil || !d.Equal(in.Amount) || strings.TrimSpace(a.amt.Ccy) != raw.currency {
			bad(a.path, fmt.Sprintf("明细金额 %s %s 与分录金额 %s %s 不一致", strings.TrimSpace(a.amt.Value), a.amt.Ccy, raw.amount, raw.currency))
		}
	}
	vt, reason := firstTime(e.BookgDt, e.ValDt)
	if reason != "" {
		bad("BookgDt", reason)
	}
	if len(problems) > 0 {
		return Inflow{}, problems, false
	}
	in.ValueTime = vt
	return in, nil, false
}

// firstTime reads BookgDt, falling back to ValDt, as an Asia/Shanghai time.
func firstTime(dates ...camtDate) (time.Time, string) {
	for _, d := range dates {
		if s := strings.TrimSpace(d.DtTm); s != "" {
			if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
				return t.In(shanghai), ""
			}
			if t, err := time.ParseInLocation("2006-01-02T15:04:05.999999999", s, shanghai); err == nil {
				return t, ""
			}
			return time.Time{}, fmt.Sprintf("日期时间 %q 应为 ISO 8601（YYYY-MM-DDThh:mm:ss）", s)
		}
		if s := strings.TrimSpace(d.Dt); s != "" {
			t, reason := parseDate(s)
			if reason != "" {
				return time.Time{}, reason
			}
			return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, shanghai), ""
		}
	}
	return time.Time{}, "缺少记账日期（BookgDt/Dt 或 BookgDt/DtTm）"
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s = strings.TrimSpace(s); s != "" {
			return s
		}
	}
	return ""
}

func joinTrimmed(ss []string) string {
	var parts []string
	for _, s := range ss {
		if s = strings.TrimSpace(s); s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, " ")
}
