package bidding

// HTTP of bid keys and sealed bids. The browser's routes (session cookie,
// CSRF token in X-CSRF-Token) and the API's (bearer token) call the same
// handlers; answers are JSON but for the bid-key page and the forms.

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/ggzy/ggzy/trading"
)

// SealedHTTP serves bid keys, sealed bid uploads and receipts.
type SealedHTTP struct {
	Svc *Service
	Web *trading.Web
}

// Routes registers the pages and the API of sealed bids.
func (h *SealedHTTP) Routes(e *echo.Echo, api *echo.Group) {
	bidder := trading.RequireRole(trading.RoleBidder)
	e.GET("/my/bid-key", h.keyPage, bidder)
	e.POST("/my/bid-key", h.registerKey, bidder)
	e.POST("/my/bid-key/revoke", h.revokeKeyForm, bidder)
	e.POST("/lots/:id/bids", h.start, bidder)
	e.PUT("/bids/:bid/parts/:part/pieces/:n", h.putPiece, bidder)
	e.GET("/bids/:bid/parts/:part", h.partStatus, bidder)
	e.POST("/bids/:bid/parts/:part/complete", h.complete, bidder)
	e.POST("/bids/:bid/finalize", h.finalize, bidder)
	e.GET("/bids/:bid/receipt", h.receipt, bidder)
	e.POST("/lots/:id/bid/withdraw", h.withdrawForm, bidder)
	e.POST("/agent/lots/:id/paper-bids", h.declarePaper, trading.RequireRole(trading.RoleAgent))
	e.GET("/receipt-keys", h.receiptKeys)

	api.GET("/me/bid-keys", h.apiKeys, bidder)
	api.POST("/me/bid-keys", h.registerKey, bidder)
	api.DELETE("/me/bid-keys/current", h.apiRevokeKey, bidder)
	api.GET("/lots/:id/my-bid", h.apiMyBid, bidder)
	api.POST("/lots/:id/bids", h.start, bidder)
	api.DELETE("/lots/:id/bid", h.apiWithdraw, bidder)
	api.PUT("/bids/:bid/parts/:part/pieces/:n", h.putPiece, bidder)
	api.GET("/bids/:bid/parts/:part", h.partStatus, bidder)
	api.POST("/bids/:bid/parts/:part/complete", h.complete, bidder)
	api.POST("/bids/:bid/finalize", h.finalize, bidder)
	api.GET("/bids/:bid/receipt", h.receipt, bidder)
	api.GET("/receipt-keys", h.receiptKeys)
}

func intParam(c echo.Context, name string, lo, hi int64) (int64, error) {
	v, err := strconv.ParseInt(c.Param(name), 10, 64)
	if err != nil || v < lo || v > hi {
		return 0, trading.Invalid(name, "%s 应为 %d 至 %d 的整数", name, lo, hi)
	}
	return v, nil
}

func bidParams(c echo.Context) (bid int64, part int, err error) {
	if bid, err = intParam(c, "bid", 1, 1<<63-1); err != nil {
		return
	}
	p, err := intParam(c, "part", 0, MaxBidFiles)
	return bid, int(p), err
}

func (h *SealedHTTP) keyPage(c echo.Context) error {
	keys, err := h.Svc.BidKeys(c.Request().Context(), trading.ActorOf(c))
	if err != nil {
		return err
	}
	return h.Web.Page(c, http.StatusOK, "bid_key", "投标密钥", map[string]any{"Keys": keys})
}

func (h *SealedHTTP) registerKey(c echo.Context) error {
	var in BidKeyInput
	if err := trading.BindJSON(c, &in); err != nil {
		return err
	}
	k, err := h.Svc.RegisterBidKey(c.Request().Context(), trading.ActorOf(c), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, k)
}

func (h *SealedHTTP) revokeKeyForm(c echo.Context) error {
	err := h.Svc.RevokeBidKey(c.Request().Context(), trading.ActorOf(c), c.FormValue("reason"))
	if de := trading.FormError(err); de != nil {
		trading.Flash(c, de.Message)
		return c.Redirect(http.StatusSeeOther, "/my/bid-key")
	}
	if err != nil {
		return err
	}
	trading.Flash(c, "投标密钥已作废。请生成新的密钥；已用原密钥密封的投标，开标时仍须用原密钥文件（或备用副本）解密。")
	return c.Redirect(http.StatusSeeOther, "/my/bid-key")
}

type revokeRequest struct {
	Reason string `json:"reason"`
}

func (h *SealedHTTP) apiRevokeKey(c echo.Context) error {
	var in revokeRequest
	if err := trading.BindJSON(c, &in); err != nil {
		return err
	}
	if err := h.Svc.RevokeBidKey(c.Request().Context(), trading.ActorOf(c), in.Reason); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (h *SealedHTTP) apiKeys(c echo.Context) error {
	keys, err := h.Svc.BidKeys(c.Request().Context(), trading.ActorOf(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"items": keys})
}

func (h *SealedHTTP) apiMyBid(c echo.Context) error {
	id, err := trading.IDParam(c)
	if err != nil {
		return err
	}
	b, err := h.Svc.MyBidFor(c.Request().Context(), trading.ActorOf(c), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, b)
}

func (h *SealedHTTP) start(c echo.Context) error {
	id, err := trading.IDParam(c)
	if err != nil {
		return err
	}
	var in StartBidInput
	if err := trading.BindJSON(c, &in); err != nil {
		return err
	}
	up, err := h.Svc.StartBid(c.Request().Context(), trading.ActorOf(c), id, in, c.RealIP())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, up)
}

func (h *SealedHTTP) putPiece(c echo.Context) error {
	bid, part, err := bidParams(c)
	if err != nil {
		return err
	}
	n, err := intParam(c, "n", 1, 10000)
	if err != nil {
		return err
	}
	req := c.Request()
	if req.ContentLength <= 0 {
		return trading.Invalid("piece", "请声明分片的 Content-Length")
	}
	var claims PieceClaims
	if v := req.Header.Get(HeaderChainValue); v != "" {
		if claims.Before = DecodeChainValue(v); claims.Before == nil {
			return trading.Invalid("piece", "%s 应为32字节的 base64（此前内容的 SHA-256 链值）", HeaderChainValue)
		}
	}
	if v := req.Header.Get(HeaderLayout); v != "" {
		if claims.Layout = DecodeLayout(v); claims.Layout == nil {
			return trading.Invalid("piece", "%s 应为“首个内容分块的位置/分块大小”", HeaderLayout)
		}
	}
	if err := h.Svc.PutPieceClaimed(req.Context(), trading.ActorOf(c), bid, part, int(n), req.Body, req.ContentLength, claims); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (h *SealedHTTP) partStatus(c echo.Context) error {
	bid, part, err := bidParams(c)
	if err != nil {
		return err
	}
	pieces, done, err := h.Svc.PartStatus(c.Request().Context(), trading.ActorOf(c), bid, part)
	if err != nil {
		return err
	}
	var bytes int64
	for _, p := range pieces {
		bytes += p.Size
	}
	if pieces == nil {
		pieces = []PieceInfo{}
	}
	return c.JSON(http.StatusOK, map[string]any{"complete": done, "pieces": pieces, "bytes": bytes, "piece_size": PieceSize})
}

func (h *SealedHTTP) complete(c echo.Context) error {
	bid, part, err := bidParams(c)
	if err != nil {
		return err
	}
	p, err := h.Svc.CompletePart(c.Request().Context(), trading.ActorOf(c), bid, part)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}

func (h *SealedHTTP) finalize(c echo.Context) error {
	bid, err := intParam(c, "bid", 1, 1<<63-1)
	if err != nil {
		return err
	}
	b, err := h.Svc.Finalize(c.Request().Context(), trading.ActorOf(c), bid)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, b)
}

func (h *SealedHTTP) receipt(c echo.Context) error {
	bid, err := intParam(c, "bid", 1, 1<<63-1)
	if err != nil {
		return err
	}
	data, err := h.Svc.Receipt(c.Request().Context(), trading.ActorOf(c), bid)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Content-Disposition", ContentDisposition(fmt.Sprintf("投标回执-%d.json", bid)))
	return c.Blob(http.StatusOK, "application/json", data)
}

func (h *SealedHTTP) withdrawForm(c echo.Context) error {
	id, err := trading.IDParam(c)
	if err != nil {
		return err
	}
	if err := h.Svc.WithdrawBid(c.Request().Context(), trading.ActorOf(c), id); err != nil {
		if de := trading.FormError(err); de != nil {
			trading.Flash(c, de.Message)
			return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/lots/%d", id))
		}
		return err
	}
	trading.Flash(c, "投标文件已撤回，报名随之撤回；已缴纳的保证金将在撤回后5日内退还（D6）。")
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/lots/%d", id))
}

func (h *SealedHTTP) apiWithdraw(c echo.Context) error {
	id, err := trading.IDParam(c)
	if err != nil {
		return err
	}
	if err := h.Svc.WithdrawBid(c.Request().Context(), trading.ActorOf(c), id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (h *SealedHTTP) declarePaper(c echo.Context) error {
	id, err := trading.IDParam(c)
	if err != nil {
		return err
	}
	if err := h.Svc.DeclarePaper(c.Request().Context(), trading.ActorOf(c), id, c.FormValue("reason")); err != nil {
		return err
	}
	trading.Flash(c, "已声明为纸质投标：开标记录由代理机构录入。")
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/lots/%d", id))
}

// receiptKeys publishes the platform's receipt-signing public keys (EB3):
// what `ggzy receipt verify --key` is given.
func (h *SealedHTTP) receiptKeys(c echo.Context) error {
	if h.Svc.Receipts == nil {
		return c.JSON(http.StatusOK, map[string]any{"keys": []any{}})
	}
	return c.JSON(http.StatusOK, map[string]any{"keys": h.Svc.Receipts.Published(),
		"verify": "ggzy receipt verify 投标回执.json --key <public_key>"})
}
