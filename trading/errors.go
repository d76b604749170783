package trading

import (
	"errors"
	"fmt"
	"strings"

	"github.com/ggzy/ggzy/trading/rules"
)

// Kind says what sort of failure a domain error is. Domain code picks the
// kind through a constructor below; the web layer alone maps each kind to
// its HTTP status (see kindStatus in web.go). A kind is also the default
// `code` of the JSON error body.
type Kind string

// The kinds of domain error.
const (
	KindInvalid          Kind = "invalid"            // a field's value is not acceptable
	KindUnauthorized     Kind = "unauthorized"       // not signed in
	KindForbidden        Kind = "forbidden"          // signed in, but may not
	KindNotFound         Kind = "not_found"          // does not exist, or may not be seen
	KindMethodNotAllowed Kind = "method_not_allowed" // the route exists, the method does not
	KindConflict         Kind = "conflict"           // clashes with the current state
	KindTooLarge         Kind = "too_large"          // over a size limit
	KindUnprocessable    Kind = "unprocessable"      // a well-formed file whose content cannot be used (bad lines)
	KindRuleBroken       Kind = "rule_broken"        // breaks a rule of the rule book (with its id)
	KindRateLimited      Kind = "rate_limited"       // too many attempts
	KindUnavailable      Kind = "unavailable"        // a service the platform needs is not configured or not reachable
	KindInternal         Kind = "internal"           // our fault; logged, never explained
)

// Error is a domain error: its kind, a stable code, a Chinese message, and
// the field and rule it concerns. bidding and deposits use it too, so one
// error handler presents them all.
type Error struct {
	Kind    Kind
	Code    string // stable machine code; the kind unless a finer one is set (WithCode)
	Message string
	Field   string
	Rule    string
	Err     error // the sentinel or cause, for errors.Is
	// Violations lists every rule broken, when the rule book refused.
	Violations []rules.Violation
	// Category is the project's, when the error concerns one: a page names
	// "lots[0]" after it (第1个地块, FieldLabelIn). The API keeps the path.
	Category rules.Category
}

func (e *Error) Error() string {
	s := e.Message
	if e.Field != "" {
		s = e.Field + ": " + s
	}
	if e.Rule != "" {
		s += " [" + e.Rule + "]"
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// WithCode sets a finer stable code than the kind's (e.g. "suspended" for
// a conflict), for API clients that must tell cases apart.
func (e *Error) WithCode(code string) *Error { e.Code = code; return e }

// Wrapping sets the sentinel or cause that errors.Is finds.
func (e *Error) Wrapping(err error) *Error { e.Err = err; return e }

// WithRule names the rule the error concerns.
func (e *Error) WithRule(rule string) *Error { e.Rule = rule; return e }

// OnField names the field the error concerns.
func (e *Error) OnField(field string) *Error { e.Field = field; return e }

// InCategory says which category's project the error concerns, so its
// field is named with the category's word for a lot (标段, 包, 地块, 标的).
func (e *Error) InCategory(c rules.Category) *Error { e.Category = c; return e }

// inCategory sets the category of a domain error that has none; other
// errors pass through.
func inCategory(err error, c rules.Category) error {
	var e *Error
	if errors.As(err, &e) && e.Category == "" {
		e.Category = c
	}
	return err
}

// Sentinel errors: compare with errors.Is.
var (
	ErrInvalid       = errors.New("invalid input")
	ErrNotFound      = errors.New("not found")
	ErrForbidden     = errors.New("forbidden")
	ErrUnauthorized  = errors.New("unauthorized")
	ErrConflict      = errors.New("conflict")
	ErrRuleBroken    = errors.New("rule broken")
	ErrTooLarge      = errors.New("too large")
	ErrRateLimited   = errors.New("rate limited")
	ErrUnavailable   = errors.New("unavailable")
	ErrUnprocessable = errors.New("unprocessable")
)

func newError(k Kind, field, msg string, sentinel error) *Error {
	return &Error{Kind: k, Code: string(k), Field: field, Message: msg, Err: sentinel}
}

// Invalid says a field's value is not acceptable (400).
func Invalid(field, format string, args ...any) *Error {
	return newError(KindInvalid, field, fmt.Sprintf(format, args...), ErrInvalid)
}

// RuleBroken says the input breaks rule `rule` of the rule book, on `field` (422).
func RuleBroken(rule, field, format string, args ...any) *Error {
	e := newError(KindRuleBroken, field, fmt.Sprintf(format, args...), ErrRuleBroken)
	e.Rule = rule
	return e
}

// NotFound says the thing does not exist or may not be seen (404).
func NotFound(what string) *Error {
	return newError(KindNotFound, "", what+"不存在", ErrNotFound)
}

// Forbidden says the account may not do this (403).
func Forbidden(msg string) *Error {
	return newError(KindForbidden, "", msg, ErrForbidden)
}

// Unauthorized says the request is not signed in (401).
func Unauthorized(msg string) *Error {
	return newError(KindUnauthorized, "", msg, ErrUnauthorized)
}

// Conflict says the request clashes with the current state (409).
func Conflict(field, format string, args ...any) *Error {
	return newError(KindConflict, field, fmt.Sprintf(format, args...), ErrConflict)
}

// TooLarge says a field's content is over a size limit (413).
func TooLarge(field, format string, args ...any) *Error {
	return newError(KindTooLarge, field, fmt.Sprintf(format, args...), ErrTooLarge)
}

// Unprocessable says an uploaded file (a bank statement, a confirmation
// file) is well-formed but its content cannot be used; the message lists
// the lines (422, like a broken rule, but with no rule id).
func Unprocessable(field, msg string) *Error {
	return newError(KindUnprocessable, field, msg, ErrUnprocessable)
}

// RateLimited says the caller tried too often (429).
func RateLimited(msg string) *Error {
	return newError(KindRateLimited, "", msg, ErrRateLimited)
}

// Unavailable says a service the platform needs is missing (503), e.g.
// the PDF printer of letters.
func Unavailable(msg string) *Error {
	return newError(KindUnavailable, "", msg, ErrUnavailable)
}

// RuleViolations refuses an action the rule book forbids (422), listing
// every rule broken; Rule and Field name the first.
func RuleViolations(action string, vs []rules.Violation) *Error {
	msgs := make([]string, len(vs))
	for i, v := range vs {
		msgs[i] = v.Error()
	}
	e := RuleBroken(vs[0].Rule, vs[0].Field, "%s违反统一交易规则：%s", action, strings.Join(msgs, "；"))
	e.Violations = vs
	return e
}
