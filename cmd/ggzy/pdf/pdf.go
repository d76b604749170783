// Package pdf prints the platform's own HTML documents (中标通知书,
// 中标结果通知书, 成交确认书) to PDF with headless Chromium: one template
// for screen, print and PDF, set in Debian's Noto CJK fonts (ECOSYSTEM.md:
// Go PDF libraries cannot load the CJK .ttc collections).
package pdf

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"

	"github.com/chromedp/chromedp"
)

// Printer prints HTML to PDF. Chromium starts on the first print and runs
// until Close; each print uses a tab of its own.
type Printer struct {
	// Path is the Chromium binary; empty: GGZY_CHROMIUM, else chromium on $PATH.
	Path string

	mu      sync.Mutex
	dir     string
	browser context.Context
	cancel  func()
}

// ErrNoChromium is returned when no Chromium is installed.
var ErrNoChromium = errors.New("pdf: headless Chromium not found (Debian: apt-get install chromium fonts-noto-cjk; or set GGZY_CHROMIUM)")

func (p *Printer) start() (context.Context, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.browser != nil && p.browser.Err() == nil {
		return p.browser, nil
	}
	path := p.Path
	if path == "" {
		path = os.Getenv("GGZY_CHROMIUM")
	}
	if path == "" {
		for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
			if found, err := exec.LookPath(name); err == nil {
				path = found
				break
			}
		}
	}
	if path == "" {
		return nil, ErrNoChromium
	}
	dir, err := os.MkdirTemp("", "ggzy-pdf-")
	if err != nil {
		return nil, err
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.Headless, chromedp.DisableGPU, chromedp.NoSandbox,
		chromedp.UserDataDir(filepath.Join(dir, "profile")),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelB := chromedp.NewContext(actx)
	if err := chromedp.Do(bctx); err != nil { // start the browser now
		cancelB()
		cancelA()
		os.RemoveAll(dir)
		return nil, fmt.Errorf("pdf: start Chromium: %w", err)
	}
	p.dir, p.browser = dir, bctx
	p.cancel = func() { cancelB(); cancelA() }
	return bctx, nil
}

// Print renders a complete HTML document (styles inline: the page loads
// nothing from the network) on A4 and returns the PDF.
func (p *Printer) Print(ctx context.Context, html []byte) ([]byte, error) {
	bctx, err := p.start()
	if err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(p.dir, "doc-*.html")
	if err != nil {
		return nil, err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(html); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	tctx, cancel := chromedp.NewContext(bctx)
	defer cancel()
	tctx, cancelT := context.WithTimeout(tctx, 60*time.Second)
	defer cancelT()
	stop := context.AfterFunc(ctx, cancelT) // the caller gone ends the print
	defer stop()
	if err := chromedp.Do(tctx, chromedp.Navigate("file://"+f.Name())); err != nil {
		return nil, fmt.Errorf("pdf: load document: %w", err)
	}
	// The CJK fonts are loaded before printing, or glyphs print blank.
	if _, err := chromedp.Run(tctx, chromedp.Evaluate[bool](`document.fonts.ready.then(() => true)`, chromedp.EvalAwaitPromise)); err != nil {
		return nil, fmt.Errorf("pdf: fonts: %w", err)
	}
	buf, err := chromedp.Run(tctx, chromedp.PrintToPDF(chromedp.PDFPaper(chromedp.PaperA4), chromedp.PDFPreferCSSPageSize(),
		chromedp.PDFPrintBackground(), chromedp.PDFOutlineAndTagged()))
	if err != nil {
		return nil, fmt.Errorf("pdf: print: %w", err)
	}
	return buf, nil
}

// Close stops Chromium.
func (p *Printer) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cancel != nil {
		p.cancel()
		p.cancel, p.browser = nil, nil
	}
	if p.dir != "" {
		os.RemoveAll(p.dir)
		p.dir = ""
	}
}
