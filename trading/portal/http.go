package portal

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/ggzy/ggzy/trading"

	"github.com/labstack/echo/v4"
)

// Handlers serve the public portal. Cache is the anonymous micro-cache
// of its pages (nil: off).
type Handlers struct {
	*trading.Web
	Cache *PageCache
}

// Routes registers the public portal (no login): home, the announcement
// list and detail, project pages, Atom feeds, and the public API.
func (w *Handlers) Routes(e *echo.Echo, api *echo.Group) {
	cache := w.Cache.Middleware
	e.GET("/", w.portalHome, cache)
	e.GET("/notices", w.announcementList, cache)
	e.GET("/notices/:id", w.announcementShow, w.Cache.Versioned(w.announcementVersion))
	e.GET("/projects/:code", w.publicProject, w.Cache.Versioned(w.projectVersion))
	e.GET("/feeds/:file", w.feed, cache)
	api.GET("/announcements", w.apiAnnouncements, cache)
	api.GET("/announcements/:id", w.apiPublicAnnouncement, w.Cache.Versioned(w.announcementVersion))
	api.GET("/projects/:code/ocds", w.apiOCDS, cache)
	api.GET("/projects/:code/ocds/record", w.apiOCDSRecord, cache)
}

// projectVersionSQL names everything a public announcement or project page is
// rendered from that can change after publication: the project's announcements
// (a new one moves the newest published_seq; amendments change the lots
// only then), its status and suspension, and the agent's name.
const projectVersionSQL = `SELECT p.id || '/' || p.status || '/' || coalesce(extract(epoch FROM p.suspended_at)::text, '-') || '/' ||
	coalesce(p.suspend_reason, '') || '/' ||
	coalesce((SELECT max(x.published_seq) FROM announcements x WHERE x.project_id = p.id AND x.status = 'published'), 0) || '/' ||
	extract(epoch FROM ag.updated_at)::text
	FROM projects p JOIN accounts ag ON ag.id = p.agent_id `

// announcementVersion is the version of a published announcement's page ("" when
// there is no such announcement: rendered, and answered 404, every time).
func (w *Handlers) announcementVersion(c echo.Context) (string, error) {
	id, err := trading.IDParam(c)
	if err != nil {
		return "", nil
	}
	var v string
	err = w.Svc.DB.WithContext(c.Request().Context()).Raw(projectVersionSQL+
		`WHERE p.id = (SELECT a.project_id FROM announcements a WHERE a.id = ? AND a.status = 'published')`, id).Scan(&v).Error
	return v, err
}

// projectVersion is the version of a public project page.
func (w *Handlers) projectVersion(c echo.Context) (string, error) {
	var v string
	err := w.Svc.DB.WithContext(c.Request().Context()).Raw(projectVersionSQL+`WHERE p.code = ? AND p.status <> 'draft'`, c.Param("code")).Scan(&v).Error
	return v, err
}

func (w *Handlers) portalHome(c echo.Context) error {
	ctx := c.Request().Context()
	latest, err := Latest(ctx, w.Svc, 8)
	if err != nil {
		return err
	}
	cal, err := WeekCalendar(ctx, w.Svc)
	if err != nil {
		return err
	}
	figures, err := YearFigures(ctx, w.Svc)
	if err != nil {
		return err
	}
	type section struct {
		Category      trading.Category
		Name          string
		Announcements []ListedAnnouncement
	}
	var sections []section
	for _, cat := range trading.Categories() {
		sections = append(sections, section{cat, cat.Name(), latest[cat]})
	}
	return w.Page(c, http.StatusOK, "home", "首页", map[string]any{"Sections": sections, "Calendar": cal, "Figures": figures})
}

// announcementList is the portal's announcement list: numbered pages with the
// total, each announcement with its project's status and deadline.
func (w *Handlers) announcementList(c echo.Context) error {
	// The page goes by number: an old link's cursor (or after) is ignored.
	f, err := ParseFilter(func(k string) string {
		if k == "cursor" || k == "after" {
			return ""
		}
		return c.QueryParam(k)
	})
	if err != nil {
		return err
	}
	f.Page = max(f.Page, 1)
	ctx := c.Request().Context()
	pg, err := List(ctx, w.Svc, f)
	if err != nil {
		return err
	}
	regions, err := w.Svc.Regions(ctx)
	if err != nil {
		return err
	}
	var types []trading.Option
	for _, t := range trading.AnnouncementTypes {
		types = append(types, trading.Option{Value: string(t), Name: t.Name()})
	}
	pager := trading.PagesPager(c, f.Page, f.Limit, pg.Total)
	pager.Capped = pg.Capped
	return w.Page(c, http.StatusOK, "announcements", "交易公告", map[string]any{
		"Announcements": pg.Announcements, "Total": pg.Total, "Capped": pg.Capped, "Filter": f, "Query": c.QueryParams(),
		"Pager": pager, "Regions": trading.RegionTree(regions),
		"Categories": trading.CategoryOptions(), "SubTypes": trading.SubTypeGroups(), "Types": types, "Statuses": statusOptions()})
}

func (w *Handlers) announcementShow(c echo.Context) error {
	id, err := trading.IDParam(c)
	if err != nil {
		return err
	}
	n, err := AnnouncementByID(c.Request().Context(), w.Svc, id)
	if err != nil {
		return err
	}
	return w.Page(c, http.StatusOK, "announcement", n.Announcement.Title, n)
}

func (w *Handlers) publicProject(c echo.Context) error {
	p, chain, err := ProjectByCode(c.Request().Context(), w.Svc, c.Param("code"))
	if err != nil {
		return err
	}
	return w.Page(c, http.StatusOK, "public_project", p.Title, map[string]any{"Project": p, "Chain": chain})
}

// apiAnnouncements pages by cursor (next_cursor) or, with ?page=, by
// number with the total; after= is the incremental sync.
func (w *Handlers) apiAnnouncements(c echo.Context) error {
	f, err := ParseFilter(c.QueryParam)
	if err != nil {
		return err
	}
	pg, err := List(c.Request().Context(), w.Svc, f)
	if err != nil {
		return err
	}
	items := pg.Announcements
	if items == nil {
		items = []ListedAnnouncement{}
	}
	out := map[string]any{"items": items}
	if pg.Next != "" {
		out["next_cursor"] = pg.Next
	}
	if f.Page > 0 {
		out["page"], out["total"] = f.Page, pg.Total
		if pg.Capped {
			out["total_capped"] = true
		}
	}
	return c.JSON(http.StatusOK, out)
}

func (w *Handlers) apiPublicAnnouncement(c echo.Context) error {
	id, err := trading.IDParam(c)
	if err != nil {
		return err
	}
	n, err := AnnouncementByID(c.Request().Context(), w.Svc, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"announcement": n.Announcement, "project": n.Project, "chain": n.Chain})
}

// baseURL is where this request reached the platform.
func baseURL(c echo.Context) string { return c.Scheme() + "://" + c.Request().Host }

func (w *Handlers) apiOCDS(c echo.Context) error {
	pkg, err := w.ocdsPackage(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, pkg)
}

// apiOCDSRecord serves the compiled record of a project (issue 13 item 20).
func (w *Handlers) apiOCDSRecord(c echo.Context) error {
	pkg, err := w.ocdsPackage(c)
	if err != nil {
		return err
	}
	rec, err := OCDSRecordPackage(pkg, pkg.URI+"/record")
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, rec)
}

// ocdsPackage is the release package of the project named in the path.
func (w *Handlers) ocdsPackage(c echo.Context) (*ReleasePackage, error) {
	ctx := c.Request().Context()
	p, err := trading.LoadProject(w.Svc.DB.WithContext(ctx), "code = ?", c.Param("code"))
	if err != nil {
		return nil, err
	}
	var announcements []trading.Announcement
	if err := w.Svc.DB.WithContext(ctx).Where("project_id = ? AND status = ?", p.ID, trading.AnnouncementPublished).
		Order("published_seq").Find(&announcements).Error; err != nil {
		return nil, err
	}
	if len(announcements) == 0 {
		return nil, trading.NotFound("交易项目") // drafts are not public
	}
	var awards []trading.LotAward
	if w.Svc.LotAwards != nil {
		if awards, err = w.Svc.LotAwards(ctx, p.ID); err != nil {
			return nil, err
		}
	}
	return OCDSPackageWithAwards(p, announcements, awards, w.Svc.OCIDPrefix, baseURL(c), w.Svc.Clock.Now())
}

// Atom feed of a category (RFC 4287).
type atomFeed struct {
	XMLName xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	Title   string      `xml:"title"`
	ID      string      `xml:"id"`
	Updated string      `xml:"updated"`
	Link    []atomLink  `xml:"link"`
	Author  atomAuthor  `xml:"author"`
	Entries []atomEntry `xml:"entry"`
}

type atomLink struct {
	Href string `xml:"href,attr"`
	Rel  string `xml:"rel,attr,omitempty"`
	Type string `xml:"type,attr,omitempty"`
}

type atomAuthor struct {
	Name string `xml:"name"`
}

type atomEntry struct {
	Title    string   `xml:"title"`
	ID       string   `xml:"id"`
	Updated  string   `xml:"updated"`
	Link     atomLink `xml:"link"`
	Category struct {
		Term  string `xml:"term,attr"`
		Label string `xml:"label,attr"`
	} `xml:"category"`
	Summary string `xml:"summary"`
}

func (w *Handlers) feed(c echo.Context) error {
	name, ok := strings.CutSuffix(c.Param("file"), ".atom")
	cat := trading.Category(name)
	if !ok || !cat.Valid() {
		return trading.NotFound("订阅源")
	}
	list, _, err := Announcements(c.Request().Context(), w.Svc, Filter{Category: cat, Limit: 50})
	if err != nil {
		return err
	}
	base := baseURL(c)
	f := atomFeed{Title: cat.Name() + "公告 · 公共资源交易平台", ID: base + "/feeds/" + name + ".atom",
		Updated: w.Svc.Clock.Now().UTC().Format(time.RFC3339), Author: atomAuthor{Name: "公共资源交易平台"},
		Link: []atomLink{{Href: base + "/feeds/" + name + ".atom", Rel: "self", Type: "application/atom+xml"},
			{Href: base + "/notices?category=" + name, Rel: "alternate", Type: "text/html"}}}
	if len(list) > 0 {
		f.Updated = list[0].PublishedAt.UTC().Format(time.RFC3339)
	}
	for _, n := range list {
		e := atomEntry{Title: n.Title, ID: fmt.Sprintf("%s/notices/%d", base, n.ID), Updated: n.PublishedAt.UTC().Format(time.RFC3339),
			Link:    atomLink{Href: fmt.Sprintf("%s/notices/%d", base, n.ID), Rel: "alternate", Type: "text/html"},
			Summary: fmt.Sprintf("%s · %s · 项目 %s", n.TypeName, n.RegionName, n.ProjectCode)}
		e.Category.Term, e.Category.Label = string(n.Type), n.TypeName
		f.Entries = append(f.Entries, e)
	}
	b, err := xml.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	return c.Blob(http.StatusOK, "application/atom+xml; charset=utf-8", append([]byte(xml.Header), b...))
}
