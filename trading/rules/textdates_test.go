package rules

import (
	"strings"
	"testing"
	"time"
)

func TestWrittenDates(t *testing.T) {
	cases := []struct {
		text string
		want []string // Label() of each date found
	}{
		{"投标截止时间为12月15日。", []string{"12-15"}},
		{"投标截止时间：2026年12月15日", []string{"2026-12-15"}},
		{"开标时间：12月15日9时30分，地点：第一开标室", []string{"12-15 09:30"}},
		{"2026 年 12 月 28 日（星期一）上午 9:30", []string{"2026-12-28 09:30"}},
		{"２０２６年１２月２８日下午３时", []string{"2026-12-28 15:00"}},
		{"12月28日9点半开标", []string{"12-28 09:30"}},
		{"自3月3日起至3月10日17时止", []string{"03-03", "03-10 17:00"}},
		{"13月40日、2月30日、2026年2月29日都不是日期；2月29日可以是", []string{"02-29"}},
		{"没有日期，只有金额1200万元和第3标段", nil},
	}
	for _, c := range cases {
		got := WrittenDates(c.text)
		var labels []string
		for _, d := range got {
			labels = append(labels, d.Label())
		}
		if strings.Join(labels, ",") != strings.Join(c.want, ",") {
			t.Errorf("%q: got %v, want %v", c.text, labels, c.want)
		}
	}
}

func TestCheckWrittenDatesMismatch(t *testing.T) {
	sh, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Date(2026, 12, 28, 9, 30, 0, 0, sh)
	times := []NamedTime{{"标段1 投标截止时间", deadline}, {"标段1 文件发售截止时间", time.Date(2026, 12, 10, 17, 0, 0, 0, sh)}}
	// The incident: the text said 12月15日 for a deadline of 12-28.
	dates, notes := CheckWrittenDates("投标截止时间为2026年12月15日9时30分。文件发售至12月10日17时。", times, sh)
	if len(dates) != 2 || len(dates[0].Matches) != 0 || len(dates[1].Matches) != 1 || dates[1].Matches[0] != "标段1 文件发售截止时间" {
		t.Fatalf("dates %+v", dates)
	}
	if len(notes) != 1 || notes[0].Rule != RuleTextDate || notes[0].Kind != NoteWarning || !strings.Contains(notes[0].Message, "2026年12月15日9时30分") {
		t.Fatalf("notes %+v", notes)
	}
	// The right date, with or without year or time, matches; a wrong
	// time on the right day does not; the year counts when written.
	for text, ok := range map[string]bool{"12月28日": true, "2026年12月28日9时30分": true, "12月28日上午9:30": true,
		"12月28日10时": false, "2025年12月28日": false} {
		_, notes := CheckWrittenDates(text, times, sh)
		if (len(notes) == 0) != ok {
			t.Errorf("%q: notes %+v, want match %v", text, notes, ok)
		}
	}
}

func FuzzWrittenDates(f *testing.F) {
	for _, s := range []string{"12月15日", "2026年12月15日9时30分", "２０２６年１２月２８日下午３时", "99月99日99时99分", "月日时"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, d := range WrittenDates(s) {
			if d.Month < 1 || d.Month > 12 || d.Day < 1 || d.Day > 31 || d.Hour > 23 || d.Minute > 59 || d.Hour < -1 {
				t.Fatalf("%q: impossible %+v", s, d)
			}
		}
	})
}
