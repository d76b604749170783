package trading

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/ggzy/ggzy/trading/calendar"
	"github.com/ggzy/ggzy/trading/rules"
)

// CalendarRoutes registers the administrator's working-day calendar page
// and the public rule book page (规则库).
func (w *Web) CalendarRoutes(e *echo.Echo) {
	e.GET("/admin/calendar", w.calendarPage, RequireRole(RoleAdmin))
	e.POST("/admin/calendar", w.calendarSave, RequireRole(RoleAdmin))
	e.GET("/rules", w.rulesPage)
}

// calendarYearView is one year on the page; Text and Error are the
// submitted text and its error when a save of this year was refused.
type calendarYearView struct {
	CalendarYear
	Text  string
	Error *Error
}

type calendarPageData struct {
	Years   []calendarYearView
	Missing []int
	// The "add a year" form: prefilled with the first missing year, or what
	// was submitted for a year not yet loaded.
	AddYear  string
	AddCSV   string
	AddError *Error
}

const calendarCSVTemplate = "date,kind,holiday\n"

func (w *Web) calendarPage(c echo.Context) error {
	return w.renderCalendar(c, http.StatusOK, "", "", nil)
}

// renderCalendar shows the page; year/text/formErr carry a refused save.
func (w *Web) renderCalendar(c echo.Context, status int, year, text string, formErr *Error) error {
	ctx := c.Request().Context()
	years, err := w.Svc.CalendarYears(ctx)
	if err != nil {
		return err
	}
	d := calendarPageData{Missing: w.Svc.MissingCalendarYears(w.Svc.Clock.Now())}
	placed := false
	for _, y := range years {
		v := calendarYearView{CalendarYear: y, Text: y.CSV}
		if formErr != nil && year == strconv.Itoa(y.Year) {
			v.Text, v.Error, placed = text, formErr, true
		}
		d.Years = append(d.Years, v)
	}
	switch {
	case formErr != nil && !placed:
		d.AddYear, d.AddCSV, d.AddError = year, text, formErr
	case len(d.Missing) > 0:
		d.AddYear, d.AddCSV = strconv.Itoa(d.Missing[0]), calendarCSVTemplate
	default:
		d.AddCSV = calendarCSVTemplate
	}
	return w.Page(c, status, "admin_calendar", "工作日历维护", d)
}

func (w *Web) calendarSave(c echo.Context) error {
	yearText := strings.TrimSpace(c.FormValue("year"))
	text := c.FormValue("csv")
	year, err := strconv.Atoi(yearText)
	if err != nil {
		err = Invalid("year", "年份须为四位数字，如 2027")
	} else {
		err = w.Svc.SaveCalendarYear(c.Request().Context(), ActorOf(c), year, text)
	}
	var de *Error
	if errors.As(err, &de) && de.Status() < 500 {
		return w.renderCalendar(c, de.Status(), yearText, text, de)
	}
	if err != nil {
		return err
	}
	Flash(c, fmt.Sprintf("已保存%d年工作日历，即时生效。", year))
	return c.Redirect(http.StatusSeeOther, "/admin/calendar")
}

// ruleRow is one line of the rule book table.
type ruleRow struct {
	rules.RuleInfo
	CategoryName   string
	ConfidenceName string
}

type ruleGroup struct {
	Category rules.Category
	Name     string
	Rules    []ruleRow
}

type categoryOption struct{ Value, Name string }

// provisionalYearView is a provisional year on /rules.
type provisionalYearView struct {
	Year int
	Days []calendar.Day
}

var confidenceNames = map[string]string{
	"R": "R 法规原文",
	"S": "S 二手来源",
	"C": "C 待核实",
}

// rulesPage shows the rule book in force (统一交易规则), grouped by
// category, optionally filtered to one, and the working-day calendar.
func (w *Web) rulesPage(c echo.Context) error {
	cat := rules.Category(c.QueryParam("category"))
	if cat != "" && !cat.Valid() {
		return Invalid("category", "交易类别须为%s", CategoryChoices())
	}
	ctx := c.Request().Context()
	book, err := w.Svc.RuleBook(ctx)
	if err != nil {
		return err
	}
	years, err := w.Svc.CalendarYears(ctx)
	if err != nil {
		return err
	}
	var groups []ruleGroup
	var options []categoryOption
	for _, k := range rules.Categories {
		options = append(options, categoryOption{string(k), k.Name()})
		if cat != "" && k != cat {
			continue
		}
		g := ruleGroup{Category: k, Name: k.Name()}
		for _, r := range book.Table() {
			if r.Category == k {
				g.Rules = append(g.Rules, ruleRow{RuleInfo: r, CategoryName: k.Name(), ConfidenceName: confidenceNames[r.Confidence]})
			}
		}
		groups = append(groups, g)
	}
	missing := w.Svc.MissingCalendarYears(w.Svc.Clock.Now())
	// The provisional years stand in for the missing ones: shown day by
	// day, marked as such.
	var provisional []provisionalYearView
	for _, y := range missing {
		days, err := calendar.ProvisionalDays(y)
		if err != nil {
			continue
		}
		provisional = append(provisional, provisionalYearView{Year: y, Days: days})
	}
	return w.Page(c, http.StatusOK, "rules", "交易规则库", map[string]any{
		"Groups": groups, "Category": string(cat), "Categories": options,
		"Years": years, "Missing": missing, "Provisional": provisional,
		"Warnings": book.Warnings()})
}
