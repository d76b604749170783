package deposits

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"strings"

	"golang.org/x/text/encoding/simplifiedchinese"
)

// BankFileEncoding is how the refund instruction file is written for the
// bank (GGZY_BANK_FILE_ENCODING): UTF-8 with a byte-order mark, which
// Chinese Excel needs to read it, or GBK for a bank system that expects it.
type BankFileEncoding string

const (
	EncodingUTF8 BankFileEncoding = "utf-8"
	EncodingGBK  BankFileEncoding = "gbk"
)

// ParseBankFileEncoding reads the setting: utf-8 (the default) or gbk.
func ParseBankFileEncoding(s string) (BankFileEncoding, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "utf-8", "utf8":
		return EncodingUTF8, nil
	case "gbk", "gb18030", "cp936":
		return EncodingGBK, nil
	}
	return "", fmt.Errorf("bank file encoding %q: use utf-8 or gbk", s)
}

// Charset names the encoding in a Content-Type header.
func (e BankFileEncoding) Charset() string {
	if e == EncodingGBK {
		return "GBK"
	}
	return "utf-8"
}

// neutralise keeps a spreadsheet from reading a cell as a formula: one
// that starts with = + - @, a tab or a carriage return gets the usual
// leading apostrophe (a payee named "=cmd|' /C calc'!A0" stays text).
func neutralise(cell string) string {
	if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
		return "'" + cell
	}
	return cell
}

// writeBankCSV writes rows as CSV for the bank: every cell neutralised,
// then encoded as enc says.
func writeBankCSV(rows [][]string, enc BankFileEncoding) ([]byte, error) {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.UseCRLF = true // what Excel and the banks' importers write
	for _, row := range rows {
		safe := make([]string, len(row))
		for i, c := range row {
			safe[i] = neutralise(c)
		}
		if err := w.Write(safe); err != nil {
			return nil, err
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return nil, err
	}
	if enc == EncodingGBK {
		// GB18030 is GBK for every character GBK has, and also encodes the
		// rare ones (a payee's name) that GBK lacks instead of failing.
		return simplifiedchinese.GB18030.NewEncoder().Bytes(buf.Bytes())
	}
	return append([]byte("\xef\xbb\xbf"), buf.Bytes()...), nil
}

// refundMemo is the memo of a refund on the bank's instruction and in the
// journal: Chinese, with the rule that returns the money. status is the
// refunded inflow's: an INVALID refund returns a late or a third-party
// payment.
func refundMemo(rule string, status InflowStatus) string {
	switch rule {
	case "D5":
		return "退还保证金（D5 合同签订）"
	case "D6":
		return "退还保证金（D6 撤回报名）"
	case "D8":
		return "退还保证金（D8 招标终止）"
	case "G6":
		return "退还保证金（G6 采购结果）"
	case "L5":
		return "退还保证金（L5 未竞得）"
	case "E7":
		return "退还保证金（E7 流标）"
	case "G10":
		return "退还保证金（G10 废标）"
	case "L10":
		return "退还保证金（L10 流拍）"
	case "FAILED":
		return "退还保证金（流标或未成交）"
	case "SUSPENSE":
		return "退回款项（无对应子账号）"
	case "INVALID":
		if status == InflowThirdParty || status == InflowReturned {
			return "退回款项（D2 非投标人账户缴纳）"
		}
		return "退回款项（截止后到账，缴纳无效）"
	}
	return "退还保证金（" + rule + "）"
}
