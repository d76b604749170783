package trading

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"
)

// Request helpers of the web kit, shared by every package's handlers:
// path ids, pagers, and the error a form shows on itself.

// IDParam is the path parameter :id, a positive integer (else 400 naming "id").
func IDParam(c echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id < 1 {
		return 0, Invalid("id", "编号须为正整数")
	}
	return id, nil
}

// FormError is the error to show on the form itself (a 4xx other than
// 403/404), or nil: anything else goes to the central error handler.
func FormError(err error) *Error {
	var de *Error
	if errors.As(err, &de) && de.Status() < 500 && de.Status() != http.StatusNotFound && de.Status() != http.StatusForbidden {
		return de
	}
	return nil
}

// QueryInt is the integer query parameter name, def when absent, else
// between lo and hi (else 400 naming it).
func QueryInt(c echo.Context, name string, lo, hi, def int) (int, error) {
	s := c.QueryParam(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, Invalid(name, "须为%d至%d的整数", lo, hi)
	}
	return n, nil
}

// Pager links to the previous and next pages of a list. A pager of
// numbered pages (PagesPager) also has the total and the page numbers.
type Pager struct {
	Page       int
	Prev, Next string
	Counted    bool // Total, Pages and Numbers are set
	Total      int64
	Capped     bool // more matched than were counted: "Total 条以上"
	Pages      int
	Numbers    []PageLink
}

// PageLink is one page number of a pager; Gap stands for the pages left out.
type PageLink struct {
	Number  int
	URL     string
	Current bool
	Gap     bool
}

// PagesPager is NumberedPager with the total count and the page numbers:
// the first, the last, and two either side of this one, with gaps between.
func PagesPager(c echo.Context, page, perPage int, total int64) Pager {
	pager := NumberedPager(c, page, perPage, total)
	pager.Counted, pager.Total = true, total
	pager.Pages = int((total + int64(perPage) - 1) / int64(perPage))
	last := 0
	for n := 1; n <= pager.Pages; n++ {
		if n != 1 && n != pager.Pages && (n < page-2 || n > page+2) {
			continue
		}
		if last != 0 && n > last+1 {
			pager.Numbers = append(pager.Numbers, PageLink{Gap: true})
		}
		pager.Numbers = append(pager.Numbers, PageLink{Number: n, URL: PageURL(c, "page", strconv.Itoa(n)), Current: n == page})
		last = n
	}
	return pager
}

// PageParam is the query parameter page, 1 when absent (else 400 naming "page").
func PageParam(c echo.Context) (int, error) {
	s := c.QueryParam("page")
	if s == "" {
		return 1, nil
	}
	p, err := strconv.Atoi(s)
	if err != nil || p < 1 || p > 100000 {
		return 0, Invalid("page", "页码须为正整数")
	}
	return p, nil
}

// NumberedPager links page-1 and page+1 of a list of total items shown
// perPage at a time.
func NumberedPager(c echo.Context, page, perPage int, total int64) Pager {
	pager := Pager{Page: page}
	if page > 1 {
		pager.Prev = PageURL(c, "page", strconv.Itoa(page-1))
	}
	if int64(page*perPage) < total {
		pager.Next = PageURL(c, "page", strconv.Itoa(page+1))
	}
	return pager
}

// CursorPager links a keyset-paged list: the first page (the request
// without its cursor) when this is not the first, and the page after
// cursor next when there is one ("" when there is not).
func CursorPager(c echo.Context, key string, notFirst bool, next string) Pager {
	pager := Pager{Page: 1}
	if notFirst {
		q := c.Request().URL.Query()
		q.Del(key)
		pager.Prev = c.Request().URL.Path + "?" + q.Encode()
	}
	if next != "" {
		pager.Next = PageURL(c, key, next)
	}
	return pager
}

// PageURL is the request's URL with one query parameter set (pager links).
func PageURL(c echo.Context, key, value string) string {
	q := c.Request().URL.Query()
	q.Set(key, value)
	return c.Request().URL.Path + "?" + q.Encode()
}
