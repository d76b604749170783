package bidding

import (
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/ggzy/ggzy/trading"
)

// letterRoutes: a letter's page (screen and print) and its issued PDF.
// Bidders read their own; the project's agent and supervisors any
// bidder's (?bidder=).
func (h *Handler) letterRoutes(e *echo.Echo) {
	who := trading.RequireRole(trading.RoleBidder, trading.RoleAgent, trading.RoleSupervisor)
	e.GET("/lots/:id/letters/:kind", h.letterPDF, who)
	e.GET("/lots/:id/letters/:kind/view", h.letterPage, who)
}

func (h *Handler) letterArgs(c echo.Context) (int64, LetterKind, int64, error) {
	id, err := trading.IDParam(c)
	if err != nil {
		return 0, "", 0, err
	}
	kind := LetterKind(c.Param("kind"))
	if kind.Name() == "" {
		return 0, "", 0, trading.NotFound("文书")
	}
	var bidder int64
	if b := c.QueryParam("bidder"); b != "" {
		if bidder, err = strconv.ParseInt(b, 10, 64); err != nil || bidder < 1 {
			return 0, "", 0, trading.Invalid("bidder", "投标人编号须为正整数")
		}
	}
	return id, kind, bidder, nil
}

func (h *Handler) letterPage(c echo.Context) error {
	id, kind, bidder, err := h.letterArgs(c)
	if err != nil {
		return err
	}
	l, err := h.Svc.LetterFor(c.Request().Context(), trading.ActorOf(c), id, kind, bidder)
	if err != nil {
		return err
	}
	return h.Web.Page(c, http.StatusOK, "letter", kind.Name(), l)
}

func (h *Handler) letterPDF(c echo.Context) error {
	id, kind, bidder, err := h.letterArgs(c)
	if err != nil {
		return err
	}
	d, body, err := h.Svc.LetterPDF(c.Request().Context(), trading.ActorOf(c), id, kind, bidder)
	if err != nil {
		return err
	}
	defer body.Close()
	name := kind.Name() + ".pdf"
	hd := c.Response().Header()
	hd.Set(echo.HeaderContentType, "application/pdf")
	hd.Set(echo.HeaderContentDisposition, "attachment; filename=\"letter.pdf\"; filename*=UTF-8''"+url.PathEscape(name))
	hd.Set(echo.HeaderContentLength, strconv.FormatInt(d.Size, 10))
	hd.Set("X-Content-SHA256", d.SHA256)
	hd.Set("X-Content-Type-Options", "nosniff")
	c.Response().WriteHeader(http.StatusOK)
	_, err = io.Copy(c.Response(), body)
	return err
}
