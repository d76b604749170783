package main

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ggzy/ggzy/bidding"
	"github.com/ggzy/ggzy/bidding/sealed"
	"github.com/ggzy/ggzy/trading"
)

// sealedKey registers a fresh bid key for the bidder.
func sealedKey(t *testing.T, app *App, b trading.Actor) *ecdh.PrivateKey {
	t.Helper()
	priv, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := app.Bidding.RegisterBidKey(context.Background(), b, bidding.BidKeyInput{
		PublicKey: base64.StdEncoding.EncodeToString(sealed.MarshalPublicKey(priv.PublicKey()))}); err != nil {
		t.Fatal(err)
	}
	return priv
}

// submitSealed seals a price form and one file in Go and submits them.
func submitSealed(t *testing.T, app *App, b trading.Actor, priv *ecdh.PrivateKey, lotID int64, price string) *bidding.SealedBid {
	t.Helper()
	ctx := context.Background()
	up, err := app.Bidding.StartBid(ctx, b, lotID, bidding.StartBidInput{Files: 1, Device: "dev-" + b.Username}, "198.51.100.7")
	if err != nil {
		t.Fatal(err)
	}
	ck, err := sealed.NewContentKey(up.Ref)
	if err != nil {
		t.Fatal(err)
	}
	for i, plain := range [][]byte{[]byte(`{"price":"` + price + `"}`), []byte("%PDF-1.7 bid of " + b.Username)} {
		var env bytes.Buffer
		if _, err := sealed.Seal(&env, bytes.NewReader(plain), priv.PublicKey(), ck, sealed.SealOptions{Part: i}); err != nil {
			t.Fatal(err)
		}
		if err := app.Bidding.PutPiece(ctx, b, up.BidID, i, 1, bytes.NewReader(env.Bytes()), int64(env.Len())); err != nil {
			t.Fatal(err)
		}
		if _, err := app.Bidding.CompletePart(ctx, b, up.BidID, i); err != nil {
			t.Fatal(err)
		}
	}
	bid, err := app.Bidding.Finalize(ctx, b, up.BidID)
	if err != nil {
		t.Fatal(err)
	}
	return bid
}

// What a page may differ in between two runs of the same story, whatever
// the bids: CSRF tokens, random bid ids, references, key fingerprints and
// hashes (drawn afresh in each run), and the audit log's row numbers (see
// the README: the log's global numbering is a known channel).
var (
	randomBits = regexp.MustCompile(`(?:name="_csrf" value="|data-csrf=")[^"]+"|[0-9a-f]{64}|lot-\d+/[0-9a-f]{32}|/bids/\d+|"(?:id|bid_id)":\s*\d{6,}|[0-9a-f]{16}…|\b\d{16}\b|\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b`) // opaque ids and notification uuids are random per run
	auditRowID = regexp.MustCompile(`<tr><td>\d+</td>`)
)

func normalise(s string) string {
	return auditRowID.ReplaceAllString(randomBits.ReplaceAllString(s, "‹random›"), "<tr><td>‹n›</td>")
}

// K4/K5: before the deadline nobody but the bidder learns whether, or how
// many, bids came in. The same story is played twice, with no other bid and
// with three: a bidder who bid, one who did not, the agent, a supervisor
// and an anonymous visitor read every page and API answer about the lot,
// and try another's bid; nothing they get differs.
func TestSealedBidsSecretBeforeTheDeadline(t *testing.T) {
	t.Parallel()
	seen := map[int]map[string]string{}
	for _, others := range []int{0, 3} {
		t.Run(fmt.Sprintf("others=%d", others), func(t *testing.T) {
			app, srv := newTestServer(t, testConfig(t))
			ctx := context.Background()
			lot, _, _ := sealedLot(t, app)
			a := sealedBidder(t, app, lot.ID, 1, "toubiao1")
			b := sealedBidder(t, app, lot.ID, 2, "toubiao2")
			keyA := sealedKey(t, app, a)
			sealedKey(t, app, b)
			var otherKeys []*ecdh.PrivateKey
			var others3 []trading.Actor
			for i := 0; i < 3; i++ {
				o := sealedBidder(t, app, lot.ID, 10+i, fmt.Sprintf("qita%d", i))
				others3 = append(others3, o)
				otherKeys = append(otherKeys, sealedKey(t, app, o))
			}
			bidA := submitSealed(t, app, a, keyA, lot.ID, "11800000.00")
			var otherBid *bidding.SealedBid
			for i := 0; i < others; i++ {
				otherBid = submitSealed(t, app, others3[i], otherKeys[i], lot.ID, fmt.Sprintf("1170000%d.00", i))
			}
			var p trading.Project
			if err := app.DB.First(&p, lot.ProjectID).Error; err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			fetch := func(who string, br *browser, paths ...string) {
				for _, path := range paths {
					code, body := br.get(path)
					got[who+" "+path] = fmt.Sprintf("%d %s", code, normalise(body))
				}
			}
			lotPaths := []string{fmt.Sprintf("/lots/%d", lot.ID), "/projects/" + p.Code, "/notices", "/",
				fmt.Sprintf("/api/v1/lots/%d/documents", lot.ID), "/api/v1/projects/" + p.Code, "/api/v1/projects", "/feeds/notices.xml"}
			anon := newBrowser(t, srv.URL)
			fetch("anonymous", anon, lotPaths...)
			for _, who := range []string{"toubiao1", "toubiao2"} {
				br := newBrowser(t, srv.URL)
				br.post("/login", "/login", url.Values{"username": {who}, "password": {who + "2026"}})
				fetch(who, br, append(lotPaths, "/my/projects", "/my/bid-key", "/my/notifications", "/my/deposits",
					fmt.Sprintf("/api/v1/lots/%d/my-bid", lot.ID), "/api/v1/me/registrations", "/api/v1/me/bid-keys")...)
			}
			agent := newBrowser(t, srv.URL)
			agent.post("/login", "/login", url.Values{"username": {"daili"}, "password": {"daili2026"}})
			fetch("agent", agent, append(lotPaths, "/agent/projects", fmt.Sprintf("/agent/lots/%d/registrations", lot.ID),
				fmt.Sprintf("/agent/lots/%d/result", lot.ID), fmt.Sprintf("/agent/lots/%d/documents", lot.ID))...)
			sup := newBrowser(t, srv.URL)
			sup.post("/login", "/login", url.Values{"username": {"jiandu"}, "password": {"jiandu2026"}})
			fetch("supervisor", sup, append(lotPaths, "/supervise", "/supervisor/projects", "/supervisor/projects/"+p.Code,
				fmt.Sprintf("/supervisor/lots/%d/result", lot.ID), "/supervisor/audit?object_type=sealed_bid", "/supervisor/audit")...)

			// Bidder 2 reaching for a bid that exists (1's, or another's)
			// gets what it gets for one that does not.
			bActor := actorOf(t, app, "toubiao2")
			probe := func(bidID int64) string {
				var out []string
				_, err := app.Bidding.Receipt(ctx, bActor, bidID)
				out = append(out, fmt.Sprint(trading.AsError(err).Status(), trading.AsError(err).Message))
				err = app.Bidding.PutPiece(ctx, bActor, bidID, 1, 1, strings.NewReader("x"), 1)
				out = append(out, fmt.Sprint(trading.AsError(err).Status(), trading.AsError(err).Message))
				_, err = app.Bidding.Finalize(ctx, bActor, bidID)
				out = append(out, fmt.Sprint(trading.AsError(err).Status(), trading.AsError(err).Message))
				_, _, err = app.Bidding.PartStatus(ctx, bActor, bidID, 0)
				out = append(out, fmt.Sprint(trading.AsError(err).Status(), trading.AsError(err).Message))
				return strings.Join(out, "|")
			}
			missing := probe(1)
			if got := probe(bidA.ID); got != missing {
				t.Errorf("bidder 2 on bidder 1's bid: %s; on a bid that does not exist: %s", got, missing)
			}
			if otherBid != nil {
				if got := probe(otherBid.ID); got != missing {
					t.Errorf("bidder 2 on another's bid: %s; on none: %s", got, missing)
				}
			}
			if !strings.HasPrefix(missing, "404") {
				t.Errorf("probe of a missing bid: %s", missing)
			}
			seen[others] = got
		})
	}
	if len(seen) != 2 {
		t.Fatal("a run failed")
	}
	if len(seen[0]) < 30 {
		t.Fatalf("only %d answers compared", len(seen[0]))
	}
	for k, v0 := range seen[0] {
		if v3 := seen[3][k]; v3 != v0 {
			t.Errorf("%s differs with 3 other bids:\n%s", k, lineDiff(v0, v3))
		}
	}
}

// lineDiff lists the lines of a and b that differ, by position.
func lineDiff(a, b string) string {
	la, lb := strings.Split(a, "\n"), strings.Split(b, "\n")
	var out []string
	for i := 0; i < max(len(la), len(lb)); i++ {
		var x, y string
		if i < len(la) {
			x = la[i]
		}
		if i < len(lb) {
			y = lb[i]
		}
		if x != y {
			out = append(out, fmt.Sprintf("line %d:\n- %s\n+ %s", i+1, x, y))
		}
		if len(out) > 10 {
			break
		}
	}
	return strings.Join(out, "\n")
}

// A bidder's own tool decrypts through the API: the header of its price
// form, the content key unwrapped with its key, the token handed in; a
// token for another's bid is refused with the reason (EB6).
func TestHallAPIDecrypt(t *testing.T) {
	t.Parallel()
	app, srv := newTestServer(t, testConfig(t))
	ctx := context.Background()
	lot, agent, _ := sealedLot(t, app)
	keys := map[string]*ecdh.PrivateKey{}
	for i, u := range []string{"toubiao1", "toubiao2", "toubiao3"} {
		b := sealedBidder(t, app, lot.ID, i+1, u)
		keys[u] = sealedKey(t, app, b)
		submitSealed(t, app, b, keys[u], lot.ID, fmt.Sprintf("1180000%d.00", i))
	}
	clock := app.Clock.(*trading.ManualClock)
	clock.Set(lot.BidDeadline.Add(time.Minute))
	if err := trading.FreezeDBClock(ctx, app.DB, clock.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := app.Bidding.OpenHall(ctx, agent, lot.ID, 0); err != nil {
		t.Fatal(err)
	}
	token := func(u string) string {
		var tok trading.TokenResponse
		if code := call(t, "POST", srv.URL+"/api/v1/auth/login", "", map[string]string{"username": u, "password": u + "2026"}, &tok); code != 200 {
			t.Fatalf("login %s: %d", u, code)
		}
		return tok.Token
	}
	t1, t2 := token("toubiao1"), token("toubiao2")
	base := fmt.Sprintf("%s/api/v1/lots/%d/hall", srv.URL, lot.ID)
	var h sealed.Header
	if code := call(t, "GET", base+"/header", t1, nil, &h); code != 200 {
		t.Fatalf("header: %d", code)
	}
	ck, err := sealed.UnwrapKey(h, keys["toubiao1"])
	if err != nil {
		t.Fatal(err)
	}
	var refusal struct {
		Error struct {
			Rule    string `json:"rule"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if code := call(t, "POST", base+"/key", t2, map[string]string{"token": ck.String()}, &refusal); code != 422 || refusal.Error.Rule != "EB6" {
		t.Fatalf("another's key: %d %+v", code, refusal)
	}
	if code := call(t, "POST", base+"/key", t1, map[string]string{"token": ck.String()}, nil); code != 204 {
		t.Fatalf("own key: %d", code)
	}
	var v struct {
		Pending int `json:"pending"`
		Mine    struct {
			Outcome  string `json:"outcome"`
			Failures int    `json:"failures"`
		} `json:"mine"`
		Bids []any `json:"bids"`
	}
	if code := call(t, "GET", base, t1, nil, &v); code != 200 || v.Pending != 2 || v.Mine.Outcome != "decrypted" || len(v.Bids) != 0 {
		t.Fatalf("hall: %+v", v)
	}
	if code := call(t, "GET", base, t2, nil, &v); code != 200 || v.Mine.Outcome != "pending" || v.Mine.Failures != 1 {
		t.Fatalf("bidder 2's hall: %+v", v)
	}
}
