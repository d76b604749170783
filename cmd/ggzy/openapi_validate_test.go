package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
)

// Every /api/v1 call that a cmd/ggzy test makes goes through validateAPI
// (newTestServer wraps the server with it): the request and the answer are
// checked against the document the server serves (openapi.json), with
// kin-openapi. A test fails when
//   - the server answers 2xx to a request the document refuses (a 4xx is
//     the right answer to a request the tests made bad on purpose);
//   - an answer does not match its response in the document: an undeclared
//     status, another content type, a body that breaks the schema, a
//     property the schema does not name (objects are closed here);
//   - a JSON key of an answer is not snake_case (OCDS keeps its standard's
//     camelCase, and the document its own).
// GGZY_API_COVERAGE=FILE appends "METHOD /path STATUS" per validated call,
// so a run can list the routes the tests exercise.

type apiSpec struct {
	doc    *openapi3.T
	router routers.Router
}

var (
	apiSpecOnce sync.Once
	apiSpecVal  *apiSpec
	apiSpecErr  error
	coverageMu  sync.Mutex
)

// loadAPISpec loads the served document once. For the test, every object
// schema that lists its properties is closed (additionalProperties: false),
// so an answer carrying a field the document does not describe fails.
func loadAPISpec() (*apiSpec, error) {
	apiSpecOnce.Do(func() {
		loader := openapi3.NewLoader()
		doc, err := loader.LoadFromData(openAPI)
		if err != nil {
			apiSpecErr = err
			return
		}
		if err := doc.Validate(context.Background()); err != nil {
			apiSpecErr = fmt.Errorf("openapi.json is not a valid OpenAPI document: %w", err)
			return
		}
		closeSchemas(doc)
		r, err := legacy.NewRouter(doc)
		if err != nil {
			apiSpecErr = err
			return
		}
		apiSpecVal = &apiSpec{doc: doc, router: r}
	})
	return apiSpecVal, apiSpecErr
}

func closeSchemas(doc *openapi3.T) {
	seen := map[*openapi3.Schema]bool{}
	var walk func(s *openapi3.SchemaRef)
	walk = func(s *openapi3.SchemaRef) {
		if s == nil || s.Value == nil || seen[s.Value] {
			return
		}
		v := s.Value
		seen[v] = true
		if len(v.Properties) > 0 && v.AdditionalProperties.Has == nil && v.AdditionalProperties.Schema == nil {
			no := false
			v.AdditionalProperties.Has = &no
		}
		for _, p := range v.Properties {
			walk(p)
		}
		walk(v.Items)
		walk(v.AdditionalProperties.Schema)
		for _, l := range [][]*openapi3.SchemaRef{v.OneOf, v.AnyOf, v.AllOf} {
			for _, x := range l {
				walk(x)
			}
		}
	}
	for _, s := range doc.Components.Schemas {
		walk(s)
	}
	for _, p := range doc.Paths.Map() {
		for _, op := range p.Operations() {
			if op.RequestBody != nil && op.RequestBody.Value != nil {
				for _, mt := range op.RequestBody.Value.Content {
					walk(mt.Schema)
				}
			}
			for _, r := range op.Responses.Map() {
				if r.Value != nil {
					for _, mt := range r.Value.Content {
						walk(mt.Schema)
					}
				}
			}
		}
	}
}

// securityPresent checks the document's security as a client would: the
// bearer scheme needs an Authorization: Bearer header, the bank's webhook
// its X-Bank-Signature header (whether either is good is the server's
// business, answered with a 401).
func securityPresent(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	h := in.RequestValidationInput.Request.Header
	switch in.SecuritySchemeName {
	case "bearer":
		if !strings.HasPrefix(h.Get("Authorization"), "Bearer ") {
			return fmt.Errorf("no bearer token")
		}
	case "bankSignature":
		if h.Get("X-Bank-Signature") == "" {
			return fmt.Errorf("no X-Bank-Signature")
		}
	default:
		return fmt.Errorf("unknown security scheme %q", in.SecuritySchemeName)
	}
	return nil
}

// maxValidatedBody: bigger request bodies (load tests, large uploads) are
// not read into memory; their route, parameters and answer still are checked.
const maxValidatedBody = 4 << 20

func validateAPI(t testing.TB, next http.Handler) http.Handler {
	spec, err := loadAPISpec()
	if err != nil {
		t.Fatal(err)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/api/v1/") {
			next.ServeHTTP(w, r)
			return
		}
		// Route on a copy with the document's relative server.
		probe := r.Clone(r.Context())
		route, params, err := spec.router.FindRoute(probe)
		if err != nil {
			// Not in the document: the server must not serve it either
			// (TestOpenAPICoversEveryRoute checks the registered routes).
			rec := &recorder{ResponseWriter: w}
			next.ServeHTTP(rec, r)
			if rec.status() < 400 {
				t.Errorf("API %s %s answered %d but the document has no such operation (%v)", r.Method, r.URL.Path, rec.status(), err)
			}
			return
		}
		opts := &openapi3filter.Options{AuthenticationFunc: securityPresent, IncludeResponseStatus: true, MultiError: true}
		var reqBody []byte
		big := r.ContentLength < 0 || r.ContentLength > maxValidatedBody
		if !big && r.Body != nil {
			reqBody, _ = io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(reqBody))
		}
		in := &openapi3filter.RequestValidationInput{Request: probe, PathParams: params, Route: route, Options: opts}
		if big {
			probe.Body = http.NoBody // the handler alone reads the stream
			in.Options = &openapi3filter.Options{AuthenticationFunc: securityPresent, ExcludeRequestBody: true, MultiError: true}
		} else {
			probe.Body = io.NopCloser(bytes.NewReader(reqBody))
		}
		reqErr := openapi3filter.ValidateRequest(r.Context(), in)

		rec := &recorder{ResponseWriter: w, limit: maxValidatedBody}
		next.ServeHTTP(rec, r)
		status := rec.status()
		if reqErr != nil {
			if status < 400 {
				t.Errorf("API %s %s: the server answered %d to a request the document refuses: %v", r.Method, r.URL.Path, status, reqErr)
			}
		}
		recordCoverage(route, status)
		// Validate the answer (with the request's route; the request
		// input is not re-validated).
		in.Options = &openapi3filter.Options{AuthenticationFunc: securityPresent, IncludeResponseStatus: true, MultiError: true,
			ExcludeResponseBody: rec.overflow}
		out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: status, Header: rec.Header(),
			Body: io.NopCloser(bytes.NewReader(rec.body.Bytes())), Options: in.Options}
		if err := openapi3filter.ValidateResponse(r.Context(), out); err != nil {
			t.Errorf("API %s %s answered %d, which does not match openapi.json: %v\nbody: %.2000s", r.Method, r.URL.Path, status, err, rec.body.String())
		}
		if strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") && !rec.overflow && !strings.Contains(route.Path, "/ocds") && route.Path != "/openapi.json" {
			if bad := notSnakeCase(rec.body.Bytes()); len(bad) > 0 {
				t.Errorf("API %s %s: keys not in snake_case: %v", r.Method, r.URL.Path, bad)
			}
		}
	})
}

var snakeKey = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)

// notSnakeCase lists the object keys of a JSON document that are not
// snake_case.
func notSnakeCase(b []byte) []string {
	var v any
	if json.Unmarshal(b, &v) != nil {
		return nil
	}
	bad := map[string]bool{}
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				if !snakeKey.MatchString(k) {
					bad[k] = true
				}
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
	out := make([]string, 0, len(bad))
	for k := range bad {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func recordCoverage(route *routers.Route, status int) {
	path := os.Getenv("GGZY_API_COVERAGE")
	if path == "" {
		return
	}
	coverageMu.Lock()
	defer coverageMu.Unlock()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	fmt.Fprintf(f, "%s %s %d\n", route.Method, route.Path, status)
}

// recorder passes the answer through and keeps a copy of its body (up to
// limit bytes) for validation.
type recorder struct {
	http.ResponseWriter
	code     int
	body     bytes.Buffer
	limit    int
	overflow bool
}

func (r *recorder) WriteHeader(code int) {
	if r.code == 0 {
		r.code = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	if r.body.Len()+len(b) > r.limit {
		r.overflow = true
	} else if !r.overflow {
		r.body.Write(b)
	}
	return r.ResponseWriter.Write(b)
}

func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func (r *recorder) status() int {
	if r.code == 0 {
		return http.StatusOK
	}
	return r.code
}
