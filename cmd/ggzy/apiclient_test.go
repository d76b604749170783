package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/ggzy/ggzy/bidding"
	"github.com/ggzy/ggzy/cmd/ggzy/apiclient"
	"github.com/ggzy/ggzy/trading"
)

// A bidder's journey through the API with nothing but the client that
// oapi-codegen generates from the served document (cmd/ggzy/apiclient): sign
// up, log in, find the lot's tender document, register, download it, and see
// the deposit to pay (virtual account, amount), then paid once the bank's
// notification arrives. The client knows only what openapi.json declares:
// the bearer token from /auth/login (no cookie, no CSRF token: the document
// declares none for the API), the bank's X-Bank-Signature, the schemas. Every
// call also passes newTestServer's validation against the same document.
func TestAPIClientBidderJourney(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cfg := testConfig(t)
	cfg.BankSecret = "bank-shared-secret"
	app, srv := newTestServer(t, cfg)

	// The centre's side, set up in process: a published engineering lot
	// with a 200,000.00 deposit and its tender document.
	mustCreate(t, app, trading.RoleAgent, "daili", "daili2026")
	mustCreate(t, app, trading.RoleSupervisor, "jiandu", "jiandu2026")
	agent, sup := actorOf(t, app, "daili"), actorOf(t, app, "jiandu")
	p, err := app.Trading.CreateProject(ctx, agent, trading.ProjectInput{Category: "engineering", Title: "客户端测试工程",
		OwnerName: "福州市某局", RegionCode: "350100", Lots: []trading.LotInput{{Name: "一标段", ControlPrice: "12000000.00", Deposit: "200000.00",
			DocIssueStart: testNow.Add(24 * time.Hour).Format(time.RFC3339), DocIssueEnd: testNow.AddDate(0, 0, 8).Format(time.RFC3339),
			BidDeadline: testNow.AddDate(0, 0, 22).Format(time.RFC3339)}}})
	if err != nil {
		t.Fatal(err)
	}
	lot := p.Lots[0].ID
	content := append([]byte("%PDF-1.7\n"), bytes.Repeat([]byte("招标文件正文"), 500)...)
	if _, err := app.Bidding.Upload(ctx, agent, lot, bidding.UploadInput{Kind: bidding.DocTender, Filename: "招标文件.pdf"},
		bytes.NewReader(content), int64(len(content))); err != nil {
		t.Fatal(err)
	}
	publishAnnouncement(t, app, agent, sup, p.Code, "tender", "客户端测试工程招标公告")
	app.Clock.(*trading.ManualClock).Advance(48 * time.Hour)

	// The bidder, with the generated client only.
	anon, err := apiclient.NewClientWithResponses(srv.URL + "/api/v1")
	if err != nil {
		t.Fatal(err)
	}
	signup, err := anon.PostBiddersWithResponse(ctx, apiclient.SignUp{Kind: apiclient.SignUpKindEnterprise, Name: "福建客户端建设有限公司",
		IdNumber: "91350100M000100Y43", LegalRep: ptr("张三"), Phone: "13800138000", Email: "kehu@example.com",
		Username: "kehuduan", Password: "kehuduan2026"})
	if err != nil || signup.JSON201 == nil || signup.JSON201.Username != "kehuduan" || signup.JSON201.Role != "bidder" {
		t.Fatalf("sign up: %v %d %s", err, signup.StatusCode(), signup.Body)
	}
	login, err := anon.PostAuthLoginWithResponse(ctx, apiclient.PostAuthLoginJSONRequestBody{Username: "kehuduan", Password: "kehuduan2026"})
	if err != nil || login.JSON200 == nil || login.JSON200.Token == "" || login.JSON200.TokenType != "Bearer" {
		t.Fatalf("log in: %v %d %s", err, login.StatusCode(), login.Body)
	}
	token := login.JSON200.Token
	bidder, err := apiclient.NewClientWithResponses(srv.URL+"/api/v1", apiclient.WithRequestEditorFn(
		func(_ context.Context, req *http.Request) error {
			req.Header.Set("Authorization", "Bearer "+token)
			return nil
		}))
	if err != nil {
		t.Fatal(err)
	}
	me, err := bidder.GetMeWithResponse(ctx)
	if err != nil || me.JSON200 == nil || me.JSON200.Username != "kehuduan" {
		t.Fatalf("me: %v %d %s", err, me.StatusCode(), me.Body)
	}

	docs, err := bidder.GetLotsIdDocumentsWithResponse(ctx, int(lot))
	if err != nil || docs.JSON200 == nil || docs.JSON200.Items == nil || len(*docs.JSON200.Items) != 1 || (*docs.JSON200.Items)[0].Filename != "招标文件.pdf" {
		t.Fatalf("documents: %v %d %s", err, docs.StatusCode(), docs.Body)
	}
	doc := (*docs.JSON200.Items)[0]

	reg, err := bidder.PostLotsIdRegistrationWithResponse(ctx, int(lot), apiclient.RegisterInput{})
	if err != nil || reg.JSON201 == nil || reg.JSON201.LotId != lot || reg.JSON201.Status != "active" {
		t.Fatalf("register: %v %d %s", err, reg.StatusCode(), reg.Body)
	}
	again, err := bidder.PostLotsIdRegistrationWithResponse(ctx, int(lot), apiclient.RegisterInput{})
	if err != nil || again.StatusCode() != http.StatusConflict || again.JSON409 == nil || again.JSON409.Error.Code != "already_registered" {
		t.Fatalf("register twice: %v %d %s", err, again.StatusCode(), again.Body)
	}

	dl, err := bidder.GetDocumentsIdContentWithResponse(ctx, int(doc.Id))
	if err != nil || dl.StatusCode() != http.StatusOK || !bytes.Equal(dl.Body, content) {
		t.Fatalf("download: %v %d, %d bytes", err, dl.StatusCode(), len(dl.Body))
	}
	if sum := sha256.Sum256(dl.Body); hex.EncodeToString(sum[:]) != doc.Sha256 {
		t.Fatalf("download's SHA-256 %x, the list says %s", sum, doc.Sha256)
	}
	mine, err := bidder.GetMeRegistrationsWithResponse(ctx)
	if err != nil || mine.JSON200 == nil || len(mine.JSON200.Items) != 1 || mine.JSON200.Items[0].DownloadedDocumentVersion != 1 ||
		mine.JSON200.Items[0].NewerVersionAvailable {
		t.Fatalf("my registrations: %v %d %s", err, mine.StatusCode(), mine.Body)
	}

	// The deposit to pay: where and how much, to the fen.
	dep, err := bidder.GetMeDepositsWithResponse(ctx)
	if err != nil || dep.JSON200 == nil || len(dep.JSON200.Items) != 1 {
		t.Fatalf("deposits: %v %d %s", err, dep.StatusCode(), dep.Body)
	}
	d := dep.JSON200.Items[0]
	if d.VirtualAccount.Number == "" || d.VirtualAccount.Required != "200000.00" || d.Received != "0.00" ||
		d.Shortfall != "200000.00" || d.ProjectCode != p.Code || d.LotSeq != 1 || len(d.Inflows) != 0 ||
		d.State != apiclient.MyDepositStateUnpaid || d.StateName != "未缴纳" {
		t.Fatalf("deposit before paying: %+v", d)
	}

	// The bank's notification, through the same client (the document
	// declares its X-Bank-Signature), and the deposit is paid.
	note, _ := json.Marshal(apiclient.PostBankNotificationsJSONRequestBody{TxnId: "KH-0001", ValueTime: testNow.Add(48 * time.Hour),
		VirtualAccount: d.VirtualAccount.Number, PayerName: "福建客户端建设有限公司", PayerAccount: "6222000011113333",
		Amount: "200000.00", Currency: "CNY"})
	paid, err := anon.PostBankNotificationsWithBodyWithResponse(ctx, "application/json", bytes.NewReader(note),
		func(_ context.Context, req *http.Request) error {
			req.Header.Set("X-Bank-Signature", sign(cfg.BankSecret, note))
			return nil
		})
	if err != nil || paid.JSON200 == nil || !paid.JSON200.New || paid.JSON200.Result.Held != 1 {
		t.Fatalf("bank notification: %v %d %s", err, paid.StatusCode(), paid.Body)
	}
	dep, err = bidder.GetMeDepositsWithResponse(ctx)
	if err != nil || dep.JSON200 == nil || len(dep.JSON200.Items) != 1 {
		t.Fatalf("deposits after paying: %v %d %s", err, dep.StatusCode(), dep.Body)
	}
	d = dep.JSON200.Items[0]
	if d.Received != "200000.00" || d.Shortfall != "0.00" || len(d.Inflows) != 1 || d.Inflows[0].Amount != "200000.00" ||
		d.Inflows[0].BankTxnId != "KH-0001" || d.Inflows[0].Id != nil || d.State != apiclient.MyDepositStatePaid || d.StateName != "已足额缴纳" {
		t.Fatalf("deposit after paying: %+v", d)
	}
}

func ptr[T any](v T) *T { return &v }
