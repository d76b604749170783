package trading

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/ggzy/ggzy/templates"
)

// A running project whose every lot has an outcome reads 已完成, not 进行中,
// on the list (and its filter finds it) and on its own page.
func TestFinishedProjectSays已完成(t *testing.T) {
	t.Parallel()
	s, _ := newTestService(t)
	ctx := context.Background()
	agent := mustAccount(t, s, RoleAgent, "agent1")
	sup := mustAccount(t, s, RoleSupervisor, "sup1")
	done, _ := publishedProject(t, s, agent, sup, "engineering", "已完成的招标公告")
	running, _ := publishedProject(t, s, agent, sup, "procurement", "进行中的采购公告")

	base, result := decimal.RequireFromString("12000000.00"), decimal.RequireFromString("11500000.00")
	lot := done.Lots[0]
	if err := s.DB.Create(&LotOutcome{LotID: lot.ID, ProjectID: done.ID, Category: done.Category, RegionCode: done.RegionCode,
		Status: OutcomeCompleted, Base: &base, Result: &result, DecidedOn: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC),
		UpdatedAt: time.Now()}).Error; err != nil {
		t.Fatal(err)
	}

	got, err := s.Project(ctx, sup, done.Code)
	if err != nil || !got.Finished || got.StatusName() != "已完成" {
		t.Fatalf("finished project: finished=%v status=%q err=%v", got != nil && got.Finished, got.StatusName(), err)
	}
	if got, err := s.Project(ctx, sup, running.Code); err != nil || got.Finished || got.StatusName() != "进行中" {
		t.Fatalf("running project: %+v %v", got, err)
	}
	codes := func(st ProjectStatus) []string {
		list, _, err := s.ListProjects(ctx, sup, ProjectFilter{Status: st})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, p := range list {
			out = append(out, p.Code+"="+p.StatusName())
		}
		return out
	}
	if c := codes(ProjectCompleted); len(c) != 1 || c[0] != done.Code+"=已完成" {
		t.Errorf("filter 已完成 = %v", c)
	}
	if c := codes(ProjectActive); len(c) != 1 || c[0] != running.Code+"=进行中" {
		t.Errorf("filter 进行中 = %v", c)
	}
	if c := codes(""); len(c) != 2 {
		t.Errorf("no filter = %v", c)
	}
}

// The project list's filters keep what was chosen.
func TestProjectListFilterKeepsItsSelection(t *testing.T) {
	t.Parallel()
	r, err := templates.New(TemplateFuncs())
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	err = r.Render(&buf, "projects", templates.Page{Title: "交易项目", User: &templates.User{Role: "supervisor"},
		Data: map[string]any{"Projects": []Project{{Code: "GC1", Status: ProjectActive, Finished: true}}, "Total": 1,
			"Pager": Pager{Page: 1}, "Base": "/supervisor/projects",
			"Filter":     ProjectFilter{Category: "engineering", Status: ProjectCompleted},
			"Categories": CategoryOptions(), "Statuses": projectStatusOptions()}})
	out := buf.String()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`<option value="completed" selected>已完成</option>`, `<option value="engineering" selected>`,
		`<td>已完成</td>`} {
		if !strings.Contains(out, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	if strings.Count(out, " selected") != 2 {
		t.Errorf("want 2 selected options, page has %d", strings.Count(out, " selected"))
	}
}
