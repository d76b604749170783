# ggzy — two commands do everything on a fresh Debian machine:
#   make run    install what is missing, then serve the platform with demo data
#   make test   install what the tests need, then run every test (with -race)

GO            ?= go
BIN           := $(CURDIR)/bin
# Pinned MinIO server (ECOSYSTEM.md); built from the Go module proxy.
MINIO_VERSION := v0.0.0-20260212201848-7aac2a2c5b7c
# Pinned Redocly CLI for `make lint-api` (npm; not part of `make test`).
REDOCLY_VERSION := 2.77.0
SUDO          := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_INSTALL   := $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q
export PATH   := $(BIN):$(PATH)

.PHONY: run test build deps-run deps-test postgres minio chromium poppler bench lint-api

run: deps-run build
	$(BIN)/ggzy serve --demo

test: deps-test
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 20m ./...

build:
	$(GO) build -o $(BIN)/ggzy ./cmd/ggzy

deps-run: postgres minio chromium
deps-test: postgres minio chromium poppler

# PostgreSQL 15 server binaries (initdb, postgres) and pg_trgm (contrib).
postgres:
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null; then \
		echo ">> installing PostgreSQL (Debian package postgresql)"; \
		$(SUDO) apt-get update -q && $(APT_INSTALL) postgresql postgresql-contrib; \
	fi

minio:
	@if [ ! -x $(BIN)/minio ] && ! command -v minio >/dev/null; then \
		echo ">> building MinIO $(MINIO_VERSION) into ./bin (2-3 minutes the first time)"; \
		GOBIN=$(BIN) $(GO) install github.com/minio/minio@$(MINIO_VERSION); \
	fi

# Headless Chromium and CJK fonts: the browser journeys, and the server
# prints letters (中标通知书, 中标结果通知书, 成交确认书) to PDF with them.
chromium:
	@if ! command -v chromium >/dev/null || ! dpkg -s fonts-noto-cjk >/dev/null 2>&1; then \
		echo ">> installing chromium and fonts-noto-cjk (Debian)"; \
		$(SUDO) apt-get update -q && $(APT_INSTALL) chromium fonts-noto-cjk; \
	fi

# pdftotext (poppler-utils): the tests read the text of the PDF letters.
poppler:
	@if ! command -v pdftotext >/dev/null; then \
		echo ">> installing poppler-utils (Debian)"; \
		$(SUDO) apt-get update -q && $(APT_INSTALL) poppler-utils; \
	fi

bench: deps-test
	$(GO) test -run '^$$' -bench . -benchmem ./...

# Lint the OpenAPI document with Redocly's recommended rules (needs npm; the
# key rules are also enforced without it by TestOpenAPILint in make test).
lint-api:
	npx --yes @redocly/cli@$(REDOCLY_VERSION) lint --format=stylish cmd/ggzy/openapi.json
