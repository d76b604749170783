package sealed

import "errors"

// Explain gives the zh-CN message and the rule id to show for an error of
// this package (upload refusals, failed decryptions at the opening).
func Explain(err error) (rule, message string) {
	for _, e := range explanations {
		if errors.Is(err, e.err) {
			return e.rule, e.msg
		}
	}
	return "", "密封投标文件处理失败"
}

var explanations = []struct {
	err       error
	rule, msg string
}{
	{ErrNotEnvelope, "EB1", "投标文件未加密：平台只接收在浏览器中加密的投标文件"},
	{ErrUnsupportedSuite, "EB1", "投标文件的加密算法套件不受支持"},
	{ErrMalformed, "EB1", "投标文件格式不正确，不是完整的加密投标文件"},
	{ErrTruncated, "EB2", "投标文件不完整（传输未完成或被截断）"},
	{ErrTampered, "EB6", "投标文件校验失败：内容被篡改、缺失或顺序错乱"},
	{ErrKeyForOtherBid, "EB6", "提交的解密密钥属于另一份投标文件"},
	{ErrWrongKey, "EB6", "解密密钥不正确"},
	{ErrCommitment, "EB14", "解密后的内容与提交时的承诺值不一致"},
	{ErrPassphrase, "EB6", "投标密钥文件的口令不正确"},
	{ErrKeyFile, "EB6", "投标密钥文件无效"},
	{ErrSignature, "EB3", "回执签名无效"},
	{ErrReceipt, "EB3", "回执格式不正确"},
}
