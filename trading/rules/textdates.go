package rules

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// RuleTextDate warns when a date written in an announcement's text matches none of
// the announcement's structured times (a body saying "12月15日" went out for a
// deadline of 12-28). A warning, not a refusal: an announcement's text names other
// dates too (the project's approval, a site visit, a question deadline), so
// a date the platform cannot place is not always wrong; but the supervisor
// must look, because bidders read the text, and the opening happens at the
// time the announcement announces (E6, EB4).
const RuleTextDate = "TXT"

// WrittenDate is a date (and perhaps a time) written in an announcement's text.
type WrittenDate struct {
	Text    string // as written, e.g. "12月15日9时30分"
	Year    int    // 0: not written
	Month   int
	Day     int
	Hour    int // -1: no time written
	Minute  int
	Matches []string // the structured times it matches, by name
}

// Label is the date as the platform reads it: "2026-12-15 09:30",
// "12-15" (no year), "2026-12-15".
func (d WrittenDate) Label() string {
	s := fmt.Sprintf("%02d-%02d", d.Month, d.Day)
	if d.Year != 0 {
		s = fmt.Sprintf("%d-%s", d.Year, s)
	}
	if d.Hour >= 0 {
		s += fmt.Sprintf(" %02d:%02d", d.Hour, d.Minute)
	}
	return s
}

// NamedTime is a structured time of an announcement: a lot's deadline, opening,
// listing close…, named for people ("标段1 投标截止时间").
type NamedTime struct {
	Name string
	At   time.Time
}

var writtenDate = regexp.MustCompile(`(?:(\d{4})\s*年\s*)?(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]` +
	`(?:\s*[（(]?\s*(?:星期|周)[一二三四五六日天]\s*[)）]?)?` +
	`(?:\s*(上午|下午|晚上|中午)?\s*(\d{1,2})\s*(?:[时点:：])\s*(?:(\d{1,2})\s*分?|整|半)?)?`)

// fullWidth turns full-width digits and colons into ASCII ones.
var fullWidth = strings.NewReplacer("０", "0", "１", "1", "２", "2", "３", "3", "４", "4", "５", "5", "６", "6", "７", "7", "８", "8", "９", "9", "：", ":")

// WrittenDates finds the dates written in text: "12月15日", "2026年12月15日",
// "12月15日9时30分", "2026年12月15日（星期二）下午3:00". Impossible dates
// (13月40日) are skipped. Chinese numerals (十二月十五日) are not read.
func WrittenDates(text string) []WrittenDate {
	text = fullWidth.Replace(text)
	var out []WrittenDate
	for _, m := range writtenDate.FindAllStringSubmatch(text, -1) {
		d := WrittenDate{Text: strings.TrimSpace(m[0]), Hour: -1}
		d.Year, _ = strconv.Atoi(m[1])
		d.Month, _ = strconv.Atoi(m[2])
		d.Day, _ = strconv.Atoi(m[3])
		if d.Month < 1 || d.Month > 12 || d.Day < 1 || d.Day > 31 {
			continue
		}
		y := d.Year
		if y == 0 {
			y = 2024 // a leap year: 2月29日 without a year is possible
		}
		if t := time.Date(y, time.Month(d.Month), d.Day, 0, 0, 0, 0, time.UTC); t.Day() != d.Day {
			continue
		}
		if m[5] != "" {
			h, _ := strconv.Atoi(m[5])
			mi, _ := strconv.Atoi(m[6])
			if strings.HasSuffix(m[0], "半") {
				mi = 30
			}
			if (m[4] == "下午" || m[4] == "晚上") && h < 12 {
				h += 12
			}
			if h <= 24 && mi < 60 {
				d.Hour, d.Minute = h%24, mi
			}
		}
		out = append(out, d)
	}
	return out
}

// matches: the same day (and year, if written), and the same hour and
// minute if a time is written.
func (d WrittenDate) matches(t time.Time, loc *time.Location) bool {
	t = t.In(loc)
	if int(t.Month()) != d.Month || t.Day() != d.Day || (d.Year != 0 && t.Year() != d.Year) {
		return false
	}
	return d.Hour < 0 || (t.Hour() == d.Hour && t.Minute() == d.Minute)
}

// CheckWrittenDates places each date written in text among the structured
// times (in loc, Asia/Shanghai): Matches names those it agrees with. Every
// date that matches none is a TXT warning.
func CheckWrittenDates(text string, times []NamedTime, loc *time.Location) ([]WrittenDate, []Note) {
	dates := WrittenDates(text)
	var notes []Note
	for i := range dates {
		d := &dates[i]
		for _, t := range times {
			if d.matches(t.At, loc) {
				d.Matches = append(d.Matches, t.Name)
			}
		}
		if len(d.Matches) == 0 {
			notes = append(notes, Note{Rule: RuleTextDate, Kind: NoteWarning, Source: findDef(RuleTextDate).source,
				Message: fmt.Sprintf("正文写明的日期“%s”（%s）与本公告的任何结构化时间都不符，请核对正文与时间安排是否一致", d.Text, d.Label())})
		}
	}
	return dates, notes
}
