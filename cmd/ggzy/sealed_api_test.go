package main

import (
	"bytes"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/ggzy/ggzy/bidding"
	"github.com/ggzy/ggzy/bidding/sealed"
)

// A sealed bid through the API alone, as a bidder's own software would send
// it, every call validated against openapi.json: register a bid key, start a
// version, upload each sealed part in pieces, complete the parts, finalise,
// fetch the signed receipt, read the bid, withdraw it and revoke the key.
func TestSealedBidThroughAPI(t *testing.T) {
	t.Parallel()
	app, srv := newTestServer(t, testConfig(t))
	lot, _, _ := sealedLot(t, app)
	sealedBidder(t, app, lot.ID, 1, "toubiao1")
	token := apiToken(t, srv.URL, "toubiao1", "toubiao12026")
	u := func(f string, a ...any) string { return srv.URL + "/api/v1" + fmt.Sprintf(f, a...) }
	raw := func(method, url, contentType string, body []byte) (int, []byte) {
		t.Helper()
		req, _ := http.NewRequest(method, url, bytes.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}

	priv, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var key map[string]any
	if code := call(t, "POST", u("/me/bid-keys"), token, map[string]string{
		"public_key":  base64.StdEncoding.EncodeToString(sealed.MarshalPublicKey(priv.PublicKey())),
		"fingerprint": sealed.Fingerprint(priv.PublicKey())}, &key); code != 201 || key["fingerprint"] != sealed.Fingerprint(priv.PublicKey()) {
		t.Fatalf("bid key: %d %v", code, key)
	}
	var keys struct {
		Items []map[string]any `json:"items"`
	}
	if code := call(t, "GET", u("/me/bid-keys"), token, nil, &keys); code != 200 || len(keys.Items) != 1 {
		t.Fatalf("bid keys: %d %v", code, keys)
	}

	var up bidding.BidUpload
	if code := call(t, "POST", u("/lots/%d/bids", lot.ID), token, map[string]any{"files": 1, "device": "api-client"}, &up); code != 201 || up.BidID == 0 {
		t.Fatalf("start: %d %+v", code, up)
	}
	ck, err := sealed.NewContentKey(up.Ref)
	if err != nil {
		t.Fatal(err)
	}
	price, _ := json.Marshal(map[string]string{"price": "11000000.00", "period": "365", "quality": "合格", "manager": "李四"})
	file := bytes.Repeat([]byte("投标文件"), bidding.PieceSize/6) // more than one piece
	for part, plain := range [][]byte{price, file} {
		var env bytes.Buffer
		if _, err := sealed.Seal(&env, bytes.NewReader(plain), priv.PublicKey(), ck, sealed.SealOptions{Part: part, Name: fmt.Sprintf("part%d", part)}); err != nil {
			t.Fatal(err)
		}
		b := env.Bytes()
		pieces := 0
		for n := 1; (n-1)*bidding.PieceSize < len(b); n++ {
			piece := b[(n-1)*bidding.PieceSize : min(n*bidding.PieceSize, len(b))]
			if code, body := raw("PUT", u("/bids/%d/parts/%d/pieces/%d", up.BidID, part, n), "application/octet-stream", piece); code != 204 {
				t.Fatalf("part %d piece %d: %d %s", part, n, code, body)
			}
			pieces++
		}
		var status struct {
			Pieces []map[string]any `json:"pieces"`
			Bytes  int              `json:"bytes"`
		}
		if code := call(t, "GET", u("/bids/%d/parts/%d", up.BidID, part), token, nil, &status); code != 200 ||
			len(status.Pieces) != pieces || status.Bytes != len(b) {
			t.Fatalf("part %d status: %d %+v", part, code, status)
		}
		var done map[string]any
		if code := call(t, "POST", u("/bids/%d/parts/%d/complete", up.BidID, part), token, nil, &done); code != 200 || done["size"] != float64(len(b)) {
			t.Fatalf("complete part %d: %d %v", part, code, done)
		}
	}
	var bid map[string]any
	if code := call(t, "POST", u("/bids/%d/finalize", up.BidID), token, nil, &bid); code != 200 || bid["status"] != "submitted" {
		t.Fatalf("finalize: %d %v", code, bid)
	}
	code, receipt := raw("GET", u("/bids/%d/receipt", up.BidID), "application/json", nil)
	if code != 200 {
		t.Fatalf("receipt: %d %s", code, receipt)
	}
	if _, err := app.Bidding.Receipts.Verify(receipt); err != nil {
		t.Fatalf("the receipt does not verify: %v", err)
	}
	var mine map[string]any
	if code := call(t, "GET", u("/lots/%d/my-bid", lot.ID), token, nil, &mine); code != 200 || mine["current"] == nil {
		t.Fatalf("my bid: %d %v", code, mine)
	}
	if code := call(t, "DELETE", u("/lots/%d/bid", lot.ID), token, nil, nil); code != 204 {
		t.Fatalf("withdraw: %d", code)
	}
	if code := call(t, "DELETE", u("/me/bid-keys/current"), token, map[string]string{"reason": "密钥文件遗失"}, nil); code != 204 {
		t.Fatalf("revoke: %d", code)
	}
}
