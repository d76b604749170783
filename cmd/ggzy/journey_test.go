package main

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// newChrome starts headless Chromium (Debian's, installed by `make test`).
func newChrome(t *testing.T) context.Context {
	t.Helper()
	path := os.Getenv("GGZY_CHROMIUM")
	if path == "" {
		for _, p := range []string{"chromium", "chromium-browser", "google-chrome"} {
			if found, err := exec.LookPath(p); err == nil {
				path = found
				break
			}
		}
	}
	if path == "" {
		t.Fatal("headless Chromium not found: run `make test`, which installs Debian's chromium and fonts-noto-cjk")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.DisableGPU,
		chromedp.NoSandbox,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
	)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	ctx, cancelT := context.WithTimeout(ctx, 300*time.Second)
	t.Cleanup(func() { cancelT(); cancelC(); cancelA() })
	return ctx
}

// text waits for sel on the page and returns its text. A query that lands
// while a form submission is navigating fails with a stale execution
// context, so it is tried again on the new page.
func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	return waitText(t, ctx, sel, "")
}

// waitText waits until sel's text contains want (the page it is on may
// still be the one before a click's navigation).
func waitText(t *testing.T, ctx context.Context, sel, want string) string {
	t.Helper()
	var lastErr error
	var last string
	for attempt := 0; attempt < 50; attempt++ {
		qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		s, err := chromedp.Run(qctx, func(ctx context.Context, tg *chromedp.Target) (string, error) {
			if _, err := chromedp.WaitVisible(chromedp.CSS(sel))(ctx, tg); err != nil {
				return "", err
			}
			return chromedp.Text(chromedp.CSS(sel))(ctx, tg)
		})
		cancel()
		if err == nil && strings.Contains(s, want) {
			return s
		}
		last, lastErr = s, err
		if ctx.Err() != nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot()); err == nil {
		name := strings.NewReplacer("/", "_", " ", "_", "#", "").Replace(t.Name()) + ".png"
		os.WriteFile(os.TempDir()+"/"+name, png, 0o644)
		t.Logf("screenshot: %s/%s", os.TempDir(), name)
	}
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	t.Fatalf("text of %s on %s: %q, want %q (%v)", sel, loc, last, want, lastErr)
	return ""
}

func fill(fields map[string]string) []chromedp.Action[chromedp.Void] {
	var steps []chromedp.Action[chromedp.Void]
	for id, v := range fields {
		steps = append(steps, chromedp.SetValue(chromedp.CSS("#"+id), v))
	}
	return steps
}

// A bidder signs up with a valid credit code after being refused with a
// clear message for an invalid one, sees the account page, logs out, and
// logs in again.
func TestBrowserJourneySignUpLoginLogout(t *testing.T) {
	t.Parallel()
	_, srv := newTestServer(t, testConfig(t))
	ctx := newChrome(t)
	fields := map[string]string{"name": "福建旅程建设有限公司", "id_number": "91350100M000100Y44", "legal_rep": "王五",
		"phone": "13800138000", "email": "journey@example.com", "username": "journey", "password": "journey2026"}

	steps := append([]chromedp.Action[chromedp.Void]{chromedp.Navigate(srv.URL + "/"), chromedp.Click(chromedp.CSS(`a[href="/signup"].button`)),
		chromedp.WaitVisible(chromedp.CSS("#signup-submit"))}, fill(fields)...)
	steps = append(steps, chromedp.Click(chromedp.CSS("#signup-submit")))
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatal(err)
	}
	waitText(t, ctx, "#form-error", "统一社会信用代码校验位不符")
	checkPage(t, ctx, "signup-error")

	fields["id_number"] = "91350100M000100Y43"
	steps = append(fill(fields), chromedp.Click(chromedp.CSS("#signup-submit")))
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatal(err)
	}
	waitText(t, ctx, "#id-number", "91350100M000100Y43")
	if who := text(t, ctx, "#who"); !strings.Contains(who, "福建旅程建设有限公司") {
		t.Fatalf("header shows %q", who)
	}
	checkPage(t, ctx, "account")

	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#logout"))); err != nil {
		t.Fatal(err)
	}
	waitText(t, ctx, ".flash", "已退出登录")
	checkPage(t, ctx, "login-after-logout")
	steps = append(fill(map[string]string{"username": "journey", "password": "journey2026"}), chromedp.Click(chromedp.CSS("#login-submit")))
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatal(err)
	}
	waitText(t, ctx, "#id-number", "91350100M000100Y43")
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil || !strings.HasSuffix(loc, "/account") {
		t.Fatalf("location %q %v", loc, err)
	}
}
