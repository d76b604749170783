package trading

import (
	"fmt"
	"html"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Announcement bodies (公告正文) are written in a small Markdown subset and
// stored with their HTML. The HTML is safe by construction: the whole source
// is escaped first, then only attribute-free tags from a fixed set are added
// around the escaped text (p, br, h3–h5, ul, ol, li, strong, table, thead,
// tbody, tr, th, td). There are no links, images or raw HTML; anything else
// stays as escaped text.

// maxAnnouncementBody is the longest body accepted, in characters.
const maxAnnouncementBody = 100000

// ValidateAnnouncementBody checks an announcement body before it is stored.
func ValidateAnnouncementBody(src string) error {
	if strings.TrimSpace(src) == "" {
		return Invalid("body", "公告正文不能为空")
	}
	if !utf8.ValidString(src) {
		return Invalid("body", "公告正文须为 UTF-8 文本")
	}
	if n := utf8.RuneCountInString(src); n > maxAnnouncementBody {
		return Invalid("body", "公告正文不得超过%d个字符（现有%d个）", maxAnnouncementBody, n)
	}
	line := 1
	for _, r := range src {
		switch {
		case r == '\n':
			line++
		case r == '\r' || r == '\t':
		case unicode.IsControl(r):
			return Invalid("body", "公告正文第%d行含有控制字符 U+%04X，请删除后重试", line, r)
		}
	}
	return nil
}

var (
	mdHeading   = regexp.MustCompile(`^(#{1,3})[ \t]+(\S.*?)[ \t]*$`)
	mdUnordered = regexp.MustCompile(`^[ \t]*[-*][ \t]+(.*)$`)
	mdOrdered   = regexp.MustCompile(`^[ \t]*[0-9]{1,9}\.[ \t]+(.*)$`)
	mdTableRow  = regexp.MustCompile(`^[ \t]*\|`)
	mdTableSep  = regexp.MustCompile(`^[ \t]*\|?[ \t]*:?-+:?[ \t]*(\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*$`)
)

// RenderMarkdown renders an announcement body as HTML (see above). It
// rejects nothing.
func RenderMarkdown(src string) string {
	src = strings.ToValidUTF8(src, "\uFFFD")
	src = strings.ReplaceAll(src, "\r\n", "\n")
	src = strings.ReplaceAll(src, "\r", "\n")
	lines := strings.Split(html.EscapeString(src), "\n")

	var b strings.Builder
	var para []string
	flush := func() {
		if len(para) > 0 {
			b.WriteString("<p>")
			for i, l := range para {
				if i > 0 {
					b.WriteString("<br>\n")
				}
				b.WriteString(mdInline(l))
			}
			b.WriteString("</p>\n")
			para = para[:0]
		}
	}
	for i := 0; i < len(lines); {
		line := lines[i]
		switch {
		case strings.TrimSpace(line) == "":
			flush()
			i++
		case mdHeading.MatchString(line):
			flush()
			m := mdHeading.FindStringSubmatch(line)
			tag := fmt.Sprintf("h%d", len(m[1])+2) // # → h3: the page's own h1/h2 stay above
			b.WriteString("<" + tag + ">" + mdInline(m[2]) + "</" + tag + ">\n")
			i++
		case mdUnordered.MatchString(line):
			flush()
			i = mdList(&b, lines, i, mdUnordered, "ul")
		case mdOrdered.MatchString(line):
			flush()
			i = mdList(&b, lines, i, mdOrdered, "ol")
		case mdTableRow.MatchString(line) && i+1 < len(lines) && mdTableSep.MatchString(lines[i+1]) &&
			strings.Contains(lines[i+1], "-") && strings.Contains(lines[i+1], "|"):
			flush()
			i = mdTable(&b, lines, i)
		default:
			para = append(para, strings.TrimRight(line, " \t"))
			i++
		}
	}
	flush()
	return b.String()
}

// mdList renders consecutive items matching re from lines[i] and returns
// the index of the first line after the list.
func mdList(b *strings.Builder, lines []string, i int, re *regexp.Regexp, tag string) int {
	b.WriteString("<" + tag + ">\n")
	for ; i < len(lines); i++ {
		m := re.FindStringSubmatch(lines[i])
		if m == nil {
			break
		}
		b.WriteString("<li>" + mdInline(strings.TrimRight(m[1], " \t")) + "</li>\n")
	}
	b.WriteString("</" + tag + ">\n")
	return i
}

// mdTable renders a header row, the separator, and the body rows that
// follow; body rows get exactly as many cells as the header.
func mdTable(b *strings.Builder, lines []string, i int) int {
	head := mdCells(lines[i])
	b.WriteString("<table>\n<thead>\n<tr>")
	for _, c := range head {
		b.WriteString("<th>" + mdInline(c) + "</th>")
	}
	b.WriteString("</tr>\n</thead>\n")
	i += 2
	body := false
	for ; i < len(lines) && mdTableRow.MatchString(lines[i]); i++ {
		if !body {
			b.WriteString("<tbody>\n")
			body = true
		}
		cells := mdCells(lines[i])
		b.WriteString("<tr>")
		for k := range head {
			c := ""
			if k < len(cells) {
				c = cells[k]
			}
			b.WriteString("<td>" + mdInline(c) + "</td>")
		}
		b.WriteString("</tr>\n")
	}
	if body {
		b.WriteString("</tbody>\n")
	}
	b.WriteString("</table>\n")
	return i
}

// mdCells splits "| a | b |" into ["a", "b"].
func mdCells(line string) []string {
	line = strings.TrimSpace(line)
	line = strings.TrimPrefix(line, "|")
	line = strings.TrimSuffix(line, "|")
	cells := strings.Split(line, "|")
	for k := range cells {
		cells[k] = strings.TrimSpace(cells[k])
	}
	return cells
}

// mdInline turns **x** into <strong>x</strong> within one line of escaped
// text; an unpaired ** stays as written.
func mdInline(s string) string {
	var b strings.Builder
	for {
		open := strings.Index(s, "**")
		if open < 0 {
			break
		}
		end := strings.Index(s[open+2:], "**")
		if end < 0 {
			break
		}
		inner := s[open+2 : open+2+end]
		if strings.TrimSpace(inner) == "" {
			// "****" or "** **": not emphasis; keep the first pair literal.
			b.WriteString(s[:open+2])
			s = s[open+2:]
			continue
		}
		b.WriteString(s[:open] + "<strong>" + inner + "</strong>")
		s = s[open+2+end+2:]
	}
	b.WriteString(s)
	return b.String()
}
