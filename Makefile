# n2n — see README.md. Every target works on a fresh clone.
GO       ?= go
PREFIX   ?= /usr/local
BIN      := bin/n2n
export CGO_ENABLED := 0
LDFLAGS  := -s -w -X github.com/n2n-dev/n2n/cmd.Version=$(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
FUZZTIME ?= 10s

.PHONY: all build test unit e2e fuzz bench lint completions man docs vectors check demo install clean

all: build

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) .

# What CI runs: unit tests and the end-to-end testscripts.
test: build
	$(GO) test -count=1 ./...

unit:
	$(GO) test -count=1 $$($(GO) list ./... | grep -v /testscripts)

e2e:
	$(GO) test -count=1 ./testscripts

# Every decoder that reads the network or disk, FUZZTIME each.
FUZZ := keys:FuzzDecodeID chain:FuzzDecodeAction caps:FuzzParseTicket caps:FuzzDecodeGrant \
	noiseproto:FuzzReadFrame noiseproto:FuzzAcceptMessage1 rpc:FuzzDecodeRequest \
	peers:FuzzDecodeRecord peers:FuzzDecodeBookValue peers:FuzzParseCard peers:FuzzDecodeContact \
	daemon:FuzzDecodePending internal/detcbor:FuzzDecodeMap internal/vectors:FuzzCheck localsock:FuzzReadFrames
fuzz:
	@set -e; for t in $(FUZZ); do \
	  echo "fuzz $$t"; $(GO) test -run XXX -fuzz "^$${t#*:}\$$" -fuzztime $(FUZZTIME) ./$${t%%:*}; done

# The benchmark suite: n2n, its floor and the ssh anchor side by side;
# prints the table and writes bench/results.md. See bench/README.md.
bench: build
	cd bench && $(GO) run ./run -n2n ../$(BIN)

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt: files above need formatting"; exit 1; }
	$(GO) vet ./...
	cd bench && $(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

docs completions man:
	$(GO) run ./tools/gendocs .

# The protocol's test vectors (PROTOCOL.md); go test checks them.
vectors:
	$(GO) run ./tools/genvectors testdata

# Generated files must match what the code generates.
check: lint test
	@tmp=$$(mktemp -d) && $(GO) run ./tools/gendocs $$tmp && \
	  diff -r $$tmp/man man && diff -r $$tmp/completions completions && rm -rf $$tmp || \
	  { echo "man/ or completions/ are stale: run 'make docs'"; exit 1; }

demo: build
	./demo.sh

# The binary, the man page, and the completions where bash-completion, zsh
# and fish look for them under PREFIX.
install: build
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
	  $(DESTDIR)$(PREFIX)/share/bash-completion/completions \
	  $(DESTDIR)$(PREFIX)/share/zsh/site-functions \
	  $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
	install -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/n2n
	install -m 0644 man/n2n.1 $(DESTDIR)$(PREFIX)/share/man/man1/n2n.1
	install -m 0644 completions/n2n.bash $(DESTDIR)$(PREFIX)/share/bash-completion/completions/n2n
	install -m 0644 completions/_n2n $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_n2n
	install -m 0644 completions/n2n.fish $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/n2n.fish

clean:
	rm -rf bin
