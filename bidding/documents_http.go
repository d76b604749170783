package bidding

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/ggzy/ggzy/trading"
)

// DocumentsHTTP serves tender documents: the agent's upload page, the
// streamed multipart uploads, the downloads, and their API.
type DocumentsHTTP struct {
	Svc *Service
	Web *trading.Web
}

// Routes registers the pages and the API of tender documents. The upload
// routes stream their bodies and enforce Service.MaxUpload themselves, so
// the global body limit must skip them.
func (h *DocumentsHTTP) Routes(e *echo.Echo, api *echo.Group) {
	e.GET("/agent/lots/:id/documents", h.page, trading.RequireRole(trading.RoleAgent))
	e.POST("/agent/lots/:id/documents", h.upload, trading.RequireRole(trading.RoleAgent))
	e.POST("/lots/:id/materials", h.uploadMaterial, trading.RequireRole(trading.RoleBidder))
	e.GET("/documents/:id", h.download, trading.RequireRole())

	api.GET("/lots/:id/documents", h.apiList)
	api.POST("/lots/:id/documents", h.apiUpload, trading.RequireRole(trading.RoleAgent, trading.RoleBidder))
	api.GET("/documents/:id/content", h.download, trading.RequireRole())
}

// formOverhead is what a multipart body may carry beyond the file itself:
// boundaries, part headers and the small text fields.
const formOverhead = 1 << 20

// wantsJSON tells the XMLHttpRequest upload (Accept: application/json)
// from a plain form post.
func wantsJSON(c echo.Context) bool {
	acc := c.Request().Header.Get(echo.HeaderAccept)
	return trading.IsAPI(c) || strings.Contains(acc, "application/json") && !strings.Contains(acc, "text/html")
}

// receive streams a multipart upload into Service.Upload. The small text
// parts (kind, replaces_id, _csrf) must come before the file part, which
// must be named "file" and is read last: it is handed to the service as it
// arrives, never parsed into memory or a temporary file. force, if set, is
// the kind whatever the form says.
func (h *DocumentsHTTP) receive(c echo.Context, lotID int64, force DocumentKind) (*Document, error) {
	req := c.Request()
	ctx, a := req.Context(), trading.ActorOf(c)
	if req.ContentLength > h.Svc.MaxUpload+formOverhead {
		return nil, tooLarge(h.Svc.MaxUpload)
	}
	in := UploadInput{Kind: DocTender}
	setField := func(name, value string) error {
		switch name {
		case "kind":
			if value != "" {
				in.Kind = DocumentKind(value)
			}
		case "replaces_id":
			if value == "" || value == "0" {
				return nil
			}
			id, err := strconv.ParseInt(value, 10, 64)
			if err != nil || id < 1 {
				return trading.Invalid("replaces_id", "被替代文件的编号须为正整数")
			}
			in.ReplacesID = id
		}
		return nil
	}
	finish := func(name string, body io.Reader, size int64) (*Document, error) {
		if force != "" {
			in.Kind = force
		}
		if name == "" {
			return nil, trading.Invalid("file", "请选择要上传的文件")
		}
		if err := trading.CheckText("file", name); err != nil { // the file name
			return nil, err
		}
		in.Filename = name
		return h.Svc.Upload(ctx, a, lotID, in, body, size)
	}

	// A middleware that looked for a form token has already parsed the body
	// (to a temporary file beyond 32 MB): use what it read.
	if req.MultipartForm != nil {
		for name, vs := range req.MultipartForm.Value {
			if len(vs) > 0 {
				if err := trading.CheckText(name, vs[0]); err != nil {
					return nil, err
				}
				if err := setField(name, vs[0]); err != nil {
					return nil, err
				}
			}
		}
		fhs := req.MultipartForm.File["file"]
		if len(fhs) == 0 {
			return nil, trading.Invalid("file", "请选择要上传的文件")
		}
		f, err := fhs[0].Open()
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return finish(fhs[0].Filename, f, fhs[0].Size)
	}

	mr, err := req.MultipartReader()
	if err != nil {
		return nil, trading.Invalid("body", "须以 multipart/form-data 上传，文件字段名为 file")
	}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return nil, trading.Invalid("file", "请选择要上传的文件")
		}
		if err != nil {
			return nil, interrupted(err)
		}
		if part.FormName() == "file" {
			return finish(part.FileName(), part, -1)
		}
		if err := readField(part, setField); err != nil {
			return nil, err
		}
	}
}

// readField reads a small text part (unknown ones are ignored).
func readField(part *multipart.Part, set func(name, value string) error) error {
	const maxField = 4 << 10
	b, err := io.ReadAll(io.LimitReader(part, maxField+1))
	if err != nil {
		return interrupted(err)
	}
	if len(b) > maxField {
		return trading.Invalid(part.FormName(), "字段过长；文件须放在名为 file 的字段中，且位于其他字段之后")
	}
	if err := trading.CheckText(part.FormName(), string(b)); err != nil {
		return err
	}
	return set(part.FormName(), strings.TrimSpace(string(b)))
}

// documentsPage is the agent's page.
type documentsPage struct {
	*LotDocuments
	Error  *trading.Error
	Kinds  []DocumentKind
	MaxMB  int64
	Accept string // the file input's accept list
}

func (h *DocumentsHTTP) renderPage(c echo.Context, status int, lotID int64, perr *trading.Error) error {
	ld, err := h.Svc.ManagedDocuments(c.Request().Context(), trading.ActorOf(c), lotID)
	if err != nil {
		return err
	}
	return h.Web.Page(c, status, "lot_documents", fmt.Sprintf("招标文件 · %s %s%d", ld.Project.Title, ld.Project.Category.LotNoun(), ld.Lot.Seq), documentsPage{
		LotDocuments: ld, Error: perr, Kinds: []DocumentKind{DocTender, DocDrawing, DocClarification},
		MaxMB: h.Svc.MaxUpload >> 20, Accept: strings.ReplaceAll(allowedList, " ", ",") + ",.jpeg"})
}

func (h *DocumentsHTTP) page(c echo.Context) error {
	id, err := trading.IDParam(c)
	if err != nil {
		return err
	}
	return h.renderPage(c, http.StatusOK, id, nil)
}

func uploadedMessage(d *Document) string {
	msg := fmt.Sprintf("已上传《%s》（第%d版，SHA-256 %s）。", d.Filename, d.Version, d.SHA256[:12])
	if d.Kind != DocMaterial {
		msg += "文件将随招标公告或下一份变更公告（澄清/修改）发布。"
	}
	return msg
}

func (h *DocumentsHTTP) upload(c echo.Context) error {
	id, err := trading.IDParam(c)
	if err != nil {
		return err
	}
	doc, err := h.receive(c, id, "")
	if err != nil {
		if de := trading.FormError(err); de != nil && !wantsJSON(c) {
			return h.renderPage(c, de.Status(), id, de)
		}
		return err
	}
	trading.Flash(c, uploadedMessage(doc))
	back := fmt.Sprintf("/agent/lots/%d/documents", id)
	if wantsJSON(c) {
		c.Response().Header().Set(echo.HeaderLocation, back)
		return c.JSON(http.StatusCreated, doc)
	}
	return c.Redirect(http.StatusSeeOther, back)
}

// uploadMaterial is a bidder's application material (竞买申请材料), shown
// on the lot page.
func (h *DocumentsHTTP) uploadMaterial(c echo.Context) error {
	id, err := trading.IDParam(c)
	if err != nil {
		return err
	}
	back := fmt.Sprintf("/lots/%d", id)
	doc, err := h.receive(c, id, DocMaterial)
	if err != nil {
		if de := trading.FormError(err); de != nil && !wantsJSON(c) {
			trading.Flash(c, "上传失败："+de.Message)
			return c.Redirect(http.StatusSeeOther, back)
		}
		return err
	}
	trading.Flash(c, uploadedMessage(doc))
	if wantsJSON(c) {
		c.Response().Header().Set(echo.HeaderLocation, back)
		return c.JSON(http.StatusCreated, doc)
	}
	return c.Redirect(http.StatusSeeOther, back)
}

// download streams a document with its length, type and UTF-8 name; the
// type is the platform's, and nosniff keeps browsers to it.
func (h *DocumentsHTTP) download(c echo.Context) error {
	id, err := trading.IDParam(c)
	if err != nil {
		return err
	}
	// A download can register an engineering bidder (K5), so another site
	// must not be able to make a signed-in browser fetch one: browsers say
	// where a navigation comes from.
	if !trading.IsAPI(c) && c.Request().Header.Get("Sec-Fetch-Site") == "cross-site" {
		return trading.Forbidden("请从交易平台的页面下载文件")
	}
	doc, body, err := h.Svc.Open(c.Request().Context(), trading.ActorOf(c), id, c.RealIP())
	if err != nil {
		return err
	}
	defer body.Close()
	hdr := c.Response().Header()
	hdr.Set(echo.HeaderContentType, doc.ContentType)
	hdr.Set(echo.HeaderContentLength, strconv.FormatInt(doc.Size, 10))
	hdr.Set(echo.HeaderContentDisposition, ContentDisposition(doc.Filename))
	hdr.Set(echo.HeaderXContentTypeOptions, "nosniff")
	hdr.Set("Cache-Control", "private, no-store")
	if sum, err := hex.DecodeString(doc.SHA256); err == nil {
		hdr.Set("Repr-Digest", "sha-256=:"+base64.StdEncoding.EncodeToString(sum)+":") // RFC 9530
	}
	c.Response().WriteHeader(http.StatusOK)
	// To the server's own writer: over TCP it takes the object's body from
	// its connection socket to socket (trading.Storage.Get). Otherwise large
	// reads: MinIO's stream keeps up, and the copy costs fewer calls.
	if _, err := io.CopyBuffer(c.Response().Writer, body, make([]byte, 256<<10)); err != nil {
		// Headers are out: all that is left is to cut the response short.
		h.Web.Log.Warn("document download interrupted", "document", doc.ID, "err", err)
	}
	return nil
}

func (h *DocumentsHTTP) apiList(c echo.Context) error {
	id, err := trading.IDParam(c)
	if err != nil {
		return err
	}
	list, err := h.Svc.Documents(c.Request().Context(), trading.ActorOf(c), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"items": list})
}

func (h *DocumentsHTTP) apiUpload(c echo.Context) error {
	id, err := trading.IDParam(c)
	if err != nil {
		return err
	}
	doc, err := h.receive(c, id, "")
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, fmt.Sprintf("/api/v1/documents/%d/content", doc.ID))
	return c.JSON(http.StatusCreated, doc)
}
