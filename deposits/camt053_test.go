package deposits

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"
)

func readCamt(t *testing.T, data []byte) ([]Inflow, *Camt053Reader) {
	t.Helper()
	c, err := NewCamt053Reader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	var got []Inflow
	for {
		in, err := c.Next()
		if err == io.EOF {
			return got, c
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, in)
	}
}

// wantCamt is camt053_ok.xml: entries 3 (DBIT), 4 (reversal), 5 (pending)
// and 6 (identical re-send of entry 1) are skipped.
var wantCamt = []Inflow{
	{Line: 37, BankTxnID: "B20240305000001", ValueTime: time.Date(2024, 3, 5, 0, 0, 0, 0, shanghai),
		VirtualAccount: "6217008800000000017", PayerName: "华建集团有限公司", PayerAccount: "11050161360000000123",
		PayerBank: "中国建设银行北京西城支行", Amount: dec("100000.00"), Currency: "CNY", Memo: "保证金 标段 A-01"},
	{Line: 69, BankTxnID: "B20240305000002", ValueTime: time.Date(2024, 3, 5, 14, 2, 9, 0, shanghai),
		VirtualAccount: "6217008800000000421", PayerName: `北京"宏达"建设有限公司`, PayerAccount: "0200001234567890123",
		Amount: dec("200000.50"), Currency: "CNY", Memo: "投标保证金"},
	{Line: 146, BankTxnID: "B20240306000004", ValueTime: time.Date(2024, 3, 5, 23, 59, 59, 0, shanghai),
		VirtualAccount: "6217008800000000033", PayerName: "浙江省交通工程建设集团有限公司", PayerAccount: "33050161727000000456",
		Amount: dec("0.01"), Currency: "CNY", Memo: "测试"},
}

func TestCamt053(t *testing.T) {
	utf := readFixture(t, "camt053_ok.xml")
	gbk, err := simplifiedchinese.GBK.NewEncoder().Bytes(bytes.Replace(utf, []byte(`encoding="UTF-8"`), []byte(`encoding="GBK"`), 1))
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"UTF-8": utf, "GBK declared": gbk} {
		t.Run(name, func(t *testing.T) {
			got, c := readCamt(t, data)
			sameInflows(t, got, wantCamt)
			if c.Skipped() != 4 {
				t.Errorf("Skipped() = %d, want 4", c.Skipped())
			}
			n, problems := ValidateCamt053(bytes.NewReader(data))
			if n != 3 || len(problems) != 0 {
				t.Errorf("ValidateCamt053 = %d, %v", n, problems)
			}
		})
	}
}

func TestCamt053Version08(t *testing.T) {
	got, _ := readCamt(t, readFixture(t, "camt053_v08.xml"))
	sameInflows(t, got, []Inflow{{Line: 8, BankTxnID: "I20240307000777",
		ValueTime: time.Date(2024, 3, 7, 10, 30, 0, 0, shanghai), VirtualAccount: "6217008800000000041",
		PayerName: "中铁某局集团有限公司", PayerAccount: "0200001009014412345", PayerBank: "ICBKCNBJXXX",
		Amount: dec("800000.00"), Currency: "CNY"}})
}

// camtDoc wraps entries in a minimal camt.053.001.02 document; each entry
// starts on its own line, entry i on line 4+i when entries are one line each.
func camtDoc(entries ...string) string {
	return `<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>
<Stmt><Id>S</Id>
` + strings.Join(entries, "\n") + "\n</Stmt></BkToCstmrStmt></Document>\n"
}

// camtEntryXML is one credit entry on one line, with fields overridable.
func camtEntryXML(kv ...string) string {
	f := map[string]string{
		"amt": `<Amt Ccy="CNY">100.00</Amt>`, "ind": "CRDT", "date": "<Dt>2024-03-05</Dt>",
		"ref": "<Refs><AcctSvcrRef>T1</AcctSvcrRef></Refs>", "dbtr": "<Dbtr><Nm>甲公司</Nm></Dbtr>",
		"dbtracct": "<DbtrAcct><Id><Othr><Id>1105</Id></Othr></Id></DbtrAcct>",
		"cdtracct": "<CdtrAcct><Id><Othr><Id>6217008800000000017</Id></Othr></Id></CdtrAcct>",
		"txamt":    "", "extra": "",
	}
	for i := 0; i+1 < len(kv); i += 2 {
		f[kv[i]] = kv[i+1]
	}
	return fmt.Sprintf(`<Ntry>%s<CdtDbtInd>%s</CdtDbtInd><Sts>BOOK</Sts><BookgDt>%s</BookgDt><NtryDtls><TxDtls>%s%s<RltdPties>%s%s%s</RltdPties></TxDtls>%s</NtryDtls></Ntry>`,
		f["amt"], f["ind"], f["date"], f["ref"], f["txamt"], f["dbtr"], f["dbtracct"], f["cdtracct"], f["extra"])
}

func TestCamt053EntryProblems(t *testing.T) {
	cases := []struct {
		name   string
		entry  string
		column string // "" = fine
	}{
		{"good", camtEntryXML(), ""},
		{"matching TxAmt", camtEntryXML("txamt", `<AmtDtls><TxAmt><Amt Ccy="CNY">100.00</Amt></TxAmt></AmtDtls>`), ""},
		{"three decimals", camtEntryXML("amt", `<Amt Ccy="CNY">100.001</Amt>`), "Amt"},
		{"negative", camtEntryXML("amt", `<Amt Ccy="CNY">-100.00</Amt>`), "Amt"},
		{"zero", camtEntryXML("amt", `<Amt Ccy="CNY">0</Amt>`), "Amt"},
		{"foreign currency", camtEntryXML("amt", `<Amt Ccy="USD">100.00</Amt>`), "Amt/@Ccy"},
		{"no currency", camtEntryXML("amt", `<Amt>100.00</Amt>`), "Amt/@Ccy"},
		{"TxAmt differs", camtEntryXML("txamt", `<AmtDtls><TxAmt><Amt Ccy="CNY">99.00</Amt></TxAmt></AmtDtls>`), "TxDtls/AmtDtls/TxAmt/Amt"},
		{"bad indicator", camtEntryXML("ind", "CREDIT"), "CdtDbtInd"},
		{"invalid date", camtEntryXML("date", "<Dt>2024-02-30</Dt>"), "BookgDt"},
		{"invalid datetime", camtEntryXML("date", "<DtTm>2024-03-05 10:00</DtTm>"), "BookgDt"},
		{"no date", camtEntryXML("date", ""), "BookgDt"},
		{"no txn id", camtEntryXML("ref", ""), "NtryDtls/TxDtls/Refs/AcctSvcrRef"},
		{"no payer name", camtEntryXML("dbtr", ""), "RltdPties/Dbtr/Nm"},
		{"no payer account", camtEntryXML("dbtracct", ""), "RltdPties/DbtrAcct/Id/Othr/Id"},
		{"no virtual account", camtEntryXML("cdtracct", ""), "RltdPties/CdtrAcct/Id/Othr/Id"},
		{"batch booking", camtEntryXML("extra", "<TxDtls><Refs><AcctSvcrRef>T2</AcctSvcrRef></Refs></TxDtls>"), "NtryDtls/TxDtls"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			doc := camtDoc(camtEntryXML("ref", "<Refs><AcctSvcrRef>T0</AcctSvcrRef></Refs>"), c.entry)
			n, problems := ValidateCamt053(strings.NewReader(doc))
			if c.column == "" {
				if n != 2 || len(problems) != 0 {
					t.Fatalf("got %d, %v; want 2 inflows", n, problems)
				}
				return
			}
			if n != 1 || len(problems) == 0 {
				t.Fatalf("got %d, %v; want 1 inflow and a problem", n, problems)
			}
			p := problems[0]
			if p.Entry != 2 || p.Line != 5 || p.Column != c.column {
				t.Errorf("problem %+v, want entry 2 line 5 column %q", p, c.column)
			}
			if !strings.HasPrefix(p.Error(), "第 2 笔分录（第 5 行）") {
				t.Errorf("Error() = %s", p.Error())
			}
		})
	}
}

func TestCamt053Duplicates(t *testing.T) {
	same := camtEntryXML()
	n, problems := ValidateCamt053(strings.NewReader(camtDoc(same, same)))
	if n != 1 || len(problems) != 0 {
		t.Errorf("identical re-send: %d, %v", n, problems)
	}
	n, problems = ValidateCamt053(strings.NewReader(camtDoc(same, camtEntryXML("amt", `<Amt Ccy="CNY">200.00</Amt>`))))
	if n != 1 || len(problems) != 1 || problems[0].Reason != "交易流水号 T1 与第 4 行的分录重复但内容不同" {
		t.Errorf("conflicting re-send: %d, %v", n, problems)
	}
}

func TestCamt053Document(t *testing.T) {
	cases := map[string]string{
		"empty":       "",
		"not XML":     "交易流水号,交易日期\n",
		"camt.054":    `<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.02"><BkToCstmrDbtCdtNtfctn/></Document>`,
		"other root":  `<BkToCstmrStmt/>`,
		"no Stmt":     `<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"></Document>`,
		"truncated":   camtDoc(camtEntryXML())[:300],
		"mismatched":  strings.Replace(camtDoc(camtEntryXML()), "</Stmt>", "</Stmtx>", 1),
		"bad charset": `<?xml version="1.0" encoding="Big5"?><Document><BkToCstmrStmt><Stmt/></BkToCstmrStmt></Document>`,
	}
	for name, doc := range cases {
		t.Run(name, func(t *testing.T) {
			n, problems := ValidateCamt053(strings.NewReader(doc))
			if len(problems) == 0 {
				t.Fatalf("got %d inflows and no problem", n)
			}
			t.Log(problems[0].Error())
		})
	}
	// A statement with no entries is valid and empty.
	if n, problems := ValidateCamt053(strings.NewReader(camtDoc())); n != 0 || len(problems) != 0 {
		t.Errorf("empty statement: %d, %v", n, problems)
	}
	// Next after a fatal XML error ends instead of repeating it.
	c, err := NewCamt053Reader(strings.NewReader(cases["truncated"]))
	if err != nil {
		t.Fatal(err)
	}
	var le *LineError
	if _, err := c.Next(); !errors.As(err, &le) {
		t.Fatalf("Next() = %v, want *LineError", err)
	}
	if _, err := c.Next(); err != io.EOF {
		t.Fatalf("second Next() = %v, want io.EOF", err)
	}
}

// genCamt streams a camt.053 document of n entries.
type genCamt struct {
	n, i int
	buf  []byte
}

func (g *genCamt) Read(p []byte) (int, error) {
	for len(g.buf) == 0 {
		switch {
		case g.i == 0:
			g.buf = []byte(`<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt><Stmt>` + "\n")
		case g.i <= g.n:
			g.buf = append(g.buf[:0], camtEntryXML("ref", fmt.Sprintf("<Refs><AcctSvcrRef>T%d</AcctSvcrRef></Refs>", g.i))...)
			g.buf = append(g.buf, '\n')
		case g.i == g.n+1:
			g.buf = []byte("</Stmt></BkToCstmrStmt></Document>\n")
		default:
			return 0, io.EOF
		}
		g.i++
	}
	n := copy(p, g.buf)
	g.buf = g.buf[n:]
	return n, nil
}

func TestCamt053Large(t *testing.T) {
	entries := 50_000
	if raceEnabled {
		entries = 5_000 // the race detector makes each entry ~10x slower
	}
	n, problems := ValidateCamt053(&genCamt{n: entries})
	if n != entries || len(problems) != 0 {
		t.Fatalf("got %d, %v", n, problems)
	}
}

func FuzzCamt053(f *testing.F) {
	f.Add(readFixture(f, "camt053_ok.xml"))
	f.Add(readFixture(f, "camt053_v08.xml"))
	f.Add([]byte(camtDoc(camtEntryXML(), camtEntryXML("amt", `<Amt Ccy="CNY">1.001</Amt>`))))
	f.Fuzz(func(t *testing.T, data []byte) {
		n, problems := ValidateCamt053(bytes.NewReader(data))
		if len(problems) > MaxProblems+1 {
			t.Fatalf("%d problems listed", len(problems))
		}
		c, err := NewCamt053Reader(bytes.NewReader(data))
		if err != nil {
			if len(problems) == 0 {
				t.Fatalf("reader refused (%v) what validation passed", err)
			}
			return
		}
		got := 0
		for i := 0; ; i++ {
			in, err := c.Next()
			if err == io.EOF {
				break
			}
			if i > len(data)+1 {
				t.Fatal("Next does not reach EOF")
			}
			if err != nil {
				if len(problems) == 0 {
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
