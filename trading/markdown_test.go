package trading

import (
	"errors"
	"math/rand/v2"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

func TestMarkdownConstructs(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"paragraphs", "第一段\n\n第二段", "<p>第一段</p>\n<p>第二段</p>\n"},
		{"line breaks", "一、项目名称\n二、招标范围 \n", "<p>一、项目名称<br>\n二、招标范围</p>\n"},
		{"crlf", "甲\r\n乙\r\n\r\n丙", "<p>甲<br>\n乙</p>\n<p>丙</p>\n"},
		{"full-width indent kept", "　　本项目已具备招标条件。", "<p>　　本项目已具备招标条件。</p>\n"},
		{"headings", "# 招标公告\n## 项目概况\n### 标段划分", "<h3>招标公告</h3>\n<h4>项目概况</h4>\n<h5>标段划分</h5>\n"},
		{"heading needs a space", "#标签", "<p>#标签</p>\n"},
		{"four hashes stay text", "#### 小节", "<p>#### 小节</p>\n"},
		{"unordered", "- 营业执照\n* 资质证书\n", "<ul>\n<li>营业执照</li>\n<li>资质证书</li>\n</ul>\n"},
		{"ordered", "1. 报名\n2. 缴纳保证金\n10. 开标", "<ol>\n<li>报名</li>\n<li>缴纳保证金</li>\n<li>开标</li>\n</ol>\n"},
		{"list ends a paragraph", "须提交：\n- 营业执照\n以上材料", "<p>须提交：</p>\n<ul>\n<li>营业执照</li>\n</ul>\n<p>以上材料</p>\n"},
		{"bold", "投标截止时间：**2026年3月23日9时30分**", "<p>投标截止时间：<strong>2026年3月23日9时30分</strong></p>\n"},
		{"unpaired bold", "a ** b", "<p>a ** b</p>\n"},
		{"empty bold", "****", "<p>****</p>\n"},
		{"bold in list", "- **注意**：逾期不予受理", "<ul>\n<li><strong>注意</strong>：逾期不予受理</li>\n</ul>\n"},
		{"table", "| 标段 | 控制价（元） |\n|---|---:|\n| 一标段 | **1,200,000.00** |\n| 二标段 | 800,000.00 |",
			"<table>\n<thead>\n<tr><th>标段</th><th>控制价（元）</th></tr>\n</thead>\n<tbody>\n" +
				"<tr><td>一标段</td><td><strong>1,200,000.00</strong></td></tr>\n<tr><td>二标段</td><td>800,000.00</td></tr>\n</tbody>\n</table>\n"},
		{"table pads and drops cells", "| a | b |\n| --- | --- |\n| 1 |\n| 1 | 2 | 3 |",
			"<table>\n<thead>\n<tr><th>a</th><th>b</th></tr>\n</thead>\n<tbody>\n<tr><td>1</td><td></td></tr>\n<tr><td>1</td><td>2</td></tr>\n</tbody>\n</table>\n"},
		{"table without body", "| a |\n|-|\n\n后文", "<table>\n<thead>\n<tr><th>a</th></tr>\n</thead>\n</table>\n<p>后文</p>\n"},
		{"pipes without separator", "| a | b |\n| 1 | 2 |", "<p>| a | b |<br>\n| 1 | 2 |</p>\n"},
		{"links stay text", "[点此](http://x) ![图](y.png) <http://z>", "<p>[点此](http://x) ![图](y.png) &lt;http://z&gt;</p>\n"},
		{"entities escaped", "A&B &lt; \"'", "<p>A&amp;B &amp;lt; &#34;&#39;</p>\n"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RenderMarkdown(tt.src); got != tt.want {
				t.Fatalf("RenderMarkdown(%q)\n got %q\nwant %q", tt.src, got, tt.want)
			}
			checkMarkdownInert(t, tt.src)
		})
	}
}

func TestMarkdownAttacksAreInert(t *testing.T) {
	attacks := []string{
		"<script>alert(1)</script>",
		"<img src=x onerror=alert(1)>",
		"javascript:alert(1)",
		`"><svg onload=alert(1)>`,
		"# <script>alert(1)</script>",
		"- <img src=x onerror=alert(1)>",
		"| <b onmouseover=alert(1)> | x |\n|---|---|\n| <iframe src=javascript:alert(1)> | y |",
		"**<script>**alert(1)**</script>**",
		"<scr<script>ipt>alert(1)</script>",
		"&lt;script&gt;alert(1)&lt;/script&gt;",
		"<a href=\"javascript:alert(1)\">x</a>",
		"<!-- x --><style>*{}</style>",
	}
	for _, a := range attacks {
		out := RenderMarkdown(a)
		checkMarkdownInert(t, a)
		if strings.Contains(strings.ToLower(out), "<script") || regexp.MustCompile(`<[^>]*onerror=`).MatchString(out) {
			t.Errorf("RenderMarkdown(%q) = %q is not inert", a, out)
		}
		if strings.Contains(a, "<script>") && !strings.Contains(out, "&lt;script&gt;") && !strings.Contains(a, "<scr<") {
			t.Errorf("RenderMarkdown(%q) = %q: the text should stay, escaped", a, out)
		}
	}
}

var mdTag = regexp.MustCompile(`^</?(p|br|h3|h4|h5|ul|ol|li|strong|table|thead|tbody|tr|th|td)>`)

// checkMarkdownInert asserts that every '<' of the output opens an allowed,
// attribute-free tag, that tags nest properly, and that no '>' or quote
// appears outside them: whatever the source, only our markup is markup.
func checkMarkdownInert(t testing.TB, src string) {
	t.Helper()
	out := RenderMarkdown(src)
	var stack []string
	for i := 0; i < len(out); i++ {
		switch out[i] {
		case '<':
			m := mdTag.FindStringSubmatch(out[i:])
			if m == nil {
				t.Fatalf("RenderMarkdown(%q) = %q: disallowed markup at %d", src, out, i)
			}
			switch name := m[1]; {
			case name == "br":
			case strings.HasPrefix(m[0], "</"):
				if len(stack) == 0 || stack[len(stack)-1] != name {
					t.Fatalf("RenderMarkdown(%q) = %q: </%s> closes %v", src, out, name, stack)
				}
				stack = stack[:len(stack)-1]
			default:
				stack = append(stack, name)
			}
			i += len(m[0]) - 1
		case '>', '"', '\'':
			t.Fatalf("RenderMarkdown(%q) = %q: unescaped %q at %d", src, out, out[i], i)
		}
	}
	if len(stack) != 0 {
		t.Fatalf("RenderMarkdown(%q) = %q: unclosed %v", src, out, stack)
	}
}

// A cheap stand-in for fuzzing in the ordinary test run: random strings
// over the characters the syntax and attacks are made of.
func TestMarkdownRandomInputsStayInert(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{"#", "# ", "-", "- ", "*", "**", "1. ", "|", "|---|", "\n", "\n\n", " ", "<", ">", "&", "\"", "'",
		"script", "onerror=", "a", "中", "\r", "\t", ":", "="}
	for n := 0; n < 3000; n++ {
		var b strings.Builder
		for k := r.IntN(40); k > 0; k-- {
			b.WriteString(alphabet[r.IntN(len(alphabet))])
		}
		checkMarkdownInert(t, b.String())
	}
}

func FuzzRenderMarkdown(f *testing.F) {
	for _, s := range []string{
		"# 招标公告\n\n一、**项目概况**\n- 甲\n- 乙\n1. 丙\n\n| a | b |\n|---|---|\n| 1 | 2 |",
		"<script>alert(1)</script>", "<img src=x onerror=alert(1)>", `"><svg onload=alert(1)>`,
		"javascript:alert(1)", "**a**b**", "|\n|-", "\xff\xfe<", "- \n1. \n# ",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		out := RenderMarkdown(src)
		if strings.Contains(strings.ToLower(out), "<script") {
			t.Fatalf("RenderMarkdown(%q) = %q contains <script", src, out)
		}
		checkMarkdownInert(t, src)
	})
}

func TestMarkdownValidateAnnouncementBody(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want string // "" = valid
	}{
		{"ok", "# 公告\r\n\t正文", ""},
		{"empty", "", "不能为空"},
		{"blank", " \n\t", "不能为空"},
		{"at the limit", strings.Repeat("中", maxAnnouncementBody), ""},
		{"too long", strings.Repeat("中", maxAnnouncementBody+1), "不得超过"},
		{"NUL", "正文\x00", "U+0000"},
		{"escape on line 2", "第一行\n\x1b[31m", "第2行"},
		{"C1 control", "x\u0085", "U+0085"},
		{"bad UTF-8", "\xff", "UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateAnnouncementBody(tt.src)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				return
			}
			var de *Error
			if !errors.As(err, &de) || de.Field != "body" || de.Status() != http.StatusBadRequest || !strings.Contains(de.Message, tt.want) {
				t.Fatalf("err = %v, want a 400 on body mentioning %q", err, tt.want)
			}
		})
	}
}
